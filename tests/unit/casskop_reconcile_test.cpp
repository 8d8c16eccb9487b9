// One reconcile pass (actors/casskop/logic/reconcile.h) against a small in-memory cluster: the
// writes a pass plans are applied as an API server would (generation bumped on spec or status
// changes, resourceVersion checked), and the StatefulSets settle when told to, so a test follows
// a CassandraCluster from creation to rest, then through a change.
#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <optional>
#include <string>

#include <fmt/format.h>
#include "actors/casskop/logic/reconcile.h"

#include "k8s/json/json.h"

namespace {
using namespace casskop;
namespace js = k8s::json;

const char* kCluster = R"({
  "apiVersion": "db.orange.com/v2", "kind": "CassandraCluster",
  "metadata": {"name": "cc", "namespace": "ns", "uid": "u-1", "generation": 1,
               "resourceVersion": "1"},
  "spec": {"nodesPerRacks": 2, "cassandraImage": "cassandra:3.11.10", "dataCapacity": "1Gi",
           "deletePVC": true,
           "topology": {"dc": [{"name": "dc1", "rack": [{"name": "r1"}, {"name": "r2"}]},
                               {"name": "dc2", "rack": [{"name": "r1"}]}]}}
})";

struct world {
  js::Document cc = js::parse(kCluster);
  std::map<std::string, js::Document> statefulsets, services;
  std::optional<js::Document> pdb;
  int rv = 1;
  int writes = 0;
  std::vector<std::string> log;  // "verb kind name"
  std::vector<reconcile_event> events;
  bool observed_generation = true, conditions = true;
  const pod_operations_input* pod_ops = nullptr;  // pod operations, when a test gives pods
  const node_facts* nodes = nullptr;              // what the nodes answered, when a test says

  reconcile_plan pass() {
    reconcile_input in{
        cc,        {}, {}, {}, pdb ? &*pdb : nullptr, "2026-12-05T10:00:00Z", observed_generation,
        conditions};
    for (auto& [name, s] : statefulsets) in.statefulsets[name] = &s;
    for (auto& [name, s] : services) in.services.insert(name);
    in.pod_operations = pod_ops;
    in.nodes = nodes;
    reconcile_plan plan = plan_reconcile(in);
    for (auto& e : plan.events) events.push_back(e);
    for (auto& w : plan.writes) apply(w);
    return plan;
  }

  void apply(object_write& w) {
    ++writes;
    if (w.what == object_write::verb::remove) {  // a Pod or PVC: nothing kept of it here
      log.push_back("delete " + w.kind + " " + w.name);
      return;
    }
    const char* verb = w.what == object_write::verb::create   ? "create"
                       : w.what == object_write::verb::update ? "update"
                                                              : "patch";
    log.push_back(std::string(verb) + " " + w.kind + " " + w.name);
    auto& a = w.body.GetAllocator();
    js::Value& meta = js::ensure_object(w.body, "metadata", a);
    js::set_string(meta, "resourceVersion", std::to_string(++rv), a);
    if (w.kind == "CassandraCluster") {
      REQUIRE(js::get_string(w.body, {"metadata", "resourceVersion"}) != "");
      bool bump = *js::find(w.body, "spec") != *js::find(cc, "spec") || !js::find(cc, "status") ||
                  *js::find(w.body, "status") != *js::find(cc, "status");
      int64_t g = js::get_int(cc, {"metadata", "generation"}, 1) + (bump ? 1 : 0);
      js::set_member(meta, "generation", js::Value(g), a);
      if (!conditions) js::remove_member(w.body["status"], "conditions");  // a CRD that prunes
      cc = std::move(w.body);
    } else if (w.kind == "StatefulSet") {
      auto it = statefulsets.find(w.name);
      int64_t g =
          it == statefulsets.end() ? 1 : js::get_int(it->second, {"metadata", "generation"}, 1) + 1;
      js::set_member(meta, "generation", js::Value(g), a);
      if (it != statefulsets.end() && js::find(it->second, "status"))
        js::set_member(w.body, "status", js::Value(it->second["status"], a), a);
      statefulsets[w.name] = std::move(w.body);
    } else if (w.kind == "Service") {
      services[w.name] = std::move(w.body);
    } else if (w.kind == "PodDisruptionBudget") {
      if (w.what == object_write::verb::create) {
        pdb = std::move(w.body);
        auto& pa = pdb->GetAllocator();
        js::Value& st = js::ensure_object(*pdb, "status", pa);
        js::set_member(st, "disruptionsAllowed", js::Value(1), pa);
        js::set_member(st, "expectedPods", js::Value(2), pa);
      }
    }
  }

