// The controllers a real cluster runs besides the API server, as kubesim simulates them, driven
// through the real kubectl: the StatefulSet controller's ControllerRevisions (rollout history,
// undo, status), the disruption controller (PodDisruptionBudget status), the garbage collector
// on dependents whose owners do not exist, and the one Event store behind both Event APIs.
#include <doctest/doctest.h>

#include <sstream>
#include <string>
#include <vector>

#include "k8s/json/json.h"
#include "k8s/base/timestamps.h"
#include "tests/support/kubesim_fixture.h"

using namespace testsupport;
using namespace std::chrono_literals;
namespace js = k8s::json;

namespace {

std::string web_sts(const std::string& image, int replicas = 2, int history_limit = 10) {
  return R"(apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: web
  namespace: default
spec:
  replicas: )" +
         std::to_string(replicas) +
         R"(
  revisionHistoryLimit: )" +
         std::to_string(history_limit) +
         R"(
  serviceName: web
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - name: nginx
        image: )" +
         image + "\n";
}

struct workloads {
  kubesim_instance sim{{"k1"}, {"--simulate-workloads", "--pod-ready-delay-ms", "20"}};
  run_result kubectl(const std::vector<std::string>& args, const std::string& in = "") {
    return sim.kubectl("k1", args, in, 90s);
  }
  std::string out(const std::vector<std::string>& args, const std::string& in = "") {
    auto r = kubectl(args, in);
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    return r.out;
  }
  js::Document json(const std::vector<std::string>& args) {
    auto a = args;
    a.insert(a.end(), {"-o", "json"});
    return js::parse(out(a));
  }
  void rolled_out() {
    auto r = kubectl({"rollout", "status", "sts/web", "--timeout=60s"});
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    CHECK(r.out.find("roll") != std::string::npos);
  }
};

// kubectl create configmap speaks protobuf, which kubesim does not: apply instead.
std::string configmap(const std::string& name) {
  return "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " + name + "\n";
}

// The first four words of the table line that starts with `name` (the age left out).
std::vector<std::string> words_of_line(const std::string& table, const std::string& name) {
  std::vector<std::string> words;
  auto at = table.find("\n" + name + " ");
  if (at == std::string::npos) return words;
  std::istringstream line(table.substr(at + 1, table.find('\n', at + 1) - at - 1));
  for (std::string w; words.size() < 4 && line >> w;) words.push_back(w);
  return words;
}

std::string str(const js::Value& v, std::initializer_list<std::string_view> path) {
  return std::string(js::get_string(v, path));
}

}  // namespace

