// Scale down by decommission in the rack sequencer (rack_sequencer.h, v2.1.0 pod_operation.go
// ensureDecommission): one node at a time, highest ordinal first, the StatefulSet shrunk only
// after the node answered DECOMMISSIONED, then its pod gone, then its PVC; and the scale up's
// JoiningNodes gate. The node answers are written by hand (node_facts), one pass at a time.
#include <doctest/doctest.h>

#include "actors/casskop/logic/rack_sequencer.h"
#include "k8s/json/json.h"

namespace {
using namespace casskop;
namespace js = k8s::json;

const char* const rack = "dc1-rack1";
const char* const sts = "cc-dc1-rack1";

struct world {
  parsed_cluster cc;
  std::map<std::string, observed_statefulset> statefulsets;
  node_facts facts;
  std::string now = "2026-12-05T10:00:00Z";

  explicit world(int nodes, int replicas, const std::string& version = "3.11.9") {
    const js::Document d = js::parse(
        R"({"apiVersion":"db.orange.com/v2","kind":"CassandraCluster",)"
        R"("metadata":{"name":"cc","namespace":"ns","uid":"u1"},"spec":{"nodesPerRacks":)" +
        std::to_string(nodes) + R"(,"serverVersion":")" + version +
        R"(","topology":{"dc":[{"name":"dc1","rack":[{"name":"rack1"}]}]}}})");
    cc = parse_cluster(d);
    REQUIRE(cc.problems.empty());
    cc.status.phase = phase::running;
    cc.status.last_cluster_action = action::initializing;
    cc.status.last_cluster_action_status = status::done;
    rack_status rs;
    rs.phase = phase::running;
    rs.cassandra_last_action = {action::initializing, status::done, "", "", {}};
    cc.status.racks[rack] = rs;
    set_replicas(replicas);
    for (int i = 0; i < replicas; ++i) add_pod(i);
    facts.decommission_resend_ms = 60'000;
  }
  void set_replicas(int n) {
    observed_statefulset o;
    o.generation = o.observed_generation = n + 10;
    o.spec_replicas = o.replicas = o.ready_replicas = o.updated_replicas = n;
    o.current_revision = o.update_revision = "r1";
    statefulsets[rack] = o;
  }
  void add_pod(int i, const std::string& uid_suffix = "") {
    pod_state p;
    p.name = std::string(sts) + "-" + std::to_string(i);
    p.uid = "uid-" + std::to_string(i) + uid_suffix;
    p.ip = "127.9.0." + std::to_string(i + 2);
    p.phase = "Running";
    p.ready = true;
    facts.pods[p.name] = p;
    if (!facts.host_ids) facts.host_ids.emplace();
    (*facts.host_ids)[p.ip] = "host-" + p.uid;
    facts.pvc_uids["data-" + p.name] = "pvc-" + p.uid;
  }
  void mode(const std::string& pod, const std::string& value, jolokia::failure f = {}) {
    node_answer a;
    a.pod_uid = facts.pods.at(pod).uid;
    a.value = value;
    a.error.kind = f;
    a.at = now;
    facts.modes[pod] = a;
  }
  sequence_result pass(bool with_facts = true) {
    sequence_input in{cc,
                      statefulsets,
                      {},
                      now,
                      false,
                      [](const statefulset_intent&) { return false; },
                      with_facts ? &facts : nullptr};
    sequence_result r = sequence(in);
    cc.status = r.status;  // the status write succeeds
    return r;
  }
  const rack_status& rs() { return cc.status.racks.at(rack); }
};

}  // namespace

TEST_CASE("casskop decommission: nothing known of the nodes, no scale down starts") {
  world w(1, 3);
  auto r = w.pass(false);
  CHECK_FALSE(r.write);
  CHECK(w.rs().cassandra_last_action.name != action::scale_down);
}

