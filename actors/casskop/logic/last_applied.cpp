#include "actors/casskop/logic/last_applied.h"

namespace casskop {
namespace js = k8s::json;

namespace {

// metav1.ObjectMeta's fields in declaration order: json.Marshal writes them so, and v2.1.0
// compares the annotation as a string (reconcile.go:122).
constexpr const char* object_meta_order[] = {"name",
                                             "generateName",
                                             "namespace",
                                             "selfLink",
                                             "uid",
                                             "resourceVersion",
                                             "generation",
                                             "creationTimestamp",
                                             "deletionTimestamp",
                                             "deletionGracePeriodSeconds",
                                             "labels",
                                             "annotations",
                                             "ownerReferences",
                                             "finalizers",
                                             "clusterName",
                                             "managedFields"};

}  // namespace

std::string compute_last_applied(const js::Value& object, const cluster_spec& spec) {
  js::Document d;
  d.SetObject();
  auto& a = d.GetAllocator();
  // TypeMeta is inline: kind, then apiVersion.
  for (const char* key : {"kind", "apiVersion"})
    if (const js::Value* v = js::find(object, key); v && v->IsString() && v->GetStringLength())
      d.AddMember(js::string_value(key, a), js::Value(*v, a), a);
  js::Value meta(rapidjson::kObjectType);
  const js::Value* m = js::find(object, "metadata");
  auto copy = [&](const char* key) {
    if (std::string(key) == "annotations" || std::string(key) == "resourceVersion") return;
    const js::Value* v = m ? js::find(*m, key) : nullptr;
    if (std::string(key) == "creationTimestamp") {
      // metav1.Time is a struct: omitempty does not drop it, a zero time is written as null.
      meta.AddMember("creationTimestamp", v ? js::Value(*v, a) : js::Value(), a);
      return;
    }
    if (v && !v->IsNull()) meta.AddMember(js::string_value(key, a), js::Value(*v, a), a);
  };
  for (const char* key : object_meta_order) copy(key);
  if (m && m->IsObject())  // fields newer than our list keep their place at the end
    for (const auto& f : m->GetObject()) {
      bool known = false;
      for (const char* key : object_meta_order) known = known || js::view(f.name) == key;
      if (!known) meta.AddMember(js::Value(f.name, a), js::Value(f.value, a), a);
    }
  d.AddMember("metadata", std::move(meta), a);
  js::Document s = spec_to_json(spec);
  d.AddMember("spec", js::Value(s, a), a);
  d.AddMember("status", js::Value(rapidjson::kObjectType), a);
  return js::to_string(d);
}

last_applied_read read_last_applied(const js::Value& object) {
  last_applied_read out;
  const js::Value* v = js::find_path(object, {"metadata", "annotations", last_applied_annotation});
  if (!v || !v->IsString() || v->GetStringLength() == 0) return out;
  js::Document stored;
  try {
    stored = js::parse(js::view(*v));
  } catch (const std::exception& e) {
    out.error =
        std::string("the annotation ") + last_applied_annotation + " is not JSON: " + e.what();
    return out;
  }
  if (!stored.IsObject()) {
    out.error = std::string("the annotation ") + last_applied_annotation + " is not a JSON object";
    return out;
  }
  parsed_cluster p = parse_cluster(stored);
  // The stored spec was accepted once: its problems (if any) are not the user's new ones.
  out.spec = std::move(p.spec);
  return out;
}

}  // namespace casskop
