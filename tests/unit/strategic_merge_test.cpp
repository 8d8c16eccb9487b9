#include "tools/kubesim/strategic_merge.h"

#include <doctest/doctest.h>

#include <string>
#include <string_view>

#include "k8s/json_patch.h"

using namespace k8s::json;

namespace {

// The exact text after the patch: merged lists and maps keep their order, so check it too.
std::string smp(std::string_view target, std::string_view patch) {
  Document t = parse(target);
  Document p = parse(patch);
  kubesim::apply_strategic_merge_patch(t, p, t.GetAllocator());
  return to_string(t);
}

std::string canonical(std::string_view text) {
  return to_string(parse(text));
}

}  // namespace

TEST_CASE("strategic merge: containers merge by name, keeping the other containers") {
  const char* pod = R"({"spec":{"containers":[
      {"name":"cassandra","image":"cassandra:3","args":["-f"]},
      {"name":"sidecar","image":"busybox:1"}]}})";
  CHECK(smp(pod, R"({"spec":{"containers":[{"name":"sidecar","image":"busybox:2"}]}})") ==
        canonical(R"({"spec":{"containers":[
            {"name":"cassandra","image":"cassandra:3","args":["-f"]},
            {"name":"sidecar","image":"busybox:2"}]}})"));
  CHECK(smp(pod, R"({"spec":{"containers":[{"name":"new","image":"x"},
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
  CHECK(smp(pod, R"({"spec":{
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
  CHECK(smp(pod, R"({"spec":{"containers":[{"name":"c","env":[
      {"name":"B","value":"2","valueFrom":null},{"name":"C","value":"3"}]}]}})") ==
        canonical(R"({"spec":{"containers":[{"name":"c","env":[
            {"name":"A","value":"1"},{"name":"B","value":"2"},{"name":"C","value":"3"}]}]}})"));
}

TEST_CASE("strategic merge: $patch delete removes a keyed list element") {
  const char* pod = R"({"spec":{"containers":[{"name":"a","image":"1"},{"name":"b","image":"2"}],
                                "volumes":[{"name":"v"}]}})";
  CHECK(
      smp(pod, R"({"spec":{"containers":[{"$patch":"delete","name":"a"}]}})") ==
      canonical(R"({"spec":{"containers":[{"name":"b","image":"2"}],"volumes":[{"name":"v"}]}})"));
  // Deleting something absent is a no-op, and never stores the directive.
  CHECK(smp(pod, R"({"spec":{"containers":[{"name":"zz","$patch":"delete"}],
                            "initContainers":[{"name":"i","$patch":"delete"}]}})") ==
        canonical(R"({"spec":{"containers":[{"name":"a","image":"1"},{"name":"b","image":"2"}],
                            "volumes":[{"name":"v"}]}})"));
  CHECK(smp(R"({})", R"({"initContainers":[]})") == R"({"initContainers":[]})");
}

TEST_CASE("strategic merge: a $patch replace element replaces a keyed list") {
  CHECK(smp(R"({"volumes":[{"name":"a"},{"name":"b"}]})",
            R"({"volumes":[{"name":"c"},{"$patch":"replace"}]})") ==
        canonical(R"({"volumes":[{"name":"c"}]})"));
}

TEST_CASE("strategic merge: Service ports merge by port, container ports by containerPort") {
  const char* svc = R"({"spec":{"ports":[{"name":"cql","port":9042,"targetPort":9042},
                                         {"name":"jmx","port":7199}]}})";
  CHECK(smp(svc, R"({"spec":{"ports":[{"port":7199,"targetPort":7200},{"port":8080}]}})") ==
        canonical(R"({"spec":{"ports":[{"name":"cql","port":9042,"targetPort":9042},
                                       {"name":"jmx","port":7199,"targetPort":7200},
                                       {"port":8080}]}})"));
  CHECK(smp(svc, R"({"spec":{"ports":[{"$patch":"delete","port":9042}]}})") ==
        canonical(R"({"spec":{"ports":[{"name":"jmx","port":7199}]}})"));

  const char* pod = R"({"containers":[{"name":"c","ports":[{"containerPort":80,"name":"http"}]}]})";
  CHECK(smp(pod, R"({"containers":[{"name":"c","ports":[{"containerPort":80,"protocol":"TCP"},
                                                       {"containerPort":443}]}]})") ==
        canonical(R"({"containers":[{"name":"c","ports":[
            {"containerPort":80,"name":"http","protocol":"TCP"},{"containerPort":443}]}]})"));
}

