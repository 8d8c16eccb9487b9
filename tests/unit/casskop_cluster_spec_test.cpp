// casskop's CassandraCluster model: v2.1.0's defaults (CheckDefaults, SetDefaults, the CRD's),
// its getters and rack list (api/v2/cassandracluster_types_test.go as our specification), the
// problems a user is told about, and JSON written back as v2.1.0 writes it.
#include <doctest/doctest.h>

#include <filesystem>
#include <set>
#include <string>

#include "actors/casskop/logic/cluster_spec.h"
#include "casskop_fixtures.h"
#include "k8s/json/json.h"
#include "k8s/json/yaml_json.h"

namespace {

namespace js = k8s::json;
using namespace casskop;
using casskop_test::testdata_cluster;

parsed_cluster from_yaml(const std::string& yaml) {
  return parse_cluster(js::yaml_to_json(yaml));
}

std::string spec_yaml_cluster(const std::string& spec_body) {
  return "apiVersion: db.orange.com/v2\nkind: CassandraCluster\nmetadata:\n  name: cc\n"
         "  namespace: ns\nspec:\n" +
         spec_body;
}

// The problems' fields, for compact checks.
std::set<std::string> fields_of(const std::vector<spec_problem>& problems) {
  std::set<std::string> out;
  for (const auto& p : problems) out.insert(p.field);
  return out;
}

int32_t nodes_of_dc(const cluster_spec& spec, const std::string& dc) {
  const dc_spec* d = find_dc(spec, dc);
  REQUIRE(d != nullptr);
  return nodes_per_racks_of(spec, *d);
}

std::vector<std::string> rack_names(const cluster_spec& spec) {
  std::vector<std::string> out;
  for (const auto& r : racks_of(spec)) out.push_back(r.name());
  return out;
}

}  // namespace

TEST_CASE("casskop model: CheckDefaults, SetDefaults and the CRD's defaults fill an empty spec") {
  // TestSetDefaults (cassandracluster_types_test.go:440) and CheckDefaults (types.go:99-154).
  const parsed_cluster cc = from_yaml(
      spec_yaml_cluster("  resources:\n    requests:\n      cpu: 500m\n      memory: 1Gi\n"));
  REQUIRE(cc.problems.empty());
  const cluster_spec& s = cc.spec;
  CHECK(s.nodes_per_racks == 1);
  CHECK(s.cassandra_image == "cassandra:3.11.10");
  CHECK(s.image_pull_policy == "Always");
  CHECK(s.bootstrap_image == "orangeopensource/cassandra-bootstrap:0.1.9");
  CHECK(s.config_builder_image == "datastax/cass-config-builder:1.0.4");
  CHECK(s.service_account_name == "cassandra-cluster-node");
  CHECK(s.read_only_root_filesystem);
  CHECK(s.max_pod_unavailable == 1);
  CHECK(s.run_as_user == 999);
  CHECK(s.fs_group == 1);
  CHECK(s.server_type == "cassandra");
  CHECK(s.liveness.initial_delay_seconds == 120);
  CHECK(s.liveness.timeout_seconds == 20);
  CHECK(s.liveness.period_seconds == 10);
  CHECK_FALSE(s.liveness.failure_threshold.has_value());
  CHECK(s.readiness.initial_delay_seconds == 60);
  CHECK(s.readiness.timeout_seconds == 10);
  CHECK(s.readiness.period_seconds == 10);
  REQUIRE(s.backrest.has_value());
  CHECK(s.backrest->image == "gcr.io/cassandra-operator/instaclustr-icarus:1.1.0");
  // SetDefaults: limits default to the requests.
  CHECK(js::get_string(s.resources.doc, {"limits", "cpu"}) == "500m");
  CHECK(js::get_string(s.resources.doc, {"limits", "memory"}) == "1Gi");
  CHECK(rack_names(s) == std::vector<std::string>{"dc1-rack1"});
}