TEST_CASE("casskop decommission: 3 -> 1, node by node, never shrunk before DECOMMISSIONED") {
  world w(1, 3);
  const std::string pod2 = std::string(sts) + "-2", pod1 = std::string(sts) + "-1";

  // Detected: ScaleDown, the highest ordinal targeted; its mode is asked first.
  auto r = w.pass();
  CHECK(w.rs().cassandra_last_action.name == action::scale_down);
  CHECK(w.rs().pod_last_op.name == "decommission");
  CHECK(w.rs().pod_last_op.status == status::to_do);
  CHECK(w.rs().pod_last_op.pods == std::vector<std::string>{pod2});
  CHECK(r.calls.empty());
  CHECK_FALSE(r.write);
  CHECK(r.nodes_busy);
  CHECK(w.cc.status.last_cluster_action == action::scale_down);

  // NORMAL: decommission sent (3.x: no argument), to the pod's IP.
  w.mode(pod2, "NORMAL");
  r = w.pass();
  REQUIRE(r.calls.size() == 1);
  CHECK(r.calls[0].pod == pod2);
  CHECK(r.calls[0].ip == "127.9.0.4");
  CHECK(r.calls[0].request.name == "decommission");
  CHECK(r.calls[0].request.arguments == "[]");
  CHECK(w.rs().pod_last_op.status == status::ongoing);
  CHECK(w.rs().pod_last_op.start_time == w.now);
  CHECK_FALSE(r.write);

  // Still NORMAL (an answer from before the send is not taken): waits, no shrink.
  w.now = "2026-12-05T10:00:20Z";
  w.mode(pod2, "NORMAL");
  r = w.pass();
  CHECK(r.calls.empty());
  CHECK_FALSE(r.write);
  CHECK(r.node_problem == node_reason::decommission_stuck);

  // Still NORMAL past the resend delay: sent again.
  w.now = "2026-12-05T10:01:01Z";
  w.mode(pod2, "NORMAL");
  r = w.pass();
  REQUIRE(r.calls.size() == 1);
  CHECK_FALSE(r.write);
  CHECK(w.rs().pod_last_op.start_time == w.now);

  // LEAVING, then the node unreachable: waits, never shrinks.
  w.now = "2026-12-05T10:01:05Z";
  w.mode(pod2, "LEAVING");
  r = w.pass();
  CHECK_FALSE(r.write);
  CHECK(r.calls.empty());
  w.mode(pod2, "", jolokia::failure::timeout);
  r = w.pass();
  CHECK_FALSE(r.write);
  CHECK(r.node_problem == node_reason::jolokia_unreachable);
  CHECK(r.waiting.find("not shrunk") != std::string::npos);

  // DECOMMISSIONED: Finalizing and one replica less.
  w.mode(pod2, "DECOMMISSIONED");
  r = w.pass();
  REQUIRE(r.write);
  CHECK(r.write->replicas == 2);
  CHECK(w.rs().pod_last_op.status == status::finalizing);

  // The StatefulSet shrank; the pod is still there: wait. Then gone: its PVC deleted.
  w.set_replicas(2);
  r = w.pass();
  CHECK_FALSE(r.write);
  CHECK(r.delete_pvcs.empty());
  w.facts.pods.erase(pod2);
  r = w.pass();
  REQUIRE(r.delete_pvcs.size() == 1);
  CHECK(r.delete_pvcs[0] == std::pair<std::string, std::string>{"data-" + pod2, "pvc-uid-2"});
  CHECK(w.rs().pod_last_op.status == status::finalizing);
  w.facts.pvc_uids.erase("data-" + pod2);

  // PVC gone: this decommission is Done, and the next node is targeted.
  r = w.pass();
  CHECK(w.rs().pod_last_op.pods_ok == std::vector<std::string>{pod2});
  r = w.pass();
  CHECK(w.rs().pod_last_op.status == status::to_do);
  CHECK(w.rs().pod_last_op.pods == std::vector<std::string>{pod1});
  CHECK(w.rs().cassandra_last_action.status == status::ongoing);

  w.mode(pod1, "DECOMMISSIONED");  // already left: followed, not sent
  r = w.pass();
  CHECK(r.calls.empty());
  CHECK(w.rs().pod_last_op.status == status::ongoing);
  r = w.pass();
  REQUIRE(r.write);
  CHECK(r.write->replicas == 1);
  w.set_replicas(1);
  w.facts.pods.erase(pod1);
  w.facts.pvc_uids.erase("data-" + pod1);
  r = w.pass();
  CHECK(w.rs().pod_last_op.status == status::done);
  CHECK(w.rs().cassandra_last_action.status == status::done);
  CHECK(w.cc.status.last_cluster_action_status == status::done);
  r = w.pass();
  CHECK_FALSE(r.write);
  CHECK(r.calls.empty());
}

TEST_CASE("casskop decommission: Cassandra 4 gets decommission(true)") {
  world w(1, 2, "4.0.1");
  w.pass();
  w.mode(std::string(sts) + "-1", "NORMAL");
  auto r = w.pass();
  REQUIRE(r.calls.size() == 1);
  CHECK(r.calls[0].request.arguments == "[true]");
}

TEST_CASE("casskop decommission: an answer of an earlier pod of the same name is not taken") {
  world w(1, 2);
  const std::string pod1 = std::string(sts) + "-1";
  w.mode(pod1, "DECOMMISSIONED");  // the answer of a pod since replaced
  w.add_pod(1, "-new");
  auto r = w.pass();
  r = w.pass();
  CHECK_FALSE(r.write);
  CHECK(r.calls.empty());
  CHECK(w.rs().pod_last_op.status == status::to_do);
}

