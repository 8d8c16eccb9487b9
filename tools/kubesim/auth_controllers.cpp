#include "tools/kubesim/auth_controllers.h"

#include <algorithm>

#include "k8s/json/base64.h"
#include "tools/kubesim/controller_base.h"
#include "tools/kubesim/object_meta.h"
#include "tools/kubesim/service_account_tokens.h"
#include "tools/kubesim/statefulset_logic.h"

namespace kubesim {
namespace js = k8s::json;
namespace net = boost::asio;

namespace {
// The work queue holds Secrets as "ns/name" and ClusterRoles as "/name" (no namespace).
constexpr const char* kClusterRoleQueue = "";
}  // namespace

struct auth_controllers::impl : controller_base<auth_controllers::impl> {
  impl(net::io_context& io, cluster_state& state, const service_account_tokens& tokens,
       std::string ca_pem)
      : controller_base(io, state, "auth controllers", "Secret or ClusterRole", nullptr),
        tokens(tokens),
        ca_pem(std::move(ca_pem)),
        secret_type(*state.find_type("", "v1", "secrets")),
        sa_type(*state.find_type("", "v1", "serviceaccounts")),
        cluster_role_type(*state.find_type("rbac.authorization.k8s.io", "v1", "clusterroles")) {}

  const service_account_tokens& tokens;
  const std::string ca_pem;
  const resource_type secret_type, sa_type, cluster_role_type;
  std::vector<uint64_t> watch_ids;  // with `running` held

  void start() {
    std::lock_guard lock(running);
    if (stopped || !watch_ids.empty()) return;
    watch_ids.push_back(watch(secret_type, &impl::on_secret));
    watch_ids.push_back(watch(sa_type, &impl::on_service_account));
    watch_ids.push_back(watch(cluster_role_type, &impl::on_cluster_role));
  }
  void stop() {
    std::lock_guard lock(running);
    if (stopped.exchange(true)) return;
    for (auto id : watch_ids) state.unwatch(id);
    watch_ids.clear();
    cancel_timers();
  }

  void on_secret(const char* type, const snapshot_ptr& obj) {
    if (std::string_view(type) == "DELETED") return;
    if (js::get_string(obj->doc, "type") != kServiceAccountTokenType) return;
    enqueue(meta_string(obj->doc, "namespace"), meta_string(obj->doc, "name"));
  }

  // A deleted ServiceAccount takes its token Secrets with it (deleteTokens).
  void on_service_account(const char* type, const snapshot_ptr& obj) {
    if (std::string_view(type) != "DELETED") return;
    const std::string ns = meta_string(obj->doc, "namespace");
    for (const auto& s : state.list(secret_type, ns, {}).items)
      if (js::get_string(s->doc, "type") == kServiceAccountTokenType)
        enqueue(ns, meta_string(s->doc, "name"));
  }

  // Any ClusterRole change may change what an aggregated one gathers: resync every one.
  void on_cluster_role(const char*, const snapshot_ptr&) {
    for (const auto& r : state.list(cluster_role_type, "", {}).items)
      if (js::find(r->doc, "aggregationRule"))
        enqueue(kClusterRoleQueue, meta_string(r->doc, "name"));
  }

  void sync(const std::string& ns, const std::string& name) {
    if (ns == kClusterRoleQueue)
      sync_aggregated_role(name);
    else
      sync_token_secret(ns, name);
  }

  void sync_token_secret(const std::string& ns, const std::string& name) {
    auto secret = get_or_null(secret_type, ns, name);
    if (!secret || js::get_string(secret->doc, "type") != kServiceAccountTokenType) return;
    if (js::find_path(secret->doc, {"metadata", "deletionTimestamp"})) return;
    const js::Value* annotations = js::find_path(secret->doc, {"metadata", "annotations"});
    std::string sa_name =
        annotations ? std::string(js::get_string(*annotations, kServiceAccountNameAnnotation)) : "";
    std::string want_uid =
        annotations ? std::string(js::get_string(*annotations, kServiceAccountUidAnnotation)) : "";
    auto sa = sa_name.empty() ? nullptr : get_or_null(sa_type, ns, sa_name);
    std::string sa_uid = sa ? meta_string(sa->doc, "uid") : "";
    if (!sa || (!want_uid.empty() && want_uid != sa_uid)) {
      // The ServiceAccount the Secret names does not exist (with that uid): delete the Secret.
      try {
        state.remove(secret_type, ns, name, {});
      } catch (const api_error& e) {
        if (e.code != 404) throw;
      }
      return;
    }
    const js::Value* data = js::find(secret->doc, "data");
    auto present = [&](const char* key) { return data && !js::get_string(*data, key).empty(); };
    if (present("token") && present("ca.crt") && present("namespace") && want_uid == sa_uid) return;
    js::Document next = js::copy_of(secret->doc);
    auto& a = next.GetAllocator();
    js::Value& meta = js::ensure_object(next, "metadata", a);
    js::set_string(js::ensure_object(meta, "annotations", a), kServiceAccountUidAnnotation, sa_uid,
                   a);
    js::Value& d = js::ensure_object(next, "data", a);
    if (!present("token"))
      js::set_string(d, "token", k8s::base64_encode(tokens.legacy_token(ns, sa_name, sa_uid, name)),
                     a);
    if (!present("ca.crt")) js::set_string(d, "ca.crt", k8s::base64_encode(ca_pem), a);
    if (!present("namespace")) js::set_string(d, "namespace", k8s::base64_encode(ns), a);
    state.update(secret_type, ns, name, std::move(next), false, {});
  }

  void sync_aggregated_role(const std::string& name) {
    auto role = get_or_null(cluster_role_type, "", name);
    if (!role) return;
    const js::Value* selectors =
        js::find_path(role->doc, {"aggregationRule", "clusterRoleSelectors"});
    if (!selectors || !selectors->IsArray()) return;
    auto all = state.list(cluster_role_type, "", {}).items;
    std::sort(all.begin(), all.end(), [](const snapshot_ptr& x, const snapshot_ptr& y) {
      return meta_string(x->doc, "name") < meta_string(y->doc, "name");
    });
    js::Document next = js::copy_of(role->doc);
    auto& a = next.GetAllocator();
    js::Value rules(rapidjson::kArrayType);
    for (const auto& sel : selectors->GetArray()) {
      for (const auto& other : all) {
        if (meta_string(other->doc, "name") == name) continue;  // never its own rules
        if (!sts::selector_matches(sel, js::find_path(other->doc, {"metadata", "labels"})))
          continue;
        const js::Value* theirs = js::find(other->doc, "rules");
        if (!theirs || !theirs->IsArray()) continue;
        for (const auto& r : theirs->GetArray()) {
          bool known = false;
          for (const auto& have : rules.GetArray()) known = known || have == r;
          if (!known) rules.PushBack(js::Value(r, a), a);
        }
      }
    }
    const js::Value* current = js::find(role->doc, "rules");
    if (current && *current == rules) return;
    if (!current && rules.Empty()) return;
    js::set_member(next, "rules", std::move(rules), a);
    state.update(cluster_role_type, "", name, std::move(next), false, {});
  }
};

auth_controllers::auth_controllers(net::io_context& io, cluster_state& state,
                                   const service_account_tokens& tokens, std::string ca_pem)
    : impl_(std::make_shared<impl>(io, state, tokens, std::move(ca_pem))) {}

auth_controllers::~auth_controllers() {
  stop();
}
void auth_controllers::start() {
  impl_->start();
}
void auth_controllers::stop() {
  impl_->stop();
}

}  // namespace kubesim
