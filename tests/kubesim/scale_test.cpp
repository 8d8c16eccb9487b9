// The scale subresource (autoscaling/v1 Scale) of StatefulSets, Deployments and custom resources
// whose CRD declares subresources.scale, as kube-apiserver v1.32 serves it: raw HTTP for the
// exact bodies and errors, the real `kubectl scale` for what users do with it.
#include <doctest/doctest.h>

#include <string>

#include "tests/support/kubesim_fixture.h"

using namespace testsupport;
using namespace std::chrono_literals;
namespace js = k8s::json;

namespace {

const std::string sts_coll = "/apis/apps/v1/namespaces/default/statefulsets";
const std::string sts = sts_coll + "/db";
const std::string crd_path = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions";
const std::string crs = "/apis/db.orange.com/v2/namespaces/default/cassandraclusters";
const char* merge = "application/merge-patch+json";

// The CassandraCluster CRD with a scale subresource on nodesPerRacks.
const char* scalable_crd = R"(apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: cassandraclusters.db.orange.com
spec:
  group: db.orange.com
  names:
    kind: CassandraCluster
    listKind: CassandraClusterList
    plural: cassandraclusters
    singular: cassandracluster
    shortNames: [cassc]
  scope: Namespaced
  versions:
  - name: v2
    served: true
    storage: true
    subresources:
      status: {}
      scale:
        specReplicasPath: .spec.nodesPerRacks
        statusReplicasPath: .status.readyNodes
        labelSelectorPath: .status.selector
    schema:
      openAPIV3Schema:
        type: object
        x-kubernetes-preserve-unknown-fields: true
)";

std::string str(const js::Value& v) {
  return js::to_string(v);
}
std::string at(const js::Value& v, std::initializer_list<std::string_view> path) {
  const js::Value* p = js::find_path(v, path);
  return p ? str(*p) : "<missing>";
}

struct env {
  kubesim_instance sim;
  api_client c;
  env() : sim({"k1"}), c(sim.client("k1")) {}
  js::Document expect(int code, const std::string& method, const std::string& path,
                      const std::string& body = "", const std::string& type = "application/json") {
    auto r = c.request(method, path, body, type);
    REQUIRE_MESSAGE(r.status == code, method << " " << path << " -> " << r.body);
    return r.json();
  }
  js::Document create_sts() {
    return expect(201, "POST", sts_coll,
                  R"({"apiVersion":"apps/v1","kind":"StatefulSet","metadata":{"name":"db"},
      "spec":{"serviceName":"db","replicas":1,"selector":{"matchLabels":{"app":"db","tier":"x"},
      "matchExpressions":[{"key":"zone","operator":"In","values":["b","a"]}]},
      "template":{"metadata":{"labels":{"app":"db","tier":"x","zone":"a"}},
      "spec":{"containers":[{"name":"c","image":"busybox"}]}}}})");
  }
  void install_crd() {
    auto r = c.request("POST", crd_path, scalable_crd, "application/yaml");
    REQUIRE_MESSAGE(r.status == 201, r.body);
  }
};

void check_json(const http_reply& r, int code, const std::string& want) {
  CHECK_MESSAGE(r.status == code, r.body);
  CHECK_MESSAGE(js::parse(r.body) == js::parse(want), "got  " << r.body << "\nwant " << want);
}

}  // namespace

