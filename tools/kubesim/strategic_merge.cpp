#include "tools/kubesim/strategic_merge.h"

#include <string>
#include <string_view>

#include "k8s/json/json_patch.h"
#include "tools/kubesim/builtin_schema.h"

namespace kubesim {
namespace {

using k8s::json::Allocator;
using k8s::json::find;
using k8s::json::json_patch_error;
using k8s::json::Value;
using k8s::json::view;

constexpr std::string_view kPatchDirective = "$patch";
constexpr std::string_view kRetainKeys = "$retainKeys";
constexpr std::string_view kSetElementOrder = "$setElementOrder/";
constexpr std::string_view kDeleteFromPrimitiveList = "$deleteFromPrimitiveList/";

[[noreturn]] void invalid(const std::string& message) {
  throw json_patch_error(json_patch_error::kind::invalid_patch, message);
}

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// The `$patch` directive of a patch map: "" when absent, else replace / delete / merge.
std::string_view directive_of(const Value& patch) {
  const Value* d = find(patch, kPatchDirective);
  if (!d) return {};
  std::string_view s = view(*d);
  if (s != "replace" && s != "delete" && s != "merge") {
    invalid("unknown patch type: " + k8s::json::to_string(*d) +
            " in map: " + k8s::json::to_string(patch));
  }
  return s;
}

namespace bs = builtin_schema;

// The Go type at a node of the patched object, standing in for the reflect.Type that
// k8s.io/apimachinery pkg/util/strategicpatch (PatchMetaFromStruct) walks: a struct (msg), a
// Go map whose values are of `values_of`'s element type, or untyped (both null: a field the
// types do not know, RawExtension, or a kind without types).
struct go_type {
  const bs::message* msg = nullptr;
  const bs::field* values_of = nullptr;
};

// The type of a list's or a Go map's elements.
go_type type_of_element(const bs::field& f) {
  if (f.msg && f.msg->form == bs::json_form::fields) return {f.msg, nullptr};
  return {};
}

// The type of a struct field's value.
go_type type_of(const bs::field* f) {
  if (!f) return {};
  if (f->map) return {nullptr, f};
  if (f->msg && f->msg->form == bs::json_form::fields) return {f->msg, nullptr};
  return {};
}

// The field `name` of the struct at `t` (null for a Go map's key or an untyped node).
const bs::field* field_of(const go_type& t, std::string_view name) {
  return t.msg ? t.msg->find(name) : nullptr;
}

// The type of a member's value: a struct field's, or a Go map's element type.
go_type member_type(const go_type& t, std::string_view name) {
  if (t.values_of) return type_of_element(*t.values_of);
  return type_of(field_of(t, name));
}

// The patchStrategy tag's strategies ("merge,retainKeys" -> merge, retainKeys).
bool has_strategy(const bs::field* f, std::string_view strategy) {
  if (!f) return false;
  std::string_view s = f->patch_strategy;
  while (!s.empty()) {
    auto comma = s.find(',');
    if (s.substr(0, comma) == strategy) return true;
    s = comma == std::string_view::npos ? std::string_view() : s.substr(comma + 1);
  }
  return false;
}

void merge_map(Value& target, const Value& patch, const go_type& type, Allocator& a);

// A list of structs with patchStrategy merge: elements merge by their patchMergeKey.
void merge_keyed_list(Value& target, const Value& patch, std::string_view key,
                      const go_type& element, Allocator& a) {
  if (!target.IsArray()) target.SetArray();
  for (auto& e : patch.GetArray()) {
    if (e.IsObject() && directive_of(e) == "replace") {
      target.SetArray();  // the other patch elements become the whole list
      break;
    }
  }
  for (auto& e : patch.GetArray()) {
    if (!e.IsObject()) {
      invalid("list element " + k8s::json::to_string(e) + " is not a map with merge key " +
              std::string(key));
    }
    std::string_view directive = directive_of(e);
    if (directive == "replace") continue;
    const Value* wanted = find(e, key);
    if (!wanted) {
      invalid("map: " + k8s::json::to_string(e) +
              " does not contain declared merge key: " + std::string(key));
    }
    auto matches = [&](const Value& existing) {
      const Value* k = find(existing, key);
      return k && *k == *wanted;
    };
    if (directive == "delete") {
      for (auto it = target.Begin(); it != target.End();) {
        it = matches(*it) ? target.Erase(it) : it + 1;
      }
      continue;
    }
    Value* existing = nullptr;
    for (auto& t : target.GetArray()) {
      if (matches(t)) {
        existing = &t;
        break;
      }
    }
    if (existing) {
      merge_map(*existing, e, element, a);
    } else {
      Value fresh(rapidjson::kObjectType);  // merged, not copied, so directives are stripped
      merge_map(fresh, e, element, a);
      target.PushBack(fresh, a);
    }
  }
}

bool list_contains(const Value& list, const Value& v) {
  for (auto& e : list.GetArray()) {
    if (e == v) return true;
  }
  return false;
}

// mergeSliceHandler: a field tagged patchStrategy merge merges (structs by the merge key,
// primitives as a set); any other list is replaced by the patch's.
void merge_list(Value& target, const Value& patch, const bs::field* f, Allocator& a) {
  if (!has_strategy(f, "merge")) {
    target.CopyFrom(patch, a);
    return;
  }
  go_type element = type_of_element(*f);
  if (!element.msg) {
    if (!target.IsArray()) target.SetArray();
    for (auto& e : patch.GetArray()) {
      if (!list_contains(target, e)) target.PushBack(Value(e, a), a);
    }
    return;
  }
  if (f->patch_merge_key.empty()) invalid("cannot merge lists without merge key for " + f->name);
  merge_keyed_list(target, patch, f->patch_merge_key, element, a);
}

// `$deleteFromPrimitiveList/<field>: [values]` removes those values from target[field].
void delete_from_primitive_list(Value& target, std::string_view field, const Value& values) {
  if (!values.IsArray()) {
    invalid("$deleteFromPrimitiveList/" + std::string(field) + " must be a list");
  }
  auto it = target.FindMember(Value(rapidjson::StringRef(field.data(), field.size())));
  if (it == target.MemberEnd() || !it->value.IsArray()) return;
  Value& list = it->value;
  for (auto e = list.Begin(); e != list.End();) {
    e = list_contains(values, *e) ? list.Erase(e) : e + 1;
  }
}

// applyRetainKeysDirective (as the server merges, MergeParallelList): every patched key must be
// in the `$retainKeys` list, and the target keeps only the listed keys.
void retain_keys(Value& target, const Value& patch, const Value& retain) {
  if (!retain.IsArray()) invalid("invalid patch format of retainKeys");
  auto listed = [&](std::string_view key) {
    for (auto& k : retain.GetArray()) {
      if (k.IsString() && view(k) == key) return true;
    }
    return false;
  };
  for (auto& m : patch.GetObject()) {
    std::string_view name = view(m.name);
    if (m.value.IsNull() || name == kRetainKeys || name == kPatchDirective ||
        starts_with(name, kDeleteFromPrimitiveList) || starts_with(name, kSetElementOrder)) {
      continue;
    }
    if (!listed(name)) invalid("invalid patch format of retainKeys");
  }
  for (auto it = target.MemberBegin(); it != target.MemberEnd();) {
    it = listed(view(it->name)) ? it + 1 : target.EraseMember(it);
  }
}

void merge_map(Value& target, const Value& patch, const go_type& type, Allocator& a) {
  std::string_view directive = directive_of(patch);
  if (directive == "delete") {
    target.SetObject();
    return;
  }
  if (directive == "replace" || !target.IsObject()) target.SetObject();
  if (const Value* retain = find(patch, kRetainKeys)) retain_keys(target, patch, *retain);
  for (auto& m : patch.GetObject()) {
    std::string_view name = view(m.name);
    if (name == kPatchDirective || name == kRetainKeys || starts_with(name, kSetElementOrder)) {
      continue;
    }
    if (starts_with(name, kDeleteFromPrimitiveList)) {
      delete_from_primitive_list(target, name.substr(kDeleteFromPrimitiveList.size()), m.value);
      continue;
    }
    if (m.value.IsNull() || (m.value.IsObject() && directive_of(m.value) == "delete")) {
      k8s::json::remove_member(target, name);
      continue;
    }
    auto it = target.FindMember(m.name);
    const bool is_new = it == target.MemberEnd();
    if (is_new) {
      // Merge into a fresh null rather than copy, so directives in new subtrees are processed.
      target.AddMember(Value(m.name, a), Value(), a);
      it = target.MemberEnd() - 1;
    }
    if (m.value.IsObject()) {
      if (has_strategy(field_of(type, name), "replace") && !is_new) {
        it->value.CopyFrom(m.value, a);  // mergeMapHandler: the patch's map as it is
      } else {
        merge_map(it->value, m.value, member_type(type, name), a);
      }
    } else if (m.value.IsArray()) {
      merge_list(it->value, m.value, type.values_of ? nullptr : field_of(type, name), a);
      // A new list made only of delete directives would be an empty list nobody asked for.
      if (is_new && it->value.Empty() && !m.value.Empty()) target.EraseMember(it);
    } else {
      it->value.CopyFrom(m.value, a);
    }
  }
}

}  // namespace

void apply_strategic_merge_patch(Value& target, const Value& patch, Allocator& a,
                                 const builtin_schema::message* type) {
  if (!patch.IsObject()) {
    target.CopyFrom(patch, a);  // as RFC 7386 would; the real server rejects such a patch
    return;
  }
  // Work on a copy so a malformed directive deep inside leaves the caller's object untouched.
  Value work(target, a);
  merge_map(work, patch,
            type && type->form == bs::json_form::fields ? go_type{type, nullptr} : go_type{}, a);
  target.Swap(work);
}

const builtin_schema::message* strategic_merge_type(const resource_type& t,
                                                    const std::string& version) {
  if (t.custom) return nullptr;
  const auto& m = builtin_schema::model::get();
  const builtin_schema::message* root = nullptr;
  if (!version.empty()) root = m.root(t.group, version, t.kind);
  return root ? root : m.root(t.group, t.storage_version(), t.kind);
}

}  // namespace kubesim
