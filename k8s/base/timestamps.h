// Kubernetes timestamps: metav1.Time and metav1.MicroTime as they travel (RFC 3339, UTC), and
// Go's time.Parse(time.RFC3339), which is what the API server accepts from clients.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace k8s {

// An instant as Go holds it. Not a time_point: nanosecond time_points end in 1677 and 2262, and
// Go's zero time, which metav1.Time uses for "unset", is in year 1.
struct timestamp {
  int64_t seconds = 0;  // since the Unix epoch, rounded down
  int64_t nanos = 0;    // 0 to 999,999,999

  bool operator==(const timestamp& o) const { return seconds == o.seconds && nanos == o.nanos; }
  bool operator!=(const timestamp& o) const { return !(*this == o); }
  // metav1.Time.IsZero: 0001-01-01T00:00:00Z.
  bool is_zero() const { return seconds == -62135596800 && nanos == 0; }
};

// time.Parse(time.RFC3339, text), leniencies included (a 1-digit hour, "," before the fraction,
// fractions of any length, offsets up to 24:60); nullopt where Go returns an error.
std::optional<timestamp> parse_rfc3339(std::string_view text);

// metav1.Time: "2006-01-02T15:04:05Z" (the fraction is dropped).
std::string format_time(std::chrono::system_clock::time_point t);
// metav1.MicroTime: "2006-01-02T15:04:05.000000Z".
std::string format_micro_time(std::chrono::system_clock::time_point t);

// For callers that keep time as Unix milliseconds.
std::chrono::system_clock::time_point from_unix_ms(int64_t ms);
int64_t unix_ms(const timestamp& t);
// Now, as Unix milliseconds (the time events and Events carry).
int64_t now_unix_ms();

}  // namespace k8s
