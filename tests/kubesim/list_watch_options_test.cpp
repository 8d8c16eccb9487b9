// List and watch options as kube-apiserver v1.32 treats them: watch-list (sendInitialEvents with
// the k8s.io/initial-events-end BOOKMARK), the 422 of ValidateListOptions, resourceVersionMatch
// Exact from the history (410 once compacted), and the watch cache's 504 for a resourceVersion
// it has not reached. Driven over raw HTTP and through the real kubectl with WatchListClient.
#include <doctest/doctest.h>

#include <chrono>
#include <future>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include "tests/support/kubesim_fixture.h"

using namespace testsupport;
using namespace std::chrono_literals;
namespace js = k8s::json;

namespace {

const std::string cms = "/api/v1/namespaces/default/configmaps";
// Our ConfigMaps carry t=x: every namespace also holds kube-root-ca.crt.
const std::string mine = "labelSelector=t%3Dx";
const std::string watch_list =
    "?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks="
    "true&" +
    mine;

std::string cm(const std::string& name, const std::string& value = "v") {
  return R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":")" + name +
         R"(","labels":{"t":"x"}},"data":{"k":")" + value + R"("}})";
}

uint64_t rv_of(const js::Value& obj) {
  return std::stoull(std::string(js::get_string(obj, {"metadata", "resourceVersion"})));
}

struct event {
  std::string type;
  js::Document object;
  std::string name() const { return std::string(js::get_string(object, {"metadata", "name"})); }
  uint64_t rv() const { return rv_of(object); }
};

struct env {
  kubesim_instance sim;
  api_client c;
  env() : sim({"k1"}), c(sim.client("k1")) {}
  js::Document create(const std::string& body) {
    auto r = c.request("POST", cms, body);
    REQUIRE_MESSAGE(r.status == 201, r.body);
    return r.json();
  }
  js::Document patch(const std::string& name, const std::string& value) {
    auto r = c.request("PATCH", cms + "/" + name, R"({"data":{"k":")" + value + R"("}})",
                       "application/merge-patch+json");
    REQUIRE_MESSAGE(r.status == 200, r.body);
    return r.json();
  }
  uint64_t list_rv() {
    auto r = c.get(cms);
    REQUIRE(r.status == 200);
    return rv_of(r.json());
  }
};

std::optional<event> next_event(line_stream& s, std::chrono::milliseconds timeout = 5s) {
  auto line = s.next(timeout);
  if (!line) return std::nullopt;
  js::Document d = js::parse(*line);
  event e;
  e.type = js::get_string(d, "type");
  e.object.CopyFrom(*js::find(d, "object"), e.object.GetAllocator());
  return e;
}

event expect_event(line_stream& s, std::chrono::milliseconds timeout = 5s) {
  auto e = next_event(s, timeout);
  REQUIRE_MESSAGE(e.has_value(), "no watch event within the deadline");
  return std::move(*e);
}

// The initial-events-end BOOKMARK: an empty ConfigMap with the resourceVersion and annotation.
void check_initial_end(const event& e, uint64_t rv) {
  CHECK(e.type == "BOOKMARK");
  CHECK(js::to_string(e.object) ==
        R"({"kind":"ConfigMap","apiVersion":"v1","metadata":{"resourceVersion":")" +
            std::to_string(rv) + R"(","annotations":{"k8s.io/initial-events-end":"true"}}})");
}

// A Status body compared member by member with what the real server sends.
void check_status(const http_reply& r, int code, const std::string& want_json) {
  CHECK_MESSAGE(r.status == code, r.body);
  CHECK_MESSAGE(js::parse(r.body) == js::parse(want_json),
                "got  " << r.body << "\nwant " << want_json);
}

std::string invalid_list_options(const std::string& message, const std::string& causes) {
  return R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"ListOptions.meta.k8s.io \"\" is invalid: )" +
         message +
         R"(","reason":"Invalid","details":{"group":"meta.k8s.io","kind":"ListOptions","causes":[)" +
         causes + R"(]},"code":422})";
}

}  // namespace

