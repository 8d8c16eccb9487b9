// What the watch caches keep of each object (actors/multicasskop/cache_trim).
#include <doctest/doctest.h>

#include "actors/multicasskop/logic/cache_trim.h"
#include "actors/multicasskop/logic/spec.h"

namespace js = k8s::json;

namespace {

mc::object_ptr object(const std::string& json) {
  return std::make_shared<const js::Document>(js::parse(json));
}

const std::string managed_fields =
    R"("managedFields":[{"manager":"kubectl","operation":"Apply","fieldsV1":{"f:spec":{}}}])";

}  // namespace

TEST_CASE("cache trim: an object with nothing to drop is kept as it is, not copied") {
  auto cc =
      object(R"({"metadata":{"name":"a","annotations":{"x":"y"}},"spec":{"nodesPerRacks":3}})");
  CHECK(mc::trim_for_cache(cc, mc::watched_kind::cassandracluster).get() == cc.get());
  auto mcc = object(R"({"metadata":{"name":"m"},"spec":{"base":{}}})");
  CHECK(mc::trim_for_cache(mcc, mc::watched_kind::multicasskop).get() == mcc.get());
}

TEST_CASE("cache trim: managedFields and kubectl's last-applied record go, everything else stays") {
  auto mcc = object(
      R"({"metadata":{"name":"m",)" + managed_fields +
      R"(,"annotations":{"kubectl.kubernetes.io/last-applied-configuration":"{\"big\":1}","keep":"me"}},)"
      R"("spec":{"base":{"spec":{"nodesPerRacks":1}}},"status":{"rollingRegion":"r1"}})");
  auto trimmed = mc::trim_for_cache(mcc, mc::watched_kind::multicasskop);
  REQUIRE(trimmed.get() != mcc.get());
  CHECK(js::to_string(*js::find(*trimmed, "metadata")) ==
        R"({"name":"m","annotations":{"keep":"me"}})");
  CHECK(js::to_string(*js::find(*trimmed, "spec")) == R"({"base":{"spec":{"nodesPerRacks":1}}})");
  CHECK(mc::status_digest(*trimmed) == mc::status_digest(*mcc));
}

TEST_CASE(
    "cache trim: a MultiCasskop's status keeps what a restart restores, and a digest of the rest") {
  const std::string status =
      R"({"observedGeneration":3,"rollingRegion":"","seedlist":["a.b","c.d"],)"
      R"("regions":[{"name":"k1","phase":"Ready","cassandraPhase":"Running","lastClusterAction":)"
      R"("Initializing","lastClusterActionStatus":"Done","reachable":true,"writtenGeneration":3},)"
      R"({"name":"k2","phase":"Degraded","reason":"ChangeRefused","message":"long text",)"
      R"("reachable":true,"awaitingReady":true}],)"
      R"("conditions":[{"type":"Ready","status":"False","reason":"RegionNotReady","message":"m",)"
      R"("lastTransitionTime":"2026-12-05T10:00:00Z","observedGeneration":3}]})";
  auto mcc = object(R"({"metadata":{"name":"m"},"spec":{"base":{}},"status":)" + status + "}");
  auto trimmed = mc::trim_for_cache(mcc, mc::watched_kind::multicasskop);
  REQUIRE(trimmed.get() != mcc.get());
  CHECK(
      js::to_string(*js::find(*trimmed, "status")) ==
      R"({"conditions":[{"type":"Ready","status":"False","lastTransitionTime":"2026-12-05T10:00:00Z"}],)"
      R"("regions":[{"name":"k1","phase":"Ready","writtenGeneration":3},)"
      R"({"name":"k2","phase":"Degraded","reason":"ChangeRefused","awaitingReady":true}]})");
  // The digest tells the whole status, whatever the order a server returns its members in.
  const auto whole = js::parse(status);
  CHECK(mc::status_digest(*trimmed) == mc::text_digest::of(js::canonical_text(whole)));
  const size_t regions_at = status.find("\"regions\"");
  auto reordered = object(R"({"status":{"seedlist":["a.b","c.d"],"rollingRegion":"",)" +
                          status.substr(regions_at, status.size() - 1 - regions_at) +
                          R"(,"observedGeneration":3}})");
  CHECK(mc::status_digest(*reordered) == mc::status_digest(*trimmed));
  auto other = object(R"({"status":{"observedGeneration":4}})");
  CHECK(mc::status_digest(*other) != mc::status_digest(*trimmed));
  // Trimmed once: a second trim keeps it (a write's answer, a replay).
  CHECK(mc::trim_for_cache(trimmed, mc::watched_kind::multicasskop).get() == trimmed.get());
  CHECK(mc::status_digest(*object(R"({"metadata":{"name":"m"}})")).empty());
}

