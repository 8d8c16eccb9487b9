// casskop and the Go CassKop's leader lock `casskop-lock` (a ConfigMap owned by the leader's
// Pod, operator-lib v0.9.0's leader.Become, as CassKop v2.1.0 takes it): a lock another Pod
// holds keeps casskop from writing anything; the lock goes with its Pod (kubesim's garbage
// collector) and casskop takes it; two casskops, one acts and the other takes over; with a Lease
// the lock follows the Lease. kubesim without workloads: acting shows as a StatefulSet created.
// The evicted and Lease cases run as the ServiceAccount of deploy/kustomize/casskop (its Role).
#include <doctest/doctest.h>

#include "k8s/json/base64.h"
#include "tests/e2e/e2e_setup.h"

namespace {

using namespace e2e;
using namespace std::chrono_literals;
using testsupport::eventually;

const std::string kPods = "/api/v1/namespaces/" + kNs + "/pods";
const std::string kLock = "/api/v1/namespaces/" + kNs + "/configmaps/casskop-lock";
const std::string kSts = "/apis/apps/v1/namespaces/" + kNs + "/statefulsets";

std::string cc_json(const std::string& name) {
  return R"({"apiVersion":"db.orange.com/v2","kind":"CassandraCluster","metadata":{"name":")" +
         name +
         R"("},"spec":{"nodesPerRacks":1,"cassandraImage":"cassandra:3.11.10",)"
         R"("topology":{"dc":[{"name":"dc1","rack":[{"name":"rack1"}]}]}}})";
}

struct lock_world {
  testsupport::kubesim_instance sim{{"k1"}};
  std::unique_ptr<api_client> api;

  lock_world() {
    api.reset(new api_client(sim.client("k1")));
    kubeconfig = sim.kubeconfig("k1");
    auto r = sim.kubectl(
        "k1", {"apply", "-f",
               std::string(SOURCE_DIR) + "/deploy/crds/db.orange.com_cassandraclusters.yaml"});
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    auto n = api->request(
        "POST", "/api/v1/namespaces",
        R"({"apiVersion":"v1","kind":"Namespace","metadata":{"name":")" + kNs + R"("}})");
    REQUIRE_MESSAGE(n.status == 201, n.body);
  }

