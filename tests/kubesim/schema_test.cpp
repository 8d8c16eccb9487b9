// Custom resources under their CRD's structural schema, driven over HTTP and with the real kubectl:
// CRDs without or with a non-structural schema refused, pruning on every write path, defaults,
// validation errors as kubectl prints them, fieldValidation, ratcheting, and the metadata limits
// of every kind. Expected bodies and messages are those of a v1.32 API server.
#include <doctest/doctest.h>

#include <string>

#include "k8s/json/yaml_json.h"
#include "tests/support/kubesim_fixture.h"
#include "tools/kubesim/api_error.h"
#include "tools/kubesim/resource_types.h"

using namespace testsupport;
namespace js = k8s::json;

namespace {

const std::string crd_path = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions";
const std::string crd_item = crd_path + "/cassandraclusters.db.orange.com";
const std::string crs = "/apis/db.orange.com/v2/namespaces/default/cassandraclusters";
const std::string old_crs = "/apis/db.orange.com/v1alpha1/namespaces/default/cassandraclusters";
const char* merge = "application/merge-patch+json";

// A CassandraCluster CRD with a typed schema: v2 (stored) with defaults, an enum, bounds, a
// pattern and a status subresource; v1alpha1 served with a smaller schema.
std::string crd_yaml(int max_nodes = 10) {
  return R"(apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: cassandraclusters.db.orange.com
spec:
  group: db.orange.com
  names: {kind: CassandraCluster, listKind: CassandraClusterList, plural: cassandraclusters, singular: cassandracluster}
  scope: Namespaced
  versions:
  - name: v2
    served: true
    storage: true
    subresources: {status: {}}
    schema:
      openAPIV3Schema:
        type: object
        properties:
          apiVersion: {type: string}
          kind: {type: string}
          metadata: {type: object}
          spec:
            type: object
            properties:
              nodesPerRacks: {type: integer, maximum: )" +
         std::to_string(max_nodes) + R"(}
              serverType: {type: string, enum: [cassandra, dse], default: cassandra}
              runAsUser: {type: integer, minimum: 1, default: 999}
              dataCapacity: {type: string}
              topology:
                type: object
                properties:
                  dc:
                    type: array
                    items:
                      type: object
                      properties:
                        name: {type: string, pattern: '^[^-]+$'}
          status:
            type: object
            properties:
              phase: {type: string}
  - name: v1alpha1
    served: true
    storage: false
    subresources: {status: {}}
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              nodesPerRacks: {type: integer}
          status: {type: object, x-kubernetes-preserve-unknown-fields: true}
)";
}

std::string cr(const std::string& name, const std::string& spec) {
  return R"({"apiVersion":"db.orange.com/v2","kind":"CassandraCluster","metadata":{"name":")" +
         name + R"("},"spec":)" + spec + "}";
}

std::string str(const js::Value& v) {
  return js::to_string(v);
}
std::string at(const js::Value& v, std::initializer_list<std::string_view> path) {
  const js::Value* p = js::find_path(v, path);
  return p ? str(*p) : "<missing>";
}
std::string rv_of(const js::Value& obj) {
  return std::string(js::get_string(obj, {"metadata", "resourceVersion"}));
}

// A kubesim with the CRD above installed.
struct env {
  kubesim_instance sim;
  api_client c;
  env() : c(sim.client("k1")) {
    auto r = c.request("POST", crd_path, crd_yaml(), "application/yaml");
    REQUIRE_MESSAGE(r.status == 201, r.body);
  }
  http_reply req(const std::string& method, const std::string& path, const std::string& body = "",
                 const std::string& type = "application/json") {
    return c.request(method, path, body, type);
  }
  js::Document expect(int code, const std::string& method, const std::string& path,
                      const std::string& body = "", const std::string& type = "application/json") {
    auto r = req(method, path, body, type);
    REQUIRE_MESSAGE(r.status == code, method << " " << path << " -> " << r.body);
    return r.json();
  }
  run_result kubectl(const std::vector<std::string>& args, const std::string& in = "") {
    return sim.kubectl("k1", args, in);
  }
};

