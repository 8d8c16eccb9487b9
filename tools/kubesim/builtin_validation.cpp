// The strategies' Validate and ValidateUpdate of the built-in kinds (v1.32): ValidateStatefulSet
// (Update) and ValidateDeployment(Update) of pkg/apis/apps/validation, ValidateService(Update),
// ValidateSecret(Update), ValidateConfigMap(Update), ValidatePersistentVolumeClaim(Update) and
// ValidatePod(Update) of pkg/apis/core/validation, ValidatePodDisruptionBudget of
// pkg/apis/policy/validation. A bad value is rendered as the real ErrorBody prints it; where it
// prints a Go pointer address or a cmp.Diff, ours is an approximation (README).
#include "tools/kubesim/builtin_validation.h"

#include <algorithm>
#include <map>
#include <optional>
#include <regex>
#include <set>

#include <fmt/format.h>

#include "k8s/json/base64.h"
#include "tools/kubesim/builtin_validation_parts.h"
#include "tools/kubesim/field_errors.h"
#include "tools/kubesim/object_meta.h"
#include "tools/kubesim/selectors.h"

namespace kubesim::builtin {

namespace js = k8s::json;
using js::Value;

namespace {

const Value& empty_object() {
  static const Value empty(rapidjson::kObjectType);
  return empty;
}
const Value& spec_of(const Value& obj) {
  const Value* s = js::find(obj, "spec");
  return s && s->IsObject() ? *s : empty_object();
}
std::string str(const Value& obj, std::string_view key) {
  return std::string(js::get_string(obj, key));
}
bool same(const Value* a, const Value* b) {
  if (!a || a->IsNull()) return !b || b->IsNull();
  return b && *a == *b;
}

void nonnegative(const Value& obj, const char* key, const std::string& path, causes& out) {
  const Value* v = js::find(obj, key);
  if (v && v->IsInt64() && v->GetInt64() < 0)
    out.push_back(
        field::invalid(path, std::to_string(v->GetInt64()), "must be greater than or equal to 0"));
}

// %#v of a metav1.LabelSelector as ErrorBody prints it (pointers dereferenced).
std::string go_selector(const Value* sel) {
  if (!sel || !sel->IsObject()) return field::go_quote("null");
  std::string exprs = "[]v1.LabelSelectorRequirement(nil)";
  if (const Value* me = js::find(*sel, "matchExpressions"); me && me->IsArray()) {
    exprs = "[]v1.LabelSelectorRequirement{";
    for (rapidjson::SizeType i = 0; i < me->Size(); ++i) {
      const Value& r = (*me)[i];
      std::string values = "[]string(nil)";
      if (const Value* vs = js::find(r, "values"); vs && vs->IsArray()) {
        values = "[]string{";
        for (rapidjson::SizeType j = 0; j < vs->Size(); ++j)
          values += (j ? ", " : "") + field::go_quote(js::view((*vs)[j]));
        values += "}";
      }
      exprs += fmt::format("{}v1.LabelSelectorRequirement{{Key:{}, Operator:{}, Values:{}}}",
                           i ? ", " : "", field::go_quote(js::get_string(r, "key")),
                           field::go_quote(js::get_string(r, "operator")), values);
    }
    exprs += "}";
  }
  return fmt::format("v1.LabelSelector{{MatchLabels:{}, MatchExpressions:{}}}",
                     go_string_map(js::find(*sel, "matchLabels")), exprs);
}

// ValidateLabelSelector (strict label values) and whether LabelSelectorAsSelector succeeds.
bool validate_selector(const Value& sel, const std::string& path, causes& out) {
  bool convertible = true;
  if (const Value* ml = js::find(sel, "matchLabels"); ml && ml->IsObject())
    for (auto& kv : ml->GetObject()) {
      const std::string k(js::view(kv.name)), v(js::view(kv.value));
      for (const auto& e : is_qualified_name(k))
        out.push_back(field::invalid(path + ".matchLabels", field::go_quote(k), e));
      for (const auto& e : is_valid_label_value(v))
        out.push_back(field::invalid(field::key(path + ".matchLabels", k), field::go_quote(v), e));
      convertible = convertible && is_qualified_name(k).empty() && is_valid_label_value(v).empty();
    }
  if (const Value* me = js::find(sel, "matchExpressions"); me && me->IsArray())
    for (rapidjson::SizeType i = 0; i < me->Size(); ++i) {
      const std::string at = field::index(path + ".matchExpressions", i);
      const Value& r = (*me)[i];
      const std::string op = str(r, "operator");
      const Value* vs = js::find(r, "values");
      const size_t n = vs && vs->IsArray() ? vs->Size() : 0;
      if (op == "In" || op == "NotIn") {
        if (n == 0) {
          out.push_back(field::required(at + ".values",
                                        "must be specified when `operator` is 'In' or 'NotIn'"));
          convertible = false;
        }
      } else if (op == "Exists" || op == "DoesNotExist") {
        if (n > 0) {
          out.push_back(field::forbidden(
              at + ".values",
              "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
          convertible = false;
        }
      } else {
        out.push_back(
            field::invalid(at + ".operator", field::go_quote(op), "not a valid selector operator"));
        convertible = false;
      }
      const std::string key = str(r, "key");
      for (const auto& e : is_qualified_name(key))
        out.push_back(field::invalid(at + ".key", field::go_quote(key), e));
    }
  return convertible;
}

bool selector_matches(const Value& sel, const Value* labels) {
  auto label = [&](const std::string& k) -> const Value* {
    return labels && labels->IsObject() ? js::find(*labels, k) : nullptr;
  };
  if (const Value* ml = js::find(sel, "matchLabels"); ml && ml->IsObject())
    for (auto& kv : ml->GetObject()) {
      const Value* l = label(std::string(js::view(kv.name)));
      if (!l || js::view(*l) != js::view(kv.value)) return false;
    }
  if (const Value* me = js::find(sel, "matchExpressions"); me && me->IsArray())
    for (const auto& r : me->GetArray()) {
      const Value* l = label(str(r, "key"));
      const std::string op = str(r, "operator");
      bool in = false;
      if (const Value* vs = js::find(r, "values"); vs && vs->IsArray() && l)
        for (const auto& v : vs->GetArray()) in = in || js::view(v) == js::view(*l);
      if ((op == "In" && !in) || (op == "NotIn" && in) || (op == "Exists" && !l) ||
          (op == "DoesNotExist" && l))
        return false;
    }
  return true;
}

bool selector_empty(const Value& sel) {
  const Value* ml = js::find(sel, "matchLabels");
  const Value* me = js::find(sel, "matchExpressions");
  return !(ml && ml->IsObject() && ml->MemberCount()) && !(me && me->IsArray() && me->Size());
}

// The selector checks of a workload spec (StatefulSet, Deployment); `kind` as in "empty
// selector is invalid for <kind>". Returns the template labels' mismatch check result.
void validate_workload_selector(const Value& spec, const char* kind, const char* invalid_detail,
                                causes& out) {
  const Value* sel = js::find(spec, "selector");
  bool convertible = true;
  if (!sel || !sel->IsObject()) {
    out.push_back(field::required("spec.selector"));
  } else {
    convertible = validate_selector(*sel, "spec.selector", out);
    if (selector_empty(*sel))
      out.push_back(field::invalid("spec.selector", go_selector(sel),
                                   fmt::format("empty selector is invalid for {}", kind)));
  }
  const Value* tmpl = js::find(spec, "template");
  const Value* labels = tmpl ? js::find_path(*tmpl, {"metadata", "labels"}) : nullptr;
  if (!convertible) {
    out.push_back(field::invalid("spec.selector", go_selector(sel), invalid_detail));
  } else if (!sel || !sel->IsObject() || !selector_empty(*sel)) {
    // A nil selector selects nothing (labels.Nothing() is not Empty()).
    if (!sel || !sel->IsObject() || !selector_matches(*sel, labels))
      out.push_back(field::invalid("spec.template.metadata.labels", go_string_map(labels),
                                   "`selector` does not match template `labels`"));
  }
}

std::string go_int_or_string(const Value& v) {
  if (v.IsString())
    return fmt::format("intstr.IntOrString{{Type:1, IntVal:0, StrVal:{}}}",
                       field::go_quote(js::view(v)));
  return fmt::format("intstr.IntOrString{{Type:0, IntVal:{}, StrVal:\"\"}}",
                     v.IsInt64() ? v.GetInt64() : 0);
}

// ValidatePositiveIntOrPercent and IsNotMoreThan100Percent; returns the value (percent or int).
std::optional<int64_t> validate_int_or_percent(const Value& v, const std::string& path,
                                               causes& out) {
  if (v.IsString()) {
    static const std::regex percent(R"([0-9]+%)");
    const std::string s(js::view(v));
    if (!std::regex_match(s, percent)) {
      out.push_back(field::invalid(
          path, go_int_or_string(v),
          "a valid percent string must be a numeric string followed by an ending '%' (e.g. "
          "'1%',  or '93%', regex used for validation is '[0-9]+%')"));
      return std::nullopt;
    }
    int64_t n = std::stoll(s.substr(0, s.size() - 1));
    if (n > 100)
      out.push_back(field::invalid(path, go_int_or_string(v), "must not be greater than 100%"));
    return n;
  }
  if (v.IsInt64()) {
    if (v.GetInt64() < 0)
      out.push_back(
          field::invalid(path, std::to_string(v.GetInt64()), "must be greater than or equal to 0"));
    return v.GetInt64();
  }
  return std::nullopt;
}

// ---- StatefulSet ----

void validate_statefulset_spec(const Value& spec, causes& out) {
  const std::string pmp = str(spec, "podManagementPolicy");
  if (pmp.empty())
    out.push_back(field::required("spec.podManagementPolicy"));
  else if (pmp != "OrderedReady" && pmp != "Parallel")
    out.push_back(field::invalid("spec.podManagementPolicy", field::go_quote(pmp),
                                 "must be 'OrderedReady' or 'Parallel'"));
  const Value* strategy = js::find(spec, "updateStrategy");
  const std::string type = strategy ? str(*strategy, "type") : "";
  const Value* ru = strategy ? js::find(*strategy, "rollingUpdate") : nullptr;
  if (ru && ru->IsNull()) ru = nullptr;
  if (type.empty()) {
    out.push_back(field::required("spec.updateStrategy"));
  } else if (type == "OnDelete") {
    if (ru)
      out.push_back(field::invalid("spec.updateStrategy.rollingUpdate",
                                   "apps.RollingUpdateStatefulSetStrategy{...}",
                                   "only allowed for updateStrategy 'RollingUpdate'"));
  } else if (type == "RollingUpdate") {
    if (ru) {
      nonnegative(*ru, "partition", "spec.updateStrategy.rollingUpdate.partition", out);
      if (const Value* mu = js::find(*ru, "maxUnavailable"); mu && !mu->IsNull()) {
        const std::string at = "spec.updateStrategy.rollingUpdate.maxUnavailable";
        auto n = validate_int_or_percent(*mu, at, out);
        if (n && *n == 0) out.push_back(field::invalid(at, go_int_or_string(*mu), "cannot be 0"));
      }
    }
  } else {
    out.push_back(
        field::invalid("spec.updateStrategy",
                       fmt::format("apps.StatefulSetUpdateStrategy{{Type:{}, RollingUpdate:{}}}",
                                   field::go_quote(type),
                                   ru ? "(*apps.RollingUpdateStatefulSetStrategy)(...)"
                                      : "(*apps.RollingUpdateStatefulSetStrategy)(nil)"),
                       "must be 'RollingUpdate' or 'OnDelete'"));
  }
  if (const Value* p = js::find(spec, "persistentVolumeClaimRetentionPolicy"); p && p->IsObject())
    for (auto k : {"whenDeleted", "whenScaled"}) {
      const std::string v = str(*p, k);
      if (v != "Retain" && v != "Delete")
        out.push_back(
            field::not_supported(std::string("spec.persistentVolumeClaimRetentionPolicy.") + k,
                                 field::go_quote(v), {"Retain", "Delete"}));
    }
  nonnegative(spec, "replicas", "spec.replicas", out);
  nonnegative(spec, "minReadySeconds", "spec.minReadySeconds", out);
  if (const Value* ord = js::find(spec, "ordinals"); ord && ord->IsObject())
    nonnegative(*ord, "start", "spec.ordinals.start", out);
  validate_workload_selector(spec, "statefulset", "", out);
  const Value* pod = js::find_path(spec, {"template", "spec"});
  const std::string restart = pod ? str(*pod, "restartPolicy") : "";
  if (restart != "Always")
    out.push_back(field::not_supported("spec.template.spec.restartPolicy", field::go_quote(restart),
                                       {"Always"}));
  if (pod && js::find(*pod, "activeDeadlineSeconds") &&
      !js::find(*pod, "activeDeadlineSeconds")->IsNull())
    out.push_back(field::forbidden("spec.template.spec.activeDeadlineSeconds",
                                   "activeDeadlineSeconds in StatefulSet is not Supported"));
}

void validate_statefulset_update(const Value& obj, const Value& old, causes& out) {
  validate_statefulset_spec(spec_of(obj), out);
  js::Document clone = js::copy_of(spec_of(obj));
  auto& a = clone.GetAllocator();
  for (auto k : {"replicas", "template", "updateStrategy", "minReadySeconds", "ordinals",
                 "persistentVolumeClaimRetentionPolicy"}) {
    if (const Value* v = js::find(spec_of(old), k))
      js::set_member(clone, k, Value(*v, a), a);
    else
      js::remove_member(clone, k);
  }
  if (!(clone == spec_of(old)))
    out.push_back(field::forbidden(
        "spec",
        "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', "
        "'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are "
        "forbidden"));
}

// ---- Deployment ----

void validate_deployment_spec(const Value& spec, causes& out) {
  nonnegative(spec, "replicas", "spec.replicas", out);
  validate_workload_selector(spec, "deployment", "invalid label selector", out);
  const Value* tmpl = js::find(spec, "template");
  const Value* pod = tmpl ? js::find(*tmpl, "spec") : nullptr;
  validate_pod_spec(pod, "spec.template.spec", out);
  const std::string restart = pod ? str(*pod, "restartPolicy") : "";
  if (restart != "Always")
    out.push_back(field::not_supported("spec.template.spec.restartPolicy", field::go_quote(restart),
                                       {"Always"}));
  if (pod && js::find(*pod, "activeDeadlineSeconds") &&
      !js::find(*pod, "activeDeadlineSeconds")->IsNull())
    out.push_back(field::forbidden("spec.template.spec.activeDeadlineSeconds",
                                   "activeDeadlineSeconds in ReplicaSet is not Supported"));
  const Value* strategy = js::find(spec, "strategy");
  const std::string type = strategy ? str(*strategy, "type") : "";
  const Value* ru = strategy ? js::find(*strategy, "rollingUpdate") : nullptr;
  if (ru && ru->IsNull()) ru = nullptr;
  if (type == "Recreate") {
    if (ru)
      out.push_back(field::forbidden("spec.strategy.rollingUpdate",
                                     "may not be specified when strategy `type` is 'Recreate'"));
  } else if (type == "RollingUpdate") {
    if (!ru) {
      out.push_back(field::required("spec.strategy.rollingUpdate",
                                    "this should be defaulted and never be nil"));
    } else {
      const Value* mu = js::find(*ru, "maxUnavailable");
      const Value* ms = js::find(*ru, "maxSurge");
      auto u = mu ? validate_int_or_percent(*mu, "spec.strategy.rollingUpdate.maxUnavailable", out)
                  : std::optional<int64_t>(0);
      auto s = ms ? validate_int_or_percent(*ms, "spec.strategy.rollingUpdate.maxSurge", out)
                  : std::optional<int64_t>(0);
      if (u.value_or(0) == 0 && s.value_or(0) == 0)
        out.push_back(field::invalid("spec.strategy.rollingUpdate.maxUnavailable",
                                     mu ? go_int_or_string(*mu) : go_int_or_string(Value(0)),
                                     "may not be 0 when `maxSurge` is 0"));
    }
  } else {
    out.push_back(field::not_supported("spec.strategy", "apps.DeploymentStrategy{...}",
                                       {"Recreate", "RollingUpdate"}));
  }
  nonnegative(spec, "minReadySeconds", "spec.minReadySeconds", out);
  nonnegative(spec, "revisionHistoryLimit", "spec.revisionHistoryLimit", out);
  nonnegative(spec, "progressDeadlineSeconds", "spec.progressDeadlineSeconds", out);
  if (const Value* pds = js::find(spec, "progressDeadlineSeconds"); pds && pds->IsInt64())
    if (pds->GetInt64() <= js::get_int(spec, {"minReadySeconds"}, 0))
      out.push_back(field::invalid("spec.progressDeadlineSeconds", std::to_string(pds->GetInt64()),
                                   "must be greater than minReadySeconds"));
}

// ---- Service ----

bool is_headless(const Value& spec) {
  return str(spec, "clusterIP") == "None";
}

void validate_service(const Value& obj, causes& out) {
  const Value& spec = spec_of(obj);
  const std::string type = str(spec, "type");
  const Value* ports = js::find(spec, "ports");
  const size_t n = ports && ports->IsArray() ? ports->Size() : 0;
  if (n == 0 && !is_headless(spec) && type != "ExternalName")
    out.push_back(field::required("spec.ports"));
  if (type == "ExternalName" && str(spec, "externalName").empty())
    out.push_back(field::required("spec.externalName"));
  std::set<std::string> names;
  for (size_t i = 0; i < n; ++i) {
    const Value& p = (*ports)[static_cast<rapidjson::SizeType>(i)];
    const std::string at = field::index("spec.ports", i);
    const std::string name = str(p, "name");
    if (n > 1 && name.empty()) {
      out.push_back(field::required(at + ".name"));
    } else if (!name.empty()) {
      for (const auto& e : validate_dns1123_label(name))
        out.push_back(field::invalid(at + ".name", field::go_quote(name), e));
      if (!names.insert(name).second)
        out.push_back(field::duplicate(at + ".name", field::go_quote(name)));
    }
    const int64_t port = js::get_int(p, {"port"}, 0);
    for (const auto& e : port_num_errors(port))
      out.push_back(field::invalid(at + ".port", std::to_string(port), e));
    const std::string protocol = str(p, "protocol");
    if (protocol.empty())
      out.push_back(field::required(at + ".protocol"));
    else if (protocol != "TCP" && protocol != "UDP" && protocol != "SCTP")
      out.push_back(field::not_supported(at + ".protocol", field::go_quote(protocol),
                                         {"SCTP", "TCP", "UDP"}));
    if (const Value* target = js::find(p, "targetPort")) {
      if (target->IsString()) {
        const std::string t(js::view(*target));
        for (const auto& e : port_name_errors(t))
          out.push_back(field::invalid(at + ".targetPort", field::go_quote(t), e));
      } else if (target->IsInt64()) {
        for (const auto& e : port_num_errors(target->GetInt64()))
          out.push_back(field::invalid(at + ".targetPort", std::to_string(target->GetInt64()), e));
      }
    }
  }
  const std::string affinity = str(spec, "sessionAffinity");
  if (affinity.empty())
    out.push_back(field::required("spec.sessionAffinity"));
  else if (affinity != "ClientIP" && affinity != "None")
    out.push_back(field::not_supported("spec.sessionAffinity", field::go_quote(affinity),
                                       {"ClientIP", "None"}));
  if (type.empty())
    out.push_back(field::required("spec.type"));
  else if (type != "ClusterIP" && type != "ExternalName" && type != "LoadBalancer" &&
           type != "NodePort")
    out.push_back(field::not_supported("spec.type", field::go_quote(type),
                                       {"ClusterIP", "ExternalName", "LoadBalancer", "NodePort"}));
}

std::vector<std::string> string_list(const Value* list) {
  std::vector<std::string> out;
  if (list && list->IsArray())
    for (const auto& v : list->GetArray()) out.emplace_back(js::view(v));
  return out;
}

std::string go_string_slice(const std::vector<std::string>& v) {
  if (v.empty()) return "[]string(nil)";
  std::string out = "[]string{";
  for (size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + field::go_quote(v[i]);
  return out + "}";
}

// validateUpgradeDowngradeClusterIPs: allocated addresses never change.
void validate_service_update(const Value& obj, const Value& old, causes& out) {
  const Value& spec = spec_of(obj);
  const Value& old_spec = spec_of(old);
  if (str(spec, "type") != "ExternalName" && str(old_spec, "type") != "ExternalName" &&
      !(is_headless(spec) && is_headless(old_spec))) {
    auto now = string_list(js::find(spec, "clusterIPs"));
    auto before = string_list(js::find(old_spec, "clusterIPs"));
    if (now.size() == before.size()) {
      for (size_t i = 0; i < before.size(); ++i)
        if (before[i] != now[i])
          out.push_back(field::invalid(field::index("spec.clusterIPs", i), go_string_slice(now),
                                       "may not change once set"));
    } else if (before.size() > now.size()) {
      if (now.empty())
        out.push_back(field::invalid("spec.clusterIPs[0]", go_string_slice(now),
                                     "primary clusterIP can not be unset"));
      else if (now[0] != before[0])
        out.push_back(
            field::invalid("spec.clusterIPs[0]", go_string_slice(now), "may not change once set"));
    } else if (!before.empty() && now[0] != before[0]) {
      out.push_back(
          field::invalid("spec.clusterIPs[0]", go_string_slice(now), "may not change once set"));
    }
  }
  validate_service(obj, out);
}

// ---- Secret and ConfigMap ----

std::vector<std::string> config_map_key_errors(const std::string& key) {
  std::vector<std::string> errs;
  if (key.size() > 253) errs.push_back("must be no more than 253 characters");
  static const std::regex re(R"([-._a-zA-Z0-9]+)");
  if (!std::regex_match(key, re))
    errs.push_back(
        "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. "
        "'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is "
        "'[-._a-zA-Z0-9]+')");
  if (key == ".")
    errs.push_back("must not be '.'");
  else if (key == "..")
    errs.push_back("must not be '..'");
  else if (key.rfind("..", 0) == 0)
    errs.push_back("must not start with '..'");
  return errs;
}

// Keys of `data`-like maps; returns the decoded size of the values.
size_t validate_keys(const Value& obj, const char* member, bool base64, causes& out) {
  size_t total = 0;
  const Value* data = js::find(obj, member);
  if (!data || !data->IsObject()) return 0;
  for (auto& kv : data->GetObject()) {
    const std::string k(js::view(kv.name));
    for (const auto& e : config_map_key_errors(k))
      out.push_back(field::invalid(field::key(member, k), field::go_quote(k), e));
    if (base64) {
      auto bytes = k8s::base64_decode(js::view(kv.value));
      total += bytes ? bytes->size() : kv.value.GetStringLength();
    } else {
      total += kv.value.IsString() ? kv.value.GetStringLength() : 0;
    }
  }
  return total;
}

constexpr size_t max_secret_size = 1024 * 1024;

void validate_secret(const Value& obj, causes& out) {
  if (validate_keys(obj, "data", true, out) > max_secret_size)
    out.push_back(field::too_long("data", max_secret_size));
  const std::string type = str(obj, "type");
  const Value* data = js::find(obj, "data");
  auto has = [&](const char* k) { return data && data->IsObject() && js::find(*data, k); };
  if (type == "kubernetes.io/tls") {
    for (auto k : {"tls.crt", "tls.key"})
      if (!has(k)) out.push_back(field::required(field::key("data", k)));
  } else if (type == "kubernetes.io/dockerconfigjson") {
    if (!has(".dockerconfigjson")) out.push_back(field::required("data[.dockerconfigjson]"));
  } else if (type == "kubernetes.io/dockercfg") {
    if (!has(".dockercfg")) out.push_back(field::required("data[.dockercfg]"));
  } else if (type == "kubernetes.io/basic-auth") {
    if (!has("username") && !has("password")) out.push_back(field::required("data[username]"));
  } else if (type == "kubernetes.io/ssh-auth") {
    if (!has("ssh-privatekey")) out.push_back(field::required("data[ssh-privatekey]"));
  } else if (type == "kubernetes.io/service-account-token") {
    if (js::get_string(obj, {"metadata", "annotations", "kubernetes.io/service-account.name"})
            .empty())
      out.push_back(field::required("metadata.annotations[kubernetes.io/service-account.name]"));
  }
}

// The `immutable: true` rule of ValidateSecretUpdate and ValidateConfigMapUpdate.
void validate_immutable(const Value& obj, const Value& old, std::initializer_list<const char*> data,
                        causes& out) {
  if (!js::get_bool(old, {"immutable"}, false)) return;
  const char* why = "field is immutable when `immutable` is set";
  if (!js::get_bool(obj, {"immutable"}, false)) out.push_back(field::forbidden("immutable", why));
  for (auto k : data)
    if (!same(js::find(obj, k), js::find(old, k))) out.push_back(field::forbidden(k, why));
}

void validate_config_map(const Value& obj, causes& out) {
  size_t total = validate_keys(obj, "data", false, out);
  total += validate_keys(obj, "binaryData", true, out);
  const Value* data = js::find(obj, "data");
  const Value* binary = js::find(obj, "binaryData");
  if (data && data->IsObject() && binary && binary->IsObject())
    for (auto& kv : binary->GetObject())
      if (js::find(*data, js::view(kv.name))) {
        const std::string k(js::view(kv.name));
        out.push_back(field::invalid(field::key("binaryData", k), field::go_quote(k),
                                     "duplicate of key present in data"));
      }
  if (total > max_secret_size) out.push_back(field::too_long("", max_secret_size));
}

// ---- PersistentVolumeClaim ----

void validate_pvc_spec(const Value& spec, const std::string& path, causes& out) {
  const Value* modes = js::find(spec, "accessModes");
  if (!modes || !modes->IsArray() || modes->Empty())
    out.push_back(field::required(path + ".accessModes", "at least 1 access mode is required"));
  for (const auto& m : string_list(modes))
    if (m != "ReadWriteOnce" && m != "ReadOnlyMany" && m != "ReadWriteMany" &&
        m != "ReadWriteOncePod")
      out.push_back(field::not_supported(
          path + ".accessModes", field::go_quote(m),
          {"ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"}));
  if (!js::find_path(spec, {"resources", "requests", "storage"}))
    out.push_back(field::required(path + ".resources[storage]"));
  if (const std::string sc = str(spec, "storageClassName"); !sc.empty())
    for (const auto& e : validate_dns1123_subdomain(sc))
      out.push_back(field::invalid(path + ".storageClassName", field::go_quote(sc), e));
  if (const Value* vm = js::find(spec, "volumeMode"); vm && vm->IsString()) {
    const std::string m(js::view(*vm));
    if (m != "Block" && m != "Filesystem")
      out.push_back(
          field::not_supported(path + ".volumeMode", field::go_quote(m), {"Block", "Filesystem"}));
  }
}

// A storage quantity in bytes, for the "can not be less" check (plain numbers and the suffixes).
std::optional<double> quantity_bytes(const Value* q) {
  if (!q) return std::nullopt;
  if (q->IsNumber()) return q->GetDouble();
  static const std::regex re(R"(([0-9.]+)(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E|m)?)");
  std::smatch m;
  const std::string s(js::view(*q));
  if (!std::regex_match(s, m, re)) return std::nullopt;
  static const std::map<std::string, double> scale = {{"", 1},
                                                      {"m", 1e-3},
                                                      {"k", 1e3},
                                                      {"M", 1e6},
                                                      {"G", 1e9},
                                                      {"T", 1e12},
                                                      {"P", 1e15},
                                                      {"E", 1e18},
                                                      {"Ki", 1024.},
                                                      {"Mi", 1048576.},
                                                      {"Gi", 1073741824.},
                                                      {"Ti", 1099511627776.},
                                                      {"Pi", 1125899906842624.},
                                                      {"Ei", 1152921504606846976.}};
  return std::stod(m[1].str()) * scale.at(m[2].str());
}

void validate_pvc_update(const Value& obj, const Value& old, causes& out) {
  validate_pvc_spec(spec_of(obj), "spec", out);
  js::Document now = js::copy_of(spec_of(obj));
  js::Document before = js::copy_of(spec_of(old));
  // The volume binder sets volumeName once.
  if (str(before, "volumeName").empty()) {
    if (const Value* vn = js::find(now, "volumeName"))
      js::set_member(before, "volumeName", Value(*vn, before.GetAllocator()),
                     before.GetAllocator());
  }
  const Value* new_storage = js::find_path(spec_of(obj), {"resources", "requests", "storage"});
  const Value* old_storage = js::find_path(spec_of(old), {"resources", "requests", "storage"});
  // A bound claim may change its storage request (expansion).
  if (js::get_string(obj, {"status", "phase"}) == "Bound") {
    auto* requests = const_cast<Value*>(js::find_path(now, {"resources", "requests"}));
    if (requests && requests->IsObject()) {
      if (old_storage)
        js::set_member(*requests, "storage", Value(*old_storage, now.GetAllocator()),
                       now.GetAllocator());
      else
        js::remove_member(*requests, "storage");
    }
  }
  if (!(now == before))
    out.push_back(field::forbidden(
        "spec", "spec is immutable after creation except resources.requests for bound claims\n" +
                    spec_diff("core.PersistentVolumeClaimSpec", &before, &now)));
  auto n = quantity_bytes(new_storage), o = quantity_bytes(old_storage);
  if (n && o && *n < *o)
    out.push_back(field::forbidden("spec.resources.requests.storage",
                                   "field can not be less than previous value"));
}

// ---- PodDisruptionBudget ----

void validate_pdb(const Value& obj, causes& out) {
  const Value& spec = spec_of(obj);
  const Value* min = js::find(spec, "minAvailable");
  const Value* max = js::find(spec, "maxUnavailable");
  if (min && min->IsNull()) min = nullptr;
  if (max && max->IsNull()) max = nullptr;
  if (min && max)
    out.push_back(field::invalid("spec", "policy.PodDisruptionBudgetSpec{...}",
                                 "minAvailable and maxUnavailable cannot be both set"));
  if (min) validate_int_or_percent(*min, "spec.minAvailable", out);
  if (max) validate_int_or_percent(*max, "spec.maxUnavailable", out);
  if (const Value* sel = js::find(spec, "selector"); sel && sel->IsObject())
    validate_selector(*sel, "spec.selector", out);
  if (const Value* p = js::find(spec, "unhealthyPodEvictionPolicy"); p && p->IsString()) {
    const std::string v(js::view(*p));
    if (v != "AlwaysAllow" && v != "IfHealthyBudget")
      out.push_back(field::not_supported("spec.unhealthyPodEvictionPolicy", field::go_quote(v),
                                         {"AlwaysAllow", "IfHealthyBudget"}));
  }
}

}  // namespace

causes validate_create(const resource_type& t, const Value& obj) {
  causes out;
  if (t.custom || !obj.IsObject()) return out;
  if (t.group.empty()) {
    if (t.kind == "Pod") validate_pod_spec(js::find(obj, "spec"), "spec", out);
    if (t.kind == "Service") validate_service(obj, out);
    if (t.kind == "Secret") validate_secret(obj, out);
    if (t.kind == "ConfigMap") validate_config_map(obj, out);
    if (t.kind == "PersistentVolumeClaim") validate_pvc_spec(spec_of(obj), "spec", out);
  } else if (t.group == "apps") {
    if (t.kind == "StatefulSet") validate_statefulset_spec(spec_of(obj), out);
    if (t.kind == "Deployment") validate_deployment_spec(spec_of(obj), out);
  } else if (t.group == "policy" && t.kind == "PodDisruptionBudget") {
    validate_pdb(obj, out);
  }
  return out;
}

causes validate_update(const resource_type& t, const Value& obj, const Value& old) {
  causes out;
  if (t.custom || !obj.IsObject()) return out;
  if (t.group.empty()) {
    if (t.kind == "Pod") {
      for (auto list : {"containers", "initContainers"}) {
        const Value* l = js::find_path(obj, {"spec", list});
        if (l && l->IsArray())
          for (rapidjson::SizeType i = 0; i < l->Size(); ++i)
            if (js::get_string((*l)[i], "image").empty())
              out.push_back(
                  field::required(field::index(std::string("spec.") + list, i) + ".image"));
      }
      validate_pod_spec_update(spec_of(obj), spec_of(old), out);
    }
    if (t.kind == "Service") validate_service_update(obj, old, out);
    if (t.kind == "Secret") {
      if (const std::string type = str(obj, "type"); type != str(old, "type"))
        out.push_back(field::invalid("type", field::go_quote(type), "field is immutable"));
      validate_immutable(obj, old, {"data"}, out);
      validate_secret(obj, out);
    }
    if (t.kind == "ConfigMap") {
      validate_immutable(obj, old, {"data", "binaryData"}, out);
      validate_config_map(obj, out);
    }
    if (t.kind == "PersistentVolumeClaim") validate_pvc_update(obj, old, out);
  } else if (t.group == "apps") {
    if (t.kind == "StatefulSet") validate_statefulset_update(obj, old, out);
    if (t.kind == "Deployment") {
      validate_deployment_spec(spec_of(obj), out);
      const Value* sel = js::find(spec_of(obj), "selector");
      if (!same(sel, js::find(spec_of(old), "selector")))
        out.push_back(field::invalid("spec.selector", go_selector(sel), "field is immutable"));
    }
  } else if (t.group == "policy" && t.kind == "PodDisruptionBudget") {
    validate_pdb(obj, out);
  }
  return out;
}

causes validate_status_update(const resource_type& t, const Value& obj, const Value& old) {
  causes out;
  if (t.custom || t.group != "apps" || (t.kind != "StatefulSet" && t.kind != "Deployment"))
    return out;
  const Value* st = js::find(obj, "status");
  const Value& status = st && st->IsObject() ? *st : empty_object();
  const bool sts = t.kind == "StatefulSet";
  const std::vector<const char*> counts =
      sts ? std::vector<const char*>{"replicas",        "readyReplicas",     "currentReplicas",
                                     "updatedReplicas", "availableReplicas", "observedGeneration",
                                     "collisionCount"}
          : std::vector<const char*>{
                "observedGeneration",  "replicas",      "updatedReplicas", "availableReplicas",
                "unavailableReplicas", "readyReplicas", "collisionCount"};
  for (auto k : counts) nonnegative(status, k, std::string("status.") + k, out);
  const int64_t replicas = js::get_int(status, {"replicas"}, 0);
  const std::vector<const char*> bounded =
      sts ? std::vector<const char*>{"readyReplicas", "currentReplicas", "updatedReplicas",
                                     "availableReplicas"}
          : std::vector<const char*>{"updatedReplicas", "availableReplicas", "readyReplicas"};
  for (auto k : bounded)
    if (const int64_t n = js::get_int(status, {k}, 0); n > replicas)
      out.push_back(field::invalid(std::string("status.") + k, std::to_string(n),
                                   "cannot be greater than status.replicas"));
  const int64_t available = js::get_int(status, {"availableReplicas"}, 0);
  if (available > js::get_int(status, {"readyReplicas"}, 0))
    out.push_back(field::invalid("status.availableReplicas", std::to_string(available),
                                 sts ? "cannot be greater than status.readyReplicas"
                                     : "cannot be greater than readyReplicas"));
  const Value* before = js::find_path(old, {"status", "collisionCount"});
  const Value* now = js::find(status, "collisionCount");
  if (before && before->IsInt64() &&
      (!now || !now->IsInt64() || now->GetInt64() < before->GetInt64()))
    out.push_back(field::invalid("status.collisionCount",
                                 std::to_string(now && now->IsInt64() ? now->GetInt64() : 0),
                                 "cannot be decremented"));
  return out;
}

}  // namespace kubesim::builtin
