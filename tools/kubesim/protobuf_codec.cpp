#include "tools/kubesim/protobuf_codec.h"

#include <google/protobuf/io/coded_stream.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <cmath>
#include <cstring>
#include <map>
#include <vector>

#include <fmt/format.h>

#include "k8s/json/base64.h"
#include "k8s/base/timestamps.h"

namespace kubesim::protobuf_codec {
namespace js = k8s::json;
namespace bs = builtin_schema;
namespace pio = google::protobuf::io;

namespace {

constexpr int wire_varint = 0, wire_fixed64 = 1, wire_bytes = 2, wire_fixed32 = 5;
constexpr std::string_view prefix("k8s\0", 4);

struct wire_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// ---- writing (gogo-protobuf's generated Marshal: fields by number, maps by key) ----

void put_varint(std::string& out, uint64_t v) {
  uint8_t buf[10];
  uint8_t* end = pio::CodedOutputStream::WriteVarint64ToArray(v, buf);
  out.append(reinterpret_cast<const char*>(buf), static_cast<size_t>(end - buf));
}

void put_tag(std::string& out, int number, int wire) {
  put_varint(out, (static_cast<uint64_t>(number) << 3) | static_cast<uint64_t>(wire));
}

void put_bytes(std::string& out, int number, std::string_view b) {
  put_tag(out, number, wire_bytes);
  put_varint(out, b.size());
  out.append(b);
}

int64_t to_int(const js::Value& v) {
  if (v.IsInt64()) return v.GetInt64();
  if (v.IsUint64()) return static_cast<int64_t>(v.GetUint64());
  if (v.IsDouble()) return static_cast<int64_t>(v.GetDouble());
  if (v.IsBool()) return v.GetBool() ? 1 : 0;
  return 0;
}

// The JSON text of a number as Go's Quantity would print a plain number.
std::string number_text(const js::Value& v) {
  if (v.IsInt64()) return std::to_string(v.GetInt64());
  if (v.IsUint64()) return std::to_string(v.GetUint64());
  return js::to_string(v);
}

// A scalar field's value; `v` null means Go's zero value.
void put_scalar(std::string& out, const bs::field& f, const js::Value* v) {
  switch (f.type) {
    case bs::scalar::string:
      put_bytes(out, f.number, v && v->IsString() ? js::view(*v) : std::string_view());
      return;
    case bs::scalar::bytes: {
      if (!v || !v->IsString()) return;  // a nil []byte is not written
      auto raw = k8s::base64_decode(js::view(*v));
      if (!raw) throw wire_error(fmt::format("field {}: invalid base64", f.name));
      put_bytes(out, f.number, *raw);
      return;
    }
    case bs::scalar::boolean:
      put_tag(out, f.number, wire_varint);
      put_varint(out, v && v->IsBool() && v->GetBool() ? 1 : 0);
      return;
    case bs::scalar::int32:  // sign-extended, as Go's uint64(int32) is
      put_tag(out, f.number, wire_varint);
      put_varint(out, static_cast<uint64_t>(
                          static_cast<int64_t>(static_cast<int32_t>(v ? to_int(*v) : 0))));
      return;
    case bs::scalar::int64:
    case bs::scalar::uint32:
    case bs::scalar::uint64:
      put_tag(out, f.number, wire_varint);
      put_varint(out, static_cast<uint64_t>(v ? to_int(*v) : 0));
      return;
    case bs::scalar::float64: {
      double d = v && v->IsNumber() ? v->GetDouble() : 0;
      uint64_t bits;
      std::memcpy(&bits, &d, sizeof bits);
      uint8_t buf[8];
      pio::CodedOutputStream::WriteLittleEndian64ToArray(bits, buf);
      put_tag(out, f.number, wire_fixed64);
      out.append(reinterpret_cast<const char*>(buf), 8);
      return;
    }
    case bs::scalar::message:
      return;
  }
}

bool ends_with(std::string_view s, std::string_view tail) {
  return s.size() >= tail.size() && s.substr(s.size() - tail.size()) == tail;
}

// Go's time.Duration.String() of nanoseconds ("1h2m3.5s", "1.5ms", "0s").
std::string go_duration(int64_t ns) {
  if (ns == 0) return "0s";
  const bool neg = ns < 0;
  uint64_t u = neg ? static_cast<uint64_t>(-(ns + 1)) + 1 : static_cast<uint64_t>(ns);
  auto fraction = [](uint64_t v, int digits) {  // "v / 10^digits" without trailing zeros
    std::string whole = std::to_string(v);
    if (static_cast<int>(whole.size()) <= digits)
      whole.insert(0, static_cast<size_t>(digits) + 1 - whole.size(), '0');
    std::string head = whole.substr(0, whole.size() - static_cast<size_t>(digits));
    std::string tail = whole.substr(whole.size() - static_cast<size_t>(digits));
    while (!tail.empty() && tail.back() == '0') tail.pop_back();
    return tail.empty() ? head : head + "." + tail;
  };
  std::string out;
  if (u < 1000000000ULL) {
    if (u < 1000)
      out = std::to_string(u) + "ns";
    else if (u < 1000000)
      out = fraction(u, 3) + "µs";
    else
      out = fraction(u, 6) + "ms";
  } else {
    uint64_t secs = u / 1000000000ULL, sub = u % 1000000000ULL;
    std::string s = fraction(secs % 60 * 1000000000ULL + sub, 9) + "s";
    uint64_t mins = secs / 60;
    if (mins > 0) {
      s = std::to_string(mins % 60) + "m" + s;
      if (mins / 60 > 0) s = std::to_string(mins / 60) + "h" + s;
    }
    out = s;
  }
  return neg ? "-" + out : out;
}

// time.ParseDuration, for the forms Go prints (and decimals per unit).
int64_t parse_go_duration(std::string_view s) {
  bool neg = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    neg = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s == "0") return 0;
  static const std::pair<std::string_view, double> units[] = {
      {"ns", 1}, {"us", 1e3}, {"µs", 1e3}, {"ms", 1e6}, {"s", 1e9}, {"m", 60e9}, {"h", 3600e9}};
  double total = 0;
  while (!s.empty()) {
    size_t n = 0;
    while (n < s.size() && (std::isdigit(static_cast<unsigned char>(s[n])) || s[n] == '.')) ++n;
    if (n == 0) throw wire_error(fmt::format("time: invalid duration \"{}\"", s));
    double value = std::stod(std::string(s.substr(0, n)));
    s.remove_prefix(n);
    double scale = 0;
    size_t best = 0;
    for (const auto& [name, factor] : units)
      if (s.substr(0, name.size()) == name && name.size() > best) {
        best = name.size();
        scale = factor;
      }
    if (best == 0) throw wire_error(fmt::format("time: missing unit in duration \"{}\"", s));
    s.remove_prefix(best);
    total += value * scale;
  }
  return static_cast<int64_t>(neg ? -total : total);
}

std::string encode_value(const bs::message& m, const js::Value* v);

void encode_fields(const bs::message& m, const js::Value* obj, std::string& out) {
  std::vector<const bs::field*> fields;
  for (const auto& f : m.fields)
    if (f.number > 0) fields.push_back(&f);
  std::stable_sort(fields.begin(), fields.end(),
                   [](const bs::field* a, const bs::field* b) { return a->number < b->number; });
  for (const bs::field* fp : fields) {
    const bs::field& f = *fp;
    if (f.inline_ && f.msg) {  // json:",inline": the parent's members, its own message on the wire
      std::string sub;
      encode_fields(*f.msg, obj, sub);
      put_bytes(out, f.number, sub);
      continue;
    }
    const js::Value* v = obj && obj->IsObject() ? js::find(*obj, f.name) : nullptr;
    if (v && v->IsNull()) v = nullptr;
    if (f.map) {
      if (!v || !v->IsObject()) continue;
      std::map<std::string_view, const js::Value*> sorted;
      for (const auto& e : v->GetObject()) sorted[js::view(e.name)] = &e.value;
      for (const auto& [key, value] : sorted) {
        std::string entry;
        put_bytes(entry, 1, key);
        if (f.type == bs::scalar::message) {
          put_bytes(entry, 2, encode_value(*f.msg, value));
        } else {
          bs::field value_field = f;
          value_field.number = 2;
          put_scalar(entry, value_field, value->IsNull() ? nullptr : value);
        }
        put_bytes(out, f.number, entry);
      }
    } else if (f.repeated) {
      if (!v || !v->IsArray()) continue;
      for (const auto& e : v->GetArray()) {
        if (f.type == bs::scalar::message)
          put_bytes(out, f.number, encode_value(*f.msg, &e));
        else
          put_scalar(out, f, &e);
      }
    } else if (f.type == bs::scalar::message) {
      if (v || !f.pointer) put_bytes(out, f.number, encode_value(*f.msg, v));
    } else if (v || !f.pointer) {
      put_scalar(out, f, v);
    }
  }
}

// A message's bytes from its JSON form; `v` null is Go's zero value.
std::string encode_value(const bs::message& m, const js::Value* v) {
  std::string out;
  switch (m.form) {
    case bs::json_form::fields:
      encode_fields(m, v, out);
      break;
    case bs::json_form::quantity:  // Quantity.Marshal: its canonical string ("0" when zero)
      put_bytes(out, 1,
                !v              ? std::string("0")
                : v->IsString() ? std::string(js::view(*v))
                                : number_text(*v));
      break;
    case bs::json_form::int_or_string: {  // type, intVal, strVal, always all three
      const bool is_string = v && v->IsString();
      put_tag(out, 1, wire_varint);
      put_varint(out, is_string ? 1 : 0);
      put_tag(out, 2, wire_varint);
      put_varint(out, static_cast<uint64_t>(static_cast<int64_t>(
                          static_cast<int32_t>(v && !is_string ? to_int(*v) : 0))));
      put_bytes(out, 3, is_string ? js::view(*v) : std::string_view());
      break;
    }
    case bs::json_form::date_time: {  // metav1.Time.Marshal: nothing for the zero time
      if (!v || !v->IsString()) break;
      auto t = k8s::parse_rfc3339(js::view(*v));
      if (!t || t->is_zero()) break;
      put_tag(out, 1, wire_varint);
      put_varint(out, static_cast<uint64_t>(t->seconds));
      put_tag(out, 2, wire_varint);
      put_varint(out, static_cast<uint64_t>(t->nanos));
      break;
    }
    case bs::json_form::duration:
      put_tag(out, 1, wire_varint);
      put_varint(out,
                 static_cast<uint64_t>(v && v->IsString() ? parse_go_duration(js::view(*v)) : 0));
      break;
    case bs::json_form::object:  // RawExtension / FieldsV1: the JSON text, nothing when nil
      if (v) put_bytes(out, 1, js::to_string(*v));
      break;
    case bs::json_form::string_array:  // ExtraValue: repeated string items = 1
      if (v && v->IsArray())
        for (const auto& s : v->GetArray())
          if (s.IsString()) put_bytes(out, 1, js::view(s));
      break;
    case bs::json_form::any: {
      if (!v) break;
      const auto* schema = m.name.find("JSONSchemaProps") != std::string::npos
                               ? bs::model::get().find_message(
                                     "k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.v1."
                                     "JSONSchemaProps")
                               : nullptr;
      if (ends_with(m.name, "JSONSchemaPropsOrBool")) {  // allows = 1, schema = 2
        put_tag(out, 1, wire_varint);
        put_varint(out, v->IsBool() ? v->GetBool() : 1);
        if (v->IsObject() && schema) put_bytes(out, 2, encode_value(*schema, v));
      } else if (ends_with(m.name, "JSONSchemaPropsOrArray")) {  // schema = 1, jSONSchemas = 2
        if (v->IsObject() && schema) put_bytes(out, 1, encode_value(*schema, v));
        if (v->IsArray() && schema)
          for (const auto& e : v->GetArray()) put_bytes(out, 2, encode_value(*schema, &e));
      } else if (ends_with(m.name, "JSONSchemaPropsOrStringArray")) {  // schema = 1, property = 2
        if (v->IsObject() && schema) put_bytes(out, 1, encode_value(*schema, v));
        if (v->IsArray())
          for (const auto& e : v->GetArray())
            if (e.IsString()) put_bytes(out, 2, js::view(e));
      } else {  // apiextensions JSON: raw = 1
        put_bytes(out, 1, js::to_string(*v));
      }
      break;
    }
  }
  return out;
}

// ---- reading (gogo-protobuf's generated Unmarshal) ----

struct wire_field {
  int number = 0;
  int wire = 0;
  uint64_t num = 0;
  std::string_view bytes;
};

std::string go_short_name(const bs::message& m) {
  auto dot = m.go_name.rfind('.');
  return dot == std::string::npos ? m.go_name : m.go_name.substr(dot + 1);
}

// The Go field name gogo's errors use ("name" -> "Name"; approximated from the JSON name).
std::string go_field_name(const bs::field& f) {
  std::string n = f.name;
  if (!n.empty()) n[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(n[0])));
  return n;
}

