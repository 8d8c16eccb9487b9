// Failures of Kubernetes API calls, typed from the server's Status body so callers can act on
// them (retry on conflict, relist on gone, back off on too_many_requests) and report the
// server's own message.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace k8s {

enum class error_kind {
  not_found,
  already_exists,
  conflict,
  invalid,
  gone,  // 410: resourceVersion too old, relist
  bad_request,
  unauthorized,
  forbidden,
  too_many_requests,  // retry_after_seconds tells how long to wait
  unsupported_media_type,
  method_not_allowed,
  request_entity_too_large,  // 413, or a body over max_request_body_bytes, refused before sending
  server_error,              // 5xx
  unreachable,               // could not connect, connection reset, TLS failure
  timeout,                   // no answer in time
  decode,                    // the answer was not what the API promises
  other,
};

const char* to_string(error_kind k);

struct api_error {
  error_kind kind = error_kind::other;
  int http_code = 0;    // 0 when no HTTP answer arrived
  std::string reason;   // Status.reason, e.g. "NotFound"
  std::string message;  // Status.message or the transport's message
  int retry_after_seconds = 0;

  // "NotFound (404): cassandraclusters.db.orange.com \"x\" not found"
  std::string describe() const;
  // Worth retrying the same request later (429, 5xx, unreachable, timeout).
  bool retryable() const;
};

// From an HTTP answer that is not 2xx: uses the Status body when there is one.
api_error error_from_response(int http_code, std::string_view body, std::string_view retry_after);
api_error transport_error(error_kind kind, std::string message);

// kube-apiserver's limit on a request body (MaxRequestBodyBytes); larger ones get a 413.
inline constexpr size_t max_request_body_bytes = 3 * 1024 * 1024;
// "3 MiB", "3.4 MiB", "1.5 KiB", "10 bytes": sizes in messages (one decimal unless exact).
std::string readable_size(size_t bytes);
// The error for a request body over max_request_body_bytes, e.g. "request body of 3.4 MiB
// (3565158 bytes) is over the API server's limit of 3 MiB".
api_error body_too_large_error(size_t body_bytes);

}  // namespace k8s
