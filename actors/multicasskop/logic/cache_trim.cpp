#include "actors/multicasskop/logic/cache_trim.h"

#include <fmt/format.h>

#include "actors/multicasskop/logic/spec.h"
#include "actors/multicasskop/logic/text_digest.h"

namespace mc {
namespace js = k8s::json;

namespace {

constexpr const char* kubectl_last_applied = "kubectl.kubernetes.io/last-applied-configuration";
// The status fields of a CassandraCluster the state machine reads.
constexpr const char* read_status_fields[] = {
    "phase", "lastClusterAction", "lastClusterActionStatus", "observedGeneration", "seedlist"};

bool reads_only(const js::Value& status) {
  for (const auto& m : status.GetObject()) {
    bool read = false;
    for (const char* f : read_status_fields) read = read || js::view(m.name) == f;
    if (!read) return false;
  }
  return true;
}

// CassKop's record holds the spec the object has now (compared as JSON values).
bool record_matches_spec(std::string_view record, const js::Value& cc) {
  try {
    js::Document d = js::parse(record);
    const js::Value* recorded = d.IsObject() ? js::find(d, "spec") : nullptr;
    const js::Value* spec = js::find(cc, "spec");
    return recorded && spec && *recorded == *spec;
  } catch (const js::parse_error&) {
    return false;
  }
}

// Go's encoding drops zero values (omitempty): an absent field and "", 0 or null are the same.
bool zero(const js::Value* v) {
  return !v || v->IsNull() || (v->IsString() && v->GetStringLength() == 0) ||
         (v->IsNumber() && v->GetDouble() == 0);
}

std::string shown(const js::Value* v) {
  if (zero(v)) return "(none)";
  return v->IsString() ? std::string(js::view(*v)) : js::to_string(*v);
}

void compare_scalar(const js::Value& ours, const js::Value& found, const char* key,
                    const std::string& path, std::vector<std::string>& out) {
  const js::Value* o = js::find(ours, key);
  if (!o) return;  // not ours to judge: CassKop's defaults may fill it
  const js::Value* f = js::find(found, key);
  if (zero(o) && zero(f)) return;
  if (o && f && *o == *f) return;
  out.push_back(fmt::format("{}.{}: {} written, {} found", path, key, shown(o), shown(f)));
}

std::string names_of(const js::Value* list) {
  std::string out;
  if (list && list->IsArray())
    for (const auto& e : list->GetArray())
      out += (out.empty() ? "" : ",") + std::string(js::get_string(e, "name"));
  return "[" + out + "]";
}

// Record of our last write (update_patch's annotation): its spec.
const js::Value* our_record_spec(const js::Value& cc, js::Document& holder) {
  auto record = js::get_string(cc, {"metadata", "annotations", last_applied_annotation});
  if (record.empty()) return nullptr;
  try {
    holder = js::parse(record);
  } catch (const js::parse_error&) {
    return nullptr;
  }
  const js::Value* spec = holder.IsObject() ? js::find(holder, "spec") : nullptr;
  return spec && spec->IsObject() ? spec : nullptr;
}

object_ptr trim_cassandracluster(const object_ptr& obj, bool managed_fields, bool kubectl_record) {
  const js::Value& cc = *obj;
  const auto casskop_record = js::get_string(cc, {"metadata", "annotations", casskop_last_applied});
  const bool drop_spec =
      js::find(cc, "spec") &&
      !js::get_string(cc, {"metadata", "annotations", last_applied_annotation}).empty();
  const js::Value* status = js::find(cc, "status");
  const bool trim_status = status && status->IsObject() && !reads_only(*status);
  if (!managed_fields && !kubectl_record && casskop_record.empty() && !drop_spec && !trim_status)
    return obj;
  // Only the kept members are copied (a whole copy first would copy managedFields and the
  // records too, on every event), then copied compactly.
  js::Document d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  auto dropped_annotation = [&](std::string_view name) {
    return (kubectl_record && name == kubectl_last_applied) ||
           (!casskop_record.empty() && name == casskop_last_applied);
  };
  for (const auto& m : cc.GetObject()) {
    const std::string_view name = js::view(m.name);
    if (name == "spec" && drop_spec) continue;
    if (name == "status" && trim_status) {
      js::Value kept(rapidjson::kObjectType);
      for (const char* f : read_status_fields)
        if (const js::Value* v = js::find(*status, f))
          kept.AddMember(js::string_value(f, a), js::Value(*v, a), a);
      d.AddMember(js::Value(m.name, a), std::move(kept), a);
      continue;
    }
    if (name != "metadata" || !m.value.IsObject()) {
      d.AddMember(js::Value(m.name, a), js::Value(m.value, a), a);
      continue;
    }
    js::Value meta(rapidjson::kObjectType);
    for (const auto& f : m.value.GetObject()) {
      const std::string_view field = js::view(f.name);
      if (field == "managedFields") continue;
      if (field != "annotations" || !f.value.IsObject()) {
        meta.AddMember(js::Value(f.name, a), js::Value(f.value, a), a);
        continue;
      }
      js::Value annotations(rapidjson::kObjectType);
      for (const auto& an : f.value.GetObject())
        if (!dropped_annotation(js::view(an.name)))
          annotations.AddMember(js::Value(an.name, a), js::Value(an.value, a), a);
      meta.AddMember(js::Value(f.name, a), std::move(annotations), a);
    }
    d.AddMember(js::Value(m.name, a), std::move(meta), a);
  }
  js::Value derived(rapidjson::kObjectType);
  if (!casskop_record.empty())
    derived.AddMember("casskopReconciledSpec", record_matches_spec(casskop_record, cc), a);
  if (drop_spec) {
    // The spec goes: what the state machine needs to tell a change CassKop wrote back
    // (CorrectCRDConfig) is kept.
    js::Document holder;
    const js::Value* ours = our_record_spec(cc, holder);
    const auto differing =
        ours ? refusable_fields_differing(*ours, cc["spec"]) : std::vector<std::string>{};
    if (!differing.empty()) {
      js::Value list(rapidjson::kArrayType);
      for (const auto& f : differing) list.PushBack(js::string_value(f, a), a);
      derived.AddMember("changedSinceOurWrite", list, a);
    }
  }
  if (!derived.ObjectEmpty()) js::set_member(d, derived_member, std::move(derived), a);
  return js::compact_copy(d);
}

// Copies the members of `from` named in `names` into `to`.
void copy_members(const js::Value& from, std::initializer_list<const char*> names, js::Value& to,
                  js::Allocator& a) {
  for (const char* n : names)
    if (const js::Value* v = js::find(from, n))
      to.AddMember(rapidjson::StringRef(n), js::Value(*v, a), a);
}

// Of the status we wrote, what restore_from_status reads (conditions' transition times, each
// region's write bookkeeping and reported phase); the rest is told apart by its digest.
js::Value status_kept(const js::Value& status, js::Allocator& a) {
  js::Value kept(rapidjson::kObjectType);
  if (const js::Value* conds = js::find(status, "conditions"); conds && conds->IsArray()) {
    js::Value list(rapidjson::kArrayType);
    for (const auto& c : conds->GetArray()) {
      js::Value e(rapidjson::kObjectType);
      copy_members(c, {"type", "status", "lastTransitionTime"}, e, a);
      list.PushBack(e, a);
    }
    kept.AddMember("conditions", list, a);
  }
  if (const js::Value* regions = js::find(status, "regions"); regions && regions->IsArray()) {
    js::Value list(rapidjson::kArrayType);
    for (const auto& r : regions->GetArray()) {
      js::Value e(rapidjson::kObjectType);
      copy_members(r, {"name", "phase", "reason", "writtenGeneration", "awaitingReady"}, e, a);
      list.PushBack(e, a);
    }
    kept.AddMember("regions", list, a);
  }
  return kept;
}

object_ptr trim_multicasskop(const object_ptr& obj, bool managed_fields, bool kubectl_record,
                             const cache_limits& limits) {
  const js::Value* spec = js::find(*obj, "spec");
  const int64_t spec_bytes = spec ? static_cast<int64_t>(js::to_string(*spec).size()) : 0;
  const bool oversized = spec_bytes > limits.max_multicasskop_spec_bytes;
  const js::Value* status = js::find(*obj, "status");
  const bool status_trimmed = js::find_path(*obj, {derived_member, "statusDigest"}) != nullptr;
  const bool trim_status = status && status->IsObject() && !status_trimmed;
  if (!managed_fields && !kubectl_record && !oversized && !trim_status) return obj;
  js::Document d = js::copy_of(*obj);
  auto& a = d.GetAllocator();
  if (managed_fields) js::remove_member(d["metadata"], "managedFields");
  if (kubectl_record) js::remove_member(d["metadata"]["annotations"], kubectl_last_applied);
  js::Value derived(rapidjson::kObjectType);
  if (const js::Value* before = js::find(d, derived_member); before && before->IsObject())
    derived.CopyFrom(*before, a);
  if (oversized) {
    js::Value kept(rapidjson::kObjectType);
    if (const js::Value* del = js::find(*spec, "deleteCassandraCluster"))
      kept.AddMember("deleteCassandraCluster", js::Value(*del, a), a);
    js::set_member(d, "spec", std::move(kept), a);
    js::set_member(derived, "specBytes", js::Value(spec_bytes), a);
    js::set_member(derived, "maxSpecBytes",
                   js::Value(static_cast<int64_t>(limits.max_multicasskop_spec_bytes)), a);
  }
  if (trim_status) {
    // The status is ours and mostly read back only to tell whether it is the one we would
    // write (after a restart): its digest does that, at a fraction of its DOM (issue 11).
    const text_digest digest = text_digest::of(js::canonical_text(*status));
    js::Value dv(rapidjson::kObjectType);
    dv.AddMember("fnv", js::Value(static_cast<uint64_t>(digest.fnv)), a);
    dv.AddMember("murmur", js::Value(static_cast<uint64_t>(digest.murmur)), a);
    dv.AddMember("size", js::Value(static_cast<uint64_t>(digest.size)), a);
    js::set_member(derived, "statusDigest", std::move(dv), a);
    js::set_member(d, "status", status_kept(*status, a), a);
  }
  if (!derived.ObjectEmpty()) js::set_member(d, derived_member, std::move(derived), a);
  return js::compact_copy(d);
}

}  // namespace

object_ptr trim_for_cache(const object_ptr& obj, watched_kind kind, const cache_limits& limits) {
  if (!obj || !obj->IsObject()) return obj;
  const js::Value* meta = js::find(*obj, "metadata");
  const bool managed_fields = meta && js::find(*meta, "managedFields");
  const bool kubectl_record =
      !js::get_string(*obj, {"metadata", "annotations", kubectl_last_applied}).empty();
  return kind == watched_kind::cassandracluster
             ? trim_cassandracluster(obj, managed_fields, kubectl_record)
             : trim_multicasskop(obj, managed_fields, kubectl_record, limits);
}

std::optional<bool> casskop_reconciled_spec(const js::Value& cc) {
  const js::Value* v = js::find_path(cc, {derived_member, "casskopReconciledSpec"});
  if (!v || !v->IsBool()) return std::nullopt;
  return v->GetBool();
}

std::vector<std::string> refusable_fields_differing(const js::Value& ours, const js::Value& found) {
  std::vector<std::string> out;
  if (!ours.IsObject() || !found.IsObject()) return out;
  for (const char* key : {"nodesPerRacks", "dataCapacity", "dataStorageClass"})
    compare_scalar(ours, found, key, "spec", out);
  const js::Value* our_dcs = js::find_path(ours, {"topology", "dc"});
  if (!our_dcs || !our_dcs->IsArray()) return out;
  const js::Value* found_dcs = js::find_path(found, {"topology", "dc"});
  const rapidjson::SizeType found_count = found_dcs && found_dcs->IsArray() ? found_dcs->Size() : 0;
  if (found_count != our_dcs->Size()) {
    out.push_back(fmt::format("spec.topology.dc: {} written, {} found", names_of(our_dcs),
                              names_of(found_dcs)));
    return out;
  }
  for (rapidjson::SizeType i = 0; i < our_dcs->Size(); ++i) {
    const js::Value& o = (*our_dcs)[i];
    const js::Value& f = (*found_dcs)[i];
    if (!o.IsObject() || !f.IsObject()) continue;
    const std::string path = fmt::format("spec.topology.dc[{}]", i);
    for (const char* key : {"name", "nodesPerRacks", "dataCapacity", "dataStorageClass"})
      compare_scalar(o, f, key, path, out);
    const js::Value* our_racks = js::find(o, "rack");
    if (our_racks && our_racks->IsArray() && names_of(our_racks) != names_of(js::find(f, "rack")))
      out.push_back(fmt::format("{}.rack: {} written, {} found", path, names_of(our_racks),
                                names_of(js::find(f, "rack"))));
  }
  return out;
}

std::vector<std::string> fields_changed_since_our_write(const js::Value& cc) {
  std::vector<std::string> out;
  if (const js::Value* list = js::find_path(cc, {derived_member, "changedSinceOurWrite"});
      list && list->IsArray())
    for (const auto& e : list->GetArray())
      if (e.IsString()) out.emplace_back(js::view(e));
  return out;
}

text_digest status_digest(const js::Value& mcc) {
  if (const js::Value* d = js::find_path(mcc, {derived_member, "statusDigest"});
      d && d->IsObject()) {
    text_digest out;
    const js::Value* fnv = js::find(*d, "fnv");
    const js::Value* murmur = js::find(*d, "murmur");
    const js::Value* size = js::find(*d, "size");
    if (fnv && fnv->IsUint64() && murmur && murmur->IsUint64() && size && size->IsUint64()) {
      out.fnv = fnv->GetUint64();
      out.murmur = murmur->GetUint64();
      out.size = size->GetUint64();
    }
    return out;
  }
  const js::Value* status = js::find(mcc, "status");
  return status && status->IsObject() ? text_digest::of(js::canonical_text(*status))
                                      : text_digest{};
}

int64_t dropped_spec_bytes(const js::Value& mcc) {
  return js::get_int(mcc, {derived_member, "specBytes"}, 0);
}

}  // namespace mc
