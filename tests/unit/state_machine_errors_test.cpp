// What goes wrong is said where the user looks, with its real cause: a renamed base, writes the
// API server refuses for good, refused credentials, objects over the size limit, wrong types.
#include <doctest/doctest.h>

#include <algorithm>

#include "actors/multicasskop/logic/cache_trim.h"
#include "actors/multicasskop/logic/spec.h"
#include "tests/unit/multicasskop_world.h"

using testworld::condition_field;
using testworld::fake_world;
namespace js = k8s::json;

namespace {

std::string spec_named(const std::string& name, int nodes = 1,
                       const char* overrides = R"("a":{},"b":{})") {
  return R"({"base":{"metadata":{"name":")" + name +
         R"(","namespace":"ns"},"spec":{"nodesPerRacks":)" + std::to_string(nodes) +
         R"(}},"override":{)" + overrides + "}}";
}

size_t count_reason(const fake_world& w, const std::string& reason) {
  return static_cast<size_t>(
      std::count_if(w.issued().begin(), w.issued().end(), [&](const mc::command& c) {
        auto* e = std::get_if<mc::record_event>(&c);
        return e && e->reason == reason;
      }));
}

size_t cassandracluster_writes(const fake_world& w, size_t from = 0) {
  size_t n = 0;
  for (size_t i = from; i < w.issued().size(); ++i)
    if (std::holds_alternative<mc::create_cassandracluster>(w.issued()[i]) ||
        std::holds_alternative<mc::patch_cassandracluster>(w.issued()[i]))
      ++n;
  return n;
}

}  // namespace

TEST_CASE(
    "errors: renaming spec.base.metadata.name is refused with a condition until the old "
    "CassandraCluster goes") {
  fake_world w({"a", "b"});
  w.auto_casskop = true;
  w.set_multicasskop(spec_named("old"));
  w.run();
  REQUIRE(w.condition("Ready") == "True");
  const size_t from = w.issued().size();
  w.set_multicasskop(spec_named("new"));
  w.run();
  CHECK(cassandracluster_writes(w, from) == 0);  // no second, empty Cassandra cluster
  CHECK(w.condition("Ready") == "False");
  CHECK(condition_field(w, "Ready", "reason") == "BaseRenamed");
  CHECK(condition_field(w, "Degraded", "reason") == "BaseRenamed");
  const std::string message = condition_field(w, "Degraded", "message");
  CHECK(message.find("ns/old (regions a, b)") != std::string::npos);
  CHECK(message.find("delete CassandraCluster ns/old") != std::string::npos);
  CHECK(count_reason(w, "BaseRenamed") == 1);
  // The user deletes the old one (its data goes with it): the new one is created.
  w.delete_cassandracluster_in("a", "old");
  w.delete_cassandracluster_in("b", "old");
  w.run();
  CHECK(w.cc("a") != nullptr);
  CHECK(js::get_string(*w.cc("a"), {"metadata", "name"}) == "new");
  CHECK(w.condition("Ready") == "True");
}

TEST_CASE(
    "errors: a write the API server refuses for good is reported once and not retried before a "
    "change") {
  fake_world w({"a"});
  w.refuse_writes("a", k8s::error_kind::invalid);
  w.set_multicasskop(spec_named("c", 1, R"("a":{})"));
  w.run();  // timers fire too: nothing is retried blindly
  CHECK(w.creates().size() == 1);
  CHECK(count_reason(w, "WriteFailed") == 1);
  CHECK(condition_field(w, "Degraded", "reason") == "WriteFailed");
  CHECK(condition_field(w, "Degraded", "message").find("fake failure") != std::string::npos);
  for (const auto& c : w.issued())
    if (auto* e = std::get_if<mc::record_event>(&c); e && e->reason == "WriteFailed")
      CHECK(e->message.find("Fix spec.base or spec.override.a") != std::string::npos);
  // The user fixes the MultiCasskop: tried again.
  w.refuse_writes("a", k8s::error_kind::other);
  w.set_multicasskop(spec_named("c", 2, R"("a":{})"));
  w.run();
  CHECK(w.creates().size() == 2);
  CHECK(w.cc("a") != nullptr);
}

