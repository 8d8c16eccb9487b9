// Seed lists by CassKop v2.1.0's rule (InitSeedList) with the exact FQDN lists of its tests
// (api/v2/cassandracluster_types_test.go), and autoUpdateSeedList's merge in the orders of
// controllers/cassandracluster/reconcile_test.go's FlipCassandraClusterUpdateSeedList* tests.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "actors/casskop/logic/seeds.h"
#include "actors/multicasskop/logic/seeds.h"
#include "casskop_fixtures.h"
#include "k8s/json/json.h"

namespace {

namespace js = k8s::json;
using namespace casskop;
using strings = std::vector<std::string>;

strings seeds_of_testdata(const std::string& file) {
  const parsed_cluster cc = casskop_test::testdata_cluster(file);
  REQUIRE(cc.problems.empty());
  return init_seed_list(cc.spec, cc.name, cc.namespace_);
}

}  // namespace

TEST_CASE("casskop seeds: InitSeedList of v2.1.0's test clusters") {
  // TestInitSeedList_2DC: 2 racks per DC -> pods 0, 1 of rack1 and pod 0 of rack2, per DC.
  CHECK(seeds_of_testdata("api-cassandracluster-2DC.yaml") ==
        strings{"cassandra-demo-online-rack1-0.cassandra-demo.ns",
                "cassandra-demo-online-rack1-1.cassandra-demo.ns",
                "cassandra-demo-online-rack2-0.cassandra-demo.ns",
                "cassandra-demo-stats-rack1-0.cassandra-demo.ns",
                "cassandra-demo-stats-rack1-1.cassandra-demo.ns",
                "cassandra-demo-stats-rack2-0.cassandra-demo.ns"});
  // TestInitSeedList_NoTopo: dc1/rack1, pods 0..2.
  CHECK(seeds_of_testdata("api-cassandracluster-NoTopo.yaml") ==
        strings{"cassandra-demo-dc1-rack1-0.cassandra-demo.ns",
                "cassandra-demo-dc1-rack1-1.cassandra-demo.ns",
                "cassandra-demo-dc1-rack1-2.cassandra-demo.ns"});
  // TestInitSeedList_1DC.
  CHECK(seeds_of_testdata("api-cassandracluster-1DC.yaml") ==
        strings{"cassandra-demo-online-rack1-0.cassandra-demo.ns",
                "cassandra-demo-online-rack1-1.cassandra-demo.ns",
                "cassandra-demo-online-rack2-0.cassandra-demo.ns"});
  // TestInitSeedList_2DC5R: 3+ racks -> pod 0 of the first 3 racks.
  CHECK(seeds_of_testdata("api-cassandracluster-2DC5R.yaml") ==
        strings{"cassandra-demo-online-rack1-0.cassandra-demo.ns",
                "cassandra-demo-online-rack2-0.cassandra-demo.ns",
                "cassandra-demo-online-rack3-0.cassandra-demo.ns",
                "cassandra-demo-stats-rack1-0.cassandra-demo.ns",
                "cassandra-demo-stats-rack2-0.cassandra-demo.ns",
                "cassandra-demo-stats-rack3-0.cassandra-demo.ns"});
  // TestInitSeedList_1DC1R1P: 1 node per rack -> never a pod that does not exist.
  CHECK(seeds_of_testdata("api-cassandracluster-1DC1R1P.yaml") ==
        strings{"cassandra-demo-online-rack1-0.cassandra-demo.ns",
                "cassandra-demo-online-rack2-0.cassandra-demo.ns"});
  // A DC without racks is its rack1.
  CHECK(seeds_of_testdata("api-cassandracluster-TopoDCNoRack.yaml") ==
        strings{"cassandra-demo-online-rack1-0.cassandra-demo.ns",
                "cassandra-demo-online-rack1-1.cassandra-demo.ns",
                "cassandra-demo-online-rack1-2.cassandra-demo.ns"});
  // TestSetDefaults: an empty spec has one seed.
  const parsed_cluster empty = parse_cluster(
      js::parse(R"({"metadata":{"name":"defaults-test","namespace":"default"},"spec":{}})"));
  CHECK(init_seed_list(empty.spec, empty.name, empty.namespace_) ==
        strings{"defaults-test-dc1-rack1-0.defaults-test.default"});
}