  // Every StatefulSet's controller catches up: all pods of the template written are Ready.
  void settle() {
    for (auto& [name, s] : statefulsets) {
      auto& a = s.GetAllocator();
      js::Value st(rapidjson::kObjectType);
      int64_t replicas = js::get_int(s, {"spec", "replicas"}, 1);
      std::string rev = "rev-" + std::to_string(std::hash<std::string>{}(
                                     js::to_string(*js::find_path(s, {"spec", "template"}))));
      js::set_member(st, "observedGeneration",
                     js::Value(js::get_int(s, {"metadata", "generation"}, 1)), a);
      for (const char* k : {"replicas", "readyReplicas", "updatedReplicas", "currentReplicas"})
        js::set_member(st, k, js::Value(replicas), a);
      js::set_string(st, "currentRevision", rev, a);
      js::set_string(st, "updateRevision", rev, a);
      js::set_member(s, "status", std::move(st), a);
    }
  }

  // Passes (each followed by the StatefulSets settling) until one writes nothing.
  int converge(int max_passes = 40) {
    for (int i = 0; i < max_passes; ++i) {
      int before = writes;
      pass();
      settle();
      if (writes == before) return i;
    }
    FAIL("no rest after " << max_passes << " passes");
    return -1;
  }

  std::string phase() const { return std::string(js::get_string(cc, {"status", "phase"})); }
  std::string image_of(const std::string& sts) const {
    const js::Value* cs =
        js::find_path(statefulsets.at(sts), {"spec", "template", "spec", "containers"});
    for (const auto& c : cs->GetArray())
      if (js::get_string(c, "name") == "cassandra") return std::string(js::get_string(c, "image"));
    return "";
  }
  bool has_event(const std::string& reason) const {
    for (const auto& e : events)
      if (e.reason == reason) return true;
    return false;
  }
};

void set_spec(world& w, std::initializer_list<std::string_view> path, js::Value v) {
  auto& a = w.cc.GetAllocator();
  js::Value* at = &w.cc["spec"];
  std::vector<std::string_view> p(path);
  for (size_t i = 0; i + 1 < p.size(); ++i) at = &js::ensure_object(*at, p[i], a);
  js::set_member(*at, p.back(), std::move(v), a);
  js::set_member(w.cc["metadata"], "generation",
                 js::Value(js::get_int(w.cc, {"metadata", "generation"}, 1) + 1), a);
}

}  // namespace

TEST_CASE(
    "casskop reconcile: the first pass creates the PDB, every Service and only the first rack") {
  world w;
  reconcile_plan p = w.pass();
  CHECK(p.problems.empty());
  REQUIRE(w.log.size() >= 4);
  CHECK(w.log.front() == "create PodDisruptionBudget cc");
  CHECK(std::count(w.log.begin(), w.log.end(), "create Service cc") == 1);
  CHECK(std::count(w.log.begin(), w.log.end(), "create Service cc-exporter-jmx") == 1);
  CHECK(std::count(w.log.begin(), w.log.end(), "create Service cc-dc1-r2") == 1);
  CHECK(std::count(w.log.begin(), w.log.end(), "create StatefulSet cc-dc1-r1") == 1);
  CHECK(std::count(w.log.begin(), w.log.end(), "create StatefulSet cc-dc1-r2") == 0);
  CHECK(w.log.back() ==
        "update CassandraCluster cc");  // the status, last (v2.1.0's deferred Update)
  CHECK(w.phase() == "Initializing");
  CHECK(js::get_string(w.cc, {"status", "cassandraRackStatus", "dc1-r1", "phase"}) ==
        "Initializing");
  // deletePVC: the finalizer; the record of what was applied
  CHECK(js::to_string(*js::find_path(w.cc, {"metadata", "finalizers"})) ==
        R"(["kubernetes.io/pvc-to-delete"])");
  CHECK(!js::get_string(w.cc, {"metadata", "annotations", last_applied_annotation}).empty());
  CHECK(js::get_int(w.cc, {"status", "observedGeneration"}, -1) ==
        js::get_int(w.cc, {"metadata", "generation"}, 0));
}

