// Server-side apply and field ownership (issue 10, item 4) through the real kubectl v1.32
// (`apply --server-side`, `--force-conflicts`, `--field-manager`, `get --show-managed-fields`)
// and raw HTTP where the exact Status body matters.
#include <doctest/doctest.h>

#include <algorithm>

#include "tests/support/kubesim_fixture.h"

using namespace testsupport;
namespace js = k8s::json;

namespace {

std::string deployment(int replicas, const std::string& labels, const std::string& containers) {
  return R"(apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: default
  labels: {)" +
         labels +
         R"(}
spec:
  replicas: )" +
         std::to_string(replicas) +
         R"(
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
)" + containers;
}

const std::string nginx =
    "      - {name: nginx, image: nginx:1.25, ports: [{containerPort: 80}]}\n";
const std::string cache = "      - {name: cache, image: redis:7}\n";

struct cluster {
  kubesim_instance sim;
  run_result kubectl(const std::vector<std::string>& args, const std::string& in = "") {
    return sim.kubectl("k1", args, in);
  }
  js::Document get(const std::string& what) {
    auto r = kubectl({"get", what, "-o", "json", "--show-managed-fields"});
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    return js::parse(r.out);
  }
  // The managedFields entry of `manager`, or null.
  static const js::Value* entry(const js::Value& obj, const std::string& manager) {
    const js::Value* mf = js::find_path(obj, {"metadata", "managedFields"});
    if (!mf || !mf->IsArray()) return nullptr;
    for (const auto& e : mf->GetArray())
      if (js::get_string(e, "manager") == manager) return &e;
    return nullptr;
  }
  static std::string fields(const js::Value& obj, const std::string& manager) {
    const js::Value* e = entry(obj, manager);
    return e ? js::to_string(*js::find(*e, "fieldsV1")) : "";
  }
};

}  // namespace

TEST_CASE("server-side apply: a second manager's different replicas conflict, as kubectl shows") {
  cluster c;
  auto r = c.kubectl({"apply", "--server-side", "--field-manager=team-a", "-f", "-"},
                     deployment(2, "app: web", nginx));
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  CHECK(r.out == "deployment.apps/web serverside-applied\n");

  // Another applier with another value: refused, the object unchanged.
  r = c.kubectl({"apply", "--server-side", "--field-manager=team-b", "-f", "-"},
                deployment(3, "app: web", nginx));
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("error: Apply failed with 1 conflict: conflict with \"team-a\": "
                   ".spec.replicas\nPlease review the fields above") == 0);
  CHECK(js::get_int(c.get("deploy/web"), {"spec", "replicas"}, 0) == 2);

  // The same value is no conflict: both own it.
  r = c.kubectl({"apply", "--server-side", "--field-manager=team-b", "-f", "-"},
                deployment(2, "app: web", nginx));
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  auto d = c.get("deploy/web");
  CHECK(c.fields(d, "team-a").find("\"f:replicas\":{}") != std::string::npos);
  CHECK(c.fields(d, "team-b").find("\"f:replicas\":{}") != std::string::npos);

  // An update by kubectl patch takes replicas from both; the conflict then names an updater.
  r = c.kubectl({"patch", "deploy", "web", "--type=merge", "-p", R"({"spec":{"replicas":5}})"});
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  r = c.kubectl({"apply", "--server-side", "--field-manager=team-a", "-f", "-"},
                deployment(4, "app: web", nginx));
  CHECK(r.err.find("error: Apply failed with 1 conflict: conflict with \"kubectl-patch\" using "
                   "apps/v1: .spec.replicas\n") == 0);

  // --force-conflicts takes the field over.
  r = c.kubectl(
      {"apply", "--server-side", "--force-conflicts", "--field-manager=team-a", "-f", "-"},
      deployment(4, "app: web", nginx));
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  d = c.get("deploy/web");
  CHECK(js::get_int(d, {"spec", "replicas"}, 0) == 4);
  CHECK(c.fields(d, "team-a").find("\"f:replicas\":{}") != std::string::npos);
  CHECK(c.entry(d, "kubectl-patch") == nullptr);  // it owned nothing else
  CHECK(c.fields(d, "team-b").find("f:replicas") == std::string::npos);
}

