// Reading a structural schema, and what decoding does to a custom resource: ObjectMeta coercion,
// pruning, nulls, defaults, duplicate keys (apiextensions-apiserver v0.32.4:
// pkg/apiserver/customresource_handler.go unstructuredSchemaCoercer, pkg/apiserver/schema/
// pruning/algorithm.go, defaulting/{algorithm,prunenulls}.go, objectmeta/coerce.go), and the
// string formats of kube-openapi's strfmt registry.
#include "tools/kubesim/crd_schema.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>
#include <set>

#include <fmt/format.h>

#include "tools/kubesim/field_errors.h"

namespace kubesim::crd {
namespace js = k8s::json;

namespace {

// validation/formats.go supportedVersionedFormats, as the registry names them (dashes removed):
// any other format (int32, int64, float, double...) is stripped from the schema and never checked.
const std::set<std::string>& checked_formats() {
  static const std::set<std::string> formats = {
      "bsonobjectid", "uri",    "email",    "hostname",   "ipv4",     "ipv6",
      "cidr",         "mac",    "uuid",     "uuid3",      "uuid4",    "uuid5",
      "isbn",         "isbn10", "isbn13",   "creditcard", "ssn",      "hexcolor",
      "rgbcolor",     "byte",   "password", "date",       "duration", "datetime"};
  return formats;
}

std::string normalized_format(std::string f) {
  f.erase(std::remove(f.begin(), f.end(), '-'), f.end());
  return f;
}

std::optional<int64_t> int_member(const js::Value& v, const char* key) {
  const js::Value* m = js::find(v, key);
  if (m && m->IsInt64()) return m->GetInt64();
  if (m && m->IsNumber()) return static_cast<int64_t>(m->GetDouble());
  return std::nullopt;
}

std::optional<double> number_member(const js::Value& v, const char* key) {
  const js::Value* m = js::find(v, key);
  if (m && m->IsNumber()) return m->GetDouble();
  return std::nullopt;
}

std::vector<schema_node> node_list(const js::Value* v) {
  std::vector<schema_node> out;
  if (v && v->IsArray())
    for (const auto& e : v->GetArray()) out.push_back(parse_schema_node(e));
  return out;
}

std::unique_ptr<schema_node> node_ptr(const js::Value* v) {
  if (!v || !v->IsObject()) return nullptr;
  return std::make_unique<schema_node>(parse_schema_node(*v));
}

std::shared_ptr<const std::regex> compile(const std::string& pattern) {
  try {
    return std::make_shared<const std::regex>(pattern, std::regex::ECMAScript);
  } catch (const std::regex_error&) {
    return nullptr;  // RE2 syntax std::regex lacks: the pattern is not checked
  }
}

// --- strfmt formats ------------------------------------------------------------------------------

// Every regular expression the format checks use.
namespace pattern {
const std::string date = "[0-9]{4}-[0-9]{2}-[0-9]{2}";
const std::string ipv4 = R"(([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3}))";
const std::string isbn10 = "[0-9]{9}[0-9X]";
const std::string isbn13 = "[0-9]{13}";
const std::string base64 =
    R"((?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{4}))";
const std::string hex8_4 = "[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?";
const std::string uuid = hex8_4 + "[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}";
const std::string uuid3 = hex8_4 + "3[0-9a-fA-F]{3}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}";
const std::string uuid4 = hex8_4 + "4[0-9a-fA-F]{3}-?[89abAB][0-9a-fA-F]{3}-?[0-9a-fA-F]{12}";
const std::string uuid5 = hex8_4 + "5[0-9a-fA-F]{3}-?[89abAB][0-9a-fA-F]{3}-?[0-9a-fA-F]{12}";
const std::string mac =
    "([0-9a-fA-F]{2}[:-]){5}[0-9a-fA-F]{2}|([0-9a-fA-F]{2}[:-]){7}[0-9a-fA-F]{2}|"
    "([0-9a-fA-F]{2}[:-]){19}[0-9a-fA-F]{2}|([0-9a-fA-F]{4}\\.){2}[0-9a-fA-F]{4}";
const std::string hostname =
    R"([a-zA-Z0-9]([-a-zA-Z0-9]{0,61}[a-zA-Z0-9])?(\.[a-zA-Z0-9]([-a-zA-Z0-9]{0,61}[a-zA-Z0-9])?)*)";
const std::string email = R"([^@\s]+@[^@\s]+)";
const std::string uri = R"(([a-zA-Z][a-zA-Z0-9+.-]*:|/)\S*)";
const std::string go_duration = R"([-+]?([0-9]+(\.[0-9]*)?(ns|us|µs|ms|s|m|h))+|0)";
const std::string text_duration =
    R"([0-9]+(\.[0-9]+)?\s*(ns|us|µs|ms|s|m|h|d|w|nanoseconds?|microseconds?|milliseconds?|seconds?|minutes?|hours?|days?|weeks?))";
const std::string hexcolor = "#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6})";
const std::string octet = R"(\s*(0|[1-9][0-9]?|1[0-9][0-9]|2[0-4][0-9]|25[0-5])\s*)";
const std::string rgbcolor = R"(rgb\()" + octet + "," + octet + "," + octet + R"(\))";
const std::string ssn = R"([0-9]{3}[- ]?[0-9]{2}[- ]?[0-9]{4})";
const std::string bson_object_id = "[0-9a-fA-F]{24}";
const std::string card = "[0-9]{12,19}";
}  // namespace pattern

const std::vector<std::string>& format_patterns() {
  static const std::vector<std::string> all = {
      pattern::date,     pattern::ipv4,        pattern::isbn10,         pattern::isbn13,
      pattern::base64,   pattern::uuid,        pattern::uuid3,          pattern::uuid4,
      pattern::uuid5,    pattern::mac,         pattern::hostname,       pattern::email,
      pattern::uri,      pattern::go_duration, pattern::text_duration,  pattern::hexcolor,
      pattern::rgbcolor, pattern::ssn,         pattern::bson_object_id, pattern::card};
  return all;
}

// Full matches of the fixed patterns above, compiled once (thread-safe static initialization).
bool matches(const std::string& pattern, const std::string& s) {
  static const std::map<std::string, std::regex> compiled = [] {
    std::map<std::string, std::regex> m;
    for (const auto& p : format_patterns()) m.emplace(p, std::regex(p));
    return m;
  }();
  auto it = compiled.find(pattern);
  return it != compiled.end() && std::regex_match(s, it->second);
}

bool days_fit(int year, int month, int day) {
  static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  int max = days[month - 1] + (month == 2 && leap ? 1 : 0);
  return day >= 1 && day <= max;
}

// time.Parse("2006-01-02", s).
bool is_date(const std::string& s) {
  if (!matches(pattern::date, s)) return false;
  int y = std::stoi(s.substr(0, 4)), m = std::stoi(s.substr(5, 2)), d = std::stoi(s.substr(8, 2));
  return m >= 1 && m <= 12 && days_fit(y, m, d);
}

// strfmt IsDateTime: a date, "t", then hh:mm:ss[.frac](z|+hh:mm), case-insensitive.
bool is_date_time(const std::string& str) {
  if (str.size() < 4) return false;
  std::string lower = str;
  std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
  auto t = lower.find('t');
  if (t == std::string::npos || !is_date(lower.substr(0, t))) return false;
  std::string rest = lower.substr(t + 1);
  rest = rest.substr(0, rest.find('t'));  // strings.Split: only the part up to another "t"
  std::smatch m;
  static const std::regex time_re(
      R"(^([0-9]{2}):([0-9]{2}):([0-9]{2})(.[0-9]+)?(z|([+-][0-9]{2}:[0-9]{2}))$)");
  if (!std::regex_search(rest, m, time_re)) return false;
  return m[1].str() <= "23" && m[2].str() <= "59" && m[3].str() <= "59";
}

bool is_ipv4(const std::string& s) {
  // ParseIPSloppy: four decimal octets, leading zeros allowed.
  if (!matches(pattern::ipv4, s)) return false;
  size_t start = 0;
  for (int i = 0; i < 4; ++i) {
    size_t dot = s.find('.', start);
    if (std::stoi(s.substr(start, dot - start)) > 255) return false;
    start = dot + 1;
  }
  return true;
}

bool is_ipv6(const std::string& s) {
  in6_addr addr;
  return s.find(':') != std::string::npos && inet_pton(AF_INET6, s.c_str(), &addr) == 1;
}

bool is_cidr(const std::string& s) {
  auto slash = s.find('/');
  if (slash == std::string::npos) return false;
  std::string ip = s.substr(0, slash), bits = s.substr(slash + 1);
  if (bits.empty() || bits.size() > 3 || !std::all_of(bits.begin(), bits.end(), ::isdigit))
    return false;
  int n = std::stoi(bits);
  if (is_ipv4(ip)) return n <= 32;
  return is_ipv6(ip) && n <= 128;
}

bool luhn(const std::string& digits) {
  int sum = 0;
  bool twice = false;
  for (auto it = digits.rbegin(); it != digits.rend(); ++it) {
    int d = *it - '0';
    if (twice && (d *= 2) > 9) d -= 9;
    sum += d;
    twice = !twice;
  }
  return sum % 10 == 0;
}

std::string without(const std::string& s, const char* chars) {
  std::string out;
  for (char c : s)
    if (!std::strchr(chars, c)) out.push_back(c);
  return out;
}

bool is_isbn10(const std::string& s) {
  std::string d = without(s, "- ");
  if (!matches(pattern::isbn10, d)) return false;
  int sum = 0;
  for (int i = 0; i < 10; ++i) sum += (i + 1) * (d[i] == 'X' ? 10 : d[i] - '0');
  return sum % 11 == 0;
}

bool is_isbn13(const std::string& s) {
  std::string d = without(s, "- ");
  if (!matches(pattern::isbn13, d)) return false;
  int sum = 0;
  for (int i = 0; i < 12; ++i) sum += (i % 2 ? 3 : 1) * (d[i] - '0');
  return (10 - sum % 10) % 10 == d[12] - '0';
}

}  // namespace

bool format_accepts(const std::string& format, const std::string& v) {
  const std::string f = normalized_format(format);
  if (f == "datetime") return is_date_time(v);
  if (f == "date") return is_date(v);
  if (f == "byte") return matches(pattern::base64, v);  // govalidator IsBase64
  if (f == "password") return true;
  if (f == "uuid") return matches(pattern::uuid, v);
  if (f == "uuid3") return matches(pattern::uuid3, v);
  if (f == "uuid4") return matches(pattern::uuid4, v);
  if (f == "uuid5") return matches(pattern::uuid5, v);
  if (f == "ipv4") return is_ipv4(v);
  if (f == "ipv6") return is_ipv6(v);
  if (f == "cidr") return is_cidr(v);
  if (f == "mac") return matches(pattern::mac, v);
  if (f == "hostname") return v.size() <= 255 && matches(pattern::hostname, v);
  if (f == "email") return matches(pattern::email, v);
  if (f == "uri") return matches(pattern::uri, v);
  if (f == "duration")
    return matches(pattern::go_duration, v) || matches(pattern::text_duration, v);
  if (f == "hexcolor") return matches(pattern::hexcolor, v);
  if (f == "rgbcolor") return matches(pattern::rgbcolor, v);
  if (f == "ssn") return matches(pattern::ssn, v);
  if (f == "bsonobjectid") return matches(pattern::bson_object_id, v);
  if (f == "isbn10") return is_isbn10(v);
  if (f == "isbn13") return is_isbn13(v);
  if (f == "isbn") return is_isbn10(v) || is_isbn13(v);
  if (f == "creditcard") {
    std::string d = without(v, "- ");
    return matches(pattern::card, d) && luhn(d);
  }
  return true;
}

// --- reading ----------------------------------------------------------------------------------

std::vector<std::string> schema_node::types() const {
  if (int_or_string) return {"integer", "string"};
  if (type.empty()) return {};
  return {type};
}

const schema_node* schema_node::property(const std::string& name) const {
  auto it = properties.find(name);
  return it == properties.end() ? nullptr : &it->second;
}

schema_node parse_schema_node(const js::Value& v) {
  schema_node n;
  if (!v.IsObject()) return n;
  n.type = js::get_string(v, "type");
  if (std::string f(js::get_string(v, "format")); checked_formats().count(normalized_format(f)))
    n.format = f;
  n.nullable = js::get_bool(v, {"nullable"}, false);
  n.preserve_unknown_fields = js::get_bool(v, {"x-kubernetes-preserve-unknown-fields"}, false);
  n.embedded_resource = js::get_bool(v, {"x-kubernetes-embedded-resource"}, false);
  n.int_or_string = js::get_bool(v, {"x-kubernetes-int-or-string"}, false);
  if (const js::Value* props = js::find(v, "properties"); props && props->IsObject())
    for (const auto& p : props->GetObject())
      n.properties.emplace(std::string(js::view(p.name)), parse_schema_node(p.value));
  n.items = node_ptr(js::find(v, "items"));
  if (const js::Value* ap = js::find(v, "additionalProperties")) {
    n.has_additional_properties = ap->IsObject() || ap->IsBool();
    n.additional_properties_allowed = !ap->IsBool() || ap->GetBool();
    n.additional_properties = node_ptr(ap);
  }
  if (const js::Value* d = js::find(v, "default")) n.default_value = js::compact_copy(*d);
  if (const js::Value* e = js::find(v, "enum"); e && e->IsArray())
    n.enum_values = js::compact_copy(*e);
  n.minimum = number_member(v, "minimum");
  n.maximum = number_member(v, "maximum");
  n.multiple_of = number_member(v, "multipleOf");
  n.exclusive_minimum = js::get_bool(v, {"exclusiveMinimum"}, false);
  n.exclusive_maximum = js::get_bool(v, {"exclusiveMaximum"}, false);
  n.min_length = int_member(v, "minLength");
  n.max_length = int_member(v, "maxLength");
  n.min_items = int_member(v, "minItems");
  n.max_items = int_member(v, "maxItems");
  n.min_properties = int_member(v, "minProperties");
  n.max_properties = int_member(v, "maxProperties");
  n.unique_items = js::get_bool(v, {"uniqueItems"}, false);
  n.pattern = js::get_string(v, "pattern");
  if (!n.pattern.empty()) n.pattern_regex = compile(n.pattern);
  if (const js::Value* r = js::find(v, "required"); r && r->IsArray())
    for (const auto& k : r->GetArray())
      if (k.IsString()) n.required.emplace_back(js::view(k));
  n.all_of = node_list(js::find(v, "allOf"));
  n.any_of = node_list(js::find(v, "anyOf"));
  n.one_of = node_list(js::find(v, "oneOf"));
  n.not_schema = node_ptr(js::find(v, "not"));
  n.list_type = js::get_string(v, "x-kubernetes-list-type");
  if (const js::Value* keys = js::find(v, "x-kubernetes-list-map-keys"); keys && keys->IsArray())
    for (const auto& k : keys->GetArray())
      if (k.IsString()) n.list_map_keys.emplace_back(js::view(k));
  return n;
}

structural_schema::structural_schema(const js::Value& open_api_v3_schema)
    : root_(parse_schema_node(open_api_v3_schema)) {}

// --- ObjectMeta ---------------------------------------------------------------------------------

namespace {

const char* json_kind(const js::Value& v) {
  if (v.IsString()) return "string";
  if (v.IsNumber()) return "number";
  if (v.IsBool()) return "bool";
  if (v.IsArray()) return "array";
  return "object";
}

// encoding/json's UnmarshalTypeError for a field of ObjectMeta.
decode_error meta_type_error(const js::Value& v, const std::string& field, const char* go_type) {
  return decode_error(
      fmt::format("json: cannot unmarshal {} into Go struct field ObjectMeta.{} of type {}",
                  json_kind(v), field, go_type));
}

enum class meta_kind { text, time, integer, string_map, string_list, owner_refs, managed, any };

const std::map<std::string, meta_kind>& object_meta_fields() {
  static const std::map<std::string, meta_kind> fields = {
      {"name", meta_kind::text},
      {"generateName", meta_kind::text},
      {"namespace", meta_kind::text},
      {"selfLink", meta_kind::text},
      {"uid", meta_kind::text},
      {"resourceVersion", meta_kind::text},
      {"generation", meta_kind::integer},
      {"creationTimestamp", meta_kind::time},
      {"deletionTimestamp", meta_kind::time},
      {"deletionGracePeriodSeconds", meta_kind::any},
      {"labels", meta_kind::string_map},
      {"annotations", meta_kind::string_map},
      {"ownerReferences", meta_kind::owner_refs},
      {"finalizers", meta_kind::string_list},
      {"managedFields", meta_kind::managed},
  };
  return fields;
}

// Drops the members of each object of `list` that `known` does not name; returns their paths.
void keep_known_members(js::Value& list, const std::set<std::string>& known,
                        const std::string& path, std::vector<std::string>& unknown) {
  if (!list.IsArray()) return;
  for (rapidjson::SizeType i = 0; i < list.Size(); ++i) {
    js::Value& item = list[i];
    if (!item.IsObject()) continue;
    for (auto m = item.MemberBegin(); m != item.MemberEnd();) {
      std::string k(js::view(m->name));
      if (known.count(k)) {
        ++m;
        continue;
      }
      unknown.push_back(field::child(field::index(path, i), k));
      m = item.EraseMember(m);
    }
  }
}

void check_meta_value(const std::string& k, meta_kind kind, const js::Value& v) {
  switch (kind) {
    case meta_kind::text:
    case meta_kind::time:
      if (!v.IsString())
        throw meta_type_error(v, k, kind == meta_kind::time ? "v1.Time" : "string");
      break;
    case meta_kind::integer:
      if (!v.IsInt64()) throw meta_type_error(v, k, "int64");
      break;
    case meta_kind::string_map:
      if (!v.IsObject()) throw meta_type_error(v, k, "map[string]string");
      for (const auto& e : v.GetObject())
        if (!e.value.IsString() && !e.value.IsNull()) throw meta_type_error(e.value, k, "string");
      break;
    case meta_kind::string_list:
      if (!v.IsArray()) throw meta_type_error(v, k, "[]string");
      for (const auto& e : v.GetArray())
        if (!e.IsString()) throw meta_type_error(e, k, "string");
      break;
    case meta_kind::owner_refs:
      if (!v.IsArray()) throw meta_type_error(v, k, "[]v1.OwnerReference");
      break;
    case meta_kind::managed:
      if (!v.IsArray()) throw meta_type_error(v, k, "[]v1.ManagedFieldsEntry");
      break;
    case meta_kind::any:
      break;
  }
}

// What json.Marshal of the decoded ObjectMeta leaves out: omitempty fields that are empty.
bool omitted_when_empty(meta_kind kind, const js::Value& v) {
  if (v.IsNull()) return true;
  switch (kind) {
    case meta_kind::text:
      return v.GetStringLength() == 0;
    case meta_kind::integer:
      return v.GetInt64() == 0;
    case meta_kind::string_map:
      return v.MemberCount() == 0;
    case meta_kind::string_list:
    case meta_kind::owner_refs:
    case meta_kind::managed:
      return v.Size() == 0;
    default:
      return false;
  }
}

// ObjectMeta's round trip through its Go type (objectmeta/coerce.go GetObjectMetaWithOptions +
// SetObjectMeta): unknown fields dropped and reported under `prefix` ("metadata"), malformed ones
// refused, empty ones omitted; owner references get their required members.
void coerce_object_meta(js::Value& meta, js::Allocator& a, const std::string& prefix,
                        std::vector<std::string>& unknown) {
  if (meta.IsNull()) {
    meta.SetObject();
    return;
  }
  if (!meta.IsObject())
    throw decode_error(fmt::format("json: cannot unmarshal {} into Go value of type v1.ObjectMeta",
                                   json_kind(meta)));
  for (auto m = meta.MemberBegin(); m != meta.MemberEnd();) {
    std::string k(js::view(m->name));
    auto known = object_meta_fields().find(k);
    if (known == object_meta_fields().end()) {
      unknown.push_back(field::child(prefix, k));
      m = meta.EraseMember(m);
      continue;
    }
    if (!m->value.IsNull()) check_meta_value(k, known->second, m->value);
    if (omitted_when_empty(known->second, m->value)) {
      m = meta.EraseMember(m);
      continue;
    }
    if (known->second == meta_kind::string_map)  // a null value decodes as ""
      for (auto& e : m->value.GetObject())
        if (e.value.IsNull()) e.value.SetString("", 0);
    if (known->second == meta_kind::owner_refs) {
      keep_known_members(m->value,
                         {"apiVersion", "kind", "name", "uid", "controller", "blockOwnerDeletion"},
                         field::child(prefix, k), unknown);
      for (auto& ref : m->value.GetArray())
        for (const char* required : {"apiVersion", "kind", "name", "uid"})
          if (ref.IsObject() && !js::find(ref, required)) js::set_string(ref, required, "", a);
    }
    if (known->second == meta_kind::managed)
      keep_known_members(
          m->value,
          {"manager", "operation", "apiVersion", "time", "fieldsType", "fieldsV1", "subresource"},
          field::child(prefix, k), unknown);
    ++m;
  }
}

// --- pruning ------------------------------------------------------------------------------------

bool is_type_meta_or_meta(std::string_view k) {
  return k == "apiVersion" || k == "kind" || k == "metadata";
}

// pruning/algorithm.go prune and skipPrune, recording unknown field paths.
class pruner {
 public:
  std::vector<std::string> unknown;