// The Status body's parts tests compare.
struct status_view {
  int code;
  std::string reason, message, causes;
};
status_view status_of(const http_reply& r) {
  js::Document d = r.json();
  status_view v{static_cast<int>(js::get_int(d, {"code"}, 0)),
                std::string(js::get_string(d, "reason")), std::string(js::get_string(d, "message")),
                ""};
  if (const js::Value* causes = js::find_path(d, {"details", "causes"}))
    for (const auto& c : causes->GetArray())
      v.causes += std::string(js::get_string(c, "reason")) + "|" +
                  std::string(js::get_string(c, "field")) + "|" +
                  std::string(js::get_string(c, "message")) + "\n";
  return v;
}

}  // namespace

TEST_CASE("schema: a CRD version without schema or with a non-structural one is refused with 422") {
  kubesim_instance sim;
  auto c = sim.client("k1");
  auto no_schema = js::yaml_to_json(crd_yaml());
  js::remove_member(no_schema["spec"]["versions"][1], "schema");
  auto r = c.request("POST", crd_path, str(no_schema));
  auto s = status_of(r);
  CHECK(r.status == 422);
  CHECK(s.reason == "Invalid");
  CHECK(s.message ==
        "CustomResourceDefinition.apiextensions.k8s.io \"cassandraclusters.db.orange.com\" is "
        "invalid: "
        "spec.versions[1].schema.openAPIV3Schema: Required value: schemas are required");
  CHECK(s.causes ==
        "FieldValueRequired|spec.versions[1].schema.openAPIV3Schema|Required value: schemas are "
        "required\n");

  std::string untyped = crd_yaml();
  untyped.replace(untyped.find("dataCapacity: {type: string}"), 28, "dataCapacity: {pattern: x}");
  r = c.request("POST", crd_path, untyped, "application/yaml");
  CHECK(r.status == 422);
  CHECK(status_of(r).message ==
        "CustomResourceDefinition.apiextensions.k8s.io \"cassandraclusters.db.orange.com\" is "
        "invalid: "
        "spec.versions[0].schema.openAPIV3Schema.properties[spec].properties[dataCapacity].type: "
        "Required value: "
        "must not be empty for specified object fields");
  // Nothing was registered.
  CHECK(c.request("GET", crs).status == 404);
}

TEST_CASE(
    "schema: an invalid custom resource gets the real 422 and kubectl prints the real message") {
  env e;
  auto r = e.req("POST", crs, cr("x", R"({"nodesPerRacks":"three"})"));
  auto s = status_of(r);
  CHECK(r.status == 422);
  CHECK(s.message ==
        "CassandraCluster.db.orange.com \"x\" is invalid: spec.nodesPerRacks: Invalid value: "
        "\"string\": "
        "spec.nodesPerRacks in body must be of type integer: \"string\"");
  CHECK(s.causes ==
        "FieldValueTypeInvalid|spec.nodesPerRacks|Invalid value: \"string\": spec.nodesPerRacks in "
        "body must be of type integer: \"string\"\n");
  js::Document d = r.json();
  CHECK(at(d, {"details", "kind"}) == R"("CassandraCluster")");
  CHECK(at(d, {"details", "group"}) == R"("db.orange.com")");
  CHECK(at(d, {"details", "name"}) == R"("x")");

  auto k = e.kubectl({"apply", "-f", "-"}, R"(apiVersion: db.orange.com/v2
kind: CassandraCluster
metadata:
  name: x
spec:
  nodesPerRacks: three
)");
  CHECK(k.exit_code != 0);
  CHECK(k.err ==
        "The CassandraCluster \"x\" is invalid: spec.nodesPerRacks: Invalid value: \"string\": "
        "spec.nodesPerRacks in body must be of type integer: \"string\"\n");
  k = e.kubectl({"apply", "-f", "-"}, R"(apiVersion: db.orange.com/v2
kind: CassandraCluster
metadata:
  name: x
spec:
  serverType: scylla
  nodesPerRacks: 11
  runAsUser: 0
  topology: {dc: [{name: dc-1}]}
)");
  CHECK(k.exit_code != 0);
  CHECK(
      k.err ==
      "The CassandraCluster \"x\" is invalid: \n"
      "* spec.nodesPerRacks: Invalid value: 11: spec.nodesPerRacks in body should be less than or "
      "equal to 10\n"
      "* spec.runAsUser: Invalid value: 0: spec.runAsUser in body should be greater than or equal "
      "to 1\n"
      "* spec.serverType: Unsupported value: \"scylla\": supported values: \"cassandra\", \"dse\"\n"
      "* spec.topology.dc[0].name: Invalid value: \"dc-1\": spec.topology.dc[0].name in body "
      "should match "
      "'^[^-]+$'\n");
  CHECK(e.req("GET", crs + "/x").status == 404);
}

