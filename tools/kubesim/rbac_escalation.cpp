#include "tools/kubesim/rbac_escalation.h"

#include <algorithm>
#include <map>
#include <set>

#include <fmt/format.h>

#include "tools/kubesim/api_error.h"

namespace kubesim {
namespace js = k8s::json;

namespace {

bool has(const std::vector<std::string>& l, const std::string& s) {
  return std::find(l.begin(), l.end(), s) != l.end();
}

// validation.ruleCovers for one broken-down rule.
bool covers(const policy_rule& owner, const policy_rule& one) {
  if (!has(owner.verbs, "*") && !has(owner.verbs, one.verbs[0])) return false;
  if (!one.non_resource_urls.empty()) {
    const std::string& url = one.non_resource_urls[0];
    for (const auto& u : owner.non_resource_urls)
      if (u == "*" || u == url ||
          (!u.empty() && u.back() == '*' && url.compare(0, u.size() - 1, u, 0, u.size() - 1) == 0))
        return true;
    return false;
  }
  if (!has(owner.api_groups, "*") && !has(owner.api_groups, one.api_groups[0])) return false;
  const std::string& res = one.resources[0];
  // resourceCoversAll: `*`, the exact resource, or `*/sub` for a subresource.
  bool res_ok = has(owner.resources, "*") || has(owner.resources, res);
  if (!res_ok && res.find('/') != std::string::npos)
    res_ok = has(owner.resources, "*" + res.substr(res.find('/')));
  if (!res_ok) return false;
  if (owner.resource_names.empty()) return true;
  return !one.resource_names.empty() && has(owner.resource_names, one.resource_names[0]);
}

// BreakdownRule: one verb, group, resource and name (or URL) each.
std::vector<policy_rule> breakdown(const policy_rule& r) {
  std::vector<policy_rule> out;
  for (const auto& v : r.verbs) {
    for (const auto& g : r.api_groups)
      for (const auto& res : r.resources) {
        if (r.resource_names.empty())
          out.push_back({{v}, {g}, {res}, {}, {}});
        else
          for (const auto& n : r.resource_names) out.push_back({{v}, {g}, {res}, {n}, {}});
      }
    for (const auto& u : r.non_resource_urls) out.push_back({{v}, {}, {}, {}, {u}});
  }
  return out;
}

// %q of a []string: ["a" "b"].
std::string go_quoted_list(const std::vector<std::string>& l) {
  std::string out = "[";
  for (size_t i = 0; i < l.size(); ++i) out += (i ? " \"" : "\"") + l[i] + "\"";
  return out + "]";
}

// rbacv1helpers.CompactString.
std::string compact_string(const policy_rule& r) {
  std::vector<std::string> parts;
  if (!r.api_groups.empty()) parts.push_back("APIGroups:" + go_quoted_list(r.api_groups));
  if (!r.resources.empty()) parts.push_back("Resources:" + go_quoted_list(r.resources));
  if (!r.non_resource_urls.empty())
    parts.push_back("NonResourceURLs:" + go_quoted_list(r.non_resource_urls));
  if (!r.resource_names.empty())
    parts.push_back("ResourceNames:" + go_quoted_list(r.resource_names));
  if (!r.verbs.empty()) parts.push_back("Verbs:" + go_quoted_list(r.verbs));
  std::string out = "{";
  for (size_t i = 0; i < parts.size(); ++i) out += (i ? ", " : "") + parts[i];
  return out + "}";
}

// The missing rules as the error lists them: rules that differ only in their verb merged
// (CompactRules), one line each, sorted (sets.String.List).
std::string describe_missing(const std::vector<policy_rule>& missing) {
  std::vector<policy_rule> merged;
  for (const auto& m : missing) {
    auto same = std::find_if(merged.begin(), merged.end(), [&](const policy_rule& r) {
      return r.api_groups == m.api_groups && r.resources == m.resources &&
             r.resource_names == m.resource_names && r.non_resource_urls == m.non_resource_urls;
    });
    if (same == merged.end())
      merged.push_back(m);
    else if (!has(same->verbs, m.verbs[0]))
      same->verbs.push_back(m.verbs[0]);
  }
  std::set<std::string> lines;
  for (const auto& r : merged) lines.insert(compact_string(r));
  std::string out;
  for (const auto& l : lines) out += (out.empty() ? "" : "\n") + l;
  return out;
}

bool allowed(const user_info& u, const rbac_policy& p, const char* verb,
             const std::string& resource, const std::string& ns, const std::string& name) {
  request_attributes a;
  a.resource_request = true;
  a.verb = verb;
  a.api_group = "rbac.authorization.k8s.io";
  a.api_version = "v1";
  a.resource = resource;
  a.ns = ns;
  a.name = name;
  return authorize(u, a, p).allowed;
}

[[noreturn]] void refuse(const std::string& plural, const std::string& name,
                         const std::string& why) {
  api_error e = forbidden(
      fmt::format("{}.rbac.authorization.k8s.io \"{}\" is forbidden: {}", plural, name, why));
  e.name = name;
  e.group = "rbac.authorization.k8s.io";
  e.kind = plural;
  throw e;
}

void confirm_no_escalation(const user_info& u, const std::string& plural, const std::string& ns,
                           const std::string& name, const std::vector<policy_rule>& wanted,
                           const rbac_policy& p) {
  auto held = rules_for(u, ns, p);
  auto missing = uncovered_rules(held.rules, wanted);
  if (missing.empty()) return;
  std::string why = fmt::format(
      "user \"{}\" (groups={}) is attempting to grant RBAC permissions not currently held:\n{}",
      u.name, go_quoted_list(u.groups), describe_missing(missing));
  if (!held.errors.empty()) {
    std::string errs;
    for (const auto& e : held.errors) errs += (errs.empty() ? "" : " ") + e;
    why += "; resolution errors: [" + errs + "]";
  }
  refuse(plural, name, why);
}

}  // namespace

std::vector<policy_rule> uncovered_rules(const std::vector<policy_rule>& held,
                                         const std::vector<policy_rule>& wanted) {
  std::vector<policy_rule> missing;
  for (const auto& w : wanted)
    for (const auto& one : breakdown(w)) {
      bool ok = std::any_of(held.begin(), held.end(),
                            [&](const policy_rule& h) { return covers(h, one); });
      if (!ok) missing.push_back(one);
    }
  return missing;
}

void check_no_escalation(const user_info& u, const std::string& plural, const std::string& ns,
                         const js::Value& object, const rbac_policy& p) {
  if (u.in_group(kMastersGroup)) return;  // EscalationAllowed
  const std::string name(js::get_string(object, {"metadata", "name"}));
  if (plural == "roles" || plural == "clusterroles") {
    if (allowed(u, p, "escalate", plural, ns, name)) return;  // RoleEscalationAuthorized
    confirm_no_escalation(u, plural, ns, name, rules_of(object), p);
    return;
  }
  if (plural != "rolebindings" && plural != "clusterrolebindings") return;
  const std::string kind(js::get_string(object, {"roleRef", "kind"}));
  const std::string role(js::get_string(object, {"roleRef", "name"}));
  // BindingAuthorized: `bind` on the role referred to.
  if (allowed(u, p, "bind", kind == "Role" ? "roles" : "clusterroles", ns, role)) return;
  std::shared_ptr<const js::Document> referred = kind == "Role"          ? p.role(ns, role)
                                                 : kind == "ClusterRole" ? p.cluster_role(role)
                                                                         : nullptr;
  if (!referred)
    refuse(plural, name,
           fmt::format("{}.rbac.authorization.k8s.io \"{}\" not found",
                       kind == "Role" ? "role" : "clusterrole", role));
  confirm_no_escalation(u, plural, ns, name, rules_of(*referred), p);
}

}  // namespace kubesim
