#include "tools/kubesim/service_account_tokens.h"

#include <chrono>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "k8s/json/base64.h"
#include "k8s/json/json.h"
#include "tools/kubesim/api_error.h"
#include "tools/kubesim/certs.h"
#include "tools/kubesim/cluster_state.h"

namespace kubesim {
namespace js = k8s::json;

namespace {

constexpr const char* kLegacyIssuer = "kubernetes/serviceaccount";
constexpr const char* kBoundIssuer = "https://kubernetes.default.svc.cluster.local";

std::string hmac_sha256(const std::string& key, const std::string& data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len);
  return std::string(reinterpret_cast<const char*>(out), len);
}

int64_t now_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

snapshot_ptr get_or_null(const cluster_state& state, const char* plural, const std::string& ns,
                         const std::string& name) {
  auto t = state.find_type("", "v1", plural);
  try {
    return t ? state.get(*t, ns, name) : nullptr;
  } catch (const api_error&) {
    return nullptr;
  }
}

}  // namespace

std::string service_account_username(const std::string& ns, const std::string& name) {
  return "system:serviceaccount:" + ns + ":" + name;
}

std::vector<std::string> service_account_groups(const std::string& ns) {
  return {"system:serviceaccounts", "system:serviceaccounts:" + ns, "system:authenticated"};
}

std::optional<std::pair<std::string, std::string>> split_service_account_username(
    const std::string& user) {
  const std::string prefix = "system:serviceaccount:";
  if (user.rfind(prefix, 0) != 0) return std::nullopt;
  auto rest = user.substr(prefix.size());
  auto colon = rest.find(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == rest.size() ||
      rest.find(':', colon + 1) != std::string::npos)
    return std::nullopt;
  return std::make_pair(rest.substr(0, colon), rest.substr(colon + 1));
}

service_account_tokens::service_account_tokens(cluster_state& state)
    : state_(state), key_(random_token(32)) {}

std::string service_account_tokens::sign(const std::string& claims_json) const {
  const std::string header = k8s::base64_encode(R"({"alg":"HS256","kid":"kubesim"})", true);
  std::string signing_input = header + "." + k8s::base64_encode(claims_json, true);
  return signing_input + "." + k8s::base64_encode(hmac_sha256(key_, signing_input), true);
}

std::string service_account_tokens::legacy_token(const std::string& ns, const std::string& sa,
                                                 const std::string& sa_uid,
                                                 const std::string& secret) const {
  js::Document c(rapidjson::kObjectType);
  auto& a = c.GetAllocator();
  js::set_string(c, "iss", kLegacyIssuer, a);
  js::set_string(c, "kubernetes.io/serviceaccount/namespace", ns, a);
  js::set_string(c, "kubernetes.io/serviceaccount/secret.name", secret, a);
  js::set_string(c, "kubernetes.io/serviceaccount/service-account.name", sa, a);
  js::set_string(c, "kubernetes.io/serviceaccount/service-account.uid", sa_uid, a);
  js::set_string(c, "sub", service_account_username(ns, sa), a);
  return sign(js::to_string(c));
}

std::string service_account_tokens::bound_token(const std::string& ns, const std::string& sa,
                                                const std::string& sa_uid,
                                                const std::vector<std::string>& audiences,
                                                int64_t seconds) const {
  js::Document c(rapidjson::kObjectType);
  auto& a = c.GetAllocator();
  js::Value aud(rapidjson::kArrayType);
  for (const auto& s : audiences) aud.PushBack(js::string_value(s, a), a);
  c.AddMember("aud", aud, a);
  const int64_t now = now_seconds();
  c.AddMember("exp", now + seconds, a);
  c.AddMember("iat", now, a);
  js::set_string(c, "iss", kBoundIssuer, a);
  js::set_string(c, "jti", random_token(16), a);
  js::Value k(rapidjson::kObjectType);
  k.AddMember("namespace", js::string_value(ns, a), a);
  js::Value account(rapidjson::kObjectType);
  account.AddMember("name", js::string_value(sa, a), a);
  account.AddMember("uid", js::string_value(sa_uid, a), a);
  k.AddMember("serviceaccount", account, a);
  c.AddMember("kubernetes.io", k, a);
  c.AddMember("nbf", now, a);
  js::set_string(c, "sub", service_account_username(ns, sa), a);
  return sign(js::to_string(c));
}

std::optional<user_info> service_account_tokens::authenticate(const std::string& token,
                                                              bool& ours) const {
  ours = false;
  auto dot1 = token.find('.');
  auto dot2 = dot1 == std::string::npos ? std::string::npos : token.find('.', dot1 + 1);
  if (dot2 == std::string::npos) return std::nullopt;
  const std::string signing_input = token.substr(0, dot2);
  auto sig = k8s::base64_decode(token.substr(dot2 + 1), true);
  const std::string expected = hmac_sha256(key_, signing_input);
  if (!sig || sig->size() != expected.size() ||
      CRYPTO_memcmp(sig->data(), expected.data(), expected.size()) != 0)
    return std::nullopt;
  ours = true;
  auto payload = k8s::base64_decode(token.substr(dot1 + 1, dot2 - dot1 - 1), true);
  if (!payload) return std::nullopt;
  js::Document c;
  try {
    c = js::parse(*payload);
  } catch (const std::exception&) {
    return std::nullopt;
  }
  std::string ns, sa, uid;
  if (js::get_string(c, "iss") == kLegacyIssuer) {
    ns = js::get_string(c, "kubernetes.io/serviceaccount/namespace");
    sa = js::get_string(c, "kubernetes.io/serviceaccount/service-account.name");
    uid = js::get_string(c, "kubernetes.io/serviceaccount/service-account.uid");
    // legacy.go: the Secret must still exist and hold this very token.
    std::string secret_name(js::get_string(c, "kubernetes.io/serviceaccount/secret.name"));
    auto secret = get_or_null(state_, "secrets", ns, secret_name);
    if (!secret) return std::nullopt;
    auto held = k8s::base64_decode(js::get_string(secret->doc, {"data", "token"}));
    if (!held || *held != token) return std::nullopt;
  } else {
    if (js::get_int(c, {"exp"}, 0) <= now_seconds()) return std::nullopt;
    ns = js::get_string(c, {"kubernetes.io", "namespace"});
    sa = js::get_string(c, {"kubernetes.io", "serviceaccount", "name"});
    uid = js::get_string(c, {"kubernetes.io", "serviceaccount", "uid"});
  }
  auto account = get_or_null(state_, "serviceaccounts", ns, sa);
  if (!account || js::get_string(account->doc, {"metadata", "uid"}) != uid) return std::nullopt;
  user_info u;
  u.name = service_account_username(ns, sa);
  u.uid = uid;
  u.groups = service_account_groups(ns);
  return u;
}

}  // namespace kubesim
