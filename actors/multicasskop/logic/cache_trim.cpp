#include "actors/multicasskop/logic/cache_trim.h"

#include "actors/multicasskop/logic/spec.h"

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
  if (!casskop_record.empty()) {
    js::Value derived(rapidjson::kObjectType);
    derived.AddMember("casskopReconciledSpec", record_matches_spec(casskop_record, cc), a);
    js::set_member(d, derived_member, std::move(derived), a);
  }
  return js::compact_copy(d);
}

object_ptr trim_multicasskop(const object_ptr& obj, bool managed_fields, bool kubectl_record,
                             const cache_limits& limits) {
  const js::Value* spec = js::find(*obj, "spec");
  const int64_t spec_bytes = spec ? static_cast<int64_t>(js::to_string(*spec).size()) : 0;
  const bool oversized = spec_bytes > limits.max_multicasskop_spec_bytes;
  if (!managed_fields && !kubectl_record && !oversized) return obj;
  js::Document d = js::copy_of(*obj);
  auto& a = d.GetAllocator();
  if (managed_fields) js::remove_member(d["metadata"], "managedFields");
  if (kubectl_record) js::remove_member(d["metadata"]["annotations"], kubectl_last_applied);
  if (oversized) {
    js::Value kept(rapidjson::kObjectType);
    if (const js::Value* del = js::find(*spec, "deleteCassandraCluster"))
      kept.AddMember("deleteCassandraCluster", js::Value(*del, a), a);
    js::set_member(d, "spec", std::move(kept), a);
    js::Value derived(rapidjson::kObjectType);
    derived.AddMember("specBytes", js::Value(spec_bytes), a);
    derived.AddMember("maxSpecBytes",
                      js::Value(static_cast<int64_t>(limits.max_multicasskop_spec_bytes)), a);
    js::set_member(d, derived_member, std::move(derived), a);
  }
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

int64_t dropped_spec_bytes(const js::Value& mcc) {
  return js::get_int(mcc, {derived_member, "specBytes"}, 0);
}

}  // namespace mc
