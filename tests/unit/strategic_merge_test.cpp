#include "tools/kubesim/strategic_merge.h"

#include <doctest/doctest.h>

#include <string>
#include <string_view>

#include "k8s/json/json_patch.h"

using namespace k8s::json;

namespace {

const kubesim::builtin_schema::message* type(std::string_view proto_name) {
  const auto* m = kubesim::builtin_schema::model::get().find_message(proto_name);
  REQUIRE(m);
  return m;
}

// The exact text after patching an object of the type `proto_name` ("k8s.io.api.core.v1.Pod"):
// merged lists and maps keep their order, so check it too.
std::string smp(std::string_view proto_name, std::string_view target, std::string_view patch) {
  Document t = parse(target);
  Document p = parse(patch);
  kubesim::apply_strategic_merge_patch(t, p, t.GetAllocator(), type(proto_name));
  return to_string(t);
}

constexpr std::string_view kPod = "k8s.io.api.core.v1.Pod";
constexpr std::string_view kPodSpec = "k8s.io.api.core.v1.PodSpec";
constexpr std::string_view kConfigMap = "k8s.io.api.core.v1.ConfigMap";
constexpr std::string_view kDeployment = "k8s.io.api.apps.v1.Deployment";

std::string canonical(std::string_view text) {
  return to_string(parse(text));
}

}  // namespace

TEST_CASE("strategic merge: containers merge by name, keeping the other containers") {
  const char* pod = R"({"spec":{"containers":[
      {"name":"cassandra","image":"cassandra:3","args":["-f"]},
      {"name":"sidecar","image":"busybox:1"}]}})";
  CHECK(smp(kPod, pod, R"({"spec":{"containers":[{"name":"sidecar","image":"busybox:2"}]}})") ==
        canonical(R"({"spec":{"containers":[
            {"name":"cassandra","image":"cassandra:3","args":["-f"]},
            {"name":"sidecar","image":"busybox:2"}]}})"));
  CHECK(smp(kPod, pod, R"({"spec":{"containers":[{"name":"new","image":"x"},
                                           {"name":"cassandra","args":null}]}})") ==
        canonical(R"({"spec":{"containers":[
            {"name":"cassandra","image":"cassandra:3"},
            {"name":"sidecar","image":"busybox:1"},
            {"name":"new","image":"x"}]}})"));
}

TEST_CASE("strategic merge: initContainers, volumes and volumeMounts merge by their keys") {
  const char* pod = R"({"spec":{
      "initContainers":[{"name":"init","image":"a"}],
      "volumes":[{"name":"data","emptyDir":{}},{"name":"conf","configMap":{"name":"c"}}],
      "containers":[{"name":"c","volumeMounts":[{"mountPath":"/data","name":"data"}]}]}})";
  CHECK(smp(kPod, pod, R"({"spec":{
      "initContainers":[{"name":"init","image":"b"}],
      "volumes":[{"name":"conf","configMap":{"name":"d"}}],
      "containers":[{"name":"c","volumeMounts":[{"mountPath":"/data","readOnly":true},
                                                {"mountPath":"/conf","name":"conf"}]}]}})") ==
        canonical(R"({"spec":{
      "initContainers":[{"name":"init","image":"b"}],
      "volumes":[{"name":"data","emptyDir":{}},{"name":"conf","configMap":{"name":"d"}}],
      "containers":[{"name":"c","volumeMounts":[{"mountPath":"/data","name":"data","readOnly":true},
                                                {"mountPath":"/conf","name":"conf"}]}]}})"));
}

TEST_CASE("strategic merge: env merges by name inside a merged container") {
  const char* pod = R"({"spec":{"containers":[{"name":"c","env":[
      {"name":"A","value":"1"},{"name":"B","valueFrom":{"fieldRef":{"fieldPath":"x"}}}]}]}})";
  CHECK(smp(kPod, pod, R"({"spec":{"containers":[{"name":"c","env":[
      {"name":"B","value":"2","valueFrom":null},{"name":"C","value":"3"}]}]}})") ==
        canonical(R"({"spec":{"containers":[{"name":"c","env":[
            {"name":"A","value":"1"},{"name":"B","value":"2"},{"name":"C","value":"3"}]}]}})"));
}