TEST_CASE(
    "controllers: a StatefulSet keeps ControllerRevisions that kubectl rollout history, undo and "
    "status use") {
  workloads w;
  REQUIRE(w.out({"apply", "-f", "-"}, web_sts("nginx:1.25")) == "statefulset.apps/web created\n");
  w.rolled_out();

  auto revs = w.json({"get", "controllerrevisions"});
  REQUIRE(revs["items"].Size() == 1);
  const js::Value& first = revs["items"][0];
  const std::string first_name = str(first, {"metadata", "name"});
  const std::string hash = str(first, {"metadata", "labels", "controller.kubernetes.io/hash"});
  CHECK(first_name == "web-" + hash);
  CHECK(hash.find_first_not_of("bcdfghjklmnpqrstvwxz2456789") == std::string::npos);
  CHECK(str(first, {"metadata", "labels", "app"}) == "web");
  CHECK(js::get_int(first, {"revision"}, 0) == 1);
  CHECK(str(first, {"data", "spec", "template", "$patch"}) == "replace");
  const js::Value& owner = first["metadata"]["ownerReferences"][0];
  CHECK(str(owner, {"kind"}) == "StatefulSet");
  CHECK(js::get_bool(owner, {"controller"}, false));
  auto sts = w.json({"get", "sts", "web"});
  CHECK(str(sts, {"status", "currentRevision"}) == first_name);
  CHECK(str(sts, {"status", "updateRevision"}) == first_name);
  CHECK(js::get_int(sts, {"status", "collisionCount"}, -1) == 0);
  CHECK(w.out({"get", "pod", "web-0", "-o",
               "jsonpath={.metadata.labels.controller-revision-hash}"}) == first_name);
  // The table kubectl prints: NAME CONTROLLER REVISION AGE.
  auto table = w.out({"get", "controllerrevisions"});
  CHECK(table.find("CONTROLLER") != std::string::npos);
  CHECK(table.find("statefulset.apps/web   1") != std::string::npos);

  // A new template: revision 2, and the pods roll to it.
  w.out({"set", "image", "sts/web", "nginx=nginx:1.26"});
  w.rolled_out();
  auto history = w.out({"rollout", "history", "sts/web"});
  CHECK(history.find("REVISION") != std::string::npos);
  CHECK(history.find("\n1 ") != std::string::npos);
  CHECK(history.find("\n2 ") != std::string::npos);
  auto one = w.out({"rollout", "history", "sts/web", "--revision=1"});
  CHECK(one.find("nginx:1.25") != std::string::npos);
  CHECK(w.out({"get", "pod", "web-0", "-o", "jsonpath={.spec.containers[0].image}"}) ==
        "nginx:1.26");

  // Undo: the first template comes back as revision 3 under its old name, and pods roll back.
  CHECK(w.out({"rollout", "undo", "sts/web"}) == "statefulset.apps/web rolled back\n");
  w.rolled_out();
  CHECK(w.out({"get", "sts", "web", "-o", "jsonpath={.spec.template.spec.containers[0].image}"}) ==
        "nginx:1.25");
  CHECK(eventually(
      [&] {
        return w.kubectl({"get", "pods", "-o", "jsonpath={.items[*].spec.containers[0].image}"})
                   .out == "nginx:1.25 nginx:1.25";
      },
      30s));
  CHECK(w.out({"get", "controllerrevision", first_name, "-o", "jsonpath={.revision}"}) == "3");
  CHECK(w.out({"get", "pod", "web-1", "-o",
               "jsonpath={.metadata.labels.controller-revision-hash}"}) == first_name);
  history = w.out({"rollout", "history", "sts/web"});
  CHECK(history.find("\n1 ") == std::string::npos);
  CHECK(history.find("\n2 ") != std::string::npos);
  CHECK(history.find("\n3 ") != std::string::npos);
}

TEST_CASE(
    "controllers: StatefulSet history is pruned to revisionHistoryLimit, revisions in use kept") {
  workloads w;
  w.out({"apply", "-f", "-"}, web_sts("nginx:1.21", 1, 1));
  w.rolled_out();
  for (const char* image : {"nginx:1.22", "nginx:1.23", "nginx:1.24"}) {
    w.out({"set", "image", "sts/web", std::string("nginx=") + image});
    w.rolled_out();
  }
  // The live revision plus one old one.
  CHECK(eventually([&] {
    return w.kubectl({"get", "controllerrevisions", "-o", "name"}).out.size() > 0 &&
           js::parse(w.kubectl({"get", "controllerrevisions", "-o", "json"}).out)["items"].Size() ==
               2;
  }));
  auto revs = w.json({"get", "controllerrevisions", "--sort-by=.revision"});
  REQUIRE(revs["items"].Size() == 2);
  CHECK(js::get_int(revs["items"][0], {"revision"}, 0) == 3);
  CHECK(js::get_int(revs["items"][1], {"revision"}, 0) == 4);
  // Deleting the StatefulSet takes its revisions (owner references).
  w.out({"delete", "sts", "web"});
  CHECK(eventually([&] {
    return w.kubectl({"get", "controllerrevisions", "-o", "name"}).out.empty();
  }));
}