TEST_CASE("server-side apply: the conflict Status body is the real server's") {
  cluster c;
  auto api = c.sim.client("k1");
  const std::string path = "/apis/apps/v1/namespaces/default/deployments/web";
  auto r = api.request("PATCH", path + "?fieldManager=a", deployment(2, "app: web", nginx),
                       "application/apply-patch+yaml");
  REQUIRE_MESSAGE(r.status == 201, r.body);
  r = api.request("PATCH", path + "?fieldManager=b", deployment(3, "app: other", nginx),
                  "application/apply-patch+yaml");
  CHECK(r.status == 409);
  auto s = r.json();
  CHECK(js::get_string(s, "reason") == "Conflict");
  CHECK(js::get_string(s, "message") ==
        "Apply failed with 2 conflicts: conflicts with \"a\":\n- .metadata.labels.app\n- "
        ".spec.replicas");
  const js::Value* causes = js::find_path(s, {"details", "causes"});
  REQUIRE((causes && causes->IsArray() && causes->Size() == 2));
  CHECK(js::get_string((*causes)[0], "field") == ".metadata.labels.app");
  CHECK(
      js::to_string((*causes)[1]) ==
      R"({"reason":"FieldManagerConflict","message":"conflict with \"a\"","field":".spec.replicas"})");
  CHECK(js::find_path(s, {"details", "name"}) == nullptr);
  // force=true applies it.
  r = api.request("PATCH", path + "?fieldManager=b&force=true", deployment(3, "app: other", nginx),
                  "application/apply-patch+yaml");
  CHECK(r.status == 200);
  // A configuration of another kind or version is refused (versioncheck.go).
  r = api.request("PATCH", path + "?fieldManager=a",
                  "apiVersion: apps/v1beta1\nkind: Deployment\nmetadata: {name: web}\n",
                  "application/apply-patch+yaml");
  CHECK(r.status == 400);
  CHECK(js::get_string(r.json(), "message") ==
        "invalid object type: apps/v1beta1, Kind=Deployment");
}

TEST_CASE("server-side apply removes what the applier stops applying and merges containers") {
  cluster c;
  auto apply = [&](const std::string& yaml) {
    auto r = c.kubectl({"apply", "--server-side", "-f", "-"}, yaml);
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  };
  apply(deployment(2, "app: web, tier: front", nginx + cache));
  // A container added by someone else (a strategic merge patch: kubectl-patch owns it).
  auto r = c.kubectl(
      {"patch", "deploy", "web", "-p",
       R"({"spec":{"template":{"spec":{"containers":[{"name":"sidecar","image":"busybox"}]}}}})"});
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  // The file without a label and without a container: both go; the other manager's container
  // stays, and the applied container list merges with it by name.
  apply(deployment(2, "app: web", nginx));
  auto d = c.get("deploy/web");
  CHECK(js::to_string(*js::find_path(d, {"metadata", "labels"})) == R"({"app":"web"})");
  const js::Value* containers = js::find_path(d, {"spec", "template", "spec", "containers"});
  REQUIRE(containers);
  std::vector<std::string> names;
  for (const auto& ctr : containers->GetArray()) names.emplace_back(js::get_string(ctr, "name"));
  CHECK(names == std::vector<std::string>{"nginx", "sidecar"});
  // The applier's fields in the real FieldsV1 encoding.
  CHECK(c.fields(d, "kubectl") ==
        R"({"f:metadata":{"f:labels":{"f:app":{}}},"f:spec":{"f:replicas":{},"f:selector":{},)"
        R"("f:template":{"f:metadata":{"f:labels":{"f:app":{}}},"f:spec":{"f:containers":{)"
        R"("k:{\"name\":\"nginx\"}":{".":{},"f:image":{},"f:name":{},"f:ports":{)"
        R"("k:{\"containerPort\":80,\"protocol\":\"TCP\"}":{".":{},"f:containerPort":{}}}}}}}}})");
  const js::Value* e = c.entry(d, "kubectl");
  REQUIRE(e);
  CHECK(js::get_string(*e, "operation") == "Apply");
  CHECK(js::get_string(*e, "apiVersion") == "apps/v1");
  CHECK(js::get_string(*e, "fieldsType") == "FieldsV1");

  // Applying the same file again writes nothing.
  std::string rv(js::get_string(d, {"metadata", "resourceVersion"}));
  apply(deployment(2, "app: web", nginx));
  CHECK(js::get_string(c.get("deploy/web"), {"metadata", "resourceVersion"}) == rv);
}

