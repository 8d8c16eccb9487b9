// casskop end to end: the real binary against kubesim with --simulate-workloads (its
// StatefulSet controller and kubelet stand-in: pods, PVCs, readiness, rolling updates honouring
// the partition, StatefulSet status like the real one). An independent watch of StatefulSets
// checks, event by event, that never two racks move at once.
#include <doctest/doctest.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "k8s/json/base64.h"
#include "k8s/json/yaml_json.h"
#include "tests/e2e/e2e_setup.h"
#include "tests/support/cassandra_objects.h"

namespace {

using namespace e2e;
using namespace std::chrono_literals;
using testsupport::eventually;

const std::string kCC = "cassandra-e2e";
const std::string kSts = "/apis/apps/v1/namespaces/" + kNs + "/statefulsets";

// The ConfigMap of the pod template's `cassandra-config` volume ("" when none).
std::string observe_volume(const js::Value& sts) {
  if (const js::Value* vs = js::find_path(sts, {"spec", "template", "spec", "volumes"});
      vs && vs->IsArray())
    for (const auto& v : vs->GetArray())
      if (js::get_string(v, "name") == "cassandra-config")
        return std::string(js::get_string(v, {"configMap", "name"}));
  return "";
}

// Watches StatefulSets on its own thread and records what a user would check.
class sts_recorder {
 public:
  explicit sts_recorder(testsupport::api_client& api) {
    stream_ = api.stream(kSts + "?watch=true");
    REQUIRE(stream_->status() == 200);
    thread_ = std::thread([this] { run(); });
  }
  ~sts_recorder() {
    stop_ = true;
    stream_->cancel();
    thread_.join();
  }
  int max_moving() const { return max_moving_; }
  std::vector<std::string> added() {
    std::lock_guard l(mutex_);
    return added_;
  }
  // StatefulSet names in the order their cassandra image first became `image`.
  std::vector<std::string> rolled_to(const std::string& image) {
    std::lock_guard l(mutex_);
    std::vector<std::string> out;
    for (const auto& [name, img] : image_changes_)
      if (img == image) out.push_back(name);
    return out;
  }
  std::optional<js::Document> get(const std::string& name) {
    std::lock_guard l(mutex_);
    auto it = latest_.find(name);
    if (it == latest_.end()) return std::nullopt;
    return js::copy_of(it->second);
  }
  // Who moved together, for failure messages.
  std::string moving_log() {
    std::lock_guard l(mutex_);
    return moving_log_;
  }

 private:
  void run() {
    while (!stop_) {
      auto line = stream_->next(200ms);
      if (!line) {
        if (stream_->ended()) return;
        continue;
      }
      auto ev = js::parse(*line);
      const js::Value* obj = js::find(ev, "object");
      if (!obj) continue;
      std::string name(js::get_string(*obj, {"metadata", "name"}));
      std::string type(js::get_string(ev, "type"));
      std::lock_guard l(mutex_);
      if (type == "ADDED") added_.push_back(name);
      if (type == "DELETED") {
        latest_.erase(name);
        continue;
      }
      std::string before = latest_.count(name) ? testsupport::cassandra_image(latest_[name]) : "";
      if (testsupport::cassandra_image(*obj) != before)
        image_changes_.emplace_back(name, testsupport::cassandra_image(*obj));
      latest_[name] = js::copy_of(*obj);
      int n = 0;
      std::string who;
      for (const auto& [k, v] : latest_)
        if (testsupport::sts_moving(v)) {
          ++n;
          who += " " + k;
        }
      if (n > 1) moving_log_ += "moving together:" + who + "\n";
      max_moving_ = std::max(max_moving_.load(), n);
    }
  }

  std::unique_ptr<testsupport::line_stream> stream_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<int> max_moving_{0};
  std::mutex mutex_;
  std::vector<std::string> added_;
  std::vector<std::pair<std::string, std::string>> image_changes_;
  std::map<std::string, js::Document> latest_;
  std::string moving_log_;
};

std::string cc_json(int dcs, int racks, int nodes, const std::string& image = "cassandra:3.11.10",
                    const std::string& extra_spec = "") {
  const std::string topology = testsupport::topology_dcs_json(dcs, racks);
  return fmt::format(
      R"({{"apiVersion":"db.orange.com/v2","kind":"CassandraCluster","metadata":{{"name":"{}","namespace":"{}"}},
          "spec":{{"nodesPerRacks":{},"cassandraImage":"{}","dataCapacity":"1Gi","deletePVC":true{},
                   "topology":{{"dc":{}}}}}}})",
      kCC, kNs, nodes, image, extra_spec, topology);
}

// kubesim with workloads, the CassandraCluster CRD and the namespace, and casskop.
struct cc_world {
  testsupport::kubesim_instance sim;
  std::unique_ptr<api_client> api;
  std::string config_path;
  std::unique_ptr<operator_process> op;