TEST_CASE(
    "casskop reconcile: racks are created one after the other, then at rest nothing is written") {
  world w;
  std::vector<std::string> created;
  for (int i = 0; i < 40; ++i) {
    size_t before = w.log.size();
    w.pass();
    for (size_t j = before; j < w.log.size(); ++j)
      if (w.log[j].rfind("create StatefulSet", 0) == 0) created.push_back(w.log[j]);
    int creates = 0;
    for (size_t j = before; j < w.log.size(); ++j)
      creates += w.log[j].rfind("create StatefulSet", 0) == 0 ||
                 w.log[j].rfind("update StatefulSet", 0) == 0;
    CHECK(creates <= 1);
    w.settle();
    if (w.log.size() == before) break;
  }
  CHECK(created == std::vector<std::string>{"create StatefulSet cc-dc1-r1",
                                            "create StatefulSet cc-dc1-r2",
                                            "create StatefulSet cc-dc2-r1"});
  CHECK(w.phase() == "Running");
  CHECK(js::get_string(w.cc, {"status", "lastClusterActionStatus"}) == "Done");
  CHECK(js::get_string(w.cc, {"status", "cassandraRackStatus", "dc2-r1", "cassandraLastAction",
                              "name"}) == "Initializing");
  CHECK(js::get_string(w.cc, {"status", "cassandraRackStatus", "dc2-r1", "cassandraLastAction",
                              "status"}) == "Done");
  CHECK(js::get_int(w.cc, {"status", "observedGeneration"}, -1) ==
        js::get_int(w.cc, {"metadata", "generation"}, 0));
  // At rest: a pass writes nothing.
  int before = w.writes;
  w.pass();
  w.pass();
  CHECK(w.writes == before);
}

TEST_CASE("casskop reconcile: an image change rolls one rack at a time, in spec order") {
  world w;
  w.converge();
  auto& a = w.cc.GetAllocator();
  set_spec(w, {"cassandraImage"}, js::string_value("cassandra:3.11.11", a));
  std::vector<std::string> updated;
  for (int i = 0; i < 40; ++i) {
    size_t before = w.log.size();
    w.pass();
    int sts_writes = 0;
    for (size_t j = before; j < w.log.size(); ++j)
      if (w.log[j].rfind("update StatefulSet", 0) == 0) {
        ++sts_writes;
        updated.push_back(w.log[j]);
      }
    CHECK(sts_writes <= 1);
    if (w.log.size() == before) break;
    // The next rack is not written before this one has settled.
    if (sts_writes == 1) {
      size_t again = w.log.size();
      w.pass();
      for (size_t j = again; j < w.log.size(); ++j)
        CHECK(w.log[j].rfind("update StatefulSet", 0) != 0);
    }
    w.settle();
  }
  CHECK(updated == std::vector<std::string>{"update StatefulSet cc-dc1-r1",
                                            "update StatefulSet cc-dc1-r2",
                                            "update StatefulSet cc-dc2-r1"});
  for (const char* s : {"cc-dc1-r1", "cc-dc1-r2", "cc-dc2-r1"})
    CHECK(w.image_of(s) == "cassandra:3.11.11");
  CHECK(w.phase() == "Running");
  CHECK(js::get_string(w.cc, {"status", "cassandraRackStatus", "dc2-r1", "cassandraLastAction",
                              "name"}) == "UpdateDockerImage");
  CHECK(js::get_string(w.cc, {"status", "lastClusterActionStatus"}) == "Done");
}

TEST_CASE(
    "casskop reconcile: a refused change is written back with a Warning Event, and nothing else") {
  world w;
  w.converge();
  w.events.clear();
  auto& a = w.cc.GetAllocator();
  set_spec(w, {"dataCapacity"}, js::string_value("5Gi", a));
  size_t before = w.log.size();
  reconcile_plan p = w.pass();
  REQUIRE(w.log.size() == before + 1);
  CHECK(w.log.back() == "update CassandraCluster cc");
  REQUIRE(p.refusals.size() == 1);
  CHECK(p.refusals[0].reason == "DataCapacityChanged");
  CHECK(js::get_string(w.cc, {"spec", "dataCapacity"}) == "1Gi");
  CHECK(js::get_string(w.cc, {"status", "lastClusterAction"}) == "CorrectCRDConfig");
  CHECK(w.has_event("DataCapacityChanged"));
  bool warning = false;
  for (const auto& e : w.events)
    warning = warning || (e.reason == "DataCapacityChanged" && e.warning);
  CHECK(warning);
  // Degraded says what was refused.
  bool degraded = false;
  for (const auto& c : w.cc["status"]["conditions"].GetArray())
    if (js::get_string(c, "type") == "Degraded")
      degraded = js::get_string(c, "status") == "True" &&
                 js::get_string(c, "reason") == "DataCapacityChanged";
  CHECK(degraded);
  // Then it is at rest again, with no StatefulSet touched.
  w.converge();
  for (size_t j = before; j < w.log.size(); ++j)
    CHECK(w.log[j].find("StatefulSet") == std::string::npos);
}