TEST_CASE("managedFields record kubectl's create, apply, label and replace as Update entries") {
  cluster c;
  const std::string cm = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\ndata: {a: b}\n";
  auto r = c.kubectl({"create", "-f", "-"}, cm);
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  auto d = c.get("cm/cm");
  const js::Value* e = c.entry(d, "kubectl-create");
  REQUIRE(e);
  CHECK(js::get_string(*e, "operation") == "Update");
  CHECK(js::get_string(*e, "apiVersion") == "v1");
  CHECK(!js::get_string(*e, "time").empty());
  CHECK(c.fields(d, "kubectl-create") == R"({"f:data":{".":{},"f:a":{}}})");
  // kubectl get hides them unless asked.
  CHECK(c.kubectl({"get", "cm", "cm", "-o", "yaml"}).out.find("managedFields") ==
        std::string::npos);

  REQUIRE(c.kubectl({"label", "cm", "cm", "x=y"}).exit_code == 0);
  d = c.get("cm/cm");
  CHECK(c.fields(d, "kubectl-label") == R"({"f:metadata":{"f:labels":{".":{},"f:x":{}}}})");

  // A client-side apply changes data.a: the creator loses it, the applier owns it.
  r = c.kubectl({"apply", "-f", "-"},
                "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\ndata: {a: c}\n");
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  d = c.get("cm/cm");
  CHECK(c.fields(d, "kubectl-create") == R"({"f:data":{}})");
  CHECK(c.fields(d, "kubectl-client-side-apply").find(R"("f:data":{"f:a":{}})") !=
        std::string::npos);
  // Entries are sorted as the server sorts them: Apply before Update, then time, then manager.
  std::vector<std::pair<std::string, std::string>> order;
  for (const auto& m : js::find_path(d, {"metadata", "managedFields"})->GetArray())
    order.emplace_back(std::string(js::get_string(m, "time")),
                       std::string(js::get_string(m, "manager")));
  CHECK(order.size() == 3);
  CHECK(std::is_sorted(order.begin(), order.end()));
}

TEST_CASE("managedFields: the User-Agent names a manager, [{}] clears, an omitted list keeps") {
  cluster c;
  auto api = c.sim.client("k1");
  const std::string cms = "/api/v1/namespaces/default/configmaps";
  auto r = api.request(
      "POST", cms,
      R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cm"},"data":{"a":"b"}})",
      "application/json", {{"User-Agent", "my-tool/1.0 (linux)"}});
  REQUIRE_MESSAGE(r.status == 201, r.body);
  auto mf = js::find_path(r.json(), {"metadata", "managedFields"});
  REQUIRE((mf && mf->IsArray() && mf->Size() == 1));
  CHECK(js::get_string((*mf)[0], "manager") == "my-tool");

  // A PUT without managedFields keeps them.
  auto obj = api.get(cms + "/cm").json();
  js::remove_member(*const_cast<js::Value*>(js::find(obj, "metadata")), "managedFields");
  js::set_string(*const_cast<js::Value*>(js::find(obj, "data")), "a", "c", obj.GetAllocator());
  r = api.request("PUT", cms + "/cm?fieldManager=editor", js::to_string(obj));
  REQUIRE_MESSAGE(r.status == 200, r.body);
  mf = js::find_path(r.json(), {"metadata", "managedFields"});
  REQUIRE((mf && mf->Size() == 2));
  std::string rv(js::get_string(r.json(), {"metadata", "resourceVersion"}));

  // `managedFields: [{}]` resets them: this write changes nothing else, so none remain.
  r = api.request("PATCH", cms + "/cm", R"({"metadata":{"managedFields":[{}]}})",
                  "application/merge-patch+json");
  REQUIRE_MESSAGE(r.status == 200, r.body);
  CHECK(js::find_path(r.json(), {"metadata", "managedFields"}) == nullptr);
  CHECK(js::get_string(r.json(), {"metadata", "resourceVersion"}) != rv);
}

