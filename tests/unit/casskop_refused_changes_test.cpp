// Which spec changes casskop refuses and writes back (v2.1.0's CheckNonAllowedChanges, its
// controllers/cassandracluster/reconcile_test.go scenarios as our specification), plus the
// refusals of our own until decommission exists, and the last-applied annotation they read.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "actors/casskop/logic/last_applied.h"
#include "actors/casskop/logic/refused_changes.h"
#include "actors/casskop/logic/seeds.h"
#include "casskop_fixtures.h"
#include "k8s/json/json.h"

namespace {

namespace js = k8s::json;
using namespace casskop;
using strings = std::vector<std::string>;

cluster_spec testdata_spec(const std::string& file) {
  const parsed_cluster cc = casskop_test::testdata_cluster(file);
  REQUIRE(cc.problems.empty());
  return cc.spec;
}

strings reasons(const change_review& r) {
  strings out;
  for (const auto& f : r.refusals) out.push_back(f.reason);
  return out;
}
strings fields(const change_review& r) {
  strings out;
  for (const auto& f : r.refusals) out.push_back(f.field);
  return out;
}
size_t dc_rack_count(const cluster_spec& s) {
  return racks_of(s).size();
}
strings dc_names(const cluster_spec& s) {
  strings out;
  for (const auto& dc : s.dcs) out.push_back(dc.name);
  return out;
}
bool same_spec(const cluster_spec& a, const cluster_spec& b) {
  return js::to_string(spec_to_json(a)) == js::to_string(spec_to_json(b));
}

const change_context decommission_later{};  // today's casskop: no decommission, no Jolokia

}  // namespace

TEST_CASE("casskop refused changes: an unchanged spec is accepted as it is") {
  const cluster_spec old = testdata_spec("controllers-cassandracluster-2DC.yaml");
  const change_review r = review_changes(old, old, decommission_later);
  CHECK_FALSE(r.refused());
  CHECK_FALSE(r.resources_changed);
  CHECK_FALSE(r.removed_dc.has_value());
  CHECK(same_spec(r.spec, old));
}

TEST_CASE("casskop refused changes: global nodesPerRacks 0 is restored (NodesTo0)") {
  const cluster_spec old = testdata_spec("controllers-cassandracluster-2DC.yaml");
  cluster_spec wanted = old;
  wanted.nodes_per_racks = 0;
  const change_review r = review_changes(old, wanted, decommission_later);
  REQUIRE(r.refused());
  CHECK(reasons(r) == strings{refusal_reason::nodes_per_racks_zero});
  CHECK(fields(r) == strings{"spec.nodesPerRacks"});
  CHECK(r.spec.nodes_per_racks == 1);
  CHECK(r.refusals[0].message.find("restored to 1") != std::string::npos);
}

TEST_CASE("casskop refused changes: capacity and class restored, other changes kept (Mix1)") {
  const cluster_spec old = testdata_spec("controllers-cassandracluster-2DC.yaml");
  cluster_spec wanted = old;
  wanted.nodes_per_racks = 0;          // instead of 1
  wanted.data_capacity = "4Gi";        // instead of 3Gi
  wanted.data_storage_class = "fast";  // instead of local-storage
  wanted.auto_pilot = false;           // instead of true: allowed
  const change_review r = review_changes(old, wanted, decommission_later);
  CHECK(reasons(r) == strings{refusal_reason::nodes_per_racks_zero,
                              refusal_reason::data_capacity_changed,
                              refusal_reason::data_storage_class_changed});
  CHECK(fields(r) == strings{"spec.nodesPerRacks", "spec.dataCapacity", "spec.dataStorageClass"});
  CHECK(r.spec.nodes_per_racks == 1);
  CHECK(r.spec.data_capacity == "3Gi");
  CHECK(r.spec.data_storage_class == "local-storage");
  CHECK_FALSE(r.spec.auto_pilot);
  // The message names the DC, both values and why.
  CHECK(r.refusals[1].message.find("DC \"dc2\"") != std::string::npos);
  CHECK(r.refusals[1].message.find("\"3Gi\" to \"4Gi\"") != std::string::npos);
  CHECK(r.refusals[1].message.find("immutable") != std::string::npos);
}

