// Reading a CassandraCluster as CassKop v2.1.0 does (json.Unmarshal into api/v2's types, then
// CheckDefaults), and writing it back as its json.Marshal would (field order of the Go structs,
// omitempty). Line numbers cite api/v2/cassandracluster_types.go at v2.1.0-release.
#include "actors/casskop/logic/cluster_spec.h"

#include <cstdio>

#include <algorithm>
#include <cctype>
#include <limits>
#include <regex>

#include "actors/casskop/logic/quantity.h"

namespace casskop {
namespace js = k8s::json;

json_value::json_value() = default;
json_value::json_value(const json_value& other) {
  doc.CopyFrom(other.doc, doc.GetAllocator());
}
json_value& json_value::operator=(const json_value& other) {
  if (this != &other) {
    js::Document d;
    d.CopyFrom(other.doc, d.GetAllocator());
    doc = std::move(d);
  }
  return *this;
}
bool json_value::operator==(const json_value& other) const {
  return doc == other.doc;
}

namespace {

js::Value quantity_text(const js::Value& q, js::Allocator& a) {
  // A YAML number is a Quantity too; Go writes it as a string.
  if (q.IsInt64()) return js::string_value(std::to_string(q.GetInt64()), a);
  if (q.IsNumber()) {
    char buf[40];
    std::snprintf(buf, sizeof buf, "%.17g", q.GetDouble());
    return js::string_value(buf, a);
  }
  return js::Value(q, a);
}

// v1.ResourceRequirements in Go's form: limits, then requests (struct order), each a
// ResourceList (a map: keys sorted) of Quantities as strings; other keys kept after them.
js::Value resources_value(const json_value& v, js::Allocator& a) {
  js::Value out(rapidjson::kObjectType);
  if (!v.present() || !v.doc.IsObject()) return out;
  for (const char* key : {"limits", "requests"}) {
    const js::Value* list = js::find(v.doc, key);
    if (!list || list->IsNull()) continue;
    if (!list->IsObject()) {
      out.AddMember(js::string_value(key, a), js::Value(*list, a), a);
      continue;
    }
    std::map<std::string, const js::Value*> sorted;
    for (const auto& m : list->GetObject()) sorted[std::string(js::view(m.name))] = &m.value;
    js::Value l(rapidjson::kObjectType);
    for (const auto& [name, q] : sorted)
      l.AddMember(js::string_value(name, a), quantity_text(*q, a), a);
    if (!l.ObjectEmpty()) out.AddMember(js::string_value(key, a), std::move(l), a);
  }
  for (const auto& m : v.doc.GetObject())
    if (js::view(m.name) != "limits" && js::view(m.name) != "requests")
      out.AddMember(js::Value(m.name, a), js::Value(m.value, a), a);
  return out;
}

json_value normalized_resources(const json_value& v) {
  json_value out;
  if (!v.present()) return out;
  js::Value n = resources_value(v, out.doc.GetAllocator());
  static_cast<js::Value&>(out.doc).Swap(n);
  return out;
}

// CheckDefaults' values (types.go:13-29) and the CRD's (cassandraclusters-crd.yaml, v2).
constexpr const char* default_cassandra_image = "cassandra:3.11.10";
constexpr const char* default_bootstrap_image = "orangeopensource/cassandra-bootstrap:0.1.9";
constexpr const char* default_config_builder_image = "datastax/cass-config-builder:1.0.4";
constexpr const char* default_backrest_image = "gcr.io/cassandra-operator/instaclustr-icarus:1.1.0";
constexpr const char* default_service_account = "cassandra-cluster-node";
constexpr const char* default_image_pull_policy = "Always";
constexpr const char* default_server_type = "cassandra";  // CRD default and enum cassandra;dse
constexpr int64_t default_run_as_user = 999;              // CRD default, minimum 1
constexpr int64_t default_fs_group = 1;                   // CRD default, minimum 1

// Typed reads of one JSON object that record a spec_problem (with the field's path) for a value
// of the wrong type and fall back. JSON null counts as absent, as in Go.
class reader {
 public:
  explicit reader(std::vector<spec_problem>& problems) : problems_(problems) {}

  // Go's json.Unmarshal prefers an exact key and else takes a key equal but for case: the
  // sample cc-local.yaml writes "imagePullPolicy" for v2's "imagepullpolicy", and v2.1.0 honours
  // it.
  const js::Value* field(const js::Value& obj, const char* key) const {
    const js::Value* v = js::find(obj, key);
    if (!v && obj.IsObject()) {
      const std::string_view want(key);
      for (const auto& m : obj.GetObject()) {
        const std::string_view name = js::view(m.name);
        if (name.size() == want.size() &&
            std::equal(name.begin(), name.end(), want.begin(), [](char a, char b) {
              return std::tolower(static_cast<unsigned char>(a)) ==
                     std::tolower(static_cast<unsigned char>(b));
            })) {
          v = &m.value;
          break;
        }
      }
    }
    return v && !v->IsNull() ? v : nullptr;
  }
  void problem(const std::string& path, const std::string& message) {
    problems_.push_back({path, message});
  }

