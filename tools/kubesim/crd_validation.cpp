// Validation of custom resources against their schema, as kube-apiserver v1.32 does it:
// kube-openapi's SchemaValidator (pkg/validation/validate: schema.go, type.go, validator.go,
// object_validator.go, slice_validator.go, schema_props.go, values.go; messages of
// pkg/validation/errors/schema.go), turned into field errors by apiextensions-apiserver's
// kubeOpenAPIResultToFieldErrors (pkg/apiserver/validation/validation.go), with ratcheting
// (validation/ratcheting.go, apiserver/pkg/cel/common/equality.go CorrelatedObject), plus the
// strategy's other checks: embedded resources (schema/objectmeta/validation.go) and
// x-kubernetes-list-type (schema/listtype/validation.go).
//
// One deliberate difference: Go iterates maps in random order, so the real server lists errors of
// sibling fields in any order; here properties are visited in name order.
#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

#include <fmt/format.h>

#include "tools/kubesim/crd_schema.h"
#include "tools/kubesim/field_errors.h"
#include "tools/kubesim/go_format.h"
#include "tools/kubesim/object_meta.h"

namespace kubesim::crd {
namespace js = k8s::json;

namespace {

// reflect.DeepEqual of decoded JSON: int64 and float64 are different types.
bool same(const js::Value& a, const js::Value& b) {
  if (a.IsNumber() && b.IsNumber()) {
    if (a.IsInt64() != b.IsInt64()) return false;
    return a.IsInt64() ? a.GetInt64() == b.GetInt64() : a.GetDouble() == b.GetDouble();
  }
  if (a.GetType() != b.GetType()) return false;
  if (a.IsArray()) {
    if (a.Size() != b.Size()) return false;
    for (rapidjson::SizeType i = 0; i < a.Size(); ++i)
      if (!same(a[i], b[i])) return false;
    return true;
  }
  if (a.IsObject()) {
    if (a.MemberCount() != b.MemberCount()) return false;
    for (const auto& m : a.GetObject()) {
      const js::Value* o = js::find(b, js::view(m.name));
      if (!o || !same(m.value, *o)) return false;
    }
    return true;
  }
  return a == b;
}

// swag.IsFloat64AJSONInteger.
bool is_json_integer(double f) {
  const double max = 9007199254740991.0;
  if (std::isnan(f) || std::isinf(f) || f < -max || f > max) return false;
  return std::fabs(f - std::round(f)) < 1e-9;
}

// Go's int64(f), saturated instead of undefined.
int64_t to_int64(double f) {
  if (f >= 9.2e18) return std::numeric_limits<int64_t>::max();
  if (f <= -9.2e18) return std::numeric_limits<int64_t>::min();
  return static_cast<int64_t>(f);
}

std::string join(const std::vector<std::string>& v, const char* sep) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : sep) + s;
  return out;
}

// The element of an x-kubernetes-list-type=map list `old` with the same keys as `item`.
const js::Value* same_keyed_item(const std::vector<std::string>& keys, const js::Value& item,
                                 const js::Value& old) {
  if (!item.IsObject() || !old.IsArray()) return nullptr;
  for (const auto& k : keys)
    if (!js::find(item, k)) return nullptr;
  for (const auto& o : old.GetArray()) {
    if (!o.IsObject()) continue;
    bool all = true;
    for (const auto& k : keys) {
      const js::Value* ov = js::find(o, k);
      all = all && ov && same(*ov, *js::find(item, k));
    }
    if (all) return &o;
  }
  return nullptr;
}

// CorrelatedObject.CachedDeepEqual: unchanged, as far as the schema can correlate the values.
// An object member the schema does not describe (kept by x-kubernetes-preserve-unknown-fields)
// never correlates, so its object never counts as unchanged.
bool unchanged(const schema_node* s, const js::Value& now, const js::Value& old) {
  if (now.IsNull() || old.IsNull()) return now.IsNull() && old.IsNull();
  if (now.IsArray() != old.IsArray() || now.IsObject() != old.IsObject()) return false;
  if (now.IsArray()) {
    if (now.Size() != old.Size()) return false;
    if (!s || !s->items || s->list_type != "map") return same(now, old);
    for (const auto& item : now.GetArray()) {
      const js::Value* o = same_keyed_item(s->list_map_keys, item, old);
      if (!o || !unchanged(s->items.get(), item, *o)) return false;
    }
    return true;
  }
  if (now.IsObject()) {
    if (now.MemberCount() != old.MemberCount()) return false;
    for (const auto& m : now.GetObject()) {
      std::string k(js::view(m.name));
      const js::Value* o = js::find(old, k);
      const schema_node* ms = s ? s->property(k) : nullptr;
      if (!ms && s) ms = s->additional_properties.get();
      if (!o || !ms || !unchanged(ms, m.value, *o)) return false;
    }
    return true;
  }
  return same(now, old);
}