TEST_CASE("controllers: the disruption controller writes PodDisruptionBudget status") {
  workloads w;
  w.out({"apply", "-f", "-"}, web_sts("nginx:1.25", 3));
  w.rolled_out();
  auto pdb = [](const std::string& name, const std::string& rule) {
    return "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata:\n  name: " + name +
           "\nspec:\n  " + rule + "\n  selector:\n    matchLabels:\n      app: web\n";
  };
  w.out({"apply", "-f", "-"}, pdb("min-int", "minAvailable: 2") + "---\n" +
                                  pdb("min-pct", "minAvailable: 50%") + "---\n" +
                                  pdb("max-pct", "maxUnavailable: 50%") + "---\n" +
                                  pdb("max-int", "maxUnavailable: 3"));
  auto allowed = [&](const std::string& name) {
    return w.kubectl({"get", "pdb", name, "-o", "jsonpath={.status.disruptionsAllowed}"}).out;
  };
  // minAvailable 2 of 3 healthy: 1; 50% of 3 rounds up to 2: 1; maxUnavailable 50%: 3 - 2 = 1
  // desired, 2 allowed; maxUnavailable 3: 0 desired, 3 allowed.
  CHECK(eventually([&] { return allowed("min-int") == "1"; }));
  CHECK(eventually([&] { return allowed("min-pct") == "1"; }));
  CHECK(eventually([&] { return allowed("max-pct") == "2"; }));
  CHECK(eventually([&] { return allowed("max-int") == "3"; }));
  auto st = w.json({"get", "pdb", "max-pct"});
  CHECK(js::get_int(st, {"status", "expectedPods"}, -1) == 3);
  CHECK(js::get_int(st, {"status", "currentHealthy"}, -1) == 3);
  CHECK(js::get_int(st, {"status", "desiredHealthy"}, -1) == 1);
  CHECK(js::get_int(st, {"status", "observedGeneration"}, -1) == 1);
  const js::Value& cond = st["status"]["conditions"][0];
  CHECK(str(cond, {"type"}) == "DisruptionAllowed");
  CHECK(str(cond, {"status"}) == "True");
  CHECK(str(cond, {"reason"}) == "SufficientPods");
  // kubectl get pdb: NAME MIN AVAILABLE MAX UNAVAILABLE ALLOWED DISRUPTIONS AGE.
  auto table = w.out({"get", "pdb", "min-int", "max-pct"});
  CHECK(table.find("ALLOWED DISRUPTIONS") != std::string::npos);
  CHECK(words_of_line(table, "min-int") == std::vector<std::string>{"min-int", "2", "N/A", "1"});
  CHECK(words_of_line(table, "max-pct") == std::vector<std::string>{"max-pct", "N/A", "50%", "2"});

  // Scale down to 2: min-int has no disruption left, and says so.
  w.out({"patch", "sts", "web", "--type=merge", "-p", R"({"spec":{"replicas":2}})"});
  CHECK(eventually([&] { return allowed("min-int") == "0"; }, 30s));
  st = w.json({"get", "pdb", "min-int"});
  CHECK(str(st["status"]["conditions"][0], {"reason"}) == "InsufficientPods");
  CHECK(str(st["status"]["conditions"][0], {"status"}) == "False");
  CHECK(js::get_int(st, {"status", "expectedPods"}, -1) == 2);

  // A spec change is observed: generation 2.
  w.out({"patch", "pdb", "min-int", "--type=merge", "-p", R"({"spec":{"minAvailable":1}})"});
  CHECK(eventually([&] {
    return w.kubectl({"get", "pdb", "min-int", "-o",
                      "jsonpath={.status.observedGeneration}/{.status.disruptionsAllowed}"})
               .out == "2/1";
  }));
}