TEST_CASE("casskop reconcile: bad input writes no object and says why") {
  world w;
  auto& a = w.cc.GetAllocator();
  w.cc["spec"]["topology"]["dc"][0]["name"] = js::string_value("dc-1", a);
  SUBCASE("with a CRD that prunes conditions: nothing written at all") {
    w.conditions = false;
    reconcile_plan p = w.pass();
    CHECK(!p.problems.empty());
    CHECK(w.writes == 0);
  }
  SUBCASE("conditions not known to be pruned (none stored yet): written once, then at rest") {
    std::string spec_before = js::to_string(w.cc["spec"]);
    reconcile_plan p = w.pass();
    CHECK(!p.problems.empty());
    CHECK(w.log == std::vector<std::string>{"update CassandraCluster cc"});
    CHECK(js::to_string(w.cc["spec"]) == spec_before);
    CHECK(js::find_path(w.cc, {"status", "conditions"}));
    w.pass();
    CHECK(w.writes == 1);
  }
  SUBCASE("with a CRD that keeps conditions: only they are written, spec left alone") {
    js::Document kept = js::parse(R"({"conditions":[]})");
    js::set_member(w.cc, "status", js::Value(kept, a), a);
    std::string spec_before = js::to_string(w.cc["spec"]);
    reconcile_plan p = w.pass();
    CHECK(!p.problems.empty());
    CHECK(w.log == std::vector<std::string>{"update CassandraCluster cc"});
    CHECK(js::to_string(w.cc["spec"]) == spec_before);
    CHECK(!js::find_path(w.cc, {"metadata", "annotations"}));
    w.pass();
    CHECK(w.writes == 1);  // the same problems again: no new write
  }
  CHECK(w.has_event(degraded_invalid_spec));
  for (const auto& e : w.events)
    if (e.reason == degraded_invalid_spec) {
      CHECK(e.warning);
      CHECK(e.message.find("spec.topology.dc[0].name") != std::string::npos);
    }
}

TEST_CASE("casskop reconcile: a stale StatefulSet decides nothing") {
  world w;
  w.pass();  // cc-dc1-r1 created
  reconcile_input in{w.cc, {}, {"cc-dc1-r1"}, {}, &*w.pdb, "2026-12-05T10:00:01Z", true, true};
  for (auto& [name, s] : w.services) in.services.insert(name);
  // Not in the cache yet, but created: no second create, no other rack.
  reconcile_plan p = plan_reconcile(in);
  for (const auto& wr : p.writes) CHECK(wr.kind != "StatefulSet");
  CHECK(p.waiting.find("dc1-r1") != std::string::npos);
}

TEST_CASE("casskop reconcile: rollingPartition holds its rack and the ones after it") {
  world w;
  w.converge();
  auto& a = w.cc.GetAllocator();
  w.cc["spec"]["topology"]["dc"][0]["rack"][1].AddMember("rollingPartition", 1, a);
  set_spec(w, {"cassandraImage"}, js::string_value("cassandra:3.11.11", a));
  // A StatefulSet with a partition > 0 keeps pods on the old revision: the rack never settles.
  for (int i = 0; i < 20; ++i) {
    w.pass();
    w.settle();
    for (auto& [name, s] : w.statefulsets) {
      if (js::get_int(s, {"spec", "updateStrategy", "rollingUpdate", "partition"}, 0) > 0) {
        js::set_string(s["status"], "currentRevision", "old", s.GetAllocator());
        js::set_member(s["status"], "updatedReplicas", js::Value(1), s.GetAllocator());
      }
    }
  }
  CHECK(w.image_of("cc-dc1-r1") == "cassandra:3.11.11");
  CHECK(w.image_of("cc-dc1-r2") == "cassandra:3.11.11");  // written, with partition 1
  CHECK(w.image_of("cc-dc2-r1") == "cassandra:3.11.10");  // held behind dc1-r2
  CHECK(js::get_string(w.cc, {"status", "lastClusterActionStatus"}) == "Ongoing");
}