// A kube-openapi Result: errors (already field errors) and the MatchCount anyOf and oneOf use to
// pick the alternative whose errors they report.
struct result {
  std::vector<status_cause> errors;
  int matches = 0;

  bool valid() const { return errors.empty(); }
  void add(status_cause c) {  // Result.AddErrors drops a message already there
    for (const auto& e : errors)
      if (e.message == c.message) return;
    errors.push_back(std::move(c));
  }
  void merge(result other) {
    for (auto& e : other.errors) add(std::move(e));
    matches += other.matches;
  }
};

class openapi_validator {
 public:
  // `prefix`: the field path the errors are under ("" for the object, "status" for the status
  // subresource): kubeOpenAPIResultToFieldErrors' fldPath.
  explicit openapi_validator(std::string prefix) : prefix_(std::move(prefix)) {}

  // SchemaValidator.Validate of `v` at kube-openapi path `path`; `old` is the correlated old value
  // when ratcheting. `ratchet`: this node may drop its errors when unchanged (not for anyOf/allOf
  // alternatives, which kube-openapi validates with plain validators).
  result validate(const schema_node& s, const js::Value& v, const js::Value* old,
                  const std::string& path, bool ratchet = true) const {
    result r;
    if (v.IsNull()) {  // only the type and enum validators see a null
      r.merge(check_type(s, v, path));
      r.merge(check_enum(s, v, path));
    } else {
      run_validators(s, v, old, path, r);
    }
    if (ratchet && old && !r.valid() && unchanged(&s, v, *old)) r.errors.clear();
    return r;
  }

 private:
  // The validators of NewSchemaValidator, in its order, each when it applies to the value.
  void run_validators(const schema_node& s, const js::Value& v, const js::Value* old,
                      const std::string& path, result& r) const {
    auto run = [&r](result sub) {
      r.merge(std::move(sub));
      ++r.matches;
    };
    if (!s.types().empty() || !s.format.empty()) run(check_type(s, v, path));
    run(check_schema_props(s, v, old, path));
    if (v.IsString()) run(check_string(s, v, path));
    if (v.IsString() && !s.format.empty()) run(check_format(s, v, path));
    if (v.IsNumber()) run(check_number(s, v, path));
    if (v.IsArray()) run(check_slice(s, v, old, path));
    run(check_enum(s, v, path));
    if (v.IsObject()) run(check_object(s, v, old, path));
    ++r.matches;
  }

  // kubeOpenAPIResultToFieldErrors: errPath is fldPath.Child(TrimPrefix(err.Name, ".")).
  std::string field_path(const std::string& name) const {
    std::string n = name.rfind('.', 0) == 0 ? name.substr(1) : name;
    if (name.empty() || name == ".") return prefix_.empty() ? "<nil>" : prefix_;
    return prefix_.empty() ? n : prefix_ + "." + n;
  }
  // An error that is not an *errors.Validation (anyOf, oneOf...): field.Invalid(fldPath, "", msg).
  status_cause composite(const std::string& message) const {
    return field::invalid(prefix_.empty() ? "<nil>" : prefix_, field::go_quote(""), message);
  }
  static result one(status_cause c) {
    result r;
    r.add(std::move(c));
    return r;
  }

  // errors.InvalidType with a string value: "<path> in body must be of type <t>: <value>".
  result invalid_type(const std::string& path, const std::string& type_name,
                      const std::string& value) const {
    return one(field::type_invalid(
        field_path(path), field::go_quote(value),
        fmt::format("{} in body must be of type {}: {}", path, type_name, field::go_quote(value))));
  }

