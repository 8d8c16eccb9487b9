// casskop's pod operations end to end: the real binary against kubesim --simulate-workloads
// --simulate-cassandra, whose pods answer Jolokia on their 127.x pod IPs. A user labels pods
// (operation-name, operation-status=ToDo, operation-argument) and reads the labels and the rack's
// podLastOperation, as CassKop v2.1.0's users do.
#include <doctest/doctest.h>

#include <thread>

#include "tests/e2e/e2e_setup.h"

namespace {

using namespace e2e;
using namespace std::chrono_literals;
using testsupport::eventually;

const std::string kCC = "cassandra-e2e";
const std::string kPods = "/api/v1/namespaces/" + kNs + "/pods";

// Probes fast, liveness never restarting a node a test took down.
const char* kFastProbes =
    R"("readinessInitialDelaySeconds":0,"readinessHealthCheckPeriod":1,
       "livenessInitialDelaySeconds":1,"livenessHealthCheckPeriod":1,
       "livenessFailureThreshold":100000)";

std::string cc_json(const std::string& topology, int nodes, const std::string& extra = "") {
  return fmt::format(
      R"({{"apiVersion":"db.orange.com/v2","kind":"CassandraCluster",
          "metadata":{{"name":"{}","namespace":"{}"}},
          "spec":{{"nodesPerRacks":{},"cassandraImage":"cassandra:3.11.10","dataCapacity":"1Gi",
                   "deletePVC":true,{}{},"topology":{{"dc":{}}}}}}})",
      kCC, kNs, nodes, kFastProbes, extra, topology);
}

const std::string kOneRack = R"([{"name":"dc1","rack":[{"name":"rack1"}]}])";
const std::string kTwoDCs =
    R"([{"name":"dc1","rack":[{"name":"rack1"}]},{"name":"dc2","rack":[{"name":"rack1"}]}])";

struct ops_world {
  testsupport::kubesim_instance sim{
      {"k1"}, {"--simulate-workloads", "--simulate-cassandra", "--pod-ready-delay-ms", "100"}};
  std::unique_ptr<api_client> api;
  std::string config_path;
  std::unique_ptr<operator_process> op;

  ops_world() {
    api.reset(new api_client(sim.client("k1")));
    config_path = prepare_casskop_cluster(sim, *api, cc_crd::ours);
  }

  void start(const std::string& cc) {
    auto r = api->request("POST", kCCs, cc);
    REQUIRE_MESSAGE(r.status == 201, r.body);
    op = std::make_unique<operator_process>(operator_process::binary{CASSKOP_BIN},
                                            std::vector<std::string>{"--config", config_path});
    REQUIRE_MESSAGE(eventually([&] { return done(); }, 90s), diagnose());
  }
  js::Document cc() {
    auto r = api->get(kCCs + "/" + kCC);
    REQUIRE_MESSAGE(r.status == 200, r.body);
    return r.json();
  }
  bool done() {
    auto c = cc();
    return js::get_string(c, {"status", "phase"}) == "Running" &&
           js::get_string(c, {"status", "lastClusterActionStatus"}) == "Done";
  }
  std::optional<js::Document> pod(const std::string& name) {
    auto r = api->get(kPods + "/" + name);
    if (r.status != 200) return std::nullopt;
    return r.json();
  }
  std::string label(const std::string& pod_name, const char* key) {
    auto p = pod(pod_name);
    return p ? std::string(js::get_string(*p, {"metadata", "labels", key})) : "(no pod)";
  }
  std::string pod_ip(const std::string& pod_name) {
    auto p = pod(pod_name);
    return p ? std::string(js::get_string(*p, {"status", "podIP"})) : "";
  }
  void label_pod(const std::string& pod_name, const std::string& op_name,
                 const std::string& argument = "") {
    std::string labels = R"("operation-name":")" + op_name + R"(","operation-status":"ToDo")";
    if (!argument.empty()) labels += R"(,"operation-argument":")" + argument + R"(")";
    auto r =
        api->request("PATCH", kPods + "/" + pod_name, R"({"metadata":{"labels":{)" + labels + "}}}",
                     "application/merge-patch+json");
    REQUIRE_MESSAGE(r.status == 200, r.body);
  }
  // status.cassandraRackStatus[dc_rack].podLastOperation
  js::Document last_op(const std::string& dc_rack) {
    auto c = cc();
    const js::Value* o =
        js::find_path(c, {"status", "cassandraRackStatus", dc_rack, "podLastOperation"});
    return o ? js::copy_of(*o) : js::parse("{}");
  }
  static std::vector<std::string> names(const js::Value& op, const char* key) {
    std::vector<std::string> out;
    if (const js::Value* a = js::find(op, key); a && a->IsArray())
      for (const auto& v : a->GetArray())
        if (v.IsString()) out.emplace_back(js::view(v));
    std::sort(out.begin(), out.end());
    return out;
  }
  bool has_event(const std::string& reason, const std::string& part) {
    auto d = api->get("/api/v1/namespaces/" + kNs + "/events").json();
    if (const js::Value* items = js::find(d, "items"); items && items->IsArray())
      for (const auto& e : items->GetArray())
        if (js::get_string(e, "reason") == reason &&
            js::get_string(e, "message").find(part) != std::string_view::npos)
          return true;
    return false;
  }
  std::string diagnose() {
    return "cc status: " + js::to_string(cc()["status"]) + "\ncasskop log:\n" +
           (op ? op->log() : "");
  }
  // The JVM of `pod_name` dies (liveness never restarts it here): DN in the ring. Its IP.
  std::string kill_node(const std::string& pod_name) {
    const std::string ip = pod_ip(pod_name);
    REQUIRE(!ip.empty());
    control("faults", "namespace=" + kNs + "&pod=" + pod_name + "&down=true");
    return ip;
  }
  bool pod_and_pvc_exist(const std::string& pod_name) {
    return pod(pod_name).has_value() &&
           api->get("/api/v1/namespaces/" + kNs + "/persistentvolumeclaims/data-" + pod_name)
                   .status == 200;
  }
  void control(const std::string& action, const std::string& query) {
    auto r = sim.control("k1", "cassandra/" + action, query);
    REQUIRE_MESSAGE(r.status == 200, r.body);
  }
};

