#include "actors/multicasskop/config.h"

#include <filesystem>
#include <set>

namespace mc {
namespace {

void validate(const operator_config& c, const runtime::config_reader& r) {
  if (c.namespace_name.empty())
    r.fail("namespace is required (the namespace multi-casskop watches)");
  runtime::validate_host_config(c, r);
}

}  // namespace

operator_config parse_config(const std::string& yaml, const std::string& origin) {
  runtime::config_reader r(origin);
  const YAML::Node root = r.root(yaml);
  std::set<std::string> keys = runtime::host_config_keys();
  keys.insert({"journal", "readiness", "deletion", "limits"});
  r.only(root, "config", keys);
  operator_config c;
  c.origin = origin;
  runtime::parse_host_config(root, r, c);
  if (const YAML::Node j = root["journal"]) {
    if (!j.IsMap()) r.fail("journal must be a mapping");
    r.only(j, "journal", {"maxEventsPerMultiCasskop", "file", "maxFileMegabytes", "maxFiles"});
    c.journal_limit =
        static_cast<size_t>(r.number(j, "maxEventsPerMultiCasskop", "journal", 16, 1));
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
  validate(c, r);
  return c;
}

operator_config load_config_file(const std::string& path) {
  return parse_config(runtime::read_config_file(path), "config " + path);
}

operator_config from_legacy_flags(const std::string& local, const std::vector<std::string>& remotes,
                                  const std::function<const char*(const char*)>& getenv,
                                  const std::string& admiralty_dir) {
  runtime::config_reader r("command line");
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
  runtime::add_host_config_json(c, d);
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
  return js::to_string(d);
}

}  // namespace mc