  // type.go typeValidator.
  result check_type(const schema_node& s, const js::Value& v, const std::string& path) const {
    const auto types = s.types();
    auto has = [&](const char* t) {
      return std::find(types.begin(), types.end(), t) != types.end();
    };
    if (v.IsNull()) {
      if (!types.empty() && !s.nullable) return invalid_type(path, join(types, ","), "null");
      return {};
    }
    std::string sch_type = v.IsBool()     ? "boolean"
                           : v.IsString() ? "string"
                           : v.IsInt64()  ? "integer"
                           : v.IsNumber() ? "number"
                           : v.IsArray()  ? "array"
                                          : "object";
    std::string data_format = v.IsInt64() ? "int64" : v.IsNumber() ? "float64" : "";
    const bool float_int = sch_type == "number" && is_json_integer(v.GetDouble()) && has("integer");
    const bool int_float = sch_type == "integer" && has("number");
    const bool textual = v.IsString() || v.IsArray();
    const bool known = has(sch_type.c_str()) || float_int || int_float;
    if (!textual && !s.format.empty() && !(known || data_format == s.format))
      return invalid_type(path, s.format, data_format);
    if (!(has("number") || has("integer")) && !s.format.empty() && textual) return {};
    if (!known) return invalid_type(path, join(types, ","), sch_type);
    result ok;
    ok.matches = 1;
    return ok;
  }

  // validator.go stringValidator: the first failing check only.
  result check_string(const schema_node& s, const js::Value& v, const std::string& path) const {
    const std::string data(js::view(v));
    long long runes = 0;
    for (unsigned char c : data) runes += (c & 0xC0) != 0x80;
    if (s.max_length && runes > *s.max_length)
      return one(field::too_long(field_path(path), *s.max_length));
    if (s.min_length && runes < *s.min_length)
      return one(field::invalid(
          field_path(path), field::go_quote(data),
          fmt::format("{} in body should be at least {} chars long", path, *s.min_length)));
    if (s.pattern_regex && !std::regex_search(data, *s.pattern_regex))
      return one(field::invalid(field_path(path), field::go_quote(data),
                                fmt::format("{} in body should match '{}'", path, s.pattern)));
    return {};
  }

  // formats.go formatValidator (errors.InvalidType with the value).
  result check_format(const schema_node& s, const js::Value& v, const std::string& path) const {
    const std::string data(js::view(v));
    if (format_accepts(s.format, data)) return {};
    return invalid_type(path, s.format, data);
  }

  // validator.go numberValidator: multipleOf, minimum, maximum, compared in the value's own type
  // (an integer against int64(bound), as MinimumNativeType does).
  result check_number(const schema_node& s, const js::Value& v, const std::string& path) const {
    result r;
    const bool integer = v.IsInt64();
    const std::string value = field::go_value(v);
    auto bound = [&](double b) {
      return integer ? std::to_string(to_int64(b)) : field::go_float(b);
    };
    auto fail = [&](const std::string& message) {
      r.add(field::invalid(field_path(path), value, message));
    };
    if (s.multiple_of) {
      const double factor = *s.multiple_of;
      if ((integer ? to_int64(factor) <= 0 : factor <= 0)) {
        fail(fmt::format("factor MultipleOf declared for {} must be positive: {}", path,
                         bound(factor)));
      } else if (integer ? v.GetInt64() % to_int64(factor) != 0
                         : !is_json_integer(factor < 1 ? 1 / factor * v.GetDouble()
                                                       : v.GetDouble() / factor)) {
        fail(fmt::format("{} in body should be a multiple of {}", path, bound(factor)));
      }
    }
    auto below = [&](double min) {
      if (integer) {
        int64_t m = to_int64(min);
        return s.exclusive_minimum ? v.GetInt64() <= m : v.GetInt64() < m;
      }
      return s.exclusive_minimum ? v.GetDouble() <= min : v.GetDouble() < min;
    };
    auto above = [&](double max) {
      if (integer) {
        int64_t m = to_int64(max);
        return s.exclusive_maximum ? v.GetInt64() >= m : v.GetInt64() > m;
      }
      return s.exclusive_maximum ? v.GetDouble() >= max : v.GetDouble() > max;
    };
    if (s.minimum && below(*s.minimum))
      fail(fmt::format("{} in body should be greater than {}{}", path,
                       s.exclusive_minimum ? "" : "or equal to ", bound(*s.minimum)));
    if (s.maximum && above(*s.maximum))
      fail(fmt::format("{} in body should be less than {}{}", path,
                       s.exclusive_maximum ? "" : "or equal to ", bound(*s.maximum)));
    r.matches = 1;
    return r;
  }

