#include "actors/casskop/logic/go_json.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>
#include <vector>

namespace casskop {

namespace {

// Length of the valid UTF-8 sequence at s[i], or 0 (Go's utf8.DecodeRuneInString: RuneError,1).
size_t utf8_length(std::string_view s, size_t i, uint32_t& cp) {
  auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = b(i);
  size_t n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
  if (c >= 0xF5 || n == 0 || i + n > s.size()) return 0;
  cp = c & (0x7F >> n);
  for (size_t k = 1; k < n; ++k) {
    if ((b(i + k) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b(i + k) & 0x3F);
  }
  if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
      (cp >= 0xD800 && cp <= 0xDFFF))
    return 0;
  return n;
}

}  // namespace

void go_append_string(std::string& out, std::string_view s) {
  static const char hex[] = "0123456789abcdef";
  out += '"';
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      if (c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&') {
        out += static_cast<char>(c);
      } else if (c == '"' || c == '\\') {
        out += '\\';
        out += static_cast<char>(c);
      } else if (c == '\n') {
        out += "\\n";
      } else if (c == '\r') {
        out += "\\r";
      } else if (c == '\t') {
        out += "\\t";
      } else {  // other control characters and the HTML ones (Go 1.17 encode.go:1000)
        out += "\\u00";
        out += hex[c >> 4];
        out += hex[c & 0xF];
      }
      ++i;
      continue;
    }
    uint32_t cp = 0;
    size_t n = utf8_length(s, i, cp);
    if (n == 0) {
      out += "\\ufffd";
      ++i;
    } else if (cp == 0x2028 || cp == 0x2029) {
      out += cp == 0x2028 ? "\\u2028" : "\\u2029";
      i += n;
    } else {
      out.append(s.substr(i, n));
      i += n;
    }
  }
  out += '"';
}

// encoding/json floatEncoder for float64 (encode.go:575): strconv's shortest digits that
// round-trip, in 'f' form (padded with zeros, never more digits: 1.2345678901234567e19 is
// "12345678901234567000"), or 'e' form below 1e-6 and from 1e21.
void go_append_number(std::string& out, double d) {
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
  std::string sci(buf, r.ptr);  // "-d.ddde+XX", shortest digits
  bool negative = sci[0] == '-';
  if (negative) sci.erase(0, 1);
  size_t e = sci.find('e');
  std::string digits = sci.substr(0, e);
  digits.erase(std::remove(digits.begin(), digits.end(), '.'), digits.end());
  int exponent = std::stoi(sci.substr(e + 1));
  double abs = std::fabs(d);
  if (negative) out += '-';
  if (abs != 0 && (abs < 1e-6 || abs >= 1e21)) {
    out += digits[0];
    if (digits.size() > 1) out += "." + digits.substr(1);
    out += exponent < 0 ? "e-" : "e+";
    int x = exponent < 0 ? -exponent : exponent;
    if (x < 10 && exponent >= 0) out += '0';  // e+07 kept; e-07 becomes e-7 (encode.go:591)
    out += std::to_string(x);
    return;
  }
  if (abs == 0) {
    out += '0';
    return;
  }
  if (exponent >= 0) {
    size_t int_len = static_cast<size_t>(exponent) + 1;
    if (digits.size() <= int_len) {
      out += digits + std::string(int_len - digits.size(), '0');
    } else {
      out += digits.substr(0, int_len) + "." + digits.substr(int_len);
    }
  } else {
    out += "0." + std::string(static_cast<size_t>(-exponent - 1), '0') + digits;
  }
}

namespace {

void marshal(std::string& out, const k8s::json::Value& v) {
  switch (v.GetType()) {
    case rapidjson::kNullType:
      out += "null";
      return;
    case rapidjson::kFalseType:
      out += "false";
      return;
    case rapidjson::kTrueType:
      out += "true";
      return;
    case rapidjson::kNumberType:
      go_append_number(out, v.GetDouble());
      return;
    case rapidjson::kStringType:
      go_append_string(out, k8s::json::view(v));
      return;
    case rapidjson::kArrayType: {
      out += '[';
      bool first = true;
      for (const auto& e : v.GetArray()) {
        if (!first) out += ',';
        first = false;
        marshal(out, e);
      }
      out += ']';
      return;
    }
    case rapidjson::kObjectType: {
      // Unmarshal into a map keeps the last of repeated keys; Marshal sorts them bytewise.
      std::map<std::string_view, const k8s::json::Value*> members;
      for (const auto& m : v.GetObject()) members[k8s::json::view(m.name)] = &m.value;
      out += '{';
      bool first = true;
      for (const auto& [k, val] : members) {
        if (!first) out += ',';
        first = false;
        go_append_string(out, k);
        out += ':';
        marshal(out, *val);
      }
      out += '}';
      return;
    }
  }
}

}  // namespace

std::string go_marshal(const k8s::json::Value& v) {
  std::string out;
  marshal(out, v);
  return out;
}

}  // namespace casskop
