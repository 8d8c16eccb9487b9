#include "actors/config.h"

#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include <yaml-cpp/yaml.h>

#include "k8s/json/json.h"

namespace mc {

std::string cluster_source::describe() const {
  if (in_cluster) return "in-cluster service account";
  if (!secret_dir.empty()) return "service-account folder " + secret_dir;
  return "kubeconfig " + kubeconfig + (context.empty() ? "" : " (context " + context + ")");
}

bool cluster_source::operator==(const cluster_source& o) const {
  return name == o.name && kubeconfig == o.kubeconfig && context == o.context &&
         secret_dir == o.secret_dir && in_cluster == o.in_cluster;
}

namespace {

bool dns_label(const std::string& s) {
  static const std::regex re("[a-z0-9]([-a-z0-9]*[a-z0-9])?");
  return !s.empty() && s.size() <= 63 && std::regex_match(s, re);
}

class reader {
 public:
  explicit reader(std::string origin) : origin_(std::move(origin)) {}
  [[noreturn]] void fail(const std::string& msg) const { throw config_invalid(origin_ + ": " + msg); }

  void only(const YAML::Node& map, const std::string& where, std::set<std::string> allowed) const {
    for (const auto& kv : map) {
      auto key = kv.first.Scalar();
      if (!allowed.count(key)) {
        std::string list;
        for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
        fail(where + ": unknown field \"" + key + "\" (known: " + list + ")");
      }
    }
  }
  std::string str(const YAML::Node& map, const char* key, const std::string& where,
                  const std::string& fallback = "") const {
    const YAML::Node n = map[key];
    if (!n) return fallback;
    if (!n.IsScalar()) fail(where + "." + key + " must be a string");
    return n.Scalar();
  }
  bool flag(const YAML::Node& map, const char* key, const std::string& where) const {
    const YAML::Node n = map[key];
    if (!n) return false;
    try {
      return n.as<bool>();
    } catch (const YAML::Exception&) {
      fail(where + "." + key + " must be true or false");
    }
  }
  int64_t number(const YAML::Node& map, const char* key, const std::string& where, int64_t fallback,
                 int64_t min) const {
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

 private:
  std::string origin_;
};

void validate(const operator_config& c, const reader& r) {
  if (c.namespace_name.empty()) r.fail("namespace is required (the namespace multi-casskop watches)");
  if (c.clusters.empty()) r.fail("clusters must list at least one cluster (the first is the local one)");
  std::set<std::string> names;
  for (const auto& cl : c.clusters) {
    if (!dns_label(cl.name))
      r.fail("cluster name \"" + cl.name + "\" must be a DNS label (lower case letters, digits, '-')");
    if (!names.insert(cl.name).second) r.fail("cluster \"" + cl.name + "\" is listed twice");
  }
  if (c.log_format != "logfmt" && c.log_format != "json")
    r.fail("log.format must be logfmt or json, not \"" + c.log_format + "\"");
  static const std::set<std::string> levels = {"debug", "info", "warning", "warn", "error"};
  if (!levels.count(c.log_level)) r.fail("log.level must be debug, info, warning or error");
}

}  // namespace

operator_config parse_config(const std::string& yaml, const std::string& origin) {
  reader r(origin);
  YAML::Node root;
  try {
    root = YAML::Load(yaml);
  } catch (const YAML::Exception& e) {
    r.fail(std::string("not valid YAML: ") + e.what());
  }
  if (!root.IsMap()) r.fail("must be a YAML mapping");
  r.only(root, "config",
         {"namespace", "clusters", "log", "journal", "readiness", "deletion", "admin",
          "leaderElection", "limits"});
  operator_config c;
  c.origin = origin;
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
        r.fail(where + " (" + s.name + ") needs exactly one of kubeconfig, secretDir, inCluster: true");
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
  if (const YAML::Node j = root["journal"]) {
    if (!j.IsMap()) r.fail("journal must be a mapping");
    r.only(j, "journal", {"maxEventsPerMultiCasskop", "file", "maxFileMegabytes", "maxFiles"});
    c.journal_limit = static_cast<size_t>(r.number(j, "maxEventsPerMultiCasskop", "journal", 32, 1));
    c.journal_file = r.str(j, "file", "journal");
    c.journal_max_file_mib = r.number(j, "maxFileMegabytes", "journal", c.journal_max_file_mib, 1);
    c.journal_max_files =
        static_cast<int>(r.number(j, "maxFiles", "journal", c.journal_max_files, 1));
  }
  if (const YAML::Node d = root["deletion"]) {
    if (!d.IsMap()) r.fail("deletion must be a mapping");
    r.only(d, "deletion", {"startGraceSeconds"});
    c.deletion_start_grace_ms = r.number(d, "startGraceSeconds", "deletion", 60, 0) * 1000;
  }
  if (const YAML::Node l = root["limits"]) {
    if (!l.IsMap()) r.fail("limits must be a mapping");
    r.only(l, "limits", {"maxMultiCasskopSpecKilobytes"});
    c.max_multicasskop_spec_bytes = r.number(l, "maxMultiCasskopSpecKilobytes", "limits",
                                             c.max_multicasskop_spec_bytes / 1024, 1) *
                                    1024;
  }
  if (const YAML::Node rd = root["readiness"]) {
    if (!rd.IsMap()) r.fail("readiness must be a mapping");
    r.only(rd, "readiness", {"legacySettleSeconds"});
    c.legacy_settle_ms = r.number(rd, "legacySettleSeconds", "readiness", 60, 0) * 1000;
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
           {"enabled", "leaseName", "leaseDurationSeconds", "renewDeadlineSeconds", "retryPeriodSeconds"});
    c.leader_election = r.flag(le, "enabled", "leaderElection");
    c.lease_name = r.str(le, "leaseName", "leaderElection", c.lease_name);
    c.lease_duration_ms = r.number(le, "leaseDurationSeconds", "leaderElection", 15, 1) * 1000;
    c.renew_deadline_ms = r.number(le, "renewDeadlineSeconds", "leaderElection", 10, 1) * 1000;
    c.retry_period_ms = r.number(le, "retryPeriodSeconds", "leaderElection", 2, 1) * 1000;
    if (!(c.lease_duration_ms > c.renew_deadline_ms && c.renew_deadline_ms * 10 > c.retry_period_ms * 12))
      r.fail("leaderElection: need leaseDurationSeconds > renewDeadlineSeconds > 1.2 x retryPeriodSeconds");
  }
  validate(c, r);
  return c;
}

operator_config load_config_file(const std::string& path) {
  std::ifstream f(path);
  if (!f) throw config_invalid("config " + path + ": cannot read the file");
  std::stringstream ss;
  ss << f.rdbuf();
  return parse_config(ss.str(), "config " + path);
}

operator_config from_legacy_flags(const std::string& local, const std::vector<std::string>& remotes,
                                  const std::function<const char*(const char*)>& getenv,
                                  const std::string& admiralty_dir) {
  reader r("command line");
  operator_config c;
  c.origin = "command line";
  auto env = [&](const char* k) -> std::string {
    const char* v = getenv(k);
    return v ? v : "";
  };
  c.namespace_name = env("WATCH_NAMESPACE");
  if (!env("LOG_LEVEL").empty()) {
    std::string l = env("LOG_LEVEL");
    for (auto& ch : l) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    c.log_level = l;
  }
  if (env("LOG_TYPE") == "json") c.log_format = "json";
  if (!env("ADMIN_ADDRESS").empty()) c.admin_address = env("ADMIN_ADDRESS");
  if (local.empty()) r.fail("-l/--local NAME is required with the original flags");
  if (c.namespace_name.empty()) r.fail("WATCH_NAMESPACE must be set with the original flags");
  std::string kubeconfig = env("KUBECONFIG");
  if (kubeconfig.empty() && !env("HOME").empty()) kubeconfig = env("HOME") + "/.kube/config";
  cluster_source l;
  l.name = local;
  if (!env("KUBERNETES_SERVICE_HOST").empty())
    l.in_cluster = true;
  else
    l.kubeconfig = kubeconfig;
  c.clusters.push_back(l);
  for (const auto& name : remotes) {
    cluster_source s;
    s.name = name;
    std::string imported = admiralty_dir + "/" + name + "/config";
    if (std::filesystem::exists(imported)) {
      s.secret_dir = admiralty_dir + "/" + name;
    } else {
      s.kubeconfig = kubeconfig;
      s.context = name;
    }
    c.clusters.push_back(std::move(s));
  }
  validate(c, r);
  return c;
}

std::string config_json(const operator_config& c) {
  namespace js = k8s::json;
  js::Document d(rapidjson::kObjectType);
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
  d.AddMember("journalLimit", js::Value(static_cast<uint64_t>(c.journal_limit)), a);
  d.AddMember("journalFile", str(c.journal_file), a);
  d.AddMember("journalMaxFileMegabytes", js::Value(static_cast<int64_t>(c.journal_max_file_mib)),
              a);
  d.AddMember("journalMaxFiles", c.journal_max_files, a);
  d.AddMember("maxMultiCasskopSpecKilobytes",
              js::Value(static_cast<int64_t>(c.max_multicasskop_spec_bytes / 1024)), a);
  d.AddMember("legacySettleSeconds", js::Value(static_cast<int64_t>(c.legacy_settle_ms / 1000)), a);
  d.AddMember("deletionStartGraceSeconds",
              js::Value(static_cast<int64_t>(c.deletion_start_grace_ms / 1000)), a);
  d.AddMember("adminAddress", str(c.admin_address), a);
  d.AddMember("adminTokenFile", str(c.admin_token_file.empty() ? "" : "(set, redacted)"), a);
  d.AddMember("leaderElection", c.leader_election, a);
  d.AddMember("leaseName", str(c.lease_name), a);
  return js::to_string(d);
}

k8s::connection_settings connect_settings(const cluster_source& s) {
  if (s.in_cluster) return k8s::load_in_cluster();
  if (!s.secret_dir.empty()) return k8s::load_service_account_folder(s.secret_dir);
  return k8s::load_kubeconfig(s.kubeconfig, s.context);
}

}  // namespace mc