  explicit cc_world(cc_crd crd = cc_crd::ours, int pod_ready_ms = 150)
      : sim({"k1"},
            {"--simulate-workloads", "--pod-ready-delay-ms", std::to_string(pod_ready_ms)}) {
    api.reset(new api_client(sim.client("k1")));
    config_path = prepare_casskop_cluster(sim, *api, crd);
  }

  void start_casskop() {
    op = std::make_unique<operator_process>(operator_process::binary{CASSKOP_BIN},
                                            std::vector<std::string>{"--config", config_path});
  }

  void create_cc(const std::string& body) {
    auto r = api->request("POST", kCCs, body);
    REQUIRE_MESSAGE(r.status == 201, r.body);
  }
  void patch_cc(const std::string& merge_patch) {
    auto r = api->request("PATCH", kCCs + "/" + kCC, merge_patch, "application/merge-patch+json");
    REQUIRE_MESSAGE(r.status == 200, r.body);
  }
  js::Document cc() {
    auto r = api->get(kCCs + "/" + kCC);
    REQUIRE_MESSAGE(r.status == 200, r.body);
    return r.json();
  }
  js::Document sts(const std::string& name) {
    auto r = api->get(kSts + "/" + name);
    REQUIRE_MESSAGE(r.status == 200, r.body);
    return r.json();
  }
  // Running and Done, every rack's last action `action` Done.
  bool done(const std::string& action = "") {
    auto c = cc();
    if (js::get_string(c, {"status", "phase"}) != "Running" ||
        js::get_string(c, {"status", "lastClusterActionStatus"}) != "Done")
      return false;
    if (action.empty()) return true;
    const js::Value* racks = js::find_path(c, {"status", "cassandraRackStatus"});
    if (!racks || !racks->IsObject()) return false;
    for (const auto& r : racks->GetObject())
      if (js::get_string(r.value, {"cassandraLastAction", "name"}) != action ||
          js::get_string(r.value, {"cassandraLastAction", "status"}) != "Done")
        return false;
    return true;
  }
  std::string diagnose() {
    return "cc: " + js::to_string(cc()["status"]) + "\ncasskop log:\n" + (op ? op->log() : "");
  }
  // Writes casskop made so far (create, update, patch), from its own metrics.
  double writes() {
    auto admin = admin_client(admin_address(*op));
    auto scrape = admin.get("/metrics").body;
    double n = 0;
    for (const char* verb : {"create", "update", "patch"})
      for (const char* code : {"200", "201"})
        n += metric(scrape, "operator_api_requests_total",
                    {{"controller", "casskop"}, {"verb", verb}, {"code", code}})
                 .value_or(0);
    return n;
  }
  bool has_event(const std::string& reason, const std::string& type) {
    auto r = api->get("/api/v1/namespaces/" + kNs + "/events");
    auto d = r.json();
    if (const js::Value* items = js::find(d, "items"); items && items->IsArray())
      for (const auto& e : items->GetArray())
        if (js::get_string(e, "reason") == reason && js::get_string(e, "type") == type &&
            js::get_string(e, {"involvedObject", "name"}) == kCC &&
            js::get_string(e, {"involvedObject", "kind"}) == "CassandraCluster")
          return true;
    return false;
  }
};

const std::vector<std::string> kFour{"cassandra-e2e-dc1-rack1", "cassandra-e2e-dc1-rack2",
                                     "cassandra-e2e-dc2-rack1", "cassandra-e2e-dc2-rack2"};

}  // namespace