TEST_CASE("casskop model: values the user wrote win over every default") {
  const parsed_cluster cc = from_yaml(spec_yaml_cluster(R"(  nodesPerRacks: 3
  cassandraImage: cassandra:4.0.1
  imagepullpolicy: IfNotPresent
  runAsUser: 1001
  fsGroup: 1002
  readOnlyRootFilesystem: false
  maxPodUnavailable: 2
  serverType: dse
  livenessInitialDelaySeconds: 1205
  livenessFailureThreshold: 50
  readinessSuccessThreshold: 9
  backRestSidecar:
    image: icarus:2
    imagePullPolicy: Never
  resources:
    requests: {cpu: '1'}
    limits: {cpu: '2'}
)"));
  REQUIRE(cc.problems.empty());
  const cluster_spec& s = cc.spec;
  CHECK(s.nodes_per_racks == 3);
  CHECK(s.cassandra_image == "cassandra:4.0.1");
  CHECK(s.image_pull_policy == "IfNotPresent");
  CHECK(s.run_as_user == 1001);
  CHECK(s.fs_group == 1002);
  CHECK_FALSE(s.read_only_root_filesystem);
  CHECK(s.max_pod_unavailable == 2);
  CHECK(s.server_type == "dse");
  CHECK(s.liveness.initial_delay_seconds == 1205);
  CHECK(s.liveness.failure_threshold == 50);
  CHECK(s.readiness.success_threshold == 9);
  CHECK(s.backrest->image == "icarus:2");
  CHECK(s.backrest->image_pull_policy == "Never");
  CHECK(js::get_string(s.resources.doc, {"limits", "cpu"}) == "2");
}

TEST_CASE("casskop model: nodesPerRacks 0 is defaulted on the first pass only") {
  // SetDefaults (types.go:161) runs while status.phase is empty; afterwards a 0 is kept so that
  // CheckNonAllowedChanges can refuse it.
  CHECK(from_yaml(spec_yaml_cluster("  nodesPerRacks: 0\n")).spec.nodes_per_racks == 1);
  const parsed_cluster later =
      from_yaml(spec_yaml_cluster("  nodesPerRacks: 0\n") + "status:\n  phase: Running\n");
  CHECK(later.spec.nodes_per_racks == 0);
  CHECK(later.problems.empty());
}

TEST_CASE("casskop model: metadata and status are read") {
  const parsed_cluster cc = parse_cluster(js::parse(R"({
    "metadata": {"name": "cc", "namespace": "ns", "uid": "u1", "generation": 4,
                 "labels": {"cluster": "k8s.pic"}},
    "spec": {},
    "status": {"phase": "Running", "lastClusterAction": "ScaleUp",
               "lastClusterActionStatus": "Done", "seedlist": ["a", "b"],
               "cassandraNodeStatus": {"cc-dc1-rack1-0": {"hostId": "h", "nodeIp": "10.0.0.1"}},
               "cassandraRackStatus": {"dc1-rack1": {"phase": "Running",
                 "cassandraLastAction": {"status": "Done", "name": "ScaleUp",
                   "startTime": "2026-01-01T00:00:00Z", "endTime": "2026-01-01T00:01:00Z",
                   "updatedNodes": ["cc-dc1-rack1-0"]},
                 "podLastOperation": {"name": "cleanup", "status": "Done",
                   "pods": ["p"], "podsOK": ["p"], "operatorName": "op"}}}}})"));
  CHECK(cc.name == "cc");
  CHECK(cc.namespace_ == "ns");
  CHECK(cc.uid == "u1");
  CHECK(cc.generation == 4);
  CHECK(cc.labels.at("cluster") == "k8s.pic");
  CHECK(cc.status.phase == "Running");
  CHECK(cc.status.last_cluster_action == "ScaleUp");
  CHECK(cc.status.seedlist == std::vector<std::string>{"a", "b"});
  CHECK(cc.status.nodes.at("cc-dc1-rack1-0").node_ip == "10.0.0.1");
  const rack_status& r = cc.status.racks.at("dc1-rack1");
  CHECK(r.cassandra_last_action.name == "ScaleUp");
  CHECK(r.cassandra_last_action.end_time == "2026-01-01T00:01:00Z");
  CHECK(r.cassandra_last_action.updated_nodes == std::vector<std::string>{"cc-dc1-rack1-0"});
  CHECK(r.pod_last_op.operator_name == "op");
  CHECK(r.pod_last_op.pods_ok == std::vector<std::string>{"p"});
}

TEST_CASE("casskop model: status written as v2.1.0 writes it reads back the same") {
  const std::string written =
      R"({"phase":"Running","lastClusterAction":"UpdateSeedList","lastClusterActionStatus":"Done",)"
      R"("seedlist":["cc-dc1-rack1-0.cc.ns"],)"
      R"("cassandraNodeStatus":{"cc-dc1-rack1-0":{"hostId":"h","nodeIp":"10.0.0.1"}},)"
      R"("cassandraRackStatus":{"dc1-rack1":{"phase":"Running","cassandraLastAction":)"
      R"({"status":"Done","name":"UpdateSeedList","startTime":"2026-01-01T00:00:00Z",)"
      R"("endTime":"2026-01-01T00:01:00Z"},"podLastOperation":{}},)"
      R"("dc1-rack2":{"phase":"Initializing","cassandraLastAction":{"status":"Ongoing",)"
      R"("name":"Initializing"},"podLastOperation":{"name":"cleanup","status":"Done",)"
      R"("pods":["a"],"podsOK":["a"],"operatorName":"op"}}}})";
  js::Document object;
  object.SetObject();
  object.AddMember("status", js::Value(js::parse(written), object.GetAllocator()),
                   object.GetAllocator());
  const parsed_cluster cc = parse_cluster(object);
  CHECK(js::to_string(status_to_json(cc.status)) == written);
  // An empty status writes as {} ("status":{} in the last-applied annotation).
  CHECK(js::to_string(status_to_json(cluster_status{})) == "{}");
}

TEST_CASE("casskop model: NodesPerRacks of each DC as v2.1.0's getters") {
  // TestGetNodesPerRacks_NoTopo, _1DC, _2DC (cassandracluster_types_test.go:53-92).
  const parsed_cluster no_topo = testdata_cluster("api-cassandracluster-NoTopo.yaml");
  CHECK(no_topo.spec.dcs.empty());
  CHECK(no_topo.spec.nodes_per_racks == 8);
  CHECK(nodes_per_racks_of(no_topo.spec, dc_spec{}) == 8);  // the implicit dc1

  const parsed_cluster one_dc = testdata_cluster("api-cassandracluster-1DC.yaml");
  CHECK(nodes_of_dc(one_dc.spec, "online") == 7);

  const parsed_cluster two_dc = testdata_cluster("api-cassandracluster-2DC.yaml");
  CHECK(nodes_of_dc(two_dc.spec, "online") == 6);
  CHECK(nodes_of_dc(two_dc.spec, "stats") == 2);
  // An unknown DC gets the global value (GetNodesPerRacks("toto-toto") == 6).
  CHECK(find_dc(two_dc.spec, "toto") == nullptr);
  CHECK(nodes_per_racks_of(two_dc.spec, dc_spec{}) == 6);

  // TestGetDCSize, TestGetDCName, TestGetRackSize, TestGetRackName.
  REQUIRE(two_dc.spec.dcs.size() == 2);
  CHECK(two_dc.spec.dcs[0].name == "online");
  CHECK(two_dc.spec.dcs[1].name == "stats");
  CHECK(two_dc.spec.dcs[0].racks.size() == 2);
  CHECK(two_dc.spec.dcs[1].racks.size() == 2);
  CHECK(two_dc.spec.dcs[0].racks[1].name == "rack2");
  CHECK(two_dc.spec.dcs[1].racks[0].name == "rack1");
}

TEST_CASE("casskop model: the rack list as v2.1.0's InitCassandraRackList") {
  // TestInitCassandraRackList_NoTopo, _TopoDCNoRack, _2DC (cassandracluster_types_test.go:156).
  CHECK(rack_names(testdata_cluster("api-cassandracluster-NoTopo.yaml").spec) ==
        std::vector<std::string>{"dc1-rack1"});
  CHECK(rack_names(testdata_cluster("api-cassandracluster-TopoDCNoRack.yaml").spec) ==
        std::vector<std::string>{"online-rack1"});
  CHECK(rack_names(testdata_cluster("api-cassandracluster-2DC.yaml").spec) ==
        std::vector<std::string>{"online-rack1", "online-rack2", "stats-rack1", "stats-rack2"});
  CHECK(rack_names(testdata_cluster("api-cassandracluster-2DC5R.yaml").spec).size() == 9);

  // A DC without racks keeps its place among the others (v2.1.0 would drop the others: not
  // reproduced, see racks_of).
  const parsed_cluster mixed = from_yaml(spec_yaml_cluster(
      "  topology:\n    dc:\n    - name: a\n      rack: [{name: r1}, {name: r2}]\n"
      "    - name: b\n    - name: c\n      rack: [{name: r9}]\n"));
  REQUIRE(mixed.problems.empty());
  const auto racks = racks_of(mixed.spec);
  REQUIRE(racks.size() == 4);
  CHECK(racks[2].name() == "b-rack1");
  CHECK(racks[2].dc_index == 1);
  CHECK(racks[3].name() == "c-r9");
  CHECK(racks[3].dc_index == 2);
  CHECK(racks[3].rack_index == 0);
}

TEST_CASE("casskop model: data capacity and storage class of a DC, with v2.1.0's getter bug") {
  const parsed_cluster cc = from_yaml(spec_yaml_cluster(R"(  dataCapacity: 3Gi
  dataStorageClass: local-storage
  topology:
    dc:
    - name: own
      dataCapacity: 10Gi
      dataStorageClass: fast
    - name: classonly
      dataStorageClass: fast
    - name: inherits
)"));
  REQUIRE(cc.problems.empty());
  const cluster_spec& s = cc.spec;
  CHECK(data_capacity_of(s, *find_dc(s, "own")) == "10Gi");
  CHECK(data_storage_class_of(s, *find_dc(s, "own")) == "fast");
  CHECK(data_capacity_of(s, *find_dc(s, "inherits")) == "3Gi");
  CHECK(data_storage_class_of(s, *find_dc(s, "inherits")) == "local-storage");
  // GetDataStorageClassFromDCName tests DataCapacity: a DC's class without its own capacity is
  // ignored, as in the StatefulSets v2.1.0 made (kept for takeover, see cluster_spec.cpp).
  CHECK(data_capacity_of(s, *find_dc(s, "classonly")) == "3Gi");
  CHECK(data_storage_class_of(s, *find_dc(s, "classonly")) == "local-storage");
}

TEST_CASE("casskop model: DC-rack names must be DNS-1035 labels") {
  // TestGetDCRackName (cassandracluster_types_test.go:146).
  CHECK(is_dns1035_label("online-rack1"));
  CHECK_FALSE(is_dns1035_label("online-Rack1"));
  CHECK_FALSE(is_dns1035_label("1dc-rack1"));
  CHECK_FALSE(is_dns1035_label("dc_1-rack1"));
  CHECK_FALSE(is_dns1035_label(""));
}

TEST_CASE("casskop model: each bad input is a problem at its field") {
  SUBCASE("a DC or rack name with '-' (the CRD's pattern ^[^-]+$)") {
    const parsed_cluster cc = from_yaml(
        spec_yaml_cluster("  topology:\n    dc:\n    - name: dc-1\n      rack: [{name: r1}]\n"
                          "    - name: dc2\n      rack: [{name: r-2}]\n"));
    CHECK(fields_of(cc.problems) ==
          std::set<std::string>{"spec.topology.dc[0].name", "spec.topology.dc[1].rack[0].name"});
    CHECK(cc.problems[0].message.find("'-'") != std::string::npos);
  }
  SUBCASE("a dc-rack name that is not DNS-1035") {
    const parsed_cluster cc = from_yaml(
        spec_yaml_cluster("  topology:\n    dc:\n    - name: DC1\n      rack: [{name: rack1}]\n"
                          "    - name: dc2\n      rack: [{name: rack_1}]\n    - name: dc3\n"));
    CHECK(fields_of(cc.problems) ==
          std::set<std::string>{"spec.topology.dc[0]", "spec.topology.dc[1]"});
    CHECK(cc.problems[0].message.find("\"DC1-rack1\"") != std::string::npos);
    CHECK(cc.problems[0].message.find("DNS-1035") != std::string::npos);
  }
  SUBCASE("nodesPerRacks below 0, global or per DC") {
    const parsed_cluster cc =
        from_yaml(spec_yaml_cluster("  nodesPerRacks: -1\n  topology:\n    dc:\n    - name: dc1\n"
                                    "    - name: dc2\n      nodesPerRacks: -2\n"));
    CHECK(fields_of(cc.problems) ==
          std::set<std::string>{"spec.nodesPerRacks", "spec.topology.dc[1].nodesPerRacks"});
    CHECK(cc.problems[0].message.find("-1") != std::string::npos);
  }
  SUBCASE("duplicate DC names, duplicate rack names in a DC") {
    const parsed_cluster cc = from_yaml(spec_yaml_cluster(
        "  topology:\n    dc:\n    - name: dc1\n      rack: [{name: r1}, {name: r1}]\n"
        "    - name: dc2\n      rack: [{name: r1}]\n    - name: dc1\n"));
    CHECK(fields_of(cc.problems) ==
          std::set<std::string>{"spec.topology.dc[0].rack[1].name", "spec.topology.dc[2].name"});
  }
  SUBCASE("a DC without a name") {
    const parsed_cluster cc =
        from_yaml(spec_yaml_cluster("  topology:\n    dc:\n    - nodesPerRacks: 2\n"));
    CHECK(fields_of(cc.problems) == std::set<std::string>{"spec.topology.dc[0].name"});
  }
  SUBCASE("wrongly typed fields") {
    const parsed_cluster cc = parse_cluster(js::parse(R"({"spec": {
        "nodesPerRacks": "3", "deletePVC": "yes", "cassandraImage": 5, "maxPodUnavailable": 1.5,
        "resources": [], "pod": {"annotations": {"a": 1}}, "storageConfigs": {},
        "imagePullSecret": "secret",
        "topology": {"dc": [{"name": "dc1", "nodesPerRacks": true, "labels": "x",
                             "rack": [{"name": "r1", "rollingPartition": "1"}, 7]}]}}})"));
    CHECK(fields_of(cc.problems) ==
          std::set<std::string>{
              "spec.nodesPerRacks", "spec.deletePVC", "spec.cassandraImage",
              "spec.maxPodUnavailable", "spec.resources", "spec.pod.annotations.a",
              "spec.storageConfigs", "spec.imagePullSecret", "spec.topology.dc[0].nodesPerRacks",
              "spec.topology.dc[0].labels", "spec.topology.dc[0].rack[0].rollingPartition",
              "spec.topology.dc[0].rack[1]", "spec.topology.dc[0].rack[1].name"});
    // Each falls back to its default: the rest of the spec is still read.
    CHECK(cc.spec.nodes_per_racks == 1);
    CHECK(cc.spec.cassandra_image == "cassandra:3.11.10");
    REQUIRE(cc.spec.dcs.size() == 1);
    CHECK(cc.spec.dcs[0].racks[0].name == "r1");
  }
  SUBCASE("a number out of int32's range, and the CRD's minimums and enum") {
    const parsed_cluster cc = parse_cluster(js::parse(
        R"({"spec": {"nodesPerRacks": 4294967296, "runAsUser": 0, "fsGroup": -1,
                     "serverType": "scylla"}})"));
    CHECK(fields_of(cc.problems) == std::set<std::string>{"spec.nodesPerRacks", "spec.runAsUser",
                                                          "spec.fsGroup", "spec.serverType"});
  }
  SUBCASE("a dataCapacity that is not a quantity (the CRD's pattern)") {
    const parsed_cluster cc =
        from_yaml(spec_yaml_cluster("  dataCapacity: ten gigs\n  topology:\n    dc:\n    - name: "
                                    "dc1\n      dataCapacity: 10Gi\n"
                                    "    - name: dc2\n      dataCapacity: 5 GB\n"));
    CHECK(fields_of(cc.problems) ==
          std::set<std::string>{"spec.dataCapacity", "spec.topology.dc[1].dataCapacity"});
    CHECK(cc.problems[0].message.find("\"ten gigs\"") != std::string::npos);
  }
  SUBCASE("not an object at all") {
    CHECK_FALSE(parse_cluster(js::parse("[1]")).problems.empty());
    CHECK(fields_of(parse_cluster(js::parse(R"({"spec": "x"})")).problems) ==
          std::set<std::string>{"spec"});
    const parsed_cluster none = parse_cluster(js::parse(R"({"metadata": {"name": "a"}})"));
    CHECK(none.problems.empty());
    CHECK(none.spec.cassandra_image == "cassandra:3.11.10");
  }
}

