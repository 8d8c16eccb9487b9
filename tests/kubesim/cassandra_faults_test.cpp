// kubesim --simulate-cassandra: the failure modes of a Cassandra node that casskop must survive
// (issue 13 item 4, reference §6), injected through the control API's cassandra/faults: IP reuse
// (a pod made again at another pod's old address crash-loops, as CassKop's IP-swap check
// expects), the StorageService MBean missing, removeNode refused or hanging, describeRingJMX
// failing, a decommission failing (4.1+), a node crashing at every start.
#include <doctest/doctest.h>

#include <future>
#include <string>

#include "k8s/json/json.h"
#include "tests/support/cassandra_node_access.h"

using namespace testsupport;
using namespace std::chrono_literals;
namespace js = k8s::json;

namespace {

void apply_yaml(const kubesim_instance& sim, const std::string& yaml) {
  auto r = sim.kubectl("k1", {"apply", "-f", "-"}, yaml);
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
}

http_reply fault(const kubesim_instance& sim, const std::string& pod, const std::string& query) {
  return sim.control("k1", "cassandra/faults", "namespace=default&pod=" + pod + "&" + query);
}

void set_fault(const kubesim_instance& sim, const std::string& pod, const std::string& query) {
  auto r = fault(sim, pod, query);
  REQUIRE_MESSAGE(r.status == 200, r.body);
}

// The single answer of a Jolokia POST: the JMX status and the exception, if any.
struct jmx_answer {
  int status = 0;
  std::string error_type, error;
};
jmx_answer answer_of(const http_reply& r) {
  REQUIRE_MESSAGE(r.status == 200, r.body);
  auto d = r.json();
  return {static_cast<int>(js::get_int(d, {"status"}, 0)),
          std::string(js::get_string(d, {"error_type"})),
          std::string(js::get_string(d, {"error"}))};
}

const std::string kSs = "org.apache.cassandra.db:type=StorageService";
std::string read(const std::string& attribute) {
  return R"({"type":"READ","mbean":")" + kSs + R"(","attribute":")" + attribute + R"("})";
}
std::string exec(const std::string& operation, const std::string& arguments) {
  return R"({"type":"EXEC","mbean":")" + kSs + R"(","operation":")" + operation +
         R"(","arguments":)" + arguments + "}";
}

bool contains(const std::string& text, const std::string& what) {
  return text.find(what) != std::string::npos;
}

}  // namespace

TEST_CASE(
    "cassandra faults: a pod made again at another pod's old IP crash-loops until it is deleted") {
  kubesim_instance sim{{"k1"}, {"--simulate-workloads", "--simulate-cassandra"}};
  apply_yaml(sim, service_yaml("") + statefulset_yaml("dc1", cluster_seeds("dc1", 1), 3,
                                                      /*liveness=*/true));
  auto ips = wait_ready_pods(sim, "k1", "dc1", 3);
  REQUIRE(ips.size() == 3);
  std::map<std::string, std::string> ids;
  REQUIRE(eventually([&] { return (ids = host_id_map(ips[0])).size() == 3; }));
  const std::string id1 = ids[ips[1]], id2 = ids[ips[2]];

  // Pod 2 goes (scaled away, PVC kept): its node stays DN at its address.
  REQUIRE(sim.kubectl("k1", {"scale", "sts", std::string(kCc) + "-dc1-rack1", "--replicas=2"})
              .exit_code == 0);
  REQUIRE(eventually([&] { return pod_of(sim, "k1", pod_name("dc1", 2)).ip.empty(); }, 30s));
  // Pod 1 is made again and takes pod 2's old address.
  auto r = fault(sim, pod_name("dc1", 1), "nextIpOf=" + pod_name("dc1", 2));
  REQUIRE_MESSAGE(r.status == 200, r.body);
  CHECK(js::get_string(r.json(), {"nextIp"}) == ips[2]);
  REQUIRE(sim.kubectl("k1", {"delete", "pod", pod_name("dc1", 1)}).exit_code == 0);
  pod_view v;
  REQUIRE(eventually(
      [&] {
        v = pod_of(sim, "k1", pod_name("dc1", 1));
        return v.ip == ips[2];
      },
      30s));
  // Cassandra refuses to start at an address its ring holds for another host id: the liveness
  // probe fails, the kubelet restarts it, again and again (restartCount is what CassKop counts).
  CHECK(eventually([&] { return pod_of(sim, "k1", pod_name("dc1", 1)).restarts >= 2; }, 20s));
  v = pod_of(sim, "k1", pod_name("dc1", 1));
  CHECK_FALSE(v.ready);
  // What CassKop's check reads on a healthy node: the pod's IP maps to another host id than
  // the one it recorded for the pod; the pod's own host id stays at its last address.
  ids = host_id_map(ips[0]);
  CHECK(ids[ips[2]] == id2);
  CHECK(ids[ips[1]] == id1);
  auto pods = sim.control("k1", "cassandra/pods").json();
  for (const auto& p : pods.GetArray())
    if (js::get_string(p, {"pod"}) == pod_name("dc1", 1))
      CHECK_FALSE(js::get_bool(p, {"jvmUp"}, true));

  // Deleted (what CassKop does), the pod gets a fresh address and starts with its own data.
  REQUIRE(sim.kubectl("k1", {"delete", "pod", pod_name("dc1", 1)}).exit_code == 0);
  std::string fresh;
  REQUIRE(eventually(
      [&] {
        v = pod_of(sim, "k1", pod_name("dc1", 1));
        fresh = v.ip;
        return v.ready && v.ip != ips[2] && v.ip != ips[1];
      },
      30s));
  CHECK(eventually([&] { return host_id_map(ips[0])[fresh] == id1; }));
}

