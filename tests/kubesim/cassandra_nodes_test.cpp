// kubesim --simulate-workloads --simulate-cassandra (issue 13 item 1): the pods of a StatefulSet
// that runs a `cassandra` container, as casskop's generator makes it, are simulated Cassandra
// nodes: a 127.x pod IP each, Jolokia on <podIP>:8778, Ready by the readiness probe, one ring per
// cluster, and one ring across clusters exactly when the seeds resolve through external-DNS names.
#include <doctest/doctest.h>

#include <future>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "k8s/json/base64.h"
#include "k8s/json/json.h"
#include "tests/support/cassandra_node_access.h"

using namespace testsupport;
using namespace std::chrono_literals;
namespace js = k8s::json;

namespace {

// Waits until the pods are Ready and returns their IPs.
std::vector<std::string> ready_pods(const kubesim_instance& sim, const std::string& cluster,
                                    const std::string& dc, int n) {
  auto ips = wait_ready_pods(sim, cluster, dc, n);
  REQUIRE(ips.size() == size_t(n));
  return ips;
}

const std::string kLiveNodes =
    R"({"type":"read","mbean":"org.apache.cassandra.db:type=StorageService","attribute":"LiveNodes","path":"","target":{"url":"","password":"","user":""}})";

std::string basic(const std::string& user, const std::string& password) {
  return "Basic " + k8s::base64_encode(user + ":" + password);
}

std::string nodetool_status(const kubesim_instance& sim, const std::string& cluster,
                            const std::string& pod) {
  auto r = sim.control(cluster, "cassandra/nodetool-status", "namespace=default&pod=" + pod);
  REQUIRE_MESSAGE(r.status == 200, r.body);
  return r.body;
}

int count_of(const std::string& text, const std::string& what) {
  int n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

void apply(const kubesim_instance& sim, const std::string& cluster, const std::string& yaml) {
  auto r = sim.kubectl(cluster, {"apply", "-f", "-"}, yaml);
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
}

}  // namespace

TEST_CASE(
    "cassandra nodes: a StatefulSet of three Cassandra pods forms one ring, Ready by the probe") {
  kubesim_instance sim{{"k1"}, {"--simulate-workloads", "--simulate-cassandra"}};
  apply(sim, "k1", service_yaml("") + statefulset_yaml("dc1", cluster_seeds("dc1", 3), 3));
  auto ips = ready_pods(sim, "k1", "dc1", 3);

  // Distinct addresses of one 127.x.0.0/16, outside 127.0.x.x.
  std::set<std::string> distinct(ips.begin(), ips.end());
  CHECK(distinct.size() == 3);
  const std::string prefix = ips[0].substr(0, ips[0].find('.', 4) + 1);
  for (const auto& ip : ips) {
    CHECK(ip.rfind("127.", 0) == 0);
    CHECK(ip.rfind("127.0.", 0) != 0);
    CHECK(ip.rfind(prefix, 0) == 0);
  }

  // Jolokia on <podIP>:8778, basic auth from the pod's env (the Secret).
  auto client = jolokia_client(ips[0]);
  CHECK(client.request("POST", "/jolokia/", kLiveNodes).status == 401);
  CHECK(client
            .request("POST", "/jolokia/", kLiveNodes, "application/json",
                     {{"Authorization", basic("monitor", "wrong")}})
            .status == 401);
  http_reply live;
  CHECK(eventually([&] {
    live = client.request("POST", "/jolokia/", kLiveNodes, "application/json",
                          {{"Authorization", basic("monitor", "s3cret")}});
    if (live.status != 200) return false;
    auto d = live.json();
    const auto* v = js::find(d, "value");
    if (!v || !v->IsArray()) return false;
    std::set<std::string> seen;
    for (const auto& ip : v->GetArray()) seen.insert(std::string(js::view(ip)));
    return seen == distinct;
  }));
  INFO(live.body);
  CHECK(js::get_int(live.json(), {"status"}, 0) == 200);
  // The GET read form the readiness probe uses.
  auto read =
      client.request("GET", "/jolokia/read/org.apache.cassandra.db:type=StorageService/LiveNodes",
                     "", "application/json", {{"Authorization", basic("monitor", "s3cret")}});
  CHECK(read.status == 200);
  CHECK(read.body.find(ips[2]) != std::string::npos);

  // nodetool status: one Datacenter, three UN, each pod's IP.
  auto status = nodetool_status(sim, "k1", pod_name("dc1", 1));
  INFO(status);
  CHECK(count_of(status, "Datacenter: ") == 1);
  CHECK(count_of(status, "Datacenter: dc1") == 1);
  CHECK(count_of(status, "\nUN  ") == 3);
  for (const auto& ip : ips) CHECK(status.find("UN  " + ip) != std::string::npos);

  // The control API counts the Jolokia requests each pod received (not the probes): two more.
  auto calls = [&] {
    auto list = sim.control("k1", "cassandra/pods").json();
    for (const auto& p : list.GetArray())
      if (js::get_string(p, {"pod"}) == pod_name("dc1", 2))
        return js::get_int(p, {"jolokiaCalls"}, -1);
    return int64_t(-1);
  };
  const int64_t before = calls();
  CHECK(before >= 0);
  jolokia_client(ips[2]).request("POST", "/jolokia/", kLiveNodes);  // 401: counted too
  jolokia_client(ips[2]).request("POST", "/jolokia/", kLiveNodes, "application/json",
                                 {{"Authorization", basic("monitor", "s3cret")}});
  CHECK(calls() == before + 2);

  // An unknown pod is a clear 404.
  auto missing = sim.control("k1", "cassandra/nodetool-status", "namespace=default&pod=nope");
  CHECK(missing.status == 404);
}

TEST_CASE("cassandra nodes: cqlsh through the control API alters a keyspace's replication") {
  kubesim_instance sim{{"k1"}, {"--simulate-workloads", "--simulate-cassandra"}};
  apply(sim, "k1", service_yaml("") + statefulset_yaml("dc1", cluster_seeds("dc1", 1), 1));
  ready_pods(sim, "k1", "dc1", 1);
  auto ok = sim.control(
      "k1", "cassandra/cqlsh",
      "namespace=default&pod=" + pod_name("dc1", 0) +
          "&e=ALTER%20KEYSPACE%20system_auth%20WITH%20replication%20%3D%20%7B'class'%3A%20'"
          "NetworkTopologyStrategy'%2C%20'dc1'%3A%20'1'%7D");
  CHECK(ok.status == 200);
  CHECK(ok.headers["x-exit-code"] == "0");
  auto bad = sim.control("k1", "cassandra/cqlsh",
                         "namespace=default&pod=" + pod_name("dc1", 0) +
                             "&e=ALTER%20KEYSPACE%20nope%20WITH%20replication%20%3D%20%7B'class'"
                             "%3A%20'SimpleStrategy'%2C%20'replication_factor'%3A%20'1'%7D");
  CHECK(bad.headers["x-exit-code"] == "2");
  CHECK(bad.body.find("nope") != std::string::npos);
}

TEST_CASE("cassandra nodes: a node down refuses Jolokia and its pod turns not Ready") {
  kubesim_instance sim{{"k1"}, {"--simulate-workloads", "--simulate-cassandra"}};
  apply(sim, "k1", service_yaml("") + statefulset_yaml("dc1", cluster_seeds("dc1", 1), 1));
  auto ips = ready_pods(sim, "k1", "dc1", 1);
  auto r = sim.control("k1", "cassandra/faults",
                       "namespace=default&pod=" + pod_name("dc1", 0) + "&down=true");
  REQUIRE_MESSAGE(r.status == 200, r.body);
  CHECK(js::get_bool(r.json(), {"jvmUp"}, true) == false);
  // failureThreshold 3 at a 1 s period.
  CHECK(eventually([&] { return !pod_of(sim, "k1", pod_name("dc1", 0)).ready; }, 15s));
  CHECK_THROWS(jolokia_client(ips[0]).request("POST", "/jolokia/", kLiveNodes));
  // nodetool and cqlsh reach the JVM's ports too: refused, exit 1, nothing on stdout.
  auto exec = sim.kubectl("k1", {"exec", pod_name("dc1", 0), "--", "nodetool", "status"});
  CHECK(exec.exit_code == 1);
  CHECK(exec.out.empty());
  CHECK(exec.err.find("Failed to connect to '127.0.0.1:7199'") != std::string::npos);
  exec = sim.kubectl("k1", {"exec", pod_name("dc1", 0), "--", "cqlsh", "-e", "DESCRIBE KEYSPACES"});
  CHECK(exec.exit_code == 1);
  CHECK(exec.err.find("Unable to connect to any servers") != std::string::npos);
  r = sim.control("k1", "cassandra/faults",
                  "namespace=default&pod=" + pod_name("dc1", 0) + "&down=false");
  REQUIRE_MESSAGE(r.status == 200, r.body);
  CHECK(eventually([&] { return pod_of(sim, "k1", pod_name("dc1", 0)).ready; }, 15s));
}

namespace {
// Two regions, one DC each, whose seeds name pod 0 of both by its cluster DNS name (which
// resolves only in its own cluster) and by its external-DNS name (`<pod>.<zone>`), as the seed's
// setup does. With `annotate`, each headless Service carries the annotation external-DNS
// publishes those names from, one zone for both regions as deploy/samples/multi-casskop.yaml has.
void two_regions(kubesim_instance& sim, bool annotate) {
  const std::string seeds = cluster_seeds("dc1", 1) + "," + cluster_seeds("dc2", 1) + "," +
                            pod_name("dc1", 0) + ".my.zone.dns.net," + pod_name("dc2", 0) +
                            ".my.zone.dns.net";
  apply(sim, "k1",
        service_yaml(annotate ? "my.zone.dns.net." : "") + statefulset_yaml("dc1", seeds, 2));
  ready_pods(sim, "k1", "dc1", 2);
  apply(sim, "k2",
        service_yaml(annotate ? "my.zone.dns.net." : "") + statefulset_yaml("dc2", seeds, 2));
  ready_pods(sim, "k2", "dc2", 2);
}
}  // namespace

TEST_CASE("cassandra nodes: regions whose seeds resolve through external-DNS form one ring") {
  kubesim_instance sim{{"k1", "k2"}, {"--simulate-workloads", "--simulate-cassandra"}};
  two_regions(sim, true);
  std::string status;
  CHECK(eventually([&] {
    status = nodetool_status(sim, "k1", pod_name("dc1", 0));
    return count_of(status, "\nUN  ") == 4;
  }));
  INFO(status);
  CHECK(count_of(status, "Datacenter: dc1") == 1);
  CHECK(count_of(status, "Datacenter: dc2") == 1);
  CHECK(nodetool_status(sim, "k2", pod_name("dc2", 1)).find("Datacenter: dc1") !=
        std::string::npos);
  // The control API lists each cluster's nodes, all in one ring.
  std::set<int> rings;
  for (const char* cluster : {"k1", "k2"}) {
    auto list = sim.control(cluster, "cassandra/pods").json();
    REQUIRE(list.IsArray());
    CHECK(list.Size() == 2);
    for (const auto& p : list.GetArray()) {
      CHECK(js::get_string(p, {"mode"}) == "NORMAL");
      rings.insert(static_cast<int>(js::get_int(p, {"ring"}, 0)));
    }
  }
  CHECK(rings.size() == 1);
}

TEST_CASE("cassandra nodes: without the external-DNS annotation regions form two rings") {
  kubesim_instance sim{{"k1", "k2"}, {"--simulate-workloads", "--simulate-cassandra"}};
  two_regions(sim, false);
  auto k1 = nodetool_status(sim, "k1", pod_name("dc1", 1));
  auto k2 = nodetool_status(sim, "k2", pod_name("dc2", 1));
  INFO(k1);
  INFO(k2);
  CHECK(count_of(k1, "\nUN  ") == 2);
  CHECK(count_of(k1, "Datacenter: ") == 1);
  CHECK(count_of(k1, "Datacenter: dc1") == 1);
  CHECK(count_of(k2, "\nUN  ") == 2);
  CHECK(count_of(k2, "Datacenter: dc2") == 1);
  std::set<int> rings;
  for (const char* cluster : {"k1", "k2"}) {
    auto list = sim.control(cluster, "cassandra/pods").json();
    REQUIRE(list.IsArray());
    for (const auto& p : list.GetArray())
      rings.insert(static_cast<int>(js::get_int(p, {"ring"}, 0)));
  }
  CHECK(rings.size() == 2);
}

TEST_CASE(
    "cassandra nodes: the host id is kept on the PVC across a pod restart, and goes with it") {
  kubesim_instance sim{{"k1"}, {"--simulate-workloads", "--simulate-cassandra"}};
  apply(sim, "k1", service_yaml("") + statefulset_yaml("dc1", cluster_seeds("dc1", 1), 2));
  auto ips = ready_pods(sim, "k1", "dc1", 2);
  std::string first_id;
  REQUIRE(eventually([&] { return !(first_id = host_id_map(ips[0])[ips[1]]).empty(); }));

  // Deleted and made again by its StatefulSet: a new IP, the same host id (the same disk).
  REQUIRE(sim.kubectl("k1", {"delete", "pod", pod_name("dc1", 1)}).exit_code == 0);
  std::string new_ip;
  REQUIRE(eventually(
      [&] {
        auto v = pod_of(sim, "k1", pod_name("dc1", 1));
        new_ip = v.ip;
        return v.ready && v.ip != ips[1];
      },
      30s));
  std::map<std::string, std::string> ids;
  CHECK(eventually([&] { return (ids = host_id_map(ips[0])).count(new_ip) == 1; }));
  CHECK(ids[new_ip] == first_id);

  // Scaled down, its PVC deleted, scaled up again: a fresh disk, a new host id.
  REQUIRE(sim.kubectl("k1", {"scale", "sts", std::string(kCc) + "-dc1-rack1", "--replicas=1"})
              .exit_code == 0);
  REQUIRE(eventually([&] { return pod_of(sim, "k1", pod_name("dc1", 1)).ip.empty(); }, 30s));
  REQUIRE(sim.kubectl("k1", {"delete", "pvc", "data-" + pod_name("dc1", 1)}).exit_code == 0);
  REQUIRE(sim.kubectl("k1", {"scale", "sts", std::string(kCc) + "-dc1-rack1", "--replicas=2"})
              .exit_code == 0);
  auto again = ready_pods(sim, "k1", "dc1", 2);
  CHECK(eventually([&] {
    auto now = host_id_map(ips[0]);
    return now.count(again[1]) == 1 && now[again[1]] != first_id;
  }));
}

TEST_CASE("cassandra nodes: Jolokia delay and hang faults hold the replies and fail the probe") {
  kubesim_instance sim{{"k1"}, {"--simulate-workloads", "--simulate-cassandra"}};
  apply(sim, "k1", service_yaml("") + statefulset_yaml("dc1", cluster_seeds("dc1", 1), 1));
  auto ip = ready_pods(sim, "k1", "dc1", 1)[0];
  const std::string pod = "namespace=default&pod=" + pod_name("dc1", 0);
  const std::map<std::string, std::string> auth{{"Authorization", basic("monitor", "s3cret")}};

  auto r = sim.control("k1", "cassandra/faults", pod + "&jolokiaDelayMs=1500");
  REQUIRE_MESSAGE(r.status == 200, r.body);
  auto started = std::chrono::steady_clock::now();
  auto slow = jolokia_client(ip).request("POST", "/jolokia/", kLiveNodes, "application/json", auth);
  CHECK(slow.status == 200);
  CHECK(std::chrono::steady_clock::now() - started >= 1500ms);
  // Slower than the probe's 1 s timeout: three failures in a row make the pod not Ready.
  CHECK(eventually([&] { return !pod_of(sim, "k1", pod_name("dc1", 0)).ready; }, 15s));

  r = sim.control("k1", "cassandra/faults", pod + "&jolokiaHang=true");
  REQUIRE_MESSAGE(r.status == 200, r.body);
  // Faults named change, the others stay.
  CHECK(js::get_int(r.json(), {"jolokia", "delayMs"}, 0) == 1500);
  r = sim.control("k1", "cassandra/faults", pod + "&jolokiaDelayMs=0");
  REQUIRE_MESSAGE(r.status == 200, r.body);
  client_options o;
  o.base_url = "http://" + ip + ":8778";
  o.timeout = 2s;
  CHECK_THROWS(api_client(o).request("POST", "/jolokia/", kLiveNodes, "application/json", auth));

  r = sim.control("k1", "cassandra/faults", pod + "&reset=true");
  REQUIRE_MESSAGE(r.status == 200, r.body);
  CHECK(js::get_bool(r.json(), {"jolokia", "hang"}, true) == false);
  CHECK(eventually([&] { return pod_of(sim, "k1", pod_name("dc1", 0)).ready; }, 15s));
  CHECK(sim.control("k1", "cassandra/faults", pod + "&jolokiaHang=maybe").status == 400);
}

TEST_CASE("cassandra nodes: with a ring delay set a new node shows UJ, then UN") {
  kubesim_instance sim{{"k1"}, {"--simulate-workloads", "--simulate-cassandra"}};
  apply(sim, "k1", service_yaml("") + statefulset_yaml("dc1", cluster_seeds("dc1", 1), 1));
  ready_pods(sim, "k1", "dc1", 1);
  auto r = sim.control("k1", "cassandra/speeds", "ringDelayMs=2000");
  REQUIRE_MESSAGE(r.status == 200, r.body);
  CHECK(js::get_int(r.json(), {"ringDelayMs"}, 0) == 2000);
  CHECK(js::get_int(r.json(), {"startupMs"}, -1) == 0);
  REQUIRE(sim.kubectl("k1", {"scale", "sts", std::string(kCc) + "-dc1-rack1", "--replicas=2"})
              .exit_code == 0);
  // Not a seed and a fresh disk: it bootstraps (JOINING for the ring delay), Ready meanwhile.
  std::string status;
  CHECK(eventually(
      [&] {
        status = nodetool_status(sim, "k1", pod_name("dc1", 0));
        return count_of(status, "\nUJ  ") == 1;
      },
      15s));
  CHECK(eventually(
      [&] {
        status = nodetool_status(sim, "k1", pod_name("dc1", 0));
        return count_of(status, "\nUN  ") == 2;
      },
      15s));
  INFO(status);
}

TEST_CASE("cassandra nodes: a kubesim whose pod addresses are taken draws another 127.x") {
  kubesim_instance first{{"k1"}, {"--simulate-workloads", "--simulate-cassandra"}};
  apply(first, "k1", service_yaml("") + statefulset_yaml("dc1", cluster_seeds("dc1", 1), 1));
  auto taken = ready_pods(first, "k1", "dc1", 1)[0];
  // A second kubesim told to start in the same /16: its first bind fails on the first's pod IP.
  const std::string octet = taken.substr(4, taken.find('.', 4) - 4);
  kubesim_instance second{
      {"k1"}, {"--simulate-workloads", "--simulate-cassandra", "--cassandra-ip-prefix", octet}};
  apply(second, "k1", service_yaml("") + statefulset_yaml("dc1", cluster_seeds("dc1", 1), 1));
  auto mine = ready_pods(second, "k1", "dc1", 1)[0];
  CHECK(mine.rfind("127.", 0) == 0);
  CHECK(mine.rfind("127." + octet + ".", 0) != 0);
  // Each answers on its own address, as its own node.
  auto live_of = [](const std::string& ip) {
    return jolokia_client(ip).request("POST", "/jolokia/", kLiveNodes, "application/json",
                                      {{"Authorization", basic("monitor", "s3cret")}});
  };
  CHECK(live_of(taken).body.find(taken) != std::string::npos);
  CHECK(live_of(mine).body.find(mine) != std::string::npos);
  CHECK(live_of(mine).body.find(taken) == std::string::npos);
}

namespace {
// forceKeyspaceCleanup as CassKop sends it (ref §1 call 7).
const std::string kCleanup =
    R"J({"type":"EXEC","mbean":"org.apache.cassandra.db:type=StorageService","operation":"forceKeyspaceCleanup(java.lang.String,[Ljava.lang.String;)","arguments":["system_auth",[]]})J";
const std::string kCompactions =
    R"J({"type":"READ","mbean":"org.apache.cassandra.db:type=CompactionManager","attribute":"Compactions"})J";
}  // namespace

TEST_CASE("cassandra nodes: a blocking EXEC answers when its work is done, listed meanwhile") {
  kubesim_instance sim{{"k1"}, {"--simulate-workloads", "--simulate-cassandra"}};
  // A 4.0 image: the node runs that version (decommission then takes its force flag).
  std::string sts = statefulset_yaml("dc1", cluster_seeds("dc1", 1), 1);
  sts.replace(sts.find("cassandra:3.11.10"), std::string("cassandra:3.11.10").size(),
              "cassandra:4.0.1");
  apply(sim, "k1", service_yaml("") + sts);
  auto ip = ready_pods(sim, "k1", "dc1", 1)[0];
  auto version = jolokia_client(ip).request(
      "POST", "/jolokia/",
      R"({"type":"read","mbean":"org.apache.cassandra.db:type=StorageService","attribute":"ReleaseVersion"})",
      "application/json", {{"Authorization", basic("monitor", "s3cret")}});
  CHECK(js::get_string(version.json(), {"value"}) == "4.0.1");
  REQUIRE(sim.control("k1", "cassandra/speeds", "cleanupPerKeyspaceMs=3000").status == 200);
  const std::map<std::string, std::string> auth{{"Authorization", basic("monitor", "s3cret")}};
  auto started = std::chrono::steady_clock::now();
  auto exec = std::async(std::launch::async, [&] {
    return jolokia_client(ip).request("POST", "/jolokia/", kCleanup, "application/json", auth);
  });
  // While the EXEC waits, CompactionManager lists the Cleanup (what CassKop's monitor reads).
  CHECK(eventually(
      [&] {
        auto r =
            jolokia_client(ip).request("POST", "/jolokia/", kCompactions, "application/json", auth);
        return r.body.find("\"Cleanup\"") != std::string::npos;
      },
      2500ms));
  auto done = exec.get();
  CHECK(done.status == 200);
  CHECK(js::get_int(done.json(), {"status"}, 0) == 200);
  CHECK(std::chrono::steady_clock::now() - started >= 3000ms);
  auto after =
      jolokia_client(ip).request("POST", "/jolokia/", kCompactions, "application/json", auth);
  CHECK(after.body.find("\"Cleanup\"") == std::string::npos);
}

TEST_CASE("cassandra nodes: a node down fails its liveness probe and the kubelet restarts it") {
  kubesim_instance sim{{"k1"}, {"--simulate-workloads", "--simulate-cassandra"}};
  apply(sim, "k1",
        service_yaml("") + statefulset_yaml("dc1", cluster_seeds("dc1", 1), 1, /*liveness=*/true));
  auto ip = ready_pods(sim, "k1", "dc1", 1)[0];
  const std::string pod = pod_name("dc1", 0);
  auto restarts = [&] {
    auto r = sim.kubectl("k1", {"get", "pod", pod, "-o", "json"});
    if (r.exit_code != 0) return -1;
    auto d = js::parse(r.out);
    if (const auto* list = js::find_path(d, {"status", "containerStatuses"});
        list && list->IsArray())
      for (const auto& c : list->GetArray())
        if (js::get_string(c, "name") == "cassandra")
          return static_cast<int>(js::get_int(c, {"restartCount"}, 0));
    return -1;
  };
  REQUIRE(restarts() == 0);
  auto r = sim.control("k1", "cassandra/faults", "namespace=default&pod=" + pod + "&down=true");
  REQUIRE_MESSAGE(r.status == 200, r.body);
  CHECK(eventually([&] { return restarts() == 1; }, 15s));
  // Started again in the same pod: same IP, the JVM up, Ready by its readiness probe.
  CHECK(eventually(
      [&] {
        auto v = pod_of(sim, "k1", pod);
        return v.ready && v.ip == ip;
      },
      15s));
  auto list = sim.control("k1", "cassandra/pods").json();
  REQUIRE(list.IsArray());
  REQUIRE(list.Size() == 1);
  CHECK(js::get_bool(list[0], {"jvmUp"}, false));
  CHECK(restarts() == 1);
}

namespace {
// The StatefulSet with casskop's own probe timings (generator.go of v2.1.0: readiness 60 s delay,
// 10 s period and timeout; liveness 120 s delay, 20 s timeout).
std::string casskop_probes(std::string sts) {
  const std::string fast =
      "initialDelaySeconds: 0\n          periodSeconds: 1\n          timeoutSeconds: 1";
  REQUIRE(sts.find(fast) != std::string::npos);
  sts.replace(sts.find(fast), fast.size(),
              "initialDelaySeconds: 60\n          periodSeconds: 10\n          timeoutSeconds: 10");
  return sts;
}
}  // namespace

TEST_CASE("cassandra nodes: --probe-time-scale makes casskop's 60 s readiness delay short") {
  const std::string sts = casskop_probes(statefulset_yaml("dc1", cluster_seeds("dc1", 1), 1));
  kubesim_instance fast{
      {"k1"}, {"--simulate-workloads", "--simulate-cassandra", "--probe-time-scale", "0.01"}};
  apply(fast, "k1", service_yaml("") + sts);
  // 600 ms of delay, then a probe every 100 ms.
  CHECK(eventually([&] { return pod_of(fast, "k1", pod_name("dc1", 0)).ready; }, 5s));
  auto speeds = fast.control("k1", "cassandra/speeds").json();
  const auto* scale = js::find(speeds, "probeTimeScale");
  REQUIRE((scale && scale->IsNumber()));
  CHECK(scale->GetDouble() == doctest::Approx(0.01));

  // Without the scale the pod runs, with its IP, and is not Ready within those 5 s.
  kubesim_instance slow{{"k1"}, {"--simulate-workloads", "--simulate-cassandra"}};
  apply(slow, "k1", service_yaml("") + sts);
  REQUIRE(eventually([&] { return !pod_of(slow, "k1", pod_name("dc1", 0)).ip.empty(); }));
  CHECK_FALSE(eventually([&] { return pod_of(slow, "k1", pod_name("dc1", 0)).ready; }, 5s));
  // The control API sets it for pods started from then on: the pod made again is Ready soon.
  auto r = slow.control("k1", "cassandra/speeds", "probeTimeScale=0.01");
  REQUIRE_MESSAGE(r.status == 200, r.body);
  REQUIRE(slow.kubectl("k1", {"delete", "pod", pod_name("dc1", 0)}).exit_code == 0);
  CHECK(eventually([&] { return pod_of(slow, "k1", pod_name("dc1", 0)).ready; }, 10s));
  CHECK(slow.control("k1", "cassandra/speeds", "probeTimeScale=0").status == 400);
}