TEST_CASE("casskop reconcile: deletePVC deletes the cluster's older PVCs by UID, then lets it go") {
  js::Document cc = js::parse(R"({"apiVersion":"db.orange.com/v2","kind":"CassandraCluster",
    "metadata":{"name":"cc","namespace":"ns","uid":"u-1","generation":3,"resourceVersion":"9",
                "deletionTimestamp":"2026-12-05T10:00:00Z",
                "finalizers":["other/keep","kubernetes.io/pvc-to-delete"]},
    "spec":{"deletePVC":true}})");
  auto pvc = [](const char* name, const char* cluster, const char* created, bool deleting = false) {
    return js::parse(fmt::format(
        R"({{"metadata":{{"name":"{}","uid":"uid-{}","creationTimestamp":"{}",{}
            "labels":{{"app":"cassandracluster","cassandracluster":"{}"}}}}}})",
        name, name, created, deleting ? R"("deletionTimestamp":"2026-12-05T10:00:01Z",)" : "",
        cluster));
  };
  js::Document old_pvc = pvc("data-cc-dc1-r1-0", "cc", "2026-12-05T09:00:00Z");
  js::Document going = pvc("data-cc-dc1-r1-1", "cc", "2026-12-05T09:00:00Z", true);
  // orange#316: a cluster of the same name made after this one's deletion has newer PVCs.
  js::Document newer = pvc("data-cc-dc1-r2-0", "cc", "2026-12-05T10:00:05Z");
  js::Document other = pvc("data-other-dc1-r1-0", "other", "2026-12-05T09:00:00Z");

  reconcile_plan p = plan_deletion(cc, {&old_pvc, &going, &newer, &other});
  REQUIRE(p.writes.size() == 1);
  CHECK(p.writes[0].what == object_write::verb::remove);
  CHECK(p.writes[0].name == "data-cc-dc1-r1-0");
  CHECK(p.writes[0].precondition_uid == "uid-data-cc-dc1-r1-0");

  // Once every PVC is gone or going, the finalizer is removed (and only ours).
  p = plan_deletion(cc, {&going, &newer, &other});
  REQUIRE(p.writes.size() == 1);
  CHECK(p.writes[0].kind == "CassandraCluster");
  CHECK(p.writes[0].what == object_write::verb::update);
  CHECK(js::to_string(p.writes[0].body["metadata"]["finalizers"]) == R"(["other/keep"])");

  // Not being deleted, or no finalizer of ours: nothing.
  js::remove_member(cc["metadata"], "deletionTimestamp");
  CHECK(plan_deletion(cc, {&old_pvc}).writes.empty());
}

TEST_CASE(
    "casskop reconcile: when a ScaleUp ends, the rack's Running pods get the cleanup labels "
    "(Manual without autoPilot), and a ToDo label starts a cleanup in the same status write") {
  world w;
  w.converge();
  std::vector<observed_pod> pods;
  for (int i = 0; i < 3; ++i) {
    observed_pod p;
    p.name = "cc-dc1-r1-" + std::to_string(i);
    p.dc_rack = "dc1-r1";
    p.pod_ip = "127.1.0." + std::to_string(i + 1);
    p.running = p.ready = true;
    pods.push_back(p);
  }
  pod_operations_input ops{
      pods, false, {}, {}, "casskop", "2026-12-05T10:00:00Z", "20261205T100000"};
  w.pod_ops = &ops;
  set_spec(w, {"nodesPerRacks"}, js::Value(3));
  w.converge();
  auto labelled = std::count_if(w.log.begin(), w.log.end(), [](const std::string& l) {
    return l.rfind("patch Pod cc-dc1-r1-", 0) == 0;
  });
  CHECK(labelled == 3);
  CHECK(js::get_string(w.cc, {"status", "cassandraRackStatus", "dc1-r1", "cassandraLastAction",
                              "name"}) == "ScaleUp");

  // The user flips one pod to ToDo: the next pass labels it Ongoing and writes podLastOperation.
  pods[1].labels = {{"operation-name", "cleanup"}, {"operation-status", "ToDo"}};
  auto plan = w.pass();
  REQUIRE(plan.pod_operations.start.size() == 1);
  CHECK(plan.pod_operations.start[0].pod == "cc-dc1-r1-1");
  CHECK(js::get_string(w.cc, {"status", "cassandraRackStatus", "dc1-r1", "podLastOperation",
                              "status"}) == "Ongoing");
  CHECK(w.log.back() == "update CassandraCluster cc");
}