  // slice_validator.go: items, then minItems, maxItems, uniqueItems.
  result check_slice(const schema_node& s, const js::Value& v, const js::Value* old,
                     const std::string& path) const {
    result r;
    if (s.items)
      for (rapidjson::SizeType i = 0; i < v.Size(); ++i) {
        const js::Value* old_item =
            old && s.list_type == "map" ? same_keyed_item(s.list_map_keys, v[i], *old) : nullptr;
        r.merge(validate(*s.items, v[i], old_item, field::index(path, i)));
      }
    const auto size = static_cast<long long>(v.Size());
    if (s.min_items && size < *s.min_items)
      r.add(field::invalid(
          field_path(path), std::to_string(size),
          fmt::format("{} in body should have at least {} items", path, *s.min_items)));
    if (s.max_items && size > *s.max_items)
      r.add(field::too_many(field_path(path), size, *s.max_items));
    if (s.unique_items)
      for (rapidjson::SizeType i = 0; i < v.Size(); ++i)
        for (rapidjson::SizeType j = 0; j < i; ++j)
          if (same(v[i], v[j])) {
            r.add(field::invalid(field_path(path), field::go_quote(""),
                                 fmt::format("{} in body shouldn't contain duplicates", path)));
            i = v.Size() - 1;
            break;
          }
    ++r.matches;
    return r;
  }

  // validator.go basicCommonValidator: the value converted to each enum value's type.
  static bool enum_matches(const js::Value& v, const js::Value& e) {
    if (e.IsInt64() && v.IsNumber())
      return (v.IsInt64() ? v.GetInt64() : to_int64(v.GetDouble())) == e.GetInt64();
    if (e.IsNumber() && v.IsNumber()) return v.GetDouble() == e.GetDouble();
    return same(v, e);
  }

  result check_enum(const schema_node& s, const js::Value& v, const std::string& path) const {
    if (!s.enum_values || s.enum_values->Empty()) return {};
    if (!v.IsNull())
      for (const auto& e : s.enum_values->GetArray())
        if (!e.IsNull() && enum_matches(v, e)) return {};
    std::vector<std::string> supported;
    for (const auto& e : s.enum_values->GetArray())
      supported.push_back(e.IsString() ? std::string(js::view(e)) : go::json(e));
    return one(field::not_supported(field_path(path), field::go_value(v), supported));
  }

  // object_validator.go: property counts, additionalProperties, properties, required.
  result check_object(const schema_node& s, const js::Value& v, const js::Value* old,
                      const std::string& path) const {
    result r;
    const auto size = static_cast<long long>(v.MemberCount());
    if (s.min_properties && size < *s.min_properties)
      r.add(field::invalid(
          field_path(path), std::to_string(size),
          fmt::format("{} in body should have at least {} properties", path, *s.min_properties)));
    if (s.max_properties && size > *s.max_properties)
      r.add(field::too_many(field_path(path), size, *s.max_properties));
    auto old_member = [&](const std::string& k) -> const js::Value* {
      if (!old || !old->IsObject()) return nullptr;
      if (path.empty() && (k == "apiVersion" || k == "kind")) return nullptr;
      return js::find(*old, k);
    };
    for (const auto& m : v.GetObject()) {
      std::string k(js::view(m.name));
      if (s.property(k)) continue;
      if (s.has_additional_properties && !s.additional_properties_allowed)
        r.add(field::invalid(field_path(path), field::go_quote(k),
                             fmt::format("{}.{} in body is a forbidden property", path, k)));
      else if (s.additional_properties)
        r.merge(validate(*s.additional_properties, m.value, old_member(k), path + "." + k));
    }
    for (const auto& [name, ps] : s.properties)
      if (const js::Value* pv = js::find(v, name))
        r.merge(validate(ps, *pv, old_member(name), field::child(path, name)));
    for (const auto& k : s.required)
      if (!js::find(v, k)) r.add(field::required(field_path(path + "." + k)));
    return r;
  }

