// Built-in kinds under their Kubernetes v1.32 types (tools/kubesim/schemas, from k8s.io/api
// v0.32.9): writes decoded as the real server's Go structs take them (unknown and duplicate
// fields under fieldValidation, wrong types refused), and /openapi/v3 publishing the schemas so
// that the real kubectl explains them. Expected texts are those of a v1.32 API server.
#include <doctest/doctest.h>

#include <string>

#include "tests/support/kubesim_fixture.h"
#include "tools/kubesim/builtin_schema.h"

using namespace testsupport;
using namespace std::chrono_literals;
namespace js = k8s::json;
namespace bs = kubesim::builtin_schema;

namespace {

const std::string sts_path = "/apis/apps/v1/namespaces/default/statefulsets";
const std::string cm_path = "/api/v1/namespaces/default/configmaps";

std::string statefulset_yaml(const std::string& extra_spec) {
  return R"(apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: web
spec:
  serviceName: web
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: c
        image: nginx
)" + extra_spec;
}

struct env {
  kubesim_instance sim;
  api_client c;
  env() : c(sim.client("k1")) {}
  http_reply req(const std::string& method, const std::string& path, const std::string& body = "",
                 const std::string& type = "application/json") {
    return c.request(method, path, body, type);
  }
  run_result kubectl(const std::vector<std::string>& args, const std::string& in = "") {
    return sim.kubectl("k1", args, in);
  }
};

std::string message_of(const http_reply& r) {
  return std::string(js::get_string(r.json(), "message"));
}

}  // namespace

TEST_CASE("builtin types: the embedded v1.32 model has the proto numbers and list markers") {
  const auto& m = bs::model::get();
  CHECK(m.tag() == "v0.32.9");
  const bs::message* sts = m.root("apps", "v1", "StatefulSet");
  REQUIRE(sts);
  CHECK(sts->name == "k8s.io.api.apps.v1.StatefulSet");
  CHECK(sts->openapi_name() == "io.k8s.api.apps.v1.StatefulSet");
  const bs::field* replicas = m.field_at(*sts, "spec.replicas");
  REQUIRE(replicas);
  CHECK(replicas->number == 1);
  CHECK(replicas->type == bs::scalar::int32);
  const bs::field* ports = m.field_at(*sts, "spec.template.spec.containers.ports");
  REQUIRE(ports);
  CHECK(ports->list_type == "map");
  CHECK(ports->list_map_keys == std::vector<std::string>{"containerPort", "protocol"});
  CHECK(ports->patch_merge_key == "containerPort");
  CHECK(ports->patch_strategy == "merge");
  const bs::field* policy = m.field_at(*sts, "spec.podManagementPolicy");
  REQUIRE(policy);
  CHECK(policy->enum_values == std::vector<std::string>{"OrderedReady", "Parallel"});
  // EphemeralContainer's inline EphemeralContainerCommon: its fields are the container's.
  const bs::message* pod = m.root("", "v1", "Pod");
  REQUIRE(pod);
  CHECK(m.field_at(*pod, "spec.ephemeralContainers.image"));
  CHECK(m.field_at(*pod, "spec.ephemeralContainers.targetContainerName"));
  CHECK_FALSE(m.field_at(*pod, "spec.nope"));
  CHECK(m.root("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding"));
  CHECK(m.root("apiextensions.k8s.io", "v1", "CustomResourceDefinition"));
}

