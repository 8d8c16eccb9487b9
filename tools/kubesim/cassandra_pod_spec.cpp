#include "tools/kubesim/cassandra_pod_spec.h"

#include <algorithm>
#include <cmath>
#include <string_view>

namespace kubesim {
namespace js = k8s::json;

namespace {

const js::Value* cassandra_container(const js::Value& pod) {
  const auto* list = js::find_path(pod, {"spec", "containers"});
  if (!list || !list->IsArray()) return nullptr;
  for (const auto& c : list->GetArray())
    if (c.IsObject() && js::get_string(c, "name") == "cassandra") return &c;
  return nullptr;
}

// A fieldRef's value (the kubelet's podFieldSelectorRuntimeValue and the downward API).
std::string field_value(const js::Value& pod, std::string_view path, const std::string& pod_ip) {
  if (path == "status.podIP") return pod_ip;
  if (path == "metadata.name") return std::string(js::get_string(pod, {"metadata", "name"}));
  if (path == "metadata.namespace")
    return std::string(js::get_string(pod, {"metadata", "namespace"}));
  if (path == "spec.nodeName") return std::string(js::get_string(pod, {"spec", "nodeName"}));
  for (std::string_view kind : {"labels", "annotations"}) {
    std::string prefix = "metadata." + std::string(kind) + "['";
    if (path.substr(0, prefix.size()) == prefix && path.size() > prefix.size() + 2 &&
        path.substr(path.size() - 2) == "']") {
      auto key = path.substr(prefix.size(), path.size() - prefix.size() - 2);
      return std::string(js::get_string(pod, {"metadata", kind, key}));
    }
  }
  return "";
}

void add_env(std::map<std::string, std::string>& env, const js::Value& container,
             const js::Value& pod, const std::string& pod_ip, const secret_lookup& secrets) {
  const auto* list = js::find(container, "env");
  if (!list || !list->IsArray()) return;
  for (const auto& e : list->GetArray()) {
    std::string name(js::get_string(e, "name"));
    if (name.empty()) continue;
    if (const auto* from = js::find(e, "valueFrom")) {
      if (const auto* f = js::find(*from, "fieldRef"))
        env[name] = field_value(pod, js::get_string(*f, "fieldPath"), pod_ip);
      else if (const auto* s = js::find(*from, "secretKeyRef"); s && secrets)
        env[name] =
            secrets(std::string(js::get_string(*s, "name")), std::string(js::get_string(*s, "key")))
                .value_or("");
    } else {
      env[name] = std::string(js::get_string(e, "value"));
    }
  }
}

bool ends_with(std::string_view s, std::string_view tail) {
  return s.size() >= tail.size() && s.substr(s.size() - tail.size()) == tail;
}

std::string trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return std::string(s);
}

}  // namespace

bool runs_cassandra(const js::Value& pod) {
  return cassandra_container(pod) != nullptr;
}

std::map<std::string, std::string> cassandra_env(const js::Value& pod, const std::string& pod_ip,
                                                 const secret_lookup& secrets) {
  std::map<std::string, std::string> env;
  for (std::string_view key : {"initContainers", "containers"}) {
    const auto* list = js::find_path(pod, {"spec", key});
    if (!list || !list->IsArray()) continue;
    for (const auto& c : list->GetArray())
      if (js::get_string(c, "name") != "cassandra") add_env(env, c, pod, pod_ip, secrets);
  }
  if (const auto* c = cassandra_container(pod)) add_env(env, *c, pod, pod_ip, secrets);
  return env;
}

std::string cassandra_image_version(const js::Value& pod) {
  const auto* c = cassandra_container(pod);
  if (!c) return "";
  std::string_view image = js::get_string(*c, "image");
  image = image.substr(0, image.find('@'));
  auto slash = image.rfind('/');
  auto colon = image.rfind(':');
  if (colon == std::string_view::npos || (slash != std::string_view::npos && colon < slash))
    return "";
  auto tag = image.substr(colon + 1);
  tag = tag.substr(0, tag.find('-'));
  if (tag.empty() || tag[0] < '0' || tag[0] > '9') return "";
  return std::string(tag);
}

