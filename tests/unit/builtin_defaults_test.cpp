// kubesim's defaulting of built-in kinds where it must match kube-apiserver v1.32 exactly: an
// operator taking over objects another one wrote compares them after defaulting, and a default
// the real server does not apply would hide a difference (pkg/apis/apps/v1/defaults.go,
// pkg/apis/core/v1/defaults.go).
#include <doctest/doctest.h>

#include "k8s/json/json.h"
#include "tools/kubesim/builtin_defaults.h"
#include "tools/kubesim/quantity.h"
#include "tools/kubesim/resource_types.h"

namespace js = k8s::json;

namespace {

const kubesim::resource_type& builtin(const std::string& kind) {
  for (const auto& t : kubesim::builtin_types())
    if (t.kind == kind) return t;
  FAIL("no kind " << kind);
  throw std::logic_error("unreachable");
}

js::Document defaulted(const std::string& kind, const char* json) {
  js::Document d = js::parse(json);
  kubesim::builtin::apply_defaults(builtin(kind), d, d.GetAllocator());
  return d;
}

std::string strategy_of(const char* spec) {
  auto d = defaulted("StatefulSet", spec);
  return js::to_string(*js::find_path(d, {"spec", "updateStrategy"}));
}

}  // namespace

TEST_CASE("kubesim defaults: a StatefulSet's rollingUpdate is created only with a defaulted type") {
  // SetDefaults_StatefulSet: no type -> RollingUpdate with rollingUpdate {partition: 0}.
  CHECK(strategy_of(R"({"spec":{}})") ==
        R"({"type":"RollingUpdate","rollingUpdate":{"partition":0}})");
  // `type: RollingUpdate` sent without rollingUpdate: stored without it.
  CHECK(strategy_of(R"({"spec":{"updateStrategy":{"type":"RollingUpdate"}}})") ==
        R"({"type":"RollingUpdate"})");
  // A rollingUpdate sent without partition gets partition 0.
  CHECK(strategy_of(R"({"spec":{"updateStrategy":{"type":"RollingUpdate","rollingUpdate":{}}}})") ==
        R"({"type":"RollingUpdate","rollingUpdate":{"partition":0}})");
  CHECK(strategy_of(R"({"spec":{"updateStrategy":{"type":"OnDelete"}}})") ==
        R"({"type":"OnDelete"})");
}

TEST_CASE(
    "kubesim defaults: host ports follow container ports in Pods only, not in pod templates") {
  const char* pod_spec =
      R"({"hostNetwork":true,"containers":[{"name":"c","image":"i:1","ports":[{"containerPort":80}]}]})";
  auto pod = defaulted("Pod", (std::string(R"({"spec":)") + pod_spec + "}").c_str());
  CHECK(js::get_int(pod["spec"]["containers"][0]["ports"][0], {"hostPort"}, 0) == 80);
  // DefaultHostNetworkHostPortsInPodTemplates is off since 1.28 (deprecated).
  auto sts = defaulted("StatefulSet",
                       (std::string(R"({"spec":{"template":{"spec":)") + pod_spec + "}}}").c_str());
  const auto& port =
      (*js::find_path(sts, {"spec", "template", "spec", "containers"}))[0]["ports"][0];
  CHECK_FALSE(js::find(port, "hostPort"));
  CHECK(js::get_string(port, "protocol") == "TCP");
}

