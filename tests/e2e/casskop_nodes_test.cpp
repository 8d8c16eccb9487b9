// casskop talking to Cassandra nodes over Jolokia, end to end: the real binary against kubesim
// --simulate-workloads --simulate-cassandra (pods with a 127.x IP and a simulated Jolokia agent,
// one ring per cluster, node speeds 0). Scale up and down by decommission, host ids in the
// status, and the node faults casskop must survive without ever shrinking a StatefulSet early.
#include <doctest/doctest.h>

#include <thread>

#include "tests/e2e/e2e_setup.h"

namespace {

using namespace e2e;
using namespace std::chrono_literals;
using testsupport::eventually;

const std::string kCC = "cassandra-e2e";
const std::string kSts = "/apis/apps/v1/namespaces/" + kNs + "/statefulsets";
const std::string kRack = kCC + "-dc1-rack1";

// `liveness`: the spec's liveness members, each followed by a comma; `extra_spec` likewise.
std::string cc_json(int nodes, const std::string& extra_spec = "",
                    const std::string& liveness = R"("livenessInitialDelaySeconds":60,)") {
  // Probes of a second, so a pod is Ready as soon as its node answers.
  return fmt::format(
      R"({{"apiVersion":"db.orange.com/v2","kind":"CassandraCluster","metadata":{{"name":"{}","namespace":"{}"}},
          "spec":{{{}{}"nodesPerRacks":{},"cassandraImage":"cassandra:3.11.10","dataCapacity":"1Gi",
                   "readinessInitialDelaySeconds":1,"readinessHealthCheckPeriod":1,
                   "readinessHealthCheckTimeout":1,
                   "topology":{{"dc":[{{"name":"dc1","rack":[{{"name":"rack1"}}]}}]}}}}}})",
      kCC, kNs, extra_spec, liveness, nodes);
}

struct nodes_world {
  testsupport::kubesim_instance sim;
  std::unique_ptr<api_client> api;
  std::string config_path;
  std::unique_ptr<operator_process> op;

  nodes_world()
      : sim({"k1"},
            {"--simulate-workloads", "--simulate-cassandra", "--pod-ready-delay-ms", "100"}) {
    api.reset(new api_client(sim.client("k1")));
    config_path = prepare_casskop_cluster(sim, *api, cc_crd::ours, R"(jolokia:
  timeoutSeconds: 2
  restPollSeconds: 1
  busyPollSeconds: 1
  decommissionResendSeconds: 3
)");
    op = std::make_unique<operator_process>(operator_process::binary{CASSKOP_BIN},
                                            std::vector<std::string>{"--config", config_path});
  }