TEST_CASE("strategic merge: other keyed lists") {
  CHECK(smp(R"({"metadata":{"ownerReferences":[{"uid":"1","name":"a"},{"uid":"2","name":"b"}]}})",
            R"({"metadata":{"ownerReferences":[{"uid":"2","controller":true}]}})") ==
        canonical(R"({"metadata":{"ownerReferences":[{"uid":"1","name":"a"},
                                                     {"uid":"2","name":"b","controller":true}]}})"));
  CHECK(smp(R"({"status":{"conditions":[{"type":"Ready","status":"False"},{"type":"X"}]}})",
            R"({"status":{"conditions":[{"type":"Ready","status":"True"}]}})") ==
        canonical(R"({"status":{"conditions":[{"type":"Ready","status":"True"},{"type":"X"}]}})"));
  CHECK(
      smp(R"({"imagePullSecrets":[{"name":"a"}],"hostAliases":[{"ip":"1.2.3.4","hostnames":["a"]}]})",
          R"({"imagePullSecrets":[{"name":"b"}],"hostAliases":[{"ip":"1.2.3.4","hostnames":["b"]}]})") ==
      canonical(R"({"imagePullSecrets":[{"name":"a"},{"name":"b"}],
                      "hostAliases":[{"ip":"1.2.3.4","hostnames":["b"]}]})"));
  CHECK(smp(R"({"topologySpreadConstraints":[{"topologyKey":"zone","maxSkew":1}]})",
            R"({"topologySpreadConstraints":[{"topologyKey":"zone","maxSkew":2}]})") ==
        canonical(R"({"topologySpreadConstraints":[{"topologyKey":"zone","maxSkew":2}]})"));
}

TEST_CASE("strategic merge: lists without a merge key are replaced") {
  CHECK(smp(R"({"spec":{"tolerations":[{"key":"a"},{"key":"b"}],"args":["x","y"]}})",
            R"({"spec":{"tolerations":[{"key":"c"}],"args":["z"]}})") ==
        canonical(R"({"spec":{"tolerations":[{"key":"c"}],"args":["z"]}})"));
  CHECK(
      smp(R"({"spec":{"volumeClaimTemplates":[{"metadata":{"name":"a"}},{"metadata":{"name":"b"}}]}})",
          R"({"spec":{"volumeClaimTemplates":[{"metadata":{"name":"b"}}]}})") ==
      canonical(R"({"spec":{"volumeClaimTemplates":[{"metadata":{"name":"b"}}]}})"));
}

TEST_CASE("strategic merge: finalizers are a set, with $deleteFromPrimitiveList") {
  const char* obj = R"({"metadata":{"finalizers":["a","b"]}})";
  CHECK(smp(obj, R"({"metadata":{"finalizers":["c","a"]}})") ==
        R"({"metadata":{"finalizers":["a","b","c"]}})");
  CHECK(smp(obj, R"({"metadata":{"$deleteFromPrimitiveList/finalizers":["a"]}})") ==
        R"({"metadata":{"finalizers":["b"]}})");
  CHECK(smp(obj, R"({"metadata":{"$deleteFromPrimitiveList/finalizers":["b"],
                                 "finalizers":["d"]}})") ==
        R"({"metadata":{"finalizers":["a","d"]}})");
  // Deleting from an absent list does not create it.
  CHECK(
      smp(R"({"metadata":{}})", R"({"metadata":{"$deleteFromPrimitiveList/finalizers":["a"]}})") ==
      R"({"metadata":{}})");
  CHECK(smp(R"({"metadata":{}})", R"({"metadata":{"finalizers":["x"]}})") ==
        R"({"metadata":{"finalizers":["x"]}})");
}