TEST_CASE("casskop refused changes: a DC's own capacity and class cannot change either") {
  const cluster_spec old = testdata_spec("controllers-cassandracluster-2DC.yaml");
  cluster_spec wanted = old;
  wanted.dcs[0].data_capacity = "20Gi";  // dc1 has its own 10Gi
  wanted.dcs[0].data_storage_class = "other";
  const change_review r = review_changes(old, wanted, decommission_later);
  CHECK(fields(r) ==
        strings{"spec.topology.dc[0].dataCapacity", "spec.topology.dc[0].dataStorageClass"});
  CHECK(r.spec.dcs[0].data_capacity == "10Gi");
  CHECK(r.spec.dcs[0].data_storage_class == "test-storage");

  // A global change hidden by every DC's own capacity changes nothing, as in v2.1.0.
  cluster_spec global_only = old;
  global_only.dcs[1].data_capacity = "3Gi";
  global_only.dcs[1].data_storage_class = "local-storage";
  cluster_spec wanted2 = global_only;
  wanted2.data_capacity = "5Gi";
  wanted2.data_storage_class = "x";
  const change_review r2 = review_changes(global_only, wanted2, decommission_later);
  CHECK_FALSE(r2.refused());
  CHECK(r2.spec.data_capacity == "5Gi");

  // A new DC may have its own.
  cluster_spec wanted3 = old;
  wanted3.dcs.push_back(old.dcs[1]);
  wanted3.dcs.back().name = "dc3";
  wanted3.dcs.back().data_capacity = "1Ti";
  CHECK_FALSE(review_changes(old, wanted3, decommission_later).refused());
}

TEST_CASE("casskop refused changes: a resources change is allowed and marks every rack") {
  // TestCheckNonAllowedChangesResourcesIsAllowedButNeedAttention.
  const parsed_cluster cc = casskop_test::testdata_cluster("controllers-cassandracluster-2DC.yaml");
  cluster_spec wanted = cc.spec;
  wanted.resources.doc.Parse(
      R"({"requests":{"cpu":"2","memory":"2Gi"},"limits":{"cpu":"2","memory":"2Gi"}})");
  const change_review r = review_changes(cc.spec, wanted, decommission_later);
  CHECK_FALSE(r.refused());
  CHECK(r.resources_changed);
  CHECK(js::get_string(r.spec.resources.doc, {"requests", "cpu"}) == "2");

  cluster_status status;
  status.racks["dc1-rack1"].cassandra_last_action = {"Initializing", "Done", "t0", "t1", {}};
  mark_resources_update(r.spec, status, "2026-01-01T00:00:00Z");
  REQUIRE(status.racks.size() == 3);
  for (const char* rack : {"dc1-rack1", "dc1-rack2", "dc2-rack1"}) {
    CAPTURE(rack);
    const last_action& a = status.racks.at(rack).cassandra_last_action;
    CHECK(a.name == "UpdateResources");
    CHECK(a.status == "ToDo");
    CHECK(a.start_time == "2026-01-01T00:00:00Z");
    CHECK(a.end_time.empty());
  }

  // A DC's resources are not "UpdateResources" (reconcile.go:198 compares spec.resources only):
  // they roll as any other template change.
  cluster_spec dc_only = cc.spec;
  dc_only.dcs[0].resources.doc.Parse(R"({"requests":{"cpu":"5"}})");
  CHECK_FALSE(review_changes(cc.spec, dc_only, decommission_later).resources_changed);
}

TEST_CASE("casskop refused changes: resources compare as Go's quantities, not as text") {
  // The annotation v2.1.0 wrote holds Go's canonical spelling; the spec keeps the user's. Taking
  // over such a cluster must not mark every rack UpdateResources.
  auto spec_with = [](const char* resources) {
    std::vector<spec_problem> problems;
    cluster_spec s =
        parse_spec(js::parse(std::string(R"({"resources":)") + resources + "}"), problems);
    REQUIRE(problems.empty());
    return s;
  };
  const cluster_spec go = spec_with(
      R"({"limits":{"cpu":"1","memory":"2Gi"},"requests":{"cpu":"500m","memory":"2Gi"}})");
  const cluster_spec user = spec_with(
      R"({"requests":{"memory":"2048Mi","cpu":0.5},"limits":{"cpu":1,"memory":"2147483648"}})");
  CHECK_FALSE(review_changes(go, user, decommission_later).resources_changed);
  CHECK(same_resources(go.resources, user.resources));
  const cluster_spec more = spec_with(
      R"({"limits":{"cpu":"2","memory":"2Gi"},"requests":{"cpu":"500m","memory":"2Gi"}})");
  CHECK(review_changes(go, more, decommission_later).resources_changed);
  const cluster_spec fewer =
      spec_with(R"({"limits":{"cpu":"1"},"requests":{"cpu":"500m","memory":"2Gi"}})");
  CHECK(review_changes(go, fewer, decommission_later).resources_changed);
  // Absent and {} are the same; requests alone get limits (SetDefaults) on both sides.
  std::vector<spec_problem> none;
  CHECK(same_resources(spec_with("{}").resources, parse_spec(js::parse("{}"), none).resources));
  CHECK(
      same_resources(spec_with(R"({"requests":{"cpu":"1"}})").resources,
                     spec_with(R"({"requests":{"cpu":"1"},"limits":{"cpu":"1000m"}})").resources));
}