  js::Document cc() {
    auto r = api->get(kCCs + "/" + kCC);
    REQUIRE_MESSAGE(r.status == 200, r.body);
    return r.json();
  }
  void patch_nodes(int n) {
    auto r = api->request("PATCH", kCCs + "/" + kCC,
                          R"({"spec":{"nodesPerRacks":)" + std::to_string(n) + "}}",
                          "application/merge-patch+json");
    REQUIRE_MESSAGE(r.status == 200, r.body);
  }
  int64_t replicas() {
    auto r = api->get(kSts + "/" + kRack);
    return r.status == 200 ? js::get_int(r.json(), {"spec", "replicas"}, -1) : -1;
  }
  bool action_done(const std::string& action) {
    auto c = cc();
    return js::get_string(c, {"status", "phase"}) == "Running" &&
           js::get_string(c, {"status", "lastClusterActionStatus"}) == "Done" &&
           js::get_string(c, {"status", "cassandraRackStatus", "dc1-rack1", "cassandraLastAction",
                              "name"}) == action;
  }
  bool pvc_exists(const std::string& pod) {
    return api->get("/api/v1/namespaces/" + kNs + "/persistentvolumeclaims/data-" + pod).status ==
           200;
  }
  js::Document nodes() {
    auto r = sim.control("k1", "cassandra/pods", "namespace=" + kNs);
    REQUIRE_MESSAGE(r.status == 200, r.body);
    return r.json();
  }
  std::string nodetool(const std::string& pod) {
    return sim.control("k1", "cassandra/nodetool-status", "namespace=" + kNs + "&pod=" + pod).body;
  }
  js::Document fault(const std::string& pod, const std::string& query) {
    auto r =
        sim.control("k1", "cassandra/faults", "namespace=" + kNs + "&pod=" + pod + "&" + query);
    REQUIRE_MESSAGE(r.status == 200, r.body);
    return r.json();
  }
  std::string condition(const std::string& type, const char* field) {
    auto c = cc();
    if (const js::Value* cs = js::find_path(c, {"status", "conditions"}); cs && cs->IsArray())
      for (const auto& x : cs->GetArray())
        if (js::get_string(x, "type") == type) return std::string(js::get_string(x, field));
    return "";
  }
  bool has_warning(const std::string& reason) {
    auto d = api->get("/api/v1/namespaces/" + kNs + "/events").json();
    if (const js::Value* items = js::find(d, "items"); items && items->IsArray())
      for (const auto& e : items->GetArray())
        if (js::get_string(e, "reason") == reason && js::get_string(e, "type") == "Warning")
          return true;
    return false;
  }
  std::string cc_waiting() { return condition("Progressing", "message"); }
  std::string diagnose() {
    return "cc: " + js::to_string(cc()["status"]) + "\nnodes: " + js::to_string(nodes()) +
           "\ncasskop log:\n" + op->log();
  }
  // A cluster of `n` nodes, Running, with every pod's host id in its status.
  void create(int n, const std::string& extra_spec = "",
              const std::string& liveness = R"("livenessInitialDelaySeconds":60,)") {
    auto r = api->request("POST", kCCs, cc_json(n, extra_spec, liveness));
    REQUIRE_MESSAGE(r.status == 201, r.body);
    REQUIRE_MESSAGE(eventually([&] { return action_done("Initializing") && host_ids() == n; }, 60s),
                    diagnose());
  }
  // dc1 and dc2, one node each, Running, both host ids in the status.
  void create_two_dcs() {
    auto body = js::parse(cc_json(1));
    const js::Document topology = js::parse(
        R"({"dc":[{"name":"dc1","rack":[{"name":"rack1"}]},{"name":"dc2","rack":[{"name":"rack1"}]}]})");
    body["spec"]["topology"].CopyFrom(topology, body.GetAllocator());
    auto created = api->request("POST", kCCs, js::to_string(body));
    REQUIRE_MESSAGE(created.status == 201, created.body);
    REQUIRE_MESSAGE(eventually([&] { return action_done("Initializing") && host_ids() == 2; }, 60s),
                    diagnose());
  }
  int host_ids() {
    auto c = cc();
    const js::Value* ns = js::find_path(c, {"status", "cassandraNodeStatus"});
    if (!ns || !ns->IsObject()) return 0;
    int n = 0;
    for (const auto& m : ns->GetObject())
      if (!js::get_string(m.value, "hostId").empty() && !js::get_string(m.value, "nodeIp").empty())
        ++n;
    return n;
  }
  void scale_up(int to) {
    patch_nodes(to);
    REQUIRE_MESSAGE(eventually([&] { return action_done("ScaleUp") && replicas() == to; }, 60s),
                    diagnose());
  }
};

std::string pod(int i) {
  return kRack + "-" + std::to_string(i);
}

}  // namespace

TEST_CASE("casskop nodes: scale 1 -> 3 -> 1 by decommission, PVCs gone, ring without them") {
  nodes_world w;
  w.create(1);
  w.scale_up(3);
  REQUIRE_MESSAGE(eventually([&] { return w.host_ids() == 3; }, 20s), w.diagnose());
  // The host ids in the status are the nodes' own.
  {
    auto c = w.cc();
    auto nodes = w.nodes();
    for (const auto& n : nodes.GetArray()) {
      std::string p(js::get_string(n, "pod"));
      CHECK(js::get_string(c, {"status", "cassandraNodeStatus", p, "hostId"}) ==
            js::get_string(n, "hostId"));
      CHECK(js::get_string(c, {"status", "cassandraNodeStatus", p, "nodeIp"}) ==
            js::get_string(n, "ip"));
    }
  }

  w.patch_nodes(1);
  REQUIRE_MESSAGE(eventually([&] { return w.action_done("ScaleDown") && w.replicas() == 1; }, 90s),
                  w.diagnose());
  REQUIRE_MESSAGE(eventually([&] { return !w.pvc_exists(pod(1)) && !w.pvc_exists(pod(2)); }, 20s),
                  w.diagnose());
  CHECK(w.pvc_exists(pod(0)));
  auto c = w.cc();
  CHECK(js::get_string(c, {"status", "cassandraRackStatus", "dc1-rack1", "podLastOperation",
                           "name"}) == "decommission");
  CHECK(js::get_string(c, {"status", "cassandraRackStatus", "dc1-rack1", "podLastOperation",
                           "status"}) == "Done");
  CHECK(strings_at(c, {"status", "cassandraRackStatus", "dc1-rack1", "podLastOperation",
                       "podsOK"}) == std::vector<std::string>{pod(1)});
  // The ring seen from the node left: itself only, Up and Normal.
  const std::string ring = w.nodetool(pod(0));
  CHECK_MESSAGE(ring.find("UN ") != std::string::npos, ring);
  int lines = 0;
  for (size_t at = ring.find("\nU"); at != std::string::npos; at = ring.find("\nU", at + 1))
    ++lines;
  for (size_t at = ring.find("\nD"); at != std::string::npos; at = ring.find("\nD", at + 1))
    ++lines;
  CHECK_MESSAGE(lines == 1, ring);
  REQUIRE_MESSAGE(eventually([&] { return w.host_ids() == 1; }, 10s), w.diagnose());
  // Decommission events were recorded by casskop (its log names them).
  CHECK(w.op->log().find("Sending to node") != std::string::npos);
}