std::vector<wire_field> read_fields(std::string_view data, const std::string& type_name) {
  pio::CodedInputStream in(reinterpret_cast<const uint8_t*>(data.data()),
                           static_cast<int>(data.size()));
  const int size = static_cast<int>(data.size());
  std::vector<wire_field> out;
  const wire_error eof("unexpected EOF");
  while (in.CurrentPosition() < size) {
    uint64_t key;
    if (!in.ReadVarint64(&key)) throw eof;
    wire_field f;
    f.number = static_cast<int>(key >> 3);
    f.wire = static_cast<int>(key & 7);
    if (f.wire == 4)
      throw wire_error(fmt::format("proto: {}: wiretype end group for non-group", type_name));
    if ((key >> 3) == 0 || (key >> 3) > INT_MAX)
      throw wire_error(fmt::format("proto: {}: illegal tag {} (wire type {})", type_name,
                                   static_cast<int32_t>(key >> 3), f.wire));
    switch (f.wire) {
      case wire_varint:
        if (!in.ReadVarint64(&f.num)) throw eof;
        break;
      case wire_fixed64:
        if (!in.ReadLittleEndian64(&f.num)) throw eof;
        break;
      case wire_fixed32: {
        uint32_t v;
        if (!in.ReadLittleEndian32(&v)) throw eof;
        f.num = v;
        break;
      }
      case wire_bytes: {
        uint64_t len;
        if (!in.ReadVarint64(&len)) throw eof;
        if (len > static_cast<uint64_t>(INT_MAX))
          throw wire_error("proto: negative length found during unmarshaling");
        const int pos = in.CurrentPosition();
        if (static_cast<int64_t>(len) > size - pos) throw eof;
        f.bytes = data.substr(static_cast<size_t>(pos), static_cast<size_t>(len));
        in.Skip(static_cast<int>(len));
        break;
      }
      default:  // start group (3), 6, 7: skipGenerated
        throw wire_error(fmt::format("proto: illegal wireType {}", f.wire));
    }
    out.push_back(f);
  }
  return out;
}