TEST_CASE("strategic merge: $patch delete removes a keyed list element") {
  const char* pod = R"({"spec":{"containers":[{"name":"a","image":"1"},{"name":"b","image":"2"}],
                                "volumes":[{"name":"v"}]}})";
  CHECK(
      smp(kPod, pod, R"({"spec":{"containers":[{"$patch":"delete","name":"a"}]}})") ==
      canonical(R"({"spec":{"containers":[{"name":"b","image":"2"}],"volumes":[{"name":"v"}]}})"));
  // Deleting something absent is a no-op, and never stores the directive.
  CHECK(smp(kPod, pod, R"({"spec":{"containers":[{"name":"zz","$patch":"delete"}],
                            "initContainers":[{"name":"i","$patch":"delete"}]}})") ==
        canonical(R"({"spec":{"containers":[{"name":"a","image":"1"},{"name":"b","image":"2"}],
                            "volumes":[{"name":"v"}]}})"));
  CHECK(smp(kPodSpec, R"({})", R"({"initContainers":[]})") == R"({"initContainers":[]})");
}

TEST_CASE("strategic merge: a $patch replace element replaces a keyed list") {
  CHECK(smp(kPodSpec, R"({"volumes":[{"name":"a"},{"name":"b"}]})",
            R"({"volumes":[{"name":"c"},{"$patch":"replace"}]})") ==
        canonical(R"({"volumes":[{"name":"c"}]})"));
}

TEST_CASE("strategic merge: Service ports merge by port, container ports by containerPort") {
  const char* svc = R"({"spec":{"ports":[{"name":"cql","port":9042,"targetPort":9042},
                                         {"name":"jmx","port":7199}]}})";
  CHECK(smp("k8s.io.api.core.v1.Service", svc,
            R"({"spec":{"ports":[{"port":7199,"targetPort":7200},{"port":8080}]}})") ==
        canonical(R"({"spec":{"ports":[{"name":"cql","port":9042,"targetPort":9042},
                                       {"name":"jmx","port":7199,"targetPort":7200},
                                       {"port":8080}]}})"));
  CHECK(smp("k8s.io.api.core.v1.Service", svc,
            R"({"spec":{"ports":[{"$patch":"delete","port":9042}]}})") ==
        canonical(R"({"spec":{"ports":[{"name":"jmx","port":7199}]}})"));

  const char* pod = R"({"containers":[{"name":"c","ports":[{"containerPort":80,"name":"http"}]}]})";
  CHECK(smp(kPodSpec, pod,
            R"({"containers":[{"name":"c","ports":[{"containerPort":80,"protocol":"TCP"},
                                                       {"containerPort":443}]}]})") ==
        canonical(R"({"containers":[{"name":"c","ports":[
            {"containerPort":80,"name":"http","protocol":"TCP"},{"containerPort":443}]}]})"));
}