TEST_CASE("casskop nodes: a decommission stuck LEAVING never shrinks the StatefulSet") {
  nodes_world w;
  w.create(1);
  w.scale_up(2);
  w.fault(pod(1), "decommissionStuck=true");
  w.patch_nodes(1);
  // The node leaves and stays LEAVING; casskop follows it and waits.
  REQUIRE_MESSAGE(eventually(
                      [&] {
                        const js::Document all = w.nodes();
                        for (const auto& n : all.GetArray())
                          if (js::get_string(n, "pod") == pod(1))
                            return js::get_string(n, "mode") == "LEAVING";
                        return false;
                      },
                      30s),
                  w.diagnose());
  REQUIRE_MESSAGE(eventually(
                      [&] {
                        return w.condition("Progressing", "message").find("LEAVING") !=
                               std::string::npos;
                      },
                      20s),
                  w.diagnose());
  // The node is labelled as v2.1.0 labels it (kubectl get pods -L operation-name shows it).
  auto labelled = w.api->get("/api/v1/namespaces/" + kNs + "/pods/" + pod(1));
  REQUIRE(labelled.status == 200);
  const js::Document p = labelled.json();
  CHECK(js::get_string(p, {"metadata", "labels", "operation-name"}) == "decommission");
  CHECK(js::get_string(p, {"metadata", "labels", "operation-status"}) == "Ongoing");
  CHECK(js::get_string(p, {"metadata", "labels", "operation-start"}).size() == 15);
  // Several polls later (1 s each), still two replicas and the PVC there.
  for (int i = 0; i < 4; ++i) {
    std::this_thread::sleep_for(1s);
    CHECK(w.replicas() == 2);
  }
  CHECK(w.pvc_exists(pod(1)));
  // Released: the decommission ends, then the StatefulSet shrinks.
  w.fault(pod(1), "decommissionStuck=false");
  REQUIRE_MESSAGE(eventually([&] { return w.action_done("ScaleDown") && w.replicas() == 1; }, 60s),
                  w.diagnose());
}

TEST_CASE("casskop nodes: a node whose StorageService MBean is missing is never shrunk, said") {
  nodes_world w;
  w.create(1);
  w.scale_up(2);
  // As early in STARTING: every call answers 404 InstanceNotFoundException.
  w.fault(pod(1), "mbeanMissing=true");
  w.patch_nodes(1);
  REQUIRE_MESSAGE(eventually(
                      [&] {
                        return w.condition("Degraded", "reason") == "JolokiaError" &&
                               w.cc_waiting().find(pod(1)) != std::string::npos &&
                               w.cc_waiting().find("InstanceNotFoundException") !=
                                   std::string::npos;
                      },
                      30s),
                  w.diagnose());
  CHECK(w.replicas() == 2);
  CHECK(w.pvc_exists(pod(1)));
  // Registered again: the decommission goes through and the StatefulSet shrinks.
  w.fault(pod(1), "mbeanMissing=false");
  REQUIRE_MESSAGE(eventually([&] { return w.action_done("ScaleDown") && w.replicas() == 1; }, 60s),
                  w.diagnose());
  CHECK(w.condition("Degraded", "status") == "False");
}