TEST_CASE(
    "errors: a write refused with 401 is retried on the usual backoff, as the credentials are "
    "read again") {
  fake_world w({"a"});
  w.refuse_writes("a", k8s::error_kind::unauthorized);
  w.set_multicasskop(spec_named("c", 1, R"("a":{})"));
  for (int i = 0; i < 6; ++i) w.step(nullptr);
  std::vector<int64_t> delays;
  for (const auto& c : w.issued())
    if (auto* t = std::get_if<mc::start_timer>(&c); t && !t->cluster.empty())
      delays.push_back(t->delay_ms);
  REQUIRE_FALSE(delays.empty());
  CHECK(delays.front() < mc::machine_options{}.retry_max_ms);
  // The rotated token is in use: the next try succeeds.
  w.refuse_writes("a", k8s::error_kind::other);
  w.run();
  CHECK(w.cc("a") != nullptr);
}

TEST_CASE("errors: refused credentials are AccessDenied, not Unreachable") {
  fake_world w({"a"});
  w.deliver(mc::cluster_health{"a", false, false, "Unauthorized (401): Unauthorized", true});
  w.set_multicasskop(spec_named("c", 1, R"("a":{})"));
  w.run();
  const js::Value* regions = js::find_path(*w.multicasskop(), {"status", "regions"});
  REQUIRE(regions);
  CHECK(js::get_string((*regions)[0], "phase") == "AccessDenied");
  CHECK(condition_field(w, "Degraded", "reason") == "RegionAccessDenied");
  CHECK(count_reason(w, "RegionAccessDenied") == 1);
  CHECK(count_reason(w, "RegionUnreachable") == 0);
}

TEST_CASE("errors: a MultiCasskop over the size limit is refused and not held, yet still deleted") {
  const std::string big(2048, 'x');
  auto object = js::parse(
      R"({"apiVersion":"db.orange.com/v2","kind":"MultiCasskop","metadata":{"name":"mcc","namespace":"ns","uid":"u","generation":1,"resourceVersion":"5"},
    "spec":{"deleteCassandraCluster":false,"base":{"metadata":{"name":"c"},"spec":{"config":")" +
      big + R"("}},"override":{"a":{}}}})");
  auto kept = mc::trim_for_cache(std::make_shared<const js::Document>(std::move(object)),
                                 mc::watched_kind::multicasskop, mc::cache_limits{1024});
  CHECK(js::find_path(*kept, {"spec", "base"}) == nullptr);  // not held in memory
  auto p = mc::parse_multicasskop(*kept);
  CHECK_FALSE(p.base_valid());
  REQUIRE_FALSE(p.problems.empty());
  CHECK(p.problems[0].reason == "TooLarge");
  CHECK(p.problems[0].message.find("over the operator's limit of 1 KiB") != std::string::npos);
  CHECK_FALSE(p.delete_cassandraclusters);  // what deletion needs is kept
}

TEST_CASE("errors: wrong types are named as such") {
  auto parse = [](const std::string& spec) {
    auto d = js::parse(R"({"metadata":{"name":"m","namespace":"ns"},"spec":)" + spec + "}");
    return mc::parse_multicasskop(d);
  };
  auto p = parse(R"({"base":{"metadata":{"name":12345},"spec":{}},"override":{"a":{}}})");
  REQUIRE_FALSE(p.problems.empty());
  CHECK(p.problems[0].message == "spec.base.metadata.name must be a string, not a number (12345)");
  auto o = parse(R"({"base":{"metadata":{"name":"c"},"spec":{}},"override":{"a":"dc1"}})");
  REQUIRE_FALSE(o.problems.empty());
  CHECK(o.problems[0].reason == "InvalidOverride");
  CHECK(o.problems[0].message ==
        "spec.override.a must be a CassandraCluster fragment (an object), not a string");

  fake_world w({"a"});
  w.set_multicasskop(R"({"base":{"metadata":{"name":"c"},"spec":{}},"override":{"a":"dc1"}})");
  w.run();
  CHECK(condition_field(w, "Ready", "reason") ==
        "InvalidOverride");  // not "names none of the clusters"
  CHECK(condition_field(w, "Ready", "message").find("must be a CassandraCluster fragment") !=
        std::string::npos);
}