const std::string kPod0 = "cassandra-e2e-dc1-rack1-0";
const std::string kPod1 = "cassandra-e2e-dc1-rack1-1";
const std::string kPod2 = "cassandra-e2e-dc1-rack1-2";

}  // namespace

TEST_CASE("casskop operations e2e: cleanup labelled on two pods ends Done on both, podsOK") {
  ops_world w;
  w.start(cc_json(kOneRack, 2));
  w.label_pod(kPod0, "cleanup");
  w.label_pod(kPod1, "cleanup");
  REQUIRE_MESSAGE(eventually(
                      [&] {
                        return w.label(kPod0, "operation-status") == "Done" &&
                               w.label(kPod1, "operation-status") == "Done" &&
                               js::get_string(w.last_op("dc1-rack1"), "status") == "Done";
                      },
                      60s),
                  w.diagnose());
  auto op = w.last_op("dc1-rack1");
  CHECK(js::get_string(op, "name") == "cleanup");
  CHECK(ops_world::names(op, "podsOK") == std::vector<std::string>{kPod0, kPod1});
  CHECK(ops_world::names(op, "podsKO").empty());
  CHECK(js::get_string(op, "startTime") != "");
  CHECK(js::get_string(op, "endTime") != "");
  // v2.1.0's label time format: 20261205T151239.
  CHECK(w.label(kPod0, "operation-end").size() == 15);
  CHECK(w.label(kPod0, "operation-start").size() == 15);
}

TEST_CASE("casskop operations e2e: upgradesstables ends Done") {
  ops_world w;
  w.start(cc_json(kOneRack, 1));
  w.label_pod(kPod0, "upgradesstables");
  REQUIRE_MESSAGE(eventually(
                      [&] {
                        return w.label(kPod0, "operation-status") == "Done" &&
                               js::get_string(w.last_op("dc1-rack1"), "status") == "Done";
                      },
                      60s),
                  w.diagnose());
  CHECK(js::get_string(w.last_op("dc1-rack1"), "name") == "upgradesstables");
}

TEST_CASE(
    "casskop operations e2e: rebuild from dc1 on a dc2 pod, and from a DC that does not "
    "exist: Error with the reason") {
  ops_world w;
  w.start(cc_json(kTwoDCs, 1));
  const std::string dc2_pod = "cassandra-e2e-dc2-rack1-0";
  w.label_pod(dc2_pod, "rebuild", "dc1");
  REQUIRE_MESSAGE(eventually(
                      [&] {
                        return w.label(dc2_pod, "operation-status") == "Done" &&
                               js::get_string(w.last_op("dc2-rack1"), "status") == "Done";
                      },
                      60s),
                  w.diagnose());
  CHECK(ops_world::names(w.last_op("dc2-rack1"), "podsOK") == std::vector<std::string>{dc2_pod});

  w.label_pod(dc2_pod, "rebuild", "dc9");
  // The label is patched before the status is written: wait for both.
  CHECK_MESSAGE(eventually(
                    [&] {
                      return w.label(dc2_pod, "operation-status") == "Error" &&
                             ops_world::names(w.last_op("dc2-rack1"), "podsKO") ==
                                 std::vector<std::string>{dc2_pod};
                    },
                    60s),
                w.diagnose());
  CHECK(w.has_event("PodOperationFailed", "dc9 has no keyspace to replicate data from"));
}