  std::optional<std::string> str(const js::Value& obj, const char* key, const std::string& path) {
    const js::Value* v = field(obj, key);
    if (!v) return std::nullopt;
    if (!v->IsString()) {
      problem(path + "." + key, "must be a string");
      return std::nullopt;
    }
    return std::string(js::view(*v));
  }
  std::string str_or(const js::Value& obj, const char* key, const std::string& path,
                     const std::string& fallback = {}) {
    return str(obj, key, path).value_or(fallback);
  }

  std::optional<int64_t> integer(const js::Value& obj, const char* key, const std::string& path,
                                 int64_t min, int64_t max) {
    const js::Value* v = field(obj, key);
    if (!v) return std::nullopt;
    if (!v->IsInt64()) {
      problem(path + "." + key, "must be an integer");
      return std::nullopt;
    }
    const int64_t n = v->GetInt64();
    if (n < min || n > max) {
      problem(path + "." + key, "must be between " + std::to_string(min) + " and " +
                                    std::to_string(max) + " (is " + std::to_string(n) + ")");
      return std::nullopt;
    }
    return n;
  }
  std::optional<int32_t> int32(const js::Value& obj, const char* key, const std::string& path) {
    auto n = integer(obj, key, path, std::numeric_limits<int32_t>::min(),
                     std::numeric_limits<int32_t>::max());
    if (!n) return std::nullopt;
    return static_cast<int32_t>(*n);
  }

  std::optional<bool> boolean(const js::Value& obj, const char* key, const std::string& path) {
    const js::Value* v = field(obj, key);
    if (!v) return std::nullopt;
    if (!v->IsBool()) {
      problem(path + "." + key, "must be true or false");
      return std::nullopt;
    }
    return v->GetBool();
  }

  std::map<std::string, std::string> string_map(const js::Value& obj, const char* key,
                                                const std::string& path) {
    std::map<std::string, std::string> out;
    const js::Value* v = field(obj, key);
    if (!v) return out;
    if (!v->IsObject()) {
      problem(path + "." + key, "must be a map of strings");
      return out;
    }
    for (const auto& m : v->GetObject()) {
      if (!m.value.IsString()) {
        problem(path + "." + key + "." + std::string(js::view(m.name)), "must be a string");
        continue;
      }
      out[std::string(js::view(m.name))] = std::string(js::view(m.value));
    }
    return out;
  }

  // A sub-object kept as JSON; `kind` is "object" or "array" (checked), or "" for anything.
  json_value raw(const js::Value& obj, const char* key, const std::string& path,
                 const char* kind = "") {
    json_value out;
    const js::Value* v = field(obj, key);
    if (!v) return out;
    const std::string k = kind;
    if ((k == "object" && !v->IsObject()) || (k == "array" && !v->IsArray())) {
      problem(path + "." + key, "must be an " + k);
      return out;
    }
    out.doc.CopyFrom(*v, out.doc.GetAllocator());
    return out;
  }

  const js::Value* array(const js::Value& obj, const char* key, const std::string& path) {
    const js::Value* v = field(obj, key);
    if (!v) return nullptr;
    if (!v->IsArray()) {
      problem(path + "." + key, "must be a list");
      return nullptr;
    }
    return v;
  }
  const js::Value* object(const js::Value& obj, const char* key, const std::string& path) {
    const js::Value* v = field(obj, key);
    if (!v) return nullptr;
    if (!v->IsObject()) {
      problem(path + "." + key, "must be an object");
      return nullptr;
    }
    return v;
  }

