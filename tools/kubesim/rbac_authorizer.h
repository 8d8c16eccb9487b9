// RBAC authorization as kube-apiserver v1.32 does it (plugin/pkg/auth/authorizer/rbac/rbac.go,
// pkg/apis/rbac/v1/evaluation_helpers.go), preceded by the privileged-groups authorizer that
// lets system:masters do everything. Rule evaluation is pure; the policy (Roles, ClusterRoles
// and their bindings) is read through rbac_policy.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "k8s/json/json.h"
#include "tools/kubesim/request_info.h"

namespace kubesim {

class cluster_state;

struct policy_rule {
  std::vector<std::string> verbs, api_groups, resources, resource_names, non_resource_urls;
};

// The rules of a Role or ClusterRole object (its `rules`; none when absent).
std::vector<policy_rule> rules_of(const k8s::json::Value& role);
// RuleAllows: verbs, apiGroups, resources (`*`, `x/sub`, `*/sub`) and resourceNames for a
// resource request; verbs and nonResourceURLs (`*`, a trailing `*` prefix) otherwise.
bool rule_allows(const request_attributes& a, const policy_rule& r);
// appliesTo: does one of a binding's subjects name this user? A ServiceAccount subject without
// namespace is in the binding's own namespace (`binding_ns`, empty for a ClusterRoleBinding).
bool binding_applies(const user_info& u, const k8s::json::Value& binding,
                     const std::string& binding_ns);

// Where the authorizer reads the policy. Role lookups return nullptr when there is none.
struct rbac_policy {
  std::function<std::vector<std::shared_ptr<const k8s::json::Document>>()> cluster_role_bindings;
  std::function<std::vector<std::shared_ptr<const k8s::json::Document>>(const std::string& ns)>
      role_bindings;
  std::function<std::shared_ptr<const k8s::json::Document>(const std::string& name)> cluster_role;
  std::function<std::shared_ptr<const k8s::json::Document>(const std::string& ns,
                                                           const std::string& name)>
      role;
};
rbac_policy policy_of(const cluster_state& state);

constexpr const char* kMastersGroup = "system:masters";

struct authorization_decision {
  bool allowed = false;
  std::string reason;  // on a denial: "RBAC: <missing roles>", or empty
};
authorization_decision authorize(const user_info& u, const request_attributes& a,
                                 const rbac_policy& p);

// Every rule that applies to the user in a namespace (cluster-wide bindings included), for
// SelfSubjectRulesReview; `errors` names the roles that bindings refer to but do not exist.
struct user_rules {
  std::vector<policy_rule> rules;
  std::vector<std::string> errors;
};
user_rules rules_for(const user_info& u, const std::string& ns, const rbac_policy& p);

}  // namespace kubesim