TEST_CASE("casskop reconcile: a DC to 0 is decided only on a ring asked after it was seen") {
  world w;
  w.converge();
  node_facts facts;
  facts.replication.known = true;
  facts.replication.replicated_dcs = {"dc1"};  // as seen before a keyspace was ALTERed to dc2
  facts.replication.asked = 4;
  w.nodes = &facts;
  const std::string applied(
      js::get_string(w.cc, {"metadata", "annotations", last_applied_annotation}));
  // (The allocator is taken each time: a write replaces the document.)
  auto dc2_to_0 = [&] {
    w.cc["spec"]["topology"]["dc"][1].AddMember("nodesPerRacks", 0, w.cc.GetAllocator());
  };
  dc2_to_0();
  auto dc2_nodes = [&] {
    return js::get_int(w.cc["spec"]["topology"]["dc"][1], {"nodesPerRacks"}, -1);
  };
  auto progressing = [&] {
    for (const auto& c : w.cc["status"]["conditions"].GetArray())
      if (js::get_string(c, "type") == "Progressing")
        return std::string(js::get_string(c, "reason"));
    return std::string();
  };

  // The change is new: the ring known (asked in round 4) may predate it. Nothing is accepted
  // or refused, the caller is told to ask, and the user's 0 stays as written.
  const size_t logged = w.log.size();
  reconcile_plan p = w.pass();
  CHECK(p.needs_fresh_ring);
  CHECK(p.refusals.empty());
  CHECK(p.waiting.find("asking the ring") != std::string::npos);
  CHECK(dc2_nodes() == 0);
  CHECK(progressing() == "CheckingReplication");
  CHECK(js::get_string(w.cc, {"metadata", "annotations", last_applied_annotation}) == applied);
  for (size_t i = logged; i < w.log.size(); ++i)
    CHECK(w.log[i].find("StatefulSet") == std::string::npos);

  // Seen while round 4 was the last started: round 4's answer still does not decide.
  facts.dc_zero_seen = 4;
  p = w.pass();
  CHECK(p.needs_fresh_ring);
  CHECK(p.refusals.empty());

  // Round 5, asked after: it sees the ALTER. Refused and written back.
  facts.replication.asked = 5;
  facts.replication.replicated_dcs = {"dc1", "dc2"};
  p = w.pass();
  CHECK_FALSE(p.needs_fresh_ring);
  REQUIRE(p.refusals.size() == 1);
  CHECK(p.refusals[0].reason == refusal_reason::dc_still_replicated);
  CHECK(dc2_nodes() == -1);

  // A fresh ask that failed: refused as not checkable (never accepted on an old answer).
  facts.replication = {false, {}, 5, ""};
  dc2_to_0();
  p = w.pass();
  REQUIRE(p.refusals.size() == 1);
  CHECK(p.refusals[0].reason == refusal_reason::data_check_not_possible);

  // A fresh answer without dc2: accepted.
  facts.replication = {true, {"dc1"}, 5, ""};
  dc2_to_0();
  p = w.pass();
  CHECK_FALSE(p.needs_fresh_ring);
  CHECK(p.refusals.empty());
  CHECK(dc2_nodes() == 0);
  CHECK(js::get_string(w.cc, {"metadata", "annotations", last_applied_annotation}) != applied);
}