int expected_wire(bs::scalar s) {
  switch (s) {
    case bs::scalar::string:
    case bs::scalar::bytes:
    case bs::scalar::message:
      return wire_bytes;
    case bs::scalar::float64:
      return wire_fixed64;
    default:
      return wire_varint;
  }
}

js::Value scalar_json(bs::scalar type, const wire_field& w, js::Allocator& a) {
  switch (type) {
    case bs::scalar::string:
      return js::string_value(w.bytes, a);
    case bs::scalar::bytes:
      return js::string_value(k8s::base64_encode(w.bytes), a);
    case bs::scalar::boolean:
      return js::Value(w.num != 0);
    case bs::scalar::int32:
      return js::Value(static_cast<int32_t>(w.num));
    case bs::scalar::int64:
      return js::Value(static_cast<int64_t>(w.num));
    case bs::scalar::uint32:
      return js::Value(static_cast<uint32_t>(w.num));
    case bs::scalar::uint64:
      return js::Value(w.num);
    case bs::scalar::float64: {
      double d;
      std::memcpy(&d, &w.num, sizeof d);
      return js::Value(d);
    }
    case bs::scalar::message:
      break;
  }
  return js::Value();
}

js::Value zero_scalar(bs::scalar type, js::Allocator& a) {
  switch (type) {
    case bs::scalar::string:
    case bs::scalar::bytes:
      return js::string_value("", a);
    case bs::scalar::boolean:
      return js::Value(false);
    case bs::scalar::float64:
      return js::Value(0.0);
    default:
      return js::Value(0);
  }
}