TEST_CASE("casskop refused changes: two DCs removed at once are refused (Remove2DC)") {
  const cluster_spec old = testdata_spec("controllers-cassandracluster-3DC.yaml");
  cluster_spec wanted = old;
  wanted.dcs.erase(wanted.dcs.begin() + 1, wanted.dcs.end());
  const change_review r = review_changes(old, wanted, decommission_later);
  CHECK(reasons(r) == strings{refusal_reason::too_many_dcs_removed});
  CHECK(dc_names(r.spec) == strings{"dc1", "dc2", "dc3"});
  CHECK(dc_rack_count(r.spec) == 4);
  CHECK(r.refusals[0].message.find("one DC at a time") != std::string::npos);
}

TEST_CASE(
    "casskop refused changes: racks of an existing DC cannot be removed or added (UpdateRack)") {
  const cluster_spec old = testdata_spec("controllers-cassandracluster-3DC.yaml");
  REQUIRE(dc_rack_count(old) == 4);
  cluster_spec removed = old;
  removed.dcs[0].racks.erase(removed.dcs[0].racks.begin() + 1);
  const change_review r1 = review_changes(old, removed, decommission_later);
  CHECK(reasons(r1) == strings{refusal_reason::rack_removed});
  CHECK(fields(r1) == strings{"spec.topology.dc[0].rack"});
  CHECK(r1.refusals[0].message.find("\"rack2\"") != std::string::npos);
  CHECK(dc_names(r1.spec).size() == 3);
  CHECK(dc_rack_count(r1.spec) == 4);

  cluster_spec added = old;
  added.dcs[0].racks.push_back(rack_spec{});
  added.dcs[0].racks.back().name = "ForbiddenRack";
  const change_review r2 = review_changes(old, added, decommission_later);
  CHECK(reasons(r2) == strings{refusal_reason::rack_added});
  CHECK(dc_rack_count(r2.spec) == 4);

  cluster_spec renamed = old;
  renamed.dcs[1].racks[0].name = "rackx";
  CHECK(reasons(review_changes(old, renamed, decommission_later)) ==
        strings{refusal_reason::rack_renamed});

  // The whole topology goes back, as v2.1.0 does (reconcile.go:177): a change elsewhere in it
  // waits for the next, acceptable, edit.
  cluster_spec mixed = removed;
  mixed.dcs[0].labels["x"] = "y";
  mixed.cassandra_image = "cassandra:3.11.11";
  const change_review r3 = review_changes(old, mixed, decommission_later);
  CHECK(r3.spec.dcs[0].labels.count("x") == 0);
  CHECK(r3.spec.cassandra_image == "cassandra:3.11.11");
}

TEST_CASE("casskop refused changes: a DC cannot be renamed or reordered") {
  const cluster_spec old = testdata_spec("controllers-cassandracluster-3DC.yaml");
  cluster_spec renamed = old;
  renamed.dcs[2].name = "dc4";
  const change_review r = review_changes(old, renamed, decommission_later);
  CHECK(reasons(r) == strings{refusal_reason::dc_renamed});
  CHECK(r.refusals[0].message.find("\"dc3\"") != std::string::npos);
  CHECK(r.refusals[0].message.find("\"dc4\"") != std::string::npos);
  CHECK(dc_names(r.spec) == strings{"dc1", "dc2", "dc3"});

  cluster_spec reordered = old;
  std::swap(reordered.dcs[1], reordered.dcs[2]);
  CHECK(reasons(review_changes(old, reordered, decommission_later)) ==
        strings{refusal_reason::dc_order_changed});

  // Adding a DC is what the topology may do.
  cluster_spec added = old;
  added.dcs.push_back(old.dcs[2]);
  added.dcs.back().name = "dc4";
  const change_review ok = review_changes(old, added, decommission_later);
  CHECK_FALSE(ok.refused());
  CHECK(dc_names(ok.spec) == strings{"dc1", "dc2", "dc3", "dc4"});
}

