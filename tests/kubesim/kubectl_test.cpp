// The real kubectl (v1.32 client) against kubesim: the commands users and our docs rely on.
#include <doctest/doctest.h>

#include "tests/support/kubesim_fixture.h"

using namespace testsupport;
using namespace std::chrono_literals;

namespace {

const char* cluster_yaml = R"(apiVersion: db.orange.com/v2
kind: CassandraCluster
metadata:
  name: cluster1
  namespace: default
spec:
  nodesPerRacks: 3
)";

// A kubesim with the CassandraCluster CRD applied and Established, as a user would do it.
struct crd_ready {
  kubesim_instance sim;
  crd_ready() {
    auto r = sim.kubectl("k1", {"apply", "-f", "-"}, cassandracluster_crd_yaml());
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    auto w = sim.kubectl("k1", {"wait", "--for=condition=Established",
                                "crd/cassandraclusters.db.orange.com", "--timeout=20s"});
    REQUIRE_MESSAGE(w.exit_code == 0, w.err);
    CHECK(w.out.find("condition met") != std::string::npos);
  }
  run_result kubectl(const std::vector<std::string>& args, const std::string& in = "") {
    return sim.kubectl("k1", args, in);
  }
};

}  // namespace

TEST_CASE("kubectl version reports a v1.32 server") {
  kubesim_instance sim;
  auto r = sim.kubectl("k1", {"version", "-o", "json"});
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  auto d = k8s::json::parse(r.out);
  CHECK(k8s::json::get_string(d, {"serverVersion", "minor"}) == "32");
  CHECK(k8s::json::get_string(d, {"serverVersion", "gitVersion"}).substr(0, 6) == "v1.32.");
}

TEST_CASE("kubectl applies a CRD, waits for Established and applies a custom resource") {
  crd_ready f;
  auto r = f.kubectl({"apply", "-f", "-"}, cluster_yaml);
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  CHECK(r.out == "cassandracluster.db.orange.com/cluster1 created\n");
  // Re-applying the same manifest sends no PATCH and says so.
  r = f.kubectl({"apply", "-f", "-"}, cluster_yaml);
  CHECK(r.out == "cassandracluster.db.orange.com/cluster1 unchanged\n");
}

TEST_CASE("kubectl get prints the CRD's printer columns and JSON") {
  crd_ready f;
  REQUIRE(f.kubectl({"apply", "-f", "-"}, cluster_yaml).exit_code == 0);
  auto table = f.kubectl({"get", "cassandraclusters"});
  REQUIRE_MESSAGE(table.exit_code == 0, table.err);
  CHECK(table.out.find("NAME       PHASE   NODES") == 0);
  CHECK(table.out.find("cluster1           3") != std::string::npos);
  // Short names resolve through discovery.
  CHECK(f.kubectl({"get", "cassc", "cluster1"}).out.find("cluster1") != std::string::npos);
  auto all = f.kubectl({"get", "cassc", "-A"});
  CHECK(all.out.find("NAMESPACE") == 0);
  CHECK(all.out.find("default     cluster1") != std::string::npos);

  auto json = f.kubectl({"get", "cassc", "cluster1", "-o", "json"});
  REQUIRE(json.exit_code == 0);
  auto d = k8s::json::parse(json.out);
  CHECK(k8s::json::get_string(d, "kind") == "CassandraCluster");
  CHECK(k8s::json::get_int(d, {"metadata", "generation"}, 0) == 1);
  CHECK(!k8s::json::get_string(d, {"metadata", "uid"}).empty());
  CHECK(k8s::json::get_int(d, {"spec", "nodesPerRacks"}, 0) == 3);
}