int cassandra_num_tokens(const std::string& config_file_data) {
  if (config_file_data.empty()) return 0;
  try {
    auto d = js::parse(config_file_data);
    const js::Value* v = js::find_path(d, {"cassandra-yaml", "num_tokens"});
    int64_t n = 0;
    if (v && v->IsInt64())
      n = v->GetInt64();
    else if (v && v->IsString())
      n = std::stoll(std::string(js::view(*v)));
    return n > 0 && n <= 1536 ? static_cast<int>(n) : 0;  // 1536: 3.11's MAX_NUM_TOKENS
  } catch (const std::exception&) {
    return 0;
  }
}

namespace {
probe_timing timing_of(const js::Value& pod, std::string_view key) {
  probe_timing t;
  const auto* c = cassandra_container(pod);
  const auto* p = c ? js::find(*c, key) : nullptr;
  if (!p || !p->IsObject()) return t;
  t.defined = true;
  auto seconds = [&](std::string_view key, int fallback_ms) {
    int64_t s = js::get_int(*p, {key}, -1);
    return s < 0 ? fallback_ms : static_cast<int>(s * 1000);
  };
  t.initial_delay_ms = seconds("initialDelaySeconds", 0);
  t.period_ms = std::max(1000, seconds("periodSeconds", 10000));
  t.timeout_ms = std::max(1000, seconds("timeoutSeconds", 1000));
  t.success_threshold = std::max<int>(1, js::get_int(*p, {"successThreshold"}, 1));
  t.failure_threshold = std::max<int>(1, js::get_int(*p, {"failureThreshold"}, 3));
  return t;
}
}  // namespace

probe_timing cassandra_readiness_timing(const js::Value& pod) {
  return timing_of(pod, "readinessProbe");
}

probe_timing cassandra_liveness_timing(const js::Value& pod) {
  return timing_of(pod, "livenessProbe");
}

probe_timing scaled(probe_timing t, double factor) {
  auto scale = [factor](int ms) { return static_cast<int>(std::llround(ms * factor)); };
  t.initial_delay_ms = std::max(0, scale(t.initial_delay_ms));
  t.period_ms = std::max(1, scale(t.period_ms));
  return t;
}

std::string data_claim(const js::Value& pod) {
  const auto* list = js::find_path(pod, {"spec", "volumes"});
  if (!list || !list->IsArray()) return "";
  std::string first;
  for (const auto& v : list->GetArray()) {
    auto claim = js::get_string(v, {"persistentVolumeClaim", "claimName"});
    if (claim.empty()) continue;
    if (js::get_string(v, "name") == "data") return std::string(claim);
    if (first.empty()) first = claim;
  }
  return first;
}

pod_dns dns_of(const js::Value& pod) {
  pod_dns d;
  d.ns = js::get_string(pod, {"metadata", "namespace"});
  d.hostname = js::get_string(pod, {"spec", "hostname"});
  if (d.hostname.empty()) d.hostname = js::get_string(pod, {"metadata", "name"});
  d.subdomain = js::get_string(pod, {"spec", "subdomain"});
  return d;
}

std::vector<std::string> cluster_dns_names(const pod_dns& d) {
  if (d.subdomain.empty()) return {d.hostname};
  std::string base = d.hostname + "." + d.subdomain;
  return {base + "." + d.ns + ".svc.cluster.local", base + "." + d.ns + ".svc", base + "." + d.ns,
          base};
}

bool cluster_name_matches(const std::string& name, const std::string& from_ns, const pod_dns& d) {
  if (d.subdomain.empty()) return false;
  std::string n = ends_with(name, ".") ? name.substr(0, name.size() - 1) : name;
  for (const auto& candidate : cluster_dns_names(d))
    if (n == candidate) return candidate != d.hostname + "." + d.subdomain || from_ns == d.ns;
  return false;
}

std::vector<std::string> external_dns_zones(const js::Value& service) {
  std::vector<std::string> zones;
  std::string_view all = js::get_string(
      service, {"metadata", "annotations", "external-dns.alpha.kubernetes.io/hostname"});
  while (!all.empty()) {
    auto comma = all.find(',');
    std::string zone = trim(all.substr(0, comma));
    if (ends_with(zone, ".")) zone.pop_back();
    if (!zone.empty()) zones.push_back(zone);
    if (comma == std::string_view::npos) break;
    all.remove_prefix(comma + 1);
  }
  return zones;
}

}  // namespace kubesim