TEST_CASE("casskop refused changes: a DC that still has nodes cannot be removed (RemoveDCNot0)") {
  const cluster_spec old = testdata_spec("controllers-cassandracluster-3DC.yaml");
  cluster_spec wanted = old;
  wanted.dcs.erase(wanted.dcs.begin() + 1);
  const change_review r = review_changes(old, wanted, decommission_later);
  CHECK(reasons(r) == strings{refusal_reason::dc_removed_with_nodes});
  CHECK(r.refusals[0].message.find("scale it to 0 first") != std::string::npos);
  CHECK(dc_names(r.spec) == strings{"dc1", "dc2", "dc3"});
  CHECK(dc_rack_count(r.spec) == 4);
  CHECK_FALSE(r.removed_dc.has_value());
}

TEST_CASE("casskop refused changes: a DC already at 0 can be removed (RemoveDC)") {
  cluster_spec old = testdata_spec("controllers-cassandracluster-3DC.yaml");
  old.dcs[1].nodes_per_racks = 0;
  cluster_spec wanted = old;
  wanted.dcs.erase(wanted.dcs.begin() + 1);
  const change_review r = review_changes(old, wanted, decommission_later);
  CHECK_FALSE(r.refused());
  REQUIRE(r.removed_dc.has_value());
  CHECK(*r.removed_dc == "dc2");
  CHECK(r.removed_dc_racks == strings{"dc2-rack1"});  // its status entries go
  CHECK(dc_names(r.spec) == strings{"dc1", "dc3"});
  CHECK(dc_rack_count(r.spec) == 3);

  // Not while a scale down is still going on (reconcile.go:321).
  change_context busy;
  busy.scale_down_ongoing = true;
  const change_review r2 = review_changes(old, wanted, busy);
  CHECK(reasons(r2) == strings{refusal_reason::dc_removed_during_scale_down});
  CHECK_FALSE(r2.removed_dc.has_value());
  CHECK(dc_names(r2.spec) == strings{"dc1", "dc2", "dc3"});
}

TEST_CASE("casskop refused changes: a DC scaled to 0 while still replicated (ScaleDown)") {
  // TestCheckNonAllowedChangesScaleDown, with what Jolokia would answer as a parameter.
  const cluster_spec old = testdata_spec("controllers-cassandracluster-3DC.yaml");
  cluster_spec wanted = old;
  wanted.dcs[1].nodes_per_racks = 0;
  change_context ctx;
  ctx.data.known = true;
  ctx.data.replicated_dcs = {"dc1", "dc2"};
  const change_review refused = review_changes(old, wanted, ctx);
  CHECK(reasons(refused) == strings{refusal_reason::dc_still_replicated});
  CHECK(fields(refused) == strings{"spec.topology.dc[1].nodesPerRacks"});
  CHECK(refused.spec.dcs[1].nodes_per_racks == 1);
  CHECK(refused.refusals[0].message.find("keyspaces still replicate") != std::string::npos);

  // Once no keyspace replicates to dc2 any more, the scale down to 0 is allowed.
  ctx.data.replicated_dcs = {"dc1"};
  const change_review allowed = review_changes(old, wanted, ctx);
  CHECK_FALSE(allowed.refused());
  CHECK(allowed.spec.dcs[1].nodes_per_racks == 0);

  // Without a way to ask Cassandra, the change is refused and says why.
  ctx.data = {};
  const change_review unknown = review_changes(old, wanted, ctx);
  CHECK(reasons(unknown) == strings{refusal_reason::data_check_not_possible});
  CHECK(unknown.refusals[0].message.find("not possible yet") != std::string::npos);
  CHECK(unknown.refusals[0].message.find("no Ready pod to ask") != std::string::npos);
  CHECK(unknown.spec.dcs[1].nodes_per_racks == 1);
  // A failed ask: the message names what failed.
  ctx.data.why = "describeRingJMX on pod-0: java.io.IOException: ring unavailable";
  const change_review failed = review_changes(old, wanted, ctx);
  CHECK(failed.refusals[0].message.find("ring unavailable") != std::string::npos);
}