bool is_zero(const js::Value& v) {
  if (v.IsString()) return v.GetStringLength() == 0;
  if (v.IsBool()) return !v.GetBool();
  if (v.IsNumber()) return v.GetDouble() == 0;
  return false;
}

js::Value decode_value(const bs::message& m, std::string_view wire, js::Allocator& a);

// The values of the fields numbered `number`: the last one, or the concatenation of all of a
// singular embedded message's (protobuf merges repeated occurrences).
struct grouped {
  std::map<int, std::vector<const wire_field*>> by_number;
};

void check_wire(const bs::field& f, const wire_field& w, bool packed_ok) {
  const int want = f.map ? wire_bytes : expected_wire(f.type);
  if (w.wire == want || (packed_ok && w.wire == wire_bytes)) return;
  throw wire_error(
      fmt::format("proto: wrong wireType = {} for field {}", w.wire, go_field_name(f)));
}

// A packed repeated scalar's elements.
std::vector<wire_field> unpack(const bs::field& f, std::string_view bytes) {
  std::vector<wire_field> out;
  pio::CodedInputStream in(reinterpret_cast<const uint8_t*>(bytes.data()),
                           static_cast<int>(bytes.size()));
  while (in.CurrentPosition() < static_cast<int>(bytes.size())) {
    wire_field w;
    w.number = f.number;
    w.wire = expected_wire(f.type);
    bool ok = w.wire == wire_fixed64 ? in.ReadLittleEndian64(&w.num) : in.ReadVarint64(&w.num);
    if (!ok) throw wire_error("unexpected EOF");
    out.push_back(w);
  }
  return out;
}