TEST_CASE("kubectl get -w sees a later change") {
  crd_ready f;
  REQUIRE(f.kubectl({"apply", "-f", "-"}, cluster_yaml).exit_code == 0);
  child watch(f.sim.kubectl_argv("k1", {"get", "cassc", "-w"}), f.sim.kubectl_env());
  REQUIRE(watch.wait_for_line("cluster1           3", 20s));
  auto p = f.kubectl({"patch", "cassc", "cluster1", "--subresource=status", "--type", "merge", "-p",
                      R"({"status":{"phase":"Running"}})"});
  REQUIRE_MESSAGE(p.exit_code == 0, p.err);
  CHECK(watch.wait_for_line("cluster1   Running   3", 20s));
  // The watch stays open: kubectl exits only when we stop it.
  CHECK(watch.running());
}

TEST_CASE("kubectl patch: merge on spec bumps generation, status subresource does not") {
  crd_ready f;
  REQUIRE(f.kubectl({"apply", "-f", "-"}, cluster_yaml).exit_code == 0);
  auto r = f.kubectl({"patch", "cassc", "cluster1", "--type", "merge", "-p", R"({"spec":{"nodesPerRacks":5}})"});
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  CHECK(r.out == "cassandracluster.db.orange.com/cluster1 patched\n");
  r = f.kubectl({"patch", "cassc", "cluster1", "--subresource=status", "--type", "merge", "-p",
                 R"({"status":{"phase":"Running"},"spec":{"nodesPerRacks":9}})"});
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  auto d = k8s::json::parse(f.kubectl({"get", "cassc", "cluster1", "-o", "json"}).out);
  CHECK(k8s::json::get_int(d, {"spec", "nodesPerRacks"}, 0) == 5);  // /status ignores spec
  CHECK(k8s::json::get_string(d, {"status", "phase"}) == "Running");
  CHECK(k8s::json::get_int(d, {"metadata", "generation"}, 0) == 2);
  // The same patch again changes nothing: no new resourceVersion.
  auto rv = k8s::json::get_string(d, {"metadata", "resourceVersion"});
  r = f.kubectl({"patch", "cassc", "cluster1", "--type", "merge", "-p", R"({"spec":{"nodesPerRacks":5}})"});
  CHECK(r.out == "cassandracluster.db.orange.com/cluster1 patched (no change)\n");
  auto again = k8s::json::parse(f.kubectl({"get", "cassc", "cluster1", "-o", "json"}).out);
  CHECK(k8s::json::get_string(again, {"metadata", "resourceVersion"}) == rv);
}

TEST_CASE("kubectl patch with the default strategic type is refused for a custom resource") {
  crd_ready f;
  REQUIRE(f.kubectl({"apply", "-f", "-"}, cluster_yaml).exit_code == 0);
  auto r = f.kubectl({"patch", "cassc", "cluster1", "-p", R"({"spec":{"nodesPerRacks":5}})"});
  CHECK(r.exit_code != 0);
  CHECK(r.err.find("application/strategic-merge-patch+json is not supported by db.orange.com/v2, "
                   "Kind=CassandraCluster") != std::string::npos);
}

TEST_CASE("kubectl patch --type json applies and tests") {
  crd_ready f;
  REQUIRE(f.kubectl({"apply", "-f", "-"}, cluster_yaml).exit_code == 0);
  auto r = f.kubectl({"patch", "cassc", "cluster1", "--type", "json", "-p",
                      R"([{"op":"replace","path":"/spec/nodesPerRacks","value":7}])"});
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  r = f.kubectl({"patch", "cassc", "cluster1", "--type", "json", "-p",
                 R"([{"op":"test","path":"/spec/nodesPerRacks","value":1}])"});
  CHECK(r.exit_code != 0);
  CHECK(r.err.find("test operation failed") != std::string::npos);
}

