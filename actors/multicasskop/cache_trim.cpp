#include "actors/multicasskop/cache_trim.h"

#include "actors/multicasskop/spec.h"

namespace mc {
namespace js = k8s::json;

namespace {

constexpr const char* kubectl_last_applied = "kubectl.kubernetes.io/last-applied-configuration";

bool droppable_spec(const js::Value& obj, watched_kind kind) {
  return kind == watched_kind::cassandracluster && js::find(obj, "spec") &&
         !js::get_string(obj, {"metadata", "annotations", last_applied_annotation}).empty();
}

}  // namespace

object_ptr trim_for_cache(const object_ptr& obj, watched_kind kind) {
  if (!obj || !obj->IsObject()) return obj;
  const js::Value* meta = js::find(*obj, "metadata");
  const bool managed_fields = meta && js::find(*meta, "managedFields");
  const bool kubectl_record =
      !js::get_string(*obj, {"metadata", "annotations", kubectl_last_applied}).empty();
  const bool spec = droppable_spec(*obj, kind);
  if (!managed_fields && !kubectl_record && !spec) return obj;
  // Removing members from a RapidJSON pool frees nothing: copy, trim, then copy compactly.
  js::Document d = js::copy_of(*obj);
  if (managed_fields) js::remove_member(d["metadata"], "managedFields");
  if (kubectl_record) js::remove_member(d["metadata"]["annotations"], kubectl_last_applied);
  if (spec) js::remove_member(d, "spec");
  return js::compact_copy(d);
}

}  // namespace mc