TEST_CASE(
    "controllers: a PDB over pods of no known controller fails safe, unmanaged pods are not "
    "expected") {
  kubesim_instance sim;
  auto k = [&](const std::vector<std::string>& args, const std::string& in = "") {
    auto r = sim.kubectl("k1", args, in);
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    return r.out;
  };
  k({"apply", "-f", "-"}, configmap("boss"));
  const std::string uid = k({"get", "cm", "boss", "-o", "jsonpath={.metadata.uid}"});
  k({"apply", "-f", "-"},
    "apiVersion: v1\nkind: Pod\nmetadata:\n  name: owned\n  labels:\n    app: x\n"
    "  ownerReferences:\n  - apiVersion: v1\n    kind: ConfigMap\n    name: boss\n    uid: " +
        uid + "\n    controller: true\nspec:\n  containers:\n  - name: c\n    image: busybox\n");
  k({"apply", "-f", "-"},
    "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata:\n  name: p\nspec:\n"
    "  maxUnavailable: 1\n  selector:\n    matchLabels:\n      app: x\n");
  CHECK(eventually([&] {
    return sim.kubectl("k1", {"get", "pdb", "p", "-o", "jsonpath={.status.conditions[0].reason}"})
               .out == "SyncFailed";
  }));
  auto st = js::parse(k({"get", "pdb", "p", "-o", "json"}));
  CHECK(str(st["status"]["conditions"][0], {"message"}) ==
        "found no controllers for pod \"owned\"");
  CHECK(js::get_int(st, {"status", "disruptionsAllowed"}, -1) == 0);

  // Without a controller the pod only counts toward an integer minAvailable.
  k({"apply", "-f", "-"},
    "apiVersion: v1\nkind: Pod\nmetadata:\n  name: free\n  labels:\n    app: free\n"
    "spec:\n  containers:\n  - name: c\n    image: busybox\n");
  k({"apply", "-f", "-"},
    "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata:\n  name: q\nspec:\n"
    "  minAvailable: 0\n  selector:\n    matchLabels:\n      app: free\n");
  CHECK(eventually([&] {
    return sim.kubectl("k1", {"get", "pdb", "q", "-o",
                              "jsonpath={.status.expectedPods}/{.status.currentHealthy}/"
                              "{.status.disruptionsAllowed}"})
               .out == "1/0/0";
  }));
  // The pod becomes Ready: one healthy, one disruption allowed.
  k({"patch", "pod", "free", "--subresource=status", "--type=merge", "-p",
     R"({"status":{"conditions":[{"type":"Ready","status":"True"}]}})"});
  CHECK(eventually([&] {
    return sim.kubectl("k1", {"get", "pdb", "q", "-o",
                              "jsonpath={.status.currentHealthy}/{.status.disruptionsAllowed}/"
                              "{.status.conditions[0].reason}"})
               .out == "1/1/SufficientPods";
  }));
  // An eviction in flight (status.disruptedPods): the pod no longer counts as healthy until
  // DeletionTimeout; entries of pods that do not exist are dropped.
  const std::string now = k8s::format_time(std::chrono::system_clock::now());
  k({"patch", "pdb", "q", "--subresource=status", "--type=merge", "-p",
     R"({"status":{"disruptedPods":{"free":")" + now + R"(","nobody":")" + now + R"("}}})"});
  CHECK(eventually([&] {
    return sim.kubectl("k1", {"get", "pdb", "q", "-o",
                              "jsonpath={.status.currentHealthy}/{.status.disruptionsAllowed}/"
                              "{.status.disruptedPods}"})
               .out == "0/0/{\"free\":\"" + now + "\"}";
  }));
}

TEST_CASE("controllers: the garbage collector deletes dependents whose owners do not exist") {
  kubesim_instance sim;
  auto k = [&](const std::vector<std::string>& args, const std::string& in = "") {
    auto r = sim.kubectl("k1", args, in);
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    return r.out;
  };
  auto cm_with_owners = [](const std::string& name,
                           const std::vector<std::pair<std::string, std::string>>& owners) {
    std::string y =
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " + name + "\n  ownerReferences:\n";
    for (const auto& [owner, uid] : owners)
      y += "  - apiVersion: v1\n    kind: ConfigMap\n    name: " + owner + "\n    uid: " + uid +
           "\n";
    return y;
  };
  auto exists = [&](const std::string& name) {
    return sim.kubectl("k1", {"get", "cm", name, "-o", "name"}).exit_code == 0;
  };
  // An owner that never existed.
  k({"apply", "-f", "-"},
    cm_with_owners("orphan", {{"ghost", "0b9c9d5e-0000-4000-8000-000000000001"}}));
  CHECK(eventually([&] { return !exists("orphan"); }));

  // An owner deleted before its dependent was created.
  k({"apply", "-f", "-"}, configmap("gone"));
  const std::string gone_uid = k({"get", "cm", "gone", "-o", "jsonpath={.metadata.uid}"});
  k({"delete", "cm", "gone"});
  k({"apply", "-f", "-"}, cm_with_owners("late", {{"gone", gone_uid}}));
  CHECK(eventually([&] { return !exists("late"); }));

  // One owner alive: the dependent stays and loses the dangling reference only.
  k({"apply", "-f", "-"}, configmap("alive"));
  const std::string alive_uid = k({"get", "cm", "alive", "-o", "jsonpath={.metadata.uid}"});
  k({"apply", "-f", "-"}, cm_with_owners("kept", {{"alive", alive_uid}, {"gone", gone_uid}}));
  CHECK(eventually([&] {
    return sim.kubectl("k1",
                       {"get", "cm", "kept", "-o", "jsonpath={.metadata.ownerReferences[*].name}"})
               .out == "alive";
  }));
  CHECK(exists("kept"));
  // A reference whose uid exists but names another object is dangling too (name mismatch).
  k({"apply", "-f", "-"}, cm_with_owners("misnamed", {{"someone-else", alive_uid}}));
  CHECK(eventually([&] { return !exists("misnamed"); }));
}