TEST_CASE(
    "list-watch: sendInitialEvents delivers the state as ADDED then the initial-events-end "
    "BOOKMARK then changes") {
  env e;
  e.create(cm("a"));
  e.create(cm("b"));
  std::set<std::string> names{"a", "b"};
  for (std::string rv : {"", "&resourceVersion=0", "&resourceVersion=1"}) {
    CAPTURE(rv);
    uint64_t now = e.list_rv();
    auto s = e.c.stream(cms + watch_list + rv);
    REQUIRE(s->status() == 200);
    std::set<std::string> added;
    for (size_t i = 0; i < names.size(); ++i) {
      auto ev = expect_event(*s);
      CHECK(ev.type == "ADDED");
      added.insert(ev.name());
    }
    CHECK(added == names);
    check_initial_end(expect_event(*s), now);
    auto c = e.create(cm("c" + std::to_string(now)));
    names.insert("c" + std::to_string(now));
    auto ev = expect_event(*s);
    CHECK(ev.type == "ADDED");
    CHECK(ev.rv() == rv_of(c));
  }
}

TEST_CASE(
    "list-watch: the initial-events-end BOOKMARK needs allowWatchBookmarks, and v1.32 sends it on "
    "a plain watch from now") {
  env e;
  e.create(cm("a"));
  // Without bookmarks: the state, then the next change (no BOOKMARK between).
  auto plain = e.c.stream(
      cms + "?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&" + mine);
  CHECK(expect_event(*plain).type == "ADDED");
  // A watch from "" with bookmarks is defaulted to a watch-list (SetListOptionsDefaults).
  uint64_t now = e.list_rv();
  auto legacy = e.c.stream(cms + "?watch=true&allowWatchBookmarks=true&" + mine);
  CHECK(expect_event(*legacy).name() == "a");
  check_initial_end(expect_event(*legacy), now);
  // sendInitialEvents=false from "": no state, the changes after now.
  auto from_now = e.c.stream(cms +
                             "?watch=true&sendInitialEvents=false&resourceVersionMatch="
                             "NotOlderThan&allowWatchBookmarks=true");
  REQUIRE(from_now->status() == 200);
  e.patch("a", "w");
  CHECK(expect_event(*plain).type == "MODIFIED");
  CHECK(expect_event(*legacy).type == "MODIFIED");
  CHECK(expect_event(*from_now).type == "MODIFIED");
}

TEST_CASE("list-watch: kubectl wait with WatchListClient completes") {
  env e;
  e.create(cm("ready", "yes"));
  e.create(cm("later", "no"));
  auto env_vars = e.sim.kubectl_env();
  env_vars["KUBE_FEATURE_WatchListClient"] = "true";
  // Already true: the informer syncs on the initial-events-end BOOKMARK and kubectl exits.
  auto done = run(e.sim.kubectl_argv("k1", {"wait", "--for=jsonpath={.data.k}=yes",
                                            "configmap/ready", "--timeout=30s"}),
                  env_vars, 40s);
  CHECK_MESSAGE(done.exit_code == 0, done.out << done.err);
  CHECK(done.out == "configmap/ready condition met\n");
  // Becomes true later: the change arrives on the same watch.
  auto later = std::async(std::launch::async, [&] {
    return run(e.sim.kubectl_argv("k1", {"wait", "--for=jsonpath={.data.k}=yes", "configmap/later",
                                         "--timeout=30s"}),
               env_vars, 40s);
  });
  std::this_thread::sleep_for(1s);  // lets kubectl start watching (it passes either way)
  e.patch("later", "yes");
  auto r = later.get();
  CHECK_MESSAGE(r.exit_code == 0, r.out << r.err);
  CHECK(r.out == "configmap/later condition met\n");
}