TEST_CASE("casskop e2e: a 2 DC x 2 racks cluster is created rack by rack, then rests") {
  cc_crd crd = cc_crd::ours;
  SUBCASE("our CRD") {
    crd = cc_crd::ours;
  }
  SUBCASE("CassKop v2.1.0's CRD") {
    crd = cc_crd::casskop_v21;
  }
  cc_world w(crd);
  sts_recorder rec(*w.api);
  // Not casskop's: its caches never hold it.
  auto other = w.api->request(
      "POST", "/api/v1/namespaces/" + kNs + "/services",
      R"({"apiVersion":"v1","kind":"Service","metadata":{"name":"unrelated"},"spec":{"ports":[{"port":80}]}})");
  REQUIRE_MESSAGE(other.status == 201, other.body);
  w.create_cc(cc_json(2, 2, 2));
  w.start_casskop();
  REQUIRE_MESSAGE(eventually([&] { return w.done(); }, 60s), w.diagnose());
  CHECK(rec.added() == kFour);
  CHECK_MESSAGE(rec.max_moving() == 1, rec.moving_log());
  // The status as v2.1.0 writes it.
  auto cc = w.cc();
  CHECK(js::get_string(cc, {"status", "lastClusterAction"}) == "Initializing");
  for (const char* rack : {"dc1-rack1", "dc1-rack2", "dc2-rack1", "dc2-rack2"}) {
    CHECK(js::get_string(cc, {"status", "cassandraRackStatus", rack, "phase"}) == "Running");
    CHECK(js::get_string(cc, {"status", "cassandraRackStatus", rack, "cassandraLastAction",
                              "status"}) == "Done");
  }
  CHECK(strings_at(cc, {"status", "seedlist"}) ==
        std::vector<std::string>{"cassandra-e2e-dc1-rack1-0.cassandra-e2e.cassandra-e2e",
                                 "cassandra-e2e-dc1-rack1-1.cassandra-e2e.cassandra-e2e",
                                 "cassandra-e2e-dc1-rack2-0.cassandra-e2e.cassandra-e2e",
                                 "cassandra-e2e-dc2-rack1-0.cassandra-e2e.cassandra-e2e",
                                 "cassandra-e2e-dc2-rack1-1.cassandra-e2e.cassandra-e2e",
                                 "cassandra-e2e-dc2-rack2-0.cassandra-e2e.cassandra-e2e"});
  CHECK(strings_at(cc, {"metadata", "finalizers"}) ==
        std::vector<std::string>{"kubernetes.io/pvc-to-delete"});
  CHECK(casskop_reconciled(cc));  // the last-applied record holds the spec the object has
  if (crd == cc_crd::ours)
    CHECK(js::get_int(cc, {"status", "observedGeneration"}, -1) ==
          js::get_int(cc, {"metadata", "generation"}, 0));
  else
    CHECK(!js::find_path(cc, {"status", "observedGeneration"}));  // pruned by CassKop's CRD
  // The objects, owned by the CassandraCluster.
  for (const char* svc : {"cassandra-e2e", "cassandra-e2e-exporter-jmx", "cassandra-e2e-dc1",
                          "cassandra-e2e-dc2-rack2"})
    CHECK(w.api->get("/api/v1/namespaces/" + kNs + "/services/" + svc).status == 200);
  auto pdb = w.api->get("/apis/policy/v1/namespaces/" + kNs + "/poddisruptionbudgets/" + kCC);
  CHECK(pdb.status == 200);
  CHECK(w.api
            ->get("/api/v1/namespaces/" + kNs +
                  "/persistentvolumeclaims/data-cassandra-e2e-dc2-rack2-1")
            .status == 200);
  CHECK(js::get_string(
            *js::find_path(w.sts("cassandra-e2e-dc1-rack1"), {"metadata", "ownerReferences"})
                 ->Begin(),
            "uid") == uid(cc));
  CHECK(w.has_event("RackCreated", "Normal"));

  // The admin endpoint: ready, and what each cluster and rack did last.
  auto admin = admin_client(admin_address(*w.op));
  CHECK(admin.get("/readyz").status == 200);
  auto listed = admin.get("/cassandraclusters");
  REQUIRE(listed.status == 200);
  auto l = listed.json();
  REQUIRE(l.IsArray());
  REQUIRE(l.Size() == 1);
  CHECK(js::get_string(l[0], "name") == kCC);
  CHECK(js::get_string(l[0], "phase") == "Running");
  CHECK(js::get_string(l[0], {"racks", "dc2-rack2", "lastAction"}) == "Initializing");
  CHECK(js::get_string(l[0], {"racks", "dc2-rack2", "lastActionStatus"}) == "Done");
  CHECK(js::get_string(l[0], "waiting").empty());

  // The Services it watches are its own 10 (v2.1.0's 2, 2 per DC, 1 per rack).
  CHECK(metric(admin.get("/metrics").body, "operator_cache_objects",
               {{"controller", "casskop"}, {"resource", "services"}}) == 10);

  // At rest: no writes at all.
  const double writes = w.writes();
  const std::string rv_before = rv(w.cc());
  std::this_thread::sleep_for(2s);
  CHECK(w.writes() == writes);
  CHECK(rv(w.cc()) == rv_before);
}

TEST_CASE("casskop e2e: an image change rolls rack by rack, in spec order") {
  cc_world w;
  w.create_cc(cc_json(2, 2, 2));
  w.start_casskop();
  REQUIRE_MESSAGE(eventually([&] { return w.done(); }, 60s), w.diagnose());
  sts_recorder rec(*w.api);
  std::map<std::string, int64_t> generation;
  for (const auto& s : kFour) generation[s] = js::get_int(w.sts(s), {"metadata", "generation"}, 0);
  w.patch_cc(R"({"spec":{"cassandraImage":"cassandra:3.11.11"}})");
  REQUIRE_MESSAGE(eventually([&] { return w.done("UpdateDockerImage"); }, 60s), w.diagnose());
  CHECK(rec.rolled_to("cassandra:3.11.11") == kFour);
  CHECK_MESSAGE(rec.max_moving() == 1, rec.moving_log());
  for (const auto& s : kFour) {
    auto sts = w.sts(s);
    CHECK(testsupport::cassandra_image(sts) == "cassandra:3.11.11");
    CHECK(js::get_int(sts, {"metadata", "generation"}, 0) == generation[s] + 1);  // one write
  }
  CHECK(w.has_event("RackActionStarted", "Normal"));
}

