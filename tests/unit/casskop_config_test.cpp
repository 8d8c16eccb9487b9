// casskop's configuration (actors/casskop/config.h): the file, and the original CassKop's
// environment its Helm chart sets.
#include <doctest/doctest.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <string>

#include "actors/casskop/config.h"

namespace {

auto env_of(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const char* k) -> const char* {
    auto it = vars.find(k);
    return it == vars.end() ? nullptr : it->second.c_str();
  };
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("casskop config: a file with one cluster, leader election on the Lease casskop") {
  auto c = casskop::parse_config(R"(namespace: cassandra-e2e
clusters:
  - name: local
    inCluster: true
leaderElection: {enabled: true}
admin: {address: 0.0.0.0:8081}
)",
                                 "config /x.yaml");
  CHECK(c.namespace_name == "cassandra-e2e");
  REQUIRE(c.clusters.size() == 1);
  CHECK(c.clusters[0].in_cluster);
  CHECK(c.leader_election);
  CHECK(c.lease_name == "casskop");
  CHECK(c.admin_address == "0.0.0.0:8081");
}

TEST_CASE("casskop config: what a file must not say is refused with the file and field named") {
  CHECK(error_of([] {
          casskop::parse_config("clusters: [{name: a, inCluster: true}]\n", "config /x.yaml");
        }).find("namespace is required") != std::string::npos);
  CHECK(error_of([] {
          casskop::parse_config(
              "namespace: n\nclusters: [{name: a, inCluster: true}, {name: b, inCluster: true}]\n",
              "config /x.yaml");
        }).find("exactly one cluster") != std::string::npos);
  std::string unknown = error_of([] {
    casskop::parse_config("namespace: n\nclusters: [{name: a, inCluster: true}]\njournal: {}\n",
                          "config /x.yaml");
  });
  CHECK(unknown.find("/x.yaml") != std::string::npos);
  CHECK(unknown.find("journal") != std::string::npos);
}

TEST_CASE(
    "casskop config: the original's environment (WATCH_NAMESPACE, KUBECONFIG or in-cluster)") {
  auto c = casskop::from_environment(env_of({{"WATCH_NAMESPACE", "cassandra"},
                                             {"POD_NAME", "casskop-7d9"},
                                             {"OPERATOR_NAME", "cassandra-operator"},
                                             {"KUBERNETES_SERVICE_HOST", "10.0.0.1"},
                                             {"LOG_LEVEL", "Debug"}}));
  CHECK(c.namespace_name == "cassandra");
  CHECK(c.pod_name == "casskop-7d9");
  CHECK(c.operator_name == "cassandra-operator");
  REQUIRE(c.clusters.size() == 1);
  CHECK(c.clusters[0].in_cluster);
  CHECK(c.log_level == "debug");
  CHECK(c.admin_address == "0.0.0.0:8081");  // the chart probes :8081
  CHECK_FALSE(c.leader_election);

  auto k = casskop::from_environment(env_of({{"WATCH_NAMESPACE", "cassandra"},
                                             {"KUBECONFIG", "/k/config"},
                                             {"KUBERNETES_SERVICE_HOST", "10.0.0.1"},
                                             {"ADMIN_ADDRESS", "127.0.0.1:9000"},
                                             {"LOG_TYPE", "json"}}));
  CHECK(k.clusters[0].kubeconfig == "/k/config");  // KUBECONFIG first, as controller-runtime
  CHECK_FALSE(k.clusters[0].in_cluster);
  CHECK(k.admin_address == "127.0.0.1:9000");
  CHECK(k.log_format == "json");

  CHECK(error_of([] {
          casskop::from_environment(env_of({{"KUBECONFIG", "/k"}}));
        }).find("WATCH_NAMESPACE") != std::string::npos);
}