TEST_CASE("casskop seeds: at most 3 per DC, bounded by that DC's nodesPerRacks") {
  std::vector<spec_problem> problems;
  const cluster_spec spec = parse_spec(js::parse(R"({"nodesPerRacks": 5, "topology": {"dc": [
      {"name": "a", "nodesPerRacks": 2, "rack": [{"name": "r1"}]},
      {"name": "b", "nodesPerRacks": 0, "rack": [{"name": "r1"}, {"name": "r2"}, {"name": "r3"}]},
      {"name": "c", "nodesPerRacks": 1, "rack": [{"name": "r1"}, {"name": "r2"}]},
      {"name": "d", "rack": [{"name": "r1"}, {"name": "r2"}, {"name": "r3"}, {"name": "r4"}]}]}})"),
                                       problems);
  REQUIRE(problems.empty());
  CHECK(seed_pods(spec, "cc") == strings{"cc-a-r1-0", "cc-a-r1-1", "cc-c-r1-0", "cc-c-r2-0",
                                         "cc-d-r1-0", "cc-d-r2-0", "cc-d-r3-0"});
}

TEST_CASE("casskop seeds: autoUpdateSeedList's merge keeps the old order") {
  // The FlipCassandraClusterUpdateSeedList* scenarios on controllers' 2DC cluster (dc1: 2 racks,
  // dc2: 1 rack, 1 node per rack), each step merging the new InitSeedList into the stored list.
  const parsed_cluster cc = casskop_test::testdata_cluster("controllers-cassandracluster-2DC.yaml");
  REQUIRE(cc.problems.empty());
  auto seeds = [&](const cluster_spec& s) { return init_seed_list(s, cc.name, cc.namespace_); };
  const std::string d = ".cassandra-demo.ns";
  const strings a{"cassandra-demo-dc1-rack1-0" + d, "cassandra-demo-dc1-rack2-0" + d,
                  "cassandra-demo-dc2-rack1-0" + d};
  REQUIRE(seeds(cc.spec) == a);

  SUBCASE("ScaleDC2: dc2 to 2 nodes appends its pod 1") {
    cluster_spec s = cc.spec;
    s.dcs[1].nodes_per_racks = 2;
    CHECK(merge_seed_lists(a, seeds(s)) ==
          strings{"cassandra-demo-dc1-rack1-0" + d, "cassandra-demo-dc1-rack2-0" + d,
                  "cassandra-demo-dc2-rack1-0" + d, "cassandra-demo-dc2-rack1-1" + d});
  }
  SUBCASE("scaleDC1: the new dc1 seed goes to the end, not next to its rack") {
    cluster_spec s = cc.spec;
    s.nodes_per_racks = 2;  // dc2 keeps its own nodesPerRacks 1
    CHECK(seeds(s) == strings{"cassandra-demo-dc1-rack1-0" + d, "cassandra-demo-dc1-rack1-1" + d,
                              "cassandra-demo-dc1-rack2-0" + d, "cassandra-demo-dc2-rack1-0" + d});
    CHECK(merge_seed_lists(a, seeds(s)) ==
          strings{"cassandra-demo-dc1-rack1-0" + d, "cassandra-demo-dc1-rack2-0" + d,
                  "cassandra-demo-dc2-rack1-0" + d, "cassandra-demo-dc1-rack1-1" + d});
  }
  SUBCASE("ScaleDown: a seed removed from the middle, the others keep their order") {
    cluster_spec s = cc.spec;
    s.nodes_per_racks = 2;
    s.dcs[1].nodes_per_racks = 2;
    const strings b = merge_seed_lists(a, seeds(s));
    CHECK(b == strings{"cassandra-demo-dc1-rack1-0" + d, "cassandra-demo-dc1-rack2-0" + d,
                       "cassandra-demo-dc2-rack1-0" + d, "cassandra-demo-dc1-rack1-1" + d,
                       "cassandra-demo-dc2-rack1-1" + d});
    s.nodes_per_racks = 1;
    CHECK(merge_seed_lists(b, seeds(s)) ==
          strings{"cassandra-demo-dc1-rack1-0" + d, "cassandra-demo-dc1-rack2-0" + d,
                  "cassandra-demo-dc2-rack1-0" + d, "cassandra-demo-dc2-rack1-1" + d});
  }
  SUBCASE("an unchanged list stays as it is, a manual order included") {
    const strings manual{a[2], a[0], a[1]};
    CHECK(merge_seed_lists(manual, a) == manual);
    CHECK(merge_seed_lists({}, a) == a);
    CHECK(merge_seed_lists(a, {}).empty());
  }
}