TEST_CASE("casskop e2e: rollingPartition holds its rack and the racks after it") {
  cc_world w;
  w.create_cc(cc_json(1, 3, 2));
  w.start_casskop();
  REQUIRE_MESSAGE(eventually([&] { return w.done(); }, 60s), w.diagnose());
  // rack2 keeps pod 0 on the old template; rack3 waits behind it.
  w.patch_cc(R"({"spec":{"cassandraImage":"cassandra:3.11.11","topology":{"dc":[{"name":"dc1",
      "rack":[{"name":"rack1"},{"name":"rack2","rollingPartition":1},{"name":"rack3"}]}]}}})");
  REQUIRE_MESSAGE(eventually(
                      [&] {
                        auto s = w.sts("cassandra-e2e-dc1-rack2");
                        return testsupport::cassandra_image(s) == "cassandra:3.11.11" &&
                               js::get_int(s, {"status", "updatedReplicas"}, 0) == 1;
                      },
                      60s),
                  w.diagnose());
  CHECK(js::get_int(w.sts("cassandra-e2e-dc1-rack2"),
                    {"spec", "updateStrategy", "rollingUpdate", "partition"}, -1) == 1);
  std::this_thread::sleep_for(1500ms);  // several pod-ready delays: rack3 would have moved
  CHECK(testsupport::cassandra_image(w.sts("cassandra-e2e-dc1-rack3")) == "cassandra:3.11.10");
  CHECK(js::get_string(w.cc(), {"status", "lastClusterActionStatus"}) == "Ongoing");
  // Releasing the partition lets the roll end, and rack3 follows.
  w.patch_cc(R"({"spec":{"topology":{"dc":[{"name":"dc1",
      "rack":[{"name":"rack1"},{"name":"rack2"},{"name":"rack3"}]}]}}})");
  REQUIRE_MESSAGE(eventually(
                      [&] {
                        return w.done() &&
                               testsupport::cassandra_image(w.sts("cassandra-e2e-dc1-rack3")) ==
                                   "cassandra:3.11.11";
                      },
                      60s),
                  w.diagnose());
}

TEST_CASE("casskop e2e: a refused change (dataCapacity) is written back, with a Warning Event") {
  cc_world w;
  w.create_cc(cc_json(1, 1, 1));
  w.start_casskop();
  REQUIRE_MESSAGE(eventually([&] { return w.done(); }, 60s), w.diagnose());
  const int64_t sts_generation =
      js::get_int(w.sts("cassandra-e2e-dc1-rack1"), {"metadata", "generation"}, 0);
  w.patch_cc(R"({"spec":{"dataCapacity":"5Gi"}})");
  REQUIRE_MESSAGE(eventually(
                      [&] {
                        return js::get_string(w.cc(), {"spec", "dataCapacity"}) == "1Gi";
                      },
                      30s),
                  w.diagnose());
  CHECK(js::get_string(w.cc(), {"status", "lastClusterAction"}) == "CorrectCRDConfig");
  CHECK(eventually([&] { return w.has_event("DataCapacityChanged", "Warning"); }, 10s));
  CHECK(js::get_int(w.sts("cassandra-e2e-dc1-rack1"), {"metadata", "generation"}, 0) ==
        sts_generation);
}

TEST_CASE("casskop e2e: killed mid-roll and restarted, the roll resumes and nothing rolls twice") {
  cc_world w(cc_crd::ours, 400);
  const std::vector<std::string> racks{"cassandra-e2e-dc1-rack1", "cassandra-e2e-dc1-rack2",
                                       "cassandra-e2e-dc1-rack3"};
  w.create_cc(cc_json(1, 3, 2));
  w.start_casskop();
  REQUIRE_MESSAGE(eventually([&] { return w.done(); }, 60s), w.diagnose());
  sts_recorder rec(*w.api);
  std::map<std::string, int64_t> generation;
  for (const auto& s : racks) generation[s] = js::get_int(w.sts(s), {"metadata", "generation"}, 0);
  w.patch_cc(R"({"spec":{"cassandraImage":"cassandra:3.11.11"}})");
  // Killed while rack2 rolls.
  REQUIRE_MESSAGE(eventually(
                      [&] {
                        auto s = rec.get("cassandra-e2e-dc1-rack2");
                        return s && testsupport::cassandra_image(*s) == "cassandra:3.11.11";
                      },
                      60s),
                  w.diagnose());
  w.op->kill9();
  std::this_thread::sleep_for(300ms);
  w.op->start();
  REQUIRE_MESSAGE(eventually(
                      [&] {
                        return w.done() && testsupport::cassandra_image(w.sts(racks.back())) ==
                                               "cassandra:3.11.11";
                      },
                      60s),
                  w.diagnose());
  for (const auto& s : racks)
    CHECK_MESSAGE(js::get_int(w.sts(s), {"metadata", "generation"}, 0) == generation[s] + 1, s);
  CHECK(rec.rolled_to("cassandra:3.11.11") == racks);
  CHECK_MESSAGE(rec.max_moving() == 1, rec.moving_log());
}