TEST_CASE("strategic merge: $setElementOrder and $retainKeys are stripped, never stored") {
  const char* pod = R"({"spec":{"containers":[{"name":"a"},{"name":"b"}]}})";
  CHECK(smp(pod, R"({"spec":{"$setElementOrder/containers":[{"name":"b"},{"name":"a"}],
                            "containers":[{"name":"a","image":"i"}]}})") ==
        canonical(R"({"spec":{"containers":[{"name":"a","image":"i"},{"name":"b"}]}})"));
  // Also inside maps that are new to the target.
  CHECK(smp(R"({})", R"({"spec":{"$setElementOrder/containers":[{"name":"a"}],
                                "containers":[{"name":"a","$setElementOrder/env":[{"name":"E"}],
                                               "env":[{"name":"E","value":"1"}]}],
                                "strategy":{"$retainKeys":["type"],"type":"Recreate"}}})") ==
        canonical(R"({"spec":{"containers":[{"name":"a","env":[{"name":"E","value":"1"}]}],
                             "strategy":{"type":"Recreate"}}})"));
}

TEST_CASE("strategic merge: plain fields behave like a JSON merge patch") {
  const char* obj = R"({"metadata":{"name":"n","labels":{"a":"1","b":"2"}},"spec":{"replicas":3}})";
  CHECK(smp(obj,
            R"({"metadata":{"labels":{"a":null,"c":"3"}},"spec":{"replicas":5,"paused":true}})") ==
        canonical(R"({"metadata":{"name":"n","labels":{"b":"2","c":"3"}},
                      "spec":{"replicas":5,"paused":true}})"));
  CHECK(smp(obj, R"({"spec":null})") ==
        canonical(R"({"metadata":{"name":"n","labels":{"a":"1","b":"2"}}})"));
  CHECK(smp(obj, R"({"spec":{"replicas":{"nested":1}}})") ==
        canonical(R"({"metadata":{"name":"n","labels":{"a":"1","b":"2"}},
                      "spec":{"replicas":{"nested":1}}})"));
  CHECK(smp(obj, "{}") == canonical(obj));
}

TEST_CASE("strategic merge: null deletes, also inside keyed list elements") {
  CHECK(smp(R"({"containers":[{"name":"c","resources":{"limits":{"cpu":"1"}},"image":"i"}]})",
            R"({"containers":[{"name":"c","resources":null}]})") ==
        R"({"containers":[{"name":"c","image":"i"}]})");
  CHECK(smp(R"({"a":1,"containers":[{"name":"c"}]})", R"({"containers":null})") == R"({"a":1})");
}

TEST_CASE("strategic merge: $patch replace and delete on maps") {
  const char* obj = R"({"metadata":{"labels":{"a":"1","b":"2"},"name":"n"}})";
  CHECK(smp(obj, R"({"metadata":{"labels":{"$patch":"replace","c":"3"}}})") ==
        R"({"metadata":{"labels":{"c":"3"},"name":"n"}})");
  CHECK(smp(obj, R"({"metadata":{"labels":{"$patch":"delete"}}})") ==
        R"({"metadata":{"name":"n"}})");
  CHECK(smp(obj, R"({"metadata":{"labels":{"$patch":"merge","c":"3"}}})") ==
        R"({"metadata":{"labels":{"a":"1","b":"2","c":"3"},"name":"n"}})");
  CHECK(smp(obj, R"({"$patch":"delete"})") == "{}");
}

TEST_CASE("strategic merge: malformed directives throw and leave the target unchanged") {
  const char* pod = R"({"spec":{"replicas":1,"containers":[{"name":"a"}]}})";
  for (const char* patch : {R"({"spec":{"replicas":2,"containers":[{"image":"no-name"}]}})",
                            R"({"spec":{"replicas":2,"containers":["a"]}})",
                            R"({"spec":{"replicas":2,"template":{"$patch":"bogus"}}})"}) {
    CAPTURE(patch);
    Document t = parse(pod);
    Document p = parse(patch);
    CHECK_THROWS_AS(kubesim::apply_strategic_merge_patch(t, p, t.GetAllocator()), json_patch_error);
    CHECK(to_string(t) == canonical(pod));
  }
}
