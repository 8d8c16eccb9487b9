#include "tools/kubesim/builtin_decode.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include <fmt/format.h>

#include "tools/kubesim/api_error.h"
#include "tools/kubesim/builtin_schema.h"
#include "tools/kubesim/crd_schema.h"
#include "tools/kubesim/field_errors.h"

namespace kubesim::builtin_decode {
namespace js = k8s::json;
namespace bs = builtin_schema;

namespace {

// encoding/json UnmarshalTypeError.Value: what the JSON value is ("number 1.5" when a number
// does not fit an integer, as decode.go literalStore words it).
std::string json_kind(const js::Value& v) {
  if (v.IsString()) return "string";
  if (v.IsBool()) return "bool";
  if (v.IsArray()) return "array";
  if (v.IsObject()) return "object";
  return "number";
}

std::string number_text(const js::Value& v) {
  if (v.IsInt64()) return std::to_string(v.GetInt64());
  if (v.IsUint64()) return std::to_string(v.GetUint64());
  return fmt::format("{}", v.GetDouble());
}

// The Go struct (unqualified) owning a field, for "Go struct field <Struct>.<path>".
std::string struct_name(const bs::message& m) {
  auto dot = m.go_name.rfind('.');
  return dot == std::string::npos ? m.go_name : m.go_name.substr(dot + 1);
}

// Where the decoder is, built into strings only for an error: a field or map key (`name`), or a
// list index.
struct step {
  const step* parent;
  std::string_view name;
  rapidjson::SizeType index = 0;
  enum { field, key, item } what = field;
};

// The strict-error path: fields and keys dotted, list indices in brackets ("spec.a[0].b").
std::string strict_path(const step* s) {
  if (!s) return "";
  std::string parent = strict_path(s->parent);
  return s->what == step::item ? field::index(parent, s->index) : field::child(parent, s->name);
}

// encoding/json's field stack: the struct fields' names only ("spec.a.b").
std::string go_path(const step* s) {
  if (!s) return "";
  std::string parent = go_path(s->parent);
  if (s->what != step::field) return parent;
  return parent.empty() ? std::string(s->name) : parent + "." + std::string(s->name);
}

// sigs.k8s.io/json's decoder: walks a value with its Go type.
class decoder {
 public:
  // The patched map of a strategic merge patch goes through runtime.DefaultUnstructuredConverter
  // (converter.go fromUnstructured) instead of the JSON decoder: other words for wrong types.
  explicit decoder(bool unstructured) : unstructured_(unstructured) {}
  std::vector<std::string> errors;

  void message_value(js::Value& v, const bs::message& m, const step* at, const bs::message* owner,
                     std::string_view type) {
    switch (m.form) {
      case bs::json_form::fields:
        if (!v.IsObject()) type_error(v, owner, at, type, "struct");
        fields(v, m, at);
        return;
      case bs::json_form::quantity:
        quantity(v);
        return;
      case bs::json_form::int_or_string:
        int_or_string(v);
        return;
      case bs::json_form::date_time:
        date_time(v, m.name.find("MicroTime") != std::string::npos);
        return;
      case bs::json_form::duration:
        duration(v);
        return;
      case bs::json_form::string_array:
        if (!v.IsArray()) type_error(v, owner, at, type, "slice");
        for (auto& e : v.GetArray())
          if (!e.IsString() && !e.IsNull()) type_error(e, owner, at, "string", "string");
        return;
      case bs::json_form::object:
      case bs::json_form::any:
        return;
    }
  }

