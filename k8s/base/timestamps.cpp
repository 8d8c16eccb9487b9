#include "k8s/base/timestamps.h"

#include <fmt/format.h>

namespace k8s {
namespace {

// Days since 1970-01-01 of a proleptic Gregorian date, and back (Howard Hinnant's algorithms).
// Not gmtime + strftime: those print year 1 as "1" where Go prints "0001".
int64_t days_from_civil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

struct civil {
  int64_t year, month, day;
};

civil civil_from_days(int64_t z) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int64_t d = doy - (153 * mp + 2) / 5 + 1;
  const int64_t m = mp < 10 ? mp + 3 : mp - 9;
  return {yoe + era * 400 + (m <= 2), m, d};
}

int days_in_month(int64_t year, int64_t month) {
  static constexpr int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : days[month - 1];
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// "2006-01-02T15:04:05" of the second holding t; the rest of t goes to `micros`.
std::string format_seconds(std::chrono::system_clock::time_point t, int64_t* micros) {
  using namespace std::chrono;
  // floor, not time_point_cast: before 1970 the latter rounds towards the epoch.
  const auto secs = floor<seconds>(t);
  if (micros) *micros = duration_cast<microseconds>(t - secs).count();
  const int64_t s = secs.time_since_epoch().count();
  const int64_t days = (s >= 0 ? s : s - 86399) / 86400;
  const int64_t in_day = s - days * 86400;
  const civil c = civil_from_days(days);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", c.year, c.month, c.day, in_day / 3600,
                     in_day / 60 % 60, in_day % 60);
}

}  // namespace

std::optional<timestamp> parse_rfc3339(std::string_view s) {
  size_t pos = 0;
  const auto number = [&](size_t min_digits, size_t max_digits) -> std::optional<int64_t> {
    size_t n = 0;
    int64_t v = 0;
    while (n < max_digits && pos + n < s.size() && is_digit(s[pos + n])) {
      v = v * 10 + (s[pos + n] - '0');
      ++n;
    }
    if (n < min_digits) return std::nullopt;
    pos += n;
    return v;
  };
  const auto literal = [&](char c) {
    if (pos < s.size() && s[pos] == c) {
      ++pos;
      return true;
    }
    return false;
  };
  const auto year = number(4, 4);
  if (!year || !literal('-')) return std::nullopt;
  const auto month = number(2, 2);
  if (!month || !literal('-')) return std::nullopt;
  const auto day = number(2, 2);
  if (!day || !literal('T')) return std::nullopt;
  const auto hour = number(1, 2);
  if (!hour || !literal(':')) return std::nullopt;
  const auto minute = number(2, 2);
  if (!minute || !literal(':')) return std::nullopt;
  const auto second = number(2, 2);
  if (!second) return std::nullopt;
  int64_t nanos = 0;
  if (pos + 1 < s.size() && (s[pos] == '.' || s[pos] == ',') && is_digit(s[pos + 1])) {
    ++pos;
    int scale = 0;
    while (pos < s.size() && is_digit(s[pos])) {
      if (scale < 9) {  // Go reads nine digits and skips the rest
        nanos = nanos * 10 + (s[pos] - '0');
        ++scale;
      }
      ++pos;
    }
    for (; scale < 9; ++scale) nanos *= 10;
  }
  int64_t offset = 0;
  if (!literal('Z')) {
    if (pos >= s.size() || (s[pos] != '+' && s[pos] != '-')) return std::nullopt;
    const bool negative = s[pos++] == '-';
    const auto oh = number(2, 2);
    if (!oh || !literal(':')) return std::nullopt;
    const auto om = number(2, 2);
    if (!om || *oh > 24 || *om > 60) return std::nullopt;
    offset = (*oh * 60 + *om) * 60 * (negative ? -1 : 1);
  }
  if (pos != s.size() || *month < 1 || *month > 12 || *day < 1 ||
      *day > days_in_month(*year, *month) || *hour > 23 || *minute > 59 || *second > 59) {
    return std::nullopt;
  }
  const int64_t days = days_from_civil(*year, *month, *day);
  return timestamp{days * 86400 + *hour * 3600 + *minute * 60 + *second - offset, nanos};
}

std::string format_time(std::chrono::system_clock::time_point t) {
  return format_seconds(t, nullptr) + "Z";
}

std::string format_micro_time(std::chrono::system_clock::time_point t) {
  int64_t micros = 0;
  std::string s = format_seconds(t, &micros);
  return fmt::format("{}.{:06}Z", s, micros);
}

std::chrono::system_clock::time_point from_unix_ms(int64_t ms) {
  return std::chrono::system_clock::time_point(std::chrono::milliseconds(ms));
}

int64_t unix_ms(const timestamp& t) {
  return t.seconds * 1000 + t.nanos / 1000000;
}

int64_t now_unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace k8s