  // schema_props.go: anyOf, oneOf, allOf, not.
  result check_schema_props(const schema_node& s, const js::Value& v, const js::Value* old,
                            const std::string& path) const {
    result main;
    const std::string quoted = field::go_quote(path);
    if (!s.any_of.empty()) {
      std::optional<result> best, first_success;
      for (const auto& alt : s.any_of) {
        result r = validate(alt, v, old, path, false);
        if (r.valid()) {
          best.reset();
          first_success = std::move(r);
          break;
        }
        if (!best || r.matches > best->matches) best = std::move(r);
      }
      if (!first_success)
        main.add(composite(fmt::format("{} must validate at least one schema (anyOf)", quoted)));
      if (best)
        main.merge(std::move(*best));
      else if (first_success)
        main.merge(std::move(*first_success));
    }
    if (!s.one_of.empty()) {
      std::optional<result> best, first_success;
      int validated = 0;
      for (const auto& alt : s.one_of) {
        result r = validate(alt, v, old, path, false);
        if (r.valid()) {
          ++validated;
          best.reset();
          if (!first_success) first_success = std::move(r);
          continue;
        }
        if (validated == 0 && (!best || r.matches > best->matches)) best = std::move(r);
      }
      if (validated != 1) {
        std::string why = validated == 0 ? "Found none valid"
                                         : fmt::format("Found {} valid alternatives", validated);
        main.add(composite(
            fmt::format("{} must validate one and only one schema (oneOf). {}", quoted, why)));
        if (best) main.merge(std::move(*best));
      } else if (first_success) {
        main.merge(std::move(*first_success));
      }
    }
    if (!s.all_of.empty()) {
      size_t validated = 0;
      for (const auto& alt : s.all_of) {
        result r = validate(alt, v, old, path, false);
        if (r.valid()) ++validated;
        main.merge(std::move(r));
      }
      if (validated != s.all_of.size())
        main.add(composite(fmt::format("{} must validate all the schemas (allOf){}", quoted,
                                       validated == 0 ? ". None validated" : "")));
    }
    if (s.not_schema && validate(*s.not_schema, v, old, path, false).valid())
      main.add(composite(fmt::format("{} must not validate the schema (not)", quoted)));
    ++main.matches;
    return main;
  }

  std::string prefix_;
};

// --- x-kubernetes-list-type (listtype/validation.go) --------------------------------------------

// validateListSet: the index of each value's second occurrence.
std::vector<rapidjson::SizeType> second_occurrences(const std::vector<const js::Value*>& items) {
  std::vector<rapidjson::SizeType> out;
  for (rapidjson::SizeType i = 0; i < items.size(); ++i) {
    int seen = 0;
    for (rapidjson::SizeType j = 0; j < i; ++j) seen += same(*items[i], *items[j]);
    if (seen == 1) out.push_back(i);
  }
  return out;
}

void list_types(const schema_node* s, const js::Value& v, const std::string& path,
                std::vector<status_cause>& errs);

void list_types_in_object(const schema_node* s, const js::Value& obj, const std::string& path,
                          std::vector<status_cause>& errs) {
  if (!s || !obj.IsObject()) return;
  if (s->additional_properties)
    for (const auto& m : obj.GetObject())
      list_types(s->additional_properties.get(), m.value, field::key(path, js::view(m.name)), errs);
  for (const auto& [name, p] : s->properties)
    if (const js::Value* v = js::find(obj, name))
      list_types(&p, *v, field::child(path, name), errs);
}

void list_map_duplicates(const schema_node& s, const js::Value& list, const std::string& path,
                         std::vector<status_cause>& errs) {
  for (rapidjson::SizeType i = 0; i < list.Size(); ++i)
    if (!list[i].IsNull() && !list[i].IsObject()) {
      errs.push_back(field::invalid(field::index(path, i), field::go_value(list[i]),
                                    "must be an object for an array of list-type map"));
      return;
    }
  // The key of each item: its key members (absent ones left out).
  std::vector<js::Document> keys;
  for (const auto& item : list.GetArray()) {
    js::Document k(rapidjson::kObjectType);
    for (const auto& name : s.list_map_keys)
      if (const js::Value* kv = item.IsObject() ? js::find(item, name) : nullptr)
        k.AddMember(js::string_value(name, k.GetAllocator()), js::Value(*kv, k.GetAllocator()),
                    k.GetAllocator());
    keys.push_back(std::move(k));
  }
  std::vector<const js::Value*> ptrs;
  for (const auto& k : keys) ptrs.push_back(&k);
  for (auto i : second_occurrences(ptrs))
    errs.push_back(field::duplicate(field::index(path, i), field::go_sharp_value(keys[i])));
}

void list_types(const schema_node* s, const js::Value& v, const std::string& path,
                std::vector<status_cause>& errs) {
  if (!s) return;
  if (v.IsObject()) return list_types_in_object(s, v, path, errs);
  if (!v.IsArray()) return;
  if (s->list_type == "set" && v.Size() > 1) {
    std::vector<const js::Value*> items;
    for (const auto& e : v.GetArray()) items.push_back(&e);
    for (auto i : second_occurrences(items))
      errs.push_back(field::duplicate(field::index(path, i), field::go_value(v[i])));
  } else if (s->list_type == "map") {
    list_map_duplicates(*s, v, path, errs);
  }
  if (s->items)
    for (rapidjson::SizeType i = 0; i < v.Size(); ++i)
      list_types(s->items.get(), v[i], field::index(path, i), errs);
}

