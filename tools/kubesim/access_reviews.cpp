#include "tools/kubesim/access_reviews.h"

#include <chrono>
#include <ctime>

#include <fmt/format.h>

#include "tools/kubesim/api_error.h"
#include "tools/kubesim/cluster_state.h"
#include "tools/kubesim/field_errors.h"
#include "tools/kubesim/go_format.h"
#include "tools/kubesim/service_account_tokens.h"

namespace kubesim {
namespace js = k8s::json;

namespace {

using Value = js::Value;

enum class review { none, access, rules, self, token };

review kind_of(const std::vector<std::string>& p) {
  if (p.size() == 4 && p[0] == "apis" && p[1] == "authorization.k8s.io" && p[2] == "v1") {
    if (p[3] == "selfsubjectaccessreviews") return review::access;
    if (p[3] == "selfsubjectrulesreviews") return review::rules;
  }
  if (p.size() == 4 && p[0] == "apis" && p[1] == "authentication.k8s.io" && p[2] == "v1" &&
      p[3] == "selfsubjectreviews")
    return review::self;
  if (p.size() == 7 && p[0] == "api" && p[1] == "v1" && p[2] == "namespaces" &&
      p[4] == "serviceaccounts" && p[6] == "token")
    return review::token;
  return review::none;
}

Value strings(const std::vector<std::string>& list, js::Allocator& a) {
  Value out(rapidjson::kArrayType);
  for (const auto& s : list) out.PushBack(js::string_value(s, a), a);
  return out;
}

// The request object echoed back with its status, as the registries do.
js::Document echo(js::Document body, const char* kind, const char* api_version) {
  if (!body.IsObject()) body.SetObject();
  auto& a = body.GetAllocator();
  js::set_string(body, "kind", kind, a);
  js::set_string(body, "apiVersion", api_version, a);
  Value& meta = js::ensure_object(body, "metadata", a);
  if (!js::find(meta, "creationTimestamp"))
    js::set_member(meta, "creationTimestamp", Value(rapidjson::kNullType), a);
  return body;
}

review_reply access_review(js::Document body, const user_info& u, const rbac_policy& policy) {
  const Value* ra = js::find_path(body, {"spec", "resourceAttributes"});
  const Value* na = js::find_path(body, {"spec", "nonResourceAttributes"});
  if ((!ra || ra->IsNull()) && (!na || na->IsNull()))
    throw invalid(
        "SelfSubjectAccessReview", "authorization.k8s.io", "",
        {field::invalid(
            "spec.resourceAttributes", "\"null\"",
            "exactly one of nonResourceAttributes or resourceAttributes must be specified")});
  if (ra && !ra->IsNull() && na && !na->IsNull())
    throw invalid("SelfSubjectAccessReview", "authorization.k8s.io", "",
                  {field::invalid("spec.nonResourceAttributes", "\"" + go::json(*na) + "\"",
                                  "cannot be specified in combination with resourceAttributes")});
  request_attributes a;
  if (ra && !ra->IsNull()) {
    a.resource_request = true;
    a.ns = js::get_string(*ra, "namespace");
    a.verb = js::get_string(*ra, "verb");
    a.api_group = js::get_string(*ra, "group");
    a.api_version = js::get_string(*ra, "version");
    a.resource = js::get_string(*ra, "resource");
    a.subresource = js::get_string(*ra, "subresource");
    a.name = js::get_string(*ra, "name");
  } else {
    a.path = js::get_string(*na, "path");
    a.verb = js::get_string(*na, "verb");
  }
  auto d = authorize(u, a, policy);
  js::Document out = echo(std::move(body), "SelfSubjectAccessReview", "authorization.k8s.io/v1");
  auto& al = out.GetAllocator();
  Value status(rapidjson::kObjectType);
  status.AddMember("allowed", d.allowed, al);
  if (!d.reason.empty()) status.AddMember("reason", js::string_value(d.reason, al), al);
  js::set_member(out, "status", std::move(status), al);
  return {201, js::to_string(out)};
}

review_reply rules_review(js::Document body, const user_info& u, const rbac_policy& policy) {
  std::string ns(js::get_string(body, {"spec", "namespace"}));
  auto rules = rules_for(u, ns, policy);
  js::Document out = echo(std::move(body), "SelfSubjectRulesReview", "authorization.k8s.io/v1");
  auto& a = out.GetAllocator();
  Value resource_rules(rapidjson::kArrayType), url_rules(rapidjson::kArrayType);
  // rbac.go RulesFor: rules with resources are resource rules, the rest non-resource rules.
  for (const auto& r : rules.rules) {
    Value v(rapidjson::kObjectType);
    v.AddMember("verbs", strings(r.verbs, a), a);
    if (!r.resources.empty()) {
      if (!r.api_groups.empty()) v.AddMember("apiGroups", strings(r.api_groups, a), a);
      v.AddMember("resources", strings(r.resources, a), a);
      if (!r.resource_names.empty()) v.AddMember("resourceNames", strings(r.resource_names, a), a);
      resource_rules.PushBack(v, a);
    } else if (!r.non_resource_urls.empty()) {
      v.AddMember("nonResourceURLs", strings(r.non_resource_urls, a), a);
      url_rules.PushBack(v, a);
    }
  }
  Value status(rapidjson::kObjectType);
  status.AddMember("resourceRules", resource_rules, a);
  status.AddMember("nonResourceRules", url_rules, a);
  status.AddMember("incomplete", !rules.errors.empty(), a);
  if (!rules.errors.empty()) {
    std::string joined;
    for (const auto& e : rules.errors) joined += (joined.empty() ? "" : ", ") + e;
    status.AddMember("evaluationError",
                     js::string_value(rules.errors.size() == 1 ? joined : "[" + joined + "]", a),
                     a);
  }
  js::set_member(out, "status", std::move(status), a);
  return {201, js::to_string(out)};
}

review_reply self_review(const user_info& u) {
  js::Document out(rapidjson::kObjectType);
  auto& a = out.GetAllocator();
  js::set_string(out, "kind", "SelfSubjectReview", a);
  js::set_string(out, "apiVersion", "authentication.k8s.io/v1", a);
  Value meta(rapidjson::kObjectType);
  meta.AddMember("creationTimestamp", Value(rapidjson::kNullType), a);
  out.AddMember("metadata", meta, a);
  Value info(rapidjson::kObjectType);
  info.AddMember("username", js::string_value(u.name, a), a);
  if (!u.uid.empty()) info.AddMember("uid", js::string_value(u.uid, a), a);
  if (!u.groups.empty()) info.AddMember("groups", strings(u.groups, a), a);
  if (!u.extra.empty()) {
    Value extra(rapidjson::kObjectType);
    for (const auto& [k, v] : u.extra) extra.AddMember(js::string_value(k, a), strings(v, a), a);
    info.AddMember("extra", extra, a);
  }
  Value status(rapidjson::kObjectType);
  status.AddMember("userInfo", info, a);
  out.AddMember("status", status, a);
  return {201, js::to_string(out)};
}

std::string rfc3339(int64_t seconds) {
  std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

review_reply token_request(js::Document body, const std::string& ns, const std::string& name,
                           const cluster_state& state, const service_account_tokens& tokens) {
  auto sa_type = state.find_type("", "v1", "serviceaccounts");
  auto sa = state.get(*sa_type, ns, name);  // 404 `serviceaccounts "x" not found`
  if (!body.IsObject()) body.SetObject();
  int64_t seconds = js::get_int(body, {"spec", "expirationSeconds"}, 3600);
  if (seconds < 600)
    throw invalid("TokenRequest", "authentication.k8s.io", name,
                  {field::invalid("spec.expirationSeconds", std::to_string(seconds),
                                  "may not specify a duration less than 10 minutes")});
  if (seconds > (int64_t(1) << 32))
    throw invalid("TokenRequest", "authentication.k8s.io", name,
                  {field::too_long("spec.expirationSeconds", int64_t(1) << 32)});
  std::vector<std::string> audiences;
  if (const Value* aud = js::find_path(body, {"spec", "audiences"}); aud && aud->IsArray())
    for (const auto& s : aud->GetArray())
      if (s.IsString()) audiences.emplace_back(js::view(s));
  if (audiences.empty()) audiences.push_back("https://kubernetes.default.svc.cluster.local");
  std::string uid(js::get_string(sa->doc, {"metadata", "uid"}));
  std::string token = tokens.bound_token(ns, name, uid, audiences, seconds);
  const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  js::Document out = echo(std::move(body), "TokenRequest", "authentication.k8s.io/v1");
  auto& a = out.GetAllocator();
  Value& meta = js::ensure_object(out, "metadata", a);
  js::set_string(meta, "name", name, a);
  js::set_string(meta, "namespace", ns, a);
  Value& spec = js::ensure_object(out, "spec", a);
  js::set_member(spec, "audiences", strings(audiences, a), a);
  js::set_member(spec, "expirationSeconds", Value(seconds), a);
  if (!js::find(spec, "boundObjectRef"))
    js::set_member(spec, "boundObjectRef", Value(rapidjson::kNullType), a);
  Value status(rapidjson::kObjectType);
  status.AddMember("token", js::string_value(token, a), a);
  status.AddMember("expirationTimestamp", js::string_value(rfc3339(now + seconds), a), a);
  js::set_member(out, "status", std::move(status), a);
  return {201, js::to_string(out)};
}

}  // namespace

bool is_access_review_path(const std::vector<std::string>& parts) {
  return kind_of(parts) != review::none;
}

std::vector<resource_type> with_review_types(std::vector<resource_type> types) {
  auto review_type = [](const char* group, const char* kind, const char* plural,
                        const char* singular) {
    resource_type t;
    t.group = group;
    t.versions = {"v1"};
    t.kind = kind;
    t.plural = plural;
    t.singular = singular;
    t.namespaced = false;
    t.verbs = {"create"};
    return t;
  };
  types.push_back(review_type("authentication.k8s.io", "SelfSubjectReview", "selfsubjectreviews",
                              "selfsubjectreview"));
  types.push_back(review_type("authorization.k8s.io", "SelfSubjectAccessReview",
                              "selfsubjectaccessreviews", "selfsubjectaccessreview"));
  types.push_back(review_type("authorization.k8s.io", "SelfSubjectRulesReview",
                              "selfsubjectrulesreviews", "selfsubjectrulesreview"));
  return types;
}

std::optional<review_reply> serve_access_review(const std::string& method,
                                                const std::vector<std::string>& parts,
                                                const std::function<js::Document()>& body,
                                                const user_info& user, const cluster_state& state,
                                                const service_account_tokens* tokens) {
  review k = kind_of(parts);
  if (k == review::none || (k == review::token && !tokens)) return std::nullopt;
  if (method != "POST")
    throw method_not_allowed("the server does not allow this method on the requested resource");
  switch (k) {
    case review::access:
      return access_review(body(), user, policy_of(state));
    case review::rules:
      return rules_review(body(), user, policy_of(state));
    case review::self:
      return self_review(user);
    case review::token:
      return token_request(body(), parts[3], parts[5], state, *tokens);
    case review::none:
      break;
  }
  return std::nullopt;
}

}  // namespace kubesim