TEST_CASE("cassandra faults: nextIp gives a recreated pod the address asked for, once") {
  kubesim_instance sim{{"k1"}, {"--simulate-workloads", "--simulate-cassandra"}};
  apply_yaml(sim, service_yaml("") + statefulset_yaml("dc1", cluster_seeds("dc1", 1), 1));
  auto ips = wait_ready_pods(sim, "k1", "dc1", 1);
  REQUIRE(ips.size() == 1);
  const std::string pod = pod_name("dc1", 0);
  // An address of the same /16, far from the ones handed out.
  const std::string wanted = ips[0].substr(0, ips[0].find('.', 4)) + ".200.7";
  set_fault(sim, pod, "nextIp=" + wanted);
  REQUIRE(sim.kubectl("k1", {"delete", "pod", pod}).exit_code == 0);
  CHECK(eventually(
      [&] {
        auto v = pod_of(sim, "k1", pod);
        return v.ready && v.ip == wanted;
      },
      30s));
  CHECK(contains(jolokia_post(wanted, read("LiveNodes")).body, wanted));
  // Used once: the next one draws again.
  CHECK(js::get_string(fault(sim, pod, "reset=true").json(), {"nextIp"}).empty());
  REQUIRE(sim.kubectl("k1", {"delete", "pod", pod}).exit_code == 0);
  CHECK(eventually(
      [&] {
        auto v = pod_of(sim, "k1", pod);
        return v.ready && !v.ip.empty() && v.ip != wanted;
      },
      30s));
  // Bad input is a clear 400.
  auto bad = fault(sim, pod, "nextIp=10.0.0.1");
  CHECK(bad.status == 400);
  CHECK(contains(bad.body, "127.0.0.0/8"));
  bad = fault(sim, pod, "nextIpOf=nope");
  CHECK(bad.status == 400);
  CHECK(contains(bad.body, "nope"));
}

TEST_CASE("cassandra faults: the StorageService MBean missing answers 404 and fails the probe") {
  kubesim_instance sim{{"k1"}, {"--simulate-workloads", "--simulate-cassandra"}};
  apply_yaml(sim, service_yaml("") + statefulset_yaml("dc1", cluster_seeds("dc1", 1), 1));
  auto ips = wait_ready_pods(sim, "k1", "dc1", 1);
  REQUIRE(ips.size() == 1);
  const std::string pod = pod_name("dc1", 0);
  set_fault(sim, pod, "mbeanMissing=true");
  auto a = answer_of(jolokia_post(ips[0], read("OperationMode")));
  CHECK(a.status == 404);
  CHECK(a.error_type == "javax.management.InstanceNotFoundException");
  CHECK(contains(a.error, kSs));
  // The probe's LiveNodes read fails too: three failures at a 1 s period.
  CHECK(eventually([&] { return !pod_of(sim, "k1", pod).ready; }, 15s));
  set_fault(sim, pod, "mbeanMissing=false");
  CHECK(answer_of(jolokia_post(ips[0], read("OperationMode"))).status == 200);
  CHECK(eventually([&] { return pod_of(sim, "k1", pod).ready; }, 15s));
}

TEST_CASE("cassandra faults: removeNode refused, then hanging, on the node that runs it") {
  kubesim_instance sim{{"k1"}, {"--simulate-workloads", "--simulate-cassandra"}};
  apply_yaml(sim, service_yaml("") + statefulset_yaml("dc1", cluster_seeds("dc1", 1), 3));
  auto ips = wait_ready_pods(sim, "k1", "dc1", 3);
  REQUIRE(ips.size() == 3);
  std::map<std::string, std::string> ids;
  REQUIRE(eventually([&] { return (ids = host_id_map(ips[0])).size() == 3; }));
  set_fault(sim, pod_name("dc1", 2), "down=true");  // the dead node to remove
  const std::string remove = exec("removeNode", "[\"" + ids[ips[2]] + "\"]");

  set_fault(sim, pod_name("dc1", 0), "removeNodeRefused=Node%20is%20busy");
  auto a = answer_of(jolokia_post(ips[0], remove));
  CHECK(a.status == 500);
  CHECK(a.error_type == "java.lang.UnsupportedOperationException");
  CHECK(contains(a.error, "Node is busy"));

  set_fault(sim, pod_name("dc1", 0), "removeNodeRefused=&removeNodeHang=true");
  // The EXEC is held: the client gives up; the removal shows in LeavingNodes meanwhile.
  auto held = std::async(std::launch::async, [&] { return jolokia_post(ips[0], remove, 2s); });
  CHECK(eventually([&] {
    return contains(jolokia_post(ips[1], read("LeavingNodes")).body, "\"" + ips[2] + "\"");
  }));
  CHECK_THROWS(held.get());
  // Still there later: the removal never ends; the node stays in HostIdMap.
  CHECK(contains(jolokia_post(ips[1], read("LeavingNodes")).body, "\"" + ips[2] + "\""));
  CHECK(host_id_map(ips[1]).count(ips[2]) == 1);
}