TEST_CASE("casskop refused changes: with node facts, a DC to 0 waits for a ring asked after it") {
  const cluster_spec old = testdata_spec("controllers-cassandracluster-3DC.yaml");
  cluster_spec wanted = old;
  wanted.dcs[1].nodes_per_racks = 0;
  change_context ctx;
  ctx.fresh_data_required = true;
  ctx.data = {true, {"dc1"}, 7, ""};
  // Not seen yet, or seen after round 7 started: neither accepted nor refused.
  for (std::optional<uint64_t> seen : {std::optional<uint64_t>{}, std::optional<uint64_t>{7}}) {
    ctx.change_seen = seen;
    const change_review r = review_changes(old, wanted, ctx);
    CHECK_FALSE(r.refused());
    CHECK(r.awaiting_ring == strings{"dc2"});
  }
  // Round 7 started after the change was seen: it decides.
  ctx.change_seen = 6;
  const change_review fresh = review_changes(old, wanted, ctx);
  CHECK(fresh.awaiting_ring.empty());
  CHECK_FALSE(fresh.refused());
  ctx.data.replicated_dcs.insert("dc2");
  CHECK(reasons(review_changes(old, wanted, ctx)) == strings{refusal_reason::dc_still_replicated});
  // A scale down that does not empty the DC never waits on the ring.
  cluster_spec base = old;
  base.dcs[1].nodes_per_racks = 3;
  wanted = base;
  wanted.dcs[1].nodes_per_racks = 2;
  ctx.change_seen.reset();
  CHECK(review_changes(base, wanted, ctx).awaiting_ring.empty());
}

TEST_CASE("casskop refused changes: a scale down is accepted, decommissioned node by node") {
  // Until issue 13 every scale down was refused (ScaleDownNeedsDecommission); casskop now
  // decommissions, so only v2.1.0's rule for a DC going to 0 remains.
  const cluster_spec old = testdata_spec("controllers-cassandracluster-2DC.yaml");
  change_context ctx;
  ctx.data.known = true;

  SUBCASE("a DC's own nodesPerRacks") {
    cluster_spec base = old;
    base.dcs[1].nodes_per_racks = 3;
    cluster_spec wanted = base;
    wanted.dcs[1].nodes_per_racks = 2;
    const change_review r = review_changes(base, wanted, ctx);
    CHECK_FALSE(r.refused());
    CHECK(r.spec.dcs[1].nodes_per_racks == 2);
  }
  SUBCASE("the global nodesPerRacks, for the DCs without their own") {
    cluster_spec base = old;
    base.nodes_per_racks = 3;
    cluster_spec wanted = base;
    wanted.nodes_per_racks = 2;
    const change_review r = review_changes(base, wanted, ctx);
    CHECK_FALSE(r.refused());
    CHECK(r.spec.nodes_per_racks == 2);
  }
  SUBCASE("a DC to 0 that no keyspace uses") {
    cluster_spec wanted = old;
    wanted.dcs[1].nodes_per_racks = 0;
    CHECK_FALSE(review_changes(old, wanted, ctx).refused());
    // ... but not when nobody could be asked.
    const change_review unknown = review_changes(old, wanted, change_context{});
    CHECK(reasons(unknown) == strings{refusal_reason::data_check_not_possible});
  }
  SUBCASE("scaling up is never refused") {
    cluster_spec wanted = old;
    wanted.nodes_per_racks = 3;
    wanted.dcs[1].nodes_per_racks = 4;
    CHECK_FALSE(review_changes(old, wanted, change_context{}).refused());
  }
}

