#include "tools/kubesim/casskop_original.h"

#include <algorithm>
#include <regex>
#include <set>

#include "k8s/base/timestamps.h"
#include "tools/kubesim/casskop_refusal.h"
#include "tools/kubesim/statefulset_logic.h"

namespace kubesim::casskop {
namespace js = k8s::json;

namespace {

constexpr const char* kInitializing = "Initializing";
constexpr const char* kRunning = "Running";
constexpr const char* kPending = "Pending";
constexpr const char* kDone = "Done";
constexpr const char* kOngoing = "Ongoing";
constexpr const char* kToDo = "ToDo";
constexpr const char* kFinalizing = "Finalizing";
constexpr const char* kContinue = "Continue";
constexpr const char* kConfiguring = "Configuring";
constexpr const char* kPvcFinalizer = "kubernetes.io/pvc-to-delete";

// ---- the object through CassKop's Go types ----------------------------------------------------

// How a field of a Go struct marshals: `omitempty` drops a zero scalar, an empty slice or map;
// a struct (not a pointer) is always written, `{}` at least; a pointer keeps its zero value.
enum class go_field { scalar, pointer, collection, structure };
using go_struct = std::vector<std::pair<const char*, go_field>>;

const go_struct& spec_fields() {
  using f = go_field;
  static const go_struct fields = {
      {"nodesPerRacks", f::scalar},
      {"cassandraImage", f::scalar},
      {"imagepullpolicy", f::scalar},
      {"bootstrapImage", f::scalar},
      {"configBuilderImage", f::scalar},
      {"runAsUser", f::scalar},
      {"fsGroup", f::scalar},
      {"readOnlyRootFilesystem", f::pointer},
      {"resources", f::structure},
      {"hardAntiAffinity", f::scalar},
      {"pod", f::pointer},
      {"service", f::pointer},
      {"deletePVC", f::scalar},
      {"debug", f::scalar},
      {"autoPilot", f::scalar},
      {"noCheckStsAreEqual", f::scalar},
      {"autoUpdateSeedList", f::scalar},
      {"maxPodUnavailable", f::scalar},
      {"restartCountBeforePodDeletion", f::scalar},
      {"unlockNextOperation", f::scalar},
      {"dataCapacity", f::scalar},
      {"dataStorageClass", f::scalar},
      {"storageConfigs", f::collection},
      {"sidecarConfigs", f::collection},
      {"configMapName", f::scalar},
      {"serverVersion", f::scalar},
      {"serverType", f::scalar},
      {"config", f::collection},
      {"imagePullSecret", f::structure},
      {"imageJolokiaSecret", f::structure},
      {"topology", f::structure},
      {"livenessInitialDelaySeconds", f::pointer},
      {"livenessHealthCheckTimeout", f::pointer},
      {"livenessHealthCheckPeriod", f::pointer},
      {"livenessFailureThreshold", f::pointer},
      {"livenessSuccessThreshold", f::pointer},
      {"readinessInitialDelaySeconds", f::pointer},
      {"readinessHealthCheckTimeout", f::pointer},
      {"readinessHealthCheckPeriod", f::pointer},
      {"readinessFailureThreshold", f::pointer},
      {"readinessSuccessThreshold", f::pointer},
      {"shareProcessNamespace", f::pointer},
      {"backRestSidecar", f::pointer},
      {"serviceAccountName", f::scalar},
  };
  return fields;
}

bool is_zero(const js::Value& v, go_field kind) {
  switch (kind) {
    case go_field::scalar:
      return v.IsNull() || (v.IsBool() && !v.GetBool()) || (v.IsNumber() && v.GetDouble() == 0) ||
             (v.IsString() && v.GetStringLength() == 0);
    case go_field::collection:
      return v.IsNull() || (v.IsArray() && v.Empty()) || (v.IsObject() && v.ObjectEmpty());
    case go_field::pointer:
      return v.IsNull();
    case go_field::structure:
      return false;
  }
  return false;
}

// Keeps the fields of `s` as Go marshals them; unknown members go.
void as_go_struct(js::Value& obj, const go_struct& s, js::Allocator& a) {
  if (!obj.IsObject()) obj.SetObject();
  js::Value out(rapidjson::kObjectType);
  for (const auto& [name, kind] : s) {
    js::Value* v = obj.HasMember(name) ? &obj[name] : nullptr;
    if (kind == go_field::structure && (!v || !v->IsObject())) {
      out.AddMember(js::string_value(name, a), js::Value(rapidjson::kObjectType), a);
      continue;
    }
    if (!v || is_zero(*v, kind)) continue;
    out.AddMember(js::string_value(name, a), js::Value(*v, a), a);
  }
  obj = std::move(out);
}

void as_go_resources(js::Value& r, js::Allocator& a) {
  as_go_struct(r, {{"limits", go_field::collection}, {"requests", go_field::collection}}, a);
}

// The object as CassKop v2.1.0 decodes and encodes it (api/v2 CassandraCluster).
void through_go_types(js::Document& cc) {
  auto& a = cc.GetAllocator();
  for (auto it = cc.MemberBegin(); it != cc.MemberEnd();) {
    auto k = js::view(it->name);
    it = k == "apiVersion" || k == "kind" || k == "metadata" || k == "spec" || k == "status"
             ? it + 1
             : cc.EraseMember(it);
  }
  auto& spec = js::ensure_object(cc, "spec", a);
  as_go_struct(spec, spec_fields(), a);
  as_go_resources(spec["resources"], a);
  for (const char* ref : {"imagePullSecret", "imageJolokiaSecret"})
    as_go_struct(spec[ref], {{"name", go_field::scalar}}, a);
  if (spec.HasMember("pod"))
    as_go_struct(spec["pod"],
                 {{"annotations", go_field::collection}, {"tolerations", go_field::collection}}, a);
  if (spec.HasMember("service"))
    as_go_struct(spec["service"], {{"annotations", go_field::collection}}, a);
  if (spec.HasMember("backRestSidecar"))
    as_go_struct(spec["backRestSidecar"],
                 {{"image", go_field::scalar},
                  {"imagePullPolicy", go_field::scalar},
                  {"resources", go_field::pointer},
                  {"volumeMount", go_field::collection}},
                 a);
  auto& topology = spec["topology"];
  as_go_struct(topology, {{"dc", go_field::collection}}, a);
  if (topology.HasMember("dc") && topology["dc"].IsArray())
    for (auto& dc : topology["dc"].GetArray()) {
      as_go_struct(dc,
                   {{"name", go_field::scalar},
                    {"labels", go_field::collection},
                    {"config", go_field::collection},
                    {"rack", go_field::collection},
                    {"nodesPerRacks", go_field::pointer},
                    {"dataCapacity", go_field::scalar},
                    {"dataStorageClass", go_field::scalar},
                    {"resources", go_field::structure}},
                   a);
      as_go_resources(dc["resources"], a);
      if (dc.HasMember("rack") && dc["rack"].IsArray())
        for (auto& rack : dc["rack"].GetArray())
          as_go_struct(rack,
                       {{"name", go_field::scalar},
                        {"labels", go_field::collection},
                        {"config", go_field::collection},
                        {"rollingRestart", go_field::scalar},
                        {"rollingPartition", go_field::scalar}},
                       a);
    }
  auto& status = js::ensure_object(cc, "status", a);
  as_go_struct(status,
               {{"phase", go_field::scalar},
                {"lastClusterAction", go_field::scalar},
                {"lastClusterActionStatus", go_field::scalar},
                {"seedlist", go_field::collection},
                {"cassandraNodeStatus", go_field::collection},
                {"cassandraRackStatus", go_field::collection}},
               a);
  if (status.HasMember("cassandraRackStatus") && status["cassandraRackStatus"].IsObject())
    for (auto& m : status["cassandraRackStatus"].GetObject()) {
      auto& rack = m.value;
      as_go_struct(rack,
                   {{"phase", go_field::scalar},
                    {"cassandraLastAction", go_field::structure},
                    {"podLastOperation", go_field::structure}},
                   a);
      as_go_struct(rack["cassandraLastAction"],
                   {{"status", go_field::scalar},
                    {"name", go_field::scalar},
                    {"startTime", go_field::pointer},
                    {"endTime", go_field::pointer},
                    {"updatedNodes", go_field::collection}},
                   a);
      as_go_struct(rack["podLastOperation"],
                   {{"name", go_field::scalar},
                    {"status", go_field::scalar},
                    {"startTime", go_field::pointer},
                    {"endTime", go_field::pointer},
                    {"pods", go_field::collection},
                    {"podsOK", go_field::collection},
                    {"podsKO", go_field::collection},
                    {"operatorName", go_field::scalar}},
                   a);
    }
}

// ---- reading and writing the object ---------------------------------------------------------

void set_int(js::Value& obj, std::string_view key, int64_t v, js::Allocator& a) {
  js::set_member(obj, key, js::Value(v), a);
}

std::vector<std::string> strings(const js::Value* v) {
  std::vector<std::string> out;
  if (v && v->IsArray())
    for (const auto& e : v->GetArray())
      if (e.IsString()) out.emplace_back(js::view(e));
  return out;
}

js::Value string_list(const std::vector<std::string>& list, js::Allocator& a) {
  js::Value out(rapidjson::kArrayType);
  for (const auto& s : list) out.PushBack(js::string_value(s, a), a);
  return out;
}

// A dc-rack of the spec's topology, in spec order (ReconcileRack's loop).
struct rack_ref {
  size_t dc = 0, rack = 0;
  std::string dc_name, rack_name, name;
};

js::Value* dcs_of(js::Document& cc) {
  js::Value* dcs = const_cast<js::Value*>(js::find_path(cc, {"spec", "topology", "dc"}));
  return dcs && dcs->IsArray() ? dcs : nullptr;
}

// GetDCRackName: "" when dc-rack is not a DNS-1035 label.
std::string dc_rack_name(const std::string& dc, const std::string& rack) {
  static const std::regex valid("^[a-z]([-a-z0-9]*[a-z0-9])?$");
  std::string name = dc + "-" + rack;
  return std::regex_match(name, valid) ? name : "";
}

std::vector<rack_ref> racks_of(js::Document& cc) {
  std::vector<rack_ref> out;
  js::Value* dcs = dcs_of(cc);
  if (!dcs) return out;
  for (rapidjson::SizeType d = 0; d < dcs->Size(); ++d) {
    const js::Value& dc = (*dcs)[d];
    const js::Value* racks = js::find(dc, "rack");
    if (!racks || !racks->IsArray()) continue;
    for (rapidjson::SizeType r = 0; r < racks->Size(); ++r) {
      rack_ref ref{d, r, std::string(js::get_string(dc, "name")),
                   std::string(js::get_string((*racks)[r], "name")), ""};
      ref.name = dc_rack_name(ref.dc_name, ref.rack_name);
      out.push_back(std::move(ref));
    }
  }
  return out;
}

int64_t spec_nodes(const js::Value& cc) {
  return js::get_int(cc, {"spec", "nodesPerRacks"}, 0);
}

// GetNodesPerRacks: the DC's own nodesPerRacks, else the cluster's.
int64_t nodes_per_rack(js::Document& cc, const rack_ref& r) {
  js::Value* dcs = dcs_of(cc);
  if (dcs && r.dc < dcs->Size()) {
    if (const js::Value* n =
            js::find((*dcs)[static_cast<rapidjson::SizeType>(r.dc)], "nodesPerRacks");
        n && n->IsInt64())
      return n->GetInt64();
  }
  return spec_nodes(cc);
}

// InitSeedList: at most 3 seeds per DC, <cc>-<dc>-<rack>-<i>.<cc>.<namespace>.
std::vector<std::string> init_seed_list(js::Document& cc) {
  const std::string name(js::get_string(cc, {"metadata", "name"}));
  const std::string ns(js::get_string(cc, {"metadata", "namespace"}));
  std::vector<std::string> out;
  auto add = [&](const std::string& dc, const std::string& rack, int64_t i) {
    out.push_back(name + "-" + dc_rack_name(dc, rack) + "-" + std::to_string(i) + "." + name + "." +
                  ns);
  };
  js::Value* dcs = dcs_of(cc);
  if (!dcs || dcs->Empty()) {
    for (int64_t i = 0; i < spec_nodes(cc) && i < 3; ++i) add("dc1", "rack1", i);
    return out;
  }
  for (rapidjson::SizeType d = 0; d < dcs->Size(); ++d) {
    const js::Value& dc = (*dcs)[d];
    std::string dc_name(js::get_string(dc, "name"));
    const js::Value* racks = js::find(dc, "rack");
    size_t rack_count = racks && racks->IsArray() ? racks->Size() : 0;
    if (rack_count == 0) {
      for (int64_t i = 0; i < spec_nodes(cc) && i < 3; ++i) add(dc_name, "rack1", i);
      continue;
    }
    int in_dc = 0;
    for (rapidjson::SizeType r = 0; r < rack_count; ++r) {
      std::string rack_name(js::get_string((*racks)[r], "name"));
      int64_t nodes = nodes_per_rack(cc, {d, r, dc_name, rack_name, ""});
      if (rack_count <= 2) {
        for (int64_t i = 0; i < nodes && i < int64_t(4 - rack_count) && in_dc < 3; ++i, ++in_dc)
          add(dc_name, rack_name, i);
      } else if (in_dc < 3) {
        add(dc_name, rack_name, 0);
        ++in_dc;
      }
    }
  }
  return out;
}

js::Value new_rack_status(js::Allocator& a) {
  js::Value action(rapidjson::kObjectType);
  action.AddMember("status", js::string_value(kOngoing, a), a);
  action.AddMember("name", js::string_value(kInitializing, a), a);
  js::Value rack(rapidjson::kObjectType);
  rack.AddMember("phase", js::string_value(kInitializing, a), a);
  rack.AddMember("cassandraLastAction", action, a);
  rack.AddMember("podLastOperation", js::Value(rapidjson::kObjectType), a);
  return rack;
}

// InitCassandraRackList: rack statuses from the topology, which it initialises when missing
// (a DC without racks replaces the whole topology by that DC and rack1: the original's bug).
void init_rack_list(js::Document& cc, js::Value& status) {
  auto& a = cc.GetAllocator();
  js::Value racks(rapidjson::kObjectType);
  auto one_dc_topology = [&](const std::string& dc) {
    auto doc = js::parse(R"({"dc":[{"name":"","rack":[{"name":"rack1"}]}]})");
    doc["dc"][0]["name"] = js::string_value(dc, doc.GetAllocator());
    js::set_member(js::ensure_object(cc, "spec", a), "topology", js::Value(doc, a), a);
  };
  js::Value* dcs = dcs_of(cc);
  if (!dcs || dcs->Empty()) {
    racks.AddMember("dc1-rack1", new_rack_status(a), a);
    one_dc_topology("dc1");
  } else {
    std::vector<std::pair<std::string, std::string>> names;
    std::string lone_dc;
    for (const auto& dc : dcs->GetArray()) {
      std::string dc_name(js::get_string(dc, "name"));
      const js::Value* rs = js::find(dc, "rack");
      if (!rs || !rs->IsArray() || rs->Empty()) {
        names.emplace_back(dc_name, "rack1");
        lone_dc = dc_name;
        continue;
      }
      for (const auto& r : rs->GetArray())
        names.emplace_back(dc_name, std::string(js::get_string(r, "name")));
    }
    for (const auto& [dc, rack] : names) {
      auto name = dc_rack_name(dc, rack);
      if (!js::find(racks, name)) racks.AddMember(js::string_value(name, a), new_rack_status(a), a);
    }
    if (!lone_dc.empty()) one_dc_topology(lone_dc);
  }
  js::set_member(status, "cassandraRackStatus", std::move(racks), a);
}

// updateDeletePvcStrategy: the finalizer list follows deletePVC (and loses every other entry).
bool update_delete_pvc_strategy(js::Document& cc) {
  auto& a = cc.GetAllocator();
  auto& meta = js::ensure_object(cc, "metadata", a);
  const bool delete_pvc = js::get_bool(cc, {"spec", "deletePVC"}, false);
  const js::Value* fins = js::find(meta, "finalizers");
  const bool any = fins && fins->IsArray() && !fins->Empty();
  if (!delete_pvc && any) {
    js::remove_member(meta, "finalizers");
    return true;
  }
  if (delete_pvc && !any) {
    js::set_member(meta, "finalizers", string_list({kPvcFinalizer}, a), a);
    return true;
  }
  return false;
}

// SetDefaults; true when the object changed (always, since it runs only while phase is empty).
bool set_defaults(js::Document& cc) {
  auto& a = cc.GetAllocator();
  auto& spec = js::ensure_object(cc, "spec", a);
  bool changed = false;
  if (js::get_int(spec, {"nodesPerRacks"}, 0) == 0) {
    set_int(spec, "nodesPerRacks", 1, a);
    changed = true;
  }
  auto& status = js::ensure_object(cc, "status", a);
  if (js::get_string(status, "phase").empty()) {
    js::set_string(status, "phase", kInitializing, a);
    init_rack_list(cc, cc["status"]);
    if (!js::find(cc["status"], "seedlist"))
      js::set_member(cc["status"], "seedlist", string_list(init_seed_list(cc), a), a);
    changed = true;
  }
  auto& spec_again = cc["spec"];  // members added above may have moved it
  if (js::get_int(spec_again, {"maxPodUnavailable"}, 0) == 0) {
    set_int(spec_again, "maxPodUnavailable", 1, a);
    changed = true;
  }
  auto& resources = js::ensure_object(spec_again, "resources", a);
  if (!js::find(resources, "limits")) {
    if (const js::Value* req = js::find(resources, "requests"))
      js::set_member(resources, "limits", js::Value(*req, a), a);
    changed = true;
  }
  return changed;
}

// CheckDefaults, on the spec in memory (written with the next status update).
void check_defaults(js::Document& cc) {
  auto& a = cc.GetAllocator();
  auto& spec = js::ensure_object(cc, "spec", a);
  auto default_string = [&](const char* key, const char* value) {
    if (js::get_string(spec, key).empty()) js::set_string(spec, key, value, a);
  };
  default_string("cassandraImage", "cassandra:3.11.10");
  default_string("imagepullpolicy", "Always");
  default_string("bootstrapImage", "orangeopensource/cassandra-bootstrap:0.1.9");
  default_string("configBuilderImage", "datastax/cass-config-builder:1.0.4");
  default_string("serviceAccountName", "cassandra-cluster-node");
  if (!js::find(spec, "readOnlyRootFilesystem"))
    js::set_member(spec, "readOnlyRootFilesystem", js::Value(true), a);
  for (auto [key, value] : {std::pair{"livenessInitialDelaySeconds", 120},
                            {"livenessHealthCheckTimeout", 20},
                            {"livenessHealthCheckPeriod", 10},
                            {"readinessInitialDelaySeconds", 60},
                            {"readinessHealthCheckTimeout", 10},
                            {"readinessHealthCheckPeriod", 10}})
    if (!js::find(spec, key)) set_int(spec, key, value, a);
  auto& sidecar = js::ensure_object(spec, "backRestSidecar", a);
  if (js::get_string(sidecar, "image").empty())
    js::set_string(sidecar, "image", "gcr.io/cassandra-operator/instaclustr-icarus:1.1.0", a);
}

// ComputeLastAppliedConfiguration: the object without annotations, resourceVersion and status.
std::string last_applied(const js::Document& cc) {
  js::Document copy = js::copy_of(cc);
  auto& a = copy.GetAllocator();
  if (js::Value* meta = copy.HasMember("metadata") ? &copy["metadata"] : nullptr) {
    js::remove_member(*meta, "annotations");
    js::remove_member(*meta, "resourceVersion");
  }
  js::set_member(copy, "status", js::Value(rapidjson::kObjectType), a);
  return js::to_string(copy);
}

// CheckNonAllowedChanges (reconcile.go:115-220) against CassKop's own record: on a refused
// change, the object its deferred updateCassandraStatus writes (cassandra_status.go:40-65): the
// old values back in the spec, status.lastClusterAction CorrectCRDConfig (its status and the
// phase as they were), the record recomputed from the corrected object, one plain update.
std::optional<js::Document> correct_crd_config(js::Document& cc) {
  const auto stored = js::get_string(cc, {"metadata", "annotations", kLastAppliedAnnotation});
  if (stored.empty() || last_applied(cc) == stored) return std::nullopt;
  js::Document old;
  try {
    old = js::parse(stored);
  } catch (const js::parse_error&) {
    return std::nullopt;  // "Can't get Old version of CRD": not checked
  }
  static const js::Value empty(rapidjson::kObjectType);
  const js::Value* old_spec = old.IsObject() ? js::find(old, "spec") : nullptr;
  auto refused = check_non_allowed_changes(old_spec && old_spec->IsObject() ? *old_spec : empty,
                                           cc["spec"], cc["status"]);
  if (!refused) return std::nullopt;
  auto& a = cc.GetAllocator();
  js::set_member(cc, "spec", js::Value(refused->spec, a), a);
  js::set_string(cc["status"], "lastClusterAction", kCorrectCRDConfig, a);
  js::set_string(js::ensure_object(js::ensure_object(cc, "metadata", a), "annotations", a),
                 kLastAppliedAnnotation, last_applied(cc), a);
  through_go_types(cc);
  return std::move(cc);
}

// ---- one pass -------------------------------------------------------------------------------

// Reconcile's working set: the object (spec defaulted in memory), the status being computed
// (written only at the end), and the simulated StatefulSets.
struct pass {
  js::Document cc;
  js::Document status;
  original_memory& memory;
  int64_t now;
  const original_pace& pace;
  bool held;
  bool need_update = false;

