#include "tools/kubesim/casskop_status.h"

#include <map>

#include "tools/kubesim/statefulset_logic.h"

namespace kubesim::casskop {
namespace js = k8s::json;

namespace {

const js::Value* dcs_of(const js::Value& spec) {
  const js::Value* dcs = js::find_path(spec, {"topology", "dc"});
  return dcs && dcs->IsArray() && !dcs->Empty() ? dcs : nullptr;
}

// nodesPerRacks of each DC: its own value, else the cluster's, else 1.
std::map<std::string, long long> nodes_per_dc(const js::Value& spec) {
  const long long global = js::get_int(spec, {"nodesPerRacks"}, 1);
  std::map<std::string, long long> out;
  const js::Value* dcs = dcs_of(spec);
  if (!dcs) {
    out["dc1"] = global;
    return out;
  }
  for (const auto& dc : dcs->GetArray())
    if (dc.IsObject())
      out[std::string(js::get_string(dc, "name", "dc1"))] =
          js::get_int(dc, {"nodesPerRacks"}, global);
  return out;
}

js::Value last_action(const step& s, js::Allocator& a) {
  js::Value v(rapidjson::kObjectType);
  v.AddMember("name", js::string_value(s.action, a), a);
  v.AddMember("status", js::string_value(s.action_status, a), a);
  v.AddMember("startTime", js::string_value(s.start_time, a), a);
  // null removes an endTime left by the previous action (merge patch).
  v.AddMember("endTime", s.end_time.empty() ? js::Value() : js::string_value(s.end_time, a), a);
  return v;
}

}  // namespace

bool held(const js::Value& cc) {
  return js::get_string(cc, {"metadata", "annotations", kHoldAnnotation}) == "true";
}

std::string spec_hash(const js::Value& cc) {
  const js::Value* spec = js::find(cc, "spec");
  return sts::stable_hex(spec ? k8s::json::canonical_text(*spec) : "null", 32);
}

std::vector<std::string> rack_names(const js::Value& cc) {
  std::vector<std::string> out;
  const js::Value* spec = js::find(cc, "spec");
  const js::Value* dcs = spec ? dcs_of(*spec) : nullptr;
  if (!dcs) return {"dc1-rack1"};
  for (const auto& dc : dcs->GetArray()) {
    if (!dc.IsObject()) continue;
    std::string dc_name(js::get_string(dc, "name", "dc1"));
    const js::Value* racks = js::find(dc, "rack");
    if (!racks || !racks->IsArray() || racks->Empty()) {
      out.push_back(dc_name + "-rack1");
      continue;
    }
    for (const auto& rack : racks->GetArray())
      if (rack.IsObject())
        out.push_back(dc_name + "-" + std::string(js::get_string(rack, "name", "rack1")));
  }
  return out;
}

std::string change_action(const js::Value* before, const js::Value& after) {
  if (!before) return "UpdateStatefulSet";
  auto old_nodes = nodes_per_dc(*before);
  bool up = false, down = false;
  for (const auto& [dc, n] : nodes_per_dc(after)) {
    auto it = old_nodes.find(dc);
    if (it == old_nodes.end()) continue;  // a new DC: CassKop creates it, no rack scales
    up = up || n > it->second;
    down = down || n < it->second;
  }
  if (up) return "ScaleUp";
  if (down) return "ScaleDown";
  return "UpdateStatefulSet";
}

std::string status_patch(const js::Value& cc, uint64_t rv, const step& s) {
  js::Document d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  js::Value meta(rapidjson::kObjectType);
  meta.AddMember("resourceVersion", js::string_value(std::to_string(rv), a), a);
  d.AddMember("metadata", meta, a);

  js::Value status(rapidjson::kObjectType);
  status.AddMember("phase", js::string_value(s.phase, a), a);
  status.AddMember("lastClusterAction", js::string_value(s.action, a), a);
  status.AddMember("lastClusterActionStatus", js::string_value(s.action_status, a), a);
  if (s.observed_generation)
    status.AddMember("observedGeneration", static_cast<int64_t>(*s.observed_generation), a);

  js::Value racks(rapidjson::kObjectType);
  auto names = rack_names(cc);
  for (const auto& name : names) {
    if (js::find(racks, name)) continue;  // a rack named twice
    js::Value rack(rapidjson::kObjectType);
    rack.AddMember("phase", js::string_value(s.phase, a), a);
    rack.AddMember("cassandraLastAction", last_action(s, a), a);
    racks.AddMember(js::string_value(name, a), rack, a);
  }
  if (const auto* old = js::find_path(cc, {"status", "cassandraRackStatus"});
      old && old->IsObject())
    for (const auto& m : old->GetObject())
      if (!js::find(racks, js::view(m.name))) racks.AddMember(js::Value(m.name, a), js::Value(), a);
  status.AddMember("cassandraRackStatus", racks, a);
  d.AddMember("status", status, a);
  return js::to_string(d);
}

}  // namespace kubesim::casskop