  // A Pod as its Deployment would make it (the lock's owner must exist to be read).
  js::Document pod(const std::string& name) {
    auto r = api->request(
        "POST", kPods,
        R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":")" + name +
            R"("},"spec":{"containers":[{"name":"casskop","image":"casskop:2.1.0"}]}})");
    REQUIRE_MESSAGE(r.status == 201, r.body);
    return r.json();
  }
  void delete_pod(const std::string& name) {
    auto r = api->request("DELETE", kPods + "/" + name);
    REQUIRE_MESSAGE(r.status == 200, r.body);
  }
  // The lock exactly as leader.Become creates it (leader.go:135-141).
  void go_lock(const js::Value& owner) {
    auto r =
        api->request("POST", "/api/v1/namespaces/" + kNs + "/configmaps",
                     R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"casskop-lock",)"
                     R"("ownerReferences":[{"apiVersion":"v1","kind":"Pod","name":")" +
                         std::string(js::get_string(owner, {"metadata", "name"})) + R"(","uid":")" +
                         std::string(js::get_string(owner, {"metadata", "uid"})) + R"("}]}})");
    REQUIRE_MESSAGE(r.status == 201, r.body);
  }
  // The lock's owner Pod ("" without a lock).
  std::string lock_holder() {
    auto r = api->get(kLock);
    if (r.status != 200) return "";
    auto d = r.json();
    const js::Value* refs = js::find_path(d, {"metadata", "ownerReferences"});
    if (!refs || !refs->IsArray() || refs->Size() != 1) return "?";
    return std::string(js::get_string((*refs)[0], "name"));
  }
  void create_cc(const std::string& name) {
    auto r = api->request("POST", kCCs, cc_json(name));
    REQUIRE_MESSAGE(r.status == 201, r.body);
  }
  bool has_sts(const std::string& cc) {
    return api->get(kSts + "/" + cc + "-dc1-rack1").status == 200;
  }
  // The ServiceAccount casskop of deploy/kustomize/casskop, with its Role, as a kubeconfig (a
  // TokenRequest token, as a pod's projected token): kubesim's RBAC then refuses what the Role
  // does not grant.
  std::string service_account_kubeconfig() {
    auto applied =
        sim.kubectl("k1", {"apply", "-k", std::string(SOURCE_DIR) + "/deploy/kustomize/casskop"});
    REQUIRE_MESSAGE(applied.exit_code == 0, applied.err);
    auto token = sim.kubectl("k1", {"create", "token", "casskop", "-n", kNs, "--duration", "1h"});
    REQUIRE_MESSAGE(token.exit_code == 0, token.err);
    const std::string path = sim.state_dir() + "/casskop-sa-kubeconfig";
    testsupport::write_file(
        path,
        fmt::format(
            R"({{"apiVersion":"v1","kind":"Config","clusters":[{{"name":"k1","cluster":{{"server":"{0}","certificate-authority-data":"{1}"}}}}],)"
            R"("users":[{{"name":"k1","user":{{"token":"{2}"}}}}],"contexts":[{{"name":"k1","context":{{"cluster":"k1","user":"k1"}}}}],"current-context":"k1"}})",
            sim.url("k1"), k8s::base64_encode(sim.ca_pem("k1")),
            token.out.substr(0, token.out.find('\n'))));
    return path;
  }
  std::string kubeconfig;  // the admin's unless a test sets the ServiceAccount's

  // casskop in the original chart's environment, as pod `pod` ("" = no POD_NAME).
  std::unique_ptr<operator_process> env_casskop(const std::string& pod) {
    std::map<std::string, std::string> env{{"WATCH_NAMESPACE", kNs},
                                           {"KUBECONFIG", kubeconfig},
                                           {"OPERATOR_NAME", "cassandra-operator"},
                                           {"ADMIN_ADDRESS", "127.0.0.1:0"}};
    if (!pod.empty()) env["POD_NAME"] = pod;
    return std::make_unique<operator_process>(operator_process::binary{CASSKOP_BIN},
                                              std::vector<std::string>{}, env);
  }
  // casskop --config with leader election on the Lease casskop, as pod `pod`.
  std::unique_ptr<operator_process> lease_casskop(const std::string& pod) {
    const std::string path = sim.state_dir() + "/casskop-" + pod + ".yaml";
    testsupport::write_file(path, fmt::format(R"(namespace: {}
clusters:
  - name: k1
    kubeconfig: {}
admin: {{address: "127.0.0.1:0"}}
leaderElection: {{enabled: true, leaseDurationSeconds: 4, renewDeadlineSeconds: 3,
                  retryPeriodSeconds: 1}}
)",
                                              kNs, kubeconfig));
    return std::make_unique<operator_process>(
        operator_process::binary{CASSKOP_BIN}, std::vector<std::string>{"--config", path},
        std::map<std::string, std::string>{{"POD_NAME", pod}});
  }
};

js::Document readyz(const operator_process& op) {
  auto r = admin_client(admin_address(op)).get("/readyz");
  REQUIRE_MESSAGE(r.status == 200, r.body);
  return r.json();
}

size_t waits_naming(const operator_process& op, const std::string& holder) {
  return op.count_log_lines({"msg=\"Not the leader: waiting for the lock\"", "holder=" + holder});
}

}  // namespace