TEST_CASE("builtin types: kubectl explain prints the v1.32 field documentation") {
  env e;
  auto vct = e.kubectl({"explain", "statefulset.spec.volumeClaimTemplates"});
  REQUIRE_MESSAGE(vct.exit_code == 0, vct.err);
  CHECK(vct.out.find("KIND:       StatefulSet") != std::string::npos);
  CHECK(vct.out.find("FIELD: volumeClaimTemplates <[]PersistentVolumeClaim>") != std::string::npos);
  CHECK(vct.out.find(
            "volumeClaimTemplates is a list of claims that pods are allowed to reference.") !=
        std::string::npos);
  CHECK(vct.out.find("spec\t<PersistentVolumeClaimSpec>") != std::string::npos);

  auto recursive = e.kubectl({"explain", "pods.spec.containers", "--recursive"});
  REQUIRE_MESSAGE(recursive.exit_code == 0, recursive.err);
  CHECK(recursive.out.find("FIELD: containers <[]Container>") != std::string::npos);
  CHECK(recursive.out.find("  name\t<string> -required-") != std::string::npos);
  CHECK(recursive.out.find("  resizePolicy\t<[]ContainerResizePolicy>") != std::string::npos);
  CHECK(recursive.out.find("      configMapKeyRef\t<ConfigMapKeySelector>") != std::string::npos);

  auto policy = e.kubectl({"explain", "pod.spec.restartPolicy"});
  REQUIRE_MESSAGE(policy.exit_code == 0, policy.err);
  CHECK(policy.out.find("ENUM:\n    Always\n    Never\n    OnFailure\n") != std::string::npos);

  // The document itself: real schema names, the kind's GVK, list and patch extensions.
  auto doc = e.req("GET", "/openapi/v3/apis/apps/v1");
  REQUIRE(doc.status == 200);
  js::Document d = doc.json();
  const js::Value* schemas = js::find_path(d, {"components", "schemas"});
  REQUIRE(schemas);
  const js::Value* sts = js::find(*schemas, "io.k8s.api.apps.v1.StatefulSet");
  REQUIRE(sts);
  CHECK(js::to_string(*js::find(*sts, "x-kubernetes-group-version-kind")) ==
        R"([{"group":"apps","kind":"StatefulSet","version":"v1"}])");
  CHECK(js::to_string(*js::find_path(*sts, {"properties", "metadata", "allOf"})) ==
        R"([{"$ref":"#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"}])");
  const js::Value* ports =
      js::find_path(*schemas, {"io.k8s.api.core.v1.Container", "properties", "ports"});
  REQUIRE(ports);
  CHECK(js::to_string(*js::find(*ports, "x-kubernetes-list-map-keys")) ==
        R"(["containerPort","protocol"])");
  CHECK(js::get_string(*ports, "x-kubernetes-patch-merge-key") == "containerPort");
  CHECK(js::find(*schemas, "io.k8s.apimachinery.pkg.util.intstr.IntOrString"));
}

TEST_CASE(
    "builtin types: kubectl apply of an unknown field fails under Strict, warns under "
    "--validate=warn, is dropped with --validate=false") {
  env e;
  const std::string manifest = statefulset_yaml("  foo: bar\n");
  auto strict = e.kubectl({"apply", "-f", "-"}, manifest);
  CHECK(strict.exit_code != 0);
  CHECK(strict.err ==
        "Error from server (BadRequest): error when creating \"STDIN\": StatefulSet in version "
        "\"v1\" cannot be handled as a StatefulSet: strict decoding error: unknown field "
        "\"spec.foo\"\n");
  CHECK(e.req("GET", sts_path + "/web").status == 404);

  auto warn = e.kubectl({"apply", "--validate=warn", "-f", "-"}, manifest);
  CHECK_MESSAGE(warn.exit_code == 0, warn.err);
  CHECK(warn.err == "Warning: unknown field \"spec.foo\"\n");
  CHECK(js::find_path(e.req("GET", sts_path + "/web").json(), {"spec", "foo"}) == nullptr);

  // The update (a strategic merge patch) under Strict: a 422 naming the patch as Go prints it.
  auto update = e.kubectl({"apply", "-f", "-"}, statefulset_yaml("        bogus: 1\n  foo: bar\n"));
  CHECK(update.exit_code != 0);
  INFO(update.err);
  CHECK(update.err.rfind("The request is invalid: patch: Invalid value: \"map[", 0) == 0);
  // The converter reports a struct's unknown fields after those within its known fields.
  CHECK(
      update.err.find("\": strict decoding error: unknown field "
                      "\"spec.template.spec.containers[0].bogus\", unknown field \"spec.foo\"\n") !=
      std::string::npos);

  // Server-side apply types the patch first: an undeclared field fails whatever --validate says.
  auto ssa = e.kubectl({"apply", "--server-side", "--validate=false", "-f", "-"}, manifest);
  CHECK(ssa.exit_code != 0);
  CHECK(ssa.err ==
        "Error from server: failed to create typed patch object (default/web; apps/v1, "
        "Kind=StatefulSet): .spec.foo: field not declared in schema\n");

  auto loose = e.kubectl({"apply", "--validate=false", "-f", "-"},
                         statefulset_yaml("  foo: baz\n  minReadySeconds: 3\n"));
  CHECK_MESSAGE(loose.exit_code == 0, loose.err);
  CHECK(loose.err == "");
  js::Document stored = e.req("GET", sts_path + "/web").json();
  CHECK(js::find_path(stored, {"spec", "foo"}) == nullptr);
  CHECK(js::get_int(stored, {"spec", "minReadySeconds"}, 0) == 3);
}

TEST_CASE("builtin types: a value of the wrong type is refused as the Go decoder refuses it") {
  env e;
  auto created = e.kubectl({"apply", "-f", "-"}, statefulset_yaml("  replicas: \"two\"\n"));
  CHECK(created.exit_code != 0);
  CHECK(created.err ==
        "Error from server (BadRequest): error when creating \"STDIN\": StatefulSet in version "
        "\"v1\" cannot be handled as a StatefulSet: json: cannot unmarshal string into Go struct "
        "field StatefulSetSpec.spec.replicas of type int32\n");

  auto r = e.req("POST", cm_path, R"({"metadata":{"name":"a"},"data":{"k":1}})");
  CHECK(r.status == 400);
  CHECK(message_of(r) ==
        "ConfigMap in version \"v1\" cannot be handled as a ConfigMap: json: cannot unmarshal "
        "number into Go struct field ConfigMap.data of type string");
  r = e.req("POST", "/api/v1/namespaces/default/secrets",
            R"({"metadata":{"name":"s"},"data":{"k":"a b"}})");
  CHECK(r.status == 400);
  CHECK(message_of(r) ==
        "Secret in version \"v1\" cannot be handled as a Secret: illegal base64 data at input "
        "byte 1");
  r = e.req("POST", "/api/v1/namespaces/default/pods",
            R"({"metadata":{"name":"p"},"spec":{"containers":[{"name":"c","image":"i",
               "resources":{"limits":{"cpu":"lots"}}}]}})");
  CHECK(r.status == 400);
  CHECK(message_of(r) ==
        "Pod in version \"v1\" cannot be handled as a Pod: quantities must match the regular "
        "expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'");

  // Times: metav1.MicroTime wants its six fraction digits, metav1.Time RFC 3339 (time.Parse).
  r = e.req("POST", "/apis/coordination.k8s.io/v1/namespaces/default/leases",
            R"({"metadata":{"name":"l"},"spec":{"renewTime":"2024-05-01T10:00:00Z"}})");
  CHECK(r.status == 400);
  CHECK(message_of(r) ==
        "Lease in version \"v1\" cannot be handled as a Lease: parsing time "
        "\"2024-05-01T10:00:00Z\" as \"2006-01-02T15:04:05.000000Z07:00\": cannot parse \"Z\" as "
        "\".000000\"");
  r = e.req("POST", cm_path,
            R"({"metadata":{"name":"t","creationTimestamp":"2024-13-01T00:00:00Z"}})");
  CHECK(message_of(r) ==
        "ConfigMap in version \"v1\" cannot be handled as a ConfigMap: parsing time "
        "\"2024-13-01T00:00:00Z\": month out of range");
  r = e.req("POST", cm_path, R"({"metadata":{"name":"t","creationTimestamp":"yesterday"}})");
  CHECK(message_of(r) ==
        "ConfigMap in version \"v1\" cannot be handled as a ConfigMap: parsing time \"yesterday\" "
        "as \"2006-01-02T15:04:05Z07:00\": cannot parse \"yesterday\" as \"2006\"");

  // Patches: a 422 about the patched object (merge) or the patch (strategic merge, whose map the
  // unstructured converter refuses in its own words).
  REQUIRE(e.req("POST", cm_path, R"({"metadata":{"name":"a"},"data":{"k":"v"}})").status == 201);
  r = e.req("PATCH", cm_path + "/a", R"({"immutable":"yes"})", "application/merge-patch+json");
  CHECK(r.status == 422);
  CHECK(message_of(r).find("\": json: cannot unmarshal string into Go struct field "
                           "ConfigMap.immutable of type bool") != std::string::npos);
  r = e.req("PATCH", cm_path + "/a", R"({"immutable":"yes"})",
            "application/strategic-merge-patch+json");
  CHECK(r.status == 422);
  CHECK(message_of(r) ==
        " \"\" is invalid: patch: Invalid value: \"map[immutable:yes]\": unrecognized type: bool");
}