TEST_CASE("server-side apply of a custom resource merges a map list by its keys") {
  cluster c;
  const std::string crd = R"(apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              parts:
                type: array
                x-kubernetes-list-type: map
                x-kubernetes-list-map-keys: [name]
                items:
                  type: object
                  required: [name]
                  properties:
                    name: {type: string}
                    size: {type: integer}
              tags:
                type: array
                x-kubernetes-list-type: set
                items: {type: string}
)";
  REQUIRE(c.kubectl({"apply", "-f", "-"}, crd).exit_code == 0);
  REQUIRE(
      c.kubectl({"wait", "--for=condition=Established", "crd/widgets.example.com", "--timeout=20s"})
          .exit_code == 0);
  auto widget = [](const std::string& spec) {
    return "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w, namespace: default}\n"
           "spec: " +
           spec + "\n";
  };
  auto r = c.kubectl({"apply", "--server-side", "--field-manager=one", "-f", "-"},
                     widget("{parts: [{name: a, size: 1}], tags: [alpha]}"));
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  r = c.kubectl({"apply", "--server-side", "--field-manager=two", "-f", "-"},
                widget("{parts: [{name: b, size: 2}], tags: [beta]}"));
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  auto d = c.get("widget/w");
  CHECK(js::to_string(*js::find(d, "spec")) ==
        R"({"parts":[{"name":"a","size":1},{"name":"b","size":2}],"tags":["alpha","beta"]})");
  CHECK(c.fields(d, "two") ==
        R"({"f:spec":{"f:parts":{"k:{\"name\":\"b\"}":{".":{},"f:name":{},"f:size":{}}},)"
        R"("f:tags":{"v:\"beta\"":{}}}})");
  // Manager one stops applying its part: only that part goes.
  r = c.kubectl({"apply", "--server-side", "--field-manager=one", "-f", "-"},
                widget("{tags: [alpha]}"));
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  CHECK(js::to_string(*js::find(c.get("widget/w"), "spec")) ==
        R"({"parts":[{"name":"b","size":2}],"tags":["alpha","beta"]})");
}

TEST_CASE("kubectl apply --server-side takes over from client-side apply without conflicts") {
  cluster c;
  // Client-side apply: kubectl-client-side-apply owns everything, the annotation records it.
  auto r = c.kubectl({"apply", "-f", "-"}, deployment(2, "app: web", nginx));
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  // Server-side apply as "kubectl" with another replicas: what the annotation says kubectl
  // applied (and still matches) is no conflict (lastappliedmanager.go).
  r = c.kubectl({"apply", "--server-side", "-f", "-"}, deployment(3, "app: web", nginx));
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  auto d = c.get("deploy/web");
  CHECK(js::get_int(d, {"spec", "replicas"}, 0) == 3);
  // The annotation follows the applied configuration (lastappliedupdater.go).
  auto last = js::parse(js::get_string(
      d, {"metadata", "annotations", "kubectl.kubernetes.io/last-applied-configuration"}));
  CHECK(js::get_int(last, {"spec", "replicas"}, 0) == 3);
  // Another manager gets no such pass.
  r = c.kubectl({"apply", "--server-side", "--field-manager=other", "-f", "-"},
                deployment(5, "app: web", nginx));
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("conflict with \"kubectl\": .spec.replicas") != std::string::npos);
}

TEST_CASE("write options: fieldManager of more than 128 bytes and force on a merge patch are 422") {
  cluster c;
  auto api = c.sim.client("k1");
  const std::string cms = "/api/v1/namespaces/default/configmaps";
  auto r = api.request("POST", cms + "?fieldManager=" + std::string(129, 'm'),
                       R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cm"}})");
  CHECK(r.status == 422);
  CHECK(js::get_string(r.json(), "message") ==
        "CreateOptions.meta.k8s.io \"\" is invalid: fieldManager: Too long: may not be more than "
        "128 bytes");
  r = api.request("POST", cms,
                  R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cm"}})");
  REQUIRE(r.status == 201);
  r = api.request("PATCH", cms + "/cm?force=false", R"({"data":{"a":"b"}})",
                  "application/merge-patch+json");
  CHECK(r.status == 422);
  CHECK(js::get_string(r.json(), "message") ==
        "PatchOptions.meta.k8s.io \"\" is invalid: force: Forbidden: may not be specified for "
        "non-apply patch");
}