namespace {

// Every value of `sample` is in `ours` (a YAML number may be a string there, as Go writes a
// Quantity); values Go's omitempty drops (false, 0, "", empty) may be missing. Paths of what is
// missing otherwise are collected.
void collect_missing(const js::Value& sample, const js::Value& ours, const std::string& path,
                     std::vector<std::string>& missing) {
  auto empty = [](const js::Value& v) {
    return v.IsNull() || (v.IsBool() && !v.GetBool()) || (v.IsInt64() && v.GetInt64() == 0) ||
           (v.IsString() && v.GetStringLength() == 0) || (v.IsObject() && v.ObjectEmpty()) ||
           (v.IsArray() && v.Empty());
  };
  if (sample.IsObject()) {
    if (!ours.IsObject()) {
      missing.push_back(path);
      return;
    }
    for (const auto& m : sample.GetObject()) {
      const std::string p = path + "." + std::string(js::view(m.name));
      const js::Value* o = js::find(ours, js::view(m.name));
      if (!o) {
        if (!empty(m.value)) missing.push_back(p);
        continue;
      }
      collect_missing(m.value, *o, p, missing);
    }
    return;
  }
  if (sample.IsArray()) {
    if (!ours.IsArray() || ours.Size() != sample.Size()) {
      missing.push_back(path);
      return;
    }
    for (rapidjson::SizeType i = 0; i < sample.Size(); ++i)
      collect_missing(sample[i], ours[i], path + "[" + std::to_string(i) + "]", missing);
    return;
  }
  if (sample == ours) return;
  if (sample.IsInt64() && ours.IsString() && std::to_string(sample.GetInt64()) == js::view(ours))
    return;
  missing.push_back(path);
}

}  // namespace