TEST_CASE("casskop e2e: the Role of deploy/kustomize/casskop is enough, with no 403") {
  cc_world w;
  auto applied =
      w.sim.kubectl("k1", {"apply", "-k", std::string(SOURCE_DIR) + "/deploy/kustomize/casskop"});
  REQUIRE_MESSAGE(applied.exit_code == 0, applied.err);
  auto token = w.sim.kubectl("k1", {"create", "token", "casskop", "-n", kNs, "--duration", "1h"});
  REQUIRE_MESSAGE(token.exit_code == 0, token.err);
  const std::string kubeconfig = w.sim.state_dir() + "/casskop-sa-kubeconfig";
  testsupport::write_file(
      kubeconfig,
      fmt::format(
          R"({{"apiVersion":"v1","kind":"Config","clusters":[{{"name":"k1","cluster":{{"server":"{0}","certificate-authority-data":"{1}"}}}}],)"
          R"("users":[{{"name":"k1","user":{{"token":"{2}"}}}}],"contexts":[{{"name":"k1","context":{{"cluster":"k1","user":"k1"}}}}],"current-context":"k1"}})",
          w.sim.url("k1"), k8s::base64_encode(w.sim.ca_pem("k1")),
          token.out.substr(0, token.out.find('\n'))));
  // The original's environment, as the chart's Deployment gives it (KUBECONFIG instead of the
  // pod's mounted token), with the leader election of the kustomization's config left out. Its
  // Pod exists, as in a cluster: it owns the Go CassKop's lock casskop-lock, which casskop takes.
  auto pod = w.api->request(
      "POST", "/api/v1/namespaces/" + kNs + "/pods",
      R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"casskop-0"},)"
      R"("spec":{"containers":[{"name":"casskop","image":"multi-casskop:latest"}]}})");
  REQUIRE_MESSAGE(pod.status == 201, pod.body);
  w.op = std::make_unique<operator_process>(
      operator_process::binary{CASSKOP_BIN}, std::vector<std::string>{},
      std::map<std::string, std::string>{{"WATCH_NAMESPACE", kNs},
                                         {"KUBECONFIG", kubeconfig},
                                         {"POD_NAME", "casskop-0"},
                                         {"OPERATOR_NAME", "cassandra-operator"},
                                         {"ADMIN_ADDRESS", "127.0.0.1:0"}});
  w.create_cc(cc_json(1, 2, 1));
  REQUIRE_MESSAGE(eventually([&] { return w.done(); }, 60s), w.diagnose());
  w.patch_cc(R"({"spec":{"cassandraImage":"cassandra:3.11.11","maxPodUnavailable":2}})");
  REQUIRE_MESSAGE(eventually([&] { return w.done("UpdateDockerImage"); }, 60s), w.diagnose());
  CHECK(js::get_int(
            w.api->get("/apis/policy/v1/namespaces/" + kNs + "/poddisruptionbudgets/" + kCC).json(),
            {"spec", "maxUnavailable"}, 0) == 2);
  CHECK(eventually([&] { return w.has_event("RackCreated", "Normal"); }, 10s));
  // deletePVC: the PVCs go, then the finalizer.
  auto del = w.api->request("DELETE", kCCs + "/" + kCC);
  REQUIRE_MESSAGE(del.status == 200, del.body);
  CHECK_MESSAGE(eventually([&] { return w.api->get(kCCs + "/" + kCC).status == 404; }, 30s),
                w.diagnose());
  const std::string log = w.op->log();
  CHECK_MESSAGE(log.find("orbidden") == std::string::npos, log);
  auto lock = w.api->get("/api/v1/namespaces/" + kNs + "/configmaps/casskop-lock");
  REQUIRE_MESSAGE(lock.status == 200, lock.body);
  auto lock_json = lock.json();
  const js::Value* owners = js::find_path(lock_json, {"metadata", "ownerReferences"});
  REQUIRE_MESSAGE((owners && owners->IsArray() && owners->Size() == 1), lock.body);
  CHECK(js::get_string((*owners)[0], "name") == "casskop-0");
  CHECK(w.op->stop() == 0);
}

TEST_CASE("casskop e2e: deletePVC deletes the PVCs of a deleted cluster, never a new one's") {
  cc_world w;
  const std::string claims = "/api/v1/namespaces/" + kNs + "/persistentvolumeclaims/";
  w.create_cc(cc_json(1, 1, 2));
  w.start_casskop();
  REQUIRE_MESSAGE(eventually([&] { return w.done(); }, 60s), w.diagnose());
  const std::string first_uid = uid(w.api->get(claims + "data-cassandra-e2e-dc1-rack1-0").json());
  REQUIRE(!first_uid.empty());
  auto del = w.api->request("DELETE", kCCs + "/" + kCC);
  REQUIRE_MESSAGE(del.status == 200, del.body);
  REQUIRE_MESSAGE(eventually([&] { return w.api->get(kCCs + "/" + kCC).status == 404; }, 30s),
                  w.diagnose());
  // Its PVCs are gone (or going: a real cluster keeps them until their pods are gone).
  auto gone = [&](const std::string& name) {
    auto r = w.api->get(claims + name);
    return r.status == 404 || uid(r.json()) != first_uid ||
           js::find_path(r.json(), {"metadata", "deletionTimestamp"}) != nullptr;
  };
  CHECK(eventually([&] { return gone("data-cassandra-e2e-dc1-rack1-0"); }, 10s));
  CHECK(w.has_event("DeletePVC", "Normal"));
  // A cluster of the same name, made at once: its PVCs stay.
  REQUIRE(eventually(
      [&] {
        return w.api->get(kSts + "/cassandra-e2e-dc1-rack1").status == 404;  // collected
      },
      30s));
  w.create_cc(cc_json(1, 1, 2));
  REQUIRE_MESSAGE(eventually([&] { return w.done(); }, 60s), w.diagnose());
  auto second = w.api->get(claims + "data-cassandra-e2e-dc1-rack1-0");
  REQUIRE(second.status == 200);
  std::this_thread::sleep_for(1s);
  auto still = w.api->get(claims + "data-cassandra-e2e-dc1-rack1-0");
  CHECK(still.status == 200);
  CHECK(!js::find_path(still.json(), {"metadata", "deletionTimestamp"}));
}