  void prune(js::Value& x, const schema_node* s, const std::string& path, bool resource_root) {
    if (s && s->preserve_unknown_fields) return skip_prune(x, s, path, resource_root);
    if (x.IsObject()) {
      for (auto m = x.MemberBegin(); m != x.MemberEnd();) {
        std::string k(js::view(m->name));
        if (s && (s->embedded_resource || resource_root) && is_type_meta_or_meta(k)) {
          ++m;
          continue;
        }
        if (const schema_node* p = s ? s->property(k) : nullptr) {
          prune(m->value, p, field::child(path, k), false);
        } else if (s && s->has_additional_properties) {
          prune(m->value, s->additional_properties.get(), field::child(path, k), false);
        } else {
          if (!s || !is_type_meta_or_meta(k) || !path.empty())
            unknown.push_back(field::child(path, k));
          m = x.EraseMember(m);
          continue;
        }
        ++m;
      }
    } else if (x.IsArray()) {
      for (rapidjson::SizeType i = 0; i < x.Size(); ++i)
        prune(x[i], s ? s->items.get() : nullptr, field::index(path, i), false);
    }
  }

 private:
  void skip_prune(js::Value& x, const schema_node* s, const std::string& path, bool resource_root) {
    if (x.IsObject()) {
      for (auto& m : x.GetObject()) {
        std::string k(js::view(m.name));
        if ((s->embedded_resource || resource_root) && is_type_meta_or_meta(k)) continue;
        if (const schema_node* p = s->property(k))
          prune(m.value, p, field::child(path, k), false);
        else if (s->has_additional_properties)
          prune(m.value, s->additional_properties.get(), field::child(path, k), false);
      }
    } else if (x.IsArray() && s->items) {
      for (rapidjson::SizeType i = 0; i < x.Size(); ++i)
        skip_prune(x[i], s->items.get(), field::index(path, i), false);
    }
  }
};

const schema_node* schema_of_member(const schema_node* s, const std::string& k) {
  if (!s) return nullptr;
  if (const schema_node* p = s->property(k)) return p;
  return s->additional_properties.get();
}

// defaulting/prunenulls.go PruneNonNullableNullsWithoutDefaults.
void prune_non_nullable_nulls(js::Value& x, const schema_node* s) {
  if (x.IsObject()) {
    for (auto m = x.MemberBegin(); m != x.MemberEnd();) {
      const schema_node* ms = schema_of_member(s, std::string(js::view(m->name)));
      if (m->value.IsNull() && ms && !ms->nullable && !ms->default_value) {
        m = x.EraseMember(m);
        continue;
      }
      prune_non_nullable_nulls(m->value, ms);
      ++m;
    }
  } else if (x.IsArray()) {
    for (auto& e : x.GetArray()) prune_non_nullable_nulls(e, s ? s->items.get() : nullptr);
  }
}

// objectmeta/coerce.go for embedded resources (the root's ObjectMeta is coerced apart).
void coerce_embedded(js::Value& x, const schema_node* s, const std::string& path, js::Allocator& a,
                     std::vector<std::string>& unknown) {
  if (!s) return;
  if (x.IsObject()) {
    for (auto& m : x.GetObject()) {
      std::string k(js::view(m.name));
      if (s->embedded_resource) {
        if ((k == "apiVersion" || k == "kind") && !m.value.IsString())
          throw decode_error(
              field::invalid(field::child(path, k), field::go_value(m.value), "must be a string")
                  .message);
        if (k == "metadata") {
          coerce_object_meta(m.value, a, field::child(path, "metadata"), unknown);
          if (auto ts = js::find(m.value, "creationTimestamp"); ts && ts->IsNull())
            js::remove_member(m.value, "creationTimestamp");
        }
      }
      if (const schema_node* p = s->property(k))
        coerce_embedded(m.value, p, field::child(path, k), a, unknown);
      else if (s->has_additional_properties)
        coerce_embedded(m.value, s->additional_properties.get(), field::key(path, k), a, unknown);
    }
  } else if (x.IsArray()) {
    for (rapidjson::SizeType i = 0; i < x.Size(); ++i)
      coerce_embedded(x[i], s->items.get(), field::index(path, i), a, unknown);
  }
}

// defaulting/algorithm.go Default.
void default_value(js::Value& x, const schema_node* s, js::Allocator& a) {
  if (!s) return;
  auto non_nullable_null = [](const js::Value& v, const schema_node* vs) {
    return v.IsNull() && vs && !vs->nullable;
  };
  auto copy_default = [&](const schema_node* vs) {
    return vs->default_value ? js::Value(*vs->default_value, a) : js::Value();
  };
  if (x.IsObject()) {
    for (const auto& [k, p] : s->properties) {
      if (!p.default_value) continue;
      const js::Value* cur = js::find(x, k);
      if (!cur || non_nullable_null(*cur, &p)) js::set_member(x, k, copy_default(&p), a);
    }
    for (auto& m : x.GetObject()) {
      if (const schema_node* p = s->property(std::string(js::view(m.name)))) {
        default_value(m.value, p, a);
      } else if (const schema_node* extra = s->additional_properties.get()) {
        if (non_nullable_null(m.value, extra)) m.value = copy_default(extra);
        default_value(m.value, extra, a);
      }
    }
  } else if (x.IsArray()) {
    for (auto& e : x.GetArray()) {
      if (non_nullable_null(e, s->items.get())) e = copy_default(s->items.get());
      default_value(e, s->items.get(), a);
    }
  }
}

void collect_duplicates(js::Value& v, const std::string& path, std::vector<std::string>& out) {
  if (v.IsArray()) {
    for (rapidjson::SizeType i = 0; i < v.Size(); ++i)
      collect_duplicates(v[i], field::index(path, i), out);
    return;
  }
  if (!v.IsObject()) return;
  std::set<std::string_view> seen;
  bool any = false;
  for (auto& m : v.GetObject()) {
    if (!seen.insert(js::view(m.name)).second) {
      out.push_back(field::child(path, js::view(m.name)));
      any = true;
    }
    collect_duplicates(m.value, field::child(path, js::view(m.name)), out);
  }
  if (!any) return;
  // The last occurrence wins, as when decoding into a map.
  for (auto m = v.MemberBegin(); m != v.MemberEnd();) {
    bool later = false;
    for (auto n = m + 1; n != v.MemberEnd() && !later; ++n) later = n->name == m->name;
    m = later ? v.EraseMember(m) : m + 1;
  }
}

}  // namespace

std::vector<std::string> structural_schema::prune(js::Value& obj, js::Allocator& a) const {
  std::vector<std::string> unknown;
  if (!obj.IsObject()) return unknown;
  if (auto meta = obj.FindMember("metadata"); meta != obj.MemberEnd())
    coerce_object_meta(meta->value, a, "metadata", unknown);
  pruner p;
  p.prune(obj, &root_, "", true);
  std::sort(p.unknown.begin(), p.unknown.end());
  unknown.insert(unknown.end(), p.unknown.begin(), p.unknown.end());
  prune_non_nullable_nulls(obj, &root_);
  std::vector<std::string> embedded;
  for (auto& m : obj.GetObject())  // the root's own ObjectMeta is done above
    if (const schema_node* s = root_.property(std::string(js::view(m.name))))
      coerce_embedded(m.value, s, std::string(js::view(m.name)), a, embedded);
  std::sort(embedded.begin(), embedded.end());
  unknown.insert(unknown.end(), embedded.begin(), embedded.end());
  return unknown;
}

void structural_schema::apply_defaults(js::Value& obj, js::Allocator& a) const {
  default_value(obj, &root_, a);
}

std::vector<std::string> drop_duplicate_fields(js::Value& v) {
  std::vector<std::string> out;
  collect_duplicates(v, "", out);
  return out;
}

}  // namespace kubesim::crd