  void fields(js::Value& obj, const bs::message& m, const step* at) {
    // Members dropped afterwards: unknown ones, earlier duplicates, omitted nulls.
    std::vector<rapidjson::SizeType> drop;
    // The converter reports a struct's unknown keys after its known fields (converter.go
    // popAndVerifyMatchedKeys); the JSON decoder as it meets them.
    std::vector<std::string> unknown_here;
    auto members = obj.GetObject();
    for (rapidjson::SizeType i = 0; i < members.MemberCount(); ++i) {
      auto& member = members.begin()[i];
      std::string_view name = js::view(member.name);
      const bs::field* f = m.find(name);
      step here{at, name};
      if (!f) {
        (unstructured_ ? unknown_here : errors)
            .push_back(fmt::format("unknown field {}", field::go_quote(strict_path(&here))));
        drop.push_back(i);
        continue;
      }
      for (rapidjson::SizeType j = 0; j < i; ++j)
        if (js::view(members.begin()[j].name) == name &&
            std::find(drop.begin(), drop.end(), j) == drop.end()) {
          errors.push_back(fmt::format("duplicate field {}", field::go_quote(strict_path(&here))));
          drop.push_back(j);
        }
      if (member.value.IsNull()) {  // Go leaves the zero value; omitempty omits it again
        if (f->omitempty) drop.push_back(i);
        continue;
      }
      // The Go struct named in a type error is the one declaring the field.
      field_value(member.value, *f, &here, owner_of(m, *f));
    }
    errors.insert(errors.end(), unknown_here.begin(), unknown_here.end());
    erase_members(obj, drop);
  }

  void field_value(js::Value& v, const bs::field& f, const step* at, const bs::message* owner) {
    if (f.repeated) {
      if (!v.IsArray()) return type_error(v, owner, at, f.go_type, "slice");
      std::string_view elem_type = f.go_type;
      if (elem_type.rfind("[]", 0) == 0) elem_type.remove_prefix(2);
      for (rapidjson::SizeType i = 0; i < v.Size(); ++i) {
        step item{at, {}, i, step::item};
        if (!v[i].IsNull()) element(v[i], f, &item, owner, elem_type);
      }
      return;
    }
    if (f.map) {
      if (!v.IsObject()) return type_error(v, owner, at, f.go_type, "map");
      std::string_view elem_type = f.go_type;
      if (auto close = elem_type.find(']'); close != std::string_view::npos)
        elem_type.remove_prefix(close + 1);
      std::vector<rapidjson::SizeType> drop;
      auto members = v.GetObject();
      for (rapidjson::SizeType i = 0; i < members.MemberCount(); ++i) {
        auto& member = members.begin()[i];
        step key{at, js::view(member.name), 0, step::key};
        for (rapidjson::SizeType j = 0; j < i; ++j)
          if (js::view(members.begin()[j].name) == key.name) {
            errors.push_back(fmt::format("duplicate field {}", field::go_quote(strict_path(&key))));
            drop.push_back(j);
          }
        if (member.value.IsNull()) {  // a null map value decodes as the element's zero value
          if (f.type == bs::scalar::string) member.value.SetString("", 0);
          continue;
        }
        element(member.value, f, &key, owner, elem_type);
      }
      erase_members(v, drop);
      return;
    }
    element(v, f, at, owner, f.go_type);
  }

  void element(js::Value& v, const bs::field& f, const step* at, const bs::message* owner,
               std::string_view type) {
    switch (f.type) {
      case bs::scalar::message:
        return message_value(v, *f.msg, at, owner, type);
      case bs::scalar::string:
        if (!v.IsString()) type_error(v, owner, at, type, "string");
        return;
      case bs::scalar::boolean:
        if (!v.IsBool()) type_error(v, owner, at, type, "bool");
        return;
      case bs::scalar::float64:
        if (!v.IsNumber()) type_error(v, owner, at, type, "float64");
        return;
      case bs::scalar::bytes:
        if (!v.IsString()) type_error(v, owner, at, type, "slice");
        return base64(v);
      case bs::scalar::int32:
      case bs::scalar::int64:
      case bs::scalar::uint32:
      case bs::scalar::uint64: {
        const char* kind = f.type == bs::scalar::int32    ? "int32"
                           : f.type == bs::scalar::int64  ? "int64"
                           : f.type == bs::scalar::uint32 ? "uint32"
                                                          : "uint64";
        if (!v.IsNumber()) return type_error(v, owner, at, type, kind);
        if (unstructured_) {  // an integral float converts, an int converts (overflowing)
          if (!v.IsInt64() && !v.IsUint64() && v.GetDouble() != std::trunc(v.GetDouble()))
            throw crd::decode_error(fmt::format("cannot convert float64 to {}", kind));
          return;
        }
        if (!fits(v, f.type))
          throw crd::decode_error(
              fmt::format("json: cannot unmarshal number {} into Go struct field {}.{} of type {}",
                          number_text(v), owner ? struct_name(*owner) : "", go_path(at), type));
        return;
      }
    }
  }