TEST_CASE("casskop last-applied: what v2.1.0's ComputeLastAppliedConfiguration stores") {
  // TestComputeLastAppliedConfiguration (cassandracluster_types_test.go:428) marshals the test
  // cluster without defaults; v2.1.0's controller stores it after SetDefaults and CheckDefaults
  // (cassandracluster_controller.go:93-100), so the expected text is the test's, with the
  // defaulted fields at their places in the struct.
  const js::Document object = casskop_test::testdata_object("api-cassandracluster-2DC.yaml");
  const parsed_cluster cc = parse_cluster(object);
  const std::string defaulted_images =
      R"("imagepullpolicy":"Always","bootstrapImage":"orangeopensource/cassandra-bootstrap:0.1.9",)"
      R"("configBuilderImage":"datastax/cass-config-builder:1.0.4","runAsUser":999,"fsGroup":1,)"
      R"("readOnlyRootFilesystem":true,)";
  const std::string defaulted_probes =
      R"(,"livenessInitialDelaySeconds":120,"livenessHealthCheckTimeout":20,)"
      R"("livenessHealthCheckPeriod":10,"readinessInitialDelaySeconds":60,)"
      R"("readinessHealthCheckTimeout":10,"readinessHealthCheckPeriod":10,)"
      R"("backRestSidecar":{"image":"gcr.io/cassandra-operator/instaclustr-icarus:1.1.0"},)"
      R"("serviceAccountName":"cassandra-cluster-node")";
  const std::string expected =
      R"({"kind":"CassandraCluster","apiVersion":"db.orange.com/v2","metadata":{"name":"cassandra-demo","namespace":"ns","creationTimestamp":null,"labels":{"cluster":"k8s.pic"}},"spec":{"nodesPerRacks":6,"cassandraImage":"cassandra:3.11.6",)" +
      defaulted_images +
      R"("resources":{"limits":{"cpu":"1","memory":"2Gi"},"requests":{"cpu":"1","memory":"2Gi"}},"deletePVC":true,"autoPilot":true,)" +
      R"("maxPodUnavailable":1,)" +
      R"("dataCapacity":"3Gi","dataStorageClass":"local-storage","serverVersion":"3.11.7",)" +
      R"("serverType":"cassandra",)" +
      R"("config":{"jvm-options":{"log_gc":"true"}},"imagePullSecret":{},"imageJolokiaSecret":{},"topology":{"dc":[{"name":"online","labels":{"location.dfy.orange.com/site":"mts"},"config":{"cassandra-yaml":{"num_tokens":200}},"rack":[{"name":"rack1","labels":{"location.dfy.orange.com/street":"street1"}},{"name":"rack2","labels":{"location.dfy.orange.com/street":"street2"}}],"resources":{}},{"name":"stats","labels":{"location.dfy.orange.com/site":"mts"},"config":{"cassandra-yaml":{"num_tokens":32}},"rack":[{"name":"rack1","labels":{"location.dfy.orange.com/street":"street3"}},{"name":"rack2","labels":{"location.dfy.orange.com/street":"street4"}}],"nodesPerRacks":2,"resources":{}}]})" +
      defaulted_probes + R"(},"status":{}})";
  CHECK(compute_last_applied(object, cc.spec) == expected);
}

TEST_CASE(
    "casskop last-applied: metadata kept in ObjectMeta's order, annotations and status dropped") {
  const js::Document object =
      js::parse(R"({"apiVersion":"db.orange.com/v2","kind":"CassandraCluster",
    "metadata":{"labels":{"a":"b"},"annotations":{"x":"y"},"resourceVersion":"42","uid":"u",
      "namespace":"ns","name":"cc","generation":3,"creationTimestamp":"2026-01-01T00:00:00Z",
      "finalizers":["kubernetes.io/pvc-to-delete"],"somethingNew":1},
    "spec":{"nodesPerRacks":2},"status":{"phase":"Running"}})");
  const parsed_cluster cc = parse_cluster(object);
  const std::string stored = compute_last_applied(object, cc.spec);
  const js::Document doc = js::parse(stored);
  CHECK(js::to_string(doc["metadata"]) ==
        R"({"name":"cc","namespace":"ns","uid":"u","generation":3,)"
        R"("creationTimestamp":"2026-01-01T00:00:00Z","labels":{"a":"b"},)"
        R"("finalizers":["kubernetes.io/pvc-to-delete"],"somethingNew":1})");
  CHECK(js::to_string(doc["status"]) == "{}");
  CHECK(js::get_int(doc, {"spec", "nodesPerRacks"}, 0) == 2);
}

