#include "actors/casskop/config.h"

#include <cctype>
#include <fstream>
#include <set>

namespace casskop {
namespace {

void validate(const casskop_config& c, const runtime::config_reader& r) {
  if (c.namespace_name.empty()) r.fail("namespace is required (the namespace casskop watches)");
  runtime::validate_host_config(c, r);
  // casskop works in its own cluster only (multi-casskop spans regions).
  if (c.clusters.size() != 1)
    r.fail("clusters must list exactly one cluster (the one casskop works in), not " +
           std::to_string(c.clusters.size()));
}

}  // namespace

casskop_config parse_config(const std::string& yaml, const std::string& origin) {
  runtime::config_reader r(origin);
  const YAML::Node root = r.root(yaml);
  std::set<std::string> keys = runtime::host_config_keys();
  keys.insert("jolokia");
  r.only(root, "config", keys);
  casskop_config c;
  c.origin = origin;
  // leaderElection.goCasskopLock is casskop's own key: read it, then let the host read the rest.
  // (Looked up through a const node: a non-const operator[] would add the key.)
  if (const YAML::Node le = root["leaderElection"]; le && le.IsMap() && le["goCasskopLock"]) {
    c.go_casskop_lock = r.flag(le, "goCasskopLock", "leaderElection");
    YAML::Node(le).remove("goCasskopLock");
  }
  if (const YAML::Node j = root["jolokia"]; j) {
    if (!j.IsMap()) r.fail("jolokia must be a mapping");
    r.only(j, "jolokia",
           {"timeoutSeconds", "execTimeoutSeconds", "restPollSeconds", "busyPollSeconds",
            "decommissionResendSeconds"});
    auto& s = c.jolokia;
    s.timeout_ms = r.number(j, "timeoutSeconds", "jolokia", s.timeout_ms / 1000, 1) * 1000;
    s.exec_timeout_ms =
        r.number(j, "execTimeoutSeconds", "jolokia", s.exec_timeout_ms / 1000, 1) * 1000;
    s.rest_poll_ms = r.number(j, "restPollSeconds", "jolokia", s.rest_poll_ms / 1000, 1) * 1000;
    s.busy_poll_ms = r.number(j, "busyPollSeconds", "jolokia", s.busy_poll_ms / 1000, 1) * 1000;
    s.decommission_resend_ms =
        r.number(j, "decommissionResendSeconds", "jolokia", s.decommission_resend_ms / 1000, 1) *
        1000;
    YAML::Node(root).remove("jolokia");
  }
  runtime::parse_host_config(root, r, c);
  validate(c, r);
  if (c.go_casskop_lock) {
    c.life_lock_name = go_casskop_lock;
    c.life_lock_namespace = c.namespace_name;
  }
  return c;
}

void set_pod_name(casskop_config& c, const std::function<const char*(const char*)>& getenv) {
  const char* pod = getenv("POD_NAME");
  c.pod_name = pod ? pod : "";
  c.life_lock_pod = c.pod_name;
}

casskop_config load_config_file(const std::string& path) {
  return parse_config(runtime::read_config_file(path), "config " + path);
}

casskop_config from_environment(const std::function<const char*(const char*)>& getenv,
                                const std::string& namespace_file) {
  runtime::config_reader r("environment");
  casskop_config c;
  c.origin = "environment";
  auto env = [&](const char* k) -> std::string {
    const char* v = getenv(k);
    return v ? v : "";
  };
  c.namespace_name = env("WATCH_NAMESPACE");
  if (c.namespace_name.empty()) r.fail("WATCH_NAMESPACE must be set (or give --config FILE)");
  set_pod_name(c, getenv);
  // The Go CassKop's lock, as leader.Become takes it: no Lease in this mode.
  c.life_lock_name = go_casskop_lock;
  c.life_lock_namespace = c.namespace_name;
  if (std::ifstream f(namespace_file); f) {
    std::string ns;
    std::getline(f, ns);
    while (!ns.empty() && std::isspace(static_cast<unsigned char>(ns.back()))) ns.pop_back();
    if (!ns.empty()) c.life_lock_namespace = ns;
  }
  c.operator_name = env("OPERATOR_NAME");
  if (!env("LOG_LEVEL").empty()) {
    std::string l = env("LOG_LEVEL");  // the original's chart says "Debug"
    for (auto& ch : l) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    c.log_level = l;
  }
  if (env("LOG_TYPE") == "json") c.log_format = "json";
  // The original chart probes /healthz and /readyz on port 8081 (controller-runtime's default).
  c.admin_address = env("ADMIN_ADDRESS").empty() ? "0.0.0.0:8081" : env("ADMIN_ADDRESS");
  runtime::cluster_source local;
  local.name = "local";
  if (!env("KUBECONFIG").empty())
    local.kubeconfig = env("KUBECONFIG");
  else if (!env("KUBERNETES_SERVICE_HOST").empty())
    local.in_cluster = true;
  else if (!env("HOME").empty())
    local.kubeconfig = env("HOME") + "/.kube/config";
  else
    r.fail("no cluster: set KUBECONFIG, or run in a pod (KUBERNETES_SERVICE_HOST)");
  c.clusters.push_back(std::move(local));
  validate(c, r);
  return c;
}

std::string config_json(const casskop_config& c) {
  namespace js = k8s::json;
  js::Document d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  runtime::add_host_config_json(c, d);
  d.AddMember("podName", js::string_value(c.pod_name, a), a);
  d.AddMember("operatorName", js::string_value(c.operator_name, a), a);
  d.AddMember("goCasskopLock", c.go_casskop_lock, a);
  js::Value j(rapidjson::kObjectType);
  j.AddMember("timeoutSeconds", c.jolokia.timeout_ms / 1000, a);
  j.AddMember("execTimeoutSeconds", c.jolokia.exec_timeout_ms / 1000, a);
  j.AddMember("restPollSeconds", c.jolokia.rest_poll_ms / 1000, a);
  j.AddMember("busyPollSeconds", c.jolokia.busy_poll_ms / 1000, a);
  j.AddMember("decommissionResendSeconds", c.jolokia.decommission_resend_ms / 1000, a);
  d.AddMember("jolokia", j, a);
  d.AddMember(
      "lock",
      js::string_value(
          c.life_lock_name.empty() ? "" : c.life_lock_namespace + "/" + c.life_lock_name, a),
      a);
  return js::to_string(d);
}

}  // namespace casskop