TEST_CASE(
    "casskop e2e: a spec that cannot be acted on makes no object and says why, and others go on") {
  cc_world w;
  // A rack name that makes a dc-rack name no object can have (not DNS-1035); the CRD allows it.
  std::string bad = cc_json(1, 1, 1);
  bad.replace(bad.find("\"name\":\"rack1\""), 14, "\"name\":\"Rack1\"");
  auto r = w.api->request("POST", kCCs, bad);
  REQUIRE_MESSAGE(r.status == 201, r.body);
  std::string good = cc_json(1, 1, 1);
  good.replace(good.find("\"name\":\"" + kCC + "\""), kCC.size() + 9, "\"name\":\"other\"");
  r = w.api->request("POST", kCCs, good);
  REQUIRE_MESSAGE(r.status == 201, r.body);
  w.start_casskop();
  REQUIRE_MESSAGE(eventually([&] { return w.has_event("InvalidSpec", "Warning"); }, 30s),
                  w.diagnose());
  REQUIRE_MESSAGE(eventually(
                      [&] {
                        auto o = w.api->get(kCCs + "/other").json();
                        return js::get_string(o, {"status", "phase"}) == "Running" &&
                               js::get_string(o, {"status", "lastClusterActionStatus"}) == "Done";
                      },
                      60s),
                  w.diagnose());
  // Nothing of the bad one: no StatefulSet, Service or PDB, its spec as written.
  CHECK(w.api->get(kSts + "/cassandra-e2e-dc1-Rack1").status == 404);
  CHECK(w.api->get("/api/v1/namespaces/" + kNs + "/services/" + kCC).status == 404);
  CHECK(w.api->get("/apis/policy/v1/namespaces/" + kNs + "/poddisruptionbudgets/" + kCC).status ==
        404);
  auto cc = w.cc();
  CHECK(!js::find_path(cc, {"metadata", "annotations"}));
  // Only the conditions are written, and our CRD keeps them: Degraded says why.
  CHECK(js::get_string(cc, {"status", "phase"}).empty());
  bool degraded = false;
  if (const js::Value* cs = js::find_path(cc, {"status", "conditions"}); cs && cs->IsArray())
    for (const auto& c : cs->GetArray())
      if (js::get_string(c, "type") == "Degraded")
        degraded = js::get_string(c, "status") == "True" &&
                   js::get_string(c, "reason") == "InvalidSpec" &&
                   js::get_string(c, "message").find("Rack1") != std::string::npos;
  CHECK_MESSAGE(degraded, js::to_string(cc));
  // A user's `kubectl wait` works on the good one's Ready condition.
  auto waited = w.sim.kubectl("k1", {"-n", kNs, "wait", "--for=condition=Ready",
                                     "cassandracluster/other", "--timeout=20s"});
  CHECK_MESSAGE(waited.exit_code == 0, waited.err);
  auto events = w.api->get("/api/v1/namespaces/" + kNs + "/events").json();
  bool named = false;
  for (const auto& e : events["items"].GetArray())
    if (js::get_string(e, "reason") == "InvalidSpec")
      named = js::get_string(e, "message").find("dc1-Rack1") != std::string::npos;
  CHECK(named);
}

TEST_CASE("casskop e2e: --version prints the version") {
  auto r = testsupport::run({CASSKOP_BIN, "--version"});
  CHECK(r.exit_code == 0);
  CHECK(r.out.rfind("casskop ", 0) == 0);
}

