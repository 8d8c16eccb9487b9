// The operator's configuration: the YAML file and the original operator's flags.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "actors/multicasskop/config.h"

using namespace mc;

namespace {

std::string error_of(const std::string& yaml) {
  try {
    parse_config(yaml, "config test.yaml");
  } catch (const config_invalid& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("config: a complete file") {
  auto c = parse_config(R"(
namespace: cassandra-e2e
clusters:
  - name: k8s-cluster1
    inCluster: true
  - name: k8s-cluster2
    secretDir: /var/run/secrets/admiralty.io/serviceaccountimports/k8s-cluster2
  - name: k8s-cluster3
    kubeconfig: /etc/mc/kubeconfig
    context: east
log: {level: debug, format: json}
journal: {maxEventsPerMultiCasskop: 10, file: /var/log/mc.jsonl, maxFileMegabytes: 8, maxFiles: 2}
readiness: {legacySettleSeconds: 30}
limits: {maxMultiCasskopSpecKilobytes: 100}
admin: {address: "0.0.0.0:8090", tokenFile: /etc/mc/token}
)",
                        "config x");
  CHECK(c.namespace_name == "cassandra-e2e");
  REQUIRE(c.clusters.size() == 3);
  CHECK(c.clusters[0].in_cluster);
  CHECK(c.clusters[1].secret_dir == "/var/run/secrets/admiralty.io/serviceaccountimports/k8s-cluster2");
  CHECK(c.clusters[2].kubeconfig == "/etc/mc/kubeconfig");
  CHECK(c.clusters[2].context == "east");
  CHECK(c.clusters[2].describe() == "kubeconfig /etc/mc/kubeconfig (context east)");
  CHECK(c.log_level == "debug");
  CHECK(c.log_format == "json");
  CHECK(c.journal_limit == 10);
  CHECK(c.journal_file == "/var/log/mc.jsonl");
  CHECK(c.journal_max_file_mib == 8);
  CHECK(c.journal_max_files == 2);
  CHECK(c.max_multicasskop_spec_bytes == 100 * 1024);
  CHECK(c.legacy_settle_ms == 30000);
  CHECK(c.admin_address == "0.0.0.0:8090");
}

TEST_CASE("config: errors name the file and the field") {
  CHECK(error_of("clusters: [{name: a, inCluster: true}]") ==
        "config test.yaml: namespace is required (the namespace multi-casskop watches)");
  CHECK(error_of("namespace: n") ==
        "config test.yaml: clusters must list at least one cluster (the first is the local one)");
  CHECK(error_of("namespace: n\nclusters: [{name: a}]") ==
        "config test.yaml: clusters[0] (a) needs exactly one of kubeconfig, secretDir, inCluster: true");
  CHECK(error_of("namespace: n\nclusters: [{name: a, inCluster: true, secretDir: /x}]") ==
        "config test.yaml: clusters[0] (a) needs exactly one of kubeconfig, secretDir, inCluster: true");
  CHECK(error_of("namespace: n\nclusters: [{name: A_b, inCluster: true}]").find("must be a DNS label") !=
        std::string::npos);
  CHECK(error_of("namespace: n\nclusters: [{name: a, inCluster: true}, {name: a, inCluster: true}]") ==
        "config test.yaml: cluster \"a\" is listed twice");
  CHECK(error_of("namespace: n\nclusters: [{name: a, inCluster: true, kubconfig: /x}]")
            .find("clusters[0]: unknown field \"kubconfig\"") != std::string::npos);
  CHECK(error_of("namespace: n\nnamspace: m\nclusters: [{name: a, inCluster: true}]")
            .find("unknown field \"namspace\"") != std::string::npos);
  CHECK(error_of("namespace: n\nclusters: [{name: a, inCluster: maybe}]") ==
        "config test.yaml: clusters[0].inCluster must be true or false");
  CHECK(error_of("namespace: n\nclusters: [{name: a, inCluster: true}]\nlog: {format: xml}") ==
        "config test.yaml: log.format must be logfmt or json, not \"xml\"");
  CHECK(error_of("namespace: n\nclusters: [{name: a, inCluster: true}]\nreadiness: {legacySettleSeconds: -1}") ==
        "config test.yaml: readiness.legacySettleSeconds must be at least 0");
  CHECK(error_of("namespace: [").find("not valid YAML") != std::string::npos);
  CHECK(error_of("namespace: n\nclusters: [{name: a, inCluster: true}]\njournal: {maxFiles: 0}") ==
        "config test.yaml: journal.maxFiles must be at least 1");
  CHECK(error_of("namespace: n\nclusters: [{name: a, inCluster: true}]\nlimits: "
                 "{maxMultiCasskopSpecKilobytes: 0}") ==
        "config test.yaml: limits.maxMultiCasskopSpecKilobytes must be at least 1");
  CHECK(error_of("- a\n- b") == "config test.yaml: must be a YAML mapping");
}

TEST_CASE("config: the original operator's flags") {
  namespace fs = std::filesystem;
  auto dir = fs::temp_directory_path() / "mc-config-test";
  fs::create_directories(dir / "k8s-cluster2");
  { std::ofstream(dir / "k8s-cluster2" / "config") << "apiVersion: v1\n"; }
  std::map<std::string, std::string> env = {{"WATCH_NAMESPACE", "cassandra-e2e"},
                                            {"KUBECONFIG", "/home/u/kubeconfig"},
                                            {"LOG_TYPE", "json"},
                                            {"LOG_LEVEL", "Debug"}};
  auto getenv = [&](const char* k) -> const char* {
    auto it = env.find(k);
    return it == env.end() ? nullptr : it->second.c_str();
  };
  auto c = from_legacy_flags("k8s-cluster1", {"k8s-cluster2", "k8s-cluster3"}, getenv, dir.string());
  CHECK(c.namespace_name == "cassandra-e2e");
  REQUIRE(c.clusters.size() == 3);
  CHECK(c.clusters[0].kubeconfig == "/home/u/kubeconfig");  // not in a pod
  CHECK(c.clusters[1].secret_dir == (dir / "k8s-cluster2").string());  // Admiralty import
  CHECK(c.clusters[2].kubeconfig == "/home/u/kubeconfig");  // else a context of that name
  CHECK(c.clusters[2].context == "k8s-cluster3");
  CHECK(c.log_format == "json");
  CHECK(c.log_level == "debug");
  env["KUBERNETES_SERVICE_HOST"] = "10.0.0.1";
  CHECK(from_legacy_flags("k8s-cluster1", {}, getenv, dir.string()).clusters[0].in_cluster);
  env.erase("WATCH_NAMESPACE");
  CHECK_THROWS_WITH_AS(from_legacy_flags("k8s-cluster1", {}, getenv, dir.string()),
                       "command line: WATCH_NAMESPACE must be set with the original flags", config_invalid);
  fs::remove_all(dir);
}
