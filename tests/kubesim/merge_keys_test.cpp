// List types and merge keys from the v1.32 types, path by path (tools/kubesim/builtin_schema.h):
// server-side apply's list and map types, and strategic merge patch's patchStrategy /
// patchMergeKey, through the real kubectl v1.32.
#include <doctest/doctest.h>

#include "tests/support/kubesim_fixture.h"

using namespace testsupport;
namespace js = k8s::json;

namespace {

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
  // The fieldsV1 of `manager`'s managedFields entry, as JSON text.
  std::string fields(const std::string& what, const std::string& manager) {
    js::Document obj = get(what);
    const js::Value* mf = js::find_path(obj, {"metadata", "managedFields"});
    if (mf && mf->IsArray())
      for (const auto& e : mf->GetArray())
        if (js::get_string(e, "manager") == manager) return js::to_string(*js::find(e, "fieldsV1"));
    return "";
  }
};

std::string deployment(const std::string& node_selector) {
  return R"(apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: default}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      nodeSelector: {)" +
         node_selector + R"(}
      tolerations: [{key: k, operator: Exists}]
      containers:
      - name: c
        image: nginx:1.25
        env: [{name: E, value: "1"}]
)";
}

}  // namespace

TEST_CASE("server-side apply: a pod template's nodeSelector is an atomic map, env a map by name") {
  cluster c;
  auto r = c.kubectl({"apply", "--server-side", "--field-manager=team-a", "-f", "-"},
                     deployment("disk: ssd"));
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  std::string f = c.fields("deploy/web", "team-a");
  // PodSpec.nodeSelector is +mapType=atomic, tolerations +listType=atomic, env a map by name.
  CHECK(f.find(R"("f:nodeSelector":{})") != std::string::npos);
  CHECK(f.find(R"("f:tolerations":{})") != std::string::npos);
  CHECK(f.find(R"("f:env":{"k:{\"name\":\"E\"}":{".":{},"f:name":{},"f:value":{}}})") !=
        std::string::npos);

  // Another manager's nodeSelector conflicts with the whole map, not key by key.
  r = c.kubectl({"apply", "--server-side", "--field-manager=team-b", "-f", "-"},
                deployment("zone: z1"));
  CHECK(r.exit_code == 1);
  CHECK_MESSAGE(
      r.err.find("conflict with \"team-a\": .spec.template.spec.nodeSelector") != std::string::npos,
      r.err);
  js::Document d = c.get("deploy/web");
  CHECK(js::to_string(*js::find_path(d, {"spec", "template", "spec", "nodeSelector"})) ==
        R"({"disk":"ssd"})");
}

TEST_CASE("server-side apply: a ServiceAccount's imagePullSecrets are atomic, its secrets keyed") {
  cluster c;
  auto r = c.kubectl({"apply", "--server-side", "--field-manager=m", "-f", "-"},
                     R"(apiVersion: v1
kind: ServiceAccount
metadata: {name: sa, namespace: default}
imagePullSecrets: [{name: pull}]
secrets: [{name: s1}]
)");
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  std::string f = c.fields("sa/sa", "m");
  // ObjectReference is +structType=atomic: a secrets item is owned whole.
  CHECK_MESSAGE(f.find(R"("f:imagePullSecrets":{})") != std::string::npos, f);
  CHECK_MESSAGE(f.find(R"("f:secrets":{"k:{\"name\":\"s1\"}":{}})") != std::string::npos, f);
}

TEST_CASE("kubectl patch: merge keys are those of the patched type at each path") {
  cluster c;
  auto r = c.kubectl({"apply", "-f", "-"}, R"(apiVersion: v1
kind: ServiceAccount
metadata: {name: sa, namespace: default}
imagePullSecrets: [{name: a}]
secrets: [{name: s1}]
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: pdb, namespace: default}
spec:
  minAvailable: 1
  selector: {matchLabels: {app: a}}
)");
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  // ServiceAccount.imagePullSecrets has no patch strategy: replaced; secrets merge by name.
  r = c.kubectl({"patch", "sa", "sa", "-p",
                 R"({"imagePullSecrets":[{"name":"b"}],"secrets":[{"name":"s2"}]})"});
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  js::Document sa = c.get("sa/sa");
  CHECK(js::to_string(*js::find(sa, "imagePullSecrets")) == R"([{"name":"b"}])");
  CHECK(js::to_string(*js::find(sa, "secrets")) == R"([{"name":"s1"},{"name":"s2"}])");

  // PodDisruptionBudgetSpec.selector is patchStrategy replace: the patch's selector whole.
  r = c.kubectl(
      {"patch", "pdb", "pdb", "-p", R"({"spec":{"selector":{"matchLabels":{"tier":"b"}}}})"});
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  js::Document pdb = c.get("pdb/pdb");
  CHECK(js::to_string(*js::find_path(pdb, {"spec", "selector"})) ==
        R"({"matchLabels":{"tier":"b"}})");
}

TEST_CASE("kubectl apply: a Deployment's strategy becoming Recreate drops rollingUpdate") {
  // kubectl sends $retainKeys for DeploymentSpec.strategy (patchStrategy retainKeys).
  cluster c;
  std::string d = R"(apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: default}
spec:
  selector: {matchLabels: {app: web}}
  strategy: {type: RollingUpdate, rollingUpdate: {maxSurge: 2}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: c, image: nginx:1.25}]}
)";
  auto r = c.kubectl({"apply", "-f", "-"}, d);
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  d.replace(d.find("{type: RollingUpdate, rollingUpdate: {maxSurge: 2}}"),
            std::string("{type: RollingUpdate, rollingUpdate: {maxSurge: 2}}").size(),
            "{type: Recreate}");
  r = c.kubectl({"apply", "-f", "-"}, d);
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  js::Document got = c.get("deploy/web");
  CHECK(js::to_string(*js::find_path(got, {"spec", "strategy"})) == R"({"type":"Recreate"})");
}