TEST_CASE("casskop e2e: rollingRestart restarts its rack once and is reset in the spec") {
  cc_world w;
  w.create_cc(cc_json(1, 2, 2));
  w.start_casskop();
  REQUIRE_MESSAGE(eventually([&] { return w.done(); }, 60s), w.diagnose());
  sts_recorder rec(*w.api);
  const int64_t g1 = js::get_int(w.sts("cassandra-e2e-dc1-rack1"), {"metadata", "generation"}, 0);
  const int64_t g2 = js::get_int(w.sts("cassandra-e2e-dc1-rack2"), {"metadata", "generation"}, 0);
  w.patch_cc(R"({"spec":{"topology":{"dc":[{"name":"dc1",
      "rack":[{"name":"rack1"},{"name":"rack2","rollingRestart":true}]}]}}})");
  REQUIRE_MESSAGE(eventually(
                      [&] {
                        auto c = w.cc();
                        return w.done() && js::get_string(c, {"status", "cassandraRackStatus",
                                                              "dc1-rack2", "cassandraLastAction",
                                                              "name"}) == "RollingRestart";
                      },
                      60s),
                  w.diagnose());
  auto rack2 = w.sts("cassandra-e2e-dc1-rack2");
  CHECK(!js::get_string(rack2, {"spec", "template", "metadata", "labels", "rolling-restart"})
             .empty());
  CHECK(js::get_int(rack2, {"metadata", "generation"}, 0) == g2 + 1);
  CHECK(js::get_int(w.sts("cassandra-e2e-dc1-rack1"), {"metadata", "generation"}, 0) == g1);
  // Consumed: the spec says false again, and nothing rolls any more.
  auto after = w.cc();
  CHECK(!js::get_bool(after["spec"]["topology"]["dc"][0]["rack"][1], {"rollingRestart"}, false));
  std::this_thread::sleep_for(1s);
  CHECK(js::get_int(w.sts("cassandra-e2e-dc1-rack2"), {"metadata", "generation"}, 0) == g2 + 1);
  CHECK_MESSAGE(rec.max_moving() == 1, rec.moving_log());
}

TEST_CASE("casskop e2e: a configMap switch rolls rack by rack as UpdateConfigMap") {
  cc_world w;
  auto cm = w.api->request(
      "POST", "/api/v1/namespaces/" + kNs + "/configmaps",
      R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cassandra-cfg"},"data":{"pre_run.sh":"echo hi"}})");
  REQUIRE_MESSAGE(cm.status == 201, cm.body);
  w.create_cc(cc_json(1, 2, 1));
  w.start_casskop();
  REQUIRE_MESSAGE(eventually([&] { return w.done(); }, 60s), w.diagnose());
  sts_recorder rec(*w.api);
  w.patch_cc(R"({"spec":{"configMapName":"cassandra-cfg"}})");
  REQUIRE_MESSAGE(eventually([&] { return w.done("UpdateConfigMap"); }, 60s), w.diagnose());
  for (const char* s : {"cassandra-e2e-dc1-rack1", "cassandra-e2e-dc1-rack2"}) {
    auto o = observe_volume(w.sts(s));
    CHECK_MESSAGE(o == "cassandra-cfg", s);
  }
  CHECK_MESSAGE(rec.max_moving() == 1, rec.moving_log());
}