 private:
  std::vector<spec_problem>& problems_;
};

std::string indexed(const std::string& path, const char* key, size_t i) {
  return path + "." + key + "[" + std::to_string(i) + "]";
}

// The CRD's pattern ^[^-]+$ for DC and rack names (types.go:847, 877).
void check_name_pattern(reader& r, const std::string& name, const std::string& path,
                        const char* what) {
  if (name.empty())
    r.problem(path, std::string("a ") + what + " needs a name");
  else if (name.find('-') != std::string::npos)
    r.problem(path, std::string("a ") + what + " name must not contain '-' (is \"" + name + "\")");
}

// The CRD's pattern for dataCapacity (types.go:738, 865): a server refuses anything else, but an
// object stored before the CRD had it would make every PersistentVolumeClaim fail.
void check_capacity(reader& r, const std::string& capacity, const std::string& path) {
  static const std::regex pattern("^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$");
  if (!capacity.empty() && !std::regex_match(capacity, pattern))
    r.problem(path, "\"" + capacity + "\" is not a quantity (e.g. 10Gi)");
}

rack_spec parse_rack(reader& r, const js::Value& v, const std::string& path) {
  rack_spec rack;
  if (!v.IsObject()) {
    r.problem(path, "must be an object");
    return rack;
  }
  rack.name = r.str_or(v, "name", path);
  rack.labels = r.string_map(v, "labels", path);
  rack.config = r.raw(v, "config", path);
  rack.rolling_restart = r.boolean(v, "rollingRestart", path).value_or(false);
  rack.rolling_partition = r.int32(v, "rollingPartition", path).value_or(0);
  return rack;
}

dc_spec parse_dc(reader& r, const js::Value& v, const std::string& path) {
  dc_spec dc;
  if (!v.IsObject()) {
    r.problem(path, "must be an object");
    return dc;
  }
  dc.name = r.str_or(v, "name", path);
  dc.labels = r.string_map(v, "labels", path);
  dc.config = r.raw(v, "config", path);
  dc.nodes_per_racks = r.int32(v, "nodesPerRacks", path);
  if (dc.nodes_per_racks && *dc.nodes_per_racks < 0)
    r.problem(path + ".nodesPerRacks",
              "must not be negative (is " + std::to_string(*dc.nodes_per_racks) + ")");
  dc.data_capacity = r.str_or(v, "dataCapacity", path);
  check_capacity(r, dc.data_capacity, path + ".dataCapacity");
  dc.data_storage_class = r.str_or(v, "dataStorageClass", path);
  dc.resources = normalized_resources(r.raw(v, "resources", path, "object"));
  if (const js::Value* racks = r.array(v, "rack", path)) {
    for (rapidjson::SizeType i = 0; i < racks->Size(); ++i)
      dc.racks.push_back(parse_rack(r, (*racks)[i], indexed(path, "rack", i)));
  }
  return dc;
}

probe_settings parse_probe(reader& r, const js::Value& spec, const std::string& path,
                           const char* prefix, int32_t initial_delay, int32_t timeout,
                           int32_t period) {
  // CheckDefaults, types.go:126-146: the three timings default, the thresholds stay unset.
  const std::string p = prefix;
  probe_settings s;
  s.initial_delay_seconds =
      r.int32(spec, (p + "InitialDelaySeconds").c_str(), path).value_or(initial_delay);
  s.timeout_seconds = r.int32(spec, (p + "HealthCheckTimeout").c_str(), path).value_or(timeout);
  s.period_seconds = r.int32(spec, (p + "HealthCheckPeriod").c_str(), path).value_or(period);
  s.failure_threshold = r.int32(spec, (p + "FailureThreshold").c_str(), path);
  s.success_threshold = r.int32(spec, (p + "SuccessThreshold").c_str(), path);
  return s;
}

void check_topology(reader& r, const cluster_spec& spec) {
  std::map<std::string, size_t> dc_seen;
  for (size_t d = 0; d < spec.dcs.size(); ++d) {
    const dc_spec& dc = spec.dcs[d];
    const std::string dc_path = indexed("spec.topology", "dc", d);
    check_name_pattern(r, dc.name, dc_path + ".name", "DC");
    if (auto [it, fresh] = dc_seen.emplace(dc.name, d); !fresh && !dc.name.empty())
      r.problem(dc_path + ".name", "DC \"" + dc.name + "\" is already declared at " +
                                       indexed("spec.topology", "dc", it->second));
    std::map<std::string, size_t> rack_seen;
    for (size_t k = 0; k < dc.racks.size(); ++k) {
      const rack_spec& rack = dc.racks[k];
      const std::string rack_path = indexed(dc_path, "rack", k);
      check_name_pattern(r, rack.name, rack_path + ".name", "rack");
      if (auto [it, fresh] = rack_seen.emplace(rack.name, k); !fresh && !rack.name.empty())
        r.problem(rack_path + ".name", "rack \"" + rack.name + "\" is already declared at " +
                                           indexed(dc_path, "rack", it->second));
    }
  }
  // GetDCRackName (types.go:257): "<dc>-<rack>" names the StatefulSet and Services, so it must be
  // a DNS-1035 label; v2.1.0 fails the reconcile on it (reconcile.go:450), we say so up front.
  for (const dc_rack& dr : racks_of(spec)) {
    if (dr.dc.empty() || dr.rack.empty() || dr.dc.find('-') != std::string::npos ||
        dr.rack.find('-') != std::string::npos)
      continue;  // already reported above
    if (!is_dns1035_label(dr.name())) {
      const std::string path = dr.dc_index < spec.dcs.size()
                                   ? indexed("spec.topology", "dc", dr.dc_index)
                                   : "spec.topology";
      r.problem(path, "\"" + dr.name() +
                          "\" (DC-rack) is not a valid DNS-1035 label: lower case letters, digits "
                          "and '-', starting with a letter and ending with a letter or digit");
    }
  }
}

}  // namespace

bool is_dns1035_label(const std::string& name) {
  // ^[a-z]([-a-z0-9]*[a-z0-9])?$, by hand: it runs for every dc-rack of every parse.
  auto lower = [](char c) { return c >= 'a' && c <= 'z'; };
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  if (name.empty() || !lower(name.front())) return false;
  if (!lower(name.back()) && !digit(name.back())) return false;
  for (char c : name)
    if (!lower(c) && !digit(c) && c != '-') return false;
  return true;
}

cluster_spec parse_spec(const js::Value& v, std::vector<spec_problem>& problems) {
  reader r(problems);
  cluster_spec s;
  const std::string path = "spec";
  if (!v.IsObject()) {
    if (!v.IsNull()) r.problem(path, "must be an object");
    s.backrest = backrest_sidecar{default_backrest_image, "", {}, {}};
    s.cassandra_image = default_cassandra_image;
    s.image_pull_policy = default_image_pull_policy;
    s.bootstrap_image = default_bootstrap_image;
    s.config_builder_image = default_config_builder_image;
    s.service_account_name = default_service_account;
    s.server_type = default_server_type;
    s.liveness = {120, 20, 10, std::nullopt, std::nullopt};
    s.readiness = {60, 10, 10, std::nullopt, std::nullopt};
    return s;
  }
  // nodesPerRacks: SetDefaults (types.go:161) makes an absent value 1; an explicit 0 is kept so
  // that CheckNonAllowedChanges can refuse it (reconcile.go:135).
  s.nodes_per_racks = r.int32(v, "nodesPerRacks", path).value_or(1);
  if (s.nodes_per_racks < 0)
    r.problem("spec.nodesPerRacks",
              "must not be negative (is " + std::to_string(s.nodes_per_racks) + ")");
  // CheckDefaults, types.go:102-120.
  s.cassandra_image = r.str_or(v, "cassandraImage", path);
  if (s.cassandra_image.empty()) s.cassandra_image = default_cassandra_image;
  s.image_pull_policy = r.str_or(v, "imagepullpolicy", path);
  if (s.image_pull_policy.empty()) s.image_pull_policy = default_image_pull_policy;
  s.bootstrap_image = r.str_or(v, "bootstrapImage", path);
  if (s.bootstrap_image.empty()) s.bootstrap_image = default_bootstrap_image;
  s.config_builder_image = r.str_or(v, "configBuilderImage", path);
  if (s.config_builder_image.empty()) s.config_builder_image = default_config_builder_image;
  s.service_account_name = r.str_or(v, "serviceAccountName", path);
  if (s.service_account_name.empty()) s.service_account_name = default_service_account;
  // CRD defaults and minimums (runAsUser 999, fsGroup 1, both >= 1): a server applies them before
  // we read, but an object stored before the CRD had them has none.
  s.run_as_user = r.integer(v, "runAsUser", path, 1, std::numeric_limits<int64_t>::max())
                      .value_or(default_run_as_user);
  s.fs_group = r.integer(v, "fsGroup", path, 1, std::numeric_limits<int64_t>::max())
                   .value_or(default_fs_group);
  // types.go:122: readOnlyRootFilesystem defaults to true.
  s.read_only_root_filesystem = r.boolean(v, "readOnlyRootFilesystem", path).value_or(true);
  s.resources = r.raw(v, "resources", path, "object");
  // SetDefaults (types.go:179): limits default to the requests.
  if (s.resources.present() && !r.field(s.resources.doc, "limits")) {
    if (const js::Value* req = r.field(s.resources.doc, "requests")) {
      js::Value copy(*req, s.resources.doc.GetAllocator());
      js::set_member(s.resources.doc, "limits", std::move(copy), s.resources.doc.GetAllocator());
    }
  }
  s.resources = normalized_resources(s.resources);
  s.hard_anti_affinity = r.boolean(v, "hardAntiAffinity", path).value_or(false);
  if (const js::Value* pod = r.object(v, "pod", path)) {
    s.pod_annotations = r.string_map(*pod, "annotations", "spec.pod");
    s.pod_tolerations = r.raw(*pod, "tolerations", "spec.pod", "array");
  }
  if (const js::Value* svc = r.object(v, "service", path))
    s.service_annotations = r.string_map(*svc, "annotations", "spec.service");
  s.delete_pvc = r.boolean(v, "deletePVC", path).value_or(false);
  s.debug = r.boolean(v, "debug", path).value_or(false);
  s.auto_pilot = r.boolean(v, "autoPilot", path).value_or(false);
  s.no_check_sts_are_equal = r.boolean(v, "noCheckStsAreEqual", path).value_or(false);
  s.auto_update_seed_list = r.boolean(v, "autoUpdateSeedList", path).value_or(false);
  // SetDefaults (types.go:175): maxPodUnavailable 0 means 1.
  s.max_pod_unavailable = r.int32(v, "maxPodUnavailable", path).value_or(0);
  if (s.max_pod_unavailable < 0)
    r.problem("spec.maxPodUnavailable",
              "must not be negative (is " + std::to_string(s.max_pod_unavailable) + ")");
  if (s.max_pod_unavailable <= 0) s.max_pod_unavailable = 1;
  s.restart_count_before_pod_deletion =
      r.int32(v, "restartCountBeforePodDeletion", path).value_or(0);
  s.unlock_next_operation = r.boolean(v, "unlockNextOperation", path).value_or(false);
  s.data_capacity = r.str_or(v, "dataCapacity", path);
  check_capacity(r, s.data_capacity, "spec.dataCapacity");
  s.data_storage_class = r.str_or(v, "dataStorageClass", path);
  if (const js::Value* list = r.array(v, "storageConfigs", path)) {
    for (rapidjson::SizeType i = 0; i < list->Size(); ++i) {
      const js::Value& e = (*list)[i];
      const std::string p = indexed(path, "storageConfigs", i);
      if (!e.IsObject()) {
        r.problem(p, "must be an object");
        continue;
      }
      storage_config sc;
      sc.mount_path = r.str_or(e, "mountPath", p);
      sc.name = r.str_or(e, "name", p);
      sc.pvc_spec = r.raw(e, "pvcSpec", p, "object");
      if (sc.name.empty()) r.problem(p + ".name", "a storage config needs a name");
      s.storage_configs.push_back(std::move(sc));
    }
  }
  s.sidecar_configs = r.raw(v, "sidecarConfigs", path, "array");
  s.config_map_name = r.str_or(v, "configMapName", path);
  s.server_version = r.str_or(v, "serverVersion", path);
  s.server_type = r.str_or(v, "serverType", path, default_server_type);
  if (s.server_type.empty()) s.server_type = default_server_type;
  if (s.server_type != "cassandra" && s.server_type != "dse")
    r.problem("spec.serverType", "must be cassandra or dse (is \"" + s.server_type + "\")");
  s.config = r.raw(v, "config", path);
  if (const js::Value* ips = r.object(v, "imagePullSecret", path))
    s.image_pull_secret = r.str_or(*ips, "name", "spec.imagePullSecret");
  if (const js::Value* js_ = r.object(v, "imageJolokiaSecret", path))
    s.image_jolokia_secret = r.str_or(*js_, "name", "spec.imageJolokiaSecret");
  if (const js::Value* topo = r.object(v, "topology", path)) {
    if (const js::Value* dcs = r.array(*topo, "dc", "spec.topology")) {
      for (rapidjson::SizeType i = 0; i < dcs->Size(); ++i)
        s.dcs.push_back(parse_dc(r, (*dcs)[i], indexed("spec.topology", "dc", i)));
    }
  }
  s.liveness = parse_probe(r, v, path, "liveness", 120, 20, 10);
  s.readiness = parse_probe(r, v, path, "readiness", 60, 10, 10);
  s.share_process_namespace = r.boolean(v, "shareProcessNamespace", path);
  // types.go:149-153: a backRestSidecar always exists after CheckDefaults, with a default image.
  backrest_sidecar b;
  if (const js::Value* br = r.object(v, "backRestSidecar", path)) {
    const std::string p = "spec.backRestSidecar";
    b.image = r.str_or(*br, "image", p);
    b.image_pull_policy = r.str_or(*br, "imagePullPolicy", p);
    b.resources = normalized_resources(r.raw(*br, "resources", p, "object"));
    b.volume_mounts = r.raw(*br, "volumeMount", p, "array");
  }
  if (b.image.empty()) b.image = default_backrest_image;
  s.backrest = std::move(b);
  check_topology(r, s);
  return s;
}

namespace {

std::vector<std::string> string_list(const js::Value& obj, const char* key) {
  std::vector<std::string> out;
  const js::Value* v = js::find(obj, key);
  if (v && v->IsArray())
    for (const auto& e : v->GetArray())
      if (e.IsString()) out.emplace_back(js::view(e));
  return out;
}

std::string text(const js::Value& obj, const char* key) {
  return std::string(js::get_string(obj, key));
}

// The status is the operator's own writing: read leniently, a wrong type is taken as absent.
cluster_status parse_status(const js::Value& v) {
  cluster_status st;
  if (!v.IsObject()) return st;
  st.phase = text(v, "phase");
  st.last_cluster_action = text(v, "lastClusterAction");
  st.last_cluster_action_status = text(v, "lastClusterActionStatus");
  st.seedlist = string_list(v, "seedlist");
  if (const js::Value* nodes = js::find(v, "cassandraNodeStatus"); nodes && nodes->IsObject())
    for (const auto& m : nodes->GetObject())
      if (m.value.IsObject())
        st.nodes[std::string(js::view(m.name))] = {text(m.value, "hostId"),
                                                   text(m.value, "nodeIp")};
  if (const js::Value* racks = js::find(v, "cassandraRackStatus"); racks && racks->IsObject()) {
    for (const auto& m : racks->GetObject()) {
      if (!m.value.IsObject()) continue;
      rack_status rs;
      rs.phase = text(m.value, "phase");
      if (const js::Value* la = js::find(m.value, "cassandraLastAction"); la && la->IsObject()) {
        rs.cassandra_last_action = {text(*la, "name"), text(*la, "status"), text(*la, "startTime"),
                                    text(*la, "endTime"), string_list(*la, "updatedNodes")};
      }
      if (const js::Value* po = js::find(m.value, "podLastOperation"); po && po->IsObject()) {
        rs.pod_last_op.name = text(*po, "name");
        rs.pod_last_op.status = text(*po, "status");
        rs.pod_last_op.start_time = text(*po, "startTime");
        rs.pod_last_op.end_time = text(*po, "endTime");
        rs.pod_last_op.operator_name = text(*po, "operatorName");
        rs.pod_last_op.pods = string_list(*po, "pods");
        rs.pod_last_op.pods_ok = string_list(*po, "podsOK");
        rs.pod_last_op.pods_ko = string_list(*po, "podsKO");
      }
      st.racks[std::string(js::view(m.name))] = std::move(rs);
    }
  }
  return st;
}

}  // namespace

parsed_cluster parse_cluster(const js::Value& object) {
  parsed_cluster out;
  if (!object.IsObject()) {
    out.problems.push_back({"", "a CassandraCluster must be a JSON object"});
    return out;
  }
  out.name = std::string(js::get_string(object, {"metadata", "name"}));
  out.namespace_ = std::string(js::get_string(object, {"metadata", "namespace"}));
  out.uid = std::string(js::get_string(object, {"metadata", "uid"}));
  out.generation = js::get_int(object, {"metadata", "generation"}, 0);
  if (const js::Value* labels = js::find_path(object, {"metadata", "labels"});
      labels && labels->IsObject())
    for (const auto& m : labels->GetObject())
      if (m.value.IsString())
        out.labels[std::string(js::view(m.name))] = std::string(js::view(m.value));
  if (const js::Value* st = js::find(object, "status")) out.status = parse_status(*st);
  static const js::Value null_value;
  const js::Value* spec = js::find(object, "spec");
  out.spec = parse_spec(spec ? *spec : null_value, out.problems);
  // SetDefaults runs on the first pass only (cassandracluster_controller.go:91, types.go:161):
  // then an explicit nodesPerRacks 0 becomes 1 too.
  if (out.status.phase.empty() && out.spec.nodes_per_racks == 0) out.spec.nodes_per_racks = 1;
  return out;
}

// ---- writing, as encoding/json marshals api/v2's structs ----

namespace {

class writer {
 public:
  explicit writer(js::Document& d) : a_(d.GetAllocator()) {}
  js::Allocator& alloc() { return a_; }

