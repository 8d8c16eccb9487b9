#include "tools/kubesim/impersonation.h"

#include <cctype>

#include <fmt/format.h>

#include "tools/kubesim/service_account_tokens.h"

namespace kubesim {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// The extra key of Impersonate-Extra-KEY is percent-encoded (url.PathUnescape) and lower-cased.
std::string unescape(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

}  // namespace

std::optional<user_info> impersonated_user(
    const k8s::http::header_list& headers, const user_info& requester,
    const std::function<bool(const request_attributes&, std::string& reason)>& allowed) {
  std::optional<std::string> user, uid;
  std::vector<std::string> groups;
  std::vector<std::pair<std::string, std::string>> extras;
  for (const auto& [k, v] : headers) {
    const std::string name = lower(k);
    if (name == "impersonate-user")
      user = v;
    else if (name == "impersonate-group")
      groups.push_back(v);
    else if (name == "impersonate-uid")
      uid = v;
    else if (name.rfind("impersonate-extra-", 0) == 0)
      extras.emplace_back(lower(unescape(name.substr(18))), v);
  }
  if (!user && groups.empty() && !uid && extras.empty()) return std::nullopt;
  if (!user || user->empty())
    // buildImpersonationRequests refuses it; the filter answers with responsewriters.InternalError.
    throw internal_error(
        "requested impersonation of groups, extra or uid without impersonating a user");

  user_info out;
  auto check = [&](request_attributes a) {
    a.verb = "impersonate";
    a.resource_request = true;
    std::string reason;
    if (!allowed(a, reason)) throw forbidden_error(requester, a, reason);
  };
  request_attributes a;
  if (auto sa = split_service_account_username(*user)) {
    a.ns = sa->first;
    a.name = sa->second;
    a.resource = "serviceaccounts";
    a.api_version = "v1";
    check(a);
    out.name = *user;
    if (groups.empty()) {
      // MakeGroupNames; system:authenticated is added below.
      out.groups = {"system:serviceaccounts", "system:serviceaccounts:" + sa->first};
    }
  } else {
    a.name = *user;
    a.resource = "users";
    a.api_version = "v1";
    check(a);
    out.name = *user;
  }
  for (const auto& g : groups) {
    request_attributes ga;
    ga.name = g;
    ga.resource = "groups";
    ga.api_version = "v1";
    check(ga);
    out.groups.push_back(g);
  }
  for (const auto& [key, value] : extras) {
    request_attributes ea;
    ea.api_group = "authentication.k8s.io";
    ea.api_version = "v1";
    ea.resource = "userextras";
    ea.subresource = key;
    ea.name = value;
    check(ea);
    out.extra[key].push_back(value);
  }
  if (uid) {
    request_attributes ua;
    ua.api_group = "authentication.k8s.io";
    ua.api_version = "v1";
    ua.resource = "uids";
    ua.name = *uid;
    check(ua);
    out.uid = *uid;
  }
  const bool anonymous = out.name == "system:anonymous";
  const char* implied = anonymous ? "system:unauthenticated" : "system:authenticated";
  bool has_implied = out.in_group("system:unauthenticated") ||
                     (!anonymous && out.in_group("system:authenticated"));
  if (!has_implied) out.groups.push_back(implied);
  return out;
}

}  // namespace kubesim