void decode_fields_into(const bs::message& m, std::string_view wire, js::Value& obj,
                        js::Allocator& a) {
  const std::string type_name = go_short_name(m);
  std::vector<wire_field> fields = read_fields(wire, type_name);
  std::map<int, std::vector<const wire_field*>> by_number;
  for (const auto& w : fields) by_number[w.number].push_back(&w);
  auto absent = [&](const bs::field& f) {  // nil pointer, slice or map
    if (!f.omitempty) obj.AddMember(js::string_value(f.name, a), js::Value(), a);
  };
  for (const auto& f : m.fields) {
    if (f.number <= 0) continue;  // TypeMeta: not on the wire
    auto it = by_number.find(f.number);
    const std::vector<const wire_field*> none;
    const auto& items = it == by_number.end() ? none : it->second;
    for (const wire_field* w : items)
      check_wire(f, *w,
                 f.repeated && f.type != bs::scalar::message && f.type != bs::scalar::string &&
                     f.type != bs::scalar::bytes);
    auto merged = [&]() {
      std::string all;
      for (const wire_field* w : items) all.append(w->bytes);
      return all;
    };
    if (f.inline_ && f.msg) {
      decode_fields_into(*f.msg, merged(), obj, a);
      continue;
    }
    if (f.map) {
      if (items.empty()) {
        absent(f);
        continue;
      }
      std::map<std::string, js::Value> entries;  // Go's encoding/json sorts map keys
      for (const wire_field* w : items) {
        std::string key;
        std::string value_bytes;
        std::optional<wire_field> value;
        for (const auto& e : read_fields(w->bytes, type_name)) {
          if (e.number == 1 && e.wire == wire_bytes) key = std::string(e.bytes);
          if (e.number == 2) value = e;
        }
        js::Value v;
        if (f.type == bs::scalar::message)
          v = decode_value(*f.msg, value ? value->bytes : std::string_view(), a);
        else if (value)
          v = scalar_json(f.type, *value, a);
        else
          v = zero_scalar(f.type, a);
        entries[key] = std::move(v);
      }
      js::Value out(rapidjson::kObjectType);
      for (auto& [k, v] : entries) out.AddMember(js::string_value(k, a), v, a);
      obj.AddMember(js::string_value(f.name, a), out, a);
      continue;
    }
    if (f.repeated) {
      if (items.empty()) {
        absent(f);
        continue;
      }
      js::Value out(rapidjson::kArrayType);
      for (const wire_field* w : items) {
        if (f.type == bs::scalar::message) {
          out.PushBack(decode_value(*f.msg, w->bytes, a), a);
        } else if (w->wire == wire_bytes && expected_wire(f.type) != wire_bytes) {
          for (const auto& e : unpack(f, w->bytes)) out.PushBack(scalar_json(f.type, e, a), a);
        } else {
          out.PushBack(scalar_json(f.type, *w, a), a);
        }
      }
      obj.AddMember(js::string_value(f.name, a), out, a);
      continue;
    }
    if (items.empty() && f.pointer) {
      absent(f);
      continue;
    }
    js::Value v;
    if (f.type == bs::scalar::message) {
      v = decode_value(*f.msg, merged(), a);  // a struct: never omitted by omitempty
    } else if (items.empty()) {
      if (f.type == bs::scalar::bytes) {  // a nil []byte
        absent(f);
        continue;
      }
      v = zero_scalar(f.type, a);
      if (f.omitempty) continue;
    } else {
      v = scalar_json(f.type, *items.back(), a);
      if (f.omitempty && !f.pointer && is_zero(v)) continue;
    }
    obj.AddMember(js::string_value(f.name, a), v, a);
  }
}

