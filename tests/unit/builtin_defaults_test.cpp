// kubesim's defaulting of built-in kinds where it must match kube-apiserver v1.32 exactly: an
// operator taking over objects another one wrote compares them after defaulting, and a default
// the real server does not apply would hide a difference (pkg/apis/apps/v1/defaults.go,
// pkg/apis/core/v1/defaults.go).
#include <doctest/doctest.h>

#include "k8s/json/json.h"
#include "tools/kubesim/builtin_defaults.h"
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