TEST_CASE("kubesim defaults: quantities are stored in resource.Quantity's canonical form") {
  using kubesim::canonical_quantity;
  CHECK(canonical_quantity("0.5") == "500m");
  CHECK(canonical_quantity("0.5Gi") == "512Mi");
  CHECK(canonical_quantity("1000m") == "1");
  CHECK(canonical_quantity("1") == "1");
  CHECK(canonical_quantity("2048Mi") == "2Gi");
  CHECK(canonical_quantity("1.5Gi") == "1536Mi");
  CHECK(canonical_quantity("1000") == "1k");
  CHECK(canonical_quantity("1500") == "1500");
  CHECK(canonical_quantity("512") == "512");
  CHECK(canonical_quantity("100Ki") == "100Ki");
  CHECK(canonical_quantity("0.1Ki") == "102400m");  // binary below 1024: DecimalSI
  CHECK(canonical_quantity("1e3") == "1e3");
  CHECK(canonical_quantity("1e4") == "10e3");
  CHECK(canonical_quantity("0.0001") == "1m");  // SetDefaults_ResourceList: up to milli-units
  CHECK(canonical_quantity("200Mi") == "200Mi");
  CHECK_FALSE(canonical_quantity("lots"));
  CHECK_FALSE(canonical_quantity("1Xi"));

  // In a StatefulSet's pod template and claim templates, and in a Pod; not in a custom resource.
  auto sts = defaulted("StatefulSet", R"({"spec":{"template":{"spec":{"containers":[{"name":"c",
      "image":"i:1","resources":{"limits":{"cpu":"0.5","memory":"1024Mi"},"requests":{"cpu":1}}}],
      "volumes":[{"name":"v","emptyDir":{"sizeLimit":"0.5Gi"}}]}},
      "volumeClaimTemplates":[{"metadata":{"name":"data"},"spec":{"resources":{"requests":{"storage":"2048Mi"}}}}]}})");
  const auto& pod = *js::find_path(sts, {"spec", "template", "spec"});
  CHECK(js::to_string(pod["containers"][0]["resources"]) ==
        R"({"limits":{"cpu":"500m","memory":"1Gi"},"requests":{"cpu":"1"}})");
  CHECK(js::get_string(pod["volumes"][0], {"emptyDir", "sizeLimit"}) == "512Mi");
  CHECK(js::get_string(sts["spec"]["volumeClaimTemplates"][0],
                       {"spec", "resources", "requests", "storage"}) == "2Gi");
  auto pod_obj = defaulted("Pod", R"({"spec":{"containers":[{"name":"c","image":"i:1",
      "resources":{"limits":{"cpu":"0.25"}}}]}})");
  // SetDefaults_Pod copies the limit to the request; both canonical.
  CHECK(js::to_string(pod_obj["spec"]["containers"][0]["resources"]) ==
        R"({"limits":{"cpu":"250m"},"requests":{"cpu":"250m"}})");
}

TEST_CASE(
    "kubesim defaults: an apps/v1 StatefulSet shows its claim templates with their TypeMeta") {
  // Convert_apps_StatefulSetSpec_To_v1_StatefulSetSpec sets it on the way out, whatever came in.
  auto sts = defaulted("StatefulSet", R"({"spec":{"volumeClaimTemplates":[
      {"metadata":{"name":"data"},"spec":{}},
      {"apiVersion":"v2","kind":"Claim","metadata":{"name":"logs"},"spec":{}}]}})");
  for (const auto& claim : sts["spec"]["volumeClaimTemplates"].GetArray()) {
    CHECK(js::get_string(claim, "apiVersion") == "v1");
    CHECK(js::get_string(claim, "kind") == "PersistentVolumeClaim");
    CHECK(js::get_string(claim, {"status", "phase"}) == "Pending");
  }
}

TEST_CASE("kubesim defaults: a Service without session affinity keeps no affinity config") {
  auto svc = defaulted("Service", R"({"spec":{"ports":[{"port":80}],
      "sessionAffinityConfig":{"clientIP":{"timeoutSeconds":60}}}})");
  CHECK(js::get_string(svc["spec"], "sessionAffinity") == "None");
  CHECK_FALSE(js::find(svc["spec"], "sessionAffinityConfig"));
  auto sticky =
      defaulted("Service", R"({"spec":{"sessionAffinity":"ClientIP","ports":[{"port":80}]}})");
  CHECK(js::get_int(sticky["spec"], {"sessionAffinityConfig", "clientIP", "timeoutSeconds"}, 0) ==
        10800);
}

TEST_CASE("kubesim defaults: projected and ephemeral volumes in a pod template") {
  auto sts = defaulted("StatefulSet", R"({"spec":{"template":{"spec":{"containers":[],"volumes":[
      {"name":"p","projected":{"sources":[{"serviceAccountToken":{"path":"t"}},
        {"downwardAPI":{"items":[{"path":"n","fieldRef":{"fieldPath":"metadata.name"}}]}}]}},
      {"name":"e","ephemeral":{"volumeClaimTemplate":{"spec":{"accessModes":["ReadWriteOnce"]}}}}]}}}})");
  const auto& volumes = *js::find_path(sts, {"spec", "template", "spec", "volumes"});
  const auto& projected = volumes[0]["projected"];
  CHECK(js::get_int(projected, {"defaultMode"}, 0) == 420);
  CHECK(js::get_int(projected["sources"][0], {"serviceAccountToken", "expirationSeconds"}, 0) ==
        3600);
  CHECK(js::get_string(projected["sources"][1]["downwardAPI"]["items"][0],
                       {"fieldRef", "apiVersion"}) == "v1");
  CHECK(js::get_string(volumes[1], {"ephemeral", "volumeClaimTemplate", "spec", "volumeMode"}) ==
        "Filesystem");
}