TEST_CASE(
    "schema: unknown fields are pruned on create, update, merge patch, JSON patch and status "
    "writes") {
  env e;
  const std::string ignore = "?fieldValidation=Ignore";
  auto created =
      e.expect(201, "POST", crs + ignore,
               R"({"apiVersion":"db.orange.com/v2","kind":"CassandraCluster","metadata":{"name":"x",
                              "bogus":1},"spec":{"nodesPerRacks":3,"foo":1,"topology":{"dc":[{"name":"a","x":2}]}},
                              "extra":true})");
  CHECK(
      at(created, {"spec"}) ==
      R"({"nodesPerRacks":3,"topology":{"dc":[{"name":"a"}]},"runAsUser":999,"serverType":"cassandra"})");
  CHECK(js::find(created, "extra") == nullptr);
  CHECK(js::find_path(created, {"metadata", "bogus"}) == nullptr);

  js::Document put = js::copy_of(created);
  js::set_member(put["spec"], "foo", js::Value(2), put.GetAllocator());
  js::set_member(put["spec"], "nodesPerRacks", js::Value(4), put.GetAllocator());
  auto updated = e.expect(200, "PUT", crs + "/x" + ignore, str(put));
  CHECK(at(updated, {"spec", "foo"}) == "<missing>");
  CHECK(at(updated, {"spec", "nodesPerRacks"}) == "4");

  auto merged = e.expect(200, "PATCH", crs + "/x" + ignore,
                         R"({"spec":{"bar":1,"dataCapacity":"1Gi"}})", merge);
  CHECK(at(merged, {"spec", "bar"}) == "<missing>");
  CHECK(at(merged, {"spec", "dataCapacity"}) == R"("1Gi")");

  auto patched = e.expect(
      200, "PATCH", crs + "/x" + ignore,
      R"([{"op":"add","path":"/spec/baz","value":1},{"op":"replace","path":"/spec/nodesPerRacks","value":5}])",
      "application/json-patch+json");
  CHECK(at(patched, {"spec", "baz"}) == "<missing>");
  CHECK(at(patched, {"spec", "nodesPerRacks"}) == "5");

  auto status = e.expect(200, "PATCH", crs + "/x/status" + ignore,
                         R"({"status":{"phase":"Running","foo":1}})", merge);
  CHECK(at(status, {"status"}) == R"({"phase":"Running"})");

  // kubectl apply without validation (fieldValidation=Ignore) prunes as well.
  auto k = e.kubectl({"apply", "--validate=false", "-f", "-"}, R"(apiVersion: db.orange.com/v2
kind: CassandraCluster
metadata:
  name: second
spec:
  nodesPerRacks: 1
  unknownField: true
)");
  CHECK_MESSAGE(k.exit_code == 0, k.err);
  CHECK(at(e.expect(200, "GET", crs + "/second"), {"spec"}) ==
        R"({"nodesPerRacks":1,"runAsUser":999,"serverType":"cassandra"})");
}