TEST_CASE("casskop decommission: a refused decommission is said, and sent again later") {
  world w(1, 2);
  const std::string pod1 = std::string(sts) + "-1";
  w.pass();
  w.mode(pod1, "NORMAL");
  w.pass();
  node_answer refused;
  refused.pod_uid = w.facts.pods.at(pod1).uid;
  refused.error.kind = jolokia::failure::jolokia_error;
  refused.error.message = "java.lang.UnsupportedOperationException: no other normal nodes";
  refused.at = w.now;
  w.facts.decommission_answers[pod1] = refused;
  auto r = w.pass();
  CHECK(r.node_problem == node_reason::decommission_refused);
  CHECK(r.waiting.find("no other normal nodes") != std::string::npos);
  CHECK_FALSE(r.write);
}

TEST_CASE("casskop decommission: an unschedulable pod is removed without decommission") {
  world w(1, 2);
  w.facts.pods[std::string(sts) + "-1"].phase = "Pending";
  w.facts.pods[std::string(sts) + "-1"].unschedulable = true;
  auto r = w.pass();
  CHECK(r.calls.empty());
  REQUIRE(r.write);
  CHECK(r.write->replicas == 1);
}

TEST_CASE("casskop scale up: a Ready pod not in HostIdMap yet is still to join: waits") {
  world w(3, 1);
  w.facts.joining = false;
  w.add_pod(1);
  w.facts.host_ids->erase("127.9.0.3");
  sequence_input in{w.cc,    w.statefulsets, {},
                    w.now,   false,          [](const statefulset_intent&) { return true; },
                    &w.facts};
  auto r = sequence(in);
  CHECK_FALSE(r.write);
  CHECK(r.waiting.find("not in the ring yet") != std::string::npos);
}

TEST_CASE("casskop scale up: waits while a node joins, or while nobody could say") {
  world w(3, 1);
  auto r = w.pass();  // joining unknown
  CHECK_FALSE(r.write);
  CHECK(w.rs().cassandra_last_action.name == action::scale_up);
  CHECK(w.rs().cassandra_last_action.status == status::to_do);
  w.facts.joining = true;
  r = w.pass();
  CHECK_FALSE(r.write);
  CHECK(r.node_problem.empty());  // progress, not a fault: Degraded stays False
  CHECK(r.waiting.find("a node is joining the ring") != std::string::npos);
  w.facts.joining.reset();
  w.facts.joining_error.kind = jolokia::failure::unauthorized;
  r = w.pass();
  CHECK_FALSE(r.write);
  CHECK(r.node_problem == node_reason::jolokia_unauthorized);
  w.facts.joining = false;
  w.facts.joining_error = {};
  sequence_input in{w.cc,    w.statefulsets, {},
                    w.now,   false,          [](const statefulset_intent&) { return true; },
                    &w.facts};
  r = sequence(in);
  REQUIRE(r.write);
  CHECK(r.write->replicas == 2);
}

TEST_CASE("casskop decommission: v2.1.0 TestOneDecommission, 3 -> 2") {
  // decommission_test.go:83: NORMAL -> decommission, 3 replicas; LEAVING -> 3; DECOMMISSIONED
  // -> 2; the pod gone -> Done, and pod 1 never asked anything.
  world w(2, 3);
  const std::string last = std::string(sts) + "-2";
  w.pass();
  w.mode(last, "NORMAL");
  auto r = w.pass();
  CHECK(r.calls.size() == 1);
  CHECK_FALSE(r.write);
  w.mode(last, "LEAVING");
  r = w.pass();
  CHECK_FALSE(r.write);
  w.mode(last, "DECOMMISSIONED");
  r = w.pass();
  REQUIRE(r.write);
  CHECK(r.write->replicas == 2);
  w.set_replicas(2);
  w.facts.pods.erase(last);
  w.facts.pvc_uids.erase("data-" + last);
  r = w.pass();
  CHECK(r.calls.empty());
  CHECK(w.rs().pod_last_op.status == status::done);
  r = w.pass();
  CHECK(r.calls.empty());
  CHECK_FALSE(r.write);
  CHECK(w.rs().pod_last_op.pods_ok == std::vector<std::string>{last});
}

TEST_CASE("casskop scale up: v2.1.0 TestAddTwoNodes, 3 -> 5 one node at a time, never joining") {
  world w(5, 3);
  for (int expected = 3; expected <= 4; ++expected) {
    w.facts.joining = true;  // registerJolokiaOperationJoiningNodes(firstPod, 1)
    for (int i = 0; i <= 2; ++i) {
      sequence_input in{w.cc,    w.statefulsets, {},
                        w.now,   false,          [](const statefulset_intent&) { return true; },
                        &w.facts};
      auto r = sequence(in);
      w.cc.status = r.status;
      CHECK_FALSE(r.write);
    }
    w.facts.joining = false;
    sequence_input in{w.cc,    w.statefulsets, {},
                      w.now,   false,          [](const statefulset_intent&) { return true; },
                      &w.facts};
    auto r = sequence(in);
    w.cc.status = r.status;
    REQUIRE(r.write);
    CHECK(r.write->replicas == expected + 1);
    w.set_replicas(expected + 1);
    w.add_pod(expected);
  }
}