  void str(js::Value& obj, const char* key, const std::string& s) {  // omitempty string
    if (!s.empty()) add(obj, key, js::string_value(s, a_));
  }
  void integer(js::Value& obj, const char* key, int64_t n) {  // omitempty integer
    if (n != 0) add(obj, key, js::Value(n));
  }
  void flag(js::Value& obj, const char* key, bool b) {  // omitempty bool
    if (b) add(obj, key, js::Value(b));
  }
  void raw(js::Value& obj, const char* key, const json_value& v) {  // omitempty raw/slice/map
    if (!v.present()) return;
    if ((v.doc.IsArray() && v.doc.Empty()) || (v.doc.IsObject() && v.doc.ObjectEmpty())) {
      // Go: an empty slice or map is omitted; json.RawMessage "{}" is not (it has length 2).
      if (v.doc.IsArray() || std::string(key) != "config") return;
    }
    add(obj, key, js::Value(v.doc, a_));
  }
  void map(js::Value& obj, const char* key, const std::map<std::string, std::string>& m) {
    if (m.empty()) return;
    js::Value out(rapidjson::kObjectType);
    for (const auto& [k, val] : m)
      out.AddMember(js::string_value(k, a_), js::string_value(val, a_), a_);
    add(obj, key, std::move(out));
  }
  void strings(js::Value& obj, const char* key, const std::vector<std::string>& list) {
    if (list.empty()) return;
    js::Value out(rapidjson::kArrayType);
    for (const auto& s : list) out.PushBack(js::string_value(s, a_), a_);
    add(obj, key, std::move(out));
  }
  void add(js::Value& obj, const char* key, js::Value v) {
    obj.AddMember(js::string_value(key, a_), std::move(v), a_);
  }