TEST_CASE("casskop config: the Go CassKop's casskop-lock is honoured unless goCasskopLock: false") {
  const std::string base = "namespace: cassandra-e2e\nclusters: [{name: local, inCluster: true}]\n";
  auto on = casskop::parse_config(base + "leaderElection: {enabled: true}\n", "config /x.yaml");
  CHECK(on.go_casskop_lock);  // the default
  CHECK(on.life_lock_name == "casskop-lock");
  CHECK(on.life_lock_namespace == "cassandra-e2e");
  CHECK(on.life_lock_pod.empty());  // who owns it comes from POD_NAME
  casskop::set_pod_name(on, env_of({{"POD_NAME", "casskop-5f7-x"}}));
  CHECK(on.life_lock_pod == "casskop-5f7-x");
  CHECK(casskop::parse_config(base, "config /x.yaml").life_lock_name == "casskop-lock");

  auto off = casskop::parse_config(base + "leaderElection: {enabled: true, goCasskopLock: false}\n",
                                   "config /x.yaml");
  CHECK_FALSE(off.go_casskop_lock);
  CHECK(off.life_lock_name.empty());
  CHECK(off.leader_election);
  CHECK(error_of([&] {
          casskop::parse_config(base + "leaderElection: {goCasskopLock: maybe}\n",
                                "config /x.yaml");
        }).find("leaderElection.goCasskopLock must be true or false") != std::string::npos);
}

TEST_CASE("casskop config: in the original's environment the lock is where leader.Become puts it") {
  // Outside a pod: the watched namespace.
  auto out = casskop::from_environment(
      env_of({{"WATCH_NAMESPACE", "cassandra"}, {"KUBECONFIG", "/k"}, {"POD_NAME", "casskop-0"}}),
      "/nonexistent/namespace");
  CHECK(out.life_lock_name == "casskop-lock");
  CHECK(out.life_lock_namespace == "cassandra");
  CHECK(out.life_lock_pod == "casskop-0");
  // In a pod: its service account's namespace, whatever namespace is watched.
  const std::string file = "/tmp/casskop-config-test-namespace";
  std::ofstream(file) << "operators\n";
  auto in = casskop::from_environment(
      env_of({{"WATCH_NAMESPACE", "cassandra"}, {"KUBERNETES_SERVICE_HOST", "10.0.0.1"}}), file);
  std::remove(file.c_str());
  CHECK(in.life_lock_namespace == "operators");
  CHECK(in.life_lock_pod.empty());  // no POD_NAME: the host takes no lock and says so
}

TEST_CASE("casskop config: jolokia timeouts and polling, with defaults, refused when wrong") {
  const std::string base = R"(namespace: ns
clusters:
  - name: local
    inCluster: true
)";
  auto d = casskop::parse_config(base, "config /x.yaml");
  CHECK(d.jolokia.timeout_ms == 10'000);
  CHECK(d.jolokia.exec_timeout_ms == 3'600'000);
  CHECK(d.jolokia.rest_poll_ms == 30'000);
  CHECK(d.jolokia.busy_poll_ms == 2'000);
  CHECK(d.jolokia.decommission_resend_ms == 60'000);
  auto c = casskop::parse_config(base + R"(jolokia:
  timeoutSeconds: 2
  execTimeoutSeconds: 600
  restPollSeconds: 5
  busyPollSeconds: 1
  decommissionResendSeconds: 20
)",
                                 "config /x.yaml");
  CHECK(c.jolokia.timeout_ms == 2'000);
  CHECK(c.jolokia.exec_timeout_ms == 600'000);
  CHECK(c.jolokia.rest_poll_ms == 5'000);
  CHECK(c.jolokia.busy_poll_ms == 1'000);
  CHECK(c.jolokia.decommission_resend_ms == 20'000);
  CHECK(casskop::config_json(c).find(R"("jolokia":{"timeoutSeconds":2,)") != std::string::npos);
  CHECK(error_of([&] {
          casskop::parse_config(base + "jolokia: {timeoutSeconds: 0}\n", "config /x.yaml");
        }).find("jolokia.timeoutSeconds must be at least 1") != std::string::npos);
  CHECK(error_of([&] {
          casskop::parse_config(base + "jolokia: {timeout: 3}\n", "config /x.yaml");
        }).find("timeout") != std::string::npos);
}
