#include "tools/kubesim/quantity.h"

#include <cctype>
#include <map>

namespace kubesim {

namespace js = k8s::json;

namespace {

using int128 = __int128;

int128 pow10(int n) {
  int128 r = 1;
  while (n-- > 0) r *= 10;
  return r;
}

std::string to_decimal(int128 v) {
  if (v == 0) return "0";
  bool neg = v < 0;
  if (neg) v = -v;
  std::string s;
  while (v > 0) {
    s.push_back(char('0' + int(v % 10)));
    v /= 10;
  }
  if (neg) s.push_back('-');
  return {s.rbegin(), s.rend()};
}

// Decimal SI suffixes by power of ten, binary ones by power of two.
const std::map<std::string, int, std::less<>>& decimal_suffixes() {
  static const std::map<std::string, int, std::less<>> m{{"n", -9}, {"u", -6}, {"m", -3}, {"", 0},
                                                         {"k", 3},  {"M", 6},  {"G", 9},  {"T", 12},
                                                         {"P", 15}, {"E", 18}};
  return m;
}
const std::map<std::string, int, std::less<>>& binary_suffixes() {
  static const std::map<std::string, int, std::less<>> m{{"Ki", 10}, {"Mi", 20}, {"Gi", 30},
                                                         {"Ti", 40}, {"Pi", 50}, {"Ei", 60}};
  return m;
}

// n x 10^e in canonical decimal form (AsCanonicalBytes: an integral mantissa without trailing
// zeros, the exponent lowered to a multiple of 3), after the round up to milli-units.
std::optional<std::string> decimal_form(int128 n, int e, bool exponent_format) {
  if (e < -3) {
    int128 d = pow10(-3 - e);
    bool neg = n < 0;
    int128 m = neg ? -n : n;
    m = (m + d - 1) / d;
    n = neg ? -m : m;
    e = -3;
  }
  if (n == 0) return "0";
  while (n % 10 == 0) {
    n /= 10;
    ++e;
  }
  while (((e % 3) + 3) % 3 != 0) {
    n *= 10;
    --e;
  }
  if (exponent_format) return to_decimal(n) + (e == 0 ? "" : "e" + std::to_string(e));
  for (const auto& [suffix, power] : decimal_suffixes())
    if (power == e) return to_decimal(n) + suffix;
  return std::nullopt;
}

std::optional<std::string> written(const js::Value& v) {
  if (v.IsString()) return std::string(js::view(v));
  if (v.IsInt64()) return std::to_string(v.GetInt64());
  return std::nullopt;
}

void canonicalize_value(js::Value& v, js::Allocator& a) {
  if (auto w = written(v))
    if (auto c = canonical_quantity(*w)) v = js::string_value(*c, a);
}

}  // namespace

std::optional<std::string> canonical_quantity(std::string_view q) {
  size_t i = 0;
  bool neg = false;
  if (i < q.size() && (q[i] == '+' || q[i] == '-')) neg = q[i++] == '-';
  int128 mantissa = 0;
  int fraction_digits = 0, digits = 0;
  bool dot = false;
  for (; i < q.size() && (std::isdigit(static_cast<unsigned char>(q[i])) || q[i] == '.'); ++i) {
    if (q[i] == '.') {
      if (dot) return std::nullopt;
      dot = true;
      continue;
    }
    if (++digits > 30) return std::nullopt;
    mantissa = mantissa * 10 + (q[i] - '0');
    if (dot) ++fraction_digits;
  }
  if (digits == 0) return std::nullopt;
  if (neg) mantissa = -mantissa;
  const std::string_view suffix = q.substr(i);
  if (auto b = binary_suffixes().find(suffix); b != binary_suffixes().end()) {
    int128 scaled = mantissa * (int128(1) << b->second);
    int128 unit = pow10(fraction_digits);
    // CanonicalizeBytes: binary only for a whole number of at least 1024 in absolute value,
    // else DecimalSI.
    if (scaled % unit == 0) {
      int128 bytes = scaled / unit;
      if (bytes >= 1024 || bytes <= -1024) {
        int power = 0;
        while (bytes % 1024 == 0 && power < 60) {
          bytes /= 1024;
          power += 10;
        }
        for (const auto& [s, p] : binary_suffixes())
          if (p == power) return to_decimal(bytes) + s;
        return to_decimal(bytes);
      }
    }
    return decimal_form(scaled, -fraction_digits, false);
  }
  if (auto d = decimal_suffixes().find(suffix); d != decimal_suffixes().end())
    return decimal_form(mantissa, d->second - fraction_digits, false);
  if (suffix.size() > 1 && (suffix[0] == 'e' || suffix[0] == 'E')) {
    size_t j = 1;
    bool eneg = false;
    if (suffix[j] == '+' || suffix[j] == '-') eneg = suffix[j++] == '-';
    if (j == suffix.size() || suffix.size() - j > 3) return std::nullopt;
    int e = 0;
    for (; j < suffix.size(); ++j) {
      if (!std::isdigit(static_cast<unsigned char>(suffix[j]))) return std::nullopt;
      e = e * 10 + (suffix[j] - '0');
    }
    return decimal_form(mantissa, (eneg ? -e : e) - fraction_digits, true);
  }
  return std::nullopt;
}

void canonicalize_quantities(js::Value& v, js::Allocator& a) {
  if (v.IsArray()) {
    for (auto& e : v.GetArray()) canonicalize_quantities(e, a);
    return;
  }
  if (!v.IsObject()) return;
  for (auto& m : v.GetObject()) {
    std::string_view key = js::view(m.name);
    if (key == "resources" && m.value.IsObject()) {
      for (auto& r : m.value.GetObject())
        if ((js::view(r.name) == "limits" || js::view(r.name) == "requests") && r.value.IsObject())
          for (auto& q : r.value.GetObject()) canonicalize_value(q.value, a);
    } else if (key == "sizeLimit") {
      canonicalize_value(m.value, a);
    } else {
      canonicalize_quantities(m.value, a);
    }
  }
}

}  // namespace kubesim