 private:
  bool unstructured_;

  static void erase_members(js::Value& obj, std::vector<rapidjson::SizeType>& drop) {
    if (drop.empty()) return;
    std::sort(drop.begin(), drop.end());
    drop.erase(std::unique(drop.begin(), drop.end()), drop.end());
    for (auto it = drop.rbegin(); it != drop.rend(); ++it) obj.EraseMember(obj.MemberBegin() + *it);
  }

  // `kind`: the Go kind the value should have been (struct, slice, map, string, bool, int32...).
  [[noreturn]] void type_error(const js::Value& v, const bs::message* owner, const step* at,
                               std::string_view type, const char* kind) {
    if (unstructured_) {
      // The unstructured value's Go kind: map[string]interface{}, []interface{}, int64, float64.
      std::string from = v.IsObject()                  ? "map"
                         : v.IsArray()                 ? "slice"
                         : v.IsString()                ? "string"
                         : v.IsBool()                  ? "bool"
                         : v.IsInt64() || v.IsUint64() ? "int64"
                                                       : "float64";
      std::string to(kind);
      if (to == "struct") throw crd::decode_error("cannot restore struct from: " + from);
      if (to == "slice" || to == "map")
        throw crd::decode_error("cannot restore " + to + " from " + from);
      if (from == "int64" && to == "string")  // ints convert to strings in Go, not in JSON
        throw crd::decode_error("cannot convert int64 to string");
      throw crd::decode_error("unrecognized type: " + to);
    }
    throw crd::decode_error(
        fmt::format("json: cannot unmarshal {} into Go struct field {}.{} of type {}", json_kind(v),
                    owner ? struct_name(*owner) : "", go_path(at), type));
  }

  static bool fits(const js::Value& v, bs::scalar t) {
    switch (t) {
      case bs::scalar::int32:
        return v.IsInt();
      case bs::scalar::int64:
        return v.IsInt64();
      case bs::scalar::uint32:
        return v.IsUint();
      default:
        return v.IsUint64();
    }
  }

  // Which message declares f: m itself, or the inline struct m embeds it from.
  static const bs::message* owner_of(const bs::message& m, const bs::field& f) {
    if (!m.fields.empty() && &f >= &m.fields.front() && &f <= &m.fields.back()) return &m;
    for (const auto& own : m.fields)
      if (own.inline_ && own.msg)
        if (const bs::message* o = owner_of(*own.msg, f)) return o;
    return nullptr;
  }

  // resource.Quantity.UnmarshalJSON: ParseQuantity of the string (or the bare number).
  static void quantity(const js::Value& v) {
    std::string s = v.IsString() ? std::string(js::view(v)) : v.IsNumber() ? number_text(v) : "{";
    s.erase(0, s.find_first_not_of(" \t\n\r"));
    s.erase(s.find_last_not_of(" \t\n\r") + 1);
    if (!valid_quantity(s))
      throw crd::decode_error(
          "quantities must match the regular expression "
          "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'");
  }