js::Value parse_raw_json(std::string_view raw, js::Allocator& a) {
  js::Document d;
  try {
    d = js::parse(raw);
  } catch (const std::exception& e) {
    throw wire_error(fmt::format("json: error calling MarshalJSON: {}", e.what()));
  }
  return js::Value(d, a);
}

std::string two_digit_time(const bs::message& m, int64_t seconds, int64_t nanos) {
  auto tp = std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(
          std::chrono::seconds(seconds) + std::chrono::nanoseconds(nanos)));
  return ends_with(m.name, ".MicroTime") ? k8s::format_micro_time(tp) : k8s::format_time(tp);
}

js::Value decode_value(const bs::message& m, std::string_view wire, js::Allocator& a) {
  switch (m.form) {
    case bs::json_form::fields: {
      js::Value obj(rapidjson::kObjectType);
      decode_fields_into(m, wire, obj, a);
      return obj;
    }
    default:
      break;
  }
  const std::vector<wire_field> fields = read_fields(wire, go_short_name(m));
  auto last = [&](int number) -> const wire_field* {
    const wire_field* found = nullptr;
    for (const auto& w : fields)
      if (w.number == number) found = &w;
    return found;
  };
  switch (m.form) {
    case bs::json_form::quantity: {
      const wire_field* s = last(1);
      return js::string_value(s && !s->bytes.empty() ? s->bytes : std::string_view("0"), a);
    }
    case bs::json_form::int_or_string: {
      const wire_field* type = last(1);
      if (type && type->num == 1) {
        const wire_field* s = last(3);
        return js::string_value(s ? s->bytes : std::string_view(), a);
      }
      const wire_field* i = last(2);
      return js::Value(i ? static_cast<int32_t>(i->num) : 0);
    }
    case bs::json_form::date_time: {  // Time.Unmarshal: empty bytes are the zero time (null)
      if (wire.empty()) return js::Value();
      const wire_field* s = last(1);
      const wire_field* n = last(2);
      return js::string_value(two_digit_time(m, s ? static_cast<int64_t>(s->num) : 0,
                                             n ? static_cast<int32_t>(n->num) : 0),
                              a);
    }
    case bs::json_form::duration: {
      const wire_field* d = last(1);
      return js::string_value(go_duration(d ? static_cast<int64_t>(d->num) : 0), a);
    }
    case bs::json_form::object: {  // RawExtension.MarshalJSON: null when Raw is nil
      const wire_field* raw = last(1);
      return raw ? parse_raw_json(raw->bytes, a) : js::Value();
    }
    case bs::json_form::string_array: {
      js::Value out(rapidjson::kArrayType);
      for (const auto& w : fields)
        if (w.number == 1) out.PushBack(js::string_value(w.bytes, a), a);
      return out;
    }
    case bs::json_form::any: {
      const bs::message* schema = bs::model::get().find_message(
          "k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps");
      if (ends_with(m.name, "JSONSchemaPropsOrBool")) {
        if (const wire_field* s = last(2); s && schema) return decode_value(*schema, s->bytes, a);
        const wire_field* allows = last(1);
        return js::Value(allows && allows->num != 0);
      }
      if (ends_with(m.name, "JSONSchemaPropsOrArray") ||
          ends_with(m.name, "JSONSchemaPropsOrStringArray")) {
        const bool strings = ends_with(m.name, "StringArray");
        js::Value arr(rapidjson::kArrayType);
        for (const auto& w : fields)
          if (w.number == 2)
            arr.PushBack(strings ? js::string_value(w.bytes, a) : decode_value(*schema, w.bytes, a),
                         a);
        if (!arr.Empty()) return arr;
        if (const wire_field* s = last(1); s && schema) return decode_value(*schema, s->bytes, a);
        return js::Value();
      }
      const wire_field* raw = last(1);
      return raw ? parse_raw_json(raw->bytes, a) : js::Value();
    }
    case bs::json_form::fields:
      break;
  }
  return js::Value();
}