// --- embedded resources (objectmeta/validation.go)
// ------------------------------------------------

void embedded_resource(const std::string& path, const js::Value& x,
                       std::vector<status_cause>& errs) {
  const std::string api_version = field::child(path, "apiVersion"),
                    kind = field::child(path, "kind");
  if (!js::find(x, "apiVersion")) errs.push_back(field::required(api_version, "must not be empty"));
  if (!js::find(x, "kind")) errs.push_back(field::required(kind, "must not be empty"));
  for (const auto& m : x.GetObject()) {
    const auto k = js::view(m.name);
    const std::string value = field::go_value(m.value);
    if (k == "apiVersion" || k == "kind") {
      const std::string& at = k == "kind" ? kind : api_version;
      if (!m.value.IsString()) {
        errs.push_back(field::invalid(at, value, "must be a string"));
      } else if (m.value.GetStringLength() == 0) {
        errs.push_back(field::invalid(at, value, "must not be empty"));
      } else if (k == "apiVersion" &&
                 std::count(js::view(m.value).begin(), js::view(m.value).end(), '/') > 1) {
        errs.push_back(field::invalid(
            at, value, "unexpected GroupVersion string: " + std::string(js::view(m.value))));
      } else if (k == "kind") {
        std::string lower(js::view(m.value));
        std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
        if (auto e = validate_dns1035_label(lower); !e.empty())
          errs.push_back(field::invalid(
              at, value, "may have mixed case, but should otherwise match: " + join(e, ",")));
      }
    } else if (k == "metadata" && m.value.IsObject()) {
      const std::string meta = field::child(path, "metadata");
      for (auto& e : validate_metadata_contents(m.value, meta)) errs.push_back(std::move(e));
    }
  }
}

void embedded_resources(const schema_node* s, const js::Value& x, const std::string& path,
                        std::vector<status_cause>& errs) {
  if (!s) return;
  if (x.IsObject()) {
    if (s->embedded_resource) embedded_resource(path, x, errs);
    for (const auto& m : x.GetObject()) {
      std::string k(js::view(m.name));
      if (const schema_node* p = s->property(k))
        embedded_resources(p, m.value, field::child(path, k), errs);
      else if (s->has_additional_properties)
        embedded_resources(s->additional_properties.get(), m.value, field::key(path, k), errs);
    }
  } else if (x.IsArray()) {
    for (rapidjson::SizeType i = 0; i < x.Size(); ++i)
      embedded_resources(s->items.get(), x[i], field::index(path, i), errs);
  }
}

void append(std::vector<status_cause>& to, std::vector<status_cause> from) {
  for (auto& e : from) to.push_back(std::move(e));
}

std::vector<status_cause> list_type_errors(const schema_node& root, const js::Value& obj) {
  std::vector<status_cause> errs;
  list_types_in_object(&root, obj, "", errs);
  return errs;
}

}  // namespace

std::vector<status_cause> validate_value(const schema_node& s, const js::Value& value,
                                         const std::string& field_prefix) {
  return openapi_validator(field_prefix).validate(s, value, nullptr, "").errors;
}

std::vector<status_cause> structural_schema::validate(const js::Value& obj) const {
  auto errs = openapi_validator("").validate(root_, obj, nullptr, "").errors;
  embedded_resources(&root_, obj, "", errs);
  append(errs, list_type_errors(root_, obj));
  return errs;
}

std::vector<status_cause> structural_schema::validate_update(const js::Value& obj,
                                                             const js::Value& old) const {
  auto errs = openapi_validator("").validate(root_, obj, &old, "").errors;
  embedded_resources(&root_, obj, "", errs);
  if (list_type_errors(root_, old).empty()) append(errs, list_type_errors(root_, obj));
  return errs;
}

std::vector<status_cause> structural_schema::validate_status_update(const js::Value& obj,
                                                                    const js::Value& old) const {
  std::vector<status_cause> errs;
  const schema_node* status_schema = root_.property("status");
  if (const js::Value* status = js::find(obj, "status"); status && status_schema)
    errs = openapi_validator("status").validate(*status_schema, *status, nullptr, "").errors;
  auto now = list_type_errors(root_, obj);
  if (!now.empty() && list_type_errors(root_, old).empty()) append(errs, std::move(now));
  return errs;
}

}  // namespace kubesim::crd