  // resource.ParseQuantity, as far as its errors go: the format, then the suffix.
  static bool valid_quantity(const std::string& s) {
    size_t i = 0;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    size_t digits = i;
    while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) ++i;
    if (i == digits) return false;
    std::string suffix = s.substr(i);
    if (suffix.find_first_not_of("eEinumkKMGTP+-0123456789") != std::string::npos) return false;
    static const char* const known[] = {"",  "Ki", "Mi", "Gi", "Ti", "Pi", "Ei", "n",
                                        "u", "m",  "k",  "M",  "G",  "T",  "P",  "E"};
    for (const char* k : known)
      if (suffix == k) return true;
    if (!suffix.empty() && (suffix[0] == 'e' || suffix[0] == 'E')) {
      size_t j = 1;
      if (j < suffix.size() && (suffix[j] == '+' || suffix[j] == '-')) ++j;
      return j < suffix.size() && suffix.find_first_not_of("0123456789", j) == std::string::npos;
    }
    throw crd::decode_error("unable to parse quantity's suffix");
  }

  // intstr.IntOrString.UnmarshalJSON: a string, else an int32.
  static void int_or_string(const js::Value& v) {
    if (v.IsString()) return;
    if (v.IsInt()) return;
    throw crd::decode_error(fmt::format("json: cannot unmarshal {} into Go value of type int32",
                                        v.IsNumber() ? "number " + number_text(v) : json_kind(v)));
  }

  // metav1.Time/MicroTime.UnmarshalJSON: time.Parse with RFC3339 or RFC3339Micro.
  static void date_time(const js::Value& v, bool micro) {
    if (!v.IsString())
      throw crd::decode_error(
          fmt::format("json: cannot unmarshal {} into Go value of type string", json_kind(v)));
    std::string error = go_time_parse_error(std::string(js::view(v)), micro);
    if (!error.empty()) throw crd::decode_error(error);
  }