TEST_CASE("casskop nodes: an ignored decommission is sent again, a refused one is said") {
  nodes_world w;
  w.create(1);
  w.scale_up(2);
  w.fault(pod(1), "decommissionIgnored=true");
  w.patch_nodes(1);
  // Still NORMAL past decommissionResendSeconds (3 s): sent again, said in an Event.
  REQUIRE_MESSAGE(
      eventually([&] { return w.op->log().find("DecommissionResent") != std::string::npos; }, 30s),
      w.diagnose());
  CHECK(w.replicas() == 2);
  w.fault(pod(1), "decommissionIgnored=false&decommissionRefused=not%20today");
  REQUIRE_MESSAGE(
      eventually([&] { return w.condition("Degraded", "reason") == "DecommissionRefused"; }, 30s),
      w.diagnose());
  CHECK(w.condition("Degraded", "message").find("not today") != std::string::npos);
  CHECK(w.replicas() == 2);
  w.fault(pod(1), "reset=true");
  REQUIRE_MESSAGE(eventually([&] { return w.action_done("ScaleDown") && w.replicas() == 1; }, 60s),
                  w.diagnose());
}

TEST_CASE("casskop nodes: an agent that hangs or answers 401 is said, never waited on") {
  nodes_world w;
  w.create(1);
  w.scale_up(2);
  // Decommission under way (held LEAVING), then the agent hangs: casskop's OperationMode reads
  // time out (2 s), the status says so, the StatefulSet stays.
  w.fault(pod(1), "decommissionStuck=true");
  w.patch_nodes(1);
  REQUIRE_MESSAGE(
      eventually([&] { return w.cc_waiting().find("LEAVING") != std::string::npos; }, 30s),
      w.diagnose());
  w.fault(pod(1), "jolokiaHang=true");
  REQUIRE_MESSAGE(
      eventually([&] { return w.condition("Degraded", "reason") == "JolokiaUnreachable"; }, 30s),
      w.diagnose());
  CHECK(w.condition("Degraded", "message").find("timeout") != std::string::npos);
  CHECK(w.replicas() == 2);
  // Meanwhile another cluster is created and reconciled as usual: nothing waits on the hang.
  {
    std::string other = cc_json(1);
    other.replace(other.find(kCC), kCC.size(), "other");
    auto r = w.api->request("POST", kCCs, other);
    REQUIRE_MESSAGE(r.status == 201, r.body);
    REQUIRE_MESSAGE(eventually(
                        [&] {
                          auto o = w.api->get(kCCs + "/other").json();
                          return js::get_string(o, {"status", "phase"}) == "Running" &&
                                 js::get_string(o, {"status", "cassandraNodeStatus",
                                                    "other-dc1-rack1-0", "hostId"}) != "";
                        },
                        60s),
                    w.diagnose());
    CHECK(w.condition("Degraded", "reason") == "JolokiaUnreachable");
  }
  w.fault(pod(1), "jolokiaHang=false&httpStatus=401");
  REQUIRE_MESSAGE(
      eventually([&] { return w.condition("Degraded", "reason") == "JolokiaUnauthorized"; }, 30s),
      w.diagnose());
  CHECK(w.replicas() == 2);
  w.fault(pod(1), "reset=true");
  REQUIRE_MESSAGE(eventually([&] { return w.action_done("ScaleDown") && w.replicas() == 1; }, 60s),
                  w.diagnose());
}

TEST_CASE("casskop nodes: a node down is never shrunk early") {
  nodes_world w;
  w.create(1);
  w.scale_up(2);
  w.fault(pod(1), "down=true");
  w.patch_nodes(1);
  REQUIRE_MESSAGE(eventually(
                      [&] {
                        return w.condition("Degraded", "reason") == "JolokiaUnreachable" ||
                               w.cc_waiting().find(pod(1)) != std::string::npos;
                      },
                      30s),
                  w.diagnose());
  for (int i = 0; i < 3; ++i) {
    std::this_thread::sleep_for(1s);
    CHECK(w.replicas() == 2);
  }
  w.fault(pod(1), "down=false");
  REQUIRE_MESSAGE(eventually([&] { return w.action_done("ScaleDown") && w.replicas() == 1; }, 60s),
                  w.diagnose());
}

TEST_CASE("casskop nodes: v2.1.0 TestAddTwoNodes, 3 -> 5 with never two nodes joining at once") {
  nodes_world w;
  w.create(3);  // pods 0-2 are the rack's seeds: they never join
  auto speeds = w.sim.control("k1", "cassandra/speeds", "bootstrapStreamingMs=2500");
  REQUIRE_MESSAGE(speeds.status == 200, speeds.body);
  w.patch_nodes(5);
  int max_joining = 0, seen_joining = 0;
  REQUIRE_MESSAGE(eventually(
                      [&] {
                        const js::Document all = w.nodes();
                        int joining = 0;
                        for (const auto& n : all.GetArray())
                          if (js::get_string(n, "mode") == "JOINING") ++joining;
                        max_joining = std::max(max_joining, joining);
                        seen_joining += joining;
                        return w.action_done("ScaleUp") && w.replicas() == 5 && joining == 0;
                      },
                      60s),
                  w.diagnose());
  CHECK(seen_joining > 0);  // the nodes did join slowly: the gate was needed
  CHECK(max_joining == 1);
  REQUIRE_MESSAGE(eventually([&] { return w.host_ids() == 5; }, 20s), w.diagnose());
}

