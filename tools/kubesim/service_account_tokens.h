// ServiceAccount tokens of one cluster: minted for the token controller (the legacy Secret
// tokens of kubernetes.io/service-account-token Secrets) and for TokenRequest (bound tokens),
// and checked by the authenticator. As kube-apiserver v1.32 (pkg/serviceaccount/jwt.go,
// legacy.go, claims.go) they are JWTs carrying the namespace, ServiceAccount name and uid
// (and the Secret's name, or audiences and expiry); a token is valid while its ServiceAccount
// (same uid) exists and, for a legacy token, while its Secret still holds it.
// Difference: signed with HMAC-SHA256 under a per-cluster random key, not RS256.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tools/kubesim/request_info.h"

namespace kubesim {

class cluster_state;

constexpr const char* kServiceAccountTokenType = "kubernetes.io/service-account-token";
constexpr const char* kServiceAccountNameAnnotation = "kubernetes.io/service-account.name";
constexpr const char* kServiceAccountUidAnnotation = "kubernetes.io/service-account.uid";

// serviceaccount.MakeUsername / MakeGroupNames (plus system:authenticated).
std::string service_account_username(const std::string& ns, const std::string& name);
std::vector<std::string> service_account_groups(const std::string& ns);
// SplitUsername: {ns, name} of "system:serviceaccount:NS:NAME"; nullopt for any other name.
std::optional<std::pair<std::string, std::string>> split_service_account_username(
    const std::string& user);

class service_account_tokens {
 public:
  explicit service_account_tokens(cluster_state& state);

  std::string legacy_token(const std::string& ns, const std::string& sa, const std::string& sa_uid,
                           const std::string& secret) const;
  // TokenRequest: expires `seconds` after now.
  std::string bound_token(const std::string& ns, const std::string& sa, const std::string& sa_uid,
                          const std::vector<std::string>& audiences, int64_t seconds) const;

  // Not a token of ours: nullopt with `ours` false (another authenticator may know it).
  // One of ours that is no longer valid: nullopt with `ours` true (401).
  std::optional<user_info> authenticate(const std::string& token, bool& ours) const;

 private:
  std::string sign(const std::string& claims_json) const;
  cluster_state& state_;
  std::string key_;
};

}  // namespace kubesim