  js::Allocator& sa() { return status.GetAllocator(); }
  js::Value& rack_status(const std::string& name) {
    return status["cassandraRackStatus"][name.c_str()];
  }
  js::Value& last_action(const std::string& name) {
    return rack_status(name)["cassandraLastAction"];
  }
  std::string phase_of(const std::string& name) {
    return std::string(js::get_string(rack_status(name), "phase"));
  }
  std::string action_name(const std::string& name) {
    return std::string(js::get_string(last_action(name), "name"));
  }
  std::string action_status(const std::string& name) {
    return std::string(js::get_string(last_action(name), "status"));
  }

  void set_action(const std::string& rack, const char* name, const char* status_value) {
    auto& act = last_action(rack);
    if (name) js::set_string(act, "name", name, sa());
    js::set_string(act, "status", status_value, sa());
  }
  void start_action(const std::string& rack) {
    auto stamp = k8s::format_time(k8s::from_unix_ms(now));
    js::set_string(last_action(rack), "startTime", stamp, sa());
    js::remove_member(last_action(rack), "endTime");
    memory.action_start[rack] = {stamp, now};
  }
  void clear_times(const std::string& rack) {
    js::remove_member(last_action(rack), "startTime");
    js::remove_member(last_action(rack), "endTime");
    memory.action_start.erase(rack);
  }
  void end_action(const std::string& rack) {
    js::set_string(last_action(rack), "endTime", k8s::format_time(k8s::from_unix_ms(now)), sa());
    js::set_string(last_action(rack), "status", kDone, sa());
  }
  // When the rack's action started: exact if we started it, else from its whole-second stamp.
  std::optional<int64_t> started_ms(const std::string& rack) {
    auto stamp = js::get_string(last_action(rack), "startTime");
    if (stamp.empty()) return std::nullopt;
    if (auto it = memory.action_start.find(rack);
        it != memory.action_start.end() && it->second.first == stamp)
      return it->second.second;
    auto t = k8s::parse_rfc3339(stamp);
    return t ? std::optional(k8s::unix_ms(*t)) : std::nullopt;
  }