TEST_CASE("casskop lock e2e: a Go CassKop's lock keeps casskop idle until its pod is deleted") {
  lock_world w;
  auto go = w.pod("casskop-go-6d5f");
  w.pod("casskop-0");
  w.go_lock(go);
  auto op = w.env_casskop("casskop-0");
  REQUIRE_MESSAGE(eventually([&] { return waits_naming(*op, "casskop-go-6d5f") >= 1; }, 10s),
                  op->log());
  auto ready = readyz(*op);
  CHECK(js::get_bool(ready, {"leader"}, true) == false);
  CHECK_MESSAGE(
      js::get_string(ready, "standby").find("held by pod casskop-go-6d5f") != std::string::npos,
      js::to_string(ready));
  // A CassandraCluster created meanwhile, then two more waits (a full retry after it existed).
  w.create_cc("cassandra-e2e");
  const size_t before = waits_naming(*op, "casskop-go-6d5f");
  REQUIRE_MESSAGE(
      eventually([&] { return waits_naming(*op, "casskop-go-6d5f") >= before + 2; }, 30s),
      op->log());
  CHECK(!w.has_sts("cassandra-e2e"));
  CHECK(w.api->get("/api/v1/namespaces/" + kNs + "/services/cassandra-e2e").status == 404);
  auto cc = w.api->get(kCCs + "/cassandra-e2e").json();
  CHECK(js::find_path(cc, {"metadata", "annotations"}) == nullptr);
  CHECK(js::find(cc, "status") == nullptr);
  CHECK(op->current_log().find("Controller started") == std::string::npos);
  CHECK(w.lock_holder() == "casskop-go-6d5f");
  // The Go CassKop's pod deleted: the garbage collector deletes its lock, casskop takes it.
  w.delete_pod("casskop-go-6d5f");
  REQUIRE_MESSAGE(eventually([&] { return w.has_sts("cassandra-e2e"); }, 40s), op->log());
  CHECK(w.lock_holder() == "casskop-0");
  CHECK(op->count_log_lines({"msg=\"Became the leader\"", "how=\"created the lock\""}) == 1);
  CHECK(js::get_bool(readyz(*op), {"ready"}, false));
  CHECK(op->stop() == 0);
  // Leader for life: stopping leaves the lock to the pod's deletion.
  CHECK(w.lock_holder() == "casskop-0");
}

TEST_CASE(
    "casskop lock e2e: two casskops, one acts, and once it is killed and its pod deleted the other "
    "does") {
  lock_world w;
  w.pod("casskop-a");
  w.pod("casskop-b");
  auto a = w.env_casskop("casskop-a");
  REQUIRE_MESSAGE(eventually([&] { return w.lock_holder() == "casskop-a"; }, 10s), a->log());
  auto b = w.env_casskop("casskop-b");
  REQUIRE_MESSAGE(eventually([&] { return waits_naming(*b, "casskop-a") >= 1; }, 10s), b->log());
  w.create_cc("first");
  REQUIRE_MESSAGE(eventually([&] { return w.has_sts("first"); }, 20s), a->log());
  CHECK(b->current_log().find("Controller started") == std::string::npos);
  CHECK(js::get_string(readyz(*b), "standby").find("casskop-a") != std::string::npos);
  // kill -9: the lock stays (its pod lives, as a crashed container's pod does) ...
  a->kill9();
  w.create_cc("second");
  const size_t before = waits_naming(*b, "casskop-a");
  REQUIRE(eventually([&] { return waits_naming(*b, "casskop-a") >= before + 1; }, 30s));
  CHECK(!w.has_sts("second"));
  // ... until the pod is deleted: then b takes the lock and reconciles.
  w.delete_pod("casskop-a");
  REQUIRE_MESSAGE(eventually([&] { return w.has_sts("second"); }, 40s), b->log());
  CHECK(w.lock_holder() == "casskop-b");
  CHECK(b->stop() == 0);
}