// The objects CassKop v2.1.0 leaves for test/kuttl/operations/00-createCluster.yaml (fixtures
// written from its generator.go by another helper), running: casskop takes them over without
// restarting a pod.
TEST_CASE("casskop e2e: taking over a cluster v2.1.0 created restarts no pod") {
  cc_world w(cc_crd::casskop_v21);
  const std::string fixtures = std::string(SOURCE_DIR) + "/tests/fixtures/casskop-v2.1.0/";
  const std::string dir = fixtures + "generated/kuttl-operations-00-createCluster/";
  auto post = [&](const std::string& path, js::Document d) {
    auto& a = d.GetAllocator();
    js::set_string(js::ensure_object(d, "metadata", a), "namespace", kNs, a);
    auto r = w.api->request("POST", path, js::to_string(d));
    REQUIRE_MESSAGE(r.status == 201, path << ": " << r.body);
    return r.json();
  };
  post("/api/v1/namespaces/" + kNs + "/configmaps", js::yaml_to_json(R"(apiVersion: v1
kind: ConfigMap
metadata: {name: configmap-v1}
data: {pre_run.sh: echo example1}
)"));
  auto cc = post(kCCs, js::yaml_to_json(R"(apiVersion: db.orange.com/v2
kind: CassandraCluster
metadata: {name: cassandra-e2e}
spec:
  nodesPerRacks: 2
  cassandraImage: cassandra:3.11.9
  configMapName: configmap-v1
  autoPilot: true
  resources: {limits: {cpu: 300m, memory: 512Mi}}
  topology: {dc: [{name: dc1, rack: [{name: rack1}]}]}
)"));
  // The status v2.1.0 wrote once the rack was Running (its seeds name the fixtures' namespace).
  {
    auto& a = cc.GetAllocator();
    js::Document st = js::parse(R"({"phase":"Running","lastClusterAction":"Initializing",
      "lastClusterActionStatus":"Done",
      "seedlist":["cassandra-e2e-dc1-rack1-0.cassandra-e2e.ns","cassandra-e2e-dc1-rack1-1.cassandra-e2e.ns"],
      "cassandraRackStatus":{"dc1-rack1":{"phase":"Running","cassandraLastAction":{
        "name":"Initializing","status":"Done","endTime":"2026-12-05T09:00:00Z"},"podLastOperation":{}}}})");
    js::set_member(cc, "status", js::Value(st, a), a);
    auto r = w.api->request("PUT", kCCs + "/" + kCC, js::to_string(cc));
    REQUIRE_MESSAGE(r.status == 200, r.body);
  }
  const std::string cc_uid = uid(cc);
  for (const auto& [file, path] : std::vector<std::pair<std::string, std::string>>{
           {"service-cassandra-e2e.yaml", "/api/v1/namespaces/" + kNs + "/services"},
           {"service-cassandra-e2e-exporter-jmx.yaml", "/api/v1/namespaces/" + kNs + "/services"},
           {"poddisruptionbudget-cassandra-e2e.yaml",
            "/apis/policy/v1/namespaces/" + kNs + "/poddisruptionbudgets"},
           {"statefulset-dc1-rack1.yaml", kSts}}) {
    std::string text = read_file(dir + file);
    for (size_t at; (at = text.find("00000000-0000-0000-0000-000000000001")) != std::string::npos;)
      text.replace(at, 36, cc_uid);
    auto d = js::yaml_to_json(text);
    // The fixtures' namespace is "ns": v2.1.0's record of what it applied names it too.
    if (const js::Value* rec =
            js::find_path(d, {"metadata", "annotations", "banzaicloud.com/last-applied"})) {
      std::string json = *k8s::base64_decode(js::view(*rec));
      const std::string from = R"("namespace":"ns")", to = R"("namespace":")" + kNs + "\"";
      for (size_t at; (at = json.find(from)) != std::string::npos;)
        json.replace(at, from.size(), to);
      js::set_string(d["metadata"]["annotations"], "banzaicloud.com/last-applied",
                     k8s::base64_encode(json), d.GetAllocator());
    }
    if (js::get_string(d, "apiVersion") == "policy/v1beta1")
      js::set_string(d, "apiVersion", "policy/v1", d.GetAllocator());
    post(path, std::move(d));
  }
  auto settled = [&] {
    auto s = w.sts("cassandra-e2e-dc1-rack1");
    return !testsupport::sts_moving(s) && js::get_int(s, {"status", "readyReplicas"}, 0) == 2;
  };
  REQUIRE(eventually(settled, 30s));
  auto before = w.sts("cassandra-e2e-dc1-rack1");
  auto pods = [&] {
    std::map<std::string, std::string> out;
    auto l = w.api->get("/api/v1/namespaces/" + kNs + "/pods").json();
    for (const auto& p : l["items"].GetArray())
      out[std::string(js::get_string(p, {"metadata", "name"}))] = uid(p);
    return out;
  };
  const auto pods_before = pods();
  REQUIRE(pods_before.size() == 2);

  w.start_casskop();
  // casskop has reconciled it: its record of the spec is written, and the status is still done.
  REQUIRE_MESSAGE(eventually([&] { return casskop_reconciled(w.cc()) && w.done(); }, 30s),
                  w.diagnose());
  std::this_thread::sleep_for(1s);
  auto after = w.sts("cassandra-e2e-dc1-rack1");
  CHECK(js::get_int(after, {"metadata", "generation"}, 0) ==
        js::get_int(before, {"metadata", "generation"}, 0));
  CHECK(js::get_string(after, {"status", "updateRevision"}) ==
        js::get_string(before, {"status", "updateRevision"}));
  CHECK(pods() == pods_before);
  CHECK_MESSAGE(w.op->log().find("kind=StatefulSet") == std::string::npos, w.op->log());
}

TEST_CASE("casskop e2e: sidecars and storageConfigs: container order and PVC names") {
  cc_world w;
  w.create_cc(cc_json(1, 1, 2, "cassandra:3.11.10", R"(,
      "sidecarConfigs":[{"name":"sidecar-a","image":"busybox:1"},{"name":"sidecar-b","image":"busybox:1"}],
      "storageConfigs":[{"mountPath":"/var/lib/extra","name":"extra",
        "pvcSpec":{"accessModes":["ReadWriteOnce"],"resources":{"requests":{"storage":"1Gi"}}}}])"));
  w.start_casskop();
  REQUIRE_MESSAGE(eventually([&] { return w.done(); }, 60s), w.diagnose());
  auto sts = w.sts("cassandra-e2e-dc1-rack1");
  std::vector<std::string> containers;
  for (const auto& c : (*js::find_path(sts, {"spec", "template", "spec", "containers"})).GetArray())
    containers.emplace_back(js::get_string(c, "name"));
  // v2.1.0 generateContainers: the sidecars, cassandra, the backrest sidecar.
  CHECK(containers ==
        std::vector<std::string>{"sidecar-a", "sidecar-b", "cassandra", "backrest-sidecar"});
  const std::string claims = "/api/v1/namespaces/" + kNs + "/persistentvolumeclaims/";
  for (const char* pod : {"cassandra-e2e-dc1-rack1-0", "cassandra-e2e-dc1-rack1-1"}) {
    CHECK_MESSAGE(w.api->get(claims + "data-" + pod).status == 200, pod);
    CHECK_MESSAGE(w.api->get(claims + "extra-" + pod).status == 200, pod);
  }
}
