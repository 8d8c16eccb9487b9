// The list-watch state machine, the reflector store, backoff and the watch line decoder.
#include <doctest/doctest.h>

#include "k8s/base/backoff.h"
#include "k8s/watch/list_watch.h"
#include "k8s/watch/object_store.h"
#include "k8s/watch/watch_event.h"

using namespace k8s;
using kind = list_watch_action::kind;

namespace {

object_ptr obj(const std::string& name, int rv) {
  return std::make_shared<const json::Document>(json::parse(
      R"({"metadata":{"namespace":"ns","name":")" + name + R"(","resourceVersion":")" +
      std::to_string(rv) + R"("}})"));
}

watch_event ev(watch_event::type t, const std::string& name, int rv) {
  watch_event e;
  e.kind = t;
  e.object = obj(name, rv);
  e.resource_version = std::to_string(rv);
  return e;
}

watch_event error_event(int code, const std::string& reason) {
  watch_event e;
  e.kind = watch_event::type::error;
  e.error = error_from_response(
      code, R"({"kind":"Status","status":"Failure","reason":")" + reason + R"(","code":)" + std::to_string(code) + "}", "");
  return e;
}

list_page page(std::vector<object_ptr> items, std::string rv, std::string cont = "") {
  return {std::move(items), std::move(rv), std::move(cont)};
}

}  // namespace

TEST_CASE("list_watch: paged initial list, then watch from the list's resourceVersion") {
  list_watch_state s;
  auto a = s.start();
  CHECK(a.what == kind::list_page);
  CHECK(a.continue_token.empty());
  std::vector<watch_change> out;
  a = s.on_list_page(page({obj("a", 3)}, "10", "tok"), out);
  CHECK(a.what == kind::list_page);
  CHECK(a.continue_token == "tok");
  a = s.on_list_page(page({obj("b", 5)}, "10"), out);
  CHECK(a.what == kind::start_watch);
  CHECK(a.resource_version == "10");
  REQUIRE(out.size() == 4);
  CHECK(out[0].what == watch_change::kind::init_started);
  CHECK(out[1].what == watch_change::kind::init_object);
  CHECK(out[2].what == watch_change::kind::init_object);
  CHECK(out[3].what == watch_change::kind::init_done);
  CHECK(s.current() == list_watch_state::phase::listed);
}

TEST_CASE("list_watch: events advance the resourceVersion, bookmarks too, and a clean end re-watches") {
  list_watch_state s;
  std::vector<watch_change> out;
  s.start();
  s.on_list_page(page({}, "10"), out);
  s.on_watch_opened();
  out.clear();
  s.on_watch_event(ev(watch_event::type::added, "a", 11), out);
  s.on_watch_event(ev(watch_event::type::deleted, "a", 12), out);
  watch_event bm;
  bm.kind = watch_event::type::bookmark;
  bm.resource_version = "20";
  s.on_watch_event(bm, out);
  REQUIRE(out.size() == 2);
  CHECK(out[0].what == watch_change::kind::applied);
  CHECK(out[1].what == watch_change::kind::deleted);
  CHECK(s.resource_version() == "20");
  auto a = s.on_watch_end(std::nullopt);
  CHECK(a.what == kind::start_watch);
  CHECK(a.resource_version == "20");
  CHECK(s.rewatches() == 1);
}

TEST_CASE("list_watch: 410 Gone as an event or as the end of the stream relists") {
  for (bool as_event : {true, false}) {
    list_watch_state s;
    std::vector<watch_change> out;
    s.start();
    s.on_list_page(page({}, "10"), out);
    s.on_watch_opened();
    auto a = as_event ? s.on_watch_event(error_event(410, "Expired"), out)
                      : s.on_watch_end(error_from_response(410, "", ""));
    CHECK(a.what == kind::list_page);
    CHECK(a.continue_token.empty());
    CHECK(s.relists() == 1);
    out.clear();
    s.on_list_page(page({}, "30"), out);
    CHECK(out.front().what == watch_change::kind::init_started);
  }
}

TEST_CASE("list_watch: other failures back off and retry the same step") {
  list_watch_state s;
  std::vector<watch_change> out;
  s.start();
  auto a = s.on_list_error(transport_error(error_kind::unreachable, "refused"));
  CHECK(a.what == kind::back_off);
  CHECK(s.current() == list_watch_state::phase::backing_off);
  a = s.on_backoff_elapsed();
  CHECK(a.what == kind::list_page);
  s.on_list_page(page({}, "7"), out);
  s.on_watch_opened();
  a = s.on_watch_end(transport_error(error_kind::unreachable, "reset"));
  CHECK(a.what == kind::back_off);
  a = s.on_backoff_elapsed();
  CHECK(a.what == kind::start_watch);
  CHECK(a.resource_version == "7");
  // An expired continue token restarts the list from the first page.
  list_watch_state p;
  p.start();
  p.on_list_page(page({obj("a", 1)}, "5", "tok"), out);
  a = p.on_list_error(error_from_response(410, "", ""));
  CHECK(a.what == kind::back_off);
  a = p.on_backoff_elapsed();
  CHECK(a.what == kind::list_page);
  CHECK(a.continue_token.empty());
}