TEST_CASE(
    "cache trim: a CassandraCluster's spec goes only when our record of the last write is there") {
  const std::string annotations = std::string(R"("annotations":{")") + mc::last_applied_annotation +
                                  R"(":"{\"spec\":{\"nodesPerRacks\":3}}","owner":"x"})";
  auto ours =
      object(R"({"metadata":{"name":"a",)" + annotations +
             R"(},"spec":{"nodesPerRacks":3},"status":{"phase":"Running","seedlist":["s1"]}})");
  auto trimmed = mc::trim_for_cache(ours, mc::watched_kind::cassandracluster);
  CHECK(js::find(*trimmed, "spec") == nullptr);
  CHECK(js::get_string(*trimmed, {"status", "phase"}) == "Running");
  CHECK(js::get_string(*trimmed, {"metadata", "annotations", mc::last_applied_annotation}) ==
        R"({"spec":{"nodesPerRacks":3}})");
  // A MultiCasskop's spec is what the state machine reads: never dropped.
  CHECK(js::find(*mc::trim_for_cache(ours, mc::watched_kind::multicasskop), "spec") != nullptr);
  // Without the record (a foreign or adopted one) the live spec is the only reference: kept.
  auto foreign = object(R"({"metadata":{"name":"a"},"spec":{"nodesPerRacks":3}})");
  CHECK(mc::trim_for_cache(foreign, mc::watched_kind::cassandracluster).get() == foreign.get());
}

TEST_CASE("cache trim: the three-way update reads the same from a trimmed CassandraCluster") {
  const std::string record =
      R"({"metadata":{"labels":{},"annotations":{}},"spec":{"nodesPerRacks":3}})";
  auto cc = std::make_shared<js::Document>(js::parse(
      R"({"metadata":{"name":"a","resourceVersion":"7","annotations":{}},"spec":{"nodesPerRacks":3},"status":{}})"));
  js::set_string((*cc)["metadata"]["annotations"], mc::last_applied_annotation, record,
                 cc->GetAllocator());
  mc::object_ptr whole = cc;
  auto trimmed = mc::trim_for_cache(whole, mc::watched_kind::cassandracluster);
  REQUIRE(js::find(*trimmed, "spec") == nullptr);
  auto desired = js::parse(R"({"metadata":{"name":"a"},"spec":{"nodesPerRacks":4}})");
  CHECK(mc::update_patch(*trimmed, desired) == mc::update_patch(*whole, desired));
  auto same = js::parse(R"({"metadata":{"name":"a"},"spec":{"nodesPerRacks":3}})");
  CHECK(mc::update_patch(*trimmed, same).empty());
}

TEST_CASE(
    "cache trim: CassKop's record of the spec becomes whether it reconciled the current spec") {
  auto with_record = [](const std::string& recorded_spec, const std::string& spec) {
    js::Document d = js::parse(
        R"({"metadata":{"name":"a","annotations":{}},"status":{"phase":"Running",)"
        R"("cassandraRackStatus":{"dc1-rack1":{"phase":"Running"}},"cassandraNodeStatus":{}}})");
    auto& a = d.GetAllocator();
    js::set_string(
        d["metadata"]["annotations"], mc::casskop_last_applied,
        R"({"metadata":{"name":"a","generation":4},"spec":)" + recorded_spec + R"(,"status":{}})",
        a);
    js::set_member(d, "spec", js::Value(js::parse(spec), a), a);
    return mc::trim_for_cache(std::make_shared<const js::Document>(std::move(d)),
                              mc::watched_kind::cassandracluster);
  };
  auto same = with_record(
      R"({"nodesPerRacks":2,"topology":{"dc":[{"name":"dc1"}]}})",
      R"({"topology":{"dc":[{"name":"dc1"}]},"nodesPerRacks":2})");  // member order differs
  CHECK(mc::casskop_reconciled_spec(*same) == std::optional<bool>(true));
  auto behind = with_record(R"({"nodesPerRacks":1})", R"({"nodesPerRacks":2})");
  CHECK(mc::casskop_reconciled_spec(*behind) == std::optional<bool>(false));
  // The record (a whole copy of the spec) and the status the state machine does not read go.
  CHECK(js::get_string(*same, {"metadata", "annotations", mc::casskop_last_applied}).empty());
  CHECK(js::find_path(*same, {"status", "cassandraRackStatus"}) == nullptr);
  CHECK(js::get_string(*same, {"status", "phase"}) == "Running");
  // No record: nothing to say.
  auto none = object(R"({"metadata":{"name":"a"},"spec":{}})");
  CHECK_FALSE(
      mc::casskop_reconciled_spec(*mc::trim_for_cache(none, mc::watched_kind::cassandracluster))
          .has_value());
}
