#include "actors/casskop/logic/applied_hash.h"

#include <cstdio>
#include <initializer_list>

#include "actors/casskop/logic/go_json.h"
#include "actors/casskop/logic/json_build.h"
#include "actors/casskop/logic/quantity.h"
#include "k8s/json/base64.h"

namespace casskop {

namespace js = k8s::json;
using js::Allocator;
using js::Value;

namespace {

// deleteNullInObj of k8s-objectmatcher (deletenull.go): null, false, 0 and "" go; we also drop
// what is empty once they are gone, since omitempty keeps some empty structs and not others.
bool prune(Value& v) {  // true when v should be dropped
  switch (v.GetType()) {
    case rapidjson::kNullType:
    case rapidjson::kFalseType:
      return true;
    case rapidjson::kNumberType:
      return v.GetDouble() == 0;
    case rapidjson::kStringType:
      return v.GetStringLength() == 0;
    case rapidjson::kArrayType:
      for (auto& e : v.GetArray()) prune(e);  // elements stay: positions matter
      return v.Empty();
    case rapidjson::kObjectType:
      for (auto it = v.MemberBegin(); it != v.MemberEnd();) {
        if (prune(it->value))
          it = v.EraseMember(it);
        else
          ++it;
      }
      return v.ObjectEmpty();
    default:
      return false;
  }
}

Value* path_mut(Value& v, std::initializer_list<const char*> path) {
  Value* cur = &v;
  for (const char* key : path) {
    if (!cur->IsObject()) return nullptr;
    auto it = cur->FindMember(key);
    if (it == cur->MemberEnd()) return nullptr;
    cur = &it->value;
  }
  return cur;
}

template <class V>
V* named(V* arr, std::string_view name) {
  if (!arr || !arr->IsArray()) return nullptr;
  for (auto& e : arr->GetArray())
    if (js::get_string(e, "name") == name) return &e;
  return nullptr;
}

std::string hex64(uint64_t h) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

bool scalar(const Value& v) {
  return v.IsString() || v.IsNumber();
}
std::string text(const Value& v) {
  return v.IsString() ? std::string(js::view(v)) : js::to_string(v);
}

enum class mode { plain, resource_list, quantity };

bool equal(const Value& a, const Value& b, mode m) {
  if (m == mode::quantity && scalar(a) && scalar(b)) {
    std::string sa = text(a), sb = text(b);
    if (sa == sb) return true;
    auto qa = quantity_nanos(sa), qb = quantity_nanos(sb);
    return qa && qb && *qa == *qb;
  }
  if (a.IsNumber() && b.IsNumber()) return a.GetDouble() == b.GetDouble();
  if (a.GetType() != b.GetType()) return false;
  if (a.IsString()) return js::view(a) == js::view(b);
  if (a.IsArray()) {
    if (a.Size() != b.Size()) return false;
    for (rapidjson::SizeType i = 0; i < a.Size(); ++i)
      if (!equal(a[i], b[i], mode::plain)) return false;
    return true;
  }
  if (a.IsObject()) {
    if (a.MemberCount() != b.MemberCount()) return false;
    for (const auto& member : a.GetObject()) {
      auto it = b.FindMember(member.name);
      if (it == b.MemberEnd()) return false;
      std::string_view key = js::view(member.name);
      mode child = m == mode::resource_list                 ? mode::quantity
                   : (key == "limits" || key == "requests") ? mode::resource_list
                                                            : mode::plain;
      if (!equal(member.value, it->value, child)) return false;
    }
    return true;
  }
  return true;  // null, true: same type
}

void set_template_labels(Value& object, const Value& labels, Allocator& a) {
  Value& spec = js::ensure_object(object, "spec", a);
  Value& tmpl = js::ensure_object(spec, "template", a);
  js::set_member(js::ensure_object(tmpl, "metadata", a), "labels", Value(labels, a), a);
}

// The fields v2.1.0 changed after stamping its annotation (statefulset.go:216-258) are taken
// from the live object, which is what it wrote.
void overlay_from_live(Value& applied, const Value& live, Allocator& a) {
  if (const Value* labels = js::find_path(live, {"spec", "template", "metadata", "labels"}))
    set_template_labels(applied, *labels, a);
  if (const Value* replicas = js::find_path(live, {"spec", "replicas"}))
    js::set_member(js::ensure_object(applied, "spec", a), "replicas", Value(*replicas, a), a);
  const Value* live_boot =
      named(js::find_path(live, {"spec", "template", "spec", "initContainers"}), "bootstrap");
  Value* applied_boot =
      named(path_mut(applied, {"spec", "template", "spec", "initContainers"}), "bootstrap");
  if (!live_boot || !applied_boot) return;
  const Value* live_seeds = named(js::find(*live_boot, "env"), "CASSANDRA_SEEDS");
  Value* applied_seeds = named(path_mut(*applied_boot, {"env"}), "CASSANDRA_SEEDS");
  if (live_seeds && applied_seeds) *applied_seeds = Value(*live_seeds, a);
}

std::string annotation(const Value& object, const char* key) {
  return std::string(js::get_string(object, {"metadata", "annotations", key}));
}

}  // namespace

js::Document canonical(const Value& object) {
  js::Document d;
  d.CopyFrom(object, d.GetAllocator());
  if (d.IsObject()) {
    js::remove_member(d, "status");
    if (Value* meta = path_mut(d, {"metadata"})) {
      for (const char* f : {"ownerReferences", "resourceVersion", "uid", "creationTimestamp",
                            "generation", "managedFields", "selfLink"})
        js::remove_member(*meta, f);
      if (Value* ann = path_mut(*meta, {"annotations"})) {
        js::remove_member(*ann, applied_hash_annotation);
        js::remove_member(*ann, banzaicloud_last_applied);
      }
    }
  }
  prune(d);
  return d;
}

bool canonical_equal(const Value& a, const Value& b) {
  return equal(a, b, mode::plain);
}

std::string applied_hash(const Value& generated) {
  std::string text = go_marshal(canonical(generated));  // keys sorted: a canonical string
  uint64_t h = 14695981039346656037ull;                 // FNV-1a 64
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return hex64(h);
}

void stamp_applied_hash(Value& generated, Allocator& a) {
  std::string h = applied_hash(generated);
  Value& meta = js::ensure_object(generated, "metadata", a);
  js::set_string(js::ensure_object(meta, "annotations", a), applied_hash_annotation, h, a);
}

write_check needs_write(const Value& stored, const Value& generated) {
  const std::string ours = annotation(stored, applied_hash_annotation);
  if (!ours.empty()) {
    if (ours == applied_hash(generated)) return {false, "applied hash unchanged"};
    return {true, "applied hash differs"};
  }
  const std::string theirs = annotation(stored, banzaicloud_last_applied);
  if (theirs.empty()) return {true, "no last-applied annotation"};
  // GetOriginalConfiguration (annotation.go): base64, else the raw JSON of older versions.
  std::string decoded = k8s::base64_decode(theirs).value_or(theirs);
  js::Document applied;
  try {
    applied = js::parse(decoded);
  } catch (const std::exception&) {
    return {true, "unreadable v2.1.0 last-applied annotation"};
  }
  if (!applied.IsObject()) return {true, "unreadable v2.1.0 last-applied annotation"};
  overlay_from_live(applied, stored, applied.GetAllocator());
  // Template labels are never generated on an update (keep_immutable_from_stored): the live
  // ones on both sides.
  js::Document ours_now = js::copy_of(generated);
  if (const Value* labels = js::find_path(stored, {"spec", "template", "metadata", "labels"}))
    set_template_labels(ours_now, *labels, ours_now.GetAllocator());
  if (canonical_equal(canonical(applied), canonical(ours_now)))
    return {false, "same as v2.1.0 last applied"};
  return {true, "v2.1.0 last-applied differs"};
}

}  // namespace casskop
