#include "tools/kubesim/go_format.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <vector>

namespace kubesim::go {

using k8s::json::Value;

int32_t decode_rune(std::string_view s, size_t i, size_t& width) {
  const auto c = static_cast<unsigned char>(s[i]);
  size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
  width = 1;
  if (n == 1) return c;
  if (n == 0 || i + n > s.size()) return kRuneError;
  int32_t r = c & (0x7F >> n);
  for (size_t k = 1; k < n; ++k) {
    const auto cc = static_cast<unsigned char>(s[i + k]);
    if ((cc & 0xC0) != 0x80) return kRuneError;
    r = (r << 6) | (cc & 0x3F);
  }
  static constexpr int32_t min_for_length[] = {0, 0, 0x80, 0x800, 0x10000};
  if (r < min_for_length[n] || r > 0x10FFFF || (r >= 0xD800 && r <= 0xDFFF)) return kRuneError;
  width = n;
  return r;
}

namespace {

struct decimal_digits {
  bool negative = false;
  std::string digits;  // shortest round-trip digits, no trailing zeros; empty for zero
  int point = 0;       // value = 0.digits * 10^point
};

decimal_digits shortest_digits(double v) {
  char buf[64];
  const auto end = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific).ptr;
  const std::string_view text(buf, static_cast<size_t>(end - buf));
  decimal_digits d;
  size_t i = 0;
  if (text[i] == '-') {
    d.negative = true;
    ++i;
  }
  const size_t e = text.find('e');
  for (; i < e; ++i) {
    if (text[i] != '.') d.digits += text[i];
  }
  int exponent = 0;
  const auto exp_text = text.substr(e + 1);
  std::from_chars(exp_text.data() + (exp_text[0] == '+' ? 1 : 0), exp_text.data() + exp_text.size(),
                  exponent);
  d.digits.erase(d.digits.find_last_not_of('0') + 1);
  d.point = d.digits.empty() ? 0 : exponent + 1;
  return d;
}

// strconv's %e with prec digits after the point.
std::string format_e(const decimal_digits& d, int prec) {
  std::string out = d.negative ? "-" : "";
  out += d.digits.empty() ? '0' : d.digits[0];
  if (prec > 0) {
    out += '.';
    for (int i = 1; i <= prec; ++i)
      out += i < static_cast<int>(d.digits.size()) ? d.digits[i] : '0';
  }
  int exponent = d.digits.empty() ? 0 : d.point - 1;
  out += exponent < 0 ? "e-" : "e+";
  exponent = std::abs(exponent);
  if (exponent < 10) out += '0';
  return out + std::to_string(exponent);
}

// strconv's %f with prec digits after the point.
std::string format_f(const decimal_digits& d, int prec) {
  std::string out = d.negative ? "-" : "";
  const int nd = static_cast<int>(d.digits.size());
  if (d.point > 0) {
    for (int i = 0; i < d.point; ++i) out += i < nd ? d.digits[i] : '0';
  } else {
    out += '0';
  }
  if (prec > 0) {
    out += '.';
    for (int i = 0; i < prec; ++i) {
      const int j = d.point + i;
      out += j >= 0 && j < nd ? d.digits[j] : '0';
    }
  }
  return out;
}

}  // namespace

std::string float_text(double v) {
  const decimal_digits d = shortest_digits(v);
  const int nd = static_cast<int>(d.digits.size());
  const int exponent = d.point - 1;
  if (exponent < -4 || exponent >= 6) return format_e(d, std::max(nd - 1, 0));
  return format_f(d, std::max(nd - d.point, 0));
}

std::string json_float(double v) {
  const decimal_digits d = shortest_digits(v);
  const double magnitude = std::fabs(v);
  const int nd = static_cast<int>(d.digits.size());
  if (magnitude != 0 && (magnitude < 1e-6 || magnitude >= 1e21)) {
    std::string s = format_e(d, std::max(nd - 1, 0));
    const size_t n = s.size();
    if (n >= 4 && s[n - 4] == 'e' && s[n - 3] == '-' && s[n - 2] == '0') s.erase(n - 2, 1);
    return s;
  }
  return format_f(d, std::max(nd - d.point, 0));
}

void append_json_string(std::string& out, std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  out += '"';
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      switch (c) {
        case '"':
          out += "\\\"";
          break;
        case '\\':
          out += "\\\\";
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
        default:
          if (c < 0x20 || c == '<' || c == '>' || c == '&') {
            out += "\\u00";
            out += hex[c >> 4];
            out += hex[c & 0xF];
          } else {
            out += static_cast<char>(c);
          }
      }
      ++i;
      continue;
    }
    size_t width = 1;
    const int32_t r = decode_rune(s, i, width);
    if (r == kRuneError && width == 1) {
      out += "\\ufffd";
    } else if (r == 0x2028 || r == 0x2029) {
      out += r == 0x2028 ? "\\u2028" : "\\u2029";
    } else {
      out.append(s.substr(i, width));
    }
    i += width;
  }
  out += '"';
}

void append_json(std::string& out, const Value& v) {
  if (v.IsObject()) {
    std::vector<const Value::Member*> members;
    for (const auto& m : v.GetObject()) members.push_back(&m);
    const auto key = [](const Value::Member* m) { return k8s::json::view(m->name); };
    std::stable_sort(members.begin(), members.end(),
                     [&](auto* a, auto* b) { return key(a) < key(b); });
    out += '{';
    bool first = true;
    for (size_t i = 0; i < members.size(); ++i) {
      if (i + 1 < members.size() && key(members[i]) == key(members[i + 1])) continue;
      if (!first) out += ',';
      first = false;
      append_json_string(out, key(members[i]));
      out += ':';
      append_json(out, members[i]->value);
    }
    out += '}';
  } else if (v.IsArray()) {
    out += '[';
    bool first = true;
    for (const auto& e : v.GetArray()) {
      if (!first) out += ',';
      first = false;
      append_json(out, e);
    }
    out += ']';
  } else if (v.IsString()) {
    append_json_string(out, k8s::json::view(v));
  } else if (v.IsInt64()) {
    out += std::to_string(v.GetInt64());
  } else if (v.IsNumber()) {
    out += json_float(v.GetDouble());
  } else if (v.IsBool()) {
    out += v.GetBool() ? "true" : "false";
  } else {
    out += "null";
  }
}

std::string json(const Value& v) {
  std::string out;
  append_json(out, v);
  return out;
}

}  // namespace kubesim::go
