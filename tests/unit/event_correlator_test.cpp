// Event de-duplication and rate limiting (actors/runtime/logic/event_correlator.h), on an
// injected clock.
#include <doctest/doctest.h>

#include "actors/runtime/logic/event_correlator.h"

namespace js = k8s::json;
using runtime::event_correlator;
using runtime::event_decision;
using action = runtime::event_decision::action;

namespace {

const int64_t t0 = 1'700'000'000'000;
const int64_t minute = 60'000;

// As multi-casskop records them: on a MultiCasskop, the region as the detail.
const runtime::event_source src{"multi-casskop", "multicasskop.db.orange.com/region"};

runtime::involved_object multi(const std::string& uid = "uid-1") {
  return {"MultiCasskop", "db.orange.com/v2", "ns", "multi", uid};
}

runtime::event_record ready(const std::string& region = "k8s-cluster1",
                            const std::string& uid = "uid-1") {
  return {multi(uid), "Normal", "RegionReady",
          "CassandraCluster cassandra-e2e in region " + region + " is Running", region};
}

// An Event as the API server returns it once `e` was created under `name` with decision `d`.
k8s::object_ptr stored(const runtime::event_record& e, const event_decision& d,
                       const std::string& name) {
  auto doc = std::make_shared<js::Document>(js::parse(runtime::event_json(e, d, src, "host-a")));
  js::set_string((*doc)["metadata"], "name", name, doc->GetAllocator());
  return doc;
}

}  // namespace

TEST_CASE(
    "event correlator: a repeated Event bumps the count of the one created, firstTimestamp kept") {
  event_correlator c;
  auto e = ready();
  auto d1 = c.decide(e, t0);
  CHECK(d1.what == action::create);
  CHECK(d1.count == 1);
  CHECK(d1.first_ms == t0);
  c.created(e, "multi.abc");

  auto d2 = c.decide(e, t0 + minute);
  CHECK(d2.what == action::bump);
  CHECK(d2.name == "multi.abc");
  CHECK(d2.count == 2);
  CHECK(d2.first_ms == t0);
  CHECK(d2.last_ms == t0 + minute);
  CHECK(c.decide(e, t0 + 2 * minute).count == 3);
  CHECK(c.keys(multi()) == 1);
}

TEST_CASE("event correlator: another message, type, reason or region is another Event") {
  event_correlator c;
  auto e = ready();
  c.decide(e, t0);
  c.created(e, "multi.abc");
  auto other_message = e;
  other_message.message += " again";
  auto other_type = e;
  other_type.type = "Warning";
  auto other_reason = e;
  other_reason.reason = "RegionNotReady";
  auto other_region = e;
  other_region.detail = "k8s-cluster2";
  for (const auto& o : {other_message, other_type, other_reason, other_region}) {
    auto d = c.decide(o, t0 + 1);
    CHECK(d.what == action::create);
    CHECK(d.count == 1);
  }
  CHECK(c.keys(multi()) == 5);
  CHECK(c.decide(e, t0 + 2).what == action::bump);
}

TEST_CASE(
    "event correlator: beyond a burst of 25 occurrences are dropped, and the next bump counts "
    "them") {
  event_correlator c;  // client-go's defaults
  auto e = ready();
  auto first = c.decide(e, t0);
  REQUIRE(first.what == action::create);
  c.created(e, "multi.abc");
  for (int i = 2; i <= 25; ++i) {
    CAPTURE(i);
    CHECK(c.decide(e, t0 + i).what == action::bump);
  }
  auto dropped = c.decide(e, t0 + 26);
  CHECK(dropped.what == action::drop);
  CHECK(dropped.count == 26);
  // The bucket is per MultiCasskop: another Event on it is dropped too, another MultiCasskop's
  // is not.
  auto other = ready("k8s-cluster2");
  CHECK(c.decide(other, t0 + 27).what == action::drop);
  auto elsewhere = ready();
  elsewhere.object.name = "other";
  CHECK(c.decide(elsewhere, t0 + 28).what == action::create);

  // Once a token is back, the bump carries every occurrence, dropped ones included.
  auto later = c.decide(e, t0 + 5 * minute);
  CHECK(later.what == action::bump);
  CHECK(later.count == 27);
  // A create that was dropped is made by the next occurrence let through, with its count.
  auto again = c.decide(other, t0 + 10 * minute);
  CHECK(again.what == action::create);
  CHECK(again.count == 2);
  CHECK(again.first_ms == t0 + 27);
}