TEST_CASE("casskop seeds: multi-casskop's seeds are casskop's rule with its DNS domain") {
  const js::Document spec = js::parse(R"({"nodesPerRacks": 3, "topology": {"dc": [
      {"name": "dc1", "rack": [{"name": "r1"}, {"name": "r2"}]}, {"name": "dc2"}]}})");
  std::vector<spec_problem> problems;
  const strings pods = seed_pods(parse_spec(spec, problems), "cc");
  const strings fqdns = mc::seeds_of("cc", spec, "example.com");
  REQUIRE(pods.size() == fqdns.size());
  for (size_t i = 0; i < pods.size(); ++i) CHECK(fqdns[i] == pods[i] + ".example.com");
  CHECK(fqdns == strings{"cc-dc1-r1-0.example.com", "cc-dc1-r1-1.example.com",
                         "cc-dc1-r2-0.example.com", "cc-dc2-rack1-0.example.com",
                         "cc-dc2-rack1-1.example.com", "cc-dc2-rack1-2.example.com"});
}

namespace {

// HelperInitCluster of reconcile_test.go: controllers' 2DC cluster, every rack Initializing
// (InitCassandraRackStatus), the seed list InitSeedList's; the StatefulSets' CASSANDRA_SEEDS is
// that first list (testdata/cassandracluster-2DC-dc1-rack1-sts.yaml).
struct flip_world {
  parsed_cluster cc = casskop_test::testdata_cluster("controllers-cassandracluster-2DC.yaml");
  strings stored;
  cluster_status status;
  const strings racks{"dc1-rack1", "dc1-rack2", "dc2-rack1"};

  flip_world() {
    for (const auto& r : racks_of(cc.spec)) {
      rack_status rs;
      rs.phase = phase::initializing;
      rs.cassandra_last_action = {action::initializing, status::ongoing, "", "", {}};
      status.racks[r.name()] = rs;
    }
    status.seedlist = init_seed_list(cc.spec, cc.name, cc.namespace_);
    stored = status.seedlist;
  }
  // UpdateStatusIfSeedListHasChanged for each rack, all with dc1-rack1's StatefulSet as the
  // original's tests do; returns how many racks were flagged.
  int detect() {
    int n = 0;
    for (const auto& r : racks)
      n += seed_list_change(cc.spec, cc.name, cc.namespace_, stored, r, status);
    return n;
  }
  // What UpdateCassandraClusterStatusPhase reports at cluster level while a rack is not Done.
  void cluster_action_from_racks() {
    const last_action& a = status.racks.at("dc1-rack1").cassandra_last_action;
    status.last_cluster_action = a.name;
    status.last_cluster_action_status = a.status;
  }
  void running(std::initializer_list<const char*> names) {
    for (const char* n : names) status.racks.at(n).phase = phase::running;
  }
  strings statuses() const {
    strings out;
    for (const auto& r : racks) {
      const last_action& a = status.racks.at(r).cassandra_last_action;
      out.push_back(a.name + "/" + a.status);
    }
    return out;
  }
};

const std::string d = ".cassandra-demo.ns";

}  // namespace

TEST_CASE("casskop seeds: FlipCassandraClusterUpdateSeedListStatusScaleDC2") {
  flip_world w;
  w.cc.spec.auto_update_seed_list = true;
  w.cc.spec.dcs[1].nodes_per_racks = 2;
  CHECK(w.detect() == 3);
  CHECK(w.statuses() == strings(3, "UpdateSeedList/Configuring"));
  const strings b{"cassandra-demo-dc1-rack1-0" + d, "cassandra-demo-dc1-rack2-0" + d,
                  "cassandra-demo-dc2-rack1-0" + d, "cassandra-demo-dc2-rack1-1" + d};
  CHECK(w.status.seedlist == b);
  w.cluster_action_from_racks();
  w.running({"dc1-rack1", "dc1-rack2", "dc2-rack1"});
  CHECK(flip_seed_list_to_do(w.cc.spec, w.status));
  CHECK(w.statuses() == strings(3, "UpdateSeedList/ToDo"));
  // Once the StatefulSets carry the new list, nothing is flagged again.
  w.stored = b;
  CHECK(w.detect() == 0);
  CHECK(w.statuses() == strings(3, "UpdateSeedList/ToDo"));
  CHECK(w.status.seedlist == b);
}