std::string hex(std::string_view data) {
  std::string out;
  for (unsigned char c : data) out += fmt::format("{:02x}", c);
  return out;
}

// handlers/rest.go summarizeData(body, 30).
std::string summarize(std::string_view body) {
  if (body.empty()) return "<empty>";
  if (body[0] == '{')
    return body.size() > 30 ? std::string(body.substr(0, 30)) + " ..." : std::string(body);
  return body.size() > 30 ? hex(body.substr(0, 30)) + " ..." : hex(body);
}

std::pair<std::string, std::string> split_api_version(std::string_view api_version) {
  auto slash = api_version.find('/');
  if (slash == std::string_view::npos) return {"", std::string(api_version)};
  return {std::string(api_version.substr(0, slash)), std::string(api_version.substr(slash + 1))};
}

// The message of a kind; Status travels as "v1" and DeleteOptions in the request's group
// version, but both are meta.k8s.io's.
const bs::message* root_of(std::string_view group, std::string_view version,
                           std::string_view kind) {
  const auto& model = bs::model::get();
  if (const bs::message* m = model.root(group, version, kind)) return m;
  // metav1's kinds are registered in every group version (metav1.AddToGroupVersion).
  if (kind == "Status" || kind == "DeleteOptions") return model.root("meta.k8s.io", "v1", kind);
  return nullptr;
}

}  // namespace

envelope unwrap(std::string_view body) {
  if (body.empty()) throw std::runtime_error("empty data");
  if (body.size() < prefix.size() || body.substr(0, prefix.size()) != prefix)
    throw std::runtime_error(
        "provided data does not appear to be a protobuf message, expected prefix [107 56 115 0]");
  if (body.size() == prefix.size()) throw std::runtime_error("empty body");
  envelope e;
  const std::string type_name = "Unknown";
  for (const auto& w : read_fields(body.substr(prefix.size()), type_name)) {
    auto want = [&](int wire, const char* name) {
      if (w.wire != wire)
        throw wire_error(fmt::format("proto: wrong wireType = {} for field {}", w.wire, name));
    };
    switch (w.number) {
      case 1:
        want(wire_bytes, "TypeMeta");
        for (const auto& t : read_fields(w.bytes, "TypeMeta")) {
          if (t.number == 1 || t.number == 2) {
            if (t.wire != wire_bytes)
              throw wire_error(fmt::format("proto: wrong wireType = {} for field {}", t.wire,
                                           t.number == 1 ? "APIVersion" : "Kind"));
            (t.number == 1 ? e.api_version : e.kind) = std::string(t.bytes);
          }
        }
        break;
      case 2:
        want(wire_bytes, "Raw");
        e.raw = std::string(w.bytes);
        break;
      case 3:
        want(wire_bytes, "ContentEncoding");
        e.content_encoding = std::string(w.bytes);
        break;
      case 4:
        want(wire_bytes, "ContentType");
        e.content_type = std::string(w.bytes);
        break;
      default:
        break;
    }
  }
  return e;
}

std::string wrap(std::string_view api_version, std::string_view kind, std::string_view raw) {
  std::string type_meta;
  put_bytes(type_meta, 1, api_version);
  put_bytes(type_meta, 2, kind);
  std::string out(prefix);
  put_bytes(out, 1, type_meta);
  put_bytes(out, 2, raw);
  put_bytes(out, 3, "");
  put_bytes(out, 4, "");
  return out;
}

std::string encode(const bs::message& m, const js::Value& json) {
  return encode_value(m, &json);
}

js::Document decode(const bs::message& m, std::string_view wire) {
  js::Document d;
  js::Value v = decode_value(m, wire, d.GetAllocator());
  js::Value& root = d;
  root.Swap(v);
  return d;
}