  // Go's time.Parse error for the RFC3339 ("2006-01-02T15:04:05Z07:00") or RFC3339Micro
  // ("...05.000000Z07:00") layout, "" when it parses: the layout element that failed
  // (`cannot parse "x" as "01"`), a value out of range, or extra text.
  static std::string go_time_parse_error(const std::string& s, bool micro) {
    const std::string layout =
        micro ? "2006-01-02T15:04:05.000000Z07:00" : "2006-01-02T15:04:05Z07:00";
    const std::string head = fmt::format("parsing time {}", field::go_quote(s));
    auto bad = [&](size_t at, const char* elem) {
      return fmt::format("{} as \"{}\": cannot parse {} as \"{}\"", head, layout,
                         field::go_quote(s.substr(std::min(at, s.size()))), elem);
    };
    auto digit = [&](size_t i) {
      return i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]));
    };
    size_t i = 0;
    // Each numeric element: its layout text, its width (0: one or two digits), its range.
    struct elem {
      const char* text;
      const char* sep_before;
      int width, lo, hi;
      const char* range;
    };
    static const elem elems[] = {{"2006", "", 4, 0, 9999, ""},    {"01", "-", 2, 1, 12, "month"},
                                 {"02", "-", 2, 1, 31, ""},       {"15", "T", 0, 0, 23, "hour"},
                                 {"04", ":", 2, 0, 59, "minute"}, {"05", ":", 2, 0, 59, "second"}};
    int values[6] = {};
    for (int e = 0; e < 6; ++e) {
      const elem& el = elems[e];
      if (*el.sep_before) {
        if (i >= s.size() || s[i] != el.sep_before[0]) return bad(i, el.sep_before);
        ++i;
      }
      size_t n = el.width ? el.width : (digit(i + 1) ? 2 : 1);
      for (size_t k = 0; k < n; ++k)
        if (!digit(i + k)) return bad(i, el.text);
      values[e] = std::stoi(s.substr(i, n));
      if (*el.range && (values[e] < el.lo || values[e] > el.hi))
        return fmt::format("{}: {} out of range", head, el.range);
      i += n;
    }
    if (micro) {
      if (i + 7 > s.size() || (s[i] != '.' && s[i] != ',')) return bad(i, ".000000");
      for (size_t k = 1; k <= 6; ++k)
        if (!digit(i + k)) return bad(i, ".000000");
      i += 7;
    } else if (i + 1 < s.size() && (s[i] == '.' || s[i] == ',') && digit(i + 1)) {
      ++i;
      while (digit(i)) ++i;
    }
    if (i < s.size() && s[i] == 'Z') {
      ++i;
    } else if (i + 6 <= s.size() && (s[i] == '+' || s[i] == '-') && s[i + 3] == ':' &&
               digit(i + 1) && digit(i + 2) && digit(i + 4) && digit(i + 5)) {
      i += 6;
    } else {
      return bad(i, "Z07:00");
    }
    if (i < s.size()) return fmt::format("{}: extra text: {}", head, field::go_quote(s.substr(i)));
    static const int days[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int year = values[0], month = values[1], day = values[2];
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    if (day < 1 || day > days[month - 1] || (month == 2 && day == 29 && !leap))
      return fmt::format("{}: day out of range", head);
    return "";
  }

  // metav1.Duration.UnmarshalJSON: time.ParseDuration.
  static void duration(const js::Value& v) {
    if (!v.IsString())
      throw crd::decode_error(
          fmt::format("json: cannot unmarshal {} into Go value of type string", json_kind(v)));
    std::string s(js::view(v));
    size_t i = 0;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    bool ok = s.substr(i) == "0";
    if (!ok && i < s.size()) {
      ok = true;
      while (i < s.size() && ok) {
        size_t start = i;
        while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) ++i;
        if (i == start) ok = false;
        size_t unit = i;
        while (i < s.size() && !std::isdigit(static_cast<unsigned char>(s[i])) && s[i] != '.') ++i;
        std::string u = s.substr(unit, i - unit);
        if (u != "ns" && u != "us" && u != "\xc2\xb5s" && u != "ms" && u != "s" && u != "m" &&
            u != "h")
          ok = false;
      }
    }
    if (!ok) throw crd::decode_error(fmt::format("time: invalid duration {}", field::go_quote(s)));
  }

  // []byte: base64.StdEncoding (encoding/base64 CorruptInputError's offset).
  static void base64(const js::Value& v) {
    std::string_view s = js::view(v);
    auto alphabet = [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/';
    };
    size_t data = 0;
    for (size_t i = 0; i < s.size(); ++i) {
      char c = s[i];
      if (c == '\r' || c == '\n') continue;
      if (alphabet(c)) {
        ++data;
        continue;
      }
      if (c == '=') {
        // Padding: one or two, only at the end of a quantum of 2 or 3 data characters.
        size_t rem = data % 4;
        size_t pads = 1;
        while (i + pads < s.size() && s[i + pads] == '=') ++pads;
        if (rem < 2 || rem + pads != 4 || i + pads != s.size())
          throw crd::decode_error(fmt::format("illegal base64 data at input byte {}", i));
        return;
      }
      throw crd::decode_error(fmt::format("illegal base64 data at input byte {}", i));
    }
    if (data % 4 != 0)
      throw crd::decode_error(
          fmt::format("illegal base64 data at input byte {}", s.size() - data % 4));
  }
};

const bs::message* root_of(const resource_type& t) {
  return bs::model::get().root(t.group, t.storage_version(), t.kind);
}