TEST_CASE(
    "builtin types: fieldValidation on raw writes: Strict 400 on create and 422 on patch, Warn "
    "header, Ignore silent, and server-side apply's typed patch error") {
  env e;
  auto r = e.req("POST", cm_path + "?fieldValidation=Strict",
                 R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x","foo":1},
                     "data":{"a":"b"},"data":{"c":"d"},"bar":2})");
  CHECK(r.status == 400);
  js::Document body = r.json();
  CHECK(js::get_string(body, "reason") == "BadRequest");
  CHECK(js::get_int(body, {"code"}, 0) == 400);
  CHECK(js::get_string(body, "message") ==
        "ConfigMap in version \"v1\" cannot be handled as a ConfigMap: strict decoding error: "
        "unknown field \"metadata.foo\", duplicate field \"data\", unknown field \"bar\"");

  r = e.req("POST", cm_path, R"({"metadata":{"name":"x"},"data":{"a":"b"},"bar":2})");
  CHECK(r.status == 201);
  CHECK(r.headers["warning"] == R"(299 - "unknown field \"bar\"")");
  CHECK(js::find(r.json(), "bar") == nullptr);

  r = e.req("PUT", cm_path + "/x?fieldValidation=Ignore",
            R"({"metadata":{"name":"x"},"data":{"a":"c"},"bar":2})");
  CHECK(r.status == 200);
  CHECK(r.headers.count("warning") == 0);
  CHECK(js::find(r.json(), "bar") == nullptr);

  r = e.req("PATCH", cm_path + "/x?fieldValidation=Strict", R"({"spec":{"b":1}})",
            "application/merge-patch+json");
  body = r.json();
  CHECK(r.status == 422);
  CHECK(js::get_string(body, "reason") == "Invalid");
  std::string message(js::get_string(body, "message"));
  CHECK(message.rfind(R"( "" is invalid: patch: Invalid value: "{)", 0) == 0);
  CHECK(message.find(R"(}": strict decoding error: unknown field "spec")") != std::string::npos);
  CHECK(js::get_string(*js::find_path(body, {"details", "causes"})->Begin(), "field") == "patch");

  r = e.req("PATCH", cm_path + "/x?fieldManager=m",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  namespace: default\n"
            "data:\n  a: b\nfoo: 1\n",
            "application/apply-patch+yaml");
  CHECK(r.status == 500);
  CHECK(message_of(r) ==
        "failed to create typed patch object (default/x; /v1, Kind=ConfigMap): .foo: field not "
        "declared in schema");
}

TEST_CASE("builtin types: python3-kubernetes creates a typed ConfigMap without kind") {
  {
    auto probe = run({"/usr/bin/python3", "-c", "import kubernetes"}, {}, 30s);
    INFO("/usr/bin/python3 with the kubernetes package (Debian python3-kubernetes) is needed: ",
         probe.err);
    REQUIRE(probe.exit_code == 0);
  }
  kubesim_instance sim;
  const char* script = R"(
import sys
from kubernetes import client, config
config.load_kube_config(config_file=sys.argv[1])
v1 = client.CoreV1Api()
body = client.V1ConfigMap(metadata=client.V1ObjectMeta(name="typed"), data={"a": "b"})
cm = v1.create_namespaced_config_map("default", body=body)
print(cm.kind, cm.api_version, cm.metadata.name, cm.data["a"])
)";
  auto r = run({"/usr/bin/python3", "-c", script, sim.kubeconfig("k1")},
               {{"HOME", sim.state_dir()}, {"PYTHONDONTWRITEBYTECODE", "1"}}, 60s);
  INFO("stderr: " << r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.out == "ConfigMap v1 typed b\n");
}