TEST_CASE(
    "schema: a write of unknown fields only is a no-op: same resourceVersion and no watch event") {
  env e;
  e.expect(201, "POST", crs, cr("x", R"({"nodesPerRacks":3})"));
  // (A first status is a change: {} where there was none.)
  const std::string rv =
      rv_of(e.expect(200, "PATCH", crs + "/x/status", R"({"status":{"phase":"Running"}})", merge));
  auto w = e.c.stream(crs + "?watch=true&resourceVersion=" + rv);
  REQUIRE(w->status() == 200);
  auto same =
      e.expect(200, "PATCH", crs + "/x?fieldValidation=Ignore", R"({"spec":{"foo":1}})", merge);
  CHECK(rv_of(same) == rv);
  auto status_same = e.expect(200, "PATCH", crs + "/x/status", R"({"status":{"foo":1}})", merge);
  CHECK(rv_of(status_same) == rv);
  // The next event the watch sees is the next real write's.
  auto real = e.expect(200, "PATCH", crs + "/x", R"({"spec":{"nodesPerRacks":4}})", merge);
  auto line = w->next(std::chrono::seconds(10));
  REQUIRE(line);
  auto ev = js::parse(*line);
  CHECK(js::get_string(ev, "type") == "MODIFIED");
  CHECK(rv_of(*js::find(ev, "object")) == rv_of(real));
  w->cancel();
}

TEST_CASE(
    "schema: defaults are applied on create and update, with the schema of the request's version") {
  env e;
  auto created = e.expect(201, "POST", crs, cr("x", R"({"nodesPerRacks":3})"));
  CHECK(at(created, {"spec"}) == R"({"nodesPerRacks":3,"runAsUser":999,"serverType":"cassandra"})");
  // A null of a defaulted field is defaulted; removing a defaulted field brings the default back.
  auto patched =
      e.expect(200, "PATCH", crs + "/x", R"({"spec":{"serverType":null,"runAsUser":5}})", merge);
  CHECK(at(patched, {"spec"}) == R"({"nodesPerRacks":3,"runAsUser":5,"serverType":"cassandra"})");
  // Through v1alpha1, whose schema knows nodesPerRacks only: other fields are pruned, no defaults.
  auto old = e.expect(
      201, "POST", old_crs,
      R"({"apiVersion":"db.orange.com/v1alpha1","kind":"CassandraCluster","metadata":{"name":"y"},
                          "spec":{"nodesPerRacks":2,"serverType":"dse","unknown":1}})");
  CHECK(at(old, {"apiVersion"}) == R"("db.orange.com/v1alpha1")");
  CHECK(at(old, {"spec"}) == R"({"nodesPerRacks":2})");
}

TEST_CASE(
    "schema: kubectl apply fails on an unknown field under Strict, warns under Warn, prunes with "
    "--validate=false") {
  env e;
  const std::string manifest = R"(apiVersion: db.orange.com/v2
kind: CassandraCluster
metadata:
  name: x
spec:
  nodesPerRacks: 3
  nodesPerRack: 3
)";
  auto strict = e.kubectl({"apply", "-f", "-"}, manifest);
  CHECK(strict.exit_code != 0);
  CHECK(
      strict.err ==
      "Error from server (BadRequest): error when creating \"STDIN\": CassandraCluster in version "
      "\"v2\" cannot be handled as a CassandraCluster: strict decoding error: unknown field "
      "\"spec.nodesPerRack\"\n");
  CHECK(e.req("GET", crs + "/x").status == 404);

  auto warn = e.kubectl({"apply", "--validate=warn", "-f", "-"}, manifest);
  CHECK_MESSAGE(warn.exit_code == 0, warn.err);
  CHECK(warn.err == "Warning: unknown field \"spec.nodesPerRack\"\n");
  CHECK(at(e.expect(200, "GET", crs + "/x"), {"spec", "nodesPerRack"}) == "<missing>");

  // An update through kubectl apply (a merge patch): Strict refuses it too.
  auto update = e.kubectl({"apply", "-f", "-"}, manifest + "  dataCapacity: 1Gi\n");
  CHECK(update.exit_code != 0);
  // kubectl words a 422 without kind as "The request is invalid".
  CHECK(update.err.rfind("The request is invalid: patch: Invalid value: \"{", 0) == 0);
  CHECK(update.err.find("}\": strict decoding error: unknown field \"spec.nodesPerRack\"\n") !=
        std::string::npos);
  auto loose =
      e.kubectl({"apply", "--validate=false", "-f", "-"}, manifest + "  dataCapacity: 1Gi\n");
  CHECK_MESSAGE(loose.exit_code == 0, loose.err);
  CHECK(loose.err == "");
  CHECK(at(e.expect(200, "GET", crs + "/x"), {"spec", "dataCapacity"}) == R"("1Gi")");
}