TEST_CASE("casskop reconcile: a pod crash-looping at another node's IP is deleted, uid first") {
  world w;
  w.cc["spec"].AddMember("restartCountBeforePodDeletion", 2, w.cc.GetAllocator());
  w.converge();
  node_facts facts;
  facts.host_ids.emplace();
  pod_state p;
  p.name = "cc-dc1-r1-0";
  p.uid = "uid-a";
  p.ip = "127.9.0.2";
  p.phase = "Running";
  p.ready = true;
  facts.pods[p.name] = p;
  (*facts.host_ids)["127.9.0.2"] = "host-a";
  w.nodes = &facts;
  reconcile_plan plan = w.pass();
  CHECK(js::get_string(w.cc, {"status", "cassandraNodeStatus", "cc-dc1-r1-0", "hostId"}) ==
        "host-a");

  // Made again at 127.9.0.7, which the ring holds for a down node: it crash-loops, not Ready.
  p.ip = "127.9.0.7";
  p.ready = false;
  p.restarts = 3;
  facts.pods[p.name] = p;
  (*facts.host_ids)["127.9.0.7"] = "host-b";
  w.events.clear();
  plan = w.pass();
  auto del = std::find_if(plan.writes.begin(), plan.writes.end(),
                          [](const object_write& x) { return x.kind == "Pod"; });
  REQUIRE(del != plan.writes.end());
  CHECK(del->what == object_write::verb::remove);
  CHECK(del->name == "cc-dc1-r1-0");
  CHECK(del->precondition_uid == "uid-a");
  REQUIRE(plan.events.size() == 1);
  CHECK(plan.events[0].warning);
  CHECK(plan.events[0].reason == "PodIPSwapped");
  CHECK(plan.events[0].message.find("host-b") != std::string::npos);
  // The status keeps the pod's own host id (a pod not Ready records nothing).
  CHECK(plan.status.nodes.at("cc-dc1-r1-0").host_id == "host-a");

  // At or below the count: nothing deleted.
  p.restarts = 2;
  facts.pods[p.name] = p;
  plan = w.pass();
  CHECK(std::none_of(plan.writes.begin(), plan.writes.end(),
                     [](const object_write& x) { return x.kind == "Pod"; }));
}

TEST_CASE("casskop reconcile: the node a decommission is sent to is labelled as v2.1.0 does") {
  world w;
  w.converge();
  node_facts facts;
  facts.host_ids.emplace();
  std::vector<observed_pod> pods;
  for (int i = 0; i < 2; ++i) {
    pod_state p;
    p.name = "cc-dc1-r1-" + std::to_string(i);
    p.uid = "uid-" + std::to_string(i);
    p.ip = "127.9.0." + std::to_string(i + 2);
    p.phase = "Running";
    p.ready = true;
    facts.pods[p.name] = p;
    (*facts.host_ids)[p.ip] = "host-" + p.uid;
    observed_pod o;
    o.name = p.name;
    o.dc_rack = "dc1-r1";
    o.pod_ip = p.ip;
    o.running = o.ready = true;
    pods.push_back(o);
  }
  facts.joining = false;
  w.nodes = &facts;
  pod_operations_input ops{
      pods, false, {}, {}, "casskop", "2026-12-05T10:00:00Z", "20261205T100000"};
  w.pod_ops = &ops;
  w.cc["spec"]["topology"]["dc"][0].AddMember("nodesPerRacks", 1, w.cc.GetAllocator());

  reconcile_plan plan = w.pass();  // ScaleDown of dc1-r1: the last pod's OperationMode is asked
  CHECK(plan.calls.empty());
  node_answer normal;
  normal.pod_uid = "uid-1";
  normal.value = "NORMAL";
  normal.at = "2026-12-05T10:00:00Z";
  facts.modes["cc-dc1-r1-1"] = normal;
  plan = w.pass();
  REQUIRE(plan.calls.size() == 1);
  CHECK(plan.calls[0].pod == "cc-dc1-r1-1");
  auto label = std::find_if(plan.writes.begin(), plan.writes.end(),
                            [](const object_write& x) { return x.kind == "Pod"; });
  REQUIRE(label != plan.writes.end());
  CHECK(label->what == object_write::verb::patch);
  CHECK(label->name == "cc-dc1-r1-1");
  CHECK(js::get_string(label->body, {"metadata", "labels", "operation-name"}) == "decommission");
  CHECK(js::get_string(label->body, {"metadata", "labels", "operation-status"}) == "Ongoing");
  CHECK(js::get_string(label->body, {"metadata", "labels", "operation-start"}) ==
        "20261205T100000");
  // Ongoing: nothing is sent or labelled again while the node works.
  plan = w.pass();
  CHECK(plan.calls.empty());
  CHECK(std::none_of(plan.writes.begin(), plan.writes.end(),
                     [](const object_write& x) { return x.kind == "Pod"; }));
}