TEST_CASE("casskop model: every v2.1.0 sample round-trips through parse and spec_to_json") {
  namespace fs = std::filesystem;
  int clusters = 0;
  std::vector<fs::path> files;
  for (const char* dir :
       {"/tests/fixtures/casskop-v2.1.0/samples", "/tests/fixtures/casskop-v2.1.0/testdata"})
    for (const auto& e : fs::directory_iterator(std::string(SOURCE_DIR) + dir))
      if (e.path().extension() == ".yaml") files.push_back(e.path());
  for (const auto& file : files) {
    const js::Document object = js::yaml_to_json(casskop_test::read_text(file.string()));
    if (js::get_string(object, "kind") != "CassandraCluster") continue;
    ++clusters;
    CAPTURE(file.filename().string());
    const parsed_cluster cc = parse_cluster(object);
    for (const auto& p : cc.problems) MESSAGE(p.field << ": " << p.message);
    CHECK(cc.problems.empty());
    const js::Document written = spec_to_json(cc.spec);
    // Reading what we wrote gives the same spec and the same JSON.
    std::vector<spec_problem> again;
    const cluster_spec reread = parse_spec(written, again);
    CHECK(again.empty());
    CHECK(js::to_string(spec_to_json(reread)) == js::to_string(written));
    // Nothing the user wrote is lost, except fields v2.1.0's types do not have (json.Unmarshal
    // drops them too): spec.rollingPartition, baseImage and version in v2.1.0's old test data,
    // gcStdout (a v1alpha1 field) in cassandracluster-demo.yaml, the sample cc-local.yaml's
    // "imagePullPolicy", taken as "imagepullpolicy" (Go matches keys regardless of case), and
    // YAML merge keys ("<<") inside sidecars, which yaml-cpp keeps as a key.
    std::vector<std::string> missing;
    collect_missing(object["spec"], written, "spec", missing);
    const std::set<std::string> not_in_v2_types = {"spec.rollingPartition", "spec.baseImage",
                                                   "spec.version", "spec.gcStdout",
                                                   "spec.imagePullPolicy"};
    for (const auto& m : missing) {
      CAPTURE(m);
      CHECK((not_in_v2_types.count(m) == 1 || m.find(".<<") != std::string::npos));
    }
    if (file.filename() == "cc-local.yaml") CHECK(cc.spec.image_pull_policy == "IfNotPresent");
  }
  CHECK(clusters >= 15);
}

