#include "actors/casskop/logic/quantity.h"

#include <cctype>
#include <string>

namespace casskop {

namespace {

constexpr __int128 limit = static_cast<__int128>(1) << 120;

bool mul(__int128& v, __int128 by) {
  if (v != 0 && (by > limit / (v < 0 ? -v : v))) return false;
  v *= by;
  return true;
}

// Suffixes of resource.ParseQuantity (suffix.go): binary, decimal SI, or a decimal exponent.
enum class quantity_format { decimal_si, binary_si, decimal_exponent };

bool parse_suffix(std::string_view s, int& pow10, int& pow2) {
  pow10 = 0;
  pow2 = 0;
  if (s.empty()) return true;
  static const std::pair<const char*, int> binary[] = {{"Ki", 10}, {"Mi", 20}, {"Gi", 30},
                                                       {"Ti", 40}, {"Pi", 50}, {"Ei", 60}};
  for (const auto& [name, p] : binary)
    if (s == name) return pow2 = p, true;
  static const std::pair<const char*, int> decimal[] = {{"n", -9}, {"u", -6}, {"m", -3},
                                                        {"k", 3},  {"M", 6},  {"G", 9},
                                                        {"T", 12}, {"P", 15}, {"E", 18}};
  for (const auto& [name, p] : decimal)
    if (s == name) return pow10 = p, true;
  if (s[0] == 'e' || s[0] == 'E') {
    std::string_view e = s.substr(1);
    bool neg = false;
    if (!e.empty() && (e[0] == '+' || e[0] == '-')) neg = e[0] == '-', e.remove_prefix(1);
    if (e.empty() || e.size() > 4) return false;
    int v = 0;
    for (char c : e) {
      if (!std::isdigit(static_cast<unsigned char>(c))) return false;
      v = v * 10 + (c - '0');
    }
    pow10 = neg ? -v : v;
    return true;
  }
  return false;
}

std::optional<__int128> parse(std::string_view text, quantity_format* format) {
  std::string_view s = text;
  bool negative = false;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) negative = s[0] == '-', s.remove_prefix(1);
  __int128 mantissa = 0;
  int scale = 0;  // value = mantissa * 10^scale
  bool dot = false, digits = false;
  size_t i = 0;
  for (; i < s.size(); ++i) {
    char c = s[i];
    if (c == '.' && !dot) {
      dot = true;
      continue;
    }
    if (!std::isdigit(static_cast<unsigned char>(c))) break;
    digits = true;
    if (mantissa > limit / 10) {  // digits beyond 36 significant ones are dropped
      if (!dot) ++scale;
      continue;
    }
    mantissa = mantissa * 10 + (c - '0');
    if (dot) --scale;
  }
  if (!digits) return std::nullopt;
  int pow10 = 0, pow2 = 0;
  if (!parse_suffix(s.substr(i), pow10, pow2)) return std::nullopt;
  if (format) {
    std::string_view suffix = s.substr(i);
    *format = pow2 ? quantity_format::binary_si
              : (!suffix.empty() && (suffix[0] == 'e' || suffix[0] == 'E'))
                  ? quantity_format::decimal_exponent
                  : quantity_format::decimal_si;
  }
  int exp10 = scale + pow10 + 9;
  __int128 v = mantissa;
  if (!mul(v, static_cast<__int128>(1) << pow2)) return std::nullopt;
  if (exp10 >= 0) {
    for (int k = 0; k < exp10; ++k)
      if (!mul(v, 10)) return std::nullopt;
  } else {
    __int128 div = 1;
    for (int k = 0; k < -exp10 && div < limit; ++k) div *= 10;
    v = (v + div - 1) / div;  // ParseQuantity rounds up what is below the nano
  }
  return negative ? -v : v;
}

std::string to_text(__int128 v) {
  if (v == 0) return "0";
  bool neg = v < 0;
  if (neg) v = -v;
  std::string s;
  while (v > 0) {
    s.insert(s.begin(), static_cast<char>('0' + static_cast<int>(v % 10)));
    v /= 10;
  }
  return neg ? "-" + s : s;
}

}  // namespace

std::optional<__int128> quantity_nanos(std::string_view text) {
  return parse(text, nullptr);
}

std::optional<std::string> canonical_quantity(std::string_view text) {
  quantity_format format = quantity_format::decimal_si;
  auto nanos = parse(text, &format);
  if (!nanos) return std::nullopt;
  if (*nanos == 0) return std::string("0");
  const __int128 billion = 1000000000;
  if (format == quantity_format::binary_si) {
    const __int128 abs = *nanos < 0 ? -*nanos : *nanos;
    // Between -1024 and 1024, or not a whole number: written as DecimalSI.
    if (abs < 1024 * billion && abs > -1024 * billion) format = quantity_format::decimal_si;
    if (*nanos % billion != 0) format = quantity_format::decimal_si;
  }
  if (format == quantity_format::binary_si) {
    __int128 amount = *nanos / billion;
    int exponent = 0;
    while (amount % 1024 == 0 && exponent < 6) amount /= 1024, ++exponent;
    static const char* binary[] = {"", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};
    return to_text(amount) + binary[exponent];
  }
  // AsCanonicalBytes: the smallest mantissa with an exponent divisible by 3.
  __int128 amount = *nanos;
  int exponent = -9;
  while (amount % 10 == 0) amount /= 10, ++exponent;
  int r = ((exponent % 3) + 3) % 3;
  for (int k = 0; k < r; ++k) amount *= 10;
  exponent -= r;
  if (format == quantity_format::decimal_exponent)
    return to_text(amount) + (exponent == 0 ? "" : "e" + std::to_string(exponent));
  switch (exponent) {
    case -9:
      return to_text(amount) + "n";
    case -6:
      return to_text(amount) + "u";
    case -3:
      return to_text(amount) + "m";
    case 0:
      return to_text(amount);
    case 3:
      return to_text(amount) + "k";
    case 6:
      return to_text(amount) + "M";
    case 9:
      return to_text(amount) + "G";
    case 12:
      return to_text(amount) + "T";
    case 15:
      return to_text(amount) + "P";
    case 18:
      return to_text(amount) + "E";
    default:
      return to_text(amount) + "e" + std::to_string(exponent);
  }
}

std::optional<int64_t> quantity_value(std::string_view text) {
  auto n = quantity_nanos(text);
  if (!n) return std::nullopt;
  __int128 billion = 1000000000;
  __int128 v = *n >= 0 ? (*n + billion - 1) / billion : *n / billion;
  if (v > INT64_MAX || v < INT64_MIN) return std::nullopt;
  return static_cast<int64_t>(v);
}

}  // namespace casskop
