#include "tools/kubesim/rbac_authorizer.h"

#include <algorithm>

#include <fmt/format.h>

#include "tools/kubesim/api_error.h"
#include "tools/kubesim/cluster_state.h"

namespace kubesim {
namespace js = k8s::json;

namespace {

std::vector<std::string> strings_at(const js::Value& v, const char* key) {
  std::vector<std::string> out;
  const js::Value* a = js::find(v, key);
  if (!a || !a->IsArray()) return out;
  for (const auto& s : a->GetArray())
    if (s.IsString()) out.emplace_back(s.GetString(), s.GetStringLength());
  return out;
}

bool has(const std::vector<std::string>& list, const std::string& s) {
  return std::find(list.begin(), list.end(), s) != list.end();
}

bool verb_matches(const policy_rule& r, const std::string& verb) {
  return has(r.verbs, "*") || has(r.verbs, verb);
}

bool resource_matches(const policy_rule& r, const std::string& resource, const std::string& sub) {
  const std::string combined = sub.empty() ? resource : resource + "/" + sub;
  for (const auto& rr : r.resources) {
    if (rr == "*" || rr == combined) return true;
    if (!sub.empty() && rr == "*/" + sub) return true;
  }
  return false;
}

bool url_matches(const policy_rule& r, const std::string& path) {
  for (const auto& u : r.non_resource_urls) {
    if (u == "*" || u == path) return true;
    if (!u.empty() && u.back() == '*' && path.compare(0, u.size() - 1, u, 0, u.size() - 1) == 0)
      return true;
  }
  return false;
}

using doc_ptr = std::shared_ptr<const js::Document>;

std::vector<doc_ptr> docs_of(const cluster_state& state, const char* plural,
                             const std::string& ns) {
  auto t = state.find_type("rbac.authorization.k8s.io", "v1", plural);
  std::vector<doc_ptr> out;
  if (!t) return out;
  for (auto& s : state.list(*t, ns, {}).items) out.emplace_back(s, &s->doc);
  return out;
}

doc_ptr doc_named(const cluster_state& state, const char* plural, const std::string& ns,
                  const std::string& name) {
  auto t = state.find_type("rbac.authorization.k8s.io", "v1", plural);
  if (!t) return nullptr;
  try {
    auto s = state.get(*t, ns, name);
    return doc_ptr(s, &s->doc);
  } catch (const api_error&) {
    return nullptr;
  }
}

// DefaultRuleResolver.VisitRulesFor: the ClusterRoleBindings, then the RoleBindings of the
// namespace; each binding that applies contributes its role's rules, or an error when the role
// is missing. `visit` returns false to stop.
void visit_rules(const user_info& u, const std::string& ns, const rbac_policy& p,
                 const std::function<bool(const policy_rule*, const std::string* error)>& visit) {
  auto visit_role = [&](const doc_ptr& role, const std::string& error) {
    if (!role) return visit(nullptr, &error);
    for (const auto& r : rules_of(*role))
      if (!visit(&r, nullptr)) return false;
    return true;
  };
  for (const auto& b : p.cluster_role_bindings()) {
    if (!binding_applies(u, *b, "")) continue;
    std::string kind(js::get_string(*b, {"roleRef", "kind"}));
    std::string name(js::get_string(*b, {"roleRef", "name"}));
    if (kind != "ClusterRole") continue;
    if (!visit_role(p.cluster_role(name),
                    fmt::format("clusterrole.rbac.authorization.k8s.io \"{}\" not found", name)))
      return;
  }
  if (ns.empty()) return;
  for (const auto& b : p.role_bindings(ns)) {
    if (!binding_applies(u, *b, ns)) continue;
    std::string kind(js::get_string(*b, {"roleRef", "kind"}));
    std::string name(js::get_string(*b, {"roleRef", "name"}));
    bool go_on =
        kind == "ClusterRole"
            ? visit_role(
                  p.cluster_role(name),
                  fmt::format("clusterrole.rbac.authorization.k8s.io \"{}\" not found", name))
        : kind == "Role"
            ? visit_role(p.role(ns, name),
                         fmt::format("role.rbac.authorization.k8s.io \"{}\" not found", name))
            : true;
    if (!go_on) return;
  }
}

}  // namespace

std::vector<policy_rule> rules_of(const js::Value& role) {
  std::vector<policy_rule> out;
  const js::Value* rules = js::find(role, "rules");
  if (!rules || !rules->IsArray()) return out;
  for (const auto& r : rules->GetArray()) {
    if (!r.IsObject()) continue;
    out.push_back({strings_at(r, "verbs"), strings_at(r, "apiGroups"), strings_at(r, "resources"),
                   strings_at(r, "resourceNames"), strings_at(r, "nonResourceURLs")});
  }
  return out;
}

bool rule_allows(const request_attributes& a, const policy_rule& r) {
  if (!a.resource_request) return verb_matches(r, a.verb) && url_matches(r, a.path);
  return verb_matches(r, a.verb) && (has(r.api_groups, "*") || has(r.api_groups, a.api_group)) &&
         resource_matches(r, a.resource, a.subresource) &&
         (r.resource_names.empty() || has(r.resource_names, a.name));
}

bool binding_applies(const user_info& u, const js::Value& binding, const std::string& binding_ns) {
  const js::Value* subjects = js::find(binding, "subjects");
  if (!subjects || !subjects->IsArray()) return false;
  for (const auto& s : subjects->GetArray()) {
    std::string kind(js::get_string(s, "kind"));
    std::string name(js::get_string(s, "name"));
    if (kind == "User" && u.name == name) return true;
    if (kind == "Group" && u.in_group(name)) return true;
    if (kind == "ServiceAccount") {
      std::string sa_ns(js::get_string(s, "namespace"));
      if (sa_ns.empty()) sa_ns = binding_ns;
      if (!sa_ns.empty() && u.name == "system:serviceaccount:" + sa_ns + ":" + name) return true;
    }
  }
  return false;
}

rbac_policy policy_of(const cluster_state& state) {
  rbac_policy p;
  p.cluster_role_bindings = [&state] { return docs_of(state, "clusterrolebindings", ""); };
  p.role_bindings = [&state](const std::string& ns) { return docs_of(state, "rolebindings", ns); };
  p.cluster_role = [&state](const std::string& name) {
    return doc_named(state, "clusterroles", "", name);
  };
  p.role = [&state](const std::string& ns, const std::string& name) {
    return doc_named(state, "roles", ns, name);
  };
  return p;
}

authorization_decision authorize(const user_info& u, const request_attributes& a,
                                 const rbac_policy& p) {
  // authorizerfactory.NewPrivilegedGroups(user.SystemPrivilegedGroup) comes first.
  if (u.in_group(kMastersGroup)) return {true, ""};
  bool allowed = false;
  std::vector<std::string> errors;
  visit_rules(u, a.ns, p, [&](const policy_rule* r, const std::string* error) {
    if (error) {
      errors.push_back(*error);
      return true;
    }
    if (rule_allows(a, *r)) allowed = true;
    return !allowed;
  });
  if (allowed) return {true, ""};
  if (errors.empty()) return {false, ""};
  // utilerrors.NewAggregate: one error is its message, several are "[a, b]".
  std::string joined;
  for (const auto& e : errors) joined += (joined.empty() ? "" : ", ") + e;
  return {false, "RBAC: " + (errors.size() == 1 ? joined : "[" + joined + "]")};
}

user_rules rules_for(const user_info& u, const std::string& ns, const rbac_policy& p) {
  user_rules out;
  visit_rules(u, ns, p, [&](const policy_rule* r, const std::string* error) {
    if (error)
      out.errors.push_back(*error);
    else
      out.rules.push_back(*r);
    return true;
  });
  return out;
}

}  // namespace kubesim