TEST_CASE("casskop operations e2e: an unknown operation-name is labelled Error with an Event") {
  ops_world w;
  w.start(cc_json(kOneRack, 1));
  w.label_pod(kPod0, "compact");
  REQUIRE_MESSAGE(eventually([&] { return w.label(kPod0, "operation-status") == "Error"; }, 30s),
                  w.diagnose());
  CHECK(w.has_event("PodOperationUnknown", "'compact'"));
}

TEST_CASE("casskop operations e2e: remove of a dead node: removeNode, its PVC and pod deleted") {
  ops_world w;
  w.start(cc_json(kOneRack, 3));
  const std::string dead_ip = w.kill_node(kPod2);
  w.label_pod(kPod0, "remove", kPod2 + "_" + dead_ip);
  REQUIRE_MESSAGE(eventually(
                      [&] {
                        return w.label(kPod0, "operation-status") == "Done" &&
                               js::get_string(w.last_op("dc1-rack1"), "status") == "Done";
                      },
                      90s),
                  w.diagnose());
  CHECK(js::get_string(w.last_op("dc1-rack1"), "name") == "remove");
  CHECK(ops_world::names(w.last_op("dc1-rack1"), "podsOK") == std::vector<std::string>{kPod0});
  // The StatefulSet makes pod 2 again with a new PVC: a new node, the old IP out of the ring.
  REQUIRE_MESSAGE(eventually(
                      [&] {
                        auto r = w.sim.control("k1", "cassandra/nodetool-status",
                                               "namespace=" + kNs + "&pod=" + kPod0);
                        return r.status == 200 && r.body.find(dead_ip) == std::string::npos;
                      },
                      90s),
                  w.diagnose());
}

TEST_CASE("casskop operations e2e: a removeNode the node refuses ends Error with its message") {
  ops_world w;
  w.start(cc_json(kOneRack, 3));
  const std::string dead_ip = w.kill_node(kPod2);
  // The labelled node (the removeNode's coordinator) refuses it.
  w.control("faults",
            "namespace=" + kNs + "&pod=" + kPod0 + "&removeNodeRefused=not%20from%20here");
  w.label_pod(kPod0, "remove", kPod2 + "_" + dead_ip);
  REQUIRE_MESSAGE(eventually(
                      [&] {
                        return w.label(kPod0, "operation-status") == "Error" &&
                               js::get_string(w.last_op("dc1-rack1"), "status") == "Done";
                      },
                      60s),
                  w.diagnose());
  CHECK(ops_world::names(w.last_op("dc1-rack1"), "podsKO") == std::vector<std::string>{kPod0});
  CHECK_MESSAGE(w.has_event("PodOperationFailed", "not from here"), w.diagnose());
  CHECK(w.op->log().find("not from here") != std::string::npos);
  // Nothing of the dead node was deleted: its pod and PVC are still there.
  CHECK(w.pod_and_pvc_exist(kPod2));
}

TEST_CASE(
    "casskop operations e2e: a removeNode that never answers is watched, Ongoing, nothing "
    "deleted") {
  ops_world w;
  testsupport::write_file(w.config_path,
                          read_file(w.config_path) + "jolokia:\n  execTimeoutSeconds: 1\n");
  w.start(cc_json(kOneRack, 3));
  const std::string dead_ip = w.kill_node(kPod2);
  // The coordinator streams forever: the EXEC never answers, the node stays in LeavingNodes.
  w.control("faults", "namespace=" + kNs + "&pod=" + kPod0 + "&removeNodeHang=true");
  w.label_pod(kPod0, "remove", kPod2 + "_" + dead_ip);
  REQUIRE_MESSAGE(eventually(
                      [&] {
                        return w.op->log().find("removeNode outlived jolokia.execTimeoutSeconds") !=
                               std::string::npos;
                      },
                      60s),
                  w.diagnose());
  // Not failed at the limit: the node says the removal goes on, so it is Ongoing.
  CHECK(w.label(kPod0, "operation-status") == "Ongoing");
  CHECK(js::get_string(w.last_op("dc1-rack1"), "status") == "Ongoing");
  CHECK(w.op->log().find("LeavingNodes") != std::string::npos);
  // Nothing of the dead node is deleted while the ring still holds it.
  CHECK(w.pod_and_pvc_exist(kPod2));
}

