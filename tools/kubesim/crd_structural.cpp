// What kube-apiserver v1.32 checks on a CRD version's schema when the CRD is created or updated
// (apiextensions-apiserver v0.32.4): pkg/apis/apiextensions/validation/validation.go
// (validateCustomResourceDefinitionValidation, ValidateCustomResourceDefinitionOpenAPISchema,
// validateMapListKeysMapSet), pkg/apiserver/schema/validation.go (ValidateStructural: its errors
// sorted by text), complete.go and defaulting/validation.go (ValidateDefaults), on the JSON the
// CRD holds.
//
// Left out: CEL rules (x-kubernetes-validations are accepted, never compiled nor evaluated), the
// compilation of patterns with Go's RE2 (std::regex would refuse RE2 syntax it lacks), and the
// relaxations the server grants to CRDs that were stored before a rule existed.
#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "tools/kubesim/crd_schema.h"
#include "tools/kubesim/field_errors.h"

namespace kubesim::crd {
namespace js = k8s::json;

namespace {

using errors = std::vector<status_cause>;

enum class level { root, item, field };

std::string props(const std::string& path, std::string_view k) {
  return field::key(field::child(path, "properties"), k);
}

bool flag(const js::Value& s, const char* key) {
  return js::get_bool(s, {key}, false);
}
std::string text(const js::Value& s, const char* key) {
  return std::string(js::get_string(s, key));
}

const js::Value* object_member(const js::Value& s, const char* key) {
  const js::Value* v = js::find(s, key);
  return v && v->IsObject() ? v : nullptr;
}

// The int-or-string patterns that may carry types inside anyOf: anyOf [{type: integer},
// {type: string}], directly or as allOf[0].
bool is_int_or_string_any_of(const js::Value* any_of) {
  if (!any_of || !any_of->IsArray() || any_of->Size() != 2) return false;
  const char* expected[] = {"integer", "string"};
  for (rapidjson::SizeType i = 0; i < 2; ++i) {
    const js::Value& e = (*any_of)[i];
    if (!e.IsObject() || e.MemberCount() != 1 || js::get_string(e, "type") != expected[i])
      return false;
  }
  return true;
}

// --- ValidateStructural --------------------------------------------------------------------------

// validateNestedValueValidation: what anyOf, allOf, oneOf and not may hold in a structural schema.
void nested_value_validation(const js::Value* v, bool skip_any_of, const std::string& path,
                             errors& out);

void value_validation(const js::Value& v, bool skip_any_of, bool skip_first_all_of_any_of,
                      const std::string& path, errors& out) {
  auto each = [&](const char* key, auto&& per_item) {
    if (const js::Value* list = js::find(v, key); list && list->IsArray())
      for (rapidjson::SizeType i = 0; i < list->Size(); ++i)
        per_item(&(*list)[i], field::index(field::child(path, key), i), i);
  };
  if (!skip_any_of)
    each("anyOf", [&](const js::Value* e, const std::string& p, size_t) {
      nested_value_validation(e, false, p, out);
    });
  each("allOf", [&](const js::Value* e, const std::string& p, size_t i) {
    nested_value_validation(e, skip_first_all_of_any_of && i == 0, p, out);
  });
  each("oneOf", [&](const js::Value* e, const std::string& p, size_t) {
    nested_value_validation(e, false, p, out);
  });
  nested_value_validation(object_member(v, "not"), false, field::child(path, "not"), out);
}

void nested_value_validation(const js::Value* v, bool skip_any_of, const std::string& path,
                             errors& out) {
  if (!v || !v->IsObject()) return;
  value_validation(*v, skip_any_of, false, path, out);
  nested_value_validation(object_member(*v, "items"), false, field::child(path, "items"), out);
  if (const js::Value* p = object_member(*v, "properties"))
    for (const auto& m : p->GetObject())
      nested_value_validation(&m.value, false, props(path, js::view(m.name)), out);
  auto forbid = [&](bool present, const char* key, const char* detail) {
    if (present) out.push_back(field::forbidden(field::child(path, key), detail));
  };
  forbid(js::find(*v, "type"), "type", "must be empty to be structural");
  forbid(js::find(*v, "additionalProperties"), "additionalProperties",
         "must be undefined to be structural");
  forbid(js::find(*v, "default"), "default", "must be undefined to be structural");
  forbid(!text(*v, "title").empty(), "title", "must be empty to be structural");
  forbid(!text(*v, "description").empty(), "description", "must be empty to be structural");
  forbid(flag(*v, "nullable"), "nullable", "must be false to be structural");
  for (const char* ext : {"x-kubernetes-preserve-unknown-fields", "x-kubernetes-embedded-resource",
                          "x-kubernetes-int-or-string"})
    forbid(flag(*v, ext), ext, "must be false to be structural");
  forbid(js::find(*v, "x-kubernetes-list-map-keys") &&
             !js::find(*v, "x-kubernetes-list-map-keys")->Empty(),
         "x-kubernetes-list-map-keys", "must be empty to be structural");
  forbid(js::find(*v, "x-kubernetes-list-type"), "x-kubernetes-list-type",
         "must be undefined to be structural");
  forbid(js::find(*v, "x-kubernetes-map-type"), "x-kubernetes-map-type",
         "must be undefined to be structural");
  forbid(js::find(*v, "x-kubernetes-validations"), "x-kubernetes-validations",
         "must be empty to be structural");
  if (const js::Value* p = object_member(*v, "properties"); p && js::find(*p, "metadata"))
    out.push_back(
        field::forbidden(props(path, "metadata"), "must not be specified in a nested context"));
}

// validateStructuralMetadataInvariants: the root's metadata may only say it is an object (and
// name its name and generateName).
void metadata_invariants(const js::Value& s, bool check_metadata, level lvl,
                         const std::string& path, errors& out) {
  if (check_metadata && text(s, "type") != "object")
    out.push_back(field::invalid(field::child(path, "type"), field::go_quote(text(s, "type")),
                                 "must be object"));
  if (lvl != level::root) return;
  size_t meaningful = 0;
  for (const auto& m : s.GetObject()) {
    auto k = js::view(m.name);
    if (k == "type" || k == "default") continue;
    if (k == "properties" && m.value.IsObject()) {
      std::set<std::string_view> names;
      for (const auto& p : m.value.GetObject()) names.insert(js::view(p.name));
      names.erase("name");
      names.erase("generateName");
      if (names.empty()) continue;
    }
    ++meaningful;
  }
  if (meaningful > 0)
    out.push_back(field::forbidden(path,
                                   "must not specify anything other than name and generateName, "
                                   "but metadata is implicitly specified"));
}

// validateStructuralInvariants.
void structural_invariants(const js::Value& s, level lvl, const std::string& path, errors& out) {
  if (!s.IsObject()) return;
  const std::string type = text(s, "type");
  const bool preserve = flag(s, "x-kubernetes-preserve-unknown-fields");
  const bool int_or_string = flag(s, "x-kubernetes-int-or-string");
  const bool embedded = flag(s, "x-kubernetes-embedded-resource");
  const js::Value* items = object_member(s, "items");
  const js::Value* properties = object_member(s, "properties");
  const js::Value* additional = js::find(s, "additionalProperties");

  if (type == "array" && !items)
    out.push_back(field::required(field::child(path, "items"), "must be specified"));
  if (items) structural_invariants(*items, level::item, field::child(path, "items"), out);
  if (properties)
    for (const auto& m : properties->GetObject())
      structural_invariants(m.value, level::field, props(path, js::view(m.name)), out);
  if (additional) {
    if (lvl == level::root)
      out.push_back(field::forbidden(field::child(path, "additionalProperties"),
                                     "must not be used at the root"));
    if (additional->IsObject())
      structural_invariants(*additional, level::field, field::child(path, "additionalProperties"),
                            out);
  }
  if (int_or_string && preserve)
    out.push_back(field::invalid(field::child(path, "x-kubernetes-preserve-unknown-fields"), "true",
                                 "must be false if x-kubernetes-int-or-string is true"));
  if (int_or_string && embedded)
    out.push_back(field::invalid(field::child(path, "x-kubernetes-embedded-resource"), "true",
                                 "must be false if x-kubernetes-int-or-string is true"));
  const js::Value* all_of = js::find(s, "allOf");
  value_validation(s, is_int_or_string_any_of(js::find(s, "anyOf")),
                   all_of && all_of->IsArray() && !all_of->Empty() &&
                       is_int_or_string_any_of(js::find((*all_of)[0], "anyOf")),
                   path, out);

  const bool check_metadata = lvl == level::root || embedded;
  if (embedded && type != "object") {
    const char* why = "must be object if x-kubernetes-embedded-resource is true";
    out.push_back(type.empty()
                      ? field::required(field::child(path, "type"), why)
                      : field::invalid(field::child(path, "type"), field::go_quote(type), why));
  } else if (type.empty() && !int_or_string && !preserve) {
    const char* why = lvl == level::root   ? "must not be empty at the root"
                      : lvl == level::item ? "must not be empty for specified array items"
                                           : "must not be empty for specified object fields";
    out.push_back(field::required(field::child(path, "type"), why));
  }
  if (embedded && additional)
    out.push_back(field::forbidden(field::child(path, "additionalProperties"),
                                   "must not be used if x-kubernetes-embedded-resource is set"));
  if (lvl == level::root && !type.empty() && type != "object")
    out.push_back(field::invalid(field::child(path, "type"), field::go_quote(type),
                                 "must be object at the root"));
  for (const char* meta : {"kind", "apiVersion"})
    if (const js::Value* p = properties ? object_member(*properties, meta) : nullptr;
        p && check_metadata && text(*p, "type") != "string")
      out.push_back(field::invalid(field::child(props(path, meta), "type"),
                                   field::go_quote(text(*p, "type")), "must be string"));
  if (const js::Value* meta = properties ? object_member(*properties, "metadata") : nullptr)
    metadata_invariants(*meta, check_metadata, lvl, props(path, "metadata"), out);
  if (embedded && !preserve && (!properties || properties->MemberCount() == 0))
    out.push_back(field::required(field::child(path, "properties"),
                                  "must not be empty if x-kubernetes-embedded-resource is true "
                                  "without x-kubernetes-preserve-unknown-fields"));
}

// validateStructuralCompleteness: the properties the root's value validations name must exist.
void nested_completeness(const js::Value* v, const js::Value* s, const std::string& s_path,
                         const std::string& v_path, errors& out);

void value_completeness(const js::Value& v, const js::Value* s, const std::string& s_path,
                        const std::string& v_path, errors& out) {
  nested_completeness(object_member(v, "not"), s, s_path, field::child(v_path, "not"), out);
  for (const char* key : {"allOf", "anyOf", "oneOf"})
    if (const js::Value* list = js::find(v, key); list && list->IsArray())
      for (rapidjson::SizeType i = 0; i < list->Size(); ++i)
        nested_completeness(&(*list)[i], s, s_path, field::index(field::child(v_path, key), i),
                            out);
}

void nested_completeness(const js::Value* v, const js::Value* s, const std::string& s_path,
                         const std::string& v_path, errors& out) {
  if (!v || !v->IsObject()) return;
  if (!s) {
    out.push_back(field::required(s_path, "because it is defined in " + v_path));
    return;
  }
  value_completeness(*v, s, s_path, v_path, out);
  if (const js::Value* items = object_member(*v, "items"))
    nested_completeness(items, object_member(*s, "items"), field::child(s_path, "items"),
                        field::child(v_path, "items"), out);
  if (const js::Value* p = object_member(*v, "properties")) {
    const js::Value* sp = object_member(*s, "properties");
    for (const auto& m : p->GetObject()) {
      const js::Value* sf =
          sp ? object_member(*sp, std::string(js::view(m.name)).c_str()) : nullptr;
      if (!sf)
        out.push_back(
            field::required(props(s_path, js::view(m.name)),
                            "because it is defined in " + props(v_path, js::view(m.name))));
      else
        nested_completeness(&m.value, sf, props(s_path, js::view(m.name)),
                            props(v_path, js::view(m.name)), out);
    }
  }
}

// --- ValidateDefaults ----------------------------------------------------------------------------

// pruning.Prune(default, s): whether pruning the default with its own node drops anything. The
// default is pruned as the member of a one-property object, so that its node is not the root.
bool default_has_unknown_fields(const js::Value& s, const js::Value& d) {
  js::Document holder(rapidjson::kObjectType);
  holder.AddMember("v", js::Value(d, holder.GetAllocator()), holder.GetAllocator());
  js::Document wrapper(rapidjson::kObjectType);
  auto& a = wrapper.GetAllocator();
  js::Value properties(rapidjson::kObjectType);
  properties.AddMember("v", js::Value(s, a), a);
  wrapper.AddMember("type", "object", a);
  wrapper.AddMember("properties", properties, a);
  try {
    return !structural_schema(wrapper).prune(holder, holder.GetAllocator()).empty();
  } catch (const decode_error&) {
    return true;
  }
}

// Every default must be pruned already and valid for its own node (defaults inside an embedded
// resource's ObjectMeta are not checked here).
void defaults(const js::Value& s, const std::string& path, errors& out) {
  if (!s.IsObject()) return;
  if (const js::Value* d = js::find(s, "default")) {
    if (default_has_unknown_fields(s, *d))
      out.push_back(field::invalid(field::child(path, "default"), field::go_value(*d),
                                   "must not have unknown fields"));
    for (auto& e : validate_value(parse_schema_node(s), *d, field::child(path, "default")))
      out.push_back(std::move(e));
  }
  if (const js::Value* items = object_member(s, "items"))
    defaults(*items, field::child(path, "items"), out);
  if (const js::Value* p = object_member(s, "properties"))
    for (const auto& m : p->GetObject()) defaults(m.value, props(path, js::view(m.name)), out);
  if (const js::Value* ap = object_member(s, "additionalProperties"))
    defaults(*ap, field::child(path, "additionalProperties"), out);
}

// --- ValidateCustomResourceDefinitionOpenAPISchema ----------------------------------------------

struct openapi_context {
  bool allow_defaults = true;
  std::string no_defaults_reason;
  bool inside_resource_meta = false;
};

void list_type_rules(const js::Value& s, const std::string& path, errors& out) {
  const std::string type = text(s, "type");
  const js::Value* list_type_v = js::find(s, "x-kubernetes-list-type");
  const std::string list_type = list_type_v ? text(s, "x-kubernetes-list-type") : "";
  const js::Value* keys = js::find(s, "x-kubernetes-list-map-keys");
  const js::Value* items = object_member(s, "items");
  const std::string list_type_path = field::child(path, "x-kubernetes-list-type");
  if (list_type_v && type != "array") {
    const char* why = "must be array if x-kubernetes-list-type is specified";
    out.push_back(type.empty()
                      ? field::required(field::child(path, "type"), why)
                      : field::invalid(field::child(path, "type"), field::go_quote(type), why));
  } else if (list_type == "set" && items) {
    const std::string item_type = text(*items, "type");
    if (item_type == "array" && js::find(*items, "x-kubernetes-list-type") &&
        text(*items, "x-kubernetes-list-type") != "atomic")
      out.push_back(
          field::invalid(field::child(field::child(path, "items"), "x-kubernetes-list-type"),
                         field::go_quote(text(*items, "x-kubernetes-list-type")),
                         "must be atomic as item of a list with x-kubernetes-list-type=set"));
    if (item_type == "object" && text(*items, "x-kubernetes-map-type") != "atomic")
      out.push_back(field::invalid(
          field::child(field::child(path, "items"), "x-kubernetes-map-type"), "\"null\"",
          "must be atomic as item of a list with x-kubernetes-list-type=set"));
  }
  if (list_type_v && list_type != "atomic" && list_type != "set" && list_type != "map")
    out.push_back(
        field::not_supported(list_type_path, field::go_quote(list_type), {"atomic", "set", "map"}));
  const bool has_keys = keys && keys->IsArray() && !keys->Empty();
  if (has_keys && !list_type_v)
    out.push_back(
        field::required(list_type_path, "must be map if x-kubernetes-list-map-keys is non-empty"));
  else if (has_keys && list_type != "map")
    out.push_back(field::invalid(list_type_path, field::go_quote(list_type),
                                 "must be map if x-kubernetes-list-map-keys is non-empty"));
  if (list_type != "map") return;
  const std::string keys_path = field::child(path, "x-kubernetes-list-map-keys");
  if (!has_keys)
    out.push_back(field::required(keys_path, "must not be empty if x-kubernetes-list-type is map"));
  if (!items) {
    out.push_back(field::required(field::child(path, "items"),
                                  "must have a schema if x-kubernetes-list-type is map"));
    return;
  }
  const std::string item_type = text(*items, "type");
  if (item_type != "object") {
    out.push_back(field::invalid(field::child(field::child(path, "items"), "type"),
                                 field::go_quote(item_type),
                                 "must be object if parent array's x-kubernetes-list-type is map"));
    return;
  }
  if (!has_keys) return;
  std::string keys_value;
  for (const auto& k : keys->GetArray())
    keys_value += (keys_value.empty() ? "" : ", ") + field::go_quote(js::view(k));
  keys_value = "[]string{" + keys_value + "}";
  const js::Value* item_props = object_member(*items, "properties");
  std::set<std::string> seen, required;
  if (const js::Value* r = js::find(*items, "required"); r && r->IsArray())
    for (const auto& k : r->GetArray()) required.insert(std::string(js::view(k)));
  const std::string items_path = field::child(path, "items");
  if (flag(*items, "nullable"))
    out.push_back(field::forbidden(field::child(items_path, "nullable"),
                                   "cannot be nullable when x-kubernetes-list-type is map"));
  for (const auto& kv : keys->GetArray()) {
    const std::string k(js::view(kv));
    const js::Value* ks = item_props ? object_member(*item_props, k.c_str()) : nullptr;
    if (!ks) {
      out.push_back(
          field::invalid(keys_path, keys_value, "entries must all be names of item properties"));
    } else {
      const std::string kt = text(*ks, "type");
      if (kt == "array" || kt == "object")
        out.push_back(field::invalid(
            field::child(props(items_path, k), "type"), field::go_quote(item_type),
            "must be a scalar type if parent array's x-kubernetes-list-type is map"));
      if (!required.count(k) && !js::find(*ks, "default"))
        out.push_back(field::required(field::child(props(items_path, k), "default"),
                                      "this property is in x-kubernetes-list-map-keys, so it must "
                                      "have a default or be a required property"));
      if (flag(*ks, "nullable"))
        out.push_back(field::forbidden(
            field::child(props(items_path, k), "nullable"),
            "this property is in x-kubernetes-list-map-keys, so it cannot be nullable"));
    }
    if (!seen.insert(k).second)
      out.push_back(field::invalid(keys_path, keys_value, "must not contain duplicate entries"));
  }
}

void openapi_rules(const js::Value& s, const std::string& path, const openapi_context& ctx,
                   bool is_root, errors& out) {
  if (!s.IsObject()) return;
  static const std::vector<std::string> types = {"array",  "boolean", "integer",
                                                 "number", "object",  "string"};
  const std::string type = text(s, "type");
  if (!type.empty() && std::find(types.begin(), types.end(), type) == types.end())
    out.push_back(field::not_supported(field::child(path, "type"), field::go_quote(type), types));
  if (js::find(s, "default") && !ctx.allow_defaults)
    out.push_back(field::forbidden(
        field::child(path, "default"),
        "must not be set" + (ctx.no_defaults_reason.empty() ? "" : " " + ctx.no_defaults_reason)));
  for (auto [key, what] : {std::pair{"id", "id is not supported"},
                           {"additionalItems", "additionalItems is not supported"},
                           {"patternProperties", "patternProperties is not supported"},
                           {"definitions", "definitions is not supported"},
                           {"dependencies", "dependencies is not supported"},
                           {"$ref", "$ref is not supported"}})
    if (js::find(s, key)) out.push_back(field::forbidden(field::child(path, key), what));
  if (type == "null")
    out.push_back(field::forbidden(field::child(path, "type"),
                                   "type cannot be set to null, use nullable as an alternative"));
  if (const js::Value* items = js::find(s, "items"); items && items->IsArray())
    out.push_back(field::forbidden(field::child(path, "items"),
                                   "items must be a schema object and not an array"));
  if (ctx.inside_resource_meta && flag(s, "x-kubernetes-embedded-resource"))
    out.push_back(field::forbidden(field::child(path, "x-kubernetes-embedded-resource"),
                                   "must not be used inside of resource meta"));
  if (flag(s, "uniqueItems"))
    out.push_back(field::forbidden(
        field::child(path, "uniqueItems"),
        "uniqueItems cannot be set to true since the runtime complexity becomes quadratic"));
  const js::Value* properties = object_member(s, "properties");
  if (const js::Value* ap = js::find(s, "additionalProperties")) {
    if (properties && properties->MemberCount() > 0 && !(ap->IsBool() && ap->GetBool()))
      out.push_back(field::forbidden(field::child(path, "additionalProperties"),
                                     "additionalProperties and properties are mutual exclusive"));
    openapi_context sub = ctx;
    if (ctx.inside_resource_meta) {
      sub.allow_defaults = false;
      sub.no_defaults_reason = "inside additionalProperties applying to object metadata";
    }
    if (ap->IsObject())
      openapi_rules(*ap, field::child(path, "additionalProperties"), sub, false, out);
  }
  if (properties)
    for (const auto& m : properties->GetObject()) {
      const auto k = js::view(m.name);
      openapi_context sub = ctx;
      if ((is_root || flag(s, "x-kubernetes-embedded-resource")) &&
          (k == "metadata" || k == "kind" || k == "apiVersion")) {
        sub.inside_resource_meta = true;
        if (is_root) {
          sub.allow_defaults = false;
          sub.no_defaults_reason = "in top-level " + std::string(k);
        }
      }
      openapi_rules(m.value, props(path, k), sub, false, out);
    }
  if (const js::Value* n = object_member(s, "not"))
    openapi_rules(*n, field::child(path, "not"), ctx, false, out);
  for (const char* key : {"allOf", "oneOf", "anyOf"})
    if (const js::Value* list = js::find(s, key); list && list->IsArray())
      for (rapidjson::SizeType i = 0; i < list->Size(); ++i)
        openapi_rules((*list)[i], field::index(field::child(path, key), i), ctx, false, out);
  if (const js::Value* items = object_member(s, "items"))
    openapi_rules(*items, field::child(path, "items"), ctx, false, out);
  if (const js::Value* p = js::find(s, "x-kubernetes-preserve-unknown-fields");
      p && p->IsBool() && !p->GetBool())
    out.push_back(field::invalid(field::child(path, "x-kubernetes-preserve-unknown-fields"),
                                 "false", "must be true or undefined"));
  if (js::find(s, "x-kubernetes-map-type")) {
    const std::string map_type = text(s, "x-kubernetes-map-type");
    const char* why = "must be object if x-kubernetes-map-type is specified";
    if (type != "object")
      out.push_back(type.empty()
                        ? field::required(field::child(path, "type"), why)
                        : field::invalid(field::child(path, "type"), field::go_quote(type), why));
    if (map_type != "atomic" && map_type != "granular")
      out.push_back(field::not_supported(field::child(path, "x-kubernetes-map-type"),
                                         field::go_quote(map_type), {"atomic", "granular"}));
  }
  list_type_rules(s, path, out);
}

// Only these may be set at the root when the status subresource is on (allowedFieldsAtRootSchema).
void status_root_rules(const js::Value& s, const std::string& path, errors& out) {
  static const std::set<std::string> allowed = {"description",
                                                "type",
                                                "format",
                                                "title",
                                                "maximum",
                                                "exclusiveMaximum",
                                                "minimum",
                                                "exclusiveMinimum",
                                                "maxLength",
                                                "minLength",
                                                "pattern",
                                                "maxItems",
                                                "minItems",
                                                "uniqueItems",
                                                "multipleOf",
                                                "required",
                                                "items",
                                                "properties",
                                                "externalDocs",
                                                "example",
                                                "x-kubernetes-preserve-unknown-fields",
                                                "x-kubernetes-validations"};
  for (const auto& m : s.GetObject()) {
    const std::string k(js::view(m.name));
    if (k == "type" && text(s, "type") != "object") {
      out.push_back(field::invalid(field::child(path, "type"), field::go_quote(text(s, "type")),
                                   "only \"object\" is allowed as the type at the root of the "
                                   "schema if the status subresource is enabled"));
      return;
    }
    // reflect's zero value: false only for the plain bool fields (additionalProperties: false is
    // a non-nil pointer).
    static const std::set<std::string> bools = {"nullable",
                                                "exclusiveMaximum",
                                                "exclusiveMinimum",
                                                "uniqueItems",
                                                "x-kubernetes-embedded-resource",
                                                "x-kubernetes-int-or-string"};
    const bool zero = m.value.IsNull() ||
                      (m.value.IsBool() && !m.value.GetBool() && bools.count(k)) ||
                      (m.value.IsString() && m.value.GetStringLength() == 0);
    if (!zero && !allowed.count(k)) {
      out.push_back(field::invalid(path, field::go_value(s),
                                   "only [Description Type Format Title Maximum ExclusiveMaximum "
                                   "Minimum ExclusiveMinimum MaxLength "
                                   "MinLength Pattern MaxItems MinItems UniqueItems MultipleOf "
                                   "Required Items Properties ExternalDocs "
                                   "Example XPreserveUnknownFields XValidations] fields are "
                                   "allowed at the root of the schema if the "
                                   "status subresource is enabled"));
      return;
    }
  }
}

}  // namespace

std::vector<status_cause> check_version_schema(const js::Value* schema, const std::string& path,
                                               bool status_subresource) {
  if (!schema) return {field::required(path, "schemas are required")};
  errors out;
  if (!schema->IsObject()) {
    out.push_back(field::invalid(path, field::go_value(*schema), "must be an object"));
    return out;
  }
  if (status_subresource) status_root_rules(*schema, path, out);
  if (flag(*schema, "nullable"))
    out.push_back(field::forbidden(path + ".nullable", "nullable cannot be true at the root"));
  errors structural;
  structural_invariants(*schema, level::root, path, structural);
  value_completeness(*schema, schema, path, path, structural);
  std::sort(structural.begin(), structural.end(),
            [](const status_cause& a, const status_cause& b) { return a.message < b.message; });
  if (structural.empty()) defaults(*schema, path, structural);
  out.insert(out.end(), structural.begin(), structural.end());
  openapi_rules(*schema, path, {}, true, out);
  return out;
}

}  // namespace kubesim::crd
