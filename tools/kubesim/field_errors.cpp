#include "tools/kubesim/field_errors.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <set>

#include <fmt/format.h>

#include "tools/kubesim/go_format.h"

namespace kubesim::field {
namespace js = k8s::json;

namespace {

// Decodes one UTF-8 sequence at s[i]; returns its code point and length, or -1 if invalid.
std::pair<long, size_t> next_rune(std::string_view s, size_t i) {
  const auto c = static_cast<unsigned char>(s[i]);
  if (c < 0x80) return {c, 1};
  size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 0;
  if (len == 0 || len > 4 || i + len > s.size()) return {-1, 1};
  long r = c & (0x3F >> (len - 1));
  for (size_t k = 1; k < len; ++k) {
    const auto cc = static_cast<unsigned char>(s[i + k]);
    if ((cc & 0xC0) != 0x80) return {-1, 1};
    r = (r << 6) | (cc & 0x3F);
  }
  return {r, len};
}

// unicode.IsPrint for the code points JSON strings usually hold.
bool printable(long r) {
  if (r < 0x20 || r == 0x7F) return false;
  if (r >= 0x80 && r < 0xA0) return false;
  if (r == 0xAD || r == 0x2028 || r == 0x2029 || r == 0xFEFF) return false;
  return true;
}

std::vector<const js::Value::Member*> sorted_members(const js::Value& obj) {
  std::vector<const js::Value::Member*> members;
  for (const auto& m : obj.GetObject()) members.push_back(&m);
  std::stable_sort(members.begin(), members.end(),
                   [](auto* a, auto* b) { return js::view(a->name) < js::view(b->name); });
  return members;
}

std::string go_number(const js::Value& v) {
  if (v.IsInt64()) return std::to_string(v.GetInt64());
  return go_float(v.GetDouble());  // beyond int64: the decoder gives a float64
}

status_cause make(const char* type, const std::string& path, const std::string& body) {
  return {type, path + ": " + body, path};
}

std::string with_detail(std::string body, const std::string& detail) {
  if (!detail.empty()) body += ": " + detail;
  return body;
}

}  // namespace

std::string go_quote(std::string_view s) {
  std::string out = "\"";
  for (size_t i = 0; i < s.size();) {
    auto [r, len] = next_rune(s, i);
    if (r < 0) {
      out += fmt::format("\\x{:02x}", static_cast<unsigned char>(s[i]));
    } else if (r == '"' || r == '\\') {
      out += '\\';
      out += static_cast<char>(r);
    } else if (printable(r)) {
      out.append(s.substr(i, len));
    } else {
      switch (r) {
        case '\a':
          out += "\\a";
          break;
        case '\b':
          out += "\\b";
          break;
        case '\f':
          out += "\\f";
          break;
        case '\n':
          out += "\\n";
          break;
        case '\r':
          out += "\\r";
          break;
        case '\t':
          out += "\\t";
          break;
        case '\v':
          out += "\\v";
          break;
        default:
          if (r < 0x80)
            out += fmt::format("\\x{:02x}", r);
          else if (r < 0x10000)
            out += fmt::format("\\u{:04x}", r);
          else
            out += fmt::format("\\U{:08x}", r);
      }
    }
    i += len;
  }
  return out + "\"";
}

std::string go_float(double d) {
  if (std::isnan(d)) return "NaN";
  if (std::isinf(d)) return d > 0 ? "+Inf" : "-Inf";
  return go::float_text(d);
}

std::string go_sharp_value(const js::Value& v) {
  if (v.IsString()) return go_quote(js::view(v));
  if (v.IsNumber()) return go_number(v);
  if (v.IsBool()) return v.GetBool() ? "true" : "false";
  if (v.IsNull()) return "interface {}(nil)";
  std::string out;
  if (v.IsArray()) {
    out = "[]interface {}{";
    for (rapidjson::SizeType i = 0; i < v.Size(); ++i)
      out += (i ? ", " : "") + go_sharp_value(v[i]);
    return out + "}";
  }
  out = "map[string]interface {}{";
  bool first = true;
  for (const auto* m : sorted_members(v)) {
    out += (first ? "" : ", ") + go_quote(js::view(m->name)) + ":" + go_sharp_value(m->value);
    first = false;
  }
  return out + "}";
}

std::string go_value(const js::Value& v) {
  if (v.IsNull()) return go_quote("null");
  if (v.IsString()) return go_quote(js::view(v));
  if (v.IsNumber()) return go_number(v);
  if (v.IsBool()) return v.GetBool() ? "true" : "false";
  return go_sharp_value(v);
}

std::string child(const std::string& path, std::string_view name) {
  return path.empty() ? std::string(name) : path + "." + std::string(name);
}
std::string index(const std::string& path, size_t i) {
  return fmt::format("{}[{}]", path, i);
}
std::string key(const std::string& path, std::string_view k) {
  return fmt::format("{}[{}]", path, k);
}

status_cause required(const std::string& path, const std::string& detail) {
  return make("FieldValueRequired", path, with_detail("Required value", detail));
}
status_cause forbidden(const std::string& path, const std::string& detail) {
  return make("FieldValueForbidden", path, with_detail("Forbidden", detail));
}
status_cause invalid(const std::string& path, const std::string& value, const std::string& detail) {
  return make("FieldValueInvalid", path, with_detail("Invalid value: " + value, detail));
}
status_cause type_invalid(const std::string& path, const std::string& value,
                          const std::string& detail) {
  return make("FieldValueTypeInvalid", path, with_detail("Invalid value: " + value, detail));
}
status_cause not_supported(const std::string& path, const std::string& value,
                           const std::vector<std::string>& supported) {
  std::string detail;
  for (const auto& s : supported) detail += (detail.empty() ? "" : ", ") + go_quote(s);
  if (!detail.empty()) detail = "supported values: " + detail;
  return make("FieldValueNotSupported", path, with_detail("Unsupported value: " + value, detail));
}
status_cause duplicate(const std::string& path, const std::string& value) {
  return make("FieldValueDuplicate", path, "Duplicate value: " + value);
}
status_cause too_long(const std::string& path, long long max_bytes) {
  return make("FieldValueTooLong", path,
              max_bytes >= 0 ? fmt::format("Too long: may not be more than {} bytes", max_bytes)
                             : "Too long: value is too long");
}
status_cause too_many(const std::string& path, long long actual, long long max) {
  std::string body = actual >= 0 ? fmt::format("Too many: {}", actual) : "Too many";
  return make("FieldValueTooMany", path,
              body + (max >= 0 ? fmt::format(": must have at most {} items", max)
                               : ": has too many items"));
}

std::string aggregate(const std::vector<status_cause>& causes) {
  std::vector<std::string> messages;
  std::set<std::string> seen;
  for (const auto& c : causes)
    if (seen.insert(c.message).second) messages.push_back(c.message);
  if (messages.size() == 1) return messages[0];
  std::string out;
  for (const auto& m : messages) out += (out.empty() ? "" : ", ") + m;
  return "[" + out + "]";
}

}  // namespace kubesim::field