js::Document decode_protobuf_body(std::string_view body, std::string_view group,
                                  std::string_view version, std::string_view kind) {
  envelope e;
  try {
    e = unwrap(body);
  } catch (const std::exception& err) {
    // Decode returned no kind: transformDecodeError's "unrecognized" form.
    throw decode_error(
        fmt::format("the object provided is unrecognized (must be of type {}): {} ({})", kind,
                    err.what(), summarize(body)));
  }
  auto [g, v] = split_api_version(e.api_version);
  std::string k = e.kind;
  if (k.empty()) k = std::string(kind);  // copyKindDefaults
  if (v.empty() && !version.empty()) {
    g = std::string(group);
    v = std::string(version);
  }
  const bs::message* m = root_of(g, v, k);
  if (!m)
    throw decode_error(fmt::format(
        "{} in version \"{}\" cannot be handled as a {}: no kind \"{}\" is registered for version "
        "\"{}\" in scheme \"pkg/api/legacyscheme/scheme.go:30\"",
        k, v, kind, k, g.empty() ? v : g + "/" + v));
  js::Document out(rapidjson::kObjectType);
  auto& a = out.GetAllocator();
  out.AddMember("apiVersion", js::string_value(g.empty() ? v : g + "/" + v, a), a);
  out.AddMember("kind", js::string_value(k, a), a);
  try {
    decode_fields_into(*m, e.raw, out, a);
  } catch (const std::exception& err) {
    throw decode_error(
        fmt::format("{} in version \"{}\" cannot be handled as a {}: {}", k, v, kind, err.what()));
  }
  return out;
}

std::optional<std::string> encode_object(const js::Value& obj) {
  if (!obj.IsObject()) return std::nullopt;
  const std::string_view api_version = js::get_string(obj, "apiVersion");
  const std::string_view kind = js::get_string(obj, "kind");
  auto [g, v] = split_api_version(api_version);
  const bs::message* m = root_of(g, v, kind);
  if (!m) return std::nullopt;
  return wrap(api_version, kind, encode_value(*m, &obj));
}

std::string watch_frame(const js::Value& event) {
  std::string object;
  if (const js::Value* o = js::find(event, "object")) {
    auto enveloped = encode_object(*o);
    object = enveloped ? *enveloped : js::to_string(*o);
  }
  std::string raw_extension;
  put_bytes(raw_extension, 1, object);
  std::string message;
  put_bytes(message, 1, js::get_string(event, "type"));
  put_bytes(message, 2, raw_extension);
  const auto n = static_cast<uint32_t>(message.size());
  std::string out{static_cast<char>(n >> 24), static_cast<char>(n >> 16), static_cast<char>(n >> 8),
                  static_cast<char>(n)};
  return out + message;
}

std::optional<bool> negotiate_protobuf(std::string_view accept, bool protobuf_ok) {
  struct range {
    std::string type;
    double q = 1;
    int specificity = 0;
    bool other_params = false;
  };
  std::vector<range> ranges;
  size_t pos = 0;
  while (pos <= accept.size()) {
    size_t end = accept.find(',', pos);
    if (end == std::string_view::npos) end = accept.size();
    std::string_view part = accept.substr(pos, end - pos);
    pos = end + 1;
    range r;
    size_t semi = part.find(';');
    std::string_view type = part.substr(0, semi);
    while (!type.empty() && type.front() == ' ') type.remove_prefix(1);
    while (!type.empty() && type.back() == ' ') type.remove_suffix(1);
    if (type.empty()) continue;
    for (char c : type) r.type += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    while (semi != std::string_view::npos) {
      size_t next = part.find(';', semi + 1);
      std::string_view param =
          part.substr(semi + 1, next == std::string_view::npos ? part.npos : next - semi - 1);
      while (!param.empty() && param.front() == ' ') param.remove_prefix(1);
      if (param.substr(0, 2) == "q=")
        r.q = std::atof(std::string(param.substr(2)).c_str());
      else if (!param.empty() && param != "stream=watch")
        r.other_params = true;
      semi = next;
    }
    r.specificity = r.type == "*/*" ? 0 : ends_with(r.type, "/*") ? 1 : 2;
    if (r.q > 0) ranges.push_back(r);
  }
  if (ranges.empty()) return false;
  // goautoneg.ParseAccept: by quality, then the more specific first.
  std::stable_sort(ranges.begin(), ranges.end(), [](const range& a, const range& b) {
    return a.q != b.q ? a.q > b.q : a.specificity > b.specificity;
  });
  for (const auto& r : ranges) {
    if (r.other_params) continue;
    if (r.type == media_type) {
      if (protobuf_ok) return true;
      continue;
    }
    if (r.type == "application/json" || r.type == "application/yaml" || r.type == "*/*" ||
        r.type == "application/*")
      return false;
  }
  return std::nullopt;
}

}  // namespace kubesim::protobuf_codec
