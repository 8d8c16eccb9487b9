#include "tools/kubesim/casskop_refusal.h"

#include <algorithm>
#include <set>

#include <fmt/format.h>

namespace kubesim::casskop {
namespace js = k8s::json;

namespace {

constexpr const char* kTopologyRefused = "The Operator has refused the Topology change. ";

const js::Value* dcs_of(const js::Value& spec) {
  const js::Value* dcs = js::find_path(spec, {"topology", "dc"});
  return dcs && dcs->IsArray() ? dcs : nullptr;
}

size_t dc_count(const js::Value& spec) {
  const js::Value* dcs = dcs_of(spec);
  return dcs ? dcs->Size() : 0;
}

const js::Value& dc_at(const js::Value& spec, size_t i) {
  return (*dcs_of(spec))[static_cast<rapidjson::SizeType>(i)];
}

std::string dc_name(const js::Value& spec, size_t i) {
  return std::string(js::get_string(dc_at(spec, i), "name"));
}

// GetDCIndexFromDCName.
int dc_index(const js::Value& spec, const std::string& name) {
  for (size_t i = 0; i < dc_count(spec); ++i)
    if (dc_name(spec, i) == name) return static_cast<int>(i);
  return -1;
}

// GetDataCapacityFromDCName: the DC's own when it sets one, else the cluster's.
std::string data_capacity_for_dc(const js::Value& spec, const std::string& dc) {
  if (int i = dc_index(spec, dc); i >= 0) {
    auto own = js::get_string(dc_at(spec, static_cast<size_t>(i)), "dataCapacity");
    if (!own.empty()) return std::string(own);
  }
  return std::string(js::get_string(spec, "dataCapacity"));
}

// GetDataStorageClassFromDCName, with its bug (cassandracluster_types.go:485): the DC's own
// storage class only when the DC sets a dataCapacity.
std::string storage_class_for_dc(const js::Value& spec, const std::string& dc) {
  if (int i = dc_index(spec, dc); i >= 0) {
    const js::Value& d = dc_at(spec, static_cast<size_t>(i));
    if (!js::get_string(d, "dataCapacity").empty())
      return std::string(js::get_string(d, "dataStorageClass"));
  }
  return std::string(js::get_string(spec, "dataStorageClass"));
}

// A string field as Go writes it back: omitted when empty.
void set_go_string(js::Value& obj, const char* key, std::string_view value, js::Allocator& a) {
  if (value.empty())
    js::remove_member(obj, key);
  else
    js::set_string(obj, key, value, a);
}

// r3labs/diff's generic slice comparison: the indices of `a`'s elements equal to no element
// of `b` (those equal to one are left out; the rest are compared by index).
std::set<size_t> unmatched(const js::Value* a, const js::Value* b) {
  std::set<size_t> out;
  if (!a || !a->IsArray()) return out;
  for (rapidjson::SizeType i = 0; i < a->Size(); ++i) {
    bool found = false;
    if (b && b->IsArray())
      for (const auto& e : b->GetArray()) found = found || e == (*a)[i];
    if (!found) out.insert(i);
  }
  return out;
}

std::string rack_name(const js::Value* racks, size_t i) {
  return std::string(js::get_string((*racks)[static_cast<rapidjson::SizeType>(i)], "name"));
}

// CheckTopologyChanges' first test: a DC or rack name changed, or a rack created or deleted in
// a DC that is neither created nor deleted. "" when none.
std::string renamed_or_rack_changed(const js::Value& old_spec, const js::Value& spec) {
  const js::Value* old_dcs = dcs_of(old_spec);
  const js::Value* new_dcs = dcs_of(spec);
  const auto only_old = unmatched(old_dcs, new_dcs);
  const auto only_new = unmatched(new_dcs, old_dcs);
  std::set<size_t> keys = only_old;
  keys.insert(only_new.begin(), only_new.end());
  for (size_t k : keys) {
    if (!only_old.count(k) || !only_new.count(k)) continue;  // a DC created or deleted
    const js::Value& o = (*old_dcs)[static_cast<rapidjson::SizeType>(k)];
    const js::Value& n = (*new_dcs)[static_cast<rapidjson::SizeType>(k)];
    if (js::get_string(o, "name") != js::get_string(n, "name"))
      return fmt::format("DC {} renamed to {}", js::get_string(o, "name"),
                         js::get_string(n, "name"));
    const js::Value* old_racks = js::find(o, "rack");
    const js::Value* new_racks = js::find(n, "rack");
    const auto racks_old = unmatched(old_racks, new_racks);
    const auto racks_new = unmatched(new_racks, old_racks);
    std::set<size_t> rack_keys = racks_old;
    rack_keys.insert(racks_new.begin(), racks_new.end());
    for (size_t j : rack_keys) {
      const bool in_old = racks_old.count(j), in_new = racks_new.count(j);
      if (in_old && in_new) {
        if (rack_name(old_racks, j) != rack_name(new_racks, j))
          return fmt::format("rack {} of DC {} renamed to {}", rack_name(old_racks, j),
                             js::get_string(n, "name"), rack_name(new_racks, j));
      } else if (in_old) {
        return fmt::format("rack {} removed from DC {}", rack_name(old_racks, j),
                           js::get_string(n, "name"));
      } else {
        return fmt::format("rack {} added to DC {}", rack_name(new_racks, j),
                           js::get_string(n, "name"));
      }
    }
  }
  return "";
}

size_t rack_total(const js::Value& spec) {
  size_t n = 0;
  for (size_t i = 0; i < dc_count(spec); ++i)
    if (const js::Value* r = js::find(dc_at(spec, i), "rack"); r && r->IsArray()) n += r->Size();
  return n;
}

// GetDCNodesPerRacksFromName: the DC's own nodesPerRacks, else the cluster's.
int64_t dc_nodes(const js::Value& spec, const std::string& dc) {
  const int64_t global = js::get_int(spec, {"nodesPerRacks"}, 0);
  if (int i = dc_index(spec, dc); i >= 0)
    return js::get_int(dc_at(spec, static_cast<size_t>(i)), {"nodesPerRacks"}, global);
  return global;
}

// GetRemovedDCName: the first old DC whose index holds another name now ("dc1" past the end).
std::string removed_dc_name(const js::Value& old_spec, const js::Value& spec) {
  for (size_t i = 0; i < dc_count(old_spec); ++i) {
    std::string now = i < dc_count(spec) ? dc_name(spec, i) : "dc1";
    if (dc_name(old_spec, i) != now) return dc_name(old_spec, i);
  }
  return "";
}

// CheckTopologyChanges: why the topology change is refused, "" when it is not.
std::string topology_refused(const js::Value& old_spec, const js::Value& spec,
                             const js::Value& status) {
  if (auto why = renamed_or_rack_changed(old_spec, spec); !why.empty())
    return kTopologyRefused + ("No change other than adding/removing a DC can happen: " + why);
  if (dc_count(spec) + 1 < dc_count(old_spec))
    return std::string(kTopologyRefused) + "You can only remove 1 DC at a time, not only a Rack";
  if (rack_total(spec) < rack_total(old_spec)) {
    if (js::get_string(status, "lastClusterAction") == "ScaleDown" &&
        js::get_string(status, "lastClusterActionStatus") != "Done")
      return std::string(kTopologyRefused) +
             "You must wait to the end of ScaleDown to 0 before deleting a DC";
    const std::string removed = removed_dc_name(old_spec, spec);
    if (dc_index(old_spec, removed) >= 0 && dc_nodes(old_spec, removed) > 0)
      return fmt::format("{}You must scale down the DC {} to 0 before deleting it",
                         kTopologyRefused, removed);
  }
  return "";
}

}  // namespace

std::optional<refusal> check_non_allowed_changes(const js::Value& old_spec, const js::Value& spec,
                                                 const js::Value& status) {
  refusal r;
  r.spec.CopyFrom(spec, r.spec.GetAllocator());
  auto& a = r.spec.GetAllocator();
  // reconcile.go:137: global scale down to 0.
  if (js::get_int(spec, {"nodesPerRacks"}, 0) == 0) {
    const int64_t old = js::get_int(old_spec, {"nodesPerRacks"}, 0);
    r.reasons.push_back(fmt::format(
        "The Operator has refused the change on NodesPerRack=0 restore to OldValue[{}]", old));
    if (old == 0)
      js::remove_member(r.spec, "nodesPerRacks");
    else
      js::set_member(r.spec, "nodesPerRacks", js::Value(old), a);
  }
  // reconcile.go:146-164: per DC of the new spec, its effective dataCapacity and storage class.
  for (size_t i = 0; i < dc_count(spec); ++i) {
    const std::string dc = dc_name(spec, i);
    auto restore = [&](const char* field) {
      set_go_string(r.spec, field, js::get_string(old_spec, field), a);
      js::Value& target = r.spec["topology"]["dc"][static_cast<rapidjson::SizeType>(i)];
      // oldCRD.Spec.Topology.DC[dc]: same index (past the old end v2.1.0 panics: emptied here).
      set_go_string(target, field,
                    i < dc_count(old_spec) ? js::get_string(dc_at(old_spec, i), field) : "", a);
    };
    const auto old_capacity = data_capacity_for_dc(old_spec, dc);
    // Read from the object being corrected, as v2.1.0 does (a restored cluster value counts).
    const auto new_capacity = data_capacity_for_dc(r.spec, dc);
    if (new_capacity != old_capacity) {
      r.reasons.push_back(fmt::format(
          "The Operator has refused the change on DataCapacity from [{}] to NewValue[{}]",
          old_capacity, new_capacity));
      restore("dataCapacity");
    }
    const auto old_class = storage_class_for_dc(old_spec, dc);
    const auto new_class = storage_class_for_dc(r.spec, dc);
    if (new_class != old_class) {
      r.reasons.push_back(fmt::format(
          "The Operator has refused the change on DataStorageClass from [{}] to NewValue[{}]",
          old_class, new_class));
      restore("dataStorageClass");
    }
  }
  if (!r.reasons.empty()) return r;
  // reconcile.go:172-183: the topology, restored whole.
  if (auto why = topology_refused(old_spec, spec, status); !why.empty()) {
    r.reasons.push_back(std::move(why));
    if (const js::Value* old_topology = js::find(old_spec, "topology"))
      js::set_member(r.spec, "topology", js::Value(*old_topology, a), a);
    else
      js::set_member(r.spec, "topology", js::Value(rapidjson::kObjectType), a);
    return r;
  }
  return std::nullopt;
}

}  // namespace kubesim::casskop