TEST_CASE("casskop seeds: FlipCassandraClusterUpdateSeedListStatusScaleDC2ManualSeedList") {
  flip_world w;
  w.cc.spec.auto_update_seed_list = false;
  // The user writes a seed list of their own into the status.
  w.status.seedlist.push_back("cassandra-demo-dc2-rack2-0.nodomain.com");
  CHECK(w.detect() == 3);
  CHECK(w.statuses() == strings(3, "UpdateSeedList/Configuring"));
  w.cluster_action_from_racks();
  w.running({"dc1-rack1", "dc1-rack2"});  // dc2-rack1 still Initializing: it keeps Configuring
  CHECK(flip_seed_list_to_do(w.cc.spec, w.status));
  CHECK(w.statuses() ==
        strings{"UpdateSeedList/ToDo", "UpdateSeedList/ToDo", "UpdateSeedList/Configuring"});
}

TEST_CASE("casskop seeds: FlipCassandraClusterUpdateSeedListStatusscaleDC1") {
  flip_world w;
  w.cc.spec.auto_update_seed_list = true;
  w.cc.spec.nodes_per_racks = 2;
  CHECK(w.detect() == 3);
  w.cluster_action_from_racks();
  w.running({"dc1-rack1", "dc1-rack2", "dc2-rack1"});
  CHECK(flip_seed_list_to_do(w.cc.spec, w.status));
  CHECK(w.statuses() == strings(3, "UpdateSeedList/ToDo"));
  CHECK(w.status.seedlist ==
        strings{"cassandra-demo-dc1-rack1-0" + d, "cassandra-demo-dc1-rack2-0" + d,
                "cassandra-demo-dc2-rack1-0" + d, "cassandra-demo-dc1-rack1-1" + d});
}

TEST_CASE("casskop seeds: FlipCassandraClusterUpdateSeedListStatusScaleDown") {
  flip_world w;
  w.cc.spec.auto_update_seed_list = true;
  w.cc.spec.nodes_per_racks = 2;
  w.cc.spec.dcs[1].nodes_per_racks = 2;
  CHECK(w.detect() == 3);
  w.cluster_action_from_racks();
  w.running({"dc1-rack1", "dc1-rack2", "dc2-rack1"});
  CHECK(flip_seed_list_to_do(w.cc.spec, w.status));
  const strings b{"cassandra-demo-dc1-rack1-0" + d, "cassandra-demo-dc1-rack2-0" + d,
                  "cassandra-demo-dc2-rack1-0" + d, "cassandra-demo-dc1-rack1-1" + d,
                  "cassandra-demo-dc2-rack1-1" + d};
  CHECK(w.status.seedlist == b);
  // The StatefulSets now carry b; dc1 goes back to 1 node per rack.
  w.stored = b;
  w.cc.spec.nodes_per_racks = 1;
  CHECK(w.detect() == 3);
  CHECK(w.statuses() == strings(3, "UpdateSeedList/Configuring"));
  CHECK(flip_seed_list_to_do(w.cc.spec, w.status));
  CHECK(w.statuses() == strings(3, "UpdateSeedList/ToDo"));
  CHECK(w.status.seedlist ==
        strings{"cassandra-demo-dc1-rack1-0" + d, "cassandra-demo-dc1-rack2-0" + d,
                "cassandra-demo-dc2-rack1-0" + d, "cassandra-demo-dc2-rack1-1" + d});
}

TEST_CASE("casskop seeds: no flip while a rack does something else") {
  flip_world w;
  w.cc.spec.auto_update_seed_list = true;
  w.cc.spec.nodes_per_racks = 2;
  w.detect();
  w.cluster_action_from_racks();
  w.running({"dc1-rack1", "dc1-rack2", "dc2-rack1"});
  w.status.racks.at("dc2-rack1").cassandra_last_action = {
      action::scale_up, status::ongoing, "", "", {}};
  CHECK_FALSE(flip_seed_list_to_do(w.cc.spec, w.status));
  CHECK(w.statuses() ==
        strings{"UpdateSeedList/Configuring", "UpdateSeedList/Configuring", "ScaleUp/Ongoing"});
  // Nor when the cluster is not Configuring the seed list.
  w.status.racks.at("dc2-rack1").cassandra_last_action = {
      action::update_seed_list, status::configuring, "", "", {}};
  w.status.last_cluster_action_status = status::ongoing;
  CHECK_FALSE(flip_seed_list_to_do(w.cc.spec, w.status));
}