TEST_CASE("cassandra faults: describeRingJMX fails on the node given the fault only") {
  kubesim_instance sim{{"k1"}, {"--simulate-workloads", "--simulate-cassandra"}};
  apply_yaml(sim, service_yaml("") + statefulset_yaml("dc1", cluster_seeds("dc1", 1), 2));
  auto ips = wait_ready_pods(sim, "k1", "dc1", 2);
  REQUIRE(ips.size() == 2);
  const std::string describe = exec("describeRingJMX", R"(["system_auth"])");
  CHECK(answer_of(jolokia_post(ips[0], describe)).status == 200);
  auto r =
      fault(sim, pod_name("dc1", 0),
            "describeRingError=There%20is%20no%20ring%20for%20the%20keyspace%3A%20system_auth");
  REQUIRE_MESSAGE(r.status == 200, r.body);
  CHECK(contains(std::string(js::get_string(r.json(), {"node", "describeRingError"})), "no ring"));
  auto a = answer_of(jolokia_post(ips[0], describe));
  CHECK(a.status == 500);
  CHECK(a.error_type == "java.io.IOException");
  CHECK(a.error == "java.io.IOException : There is no ring for the keyspace: system_auth");
  auto other = jolokia_post(ips[1], describe);
  CHECK(answer_of(other).status == 200);
  CHECK(contains(other.body, "TokenRange(start_token:"));
  set_fault(sim, pod_name("dc1", 0), "describeRingError=");
  CHECK(answer_of(jolokia_post(ips[0], describe)).status == 200);
}

TEST_CASE("cassandra faults: a decommission that fails leaves the node DECOMMISSION_FAILED") {
  kubesim_instance sim{{"k1"}, {"--simulate-workloads", "--simulate-cassandra"}};
  apply_yaml(sim, service_yaml("") + statefulset_yaml("dc1", cluster_seeds("dc1", 1), 2));
  auto ips = wait_ready_pods(sim, "k1", "dc1", 2);
  REQUIRE(ips.size() == 2);
  auto mode = [&] {
    auto r = jolokia_post(ips[1], read("OperationMode"));
    return std::string(js::get_string(r.json(), {"value"}));
  };
  set_fault(sim, pod_name("dc1", 1), "decommissionFails=true");
  // Cassandra 3.11's decommission() takes no argument (ref §1 call 10).
  CHECK(answer_of(jolokia_post(ips[1], exec("decommission", "[]"))).status == 200);
  CHECK(eventually([&] { return mode() == "DECOMMISSION_FAILED"; }));
  // Still a member: in its peers' HostIdMap, not leaving.
  CHECK(host_id_map(ips[0]).count(ips[1]) == 1);
  CHECK_FALSE(contains(jolokia_post(ips[0], read("LeavingNodes")).body, ips[1]));
  // Sent again once the cause is gone, it completes.
  set_fault(sim, pod_name("dc1", 1), "decommissionFails=false");
  CHECK(answer_of(jolokia_post(ips[1], exec("decommission", "[]"))).status == 200);
  CHECK(eventually([&] { return mode() == "DECOMMISSIONED"; }));
  CHECK(eventually([&] { return host_id_map(ips[0]).count(ips[1]) == 0; }));
}

TEST_CASE("cassandra faults: a node that crashes at start crash-loops until the fault is gone") {
  kubesim_instance sim{{"k1"}, {"--simulate-workloads", "--simulate-cassandra"}};
  apply_yaml(sim, service_yaml("") + statefulset_yaml("dc1", cluster_seeds("dc1", 1), 1,
                                                      /*liveness=*/true));
  auto ips = wait_ready_pods(sim, "k1", "dc1", 1);
  REQUIRE(ips.size() == 1);
  const std::string pod = pod_name("dc1", 0);
  auto r = fault(sim, pod, "crashAtStart=Exception%20encountered%20during%20startup&down=true");
  REQUIRE_MESSAGE(r.status == 200, r.body);
  CHECK(js::get_string(r.json(), {"node", "crashAtStart"}) ==
        "Exception encountered during startup");
  // Killed, then started again by the kubelet, which fails each time: restartCount rises.
  CHECK(eventually([&] { return pod_of(sim, "k1", pod).restarts >= 2; }, 20s));
  CHECK_FALSE(pod_of(sim, "k1", pod).ready);
  CHECK_THROWS(jolokia_post(ips[0], read("OperationMode")));
  set_fault(sim, pod, "crashAtStart=");
  CHECK(eventually([&] { return pod_of(sim, "k1", pod).ready; }, 20s));
  CHECK(answer_of(jolokia_post(ips[0], read("OperationMode"))).status == 200);
}