TEST_CASE("strategic merge: other keyed lists") {
  CHECK(smp(kConfigMap,
            R"({"metadata":{"ownerReferences":[{"uid":"1","name":"a"},{"uid":"2","name":"b"}]}})",
            R"({"metadata":{"ownerReferences":[{"uid":"2","controller":true}]}})") ==
        canonical(R"({"metadata":{"ownerReferences":[{"uid":"1","name":"a"},
                                                     {"uid":"2","name":"b","controller":true}]}})"));
  CHECK(smp(kPod, R"({"status":{"conditions":[{"type":"Ready","status":"False"},{"type":"X"}]}})",
            R"({"status":{"conditions":[{"type":"Ready","status":"True"}]}})") ==
        canonical(R"({"status":{"conditions":[{"type":"Ready","status":"True"},{"type":"X"}]}})"));
  CHECK(
      smp(kPodSpec,
          R"({"imagePullSecrets":[{"name":"a"}],"hostAliases":[{"ip":"1.2.3.4","hostnames":["a"]}]})",
          R"({"imagePullSecrets":[{"name":"b"}],"hostAliases":[{"ip":"1.2.3.4","hostnames":["b"]}]})") ==
      canonical(R"({"imagePullSecrets":[{"name":"a"},{"name":"b"}],
                      "hostAliases":[{"ip":"1.2.3.4","hostnames":["b"]}]})"));
  CHECK(smp(kPodSpec, R"({"topologySpreadConstraints":[{"topologyKey":"zone","maxSkew":1}]})",
            R"({"topologySpreadConstraints":[{"topologyKey":"zone","maxSkew":2}]})") ==
        canonical(R"({"topologySpreadConstraints":[{"topologyKey":"zone","maxSkew":2}]})"));
}

TEST_CASE("strategic merge: lists without a merge key are replaced") {
  CHECK(smp(kPodSpec,
            R"({"tolerations":[{"key":"a"},{"key":"b"}],"containers":[{"name":"c","args":["x"]}]})",
            R"({"tolerations":[{"key":"c"}],"containers":[{"name":"c","args":["z"]}]})") ==
        canonical(R"({"tolerations":[{"key":"c"}],"containers":[{"name":"c","args":["z"]}]})"));
  CHECK(
      smp("k8s.io.api.apps.v1.StatefulSet",
          R"({"spec":{"volumeClaimTemplates":[{"metadata":{"name":"a"}},{"metadata":{"name":"b"}}]}})",
          R"({"spec":{"volumeClaimTemplates":[{"metadata":{"name":"b"}}]}})") ==
      canonical(R"({"spec":{"volumeClaimTemplates":[{"metadata":{"name":"b"}}]}})"));
}

TEST_CASE("strategic merge: finalizers are a set, with $deleteFromPrimitiveList") {
  const char* obj = R"({"metadata":{"finalizers":["a","b"]}})";
  CHECK(smp(kConfigMap, obj, R"({"metadata":{"finalizers":["c","a"]}})") ==
        R"({"metadata":{"finalizers":["a","b","c"]}})");
  CHECK(smp(kConfigMap, obj, R"({"metadata":{"$deleteFromPrimitiveList/finalizers":["a"]}})") ==
        R"({"metadata":{"finalizers":["b"]}})");
  CHECK(smp(kConfigMap, obj, R"({"metadata":{"$deleteFromPrimitiveList/finalizers":["b"],
                                 "finalizers":["d"]}})") ==
        R"({"metadata":{"finalizers":["a","d"]}})");
  // Deleting from an absent list does not create it.
  CHECK(smp(kConfigMap, R"({"metadata":{}})",
            R"({"metadata":{"$deleteFromPrimitiveList/finalizers":["a"]}})") ==
        R"({"metadata":{}})");
  CHECK(smp(kConfigMap, R"({"metadata":{}})", R"({"metadata":{"finalizers":["x"]}})") ==
        R"({"metadata":{"finalizers":["x"]}})");
}

TEST_CASE("strategic merge: $setElementOrder and $retainKeys are never stored") {
  const char* pod = R"({"spec":{"containers":[{"name":"a"},{"name":"b"}]}})";
  CHECK(smp(kPod, pod, R"({"spec":{"$setElementOrder/containers":[{"name":"b"},{"name":"a"}],
                            "containers":[{"name":"a","image":"i"}]}})") ==
        canonical(R"({"spec":{"containers":[{"name":"a","image":"i"},{"name":"b"}]}})"));
  // Also inside maps that are new to the target.
  CHECK(smp(kDeployment, R"({})", R"({"spec":{"template":{"spec":{
                                "$setElementOrder/containers":[{"name":"a"}],
                                "containers":[{"name":"a","$setElementOrder/env":[{"name":"E"}],
                                               "env":[{"name":"E","value":"1"}]}]}},
                                "strategy":{"$retainKeys":["type"],"type":"Recreate"}}})") ==
        canonical(R"({"spec":{"template":{"spec":{
                             "containers":[{"name":"a","env":[{"name":"E","value":"1"}]}]}},
                             "strategy":{"type":"Recreate"}}})"));
}