TEST_CASE("scale: a StatefulSet's Scale reads and writes spec.replicas and bumps the generation") {
  env e;
  auto created = e.create_sts();
  auto scale = e.expect(200, "GET", sts + "/scale");
  CHECK(js::get_string(scale, "kind") == "Scale");
  CHECK(js::get_string(scale, "apiVersion") == "autoscaling/v1");
  CHECK(at(scale, {"metadata", "name"}) == R"("db")");
  CHECK(at(scale, {"metadata", "namespace"}) == R"("default")");
  CHECK(at(scale, {"metadata", "uid"}) == at(created, {"metadata", "uid"}));
  CHECK(at(scale, {"metadata", "creationTimestamp"}) ==
        at(created, {"metadata", "creationTimestamp"}));
  CHECK(at(scale, {"spec"}) == R"({"replicas":1})");
  CHECK(at(scale, {"status", "selector"}) == R"x("app=db,tier=x,zone in (a,b)")x");
  CHECK(js::find_path(scale, {"status", "replicas"}) != nullptr);

  // PATCH (merge) on the Scale: the parent's spec.replicas and generation follow.
  auto patched = e.expect(200, "PATCH", sts + "/scale", R"({"spec":{"replicas":3}})", merge);
  CHECK(at(patched, {"spec", "replicas"}) == "3");
  auto parent = e.expect(200, "GET", sts);
  CHECK(at(parent, {"spec", "replicas"}) == "3");
  CHECK(at(parent, {"metadata", "generation"}) == "2");
  CHECK(at(patched, {"metadata", "resourceVersion"}) ==
        at(parent, {"metadata", "resourceVersion"}));

  // JSON patch and strategic merge patch too.
  e.expect(200, "PATCH", sts + "/scale", R"([{"op":"replace","path":"/spec/replicas","value":4}])",
           "application/json-patch+json");
  auto sm = e.expect(200, "PATCH", sts + "/scale", R"({"spec":{"replicas":5}})",
                     "application/strategic-merge-patch+json");
  CHECK(at(sm, {"spec", "replicas"}) == "5");

  // PUT: its resourceVersion is a precondition; replicas 0 is written (and omitted in the Scale).
  auto put = e.expect(
      200, "PUT", sts + "/scale",
      R"({"apiVersion":"autoscaling/v1","kind":"Scale","metadata":{"name":"db","resourceVersion":)" +
          at(sm, {"metadata", "resourceVersion"}) + R"(},"spec":{"replicas":0}})");
  CHECK(at(put, {"spec"}) == "{}");
  CHECK(at(e.expect(200, "GET", sts), {"spec", "replicas"}) == "0");
  auto stale = e.c.request(
      "PUT", sts + "/scale",
      R"({"apiVersion":"autoscaling/v1","kind":"Scale","metadata":{"name":"db","resourceVersion":)" +
          at(sm, {"metadata", "resourceVersion"}) + R"(},"spec":{"replicas":2}})");
  CHECK(stale.status == 409);
  CHECK(at(stale.json(), {"reason"}) == R"("Conflict")");

  // ValidateScale, reported as the extensions group's Scale.
  check_json(e.c.request("PATCH", sts + "/scale", R"({"spec":{"replicas":-1}})", merge), 422,
             R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",
             "message":"Scale.extensions \"db\" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0",
             "reason":"Invalid","details":{"name":"db","group":"extensions","kind":"Scale","causes":[
             {"reason":"FieldValueInvalid","message":"Invalid value: -1: must be greater than or equal to 0","field":"spec.replicas"}]},"code":422})");
  CHECK(e.c.get(sts_coll + "/nope/scale").status == 404);
  CHECK(e.c.get("/api/v1/namespaces/default/configmaps/kube-root-ca.crt/scale").status == 404);
}

TEST_CASE(
    "scale: discovery lists statefulsets/scale and deployments/scale as autoscaling/v1 Scale") {
  env e;
  auto legacy = e.expect(200, "GET", "/apis/apps/v1");
  std::string want =
      R"({"name":"statefulsets/scale","singularName":"","namespaced":true,"group":"autoscaling","version":"v1","kind":"Scale","verbs":["get","patch","update"]})";
  bool found_sts = false, found_deploy = false;
  for (const auto& r : js::find(legacy, "resources")->GetArray()) {
    if (js::get_string(r, "name") == "statefulsets/scale") found_sts = str(r) == want;
    if (js::get_string(r, "name") == "deployments/scale") found_deploy = true;
  }
  CHECK(found_sts);
  CHECK(found_deploy);
  auto r = e.c.request(
      "GET", "/apis", "", "application/json",
      {{"Accept", "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"}});
  REQUIRE(r.status == 200);
  CHECK(
      r.body.find(
          R"({"subresource":"scale","responseKind":{"group":"autoscaling","version":"v1","kind":"Scale"},"verbs":["get","patch","update"]})") !=
      std::string::npos);
}