TEST_CASE("controllers: core/v1 and events.k8s.io/v1 Events are the same objects") {
  kubesim_instance sim;
  auto k = [&](const std::vector<std::string>& args, const std::string& in = "") {
    auto r = sim.kubectl("k1", args, in);
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    return r.out;
  };
  // Through core/v1.
  k({"apply", "-f", "-"}, R"(apiVersion: v1
kind: Event
metadata:
  name: core-made
involvedObject:
  kind: Pod
  name: p1
  namespace: default
reason: Started
message: started the container
type: Normal
source:
  component: kubelet
  host: node-1
count: 3
firstTimestamp: "2026-01-01T00:00:00Z"
lastTimestamp: "2026-01-01T00:01:00Z"
reportingComponent: kubelet
reportingInstance: node-1
)");
  auto as_events = js::parse(k({"get", "events.v1.events.k8s.io", "core-made", "-o", "json"}));
  auto as_core = js::parse(k({"get", "events", "core-made", "-o", "json"}));
  CHECK(str(as_events, {"apiVersion"}) == "events.k8s.io/v1");
  CHECK(str(as_events, {"note"}) == "started the container");
  CHECK(str(as_events, {"regarding", "name"}) == "p1");
  CHECK(str(as_events, {"reportingController"}) == "kubelet");
  CHECK(str(as_events, {"reportingInstance"}) == "node-1");
  CHECK(str(as_events, {"deprecatedSource", "host"}) == "node-1");
  CHECK(js::get_int(as_events, {"deprecatedCount"}, 0) == 3);
  CHECK(str(as_events, {"deprecatedFirstTimestamp"}) == "2026-01-01T00:00:00Z");
  CHECK(js::find(as_events, "message") == nullptr);
  CHECK(str(as_events, {"metadata", "uid"}) == str(as_core, {"metadata", "uid"}));
  CHECK(str(as_events, {"metadata", "resourceVersion"}) ==
        str(as_core, {"metadata", "resourceVersion"}));

  // Through events.k8s.io/v1.
  k({"apply", "-f", "-"}, R"(apiVersion: events.k8s.io/v1
kind: Event
metadata:
  name: new-made
eventTime: "2026-01-01T00:02:00.000000Z"
reportingController: example.com/ctl
reportingInstance: ctl-1
action: Reconcile
reason: Synced
regarding:
  kind: ConfigMap
  name: c1
  namespace: default
note: synced it
type: Normal
)");
  auto core = js::parse(k({"get", "events", "new-made", "-o", "json"}));
  CHECK(str(core, {"apiVersion"}) == "v1");
  CHECK(str(core, {"message"}) == "synced it");
  CHECK(str(core, {"involvedObject", "name"}) == "c1");
  CHECK(str(core, {"reportingComponent"}) == "example.com/ctl");
  CHECK(str(core, {"action"}) == "Reconcile");
  CHECK(js::find(core, "note") == nullptr);
  auto both = k({"get", "events.v1.events.k8s.io", "-o", "name"});
  CHECK(both.find("event.events.k8s.io/core-made") != std::string::npos);
  CHECK(both.find("event.events.k8s.io/new-made") != std::string::npos);
  auto core_list = k({"get", "events", "-o", "name"});
  CHECK(core_list.find("event/new-made") != std::string::npos);
  // The tables of both APIs print the message.
  CHECK(k({"get", "events.v1.events.k8s.io"}).find("synced it") != std::string::npos);
  CHECK(k({"get", "events"}).find("synced it") != std::string::npos);

  // A patch through events.k8s.io changes the core object; a watch of the other API sees it.
  auto client = sim.client("k1");
  auto rv = str(core, {"metadata", "resourceVersion"});
  auto stream = client.stream("/api/v1/namespaces/default/events?watch=true&resourceVersion=" + rv);
  k({"patch", "events.v1.events.k8s.io", "new-made", "--type=merge", "-p",
     R"({"note":"patched"})"});
  std::string line;
  CHECK(eventually([&] {
    if (auto l = stream->next(100ms)) line = *l;
    return line.find("patched") != std::string::npos;
  }));
  auto event = js::parse(line);
  CHECK(str(event, {"type"}) == "MODIFIED");
  CHECK(str(event["object"], {"message"}) == "patched");
  CHECK(str(event["object"], {"apiVersion"}) == "v1");
  CHECK(k({"get", "events.v1.events.k8s.io", "new-made", "-o", "jsonpath={.note}"}) == "patched");
  // Deleting through either API deletes the one object.
  k({"delete", "events.v1.events.k8s.io", "core-made"});
  CHECK(sim.kubectl("k1", {"get", "events", "core-made"}).exit_code != 0);
}