// Go's fmt %v of a decoded JSON value (map[string]interface{} with int64 numbers).
void go_print(const js::Value& v, std::string& out) {
  if (v.IsObject()) {
    std::vector<const js::Value::Member*> members;
    for (const auto& m : v.GetObject()) members.push_back(&m);
    std::stable_sort(members.begin(), members.end(),
                     [](auto* a, auto* b) { return js::view(a->name) < js::view(b->name); });
    out += "map[";
    for (size_t i = 0; i < members.size(); ++i) {
      if (i) out += ' ';
      out += js::view(members[i]->name);
      out += ':';
      go_print(members[i]->value, out);
    }
    out += ']';
  } else if (v.IsArray()) {
    out += '[';
    for (rapidjson::SizeType i = 0; i < v.Size(); ++i) {
      if (i) out += ' ';
      go_print(v[i], out);
    }
    out += ']';
  } else if (v.IsString()) {
    out += js::view(v);
  } else if (v.IsBool()) {
    out += v.GetBool() ? "true" : "false";
  } else if (v.IsNull()) {
    out += "<nil>";
  } else {
    out += number_text(v);
  }
}

// structured-merge-diff's walk of an apply patch against the schema: the paths of fields the
// schema does not declare (".spec.foo", list elements by key: [name="c"], or by index).
void undeclared(const js::Value& v, const bs::message& m, const std::string& path,
                std::vector<std::string>& out);

void undeclared_value(const js::Value& v, const bs::field& f, const std::string& path,
                      std::vector<std::string>& out) {
  if (f.type != bs::scalar::message || f.msg->form != bs::json_form::fields) return;
  if (f.repeated && v.IsArray()) {
    for (rapidjson::SizeType i = 0; i < v.Size(); ++i) {
      std::string at = fmt::format("{}[{}]", path, i);
      if (f.list_type == "map" && v[i].IsObject()) {
        std::string keys;
        for (const auto& k : f.list_map_keys)
          if (const js::Value* kv = js::find(v[i], k))
            keys += (keys.empty() ? "" : ",") + k + "=" + js::to_string(*kv);
        at = path + "[" + keys + "]";
      }
      undeclared(v[i], *f.msg, at, out);
    }
  } else if (f.map && v.IsObject()) {
    for (const auto& e : v.GetObject())
      undeclared(e.value, *f.msg, path + "." + std::string(js::view(e.name)), out);
  } else {
    undeclared(v, *f.msg, path, out);
  }
}

void undeclared(const js::Value& v, const bs::message& m, const std::string& path,
                std::vector<std::string>& out) {
  if (!v.IsObject()) return;
  for (const auto& member : v.GetObject()) {
    std::string at = path + "." + std::string(js::view(member.name));
    const bs::field* f = m.find(js::view(member.name));
    if (!f)
      out.push_back(at + ": field not declared in schema");
    else
      undeclared_value(member.value, *f, at, out);
  }
}

}  // namespace

std::vector<std::string> decode(const resource_type& t, js::Value& obj, bool unstructured) {
  const bs::message* root = root_of(t);
  if (!root || !obj.IsObject()) return {};
  decoder d(unstructured);
  d.fields(obj, *root, nullptr);
  return std::move(d.errors);
}

std::string go_map_print(const js::Value& v) {
  std::string out;
  go_print(v, out);
  return out;
}

void check_apply_patch(const resource_type& t, const js::Value& patch) {
  const bs::message* root = root_of(t);
  if (!root || !patch.IsObject()) return;
  std::vector<std::string> lines;
  undeclared(patch, *root, "", lines);
  if (lines.empty()) return;
  std::string why;
  if (lines.size() == 1) {
    why = lines[0];
  } else {  // sigs.k8s.io/structured-merge-diff ValidationErrors: several as a list
    why = "errors:";
    for (const auto& l : lines) why += "\n  " + l;
  }
  std::string api_version(js::get_string(patch, "apiVersion"));
  std::string gvk = api_version.find('/') == std::string::npos ? "/" + api_version : api_version;
  throw api_error(500, "",
                  fmt::format("failed to create typed patch object ({}/{}; {}, Kind={}): {}",
                              js::get_string(patch, {"metadata", "namespace"}),
                              js::get_string(patch, {"metadata", "name"}), gvk,
                              js::get_string(patch, "kind"), why));
}

}  // namespace kubesim::builtin_decode
