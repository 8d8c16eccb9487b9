// The workload simulator against a real cluster_state and io_context: a StatefulSet comes up
// in order, rolls an update from the highest ordinal, honours a partition, and its pods are
// garbage-collected with it while its PVCs stay.
#include <doctest/doctest.h>

#include <chrono>
#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include "k8s/json/json.h"
#include "tools/kubesim/api_error.h"
#include "tools/kubesim/cluster_state.h"
#include "tools/kubesim/workloads.h"

namespace net = boost::asio;
namespace js = k8s::json;
using namespace kubesim;

namespace {

// Records pod events (name per type) as a watcher sees them.
class pod_recorder : public watch_sink {
 public:
  bool deliver(const watch_event& e) override {
    if (!e.object) return true;
    std::lock_guard lock(mutex_);
    events_.emplace_back(e.type, std::string(js::get_string(e.object->doc, {"metadata", "name"})));
    return true;
  }
  std::vector<std::string> names(std::string_view type) const {
    std::lock_guard lock(mutex_);
    std::vector<std::string> out;
    for (const auto& [t, name] : events_)
      if (t == type) out.push_back(name);
    return out;
  }
  void clear() {
    std::lock_guard lock(mutex_);
    events_.clear();
  }

 private:
  mutable std::mutex mutex_;
  std::vector<std::pair<std::string, std::string>> events_;
};

bool wait_until(const std::function<bool()>& done,
                std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return done();
}

// An io_context run by two threads, as kubesim runs it; stops and joins on scope exit.
struct io_runner {
  net::io_context io;
  net::executor_work_guard<net::io_context::executor_type> guard = net::make_work_guard(io);
  std::vector<std::thread> threads;
  io_runner() {
    for (int i = 0; i < 2; ++i) threads.emplace_back([this] { io.run(); });
  }
  ~io_runner() { stop(); }
  void stop() {
    guard.reset();
    io.stop();
    for (auto& t : threads)
      if (t.joinable()) t.join();
  }
};

constexpr const char* kSet = R"({
  "apiVersion": "apps/v1", "kind": "StatefulSet",
  "metadata": {"name": "web"},
  "spec": {
    "replicas": 3, "serviceName": "web",
    "selector": {"matchLabels": {"app": "web"}},
    "template": {
      "metadata": {"labels": {"app": "web"}},
      "spec": {"containers": [{"name": "nginx", "image": "nginx:1.25"}]}
    },
    "volumeClaimTemplates": [{
      "metadata": {"name": "data"},
      "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}
    }]
  }
})";

}  // namespace