  bool ready(const simulated_statefulset& s) const { return !held && now >= s.ready_at_ms; }
  // hasNoPodDisruption() false: a pod of the cluster is not ready (PDB maxUnavailable 1).
  bool disrupted() const {
    for (const auto& [name, s] : memory.statefulsets)
      if (!ready(s)) return true;
    return false;
  }

  simulated_statefulset desired_statefulset(const rack_ref& r);
  void update_rack_phase(const rack_ref& r, const simulated_statefulset& s);
  void next_status(const rack_ref& r, const simulated_statefulset& s);
  bool action_ended(const rack_ref& r, const simulated_statefulset& s);
  bool ensure_statefulset(const rack_ref& r);
  void set_decommission_status(const std::string& rack);
  std::optional<std::string> reconcile_racks();
  void ensure_seedlist_update();
  void update_cluster_phase();
};

simulated_statefulset pass::desired_statefulset(const rack_ref& r) {
  simulated_statefulset s;
  const js::Value& spec = cc["spec"];
  s.image = js::get_string(spec, "cassandraImage");
  s.config_map = js::get_string(spec, "configMapName");
  s.replicas = nodes_per_rack(cc, r);
  s.seeds = strings(js::find(status, "seedlist"));
  // Everything else the StatefulSet is generated from (generateCassandraStatefulSet).
  js::Document inputs(rapidjson::kObjectType);
  auto& a = inputs.GetAllocator();
  js::Value sp(spec, a);
  for (auto key : {"nodesPerRacks", "topology", "autoPilot", "autoUpdateSeedList",
                   "maxPodUnavailable", "deletePVC", "unlockNextOperation", "noCheckStsAreEqual",
                   "restartCountBeforePodDeletion", "cassandraImage", "configMapName"})
    js::remove_member(sp, key);
  inputs.AddMember("spec", sp, a);
  const js::Value& dc = (*dcs_of(cc))[static_cast<rapidjson::SizeType>(r.dc)];
  js::Value dcv(dc, a);
  for (auto key : {"nodesPerRacks", "rack"}) js::remove_member(dcv, key);
  inputs.AddMember("dc", dcv, a);
  js::Value rack(dc["rack"][static_cast<rapidjson::SizeType>(r.rack)], a);
  js::remove_member(rack, "rollingRestart");
  inputs.AddMember("rack", rack, a);
  if (const js::Value* labels = js::find_path(cc, {"metadata", "labels"}))
    inputs.AddMember("labels", js::Value(*labels, a), a);
  s.template_digest = sts::stable_hex(k8s::json::canonical_text(inputs), 16);
  return s;
}

// UpdateCassandraRackStatusPhase.
void pass::update_rack_phase(const rack_ref& r, const simulated_statefulset& s) {
  auto& rs = rack_status(r.name);
  if (phase_of(r.name) == kInitializing) {
    if (nodes_per_rack(cc, r) <= 0) return set_decommission_status(r.name);
    if (!ready(s)) return;
    js::set_string(rs, "phase", kRunning, sa());
    end_action(r.name);
  }
  if (!ready(s))
    js::set_string(rack_status(r.name), "phase", kPending, sa());
  else if (phase_of(r.name) != kRunning)
    js::set_string(rack_status(r.name), "phase", kRunning, sa());
}

void pass::set_decommission_status(const std::string& rack) {
  js::set_string(rack_status(rack), "phase", kPending, sa());
  start_action(rack);
  set_action(rack, "ScaleDown", kToDo);
  js::Value op(rapidjson::kObjectType);
  op.AddMember("name", "decommission", sa());
  op.AddMember("status", js::string_value(kToDo, sa()), sa());
  op.AddMember("startTime", js::string_value(k8s::format_time(k8s::from_unix_ms(now)), sa()), sa());
  js::set_member(rack_status(rack), "podLastOperation", std::move(op), sa());
}

// UpdateStatusIfActionEnded.
bool pass::action_ended(const rack_ref& r, const simulated_statefulset& s) {
  const auto st = action_status(r.name);
  if (st != kOngoing && st != kContinue) return false;
  const auto name = action_name(r.name);
  if (name == kInitializing) return false;
  if (name == "ScaleUp" || name == "ScaleDown") {
    if (nodes_per_rack(cc, r) != s.replicas || !ready(s)) return false;
    end_action(r.name);
    if (name == "ScaleDown") {  // the decommission it waited for (not simulated) is over
      auto& op = js::ensure_object(rack_status(r.name), "podLastOperation", sa());
      js::set_string(op, "status", kDone, sa());
      js::set_string(op, "endTime", k8s::format_time(k8s::from_unix_ms(now)), sa());
    }
    return true;
  }
  if (!ready(s)) return false;  // currentRevision != updateRevision
  end_action(r.name);
  return true;
}

// getNextCassandraClusterStatus: at most one new action per rack and pass.
void pass::next_status(const rack_ref& r, const simulated_statefulset& s) {
  if (auto start = started_ms(r.name); start && *start + pace.check_delay_ms > now) return;
  if (action_ended(r, s)) return;
  const bool unlock = js::get_bool(cc, {"spec", "unlockNextOperation"}, false);
  if (phase_of(r.name) == kInitializing && !unlock) return;
  const auto st = action_status(r.name);
  if (unlock || (!disrupted() && st != kOngoing && st != kToDo && st != kFinalizing)) {
    const js::Value& spec = cc["spec"];
    auto todo = [&](const char* action) {
      set_action(r.name, action, kToDo);
      clear_times(r.name);
    };
    if (s.config_map != js::get_string(spec, "configMapName")) return todo("UpdateConfigMap");
    if (s.image != js::get_string(spec, "cassandraImage")) return todo("UpdateDockerImage");
    if (const int64_t want = nodes_per_rack(cc, r); want != s.replicas) {
      if (want > s.replicas) return todo("ScaleUp");
      clear_times(r.name);
      return set_decommission_status(r.name);
    }
    if (js::get_bool(spec, {"autoUpdateSeedList"}, false)) {
      auto fresh = init_seed_list(cc);
      if (fresh !=
          s.seeds) {  // k8s.MergeSlice: kept ones in order, removed ones out, new ones last
        std::vector<std::string> merged;
        for (const auto& x : s.seeds)
          if (std::find(fresh.begin(), fresh.end(), x) != fresh.end()) merged.push_back(x);
        for (const auto& x : fresh)
          if (std::find(merged.begin(), merged.end(), x) == merged.end()) merged.push_back(x);
        js::set_member(status, "seedlist", string_list(merged, sa()), sa());
      }
    }
    if (strings(js::find(status, "seedlist")) != s.seeds) {
      set_action(r.name, "UpdateSeedList", kConfiguring);
      return clear_times(r.name);
    }
    js::Value& rack = cc["spec"]["topology"]["dc"][static_cast<rapidjson::SizeType>(r.dc)]["rack"]
                        [static_cast<rapidjson::SizeType>(r.rack)];
    if (js::get_bool(rack, {"rollingRestart"}, false)) {
      todo("RollingRestart");
      js::remove_member(rack, "rollingRestart");  // false, omitted as Go marshals it
      return;
    }
  }
  if (action_status(r.name) == kToDo && action_name(r.name) == "UpdateResources") {
    set_action(r.name, nullptr, kOngoing);
    start_action(r.name);
  }
}

// ensureCassandraStatefulSet + CreateOrUpdateStatefulSet; true breaks the rack loop.
bool pass::ensure_statefulset(const rack_ref& r) {
  const bool unlock = js::get_bool(cc, {"spec", "unlockNextOperation"}, false);
  if (disrupted() && !unlock) return false;
  auto desired = desired_statefulset(r);
  auto it = memory.statefulsets.find(r.name);
  if (it == memory.statefulsets.end()) {
    desired.ready_at_ms = now + pace.rack_ready_ms;
    memory.statefulsets[r.name] = std::move(desired);
    return true;
  }
  const simulated_statefulset& stored = it->second;
  const auto name = action_name(r.name);
  auto st = action_status(r.name);
  if (name == "UpdateSeedList" && (st == kToDo || st == kConfiguring)) {
    set_action(r.name, nullptr, kOngoing);
    start_action(r.name);
  } else {
    desired.seeds = stored.seeds;  // kept from the StatefulSet unless the seed list rolls
  }
  if (desired.replicas > stored.replicas + 1) desired.replicas = stored.replicas + 1;
  if (desired.replicas < stored.replicas - 1) desired.replicas = stored.replicas - 1;
  desired.rolling_restart = stored.rolling_restart;
  if (name == "RollingRestart" && action_status(r.name) == kToDo) {
    ++desired.rolling_restart;
    set_action(r.name, nullptr, kOngoing);
    start_action(r.name);
  }
  const bool no_check = js::get_bool(cc, {"spec", "noCheckStsAreEqual"}, false);
  const bool equal = stored.template_digest == desired.template_digest &&
                     stored.image == desired.image && stored.config_map == desired.config_map &&
                     stored.seeds == desired.seeds && stored.replicas == desired.replicas &&
                     stored.rolling_restart == desired.rolling_restart;
  if (!no_check && equal) return false;
  if (action_status(r.name) == kToDo) {
    set_action(r.name, nullptr, kOngoing);
    start_action(r.name);
  }
  if (!no_check && action_status(r.name) == kDone) {
    set_action(r.name, "UpdateStatefulSet", kOngoing);
    start_action(r.name);
  }
  desired.ready_at_ms = now + pace.rack_ready_ms;
  it->second = std::move(desired);
  return true;
}

// ReconcileRack; returns an error message when a dc-rack name is not usable.
std::optional<std::string> pass::reconcile_racks() {
  const bool deleting = js::find_path(cc, {"metadata", "deletionTimestamp"}) != nullptr;
  const bool delete_pvc = js::get_bool(cc, {"spec", "deletePVC"}, false);
  bool new_status = false;
  js::ensure_object(status, "cassandraRackStatus", sa());
  for (const auto& r : racks_of(cc)) {
    if (r.name.empty()) return "Name used for DC and/or Rack are not good";
    if (!js::find(status["cassandraRackStatus"], r.name)) {
      status["cassandraRackStatus"].AddMember(js::string_value(r.name, sa()), new_rack_status(sa()),
                                              sa());
      new_status = true;
      continue;
    }
    if (deleting && delete_pvc) continue;  // DeletePVCs (no PVCs are simulated)
    if (auto it = memory.statefulsets.find(r.name); it != memory.statefulsets.end()) {
      const simulated_statefulset s = it->second;
      update_rack_phase(r, s);
      next_status(r, s);
    }
    const bool break_loop = ensure_statefulset(r);
    if (js::get_bool(cc, {"spec", "unlockNextOperation"}, false)) {
      js::remove_member(cc["spec"], "unlockNextOperation");
      need_update = true;
    }
    if (break_loop) return std::nullopt;
    const auto st = action_status(r.name);
    if (phase_of(r.name) != kRunning || st == kOngoing || st == kFinalizing) return std::nullopt;
  }
  if (new_status) return std::nullopt;
  if (deleting && delete_pvc) js::remove_member(cc["metadata"], "finalizers");  // PVCs are gone
  return std::nullopt;
}

// EnsureSeedListIsUpdatedWhenRequired: once every rack is Configuring, they all go ToDo.
void pass::ensure_seedlist_update() {
  if (js::get_string(status, "lastClusterAction") != "UpdateSeedList" ||
      js::get_string(status, "lastClusterActionStatus") != kConfiguring)
    return;
  auto racks = racks_of(cc);
  for (const auto& r : racks) {
    if (!js::find(status["cassandraRackStatus"], r.name)) return;
    if (!(action_name(r.name) == "UpdateSeedList" && action_status(r.name) == kConfiguring)) {
      if (action_name(r.name) != kInitializing) return;
      break;
    }
  }
  for (const auto& r : racks)
    if (js::find(status["cassandraRackStatus"], r.name) && phase_of(r.name) != kInitializing)
      set_action(r.name, "UpdateSeedList", kToDo);
}

// UpdateCassandraClusterStatusPhase: the cluster mirrors the first rack not Done or not Running.
void pass::update_cluster_phase() {
  bool action_set = false;
  for (const auto& r : racks_of(cc)) {
    if (r.name.empty() || !js::find(status["cassandraRackStatus"], r.name)) continue;
    if (action_status(r.name) != kDone) {
      js::set_string(status, "lastClusterActionStatus", action_status(r.name), sa());
      js::set_string(status, "lastClusterAction", action_name(r.name), sa());
      action_set = true;
    }
    if (phase_of(r.name) != kRunning) {
      js::set_string(status, "phase", phase_of(r.name), sa());
      return;
    }
  }
  if (!action_set && js::get_string(status, "lastClusterActionStatus") != kDone) {
    js::set_string(status, "lastClusterActionStatus", kDone, sa());
    js::set_string(status, "phase", kRunning, sa());
  }
  if (js::get_string(status, "phase") != kRunning &&
      js::get_string(status, "lastClusterActionStatus") == kDone)
    js::set_string(status, "phase", kRunning, sa());
}

// CassKop restarted (or the stand-in was just enabled): its StatefulSets are as it left them.
void take_over(js::Document& cc, original_memory& memory, int64_t now) {
  memory.known = true;
  const js::Value* racks = js::find_path(cc, {"status", "cassandraRackStatus"});
  if (!racks || !racks->IsObject()) return;
  js::Document status = js::copy_of(*js::find(cc, "status"));
  original_pace pace;
  pass p{js::copy_of(cc), std::move(status), memory, now, pace, false};
  for (const auto& r : racks_of(p.cc)) {
    if (r.name.empty() || !js::find(*racks, r.name)) continue;
    auto s = p.desired_statefulset(r);
    s.ready_at_ms = now;
    memory.statefulsets[r.name] = std::move(s);
  }
}

}  // namespace

original_pass reconcile_original(const js::Value& object, original_memory& memory, int64_t now_ms,
                                 const original_pace& pace, bool held) {
  js::Document cc = js::copy_of(object);
  through_go_types(cc);
  if (auto uid = std::string(js::get_string(cc, {"metadata", "uid"})); memory.uid != uid) {
    memory = original_memory{};
    memory.uid = uid;
  }
  original_pass out;
  out.requeue_after_ms = pace.requeue_ms;

  if (js::get_string(cc, {"status", "phase"}).empty()) {
    memory.known = true;  // nothing deployed yet
    set_defaults(cc);
    update_delete_pvc_strategy(cc);
    out.update = std::move(cc);
    out.requeue_after_ms = 0;
    return out;
  }
  check_defaults(cc);
  if (!memory.known) take_over(cc, memory, now_ms);
  if (auto corrected = correct_crd_config(cc)) {
    out.update = std::move(*corrected);
    out.requeue_after_ms = pace.refused_requeue_ms;  // requeue30
    return out;
  }

  const js::Document before_status = js::copy_of(cc["status"]);
  pass p{std::move(cc), js::copy_of(before_status), memory, now_ms, pace, held};
  // A ReconcileRack error returns before the phase is computed; the status is written anyway.
  if (!p.reconcile_racks()) {
    p.ensure_seedlist_update();
    p.update_cluster_phase();
  }

  // updateCassandraStatus: one plain update of the whole object, when anything changed.
  js::Document& result = p.cc;
  auto& a = result.GetAllocator();
  const std::string applied = last_applied(result);
  const auto stored = js::get_string(result, {"metadata", "annotations", kLastAppliedAnnotation});
  if (!p.need_update && p.status == before_status && stored == applied) return out;
  js::set_member(result, "status", js::Value(p.status, a), a);
  js::set_string(js::ensure_object(js::ensure_object(result, "metadata", a), "annotations", a),
                 kLastAppliedAnnotation, applied, a);
  through_go_types(result);
  out.update = std::move(result);
  return out;
}

}  // namespace kubesim::casskop