TEST_CASE("list_watch: a garbled line forces a relist") {
  list_watch_state s;
  std::vector<watch_change> out;
  s.start();
  s.on_list_page(page({}, "10"), out);
  s.on_watch_opened();
  auto a = s.on_garbled_line("invalid JSON");
  CHECK(a.what == kind::back_off);
  a = s.on_backoff_elapsed();
  CHECK(a.what == kind::list_page);
  REQUIRE(s.last_error());
  CHECK(s.last_error()->kind == error_kind::decode);
}

TEST_CASE("object_store: a relist reports objects deleted while disconnected") {
  object_store st;
  st.apply({watch_change::kind::init_started, nullptr});
  st.apply({watch_change::kind::init_object, obj("a", 1)});
  st.apply({watch_change::kind::init_object, obj("b", 2)});
  auto d = st.apply({watch_change::kind::init_done, nullptr});
  CHECK(st.ready());
  CHECK(d.upserted.size() == 2);
  CHECK(st.size() == 2);
  d = st.apply({watch_change::kind::applied, obj("a", 3)});
  CHECK(d.upserted.size() == 1);
  // Relist: b is gone, a changed, c is new.
  st.apply({watch_change::kind::init_started, nullptr});
  st.apply({watch_change::kind::init_object, obj("a", 4)});
  st.apply({watch_change::kind::init_object, obj("c", 5)});
  CHECK(st.size() == 2);  // the old picture stays until init_done
  d = st.apply({watch_change::kind::init_done, nullptr});
  REQUIRE(d.removed.size() == 1);
  CHECK(json::get_string(*d.removed[0], {"metadata", "name"}) == "b");
  CHECK(d.upserted.size() == 2);
  CHECK(st.get("ns", "b").get() == nullptr);
  CHECK(st.stale_events() == 0);
  st.apply({watch_change::kind::applied, obj("a", 4)});  // replayed event
  CHECK(st.stale_events() == 1);
}

TEST_CASE("backoff: 0.8 s doubling with jitter up to 30 s, reset after 2 minutes healthy") {
  backoff b({}, 42);
  auto d1 = b.next_delay();
  CHECK(d1 >= std::chrono::milliseconds(800));
  CHECK(d1 < std::chrono::milliseconds(1600));
  std::chrono::milliseconds last{};
  for (int i = 0; i < 20; ++i) last = b.next_delay();
  CHECK(last <= std::chrono::milliseconds(30000));
  CHECK(last >= std::chrono::milliseconds(15000));
  auto t0 = std::chrono::steady_clock::now();
  b.healthy_since(t0);
  b.on_failure(t0 + std::chrono::seconds(10));
  CHECK(b.next_delay() >= std::chrono::milliseconds(15000));  // not healthy long enough
  b.healthy_since(t0);
  b.on_failure(t0 + std::chrono::seconds(121));
  CHECK(b.next_delay() < std::chrono::milliseconds(1600));
}

TEST_CASE("watch_event: decoding lines") {
  watch_event e;
  std::string why;
  REQUIRE(decode_watch_line(R"({"type":"ADDED","object":{"metadata":{"name":"x","resourceVersion":"5"}}})", e, why));
  CHECK(e.kind == watch_event::type::added);
  CHECK(e.resource_version == "5");
  CHECK(json::get_string(*e.object, {"metadata", "name"}) == "x");
  REQUIRE(decode_watch_line(
      R"json({"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"too old resource version: 1 (3)","reason":"Expired","code":410}})json",
      e, why));
  CHECK(e.kind == watch_event::type::error);
  CHECK(e.error.kind == error_kind::gone);
  CHECK(e.error.message == "too old resource version: 1 (3)");
  CHECK_FALSE(decode_watch_line("{not json", e, why));
  CHECK(why.find("invalid JSON") == 0);
  CHECK_FALSE(decode_watch_line(R"({"type":"WHAT","object":{}})", e, why));
  CHECK_FALSE(decode_watch_line(R"({"type":"ADDED"})", e, why));
  CHECK_FALSE(decode_watch_line(R"([1,2])", e, why));
}

TEST_CASE("object_store: bytes() follows the objects held, for the cache size metrics") {
  object_store st;
  auto a1 = obj("a", 1), b2 = obj("b", 2);
  const size_t a_bytes = json::allocated_bytes(*a1), b_bytes = json::allocated_bytes(*b2);
  REQUIRE(a_bytes > sizeof(json::Document));
  st.apply({watch_change::kind::init_started, nullptr});
  st.apply({watch_change::kind::init_object, a1});
  st.apply({watch_change::kind::init_object, b2});
  CHECK(st.bytes() == 0);  // a relist counts once it is swapped in
  st.apply({watch_change::kind::init_done, nullptr});
  CHECK(st.bytes() == a_bytes + b_bytes);
  auto a3 = obj("a", 3);
  st.apply({watch_change::kind::applied, a3});  // replaces a
  CHECK(st.bytes() == json::allocated_bytes(*a3) + b_bytes);
  st.apply({watch_change::kind::applied, obj("a", 2)});  // stale: nothing changes
  CHECK(st.bytes() == json::allocated_bytes(*a3) + b_bytes);
  st.apply({watch_change::kind::deleted, obj("b", 4)});
  CHECK(st.bytes() == json::allocated_bytes(*a3));
  st.apply({watch_change::kind::init_started, nullptr});
  st.apply({watch_change::kind::init_done, nullptr});  // relist: nothing left
  CHECK(st.bytes() == 0);
}