TEST_CASE("casskop model: spec_to_json writes Go's field order and omitempty") {
  const parsed_cluster cc = from_yaml(spec_yaml_cluster(R"(  nodesPerRacks: 2
  hardAntiAffinity: false
  resources:
    requests: {memory: 2Gi, cpu: 1}
  topology:
    dc:
    - name: dc1
      nodesPerRacks: 0
      rack:
      - name: r1
        rollingPartition: 0
)"));
  REQUIRE(cc.problems.empty());
  CHECK(
      js::to_string(spec_to_json(cc.spec)) ==
      R"({"nodesPerRacks":2,"cassandraImage":"cassandra:3.11.10","imagepullpolicy":"Always",)"
      R"("bootstrapImage":"orangeopensource/cassandra-bootstrap:0.1.9",)"
      R"("configBuilderImage":"datastax/cass-config-builder:1.0.4","runAsUser":999,"fsGroup":1,)"
      R"("readOnlyRootFilesystem":true,"resources":{"limits":{"cpu":"1","memory":"2Gi"},)"
      R"("requests":{"cpu":"1","memory":"2Gi"}},"maxPodUnavailable":1,"serverType":"cassandra",)"
      R"("imagePullSecret":{},"imageJolokiaSecret":{},)"
      R"("topology":{"dc":[{"name":"dc1","rack":[{"name":"r1"}],"nodesPerRacks":0,"resources":{}}]},)"
      R"("livenessInitialDelaySeconds":120,"livenessHealthCheckTimeout":20,)"
      R"("livenessHealthCheckPeriod":10,"readinessInitialDelaySeconds":60,)"
      R"("readinessHealthCheckTimeout":10,"readinessHealthCheckPeriod":10,)"
      R"("backRestSidecar":{"image":"gcr.io/cassandra-operator/instaclustr-icarus:1.1.0"},)"
      R"("serviceAccountName":"cassandra-cluster-node"})");
}

TEST_CASE("casskop model: json_value copies deeply and compares as JSON") {
  json_value a;
  CHECK_FALSE(a.present());
  a.doc.Parse(R"({"x":[1,2],"y":"z"})");
  json_value b = a;
  CHECK(b == a);
  b.doc["x"].PushBack(3, b.doc.GetAllocator());
  CHECK(b != a);
  json_value c;
  c = b;
  CHECK(c == b);
  json_value d;
  d.doc.Parse(R"({"y":"z","x":[1,2]})");
  CHECK(d == a);  // member order does not matter
}