TEST_CASE("casskop last-applied: read back from the annotation") {
  js::Document object = casskop_test::testdata_object("controllers-cassandracluster-2DC.yaml");
  const parsed_cluster cc = parse_cluster(object);
  CHECK_FALSE(read_last_applied(object).spec.has_value());  // first pass: nothing to compare
  CHECK(read_last_applied(object).error.empty());

  const std::string stored = compute_last_applied(object, cc.spec);
  auto& a = object.GetAllocator();
  js::Value& annotations = js::ensure_object(object["metadata"], "annotations", a);
  js::set_string(annotations, last_applied_annotation, stored, a);
  const last_applied_read read = read_last_applied(object);
  REQUIRE(read.spec.has_value());
  CHECK(same_spec(*read.spec, cc.spec));
  // Nothing changed since: the annotation is what we would store again, and nothing is refused.
  CHECK(compute_last_applied(object, cc.spec) == stored);
  CHECK_FALSE(review_changes(*read.spec, cc.spec, decommission_later).refused());

  js::set_string(annotations, last_applied_annotation, "{not json", a);
  const last_applied_read bad = read_last_applied(object);
  CHECK_FALSE(bad.spec.has_value());
  CHECK(bad.error.find("not JSON") != std::string::npos);
}

TEST_CASE("casskop refused changes: a ScaleDown not Done yet is read from the status") {
  cluster_status st;
  st.last_cluster_action = action::scale_down;
  st.last_cluster_action_status = status::ongoing;
  CHECK(scale_down_in_progress(st));
  st.last_cluster_action_status = status::done;
  CHECK_FALSE(scale_down_in_progress(st));
  st.last_cluster_action = action::scale_up;
  st.last_cluster_action_status = status::ongoing;
  CHECK_FALSE(scale_down_in_progress(st));
}

namespace {

// Every value of `v` (recursively) replaced in turn by each of `replacements`; `visit` gets the
// whole mutated document each time.
template <class F>
void each_mutation(js::Document& doc, js::Value& v, F&& visit) {
  static const char* replacements[] = {"null", "1",  "-7",   "1e300",        "\"x\"",
                                       "[]",   "{}", "true", "[1,\"a\",{}]", "{\"name\":\"a-b\"}"};
  const js::Document saved = js::copy_of(v);
  for (const char* r : replacements) {
    js::Document rep = js::parse(r);
    v.CopyFrom(rep, doc.GetAllocator());
    visit(doc);
  }
  v.CopyFrom(saved, doc.GetAllocator());
  if (v.IsObject())
    for (auto& m : v.GetObject()) each_mutation(doc, m.value, visit);
  else if (v.IsArray())
    for (auto& e : v.GetArray()) each_mutation(doc, e, visit);
}

}  // namespace

TEST_CASE("casskop model: any value of any type anywhere in a spec is a problem, never a crash") {
  const js::Document base = casskop_test::testdata_object("controllers-cassandracluster-2DC.yaml");
  const cluster_spec old =
      casskop_test::testdata_cluster("controllers-cassandracluster-2DC.yaml").spec;
  js::Document doc = js::copy_of(base);
  int runs = 0;
  each_mutation(doc, doc["spec"], [&](js::Document& mutated) {
    ++runs;
    const parsed_cluster cc = parse_cluster(mutated);
    for (const auto& p : cc.problems) {
      CHECK_FALSE(p.message.empty());
      CHECK(p.field.rfind("spec", 0) == 0);
    }
    (void)spec_to_json(cc.spec);
    (void)seed_pods(cc.spec, "cc");
    const change_review r = review_changes(old, cc.spec, change_context{});
    (void)r;
    (void)compute_last_applied(mutated, cc.spec);
  });
  CHECK(runs > 1000);
}

TEST_CASE("casskop refused changes: storageConfigs cannot change once the cluster exists") {
  const cluster_spec old = testdata_spec("controllers-cassandracluster-2DC.yaml");
  cluster_spec wanted = old;
  wanted.storage_configs.push_back({"/var/lib/cassandra/gc", "gc-logs", {}});
  wanted.auto_pilot = !old.auto_pilot;  // an allowed change in the same edit
  const change_review r = review_changes(old, wanted, decommission_later);
  CHECK(reasons(r) == strings{"StorageConfigsChanged"});
  CHECK(fields(r) == strings{"spec.storageConfigs"});
  CHECK(r.spec.storage_configs.size() == old.storage_configs.size());
  CHECK(r.spec.auto_pilot == wanted.auto_pilot);
}