TEST_CASE("list-watch: invalid list and watch option combinations are 422 ListOptions") {
  env e;
  check_status(
      e.c.get(cms + "?sendInitialEvents=true"), 422,
      invalid_list_options(
          "sendInitialEvents: Forbidden: sendInitialEvents is forbidden for list",
          R"({"reason":"FieldValueForbidden","message":"Forbidden: sendInitialEvents is forbidden for list","field":"sendInitialEvents"})"));
  check_status(
      e.c.get(cms + "?resourceVersionMatch=Exact"), 422,
      invalid_list_options(
          "resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless "
          "resourceVersion is provided",
          R"({"reason":"FieldValueForbidden","message":"Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided","field":"resourceVersionMatch"})"));
  check_status(
      e.c.get(cms + "?resourceVersionMatch=Exact&resourceVersion=0"), 422,
      invalid_list_options(
          R"(resourceVersionMatch: Forbidden: resourceVersionMatch \"exact\" is forbidden for resourceVersion \"0\")",
          R"({"reason":"FieldValueForbidden","message":"Forbidden: resourceVersionMatch \"exact\" is forbidden for resourceVersion \"0\"","field":"resourceVersionMatch"})"));
  check_status(
      e.c.get(cms + "?resourceVersionMatch=Newest&resourceVersion=1"), 422,
      invalid_list_options(
          R"(resourceVersionMatch: Unsupported value: \"Newest\": supported values: \"Exact\", \"NotOlderThan\", \"\")",
          R"({"reason":"FieldValueNotSupported","message":"Unsupported value: \"Newest\": supported values: \"Exact\", \"NotOlderThan\", \"\"","field":"resourceVersionMatch"})"));
  // Two rules broken: both causes, the message as an aggregate.
  check_status(
      e.c.get(cms + "?resourceVersionMatch=NotOlderThan&continue=abc"), 422,
      invalid_list_options(
          "[resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless "
          "resourceVersion is provided, resourceVersionMatch: Forbidden: resourceVersionMatch is "
          "forbidden when continue is provided]",
          R"({"reason":"FieldValueForbidden","message":"Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided","field":"resourceVersionMatch"},)"
          R"({"reason":"FieldValueForbidden","message":"Forbidden: resourceVersionMatch is forbidden when continue is provided","field":"resourceVersionMatch"})"));
  // Watches: sendInitialEvents needs NotOlderThan; resourceVersionMatch needs sendInitialEvents.
  check_status(
      e.c.get(cms + "?watch=true&sendInitialEvents=true&allowWatchBookmarks=true"), 422,
      invalid_list_options(
          "resourceVersionMatch: Forbidden: sendInitialEvents requires setting "
          "resourceVersionMatch to NotOlderThan",
          R"({"reason":"FieldValueForbidden","message":"Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan","field":"resourceVersionMatch"})"));
  check_status(
      e.c.get(cms + "?watch=true&resourceVersionMatch=NotOlderThan&resourceVersion=1"), 422,
      invalid_list_options(
          "resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden for watch unless "
          "sendInitialEvents is provided",
          R"({"reason":"FieldValueForbidden","message":"Forbidden: resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided","field":"resourceVersionMatch"})"));
  check_status(
      e.c.get(cms + "?watch=true&sendInitialEvents=true&resourceVersionMatch=Exact"), 422,
      invalid_list_options(
          R"([resourceVersionMatch: Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan, resourceVersionMatch: Unsupported value: \"Exact\": supported values: \"NotOlderThan\"])",
          R"({"reason":"FieldValueForbidden","message":"Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan","field":"resourceVersionMatch"},)"
          R"({"reason":"FieldValueNotSupported","message":"Unsupported value: \"Exact\": supported values: \"NotOlderThan\"","field":"resourceVersionMatch"})"));
}

