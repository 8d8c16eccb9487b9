// RBAC's privilege-escalation prevention on writes of Roles, ClusterRoles and their bindings
// (pkg/registry/rbac/{role,clusterrole,rolebinding,clusterrolebinding}/policybased/storage.go,
// pkg/registry/rbac/validation/rule.go, v1.32): a user may write a role only with rules it holds
// itself in that namespace, unless it has `escalate` on it; it may bind a role only if it holds
// all of the role's rules, unless it has `bind` on it. system:masters is exempt.
#pragma once

#include <string>

#include "k8s/json/json.h"
#include "tools/kubesim/rbac_authorizer.h"

namespace kubesim {

// `plural` is roles, clusterroles, rolebindings or clusterrolebindings (anything else passes);
// `object` the object as it would be stored. Throws the real 403 when the write escalates.
void check_no_escalation(const user_info& u, const std::string& plural, const std::string& ns,
                         const k8s::json::Value& object, const rbac_policy& p);

// ConfirmNoEscalation's test: which of `wanted`, broken down into one verb, group, resource and
// name (or URL) each, no rule of `held` covers. Pure.
std::vector<policy_rule> uncovered_rules(const std::vector<policy_rule>& held,
                                         const std::vector<policy_rule>& wanted);

}  // namespace kubesim