TEST_CASE("casskop lock e2e: a lock whose holder was evicted is removed and taken") {
  lock_world w;
  auto go = w.pod("casskop-go-evicted");
  w.pod("casskop-0");
  w.go_lock(go);
  auto status = w.api->request(
      "PATCH", kPods + "/casskop-go-evicted/status",
      R"({"status":{"phase":"Failed","reason":"Evicted","message":"The node was low on memory."}})",
      "application/merge-patch+json");
  REQUIRE_MESSAGE(status.status == 200, status.body);
  w.create_cc("cassandra-e2e");
  w.kubeconfig = w.service_account_kubeconfig();  // the Role allows deleting casskop-lock only
  auto op = w.env_casskop("casskop-0");
  REQUIRE_MESSAGE(eventually([&] { return w.has_sts("cassandra-e2e"); }, 20s), op->log());
  CHECK(w.lock_holder() == "casskop-0");
  CHECK(op->count_log_lines({"Removing the lock of an evicted leader", "casskop-go-evicted"}) == 1);
  // The evicted pod is left for its owner to deal with.
  CHECK(w.api->get(kPods + "/casskop-go-evicted").status == 200);
  CHECK_MESSAGE(op->log().find("orbidden") == std::string::npos, op->log());
}

TEST_CASE("casskop lock e2e: without POD_NAME no lock is taken, and casskop says so") {
  lock_world w;
  w.create_cc("cassandra-e2e");
  auto op = w.env_casskop("");
  REQUIRE_MESSAGE(eventually([&] { return w.has_sts("cassandra-e2e"); }, 20s), op->log());
  CHECK(op->count_log_lines({"No leader lock taken: POD_NAME is not set"}) == 1);
  CHECK(w.api->get(kLock).status == 404);
}

TEST_CASE(
    "casskop lock e2e: with a Lease, the Lease holder also needs the lock, which follows it") {
  lock_world w;
  auto go = w.pod("casskop-go-1");
  w.pod("casskop-a");
  w.pod("casskop-b");
  w.go_lock(go);
  w.create_cc("cassandra-e2e");
  w.kubeconfig = w.service_account_kubeconfig();  // the Role of deploy/kustomize/casskop
  auto a = w.lease_casskop("casskop-a");
  REQUIRE_MESSAGE(a->wait_for_log("leader election: started leading", 10s), a->log());
  // It holds the Lease and waits for the Go CassKop's lock: a standby that says why.
  REQUIRE_MESSAGE(eventually([&] { return waits_naming(*a, "casskop-go-1") >= 2; }, 20s), a->log());
  CHECK(!w.has_sts("cassandra-e2e"));
  CHECK(js::get_string(readyz(*a), "standby").find("casskop-go-1") != std::string::npos);
  w.delete_pod("casskop-go-1");
  REQUIRE_MESSAGE(eventually([&] { return w.has_sts("cassandra-e2e"); }, 40s), a->log());
  CHECK(w.lock_holder() == "casskop-a");
  auto lock = w.api->get(kLock).json();
  CHECK(js::get_string(lock, {"metadata", "annotations", "casskop.db.orange.com/leader-lease"}) ==
        "casskop");
  // The second replica waits on the Lease; the first stops (releasing the Lease, its pod still
  // there): the second takes the Lease, moves the lock to its pod and acts.
  auto b = w.lease_casskop("casskop-b");
  REQUIRE(b->wait_for_log("leader election: campaigning", 10s));
  CHECK(a->stop() == 0);
  REQUIRE_MESSAGE(eventually([&] { return w.lock_holder() == "casskop-b"; }, 20s), b->log());
  CHECK(b->count_log_lines({"msg=\"Became the leader\"", "took over the lock"}) == 1);
  w.create_cc("second");
  REQUIRE_MESSAGE(eventually([&] { return w.has_sts("second"); }, 20s), b->log());
  CHECK(w.api->get(kPods + "/casskop-a").status == 200);
  CHECK_MESSAGE(a->log().find("orbidden") == std::string::npos, a->log());
  CHECK_MESSAGE(b->log().find("orbidden") == std::string::npos, b->log());
  CHECK(b->stop() == 0);
}