TEST_CASE(
    "list-watch: resourceVersionMatch=Exact lists the state of that resourceVersion until it is "
    "compacted") {
  env e;
  auto a = e.create(cm("a", "1"));
  auto b = e.create(cm("b", "1"));
  e.patch("a", "2");
  REQUIRE(e.c.request("DELETE", cms + "/b").status == 200);
  auto r = e.c.get(cms + "?" + mine +
                   "&resourceVersionMatch=Exact&resourceVersion=" + std::to_string(rv_of(b)));
  REQUIRE_MESSAGE(r.status == 200, r.body);
  auto list = r.json();
  CHECK(rv_of(list) == rv_of(b));
  const auto& items = *js::find(list, "items");
  REQUIRE(items.Size() == 2);
  CHECK(js::get_string(items[0], {"data", "k"}) == "1");
  CHECK(rv_of(items[0]) == rv_of(a));
  CHECK(js::get_string(items[1], {"metadata", "name"}) == "b");
  // The legacy form (resourceVersion with a limit) reads at that revision too, page by page.
  auto page = e.c.get(cms + "?" + mine + "&limit=1&resourceVersion=" + std::to_string(rv_of(a)));
  REQUIRE(page.status == 200);
  CHECK(rv_of(page.json()) == rv_of(a));
  // A revision ahead of the store is etcd's own error; a compacted one is 410 Expired.
  uint64_t now = e.list_rv();
  check_status(
      e.c.get(cms + "?resourceVersionMatch=Exact&resourceVersion=" + std::to_string(now + 5)), 500,
      R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"etcdserver: mvcc: required revision is a future revision","code":500})");
  REQUIRE(e.sim.control("k1", "compact").status == 200);
  check_status(
      e.c.get(cms + "?resourceVersionMatch=Exact&resourceVersion=" + std::to_string(rv_of(b))), 410,
      R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"The resourceVersion for the provided list is too old.","reason":"Expired","code":410})");
  CHECK(
      e.c.get(cms + "?resourceVersionMatch=Exact&resourceVersion=" + std::to_string(now)).status ==
      200);
}

TEST_CASE(
    "list-watch: a resourceVersion not reached yet waits up to 3s then is 504 "
    "ResourceVersionTooLarge") {
  env e;
  e.create(cm("a"));
  uint64_t now = e.list_rv();
  auto too_large = [&](uint64_t wanted) {
    return R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Timeout: Too large resource version: )" +
           std::to_string(wanted) + ", current: " + std::to_string(now) +
           R"(","reason":"Timeout","details":{"causes":[{"reason":"ResourceVersionTooLarge","message":"Too large resource version"}],"retryAfterSeconds":1},"code":504})";
  };
  auto start = std::chrono::steady_clock::now();
  auto list = e.c.get(cms + "?resourceVersion=" + std::to_string(now + 10));
  CHECK(std::chrono::steady_clock::now() - start >= 2900ms);
  check_status(list, 504, too_large(now + 10));
  CHECK(list.headers["retry-after"] == "1");
  check_status(e.c.get(cms + "/a?resourceVersion=" + std::to_string(now + 10)), 504,
               too_large(now + 10));
  check_status(e.c.get(cms + "?resourceVersionMatch=NotOlderThan&resourceVersion=" +
                       std::to_string(now + 10)),
               504, too_large(now + 10));
  // A watch-list: the stream starts, then one ERROR event.
  auto s = e.c.stream(cms + watch_list + "&resourceVersion=" + std::to_string(now + 10));
  CHECK(s->status() == 200);
  auto ev = expect_event(*s, 10s);
  CHECK(ev.type == "ERROR");
  CHECK(js::to_string(ev.object) == js::to_string(js::parse(too_large(now + 10))));
  // Reached within the wait: answered then.
  auto waiting = std::async(std::launch::async, [&] {
    return e.c.get(cms + "?" + mine + "&resourceVersion=" + std::to_string(now + 1));
  });
  std::this_thread::sleep_for(500ms);
  e.create(cm("b"));
  auto r = waiting.get();
  CHECK_MESSAGE(r.status == 200, r.body);
  CHECK(js::find(r.json(), "items")->Size() == 2);
}

TEST_CASE(
    "list-watch: a watch from a resourceVersion ahead of the store gets only the later events") {
  env e;
  uint64_t now = rv_of(e.create(cm("a")));
  auto s = e.c.stream(cms + "?watch=true&" + mine + "&resourceVersion=" + std::to_string(now + 2));
  REQUIRE(s->status() == 200);
  e.create(cm("b"));  // now + 1
  e.create(cm("c"));  // now + 2
  auto d = e.create(cm("d"));
  auto ev = expect_event(*s);
  CHECK(ev.type == "ADDED");
  CHECK(ev.name() == "d");
  CHECK(ev.rv() == rv_of(d));
}
