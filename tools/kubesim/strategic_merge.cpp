#include "tools/kubesim/strategic_merge.h"

#include <string>
#include <string_view>

#include "k8s/json_patch.h"

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

enum class list_strategy { replace, merge_by_key, primitive_union };

struct list_rule {
  list_strategy strategy;
  std::string_view key;
};

bool any_element_has(const Value& list, std::string_view field) {
  if (!list.IsArray()) return false;
  for (auto& e : list.GetArray()) {
    if (find(e, field)) return true;
  }
  return false;
}

// Stands in for the Go struct tags the real server reads: decided by field name only.
list_rule rule_for(std::string_view field, const Value& target, const Value& patch) {
  struct entry {
    std::string_view field, key;
  };
  static constexpr entry kMergeKeys[] = {
      {"containers", "name"},          {"initContainers", "name"},
      {"ephemeralContainers", "name"}, {"volumes", "name"},
      {"imagePullSecrets", "name"},    {"env", "name"},
      {"volumeMounts", "mountPath"},   {"volumeDevices", "devicePath"},
      {"ownerReferences", "uid"},      {"conditions", "type"},
      {"hostAliases", "ip"},           {"topologySpreadConstraints", "topologyKey"},
  };
  if (field == "finalizers") return {list_strategy::primitive_union, {}};
  if (field == "ports") {
    // Container ports are keyed by containerPort, Service ports (which have none) by port.
    bool container =
        any_element_has(target, "containerPort") || any_element_has(patch, "containerPort");
    bool service = any_element_has(target, "port") || any_element_has(patch, "port");
    return {list_strategy::merge_by_key, !container && service ? "port" : "containerPort"};
  }
  for (const auto& e : kMergeKeys) {
    if (e.field == field) return {list_strategy::merge_by_key, e.key};
  }
  return {list_strategy::replace, {}};
}

void merge_map(Value& target, const Value& patch, Allocator& a);

void merge_keyed_list(Value& target, const Value& patch, std::string_view key, Allocator& a) {
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
      merge_map(*existing, e, a);
    } else {
      Value fresh(rapidjson::kObjectType);  // merged, not copied, so directives are stripped
      merge_map(fresh, e, a);
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

void merge_list(Value& target, const Value& patch, std::string_view field, Allocator& a) {
  list_rule rule = rule_for(field, target, patch);
  switch (rule.strategy) {
    case list_strategy::replace:
      target.CopyFrom(patch, a);
      return;
    case list_strategy::primitive_union:
      if (!target.IsArray()) target.SetArray();
      for (auto& e : patch.GetArray()) {
        if (!list_contains(target, e)) target.PushBack(Value(e, a), a);
      }
      return;
    case list_strategy::merge_by_key:
      merge_keyed_list(target, patch, rule.key, a);
      return;
  }
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

void merge_map(Value& target, const Value& patch, Allocator& a) {
  std::string_view directive = directive_of(patch);
  if (directive == "delete") {
    target.SetObject();
    return;
  }
  if (directive == "replace" || !target.IsObject()) target.SetObject();
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
      merge_map(it->value, m.value, a);
    } else if (m.value.IsArray()) {
      merge_list(it->value, m.value, name, a);
      // A new list made only of delete directives would be an empty list nobody asked for.
      if (is_new && it->value.Empty() && !m.value.Empty()) target.EraseMember(it);
    } else {
      it->value.CopyFrom(m.value, a);
    }
  }
}

}  // namespace

void apply_strategic_merge_patch(Value& target, const Value& patch, Allocator& a) {
  if (!patch.IsObject()) {
    target.CopyFrom(patch, a);  // as RFC 7386 would; the real server rejects such a patch
    return;
  }
  // Work on a copy so a malformed directive deep inside leaves the caller's object untouched.
  Value work(target, a);
  merge_map(work, patch, a);
  target.Swap(work);
}

}  // namespace kubesim