 private:
  js::Allocator& a_;
};

js::Value local_object_reference(writer& w, const std::string& name) {
  js::Value ref(rapidjson::kObjectType);
  w.str(ref, "name", name);
  return ref;
}

}  // namespace

js::Document spec_to_json(const cluster_spec& s) {
  js::Document d;
  d.SetObject();
  writer w(d);
  js::Value& o = d;
  // Field order of CassandraClusterSpec (types.go:666-822).
  w.integer(o, "nodesPerRacks", s.nodes_per_racks);
  w.str(o, "cassandraImage", s.cassandra_image);
  w.str(o, "imagepullpolicy", s.image_pull_policy);
  w.str(o, "bootstrapImage", s.bootstrap_image);
  w.str(o, "configBuilderImage", s.config_builder_image);
  w.integer(o, "runAsUser", s.run_as_user);
  w.integer(o, "fsGroup", s.fs_group);
  w.add(o, "readOnlyRootFilesystem", js::Value(s.read_only_root_filesystem));  // *bool, set
  w.add(o, "resources", resources_value(s.resources, w.alloc()));  // a struct: always written
  w.flag(o, "hardAntiAffinity", s.hard_anti_affinity);
  if (!s.pod_annotations.empty() ||
      (s.pod_tolerations.present() && !s.pod_tolerations.doc.Empty())) {
    js::Value pod(rapidjson::kObjectType);
    w.map(pod, "annotations", s.pod_annotations);
    w.raw(pod, "tolerations", s.pod_tolerations);
    w.add(o, "pod", std::move(pod));
  }
  if (!s.service_annotations.empty()) {
    js::Value svc(rapidjson::kObjectType);
    w.map(svc, "annotations", s.service_annotations);
    w.add(o, "service", std::move(svc));
  }
  w.flag(o, "deletePVC", s.delete_pvc);
  w.flag(o, "debug", s.debug);
  w.flag(o, "autoPilot", s.auto_pilot);
  w.flag(o, "noCheckStsAreEqual", s.no_check_sts_are_equal);
  w.flag(o, "autoUpdateSeedList", s.auto_update_seed_list);
  w.integer(o, "maxPodUnavailable", s.max_pod_unavailable);
  w.integer(o, "restartCountBeforePodDeletion", s.restart_count_before_pod_deletion);
  w.flag(o, "unlockNextOperation", s.unlock_next_operation);
  w.str(o, "dataCapacity", s.data_capacity);
  w.str(o, "dataStorageClass", s.data_storage_class);
  if (!s.storage_configs.empty()) {
    js::Value list(rapidjson::kArrayType);
    for (const auto& sc : s.storage_configs) {
      js::Value e(rapidjson::kObjectType);
      w.add(e, "mountPath", js::string_value(sc.mount_path, w.alloc()));  // not omitempty
      w.add(e, "name", js::string_value(sc.name, w.alloc()));
      w.add(e, "pvcSpec",
            sc.pvc_spec.present() ? js::Value(sc.pvc_spec.doc, w.alloc()) : js::Value());
      list.PushBack(std::move(e), w.alloc());
    }
    w.add(o, "storageConfigs", std::move(list));
  }
  w.raw(o, "sidecarConfigs", s.sidecar_configs);
  w.str(o, "configMapName", s.config_map_name);
  w.str(o, "serverVersion", s.server_version);
  w.str(o, "serverType", s.server_type);
  w.raw(o, "config", s.config);
  w.add(o, "imagePullSecret", local_object_reference(w, s.image_pull_secret));
  w.add(o, "imageJolokiaSecret", local_object_reference(w, s.image_jolokia_secret));
  js::Value topology(rapidjson::kObjectType);
  if (!s.dcs.empty()) {
    js::Value dcs(rapidjson::kArrayType);
    for (const auto& dc : s.dcs) {
      // Field order of DC (types.go:845-872).
      js::Value e(rapidjson::kObjectType);
      w.str(e, "name", dc.name);
      w.map(e, "labels", dc.labels);
      w.raw(e, "config", dc.config);
      if (!dc.racks.empty()) {
        js::Value racks(rapidjson::kArrayType);
        for (const auto& rack : dc.racks) {
          js::Value re(rapidjson::kObjectType);  // Rack, types.go:875-892
          w.str(re, "name", rack.name);
          w.map(re, "labels", rack.labels);
          w.raw(re, "config", rack.config);
          w.flag(re, "rollingRestart", rack.rolling_restart);
          w.integer(re, "rollingPartition", rack.rolling_partition);
          racks.PushBack(std::move(re), w.alloc());
        }
        w.add(e, "rack", std::move(racks));
      }
      if (dc.nodes_per_racks) w.add(e, "nodesPerRacks", js::Value(*dc.nodes_per_racks));
      w.str(e, "dataCapacity", dc.data_capacity);
      w.str(e, "dataStorageClass", dc.data_storage_class);
      w.add(e, "resources", resources_value(dc.resources, w.alloc()));
      dcs.PushBack(std::move(e), w.alloc());
    }
    w.add(topology, "dc", std::move(dcs));
  }
  w.add(o, "topology", std::move(topology));
  auto probe = [&](const char* prefix, const probe_settings& p) {
    const std::string x = prefix;
    w.add(o, (x + "InitialDelaySeconds").c_str(), js::Value(p.initial_delay_seconds));
    w.add(o, (x + "HealthCheckTimeout").c_str(), js::Value(p.timeout_seconds));
    w.add(o, (x + "HealthCheckPeriod").c_str(), js::Value(p.period_seconds));
    if (p.failure_threshold)
      w.add(o, (x + "FailureThreshold").c_str(), js::Value(*p.failure_threshold));
    if (p.success_threshold)
      w.add(o, (x + "SuccessThreshold").c_str(), js::Value(*p.success_threshold));
  };
  probe("liveness", s.liveness);
  probe("readiness", s.readiness);
  if (s.share_process_namespace)
    w.add(o, "shareProcessNamespace", js::Value(*s.share_process_namespace));
  if (s.backrest) {
    js::Value b(rapidjson::kObjectType);
    w.str(b, "image", s.backrest->image);
    w.str(b, "imagePullPolicy", s.backrest->image_pull_policy);
    if (s.backrest->resources.present())  // a pointer there: written only when set
      w.add(b, "resources", resources_value(s.backrest->resources, w.alloc()));
    w.raw(b, "volumeMount", s.backrest->volume_mounts);
    w.add(o, "backRestSidecar", std::move(b));
  }
  w.str(o, "serviceAccountName", s.service_account_name);
  return d;
}

js::Document status_to_json(const cluster_status& st) {
  js::Document d;
  d.SetObject();
  writer w(d);
  js::Value& o = d;
  // CassandraClusterStatus, types.go:934-955.
  w.str(o, "phase", st.phase);
  w.str(o, "lastClusterAction", st.last_cluster_action);
  w.str(o, "lastClusterActionStatus", st.last_cluster_action_status);
  w.strings(o, "seedlist", st.seedlist);
  if (!st.nodes.empty()) {
    js::Value nodes(rapidjson::kObjectType);
    for (const auto& [pod, n] : st.nodes) {
      js::Value e(rapidjson::kObjectType);
      w.str(e, "hostId", n.host_id);
      w.str(e, "nodeIp", n.node_ip);
      w.add(nodes, pod.c_str(), std::move(e));
    }
    w.add(o, "cassandraNodeStatus", std::move(nodes));
  }
  if (!st.racks.empty()) {
    js::Value racks(rapidjson::kObjectType);
    for (const auto& [name, rs] : st.racks) {
      js::Value e(rapidjson::kObjectType);
      w.str(e, "phase", rs.phase);
      js::Value la(rapidjson::kObjectType);  // CassandraLastAction: a struct, always written
      w.str(la, "status", rs.cassandra_last_action.status);
      w.str(la, "name", rs.cassandra_last_action.name);
      w.str(la, "startTime", rs.cassandra_last_action.start_time);
      w.str(la, "endTime", rs.cassandra_last_action.end_time);
      w.strings(la, "updatedNodes", rs.cassandra_last_action.updated_nodes);
      w.add(e, "cassandraLastAction", std::move(la));
      js::Value po(rapidjson::kObjectType);  // PodLastOperation, idem
      w.str(po, "name", rs.pod_last_op.name);
      w.str(po, "status", rs.pod_last_op.status);
      w.str(po, "startTime", rs.pod_last_op.start_time);
      w.str(po, "endTime", rs.pod_last_op.end_time);
      w.strings(po, "pods", rs.pod_last_op.pods);
      w.strings(po, "podsOK", rs.pod_last_op.pods_ok);
      w.strings(po, "podsKO", rs.pod_last_op.pods_ko);
      w.str(po, "operatorName", rs.pod_last_op.operator_name);
      w.add(e, "podLastOperation", std::move(po));
      w.add(racks, name.c_str(), std::move(e));
    }
    w.add(o, "cassandraRackStatus", std::move(racks));
  }
  return d;
}

// ---- getters ----

int32_t nodes_per_racks_of(const cluster_spec& spec, const dc_spec& dc) {
  // getDCNodesPerRacksFromIndex, types.go:228-237.
  return dc.nodes_per_racks ? *dc.nodes_per_racks : spec.nodes_per_racks;
}

std::string data_capacity_of(const cluster_spec& spec, const dc_spec& dc) {
  // GetDataCapacityFromDCName, types.go:463-473.
  return dc.data_capacity.empty() ? spec.data_capacity : dc.data_capacity;
}

std::string data_storage_class_of(const cluster_spec& spec, const dc_spec& dc) {
  // GetDataStorageClassFromDCName, types.go:481-491, tests the DC's DataCapacity instead of its
  // DataStorageClass. Reproduced on purpose: v2.1.0's StatefulSets were generated with it
  // (generator.go:260) and a volumeClaimTemplate's storageClassName can never change, so a
  // takeover must compute the same class; fixing it would also make CheckNonAllowedChanges refuse
  // a spec v2.1.0 accepted. So a DC's dataStorageClass only counts when the DC sets dataCapacity.
  return dc.data_capacity.empty() ? spec.data_storage_class : dc.data_storage_class;
}

bool same_resources(const json_value& a, const json_value& b) {
  const json_value na = normalized_resources(a), nb = normalized_resources(b);
  if (na.present() != nb.present()) {
    // Absent and {} are the same struct for Go.
    const json_value& set = na.present() ? na : nb;
    return set.doc.IsObject() && set.doc.ObjectEmpty();
  }
  if (!na.present() || !na.doc.IsObject() || !nb.doc.IsObject()) return na == nb;
  if (na.doc.MemberCount() != nb.doc.MemberCount()) return false;
  for (const auto& m : na.doc.GetObject()) {
    const js::Value* other = js::find(nb.doc, js::view(m.name));
    if (!other) return false;
    const bool list = js::view(m.name) == "limits" || js::view(m.name) == "requests";
    if (!list || !m.value.IsObject() || !other->IsObject()) {
      if (m.value != *other) return false;
      continue;
    }
    if (m.value.MemberCount() != other->MemberCount()) return false;
    for (const auto& q : m.value.GetObject()) {
      const js::Value* oq = js::find(*other, js::view(q.name));
      if (!oq) return false;
      const auto x = quantity_nanos(js::view(q.value)), y = quantity_nanos(js::view(*oq));
      if (x && y ? *x != *y : q.value != *oq) return false;
    }
  }
  return true;
}

const dc_spec* find_dc(const cluster_spec& spec, const std::string& name) {
  for (const auto& dc : spec.dcs)
    if (dc.name == name) return &dc;
  return nullptr;
}

std::vector<dc_rack> racks_of(const cluster_spec& spec) {
  // InitCassandraRackList, types.go:422-455: no topology is dc1/rack1, a DC without racks has
  // rack1. v2.1.0 also rewrites the spec's whole topology to that one DC there (initTopology,
  // types.go:443), dropping every other DC; that is a bug we do not reproduce: the other DCs
  // keep their racks.
  std::vector<dc_rack> out;
  if (spec.dcs.empty()) {
    out.push_back({"dc1", "rack1", 0, 0});
    return out;
  }
  for (size_t d = 0; d < spec.dcs.size(); ++d) {
    const dc_spec& dc = spec.dcs[d];
    if (dc.racks.empty()) {
      out.push_back({dc.name, "rack1", d, 0});
      continue;
    }
    for (size_t r = 0; r < dc.racks.size(); ++r) out.push_back({dc.name, dc.racks[r].name, d, r});
  }
  return out;
}

}  // namespace casskop