TEST_CASE("scale: kubectl scale a StatefulSet and a custom resource whose CRD declares scale") {
  env e;
  e.create_sts();
  auto r = e.sim.kubectl("k1", {"scale", "sts/db", "--replicas=3"});
  CHECK_MESSAGE(r.exit_code == 0, r.err);
  CHECK(r.out == "statefulset.apps/db scaled\n");
  CHECK(at(e.expect(200, "GET", sts), {"spec", "replicas"}) == "3");

  e.install_crd();
  e.expect(
      201, "POST", crs,
      R"({"apiVersion":"db.orange.com/v2","kind":"CassandraCluster","metadata":{"name":"c1"},"spec":{"nodesPerRacks":1}})");
  e.expect(200, "PATCH", crs + "/c1/status", R"({"status":{"readyNodes":1,"selector":"app=c1"}})",
           merge);
  r = e.sim.kubectl("k1", {"scale", "cassandracluster/c1", "--replicas=4"});
  CHECK_MESSAGE(r.exit_code == 0, r.err);
  CHECK(r.out == "cassandracluster.db.orange.com/c1 scaled\n");
  auto cr = e.expect(200, "GET", crs + "/c1");
  CHECK(at(cr, {"spec", "nodesPerRacks"}) == "4");
  CHECK(at(cr, {"metadata", "generation"}) == "2");
  auto scale = e.expect(200, "GET", crs + "/c1/scale");
  CHECK(at(scale, {"spec"}) == R"({"replicas":4})");
  CHECK(at(scale, {"status"}) == R"({"replicas":1,"selector":"app=c1"})");
  // --current-replicas is a precondition kubectl checks on the Scale it reads.
  r = e.sim.kubectl("k1", {"scale", "cassandracluster/c1", "--current-replicas=2", "--replicas=5"});
  CHECK(r.exit_code != 0);
  CHECK(at(e.expect(200, "GET", crs + "/c1"), {"spec", "nodesPerRacks"}) == "4");
}

TEST_CASE("scale: a custom resource without its spec replicas field, or with a bad one") {
  env e;
  e.install_crd();
  e.expect(
      201, "POST", crs,
      R"({"apiVersion":"db.orange.com/v2","kind":"CassandraCluster","metadata":{"name":"c1"},"spec":{}})");
  check_json(e.c.get(crs + "/c1/scale"), 500,
             R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",
             "message":"Internal error occurred: the spec replicas field \".spec.nodesPerRacks\" does not exist",
             "reason":"InternalError","details":{"causes":[{"message":"the spec replicas field \".spec.nodesPerRacks\" does not exist"}]},"code":500})");
  check_json(e.c.request("PATCH", crs + "/c1/scale", R"({"metadata":{"labels":{"a":"b"}}})", merge),
             400,
             R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",
             "message":"the spec replicas field \".spec.nodesPerRacks\" cannot be empty","reason":"BadRequest","code":400})");
  // A PUT sets it.
  auto put = e.expect(
      200, "PUT", crs + "/c1/scale",
      R"({"apiVersion":"autoscaling/v1","kind":"Scale","metadata":{"name":"c1"},"spec":{"replicas":2}})");
  CHECK(at(put, {"spec"}) == R"({"replicas":2})");
  CHECK(at(put, {"status"}) == R"({"replicas":0})");
  check_json(e.c.request("PATCH", crs + "/c1/scale", R"({"spec":{"replicas":-3}})", merge), 422,
             R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",
             "message":"CassandraCluster.db.orange.com \"c1\" is invalid: .spec.nodesPerRacks: Invalid value: -3: should be a non-negative integer",
             "reason":"Invalid","details":{"name":"c1","group":"db.orange.com","kind":"CassandraCluster","causes":[
             {"reason":"FieldValueInvalid","message":"Invalid value: -3: should be a non-negative integer","field":".spec.nodesPerRacks"}]},"code":422})");
  e.expect(200, "PATCH", crs + "/c1", R"({"spec":{"nodesPerRacks":"three"}})", merge);
  check_json(e.c.get(crs + "/c1/scale"), 500,
             R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",
             "message":".spec.nodesPerRacks accessor error: three is of the type string, expected int64","code":500})");
}

TEST_CASE("scale: a CRD's scale paths are checked as the real server does") {
  env e;
  std::string crd = scalable_crd;
  auto replace = [&](const std::string& from, const std::string& to) {
    crd.replace(crd.find(from), from.size(), to);
  };
  replace("specReplicasPath: .spec.nodesPerRacks", "specReplicasPath: spec.nodesPerRacks");
  replace("statusReplicasPath: .status.readyNodes\n        ", "");
  replace("labelSelectorPath: .status.selector", "labelSelectorPath: .metadata.labels");
  auto r = e.c.request("POST", crd_path, crd, "application/yaml");
  CHECK(r.status == 422);
  CHECK(
      at(r.json(), {"message"}) ==
      R"("CustomResourceDefinition.apiextensions.k8s.io \"cassandraclusters.db.orange.com\" is invalid: [)"
      R"(spec.versions[0].subresources.scale.specReplicasPath: Invalid value: \"spec.nodesPerRacks\": must be a simple json path starting with ., )"
      R"(spec.versions[0].subresources.scale.statusReplicasPath: Required value, )"
      R"(spec.versions[0].subresources.scale.labelSelectorPath: Invalid value: \".metadata.labels\": should be a json path under either .spec or .status]")");
}
