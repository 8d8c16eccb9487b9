// metav1.Time / MicroTime formatting and Go's time.Parse(time.RFC3339).
#include "k8s/base/timestamps.h"

#include <doctest/doctest.h>

#include <chrono>
#include <optional>
#include <string>

namespace {

using k8s::format_micro_time;
using k8s::format_time;
using k8s::parse_rfc3339;
using k8s::timestamp;
using namespace std::chrono_literals;

const int64_t t0_ms = 1'700'000'000'000;  // 2023-11-14T22:13:20Z

std::optional<int64_t> seconds_of(const char* text) {
  const auto t = parse_rfc3339(text);
  if (!t) return std::nullopt;
  return t->seconds;
}

}  // namespace

TEST_CASE("timestamps: Z and numeric offsets name the same instant") {
  CHECK(seconds_of("1970-01-01T00:01:00Z") == 60);
  CHECK(seconds_of("2023-11-14T22:13:20Z") == 1'700'000'000);
  CHECK(seconds_of("2023-11-14T23:13:20+01:00") == 1'700'000'000);
  CHECK(seconds_of("2023-11-14T19:43:20-02:30") == 1'700'000'000);
  CHECK(seconds_of("2023-11-14T22:13:20+00:00") == 1'700'000'000);
  // Go's general parser allows offsets up to 24:60.
  CHECK(seconds_of("2023-11-15T22:13:20+24:00") == 1'700'000'000);
  CHECK(seconds_of("2023-11-15T00:13:20+01:60") == 1'700'000'000);
  CHECK_FALSE(parse_rfc3339("2023-11-14T22:13:20+25:00"));
  CHECK_FALSE(parse_rfc3339("2023-11-14T22:13:20+01:61"));
  // And a 1-digit hour.
  CHECK(seconds_of("2023-11-14T9:00:00Z") == seconds_of("2023-11-14T09:00:00Z"));
  CHECK(k8s::unix_ms(*parse_rfc3339("2023-11-14T22:13:20Z")) == t0_ms);
}

TEST_CASE("timestamps: fractions after a period or a comma give nanoseconds") {
  CHECK(parse_rfc3339("2023-11-14T22:13:20.5Z") == timestamp{1'700'000'000, 500'000'000});
  CHECK(parse_rfc3339("2023-11-14T22:13:20,123456Z") == timestamp{1'700'000'000, 123'456'000});
  CHECK(parse_rfc3339("2023-11-14T23:13:20.000000001+01:00") == timestamp{1'700'000'000, 1});
  // Go reads nine digits and skips the rest.
  CHECK(parse_rfc3339("2023-11-14T22:13:20.1234567899999Z") ==
        timestamp{1'700'000'000, 123'456'789});
  CHECK(k8s::unix_ms(*parse_rfc3339("2023-11-14T22:13:20.250Z")) == t0_ms + 250);
  CHECK(k8s::unix_ms(*parse_rfc3339("2023-11-14T22:13:20.2509Z")) == t0_ms + 250);
}

TEST_CASE("timestamps: rejects what time.Parse rejects") {
  for (const char* junk : {
           "",
           "5m",
           "yesterday",
           "2023-11-14",
           "2023-11-14 22:13:20Z",
           "2023-11-14T22:13:20",   // no zone
           "2023-11-14t22:13:20Z",  // Go's literals are case-sensitive
           "2023-11-14T22:13:20z",
           "2023-11-14T22:13:20.Z",     // a fraction needs a digit
           "2023-11-14T22:13:20Z ",     // trailing text
           "2023-11-14T22:13:20+0100",  // the colon is required
           "2023-11-14T22:13:20+01",
           "2023-11-14T22:13:60Z",  // no leap seconds
           "2023-11-14T22:60:20Z",
           "2023-11-14T24:13:20Z",
           "2023-11-14T022:13:20Z",
           "2023-13-14T22:13:20Z",
           "2023-00-14T22:13:20Z",
           "2023-11-00T22:13:20Z",
           "2023-1-14T22:13:20Z",
           "23-11-14T22:13:20Z",
           "+2023-11-14T22:13:20Z",
           "2023-11-14T22:13:2Z",
           "2023-11-14T22:13:20.5.5Z",
       }) {
    CHECK_MESSAGE(!parse_rfc3339(junk), junk);
  }
}

TEST_CASE("timestamps: leap days and month lengths") {
  CHECK(seconds_of("2024-02-29T12:00:00Z") == 1'709'208'000);
  CHECK(seconds_of("2000-02-29T00:00:00Z") == 951'782'400);  // divisible by 400
  CHECK_FALSE(parse_rfc3339("2023-02-29T00:00:00Z"));
  CHECK_FALSE(parse_rfc3339("1900-02-29T00:00:00Z"));  // divisible by 100
  CHECK_FALSE(parse_rfc3339("2023-02-30T00:00:00Z"));
  CHECK_FALSE(parse_rfc3339("2023-04-31T00:00:00Z"));
  CHECK(parse_rfc3339("2023-01-31T00:00:00Z"));
  CHECK(parse_rfc3339("2023-04-30T00:00:00Z"));
  CHECK(seconds_of("9999-12-31T23:59:59Z") == 253'402'300'799);
}

TEST_CASE("timestamps: format_time and format_micro_time round trip through the parser") {
  const auto t = k8s::from_unix_ms(t0_ms + 123) + 456us + 789ns;
  CHECK(format_time(t) == "2023-11-14T22:13:20Z");
  CHECK(format_micro_time(t) == "2023-11-14T22:13:20.123456Z");
  CHECK(parse_rfc3339(format_time(t)) == timestamp{1'700'000'000, 0});
  CHECK(parse_rfc3339(format_micro_time(t)) == timestamp{1'700'000'000, 123'456'000});
  CHECK(format_micro_time(k8s::from_unix_ms(t0_ms)) == "2023-11-14T22:13:20.000000Z");
  // Whole seconds: the milliseconds are dropped, not rounded.
  CHECK(k8s::unix_ms(*parse_rfc3339(format_time(k8s::from_unix_ms(t0_ms + 999)))) == t0_ms);
  for (int64_t s : {int64_t{0}, int64_t{951'782'400}, int64_t{1'709'251'199}, int64_t{-86'401},
                    int64_t{-9'000'000'000}}) {
    const auto tp = std::chrono::system_clock::time_point(std::chrono::seconds(s)) + 7us;
    CAPTURE(s);
    CHECK(parse_rfc3339(format_time(tp)) == timestamp{s, 0});
    CHECK(parse_rfc3339(format_micro_time(tp)) == timestamp{s, 7'000});
  }
  CHECK(format_time(std::chrono::system_clock::time_point(std::chrono::seconds(1'709'251'199))) ==
        "2024-02-29T23:59:59Z");
}

TEST_CASE("timestamps: before 1970, down to Go's zero time") {
  const auto zero = parse_rfc3339("0001-01-01T00:00:00Z");
  REQUIRE(zero);
  CHECK(zero->seconds == -62'135'596'800);
  CHECK(zero->is_zero());
  CHECK_FALSE(parse_rfc3339("0001-01-01T00:00:00.000000001Z")->is_zero());
  CHECK_FALSE(parse_rfc3339("1970-01-01T00:00:00Z")->is_zero());
  // Seconds round down and nanoseconds stay positive, as in Go.
  CHECK(parse_rfc3339("1969-12-31T23:59:59.5Z") == timestamp{-1, 500'000'000});
  CHECK(k8s::unix_ms(*parse_rfc3339("1969-12-31T23:59:59.5Z")) == -500);
  CHECK(format_time(k8s::from_unix_ms(-500)) == "1969-12-31T23:59:59Z");
  CHECK(format_micro_time(k8s::from_unix_ms(-500)) == "1969-12-31T23:59:59.500000Z");
  CHECK(format_time(std::chrono::system_clock::time_point(-9'000'000'000s)) ==
        "1684-10-19T08:00:00Z");
}