TEST_CASE("casskop operations e2e: casskop killed during a cleanup resumes it and ends Done") {
  ops_world w;
  w.start(cc_json(kOneRack, 1));
  // A slow cleanup: long enough to kill casskop in the middle.
  w.control("speeds", "cleanupPerKeyspaceMs=4000");
  w.label_pod(kPod0, "cleanup");
  REQUIRE_MESSAGE(eventually([&] { return w.label(kPod0, "operation-status") == "Ongoing"; }, 30s),
                  w.diagnose());
  w.op->kill9();
  std::this_thread::sleep_for(300ms);
  w.op->start();
  REQUIRE_MESSAGE(eventually(
                      [&] {
                        return w.label(kPod0, "operation-status") == "Done" &&
                               js::get_string(w.last_op("dc1-rack1"), "status") == "Done";
                      },
                      90s),
                  w.diagnose());
  CHECK(ops_world::names(w.last_op("dc1-rack1"), "podsOK") == std::vector<std::string>{kPod0});
  CHECK(w.op->current_log().find("Resuming a pod operation") != std::string::npos);
}

TEST_CASE(
    "casskop operations e2e: Jolokia refusing casskop (401) ends the operation Error with "
    "the reason, casskop keeps running") {
  ops_world w;
  // The nodes take their Jolokia credentials from the Secret when they start; the Secret then
  // changes, so casskop's credentials are refused while the nodes' own probes still pass.
  auto secret = [&](const char* verb, const std::string& path, const char* password) {
    auto r = w.api->request(
        verb, path,
        fmt::format(R"({{"apiVersion":"v1","kind":"Secret",
      "metadata":{{"name":"jolokia-auth","namespace":"{}"}},
      "stringData":{{"username":"casskop","password":"{}"}}}})",
                    kNs, password),
        std::string(verb) == "PATCH" ? "application/merge-patch+json" : "application/json");
    REQUIRE_MESSAGE(r.status / 100 == 2, r.body);
  };
  const std::string secrets = "/api/v1/namespaces/" + kNs + "/secrets";
  secret("POST", secrets, "right");
  w.start(cc_json(kOneRack, 1, R"(,"imageJolokiaSecret":{"name":"jolokia-auth"})"));
  secret("PATCH", secrets + "/jolokia-auth", "wrong");
  w.label_pod(kPod0, "cleanup");
  // The label is patched before the status is written: wait for both.
  CHECK_MESSAGE(eventually(
                    [&] {
                      return w.label(kPod0, "operation-status") == "Error" &&
                             ops_world::names(w.last_op("dc1-rack1"), "podsKO") ==
                                 std::vector<std::string>{kPod0};
                    },
                    60s),
                w.diagnose());
  CHECK(w.has_event("PodOperationFailed", "401"));
  CHECK(w.op->running());
}

TEST_CASE(
    "casskop operations e2e: after a ScaleUp with autoPilot, every pod of the rack is "
    "cleaned up (ToDo, then Done), and without autoPilot the labels say Manual") {
  ops_world w;
  w.start(cc_json(kOneRack, 1, R"(,"autoPilot":true)"));
  auto r = w.api->request("PATCH", kCCs + "/" + kCC, R"({"spec":{"nodesPerRacks":2}})",
                          "application/merge-patch+json");
  REQUIRE_MESSAGE(r.status == 200, r.body);
  REQUIRE_MESSAGE(eventually(
                      [&] {
                        return w.label(kPod0, "operation-status") == "Done" &&
                               w.label(kPod1, "operation-status") == "Done" &&
                               js::get_string(w.last_op("dc1-rack1"), "status") == "Done";
                      },
                      90s),
                  w.diagnose());
  CHECK(w.label(kPod0, "operation-name") == "cleanup");
  CHECK(ops_world::names(w.last_op("dc1-rack1"), "podsOK") ==
        std::vector<std::string>{kPod0, kPod1});

  // autoPilot off: the next ScaleUp labels Manual and nothing runs.
  r = w.api->request("PATCH", kCCs + "/" + kCC, R"({"spec":{"autoPilot":false,"nodesPerRacks":3}})",
                     "application/merge-patch+json");
  REQUIRE_MESSAGE(r.status == 200, r.body);
  REQUIRE_MESSAGE(eventually([&] { return w.label(kPod2, "operation-status") == "Manual"; }, 90s),
                  w.diagnose());
  CHECK(w.label(kPod0, "operation-status") == "Manual");
  CHECK(w.label(kPod2, "operation-name") == "cleanup");
}
