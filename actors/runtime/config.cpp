#include "actors/runtime/config.h"

#include <fstream>
#include <regex>
#include <sstream>

namespace runtime {
namespace js = k8s::json;

std::string cluster_source::describe() const {
  if (in_cluster) return "in-cluster service account";
  if (!secret_dir.empty()) return "service-account folder " + secret_dir;
  return "kubeconfig " + kubeconfig + (context.empty() ? "" : " (context " + context + ")");
}

bool cluster_source::operator==(const cluster_source& o) const {
  return name == o.name && kubeconfig == o.kubeconfig && context == o.context &&
         secret_dir == o.secret_dir && in_cluster == o.in_cluster;
}

void config_reader::fail(const std::string& msg) const {
  throw config_invalid(origin_ + ": " + msg);
}

void config_reader::only(const YAML::Node& map, const std::string& where,
                         const std::set<std::string>& allowed) const {
  for (const auto& kv : map) {
    auto key = kv.first.Scalar();
    if (!allowed.count(key)) {
      std::string list;
      for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
      fail(where + ": unknown field \"" + key + "\" (known: " + list + ")");
    }
  }
}

std::string config_reader::str(const YAML::Node& map, const char* key, const std::string& where,
                               const std::string& fallback) const {
  const YAML::Node n = map[key];
  if (!n) return fallback;
  if (!n.IsScalar()) fail(where + "." + key + " must be a string");
  return n.Scalar();
}

bool config_reader::flag(const YAML::Node& map, const char* key, const std::string& where) const {
  const YAML::Node n = map[key];
  if (!n) return false;
  try {
    return n.as<bool>();
  } catch (const YAML::Exception&) {
    fail(where + "." + key + " must be true or false");
  }
}

int64_t config_reader::number(const YAML::Node& map, const char* key, const std::string& where,
                              int64_t fallback, int64_t min) const {
  const YAML::Node n = map[key];
  if (!n) return fallback;
  int64_t v;
  try {
    v = n.as<int64_t>();
  } catch (const YAML::Exception&) {
    fail(where + "." + key + " must be a whole number");
  }
  if (v < min) fail(where + "." + key + " must be at least " + std::to_string(min));
  return v;
}

YAML::Node config_reader::root(const std::string& yaml) const {
  YAML::Node root;
  try {
    root = YAML::Load(yaml);
  } catch (const YAML::Exception& e) {
    fail(std::string("not valid YAML: ") + e.what());
  }
  if (!root.IsMap()) fail("must be a YAML mapping");
  return root;
}

namespace {

bool dns_label(const std::string& s) {
  static const std::regex re("[a-z0-9]([-a-z0-9]*[a-z0-9])?");
  return !s.empty() && s.size() <= 63 && std::regex_match(s, re);
}

}  // namespace

const std::set<std::string>& host_config_keys() {
  static const std::set<std::string> keys = {"namespace", "clusters", "log", "admin",
                                             "leaderElection"};
  return keys;
}

void parse_host_config(const YAML::Node& root, const config_reader& r, host_config& c) {
  c.namespace_name = r.str(root, "namespace", "config");
  const YAML::Node clusters = root["clusters"];
  if (clusters && !clusters.IsSequence()) r.fail("clusters must be a list");
  if (clusters) {
    for (size_t i = 0; i < clusters.size(); ++i) {
      const YAML::Node n = clusters[i];
      std::string where = "clusters[" + std::to_string(i) + "]";
      if (!n.IsMap()) r.fail(where + " must be a mapping");
      r.only(n, where, {"name", "kubeconfig", "context", "secretDir", "inCluster"});
      cluster_source s;
      s.name = r.str(n, "name", where);
      s.kubeconfig = r.str(n, "kubeconfig", where);
      s.context = r.str(n, "context", where);
      s.secret_dir = r.str(n, "secretDir", where);
      s.in_cluster = r.flag(n, "inCluster", where);
      int sources = !s.kubeconfig.empty() + !s.secret_dir.empty() + s.in_cluster;
      if (sources != 1)
        r.fail(where + " (" + s.name +
               ") needs exactly one of kubeconfig, secretDir, inCluster: true");
      if (!s.context.empty() && s.kubeconfig.empty()) r.fail(where + ".context needs kubeconfig");
      c.clusters.push_back(std::move(s));
    }
  }
  if (const YAML::Node log = root["log"]) {
    if (!log.IsMap()) r.fail("log must be a mapping");
    r.only(log, "log", {"level", "format"});
    c.log_level = r.str(log, "level", "log", c.log_level);
    c.log_format = r.str(log, "format", "log", c.log_format);
  }
  if (const YAML::Node ad = root["admin"]) {
    if (!ad.IsMap()) r.fail("admin must be a mapping");
    r.only(ad, "admin", {"address", "tokenFile"});
    c.admin_address = r.str(ad, "address", "admin", c.admin_address);
    c.admin_token_file = r.str(ad, "tokenFile", "admin");
  }
  if (const YAML::Node le = root["leaderElection"]) {
    if (!le.IsMap()) r.fail("leaderElection must be a mapping");
    r.only(le, "leaderElection",
           {"enabled", "leaseName", "leaseDurationSeconds", "renewDeadlineSeconds",
            "retryPeriodSeconds"});
    c.leader_election = r.flag(le, "enabled", "leaderElection");
    c.lease_name = r.str(le, "leaseName", "leaderElection", c.lease_name);
    c.lease_duration_ms = r.number(le, "leaseDurationSeconds", "leaderElection", 15, 1) * 1000;
    c.renew_deadline_ms = r.number(le, "renewDeadlineSeconds", "leaderElection", 10, 1) * 1000;
    c.retry_period_ms = r.number(le, "retryPeriodSeconds", "leaderElection", 2, 1) * 1000;
    if (!(c.lease_duration_ms > c.renew_deadline_ms &&
          c.renew_deadline_ms * 10 > c.retry_period_ms * 12))
      r.fail(
          "leaderElection: need leaseDurationSeconds > renewDeadlineSeconds > 1.2 x "
          "retryPeriodSeconds");
  }
}

void validate_host_config(const host_config& c, const config_reader& r) {
  if (c.namespace_name.empty())
    r.fail("namespace is required (the namespace the operator watches)");
  if (c.clusters.empty())
    r.fail("clusters must list at least one cluster (the first is the local one)");
  std::set<std::string> names;
  for (const auto& cl : c.clusters) {
    if (!dns_label(cl.name))
      r.fail("cluster name \"" + cl.name +
             "\" must be a DNS label (lower case letters, digits, '-')");
    if (!names.insert(cl.name).second) r.fail("cluster \"" + cl.name + "\" is listed twice");
  }
  if (c.log_format != "logfmt" && c.log_format != "json")
    r.fail("log.format must be logfmt or json, not \"" + c.log_format + "\"");
  static const std::set<std::string> levels = {"debug", "info", "warning", "warn", "error"};
  if (!levels.count(c.log_level)) r.fail("log.level must be debug, info, warning or error");
}

std::string read_config_file(const std::string& path) {
  std::ifstream f(path);
  if (!f) throw config_invalid("config " + path + ": cannot read the file");
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

void add_host_config_json(const host_config& c, js::Document& d) {
  auto& a = d.GetAllocator();
  auto str = [&](std::string_view v) { return js::string_value(v, a); };
  d.AddMember("origin", str(c.origin), a);
  d.AddMember("namespace", str(c.namespace_name), a);
  js::Value clusters(rapidjson::kArrayType);
  for (const auto& s : c.clusters) {
    js::Value e(rapidjson::kObjectType);
    e.AddMember("name", str(s.name), a);
    e.AddMember("source", str(s.describe()), a);
    clusters.PushBack(e, a);
  }
  d.AddMember("clusters", clusters, a);
  d.AddMember("logLevel", str(c.log_level), a);
  d.AddMember("logFormat", str(c.log_format), a);
  d.AddMember("adminAddress", str(c.admin_address), a);
  d.AddMember("adminTokenFile", str(c.admin_token_file.empty() ? "" : "(set, redacted)"), a);
  d.AddMember("leaderElection", c.leader_election, a);
  d.AddMember("leaseName", str(c.lease_name), a);
}

k8s::connection_settings connect_settings(const cluster_source& s) {
  if (s.in_cluster) return k8s::load_in_cluster();
  if (!s.secret_dir.empty()) return k8s::load_service_account_folder(s.secret_dir);
  return k8s::load_kubeconfig(s.kubeconfig, s.context);
}

}  // namespace runtime
