#include "tools/kubesim/bootstrap_policy.h"

#include <string>
#include <vector>

#include <fmt/format.h>

#include "k8s/json/json.h"
#include "tools/kubesim/cluster_state.h"

namespace kubesim {
namespace js = k8s::json;

namespace {

constexpr const char* kRead = R"("get","list","watch")";
constexpr const char* kWrite = R"("create","delete","deletecollection","patch","update")";
constexpr const char* kReadWrite =
    R"("create","delete","deletecollection","get","list","patch","update","watch")";

std::string rule(const char* verbs, const char* group, const char* resources) {
  return fmt::format(R"({{"verbs":[{}],"apiGroups":["{}"],"resources":[{}]}})", verbs, group,
                     resources);
}
std::string url_rule(const char* urls) {
  return fmt::format(R"({{"verbs":["get"],"nonResourceURLs":[{}]}})", urls);
}

// One ClusterRole: `extra` is what follows metadata (rules and/or aggregationRule).
std::string cluster_role(const char* name, const char* labels, const std::string& extra) {
  return fmt::format(
      R"({{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRole","metadata":{{"name":"{}",)"
      R"("labels":{{"kubernetes.io/bootstrapping":"rbac-defaults"{}}},)"
      R"("annotations":{{"rbac.authorization.kubernetes.io/autoupdate":"true"}}}},{}}})",
      name, labels, extra);
}
std::string rules(const std::vector<std::string>& list) {
  std::string out = R"("rules":[)";
  for (size_t i = 0; i < list.size(); ++i) out += (i ? "," : "") + list[i];
  return out + "]";
}
std::string aggregation(const char* label) {
  return fmt::format(
      R"("aggregationRule":{{"clusterRoleSelectors":[{{"matchLabels":{{"rbac.authorization.k8s.io/{}":"true"}}}}]}})",
      label);
}

std::string binding(const char* name, const std::vector<const char*>& groups) {
  std::string subjects;
  for (auto g : groups)
    subjects +=
        fmt::format(R"({}{{"kind":"Group","apiGroup":"rbac.authorization.k8s.io","name":"{}"}})",
                    subjects.empty() ? "" : ",", g);
  return fmt::format(
      R"({{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRoleBinding","metadata":{{"name":"{0}",)"
      R"("labels":{{"kubernetes.io/bootstrapping":"rbac-defaults"}},)"
      R"("annotations":{{"rbac.authorization.kubernetes.io/autoupdate":"true"}}}},)"
      R"("roleRef":{{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"{0}"}},"subjects":[{1}]}})",
      name, subjects);
}

std::vector<std::string> cluster_roles() {
  const char* to_admin = R"(,"rbac.authorization.k8s.io/aggregate-to-admin":"true")";
  const char* to_edit = R"(,"rbac.authorization.k8s.io/aggregate-to-edit":"true")";
  const char* to_view = R"(,"rbac.authorization.k8s.io/aggregate-to-view":"true")";
  return {
      cluster_role("cluster-admin", "",
                   rules({R"({"verbs":["*"],"apiGroups":["*"],"resources":["*"]})",
                          R"({"verbs":["*"],"nonResourceURLs":["*"]})"})),
      cluster_role(
          "system:discovery", "",
          rules({url_rule(
              R"("/api","/api/*","/apis","/apis/*","/healthz","/livez","/openapi","/openapi/*","/readyz","/version","/version/")")})),
      cluster_role(
          "system:basic-user", "",
          rules({rule(R"("create")", "authorization.k8s.io",
                      R"("selfsubjectaccessreviews","selfsubjectrulesreviews")"),
                 rule(R"("create")", "authentication.k8s.io", R"("selfsubjectreviews")")})),
      cluster_role("system:public-info-viewer", "",
                   rules({url_rule(R"("/healthz","/livez","/readyz","/version","/version/")")})),
      cluster_role("admin", "", aggregation("aggregate-to-admin")),
      cluster_role("edit", to_admin, aggregation("aggregate-to-edit")),
      cluster_role("view", to_edit, aggregation("aggregate-to-view")),
      cluster_role(
          "system:aggregate-to-admin", to_admin,
          rules({rule(R"("create")", "authorization.k8s.io", R"("localsubjectaccessreviews")"),
                 rule(kReadWrite, "rbac.authorization.k8s.io", R"("rolebindings","roles")")})),
      cluster_role(
          "system:aggregate-to-edit", to_edit,
          rules(
              {rule(
                   kRead, "",
                   R"("pods/attach","pods/exec","pods/portforward","pods/proxy","secrets","services/proxy")"),
               rule(R"("impersonate")", "", R"("serviceaccounts")"),
               rule(kWrite, "",
                    R"("pods","pods/attach","pods/exec","pods/portforward","pods/proxy")"),
               rule(R"("create")", "", R"("pods/eviction")"),
               rule(
                   kWrite, "",
                   R"("configmaps","events","persistentvolumeclaims","replicationcontrollers","replicationcontrollers/scale","secrets","serviceaccounts","services","services/proxy")"),
               rule(R"("create")", "", R"("serviceaccounts/token")"),
               rule(
                   kWrite, "apps",
                   R"("daemonsets","deployments","deployments/rollback","deployments/scale","replicasets","replicasets/scale","statefulsets","statefulsets/scale")"),
               rule(kWrite, "autoscaling", R"("horizontalpodautoscalers")"),
               rule(kWrite, "batch", R"("cronjobs","jobs")"),
               rule(kWrite, "policy", R"("poddisruptionbudgets")"),
               rule(kWrite, "networking.k8s.io", R"("ingresses","networkpolicies")"),
               rule(kReadWrite, "coordination.k8s.io", R"("leases")")})),
      cluster_role(
          "system:aggregate-to-view", to_view,
          rules(
              {rule(
                   kRead, "",
                   R"("configmaps","endpoints","persistentvolumeclaims","persistentvolumeclaims/status","pods","replicationcontrollers","replicationcontrollers/scale","serviceaccounts","services","services/status")"),
               rule(
                   kRead, "",
                   R"("bindings","events","limitranges","namespaces/status","pods/log","pods/status","replicationcontrollers/status","resourcequotas","resourcequotas/status")"),
               rule(kRead, "", R"("namespaces")"),
               rule(kRead, "discovery.k8s.io", R"("endpointslices")"),
               rule(
                   kRead, "apps",
                   R"("controllerrevisions","daemonsets","daemonsets/status","deployments","deployments/scale","deployments/status","replicasets","replicasets/scale","replicasets/status","statefulsets","statefulsets/scale","statefulsets/status")"),
               rule(kRead, "autoscaling",
                    R"("horizontalpodautoscalers","horizontalpodautoscalers/status")"),
               rule(kRead, "batch", R"("cronjobs","cronjobs/status","jobs","jobs/status")"),
               rule(kRead, "policy", R"("poddisruptionbudgets","poddisruptionbudgets/status")"),
               rule(kRead, "networking.k8s.io",
                    R"("ingresses","ingresses/status","networkpolicies")")})),
  };
}

}  // namespace

void create_bootstrap_policy(cluster_state& state) {
  auto roles = state.find_type("rbac.authorization.k8s.io", "v1", "clusterroles");
  auto bindings = state.find_type("rbac.authorization.k8s.io", "v1", "clusterrolebindings");
  for (const auto& r : cluster_roles()) state.create(*roles, "", js::parse(r), {});
  for (const auto& b :
       {binding("cluster-admin", {"system:masters"}),
        binding("system:discovery", {"system:authenticated"}),
        binding("system:basic-user", {"system:authenticated"}),
        binding("system:public-info-viewer", {"system:authenticated", "system:unauthenticated"})})
    state.create(*bindings, "", js::parse(b), {});
}

}  // namespace kubesim