TEST_CASE("strategic merge: plain fields behave like a JSON merge patch") {
  const char* obj = R"({"metadata":{"name":"n","labels":{"a":"1","b":"2"}},"spec":{"replicas":3}})";
  CHECK(smp(kDeployment, obj,
            R"({"metadata":{"labels":{"a":null,"c":"3"}},"spec":{"replicas":5,"paused":true}})") ==
        canonical(R"({"metadata":{"name":"n","labels":{"b":"2","c":"3"}},
                      "spec":{"replicas":5,"paused":true}})"));
  CHECK(smp(kDeployment, obj, R"({"spec":null})") ==
        canonical(R"({"metadata":{"name":"n","labels":{"a":"1","b":"2"}}})"));
  CHECK(smp(kDeployment, obj, R"({"spec":{"replicas":{"nested":1}}})") ==
        canonical(R"({"metadata":{"name":"n","labels":{"a":"1","b":"2"}},
                      "spec":{"replicas":{"nested":1}}})"));
  CHECK(smp(kDeployment, obj, "{}") == canonical(obj));
}

TEST_CASE("strategic merge: null deletes, also inside keyed list elements") {
  CHECK(smp(kPodSpec,
            R"({"containers":[{"name":"c","resources":{"limits":{"cpu":"1"}},"image":"i"}]})",
            R"({"containers":[{"name":"c","resources":null}]})") ==
        R"({"containers":[{"name":"c","image":"i"}]})");
  CHECK(smp(kPodSpec, R"({"a":1,"containers":[{"name":"c"}]})", R"({"containers":null})") ==
        R"({"a":1})");
}

TEST_CASE("strategic merge: $patch replace and delete on maps") {
  const char* obj = R"({"metadata":{"labels":{"a":"1","b":"2"},"name":"n"}})";
  CHECK(smp(kConfigMap, obj, R"({"metadata":{"labels":{"$patch":"replace","c":"3"}}})") ==
        R"({"metadata":{"labels":{"c":"3"},"name":"n"}})");
  CHECK(smp(kConfigMap, obj, R"({"metadata":{"labels":{"$patch":"delete"}}})") ==
        R"({"metadata":{"name":"n"}})");
  CHECK(smp(kConfigMap, obj, R"({"metadata":{"labels":{"$patch":"merge","c":"3"}}})") ==
        R"({"metadata":{"labels":{"a":"1","b":"2","c":"3"},"name":"n"}})");
  CHECK(smp(kConfigMap, obj, R"({"$patch":"delete"})") == "{}");
}

TEST_CASE("strategic merge: malformed directives throw and leave the target unchanged") {
  const char* pod = R"({"spec":{"replicas":1,"containers":[{"name":"a"}]}})";
  for (const char* patch : {R"({"spec":{"replicas":2,"containers":[{"image":"no-name"}]}})",
                            R"({"spec":{"replicas":2,"containers":["a"]}})",
                            R"({"spec":{"replicas":2,"template":{"$patch":"bogus"}}})"}) {
    CAPTURE(patch);
    Document t = parse(pod);
    Document p = parse(patch);
    CHECK_THROWS_AS(kubesim::apply_strategic_merge_patch(t, p, t.GetAllocator(), type(kPod)),
                    json_patch_error);
    CHECK(to_string(t) == canonical(pod));
  }
}