TEST_CASE("controllers: the Python client's CoreV1Api and EventsV1Api see the same Events") {
  auto probe = run({"/usr/bin/python3", "-c", "import kubernetes"}, {}, 30s);
  REQUIRE_MESSAGE(probe.exit_code == 0, "/usr/bin/python3 with python3-kubernetes is needed");
  kubesim_instance sim;
  const char* script = R"(
import datetime, sys
from kubernetes import client, config
config.load_kube_config(config_file=sys.argv[1])
core, events = client.CoreV1Api(), client.EventsV1Api()
# MicroTime parses exactly six fraction digits: a datetime without microseconds, which
# isoformat() prints without them, is refused by a real server too.
when = datetime.datetime(2026, 1, 1, 0, 0, 0, 123456, tzinfo=datetime.timezone.utc)
pod = client.V1ObjectReference(kind="Pod", name="p", namespace="default")
made = events.create_namespaced_event("default", client.EventsV1Event(
    api_version="events.k8s.io/v1", kind="Event", metadata=client.V1ObjectMeta(name="py-new"), event_time=when, reporting_controller="py/ctl",
    reporting_instance="py-1", action="Test", reason="Made", regarding=pod, note="from python",
    type="Normal"))
seen = core.read_namespaced_event("py-new", "default")
assert seen.message == "from python", seen.message
assert seen.reporting_component == "py/ctl", seen.reporting_component
assert seen.metadata.uid == made.metadata.uid
assert seen.metadata.resource_version == made.metadata.resource_version
made = core.create_namespaced_event("default", client.CoreV1Event(
    api_version="v1", kind="Event", metadata=client.V1ObjectMeta(name="py-core"), involved_object=pod, message="core made",
    reason="Made", type="Normal", event_time=when))
seen = events.read_namespaced_event("py-core", "default")
assert seen.note == "core made", seen.note
assert seen.regarding.name == "p"
assert seen.metadata.uid == made.metadata.uid
names = sorted(e.metadata.name for e in events.list_namespaced_event("default").items)
assert names == ["py-core", "py-new"], names
print("all checks passed")
)";
  auto r = run({"/usr/bin/python3", "-c", script, sim.kubeconfig("k1")},
               {{"HOME", sim.state_dir()}, {"PYTHONDONTWRITEBYTECODE", "1"}}, 60s);
  INFO("stdout:\n" << r.out << "\nstderr:\n" << r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.out == "all checks passed\n");
}