TEST_CASE(
    "event correlator: one token comes back per 5 minutes of the injected clock, at most the "
    "burst") {
  runtime::event_correlator_options o;
  CHECK(o.burst == 25);
  CHECK(o.refill_ms == 5 * minute);
  event_correlator c(o);
  auto e = ready();
  for (int i = 0; i < 25; ++i) REQUIRE(c.decide(e, t0).what != action::drop);
  CHECK(c.decide(e, t0).what == action::drop);
  CHECK(c.decide(e, t0 + 5 * minute - 1).what == action::drop);
  CHECK(c.decide(e, t0 + 5 * minute).what != action::drop);
  CHECK(c.decide(e, t0 + 5 * minute).what == action::drop);
  // Two more periods, two more tokens; the part of a period already waited is not lost.
  CHECK(c.decide(e, t0 + 15 * minute - 1).what != action::drop);
  CHECK(c.decide(e, t0 + 15 * minute - 1).what == action::drop);
  CHECK(c.decide(e, t0 + 15 * minute).what != action::drop);
  CHECK(c.decide(e, t0 + 15 * minute).what == action::drop);
  // A long quiet time fills the bucket to the burst, not beyond.
  const int64_t day = t0 + 24 * 60 * minute;
  for (int i = 0; i < 25; ++i) REQUIRE(c.decide(e, day).what != action::drop);
  CHECK(c.decide(e, day).what == action::drop);
  // A clock that goes back gives nothing.
  CHECK(c.decide(e, t0).what == action::drop);
}

TEST_CASE(
    "event correlator: seeded from the Events already recorded, a repeat bumps the existing one") {
  // What a previous process recorded: RegionReady twice, in region 1.
  auto e = ready();
  event_decision d;
  d.what = action::create;
  d.count = 2;
  d.first_ms = t0 - 10 * minute;
  d.last_ms = t0 - minute;
  std::vector<k8s::object_ptr> listed{stored(e, d, "multi.old")};
  // Ignored: an older duplicate of it, another MultiCasskop of that name (another uid), and an
  // Event another component recorded on this MultiCasskop.
  event_decision older = d;
  older.last_ms = t0 - 5 * minute;
  listed.push_back(stored(e, older, "multi.older"));
  event_decision long_ago = d;
  long_ago.last_ms = t0 - 60 * minute;
  listed.push_back(stored(ready("k8s-cluster1", "uid-0"), long_ago, "multi.gone"));
  auto foreign = std::make_shared<js::Document>(
      js::parse(runtime::event_json(ready("k8s-cluster2"), d, src, "x")));
  js::set_string((*foreign)["metadata"], "name", "multi.foreign", foreign->GetAllocator());
  js::set_string((*foreign)["source"], "component", "someone-else", foreign->GetAllocator());
  js::set_string(*foreign, "reportingComponent", "someone-else", foreign->GetAllocator());
  listed.push_back(foreign);

  event_correlator c;
  c.seed(multi("uid-1"), src, listed);
  CHECK(c.keys(multi()) == 1);
  auto next = c.decide(e, t0);
  CHECK(next.what == action::bump);
  CHECK(next.name == "multi.old");
  CHECK(next.count == 3);
  CHECK(next.first_ms == t0 - 10 * minute);
  // The region is part of the key, read back from the annotation.
  CHECK(c.decide(ready("k8s-cluster2"), t0).what == action::create);
  // Seeding took no tokens: 25 pass from here (2 already taken above).
  for (int i = 0; i < 23; ++i) REQUIRE(c.decide(e, t0).what == action::bump);
  CHECK(c.decide(e, t0).what == action::drop);

  // Listed by name (no uid known): every uid's Events of that name count, the latest wins.
  event_correlator by_name;
  by_name.seed(multi(""), src, listed);
  CHECK(by_name.decide(e, t0).name == "multi.old");
  // What this process recorded itself wins over a list that arrives later.
  event_correlator knows;
  knows.decide(e, t0);
  knows.created(e, "multi.mine");
  knows.seed(multi("uid-1"), src, listed);
  CHECK(knows.decide(e, t0 + 1).name == "multi.mine");
}

TEST_CASE(
    "event correlator: memory is bounded: least recently seen Events go first, another uid starts "
    "afresh") {
  runtime::event_correlator_options o;
  o.max_keys = 3;
  event_correlator c(o);
  const auto key = multi();
  for (const char* region : {"r1", "r2", "r3"}) {
    auto e = ready(region);
    c.decide(e, t0);
    c.created(e, std::string("multi.") + region);
  }
  CHECK(c.decide(ready("r1"), t0 + 1).what == action::bump);    // r1 is now the most recent
  CHECK(c.decide(ready("r4"), t0 + 2).what == action::create);  // r2 goes
  CHECK(c.keys(key) == 3);
  CHECK(c.decide(ready("r1"), t0 + 3).what == action::bump);
  CHECK(c.decide(ready("r3"), t0 + 4).what == action::bump);
  CHECK(c.decide(ready("r2"), t0 + 5).what == action::create);  // forgotten: a new object
  CHECK(c.keys(key) == 3);
  for (int i = 0; i < 1000; ++i) c.decide(ready("region-" + std::to_string(i)), t0 + 6);
  CHECK(c.keys(key) == 3);

  // A new MultiCasskop of the same name (another uid) starts afresh.
  auto renewed = c.decide(ready("r1", "uid-2"), t0 + 7);
  CHECK(renewed.what == action::create);
  CHECK(c.keys(key) == 1);
  CHECK(c.objects() == 1);
  // One deleted is forgotten (the recorder is told): nothing of it stays.
  c.forget(key);
  CHECK(c.objects() == 0);
  CHECK(c.decide(ready("r1", "uid-2"), t0 + 8).what == action::create);
}