TEST_CASE("casskop nodes: a node stuck JOINING holds the scale up, and it is said") {
  nodes_world w;
  w.create(3);  // pods 0-2 are seeds; pod 3 bootstraps
  auto speeds = w.sim.control("k1", "cassandra/speeds", "bootstrapStreamingMs=3000");
  REQUIRE_MESSAGE(speeds.status == 200, speeds.body);
  w.patch_nodes(5);
  REQUIRE_MESSAGE(eventually(
                      [&] {
                        const js::Document all = w.nodes();
                        for (const auto& n : all.GetArray())
                          if (js::get_string(n, "pod") == pod(3))
                            return js::get_string(n, "mode") == "JOINING";
                        return false;
                      },
                      30s),
                  w.diagnose());
  w.fault(pod(3), "joiningStuck=true");
  REQUIRE_MESSAGE(
      eventually(
          [&] { return w.cc_waiting().find("a node is joining the ring") != std::string::npos; },
          30s),
      w.diagnose());
  CHECK(w.replicas() == 4);  // pod 4 is not made while pod 3 joins
  // Joining is progress, not a fault (a long bootstrap looks the same): not Degraded.
  CHECK(w.condition("Degraded", "status") == "False");
  // Joined at last: the scale up goes on to 5.
  w.fault(pod(3), "joiningStuck=false");
  REQUIRE_MESSAGE(eventually([&] { return w.action_done("ScaleUp") && w.replicas() == 5; }, 60s),
                  w.diagnose());
}