TEST_CASE("kubectl apply --server-side creates and then updates") {
  crd_ready f;
  auto r = f.kubectl({"apply", "--server-side", "-f", "-"}, cluster_yaml);
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  CHECK(r.out == "cassandracluster.db.orange.com/cluster1 serverside-applied\n");
  std::string changed = cluster_yaml;
  changed.replace(changed.find("nodesPerRacks: 3"), 16, "nodesPerRacks: 4");
  r = f.kubectl({"apply", "--server-side", "-f", "-"}, changed);
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  auto d = k8s::json::parse(f.kubectl({"get", "cassc", "cluster1", "-o", "json"}).out);
  CHECK(k8s::json::get_int(d, {"spec", "nodesPerRacks"}, 0) == 4);
  CHECK(k8s::json::get_int(d, {"metadata", "generation"}, 0) == 2);
}

TEST_CASE("kubectl delete without finalizers removes at once") {
  crd_ready f;
  REQUIRE(f.kubectl({"apply", "-f", "-"}, cluster_yaml).exit_code == 0);
  auto r = f.kubectl({"delete", "cassc", "cluster1"});
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  CHECK(r.out == "cassandracluster.db.orange.com \"cluster1\" deleted\n");
  auto g = f.kubectl({"get", "cassc", "cluster1"});
  CHECK(g.exit_code != 0);
  CHECK(g.err.find("cassandraclusters.db.orange.com \"cluster1\" not found") != std::string::npos);
}

TEST_CASE("kubectl delete with a finalizer waits until the finalizer is removed") {
  crd_ready f;
  std::string with_finalizer = cluster_yaml;
  with_finalizer.replace(with_finalizer.find("  namespace: default\n"), 21,
                         "  namespace: default\n  finalizers: [example.com/hold]\n");
  REQUIRE(f.kubectl({"apply", "-f", "-"}, with_finalizer).exit_code == 0);
  auto del = f.kubectl({"delete", "cassc", "cluster1", "--wait=false"});
  REQUIRE_MESSAGE(del.exit_code == 0, del.err);
  auto d = k8s::json::parse(f.kubectl({"get", "cassc", "cluster1", "-o", "json"}).out);
  CHECK(k8s::json::find_path(d, {"metadata", "deletionTimestamp"}) != nullptr);

  // kubectl wait --for=delete blocks until the finalizer goes.
  child waiter(f.sim.kubectl_argv("k1", {"wait", "--for=delete", "cassc/cluster1", "--timeout=30s"}),
               f.sim.kubectl_env());
  // Only once its watch is open may the finalizer go: before, kubectl wait would find nothing.
  auto open_watches = [&] {
    auto info = f.sim.cluster_info("k1");
    return info.status == 200 ? k8s::json::get_int(k8s::json::parse(info.body), {"openWatches"}, -1)
                              : -1;
  };
  REQUIRE(eventually([&] { return open_watches() >= 1; }, 20s));
  CHECK(waiter.running());
  auto p = f.kubectl({"patch", "cassc", "cluster1", "--type", "json", "-p",
                      R"([{"op":"remove","path":"/metadata/finalizers"}])"});
  REQUIRE_MESSAGE(p.exit_code == 0, p.err);
  CHECK(waiter.wait_for_line("cassandracluster.db.orange.com/cluster1 condition met", 30s));
  CHECK(f.kubectl({"get", "cassc", "cluster1"}).exit_code != 0);
}

TEST_CASE("kubectl works with built-in kinds: namespaces, configmaps, describe") {
  kubesim_instance sim;
  auto r = sim.kubectl("k1", {"apply", "-f", "-"}, R"(apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: default
  labels: {app: demo}
data:
  a: "1"
)");
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  auto g = sim.kubectl("k1", {"get", "configmaps", "-l", "app=demo"});
  CHECK(g.out.find("settings") != std::string::npos);
  auto ns = sim.kubectl("k1", {"get", "namespaces"});
  CHECK(ns.out.find("kube-system") != std::string::npos);
  CHECK(ns.out.find("Active") != std::string::npos);
  auto d = sim.kubectl("k1", {"describe", "configmap", "settings"});
  CHECK_MESSAGE(d.exit_code == 0, d.err);
  CHECK(d.out.find("Name:") != std::string::npos);
}