TEST_CASE("event correlator: what it keeps of an Event does not grow with its message") {
  // Thousands of objects each keep their Events for as long as they live: only a fixed-size
  // key of each is kept, never the text that makes it distinct.
  auto fill = [](size_t message_bytes) {
    event_correlator c;
    for (int i = 0; i < 10; ++i) {
      runtime::event_record e = ready("region-" + std::to_string(i));
      e.message = std::string(message_bytes, 'm') + std::to_string(i);
      c.decide(e, t0);
      c.created(e, "multi.17f3a2b4c5d6e7f" + std::to_string(i));
      CHECK(c.decide(e, t0 + 1).what == action::bump);  // still told apart and bumped
    }
    return c.memory_bytes();
  };
  const size_t short_messages = fill(20);
  CHECK(short_messages > 0);
  CHECK(fill(2000) == short_messages);
  CHECK(short_messages < 10 * 200);  // per Event: its key, its object's name, counts
}

TEST_CASE("event correlator: an expired Event is created again, counting from one") {
  event_correlator c;
  auto e = ready();
  c.decide(e, t0);
  c.created(e, "multi.abc");
  auto bump = c.decide(e, t0 + 90 * minute);
  REQUIRE(bump.what == action::bump);
  auto again = c.recreate(e, bump.last_ms);  // the bump found no such Event any more
  CHECK(again.what == action::create);
  CHECK(again.count == 1);
  CHECK(again.first_ms == t0 + 90 * minute);
  c.created(e, "multi.def");
  auto next = c.decide(e, t0 + 91 * minute);
  CHECK(next.what == action::bump);
  CHECK(next.name == "multi.def");
  CHECK(next.count == 2);
}

TEST_CASE(
    "event correlator: the Event on the wire names its MultiCasskop by uid, its region, its "
    "count") {
  auto e = ready();
  event_decision d;
  d.what = action::create;
  d.count = 3;
  d.first_ms = t0;
  d.last_ms = t0 + 61'500;
  auto ev = js::parse(runtime::event_json(e, d, src, "host-a"));
  // <object>.<hex nanoseconds> as client-go names Events (a generateName "multi." is refused).
  const std::string name(js::get_string(ev, {"metadata", "name"}));
  CHECK(name.rfind("multi.", 0) == 0);
  CHECK(std::stoull(name.substr(6), nullptr, 16) / 1000000 == static_cast<uint64_t>(t0 + 61'500));
  CHECK(js::get_string(js::parse(runtime::event_json(e, d, src, "host-a")), {"metadata", "name"}) !=
        name);  // same ms
  CHECK(js::get_string(ev, {"metadata", "namespace"}) == "ns");
  CHECK(js::get_string(ev, {"metadata", "annotations", src.detail_annotation.c_str()}) ==
        "k8s-cluster1");
  CHECK(js::get_string(ev, {"involvedObject", "kind"}) == "MultiCasskop");
  CHECK(js::get_string(ev, {"involvedObject", "apiVersion"}) == "db.orange.com/v2");
  CHECK(js::get_string(ev, {"involvedObject", "uid"}) == "uid-1");
  CHECK(js::get_string(ev, "reason") == "RegionReady");
  CHECK(js::get_string(ev, "type") == "Normal");
  CHECK(js::get_string(ev, {"source", "component"}) == "multi-casskop");
  CHECK(js::get_string(ev, "reportingInstance") == "host-a");
  CHECK(js::get_string(ev, "firstTimestamp") == "2023-11-14T22:13:20Z");
  CHECK(js::get_string(ev, "lastTimestamp") == "2023-11-14T22:14:21Z");
  CHECK(js::get_int(ev, {"count"}, 0) == 3);
  // Not about one region: no annotation.
  auto general = e;
  general.detail.clear();
  CHECK(js::find_path(js::parse(runtime::event_json(general, d, src, "h")),
                      {"metadata", "annotations"}) == nullptr);

  CHECK(runtime::event_bump_patch(d) == R"({"count":3,"lastTimestamp":"2023-11-14T22:14:21Z"})");
}