TEST_CASE("Workload simulator: StatefulSet pods, PVCs, rolling update, partition, GC") {
  io_runner runner;
  cluster_state state("c1", 100000,
                      [&io = runner.io](std::function<void()> f) { net::post(io, std::move(f)); });
  const auto sts_t = *state.find_type("apps", "v1", "statefulsets");
  const auto pod_t = *state.find_type("", "v1", "pods");
  const auto pvc_t = *state.find_type("", "v1", "persistentvolumeclaims");
  workload_simulator sim(runner.io, state, 50);
  CHECK(sim.ready_delay_ms() == 50);
  // Stops the simulator before the io threads and the store go away, even when a check throws.
  struct stopper {
    workload_simulator& sim;
    io_runner& runner;
    ~stopper() {
      sim.stop();
      runner.stop();
    }
  } stop_guard{sim, runner};
  sim.start();
  auto recorder = std::make_shared<pod_recorder>();
  state.watch(pod_t, {}, recorder);

  auto set = [&] { return state.get(sts_t, "default", "web"); };
  auto status_int = [&](std::string_view field) {
    return js::get_int(set()->doc, {"status", field}, 0);
  };
  auto status_string = [&](std::string_view field) {
    return std::string(js::get_string(set()->doc, {"status", field}));
  };
  auto pod_revision = [&](const std::string& name) {
    return std::string(js::get_string(state.get(pod_t, "default", name)->doc,
                                      {"metadata", "labels", "controller-revision-hash"}));
  };
  auto pod_names = [&] {
    std::vector<std::string> out;
    for (auto& p : state.list(pod_t, "default", {}).items)
      out.emplace_back(js::get_string(p->doc, {"metadata", "name"}));
    return out;
  };

  state.create(sts_t, "default", js::parse(kSet), {});
  REQUIRE(wait_until([&] { return status_int("readyReplicas") == 3; }));

  // Pods, in ordinal order, each Ready and owned by the StatefulSet.
  CHECK(recorder->names("ADDED") == std::vector<std::string>{"web-0", "web-1", "web-2"});
  const std::string rev1 = status_string("updateRevision");
  CHECK(rev1.rfind("web-", 0) == 0);
  const std::string uid(js::get_string(set()->doc, {"metadata", "uid"}));
  std::set<std::string> ips;
  for (int i = 0; i < 3; ++i) {
    std::string name = "web-" + std::to_string(i);
    const auto& p = state.get(pod_t, "default", name)->doc;
    CHECK(js::get_string(p, {"status", "phase"}) == "Running");
    CHECK(js::get_string(p, {"metadata", "labels", "controller-revision-hash"}) == rev1);
    CHECK(js::get_string(p, {"metadata", "labels", "statefulset.kubernetes.io/pod-name"}) == name);
    CHECK(js::get_string(p, {"metadata", "labels", "apps.kubernetes.io/pod-index"}) ==
          std::to_string(i));
    CHECK(js::get_string((*js::find_path(p, {"metadata", "ownerReferences"}))[0], "uid") == uid);
    CHECK(js::get_string((*js::find_path(p, {"spec", "volumes"}))[0],
                         {"persistentVolumeClaim", "claimName"}) == "data-" + name);
    std::string ready;
    for (const auto& c : js::find_path(p, {"status", "conditions"})->GetArray())
      if (js::get_string(c, "type") == "Ready") ready = js::get_string(c, "status");
    CHECK(ready == "True");
    const auto& cs = (*js::find_path(p, {"status", "containerStatuses"}))[0];
    CHECK(js::get_string(cs, "name") == "nginx");
    CHECK(js::get_bool(cs, {"ready"}, false));
    CHECK(js::get_string(cs, "image") == "nginx:1.25");
    CHECK(js::find_path(cs, {"state", "running", "startedAt"}));
    ips.insert(std::string(js::get_string(p, {"status", "podIP"})));

    const auto& pvc = state.get(pvc_t, "default", "data-" + name)->doc;
    CHECK(js::get_string(pvc, {"status", "phase"}) == "Bound");
    CHECK(js::get_string(pvc, {"status", "capacity", "storage"}) == "1Gi");
    CHECK(js::get_string(pvc, {"metadata", "labels", "app"}) == "web");
  }
  CHECK(ips.size() == 3);
  CHECK(status_int("replicas") == 3);
  CHECK(status_int("currentReplicas") == 3);
  CHECK(status_int("updatedReplicas") == 3);
  CHECK(status_int("availableReplicas") == 3);
  CHECK(status_int("observedGeneration") == 1);
  CHECK(status_string("currentRevision") == rev1);

  SUBCASE("a deleted pod is recreated") {
    std::string old_uid(
        js::get_string(state.get(pod_t, "default", "web-1")->doc, {"metadata", "uid"}));
    state.remove(pod_t, "default", "web-1", {});
    REQUIRE(wait_until([&] {
      try {
        const auto& p = state.get(pod_t, "default", "web-1")->doc;
        return js::get_string(p, {"metadata", "uid"}) != old_uid &&
               js::get_string(p, {"status", "phase"}) == "Running" &&
               status_int("readyReplicas") == 3;
      } catch (const api_error&) {
        return false;
      }
    }));
  }

  SUBCASE("rolling update, partition, scale down and deletion") {
    // A new image rolls every pod, the highest ordinal first.
    recorder->clear();
    state.patch(
        sts_t, "default", "web", patch_type::merge,
        R"({"spec":{"template":{"spec":{"containers":[{"name":"nginx","image":"nginx:1.26"}]}}}})",
        false, {});
    REQUIRE(wait_until([&] {
      return status_string("updateRevision") != rev1 &&
             status_string("currentRevision") == status_string("updateRevision") &&
             status_int("updatedReplicas") == 3 && status_int("readyReplicas") == 3;
    }));
    const std::string rev2 = status_string("updateRevision");
    CHECK(recorder->names("DELETED") == std::vector<std::string>{"web-2", "web-1", "web-0"});
    for (const char* name : {"web-0", "web-1", "web-2"}) CHECK(pod_revision(name) == rev2);
    CHECK(status_int("observedGeneration") == 2);
    CHECK(status_int("currentReplicas") == 3);

    // With partition 2 only web-2 moves to the next revision.
    recorder->clear();
    state.patch(sts_t, "default", "web", patch_type::merge,
                R"({"spec":{"updateStrategy":{"rollingUpdate":{"partition":2}},)"
                R"("template":{"spec":{"containers":[{"name":"nginx","image":"nginx:1.27"}]}}}})",
                false, {});
    REQUIRE(wait_until([&] {
      return status_int("observedGeneration") == 3 && status_int("updatedReplicas") == 1 &&
             status_int("readyReplicas") == 3;
    }));
    // Give a wrongly continuing rollout the time to show itself.
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    const std::string rev3 = status_string("updateRevision");
    CHECK(rev3 != rev2);
    CHECK(recorder->names("DELETED") == std::vector<std::string>{"web-2"});
    CHECK(pod_revision("web-0") == rev2);
    CHECK(pod_revision("web-1") == rev2);
    CHECK(pod_revision("web-2") == rev3);
    CHECK(status_string("currentRevision") == rev2);
    CHECK(status_int("currentReplicas") == 2);
    CHECK(status_int("updatedReplicas") == 1);

    // Scaling down removes web-2 and keeps its claim.
    state.patch(sts_t, "default", "web", patch_type::merge, R"({"spec":{"replicas":2}})", false,
                {});
    REQUIRE(wait_until([&] { return pod_names().size() == 2 && status_int("replicas") == 2; }));
    CHECK(pod_names() == std::vector<std::string>{"web-0", "web-1"});
    CHECK(state.list(pvc_t, "default", {}).items.size() == 3);

    // Deleting the StatefulSet takes its pods (garbage collection) but not the PVCs.
    state.remove(sts_t, "default", "web", {});
    REQUIRE(wait_until([&] { return pod_names().empty(); }));
    CHECK(state.list(pvc_t, "default", {}).items.size() == 3);
  }
}