TEST_CASE(
    "schema: fieldValidation Strict is a 400 on create and a 422 on patch, Warn a Warning header") {
  env e;
  auto r = e.req("POST", crs + "?fieldValidation=Strict",
                 cr("x", R"({"nodesPerRacks":3,"a":1,"nodesPerRacks":4})"));
  auto s = status_of(r);
  CHECK(r.status == 400);
  CHECK(s.reason == "BadRequest");
  CHECK(
      s.message ==
      "CassandraCluster in version \"v2\" cannot be handled as a CassandraCluster: strict decoding "
      "error: duplicate field \"spec.nodesPerRacks\", unknown field \"spec.a\"");

  r = e.req("POST", crs, cr("x", R"({"nodesPerRacks":3,"a":1})"));
  CHECK(r.status == 201);
  CHECK(r.headers["warning"] == R"(299 - "unknown field \"spec.a\"")");
  CHECK(at(r.json(), {"spec", "a"}) == "<missing>");

  r = e.req("PATCH", crs + "/x?fieldValidation=Strict", R"({"spec":{"b":1}})", merge);
  s = status_of(r);
  CHECK(r.status == 422);
  CHECK(s.reason == "Invalid");
  CHECK(s.message.rfind(R"( "" is invalid: patch: Invalid value: "{\"apiVersion\":)", 0) == 0);
  CHECK(s.message.find(R"(\"b\":1}}": strict decoding error: unknown field "spec.b")") !=
        std::string::npos);
  CHECK(s.causes.rfind("FieldValueInvalid|patch|Invalid value: ", 0) == 0);

  r = e.req("PATCH", crs + "/x?fieldValidation=Sloppy", "{}", merge);
  CHECK(r.status == 422);
  CHECK(status_of(r).message ==
        "PatchOptions.meta.k8s.io \"\" is invalid: fieldValidation: Unsupported value: "
        "\"Sloppy\": supported values: \"\", \"Ignore\", \"Strict\", \"Warn\"");
}

TEST_CASE(
    "schema: server-side apply of an unknown field fails as the real server's typed patch does") {
  env e;
  auto r = e.req("PATCH", crs + "/x?fieldManager=me", R"(apiVersion: db.orange.com/v2
kind: CassandraCluster
metadata:
  name: x
  namespace: default
spec:
  nodesPerRacks: 3
  foo: 1
)",
                 "application/apply-patch+yaml");
  CHECK(r.status == 500);
  CHECK(r.json() ==
        js::parse(R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",
      "message":"failed to create typed patch object (default/x; db.orange.com/v2, Kind=CassandraCluster): .spec.foo: field not declared in schema",
      "code":500})"));
  r = e.req("PATCH", crs + "/x?fieldManager=me",
            R"({"apiVersion":"db.orange.com/v2","kind":"CassandraCluster",
      "metadata":{"name":"x","namespace":"default"},"spec":{"nodesPerRacks":3}})",
            "application/apply-patch+yaml");
  CHECK(r.status == 201);
  CHECK(at(r.json(), {"spec"}) ==
        R"({"nodesPerRacks":3,"runAsUser":999,"serverType":"cassandra"})");
}

