#include "k8s/api/api_error.h"

#include <cctype>
#include <charconv>
#include <cstdio>

#include "k8s/json/json.h"

namespace k8s {
namespace {

// Non-JSON error bodies (proxies, load balancers) can be whole HTML pages: keep a readable head.
constexpr size_t max_plain_message = 256;

// The reasons of metav1.StatusReason we act on; the code decides for the others.
bool kind_from_reason(std::string_view reason, error_kind& kind) {
  struct entry {
    std::string_view reason;
    error_kind kind;
  };
  static constexpr entry table[] = {
      {"NotFound", error_kind::not_found},
      {"AlreadyExists", error_kind::already_exists},
      {"Conflict", error_kind::conflict},
      {"Invalid", error_kind::invalid},
      {"Expired", error_kind::gone},
      {"Gone", error_kind::gone},
      {"BadRequest", error_kind::bad_request},
      {"Unauthorized", error_kind::unauthorized},
      {"Forbidden", error_kind::forbidden},
      {"TooManyRequests", error_kind::too_many_requests},
      {"UnsupportedMediaType", error_kind::unsupported_media_type},
      {"MethodNotAllowed", error_kind::method_not_allowed},
      {"RequestEntityTooLarge", error_kind::request_entity_too_large},
  };
  for (const auto& e : table) {
    if (e.reason == reason) {
      kind = e.kind;
      return true;
    }
  }
  return false;
}

error_kind kind_from_code(int code) {
  switch (code) {
    case 400:
      return error_kind::bad_request;
    case 401:
      return error_kind::unauthorized;
    case 403:
      return error_kind::forbidden;
    case 404:
      return error_kind::not_found;
    case 405:
      return error_kind::method_not_allowed;
    case 409:
      return error_kind::conflict;
    case 410:
      return error_kind::gone;
    case 413:
      return error_kind::request_entity_too_large;
    case 415:
      return error_kind::unsupported_media_type;
    case 422:
      return error_kind::invalid;
    case 429:
      return error_kind::too_many_requests;
    default:
      return code >= 500 && code <= 599 ? error_kind::server_error : error_kind::other;
  }
}

// Whitespace collapsed to single spaces, trimmed, cut to a readable length.
std::string plain_message(std::string_view body) {
  std::string out;
  bool space = false;
  for (char c : body) {
    if (std::isspace(static_cast<unsigned char>(c))) {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
    if (out.size() >= max_plain_message) {
      out += "...";
      break;
    }
  }
  return out;
}

// Retry-After in delta-seconds; an HTTP-date (never sent by the API server) gives 0.
int parse_retry_after(std::string_view header) {
  while (!header.empty() && std::isspace(static_cast<unsigned char>(header.front())))
    header.remove_prefix(1);
  int seconds = 0;
  auto [end, ec] = std::from_chars(header.data(), header.data() + header.size(), seconds);
  (void)end;
  return ec == std::errc() && seconds > 0 ? seconds : 0;
}

}  // namespace

const char* to_string(error_kind k) {
  switch (k) {
    case error_kind::not_found:
      return "not_found";
    case error_kind::already_exists:
      return "already_exists";
    case error_kind::conflict:
      return "conflict";
    case error_kind::invalid:
      return "invalid";
    case error_kind::gone:
      return "gone";
    case error_kind::bad_request:
      return "bad_request";
    case error_kind::unauthorized:
      return "unauthorized";
    case error_kind::forbidden:
      return "forbidden";
    case error_kind::too_many_requests:
      return "too_many_requests";
    case error_kind::unsupported_media_type:
      return "unsupported_media_type";
    case error_kind::method_not_allowed:
      return "method_not_allowed";
    case error_kind::request_entity_too_large:
      return "request_entity_too_large";
    case error_kind::server_error:
      return "server_error";
    case error_kind::unreachable:
      return "unreachable";
    case error_kind::timeout:
      return "timeout";
    case error_kind::decode:
      return "decode";
    case error_kind::other:
      return "other";
  }
  return "other";
}

std::string api_error::describe() const {
  std::string out = reason.empty() ? to_string(kind) : reason;
  if (http_code != 0) out += " (" + std::to_string(http_code) + ")";
  if (!message.empty()) out += ": " + message;
  if (retry_after_seconds > 0)
    out += " (retry after " + std::to_string(retry_after_seconds) + " s)";
  return out;
}

bool api_error::retryable() const {
  switch (kind) {
    case error_kind::too_many_requests:
    case error_kind::server_error:
    case error_kind::unreachable:
    case error_kind::timeout:
      return true;
    default:
      return false;
  }
}

api_error error_from_response(int http_code, std::string_view body, std::string_view retry_after) {
  api_error e;
  e.http_code = http_code;
  bool have_status = false;
  try {
    auto d = json::parse(body);
    // A Status, or at least something shaped like one (some proxies send {"message":...}).
    if (d.IsObject() && (json::get_string(d, "kind") == "Status" || json::find(d, "message") ||
                         json::find(d, "reason"))) {
      have_status = true;
      e.reason = json::get_string(d, "reason");
      e.message = json::get_string(d, "message");
      if (e.http_code <= 0) e.http_code = static_cast<int>(json::get_int(d, {"code"}, 0));
      e.retry_after_seconds =
          static_cast<int>(json::get_int(d, {"details", "retryAfterSeconds"}, 0));
    }
  } catch (const std::exception&) {
    // Not JSON: the code and the raw text still tell what happened.
  }
  if (!have_status) e.message = plain_message(body);
  if (e.message.empty()) e.message = "the server answered HTTP " + std::to_string(e.http_code);
  if (int header = parse_retry_after(retry_after); header > 0) e.retry_after_seconds = header;
  if (e.retry_after_seconds < 0) e.retry_after_seconds = 0;
  if (!kind_from_reason(e.reason, e.kind)) e.kind = kind_from_code(e.http_code);
  return e;
}

api_error transport_error(error_kind kind, std::string message) {
  api_error e;
  e.kind = kind;
  e.message = std::move(message);
  return e;
}

std::string readable_size(size_t bytes) {
  constexpr size_t kib = 1024, mib = 1024 * 1024;
  if (bytes < kib) return std::to_string(bytes) + " bytes";
  const size_t unit = bytes < mib ? kib : mib;
  const char* name = bytes < mib ? "KiB" : "MiB";
  if (bytes % unit == 0) return std::to_string(bytes / unit) + " " + name;
  char text[32];
  std::snprintf(text, sizeof text, "%.1f %s", static_cast<double>(bytes) / unit, name);
  return text;
}

api_error body_too_large_error(size_t body_bytes) {
  return transport_error(
      error_kind::request_entity_too_large,
      "request body of " + readable_size(body_bytes) + " (" + std::to_string(body_bytes) +
          " bytes) is over the API server's limit of " + readable_size(max_request_body_bytes));
}

}  // namespace k8s