// The merge keys of the exact type at each path (the Go struct tags), not of a field's name.
TEST_CASE(
    "strategic merge: a StatefulSet's volumeClaimTemplates are replaced, its containers merged") {
  const char* sts = R"({"spec":{"volumeClaimTemplates":[{"metadata":{"name":"data"}}],
      "template":{"spec":{"containers":[{"name":"a","image":"1"},{"name":"b","image":"2"}]}}}})";
  CHECK(smp("k8s.io.api.apps.v1.StatefulSet", sts,
            R"({"spec":{"volumeClaimTemplates":[{"metadata":{"name":"logs"}}],
                "template":{"spec":{"containers":[{"name":"b","image":"3"}]}}}})") ==
        canonical(R"({"spec":{"volumeClaimTemplates":[{"metadata":{"name":"logs"}}],
            "template":{"spec":{"containers":[{"name":"a","image":"1"},{"name":"b","image":"3"}]}}}})"));
}

TEST_CASE("strategic merge: lists named like keyed ones elsewhere follow their own type") {
  // EndpointSlice.ports (+listType=atomic, no patch strategy): replaced, not merged by port.
  CHECK(smp("k8s.io.api.discovery.v1.EndpointSlice", R"({"ports":[{"name":"a","port":80}]})",
            R"({"ports":[{"name":"b","port":81}]})") == R"({"ports":[{"name":"b","port":81}]})");
  // ServiceAccount.imagePullSecrets has no patch strategy (PodSpec's merges by name).
  CHECK(smp("k8s.io.api.core.v1.ServiceAccount", R"({"imagePullSecrets":[{"name":"a"}]})",
            R"({"imagePullSecrets":[{"name":"b"}]})") == R"({"imagePullSecrets":[{"name":"b"}]})");
  // ...but its secrets merge by name, and a PodSpec's resourceClaims too.
  CHECK(smp("k8s.io.api.core.v1.ServiceAccount", R"({"secrets":[{"name":"a"}]})",
            R"({"secrets":[{"name":"b"}]})") == R"({"secrets":[{"name":"a"},{"name":"b"}]})");
  CHECK(smp(kPodSpec, R"({"resourceClaims":[{"name":"a"}]})",
            R"({"resourceClaims":[{"name":"b"}]})") ==
        R"({"resourceClaims":[{"name":"a"},{"name":"b"}]})");
  // A ConfigMap's data key named like a keyed list is a map entry.
  CHECK(smp(kConfigMap, R"({"data":{"containers":"x","env":"y"}})",
            R"({"data":{"containers":"z"}})") == R"({"data":{"containers":"z","env":"y"}})");
}

TEST_CASE("strategic merge: patchStrategy replace takes the patch's map whole") {
  // PodDisruptionBudgetSpec.selector is tagged patchStrategy:"replace".
  CHECK(smp("k8s.io.api.policy.v1.PodDisruptionBudget",
            R"({"spec":{"selector":{"matchLabels":{"a":"1"}},"minAvailable":1}})",
            R"({"spec":{"selector":{"matchLabels":{"b":"2"}}}})") ==
        canonical(R"({"spec":{"selector":{"matchLabels":{"b":"2"}},"minAvailable":1}})"));
}

TEST_CASE("strategic merge: $retainKeys keeps only the listed keys") {
  // What kubectl apply sends when a Deployment's strategy becomes Recreate.
  const char* d =
      R"({"spec":{"strategy":{"type":"RollingUpdate","rollingUpdate":{"maxSurge":1}}}})";
  CHECK(
      smp(kDeployment, d, R"({"spec":{"strategy":{"$retainKeys":["type"],"type":"Recreate"}}})") ==
      R"({"spec":{"strategy":{"type":"Recreate"}}})");
  Document t = parse(d);
  Document p = parse(R"({"spec":{"strategy":{"$retainKeys":["type"],"rollingUpdate":{}}}})");
  CHECK_THROWS_AS(kubesim::apply_strategic_merge_patch(t, p, t.GetAllocator(), type(kDeployment)),
                  json_patch_error);
}