namespace {

std::string url_encode(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

std::string two_dcs(int dc2_nodes, bool with_dc2 = true) {
  std::string dcs = R"([{"name":"dc1","rack":[{"name":"rack1"}]})";
  if (with_dc2)
    dcs += R"(,{"name":"dc2","nodesPerRacks":)" + std::to_string(dc2_nodes) +
           R"(,"rack":[{"name":"rack1"}]})";
  return R"({"spec":{"topology":{"dc":)" + dcs + "]}}}";
}

}  // namespace

TEST_CASE("casskop nodes: a DC goes to 0 only when no keyspace replicates to it, then is removed") {
  nodes_world w;
  w.create_two_dcs();
  const std::string dc2_sts =
      "/apis/apps/v1/namespaces/" + kNs + "/statefulsets/" + kCC + "-dc2-rack1";
  auto dc2_nodes = [&] {
    auto c = w.cc();
    const js::Value* dcs = js::find_path(c, {"spec", "topology", "dc"});
    return dcs && dcs->Size() > 1 ? js::get_int((*dcs)[1], {"nodesPerRacks"}, -1) : -2;
  };

  // The system keyspaces replicate to dc2: scaling it to 0 is refused and written back.
  // (Decided on a ring asked after the change was seen: casskop asks at once, and waits.)
  REQUIRE_MESSAGE(eventually(
                      [&] {
                        auto p = w.api->request("PATCH", kCCs + "/" + kCC, two_dcs(0),
                                                "application/merge-patch+json");
                        REQUIRE(p.status == 200);
                        return eventually([&] { return w.has_warning("DCStillReplicated"); }, 2s);
                      },
                      30s),
                  w.diagnose());
  auto r = w.api->get(kCCs + "/" + kCC);
  CHECK(dc2_nodes() == -1);  // the DC's own nodesPerRacks written back: absent, as before

  // Alter them to dc1 only (the kuttl multi-dcs test's statements), then the change is taken.
  for (const char* ks : {"system_auth", "system_distributed", "system_traces"}) {
    const std::string stmt = std::string("ALTER KEYSPACE ") + ks +
                             " WITH replication = {'class': 'NetworkTopologyStrategy', 'dc1': '1'}";
    auto q = w.sim.control("k1", "cassandra/cqlsh",
                           "namespace=" + kNs + "&pod=" + kRack + "-0&e=" + url_encode(stmt));
    REQUIRE_MESSAGE(q.status == 200, q.body);
  }
  // A keyspace ALTERed to replicate to dc2 right before dc2 goes to 0: the ring known from the
  // rest polls may predate the ALTER, so only a ring asked after the change decides. Refused.
  auto alter_auth = [&](const std::string& dcs) {
    const std::string stmt =
        "ALTER KEYSPACE system_auth WITH replication = {'class': 'NetworkTopologyStrategy', " +
        dcs + "}";
    auto q = w.sim.control("k1", "cassandra/cqlsh",
                           "namespace=" + kNs + "&pod=" + kRack + "-0&e=" + url_encode(stmt));
    REQUIRE_MESSAGE(q.status == 200, q.body);
  };
  // Refusals are counted in casskop's log (Degraded is cleared by the pass after the write-back).
  auto still_replicated = [&] {
    const std::string log = w.op->log();
    int n = 0;
    for (size_t at = log.find("reason=DCStillReplicated"); at != std::string::npos;
         at = log.find("reason=DCStillReplicated", at + 1))
      ++n;
    return n;
  };
  const int refused_before = still_replicated();
  alter_auth("'dc1': '1', 'dc2': '1'");
  r = w.api->request("PATCH", kCCs + "/" + kCC, two_dcs(0), "application/merge-patch+json");
  REQUIRE(r.status == 200);
  REQUIRE_MESSAGE(eventually([&] { return dc2_nodes() == -1; }, 30s), w.diagnose());
  CHECK(still_replicated() > refused_before);
  CHECK(js::get_int(w.api->get(dc2_sts).json(), {"spec", "replicas"}, -1) == 1);
  alter_auth("'dc1': '1'");
  REQUIRE_MESSAGE(eventually(
                      [&] {
                        auto p = w.api->request("PATCH", kCCs + "/" + kCC, two_dcs(0),
                                                "application/merge-patch+json");
                        if (p.status != 200) return false;
                        return eventually(
                            [&] {
                              auto c = w.cc();
                              return js::get_string(c,
                                                    {"status", "cassandraRackStatus", "dc2-rack1",
                                                     "cassandraLastAction", "name"}) == "ScaleDown";
                            },
                            3s);
                      },
                      60s),
                  w.diagnose());
  REQUIRE_MESSAGE(
      eventually(
          [&] {
            return js::get_int(w.api->get(dc2_sts).json(), {"spec", "replicas"}, -1) == 0;
          },
          30s),
      w.diagnose());

  // (A DC is removed only once its scale down is Done: DCRemovedDuringScaleDown otherwise.)
  REQUIRE_MESSAGE(eventually(
                      [&] {
                        auto c = w.cc();
                        return js::get_string(c, {"status", "lastClusterActionStatus"}) == "Done";
                      },
                      30s),
                  w.diagnose());
  // Removed from the spec at 0 nodes: ActionDeleteDC, its StatefulSet gone, its status too.
  r = w.api->request("PATCH", kCCs + "/" + kCC, two_dcs(0, false), "application/merge-patch+json");
  REQUIRE(r.status == 200);
  REQUIRE_MESSAGE(eventually([&] { return w.api->get(dc2_sts).status == 404; }, 30s), w.diagnose());
  REQUIRE_MESSAGE(eventually(
                      [&] {
                        auto c = w.cc();
                        return js::get_string(c, {"status", "lastClusterAction"}) ==
                                   "ActionDeleteDC" &&
                               !js::find_path(c, {"status", "cassandraRackStatus", "dc2-rack1"});
                      },
                      30s),
                  w.diagnose());
}

namespace {

struct pod_seen {
  std::string uid, ip;
  int restarts = 0;
  bool ready = false;
  bool exists = false;
};

pod_seen pod_status(api_client& api, const std::string& name) {
  pod_seen p;
  auto r = api.get("/api/v1/namespaces/" + kNs + "/pods/" + name);
  if (r.status != 200) return p;
  const js::Document d = r.json();
  p.exists = true;
  p.uid = std::string(js::get_string(d, {"metadata", "uid"}));
  p.ip = std::string(js::get_string(d, {"status", "podIP"}));
  if (const js::Value* cs = js::find_path(d, {"status", "containerStatuses"}); cs && cs->IsArray())
    for (const auto& c : cs->GetArray())
      if (js::get_string(c, "name") == "cassandra") {
        p.restarts = static_cast<int>(js::get_int(c, {"restartCount"}, 0));
        p.ready = js::get_bool(c, {"ready"}, false);
      }
  return p;
}

}  // namespace

TEST_CASE(
    "casskop nodes: a pod crash-looping at an IP its ring holds for another node is deleted") {
  nodes_world w;
  // v2.1.0's IP-swap check on, and a liveness probe of a second that kills a node after one
  // failure: a crash loop raises restartCount quickly.
  w.create(3, R"("restartCountBeforePodDeletion":2,)",
           R"("livenessInitialDelaySeconds":1,"livenessHealthCheckPeriod":1,)"
           R"("livenessHealthCheckTimeout":1,"livenessFailureThreshold":1,)");
  const std::string host1(
      js::get_string(w.cc(), {"status", "cassandraNodeStatus", pod(1), "hostId"}));
  const std::string ip2 = pod_status(*w.api, pod(2)).ip;
  REQUIRE(!host1.empty());

  // Pod 1 restarts at its own IP (its MBean missing fails both probes): restartCount rises
  // past the limit, but its IP is still its own host id's: it is not deleted.
  const std::string uid1 = pod_status(*w.api, pod(1)).uid;
  w.fault(pod(1), "mbeanMissing=true");
  REQUIRE_MESSAGE(eventually([&] { return pod_status(*w.api, pod(1)).restarts > 3; }, 30s),
                  w.diagnose());
  CHECK(pod_status(*w.api, pod(1)).uid == uid1);
  CHECK_FALSE(w.has_warning("PodIPSwapped"));

  // While pod 1 is not Ready, pod 2 goes and is not made again (OrderedReady): its node stays
  // DN at ip2. Pod 1 is made again at ip2: Cassandra refuses to start at an address its ring
  // holds for another host id, and the pod crash-loops there.
  auto del = w.api->request("DELETE", "/api/v1/namespaces/" + kNs + "/pods/" + pod(2), "");
  REQUIRE_MESSAGE(del.status == 200, del.body);
  REQUIRE_MESSAGE(eventually([&] { return !pod_status(*w.api, pod(2)).exists; }, 20s),
                  w.diagnose());
  w.fault(pod(1), "nextIpOf=" + pod(2));
  del = w.api->request("DELETE", "/api/v1/namespaces/" + kNs + "/pods/" + pod(1), "");
  REQUIRE_MESSAGE(del.status == 200, del.body);
  pod_seen swapped;
  REQUIRE_MESSAGE(eventually(
                      [&] {
                        swapped = pod_status(*w.api, pod(1));
                        return swapped.exists && swapped.uid != uid1 && swapped.ip == ip2;
                      },
                      20s),
                  w.diagnose());
  w.fault(pod(1), "mbeanMissing=false");
  CHECK_FALSE(swapped.ready);

  // casskop deletes it (Warning Event, log line); made again with a fresh IP, it starts with
  // its own data and host id, and pod 2 follows.
  REQUIRE_MESSAGE(eventually([&] { return w.has_warning("PodIPSwapped"); }, 60s), w.diagnose());
  CHECK(w.op->log().find("PodIPSwapped") != std::string::npos);
  pod_seen fresh;
  REQUIRE_MESSAGE(eventually(
                      [&] {
                        fresh = pod_status(*w.api, pod(1));
                        return fresh.exists && fresh.uid != swapped.uid && fresh.ready;
                      },
                      60s),
                  w.diagnose());
  CHECK(fresh.ip != ip2);
  REQUIRE_MESSAGE(eventually(
                      [&] {
                        auto c = w.cc();
                        return pod_status(*w.api, pod(2)).ready && w.host_ids() == 3 &&
                               js::get_string(c, {"status", "cassandraNodeStatus", pod(1),
                                                  "nodeIp"}) == fresh.ip;
                      },
                      60s),
                  w.diagnose());
  CHECK(js::get_string(w.cc(), {"status", "cassandraNodeStatus", pod(1), "hostId"}) == host1);
  CHECK(w.replicas() == 3);
}

TEST_CASE(
    "casskop nodes: a first Ready pod answering malformed JSON or a wrong type holds a scale up") {
  nodes_world w;
  w.create(1);
  // Pod 0 is the one casskop asks JoiningNodes: its answers cannot be read, so nobody can say
  // whether a node joins. The scale up waits (v2.1.0 counts such an error as joining).
  // The first node added is decided on the answer known before the fault; the next one needs a
  // fresh answer (a pod changed), which cannot be read.
  w.fault(pod(0), "malformedJson=true");
  w.patch_nodes(3);
  REQUIRE_MESSAGE(
      eventually([&] { return w.condition("Degraded", "reason") == "JolokiaError"; }, 30s),
      w.diagnose());
  CHECK(w.condition("Degraded", "message").find("JoiningNodes") != std::string::npos);
  for (int i = 0; i < 3; ++i) {
    std::this_thread::sleep_for(1s);
    CHECK(w.replicas() == 2);
  }
  CHECK(w.op->log().find("Jolokia call failed") != std::string::npos);
  // A value of the wrong type (a string where a list is expected) is not read as "nobody".
  w.fault(pod(0), "malformedJson=false&valueWrongType=true");
  REQUIRE_MESSAGE(eventually(
                      [&] {
                        return w.condition("Degraded", "reason") == "JolokiaError" &&
                               w.condition("Degraded", "message").find("expected") !=
                                   std::string::npos;
                      },
                      30s),
                  w.diagnose());
  for (int i = 0; i < 3; ++i) {
    std::this_thread::sleep_for(1s);
    CHECK(w.replicas() == 2);
  }
  w.fault(pod(0), "reset=true");
  REQUIRE_MESSAGE(eventually([&] { return w.action_done("ScaleUp") && w.replicas() == 3; }, 60s),
                  w.diagnose());
  CHECK(w.condition("Degraded", "status") == "False");
}

TEST_CASE("casskop nodes: a describeRing error refuses a DC to 0 as DataCheckNotPossible") {
  nodes_world w;
  w.create_two_dcs();
  for (const std::string& p : {kCC + "-dc1-rack1-0", kCC + "-dc2-rack1-0"})
    w.fault(p, "describeRingError=ring%20unavailable");
  auto r = w.api->request("PATCH", kCCs + "/" + kCC, two_dcs(0), "application/merge-patch+json");
  REQUIRE(r.status == 200);
  REQUIRE_MESSAGE(eventually([&] { return w.has_warning("DataCheckNotPossible"); }, 30s),
                  w.diagnose());
  // Written back, nothing scaled; the log says what the node answered.
  REQUIRE_MESSAGE(eventually(
                      [&] {
                        auto c = w.cc();
                        const js::Value* dcs = js::find_path(c, {"spec", "topology", "dc"});
                        return dcs && dcs->Size() > 1 &&
                               js::get_int((*dcs)[1], {"nodesPerRacks"}, -1) == -1;
                      },
                      30s),
                  w.diagnose());
  CHECK(w.op->log().find("ring unavailable") != std::string::npos);
  // The Event says why the check was not possible: the node's answer.
  bool said = false;
  auto events = w.api->get("/api/v1/namespaces/" + kNs + "/events").json();
  for (const auto& e : events["items"].GetArray())
    if (js::get_string(e, "reason") == "DataCheckNotPossible" &&
        js::get_string(e, "message").find("ring unavailable") != std::string_view::npos)
      said = true;
  CHECK_MESSAGE(said, js::to_string(events));
  const std::string dc2_sts =
      "/apis/apps/v1/namespaces/" + kNs + "/statefulsets/" + kCC + "-dc2-rack1";
  CHECK(js::get_int(w.api->get(dc2_sts).json(), {"spec", "replicas"}, -1) == 1);
  CHECK(js::get_string(w.cc(), {"status", "cassandraRackStatus", "dc2-rack1", "cassandraLastAction",
                                "name"}) != "ScaleDown");
}

TEST_CASE("casskop nodes: a node whose JVM exits once decommissioned stalls the scale down, said") {
  nodes_world w;
  w.create(1);
  w.scale_up(2);
  // The node leaves, reaches DECOMMISSIONED and its JVM exits at once: casskop never reads
  // DECOMMISSIONED, only a refused connection. v2.1.0's UNKNOWN case is an OperationMode answer,
  // not an unreadable one: the StatefulSet is not shrunk on a guess, and the status says why.
  w.fault(pod(1), "exitWhenDecommissioned=true");
  w.patch_nodes(1);
  REQUIRE_MESSAGE(
      eventually([&] { return w.condition("Degraded", "reason") == "JolokiaUnreachable"; }, 30s),
      w.diagnose());
  const std::string why = w.condition("Progressing", "message");
  CHECK_MESSAGE(why.find(pod(1)) != std::string::npos, why);
  CHECK_MESSAGE(why.find("not shrunk until it answers DECOMMISSIONED") != std::string::npos, why);
  for (int i = 0; i < 3; ++i) {
    std::this_thread::sleep_for(1s);
    CHECK(w.replicas() == 2);
  }
  CHECK(w.pvc_exists(pod(1)));
  auto c = w.cc();
  CHECK(js::get_string(c, {"status", "cassandraRackStatus", "dc1-rack1", "podLastOperation",
                           "status"}) == "Ongoing");
}