TEST_CASE("schema: validation ratchets: an update keeps an invalid value it does not change") {
  env e;
  e.expect(201, "POST", crs, cr("x", R"({"nodesPerRacks":8})"));
  // The CRD becomes stricter: the stored object is now invalid.
  auto crd = e.expect(200, "GET", crd_item);
  auto stricter = js::yaml_to_json(crd_yaml(4));
  js::set_string(stricter["metadata"], "resourceVersion", rv_of(crd), stricter.GetAllocator());
  e.expect(200, "PUT", crd_item, str(stricter));
  // Changing something else is fine; changing the invalid value is checked.
  e.expect(200, "PATCH", crs + "/x", R"({"spec":{"dataCapacity":"1Gi"}})", merge);
  auto r = e.req("PATCH", crs + "/x", R"({"spec":{"nodesPerRacks":9}})", merge);
  CHECK(r.status == 422);
  CHECK(status_of(r).message ==
        "CassandraCluster.db.orange.com \"x\" is invalid: spec.nodesPerRacks: Invalid value: "
        "9: spec.nodesPerRacks in body should be less than or equal to 4");
  e.expect(200, "PATCH", crs + "/x", R"({"spec":{"nodesPerRacks":2}})", merge);
  // A new object gets no such leniency.
  CHECK(e.req("POST", crs, cr("y", R"({"nodesPerRacks":8})")).status == 422);
}

TEST_CASE("schema: annotations over 256 KiB and invalid labels are refused for every kind") {
  env e;
  const std::string big(262144, 'x');  // with its 1-byte key: 1 byte over the limit
  auto r =
      e.req("POST", "/api/v1/namespaces/default/configmaps",
            R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c","annotations":{"a":")" +
                big + R"("}}})");
  auto s = status_of(r);
  CHECK(r.status == 422);
  CHECK(s.message ==
        "ConfigMap \"c\" is invalid: metadata.annotations: Too long: may not be more than 262144 "
        "bytes");
  CHECK(s.causes ==
        "FieldValueTooLong|metadata.annotations|Too long: may not be more than 262144 bytes\n");
  r = e.req("POST", crs,
            R"({"apiVersion":"db.orange.com/v2","kind":"CassandraCluster","metadata":{"name":"x",
      "annotations":{"a":")" +
                big + R"("}},"spec":{}})");
  CHECK(r.status == 422);
  CHECK(status_of(r).message ==
        "CassandraCluster.db.orange.com \"x\" is invalid: metadata.annotations: Too long: may not "
        "be more than 262144 bytes");
  // Exactly at the limit is fine, and an update over it is refused too.
  e.expect(201, "POST", "/api/v1/namespaces/default/configmaps",
           R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c","annotations":{"a":")" +
               big.substr(1) + R"("}}})");
  r = e.req("PATCH", "/api/v1/namespaces/default/configmaps/c",
            R"({"metadata":{"annotations":{"b":"y"}}})", merge);
  CHECK(r.status == 422);

  r = e.req("POST", "/api/v1/namespaces/default/configmaps",
            R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"l","labels":{"app":")" +
                std::string(64, 'a') + R"("}}})");
  CHECK(r.status == 422);
  CHECK(status_of(r).message == "ConfigMap \"l\" is invalid: metadata.labels: Invalid value: \"" +
                                    std::string(64, 'a') +
                                    "\": must be no more than 63 characters");
  // Services are named as DNS-1035 labels.
  r = e.req(
      "POST", "/api/v1/namespaces/default/services",
      R"({"apiVersion":"v1","kind":"Service","metadata":{"name":"1st"},"spec":{"ports":[{"port":80}]}})");
  CHECK(r.status == 422);
  CHECK(status_of(r).message.find(
            "a DNS-1035 label must consist of lower case alphanumeric characters") !=
        std::string::npos);
}

TEST_CASE(
    "schema: the deploy CRDs and CassKop's own CRD are accepted with a schema for every version") {
  for (const char* file : {"/../deploy/crds/db.orange.com_cassandraclusters.yaml",
                           "/../deploy/crds/db.orange.com_multicasskops.yaml",
                           "/../tests/fixtures/casskop-v2.1.0/cassandraclusters-crd.yaml"}) {
    CAPTURE(file);
    auto crd = js::yaml_to_json(read_file(std::string(TESTS_DIR) + file));
    try {
      auto t = kubesim::type_from_crd(crd);
      for (const auto& v : t.versions) CHECK(t.schema_for(v) != nullptr);
    } catch (const kubesim::api_error& e) {
      FAIL(e.what());
    }
  }
}
