// API errors as the real kube-apiserver reports them: an HTTP code plus a metav1.Status body
// whose message, reason and details match what clients (kubectl, client-go) parse.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "k8s/json/json.h"

namespace kubesim {

struct status_cause {
  std::string reason;  // e.g. FieldValueInvalid
  std::string message;
  std::string field;
};

struct api_error : std::runtime_error {
  int code;
  std::string reason;
  // details, as the server fills them
  std::string name, group, kind, uid;
  std::vector<status_cause> causes;
  int retry_after_seconds = 0;
  bool empty_details = false;  // send "details":{} even with nothing in it (generic responses)

  api_error(int code, std::string reason, const std::string& message)
      : std::runtime_error(message), code(code), reason(std::move(reason)) {}

  std::string status_json() const;
};

// A metav1.Status object up to its "status" ("Success" or "Failure"); the rest is the caller's.
k8s::json::Document status_object(std::string_view status);

// Builders for the errors every handler raises. `resource` is "plural.group" (or "plural" for
// the core group) as in the server's messages; `kind` in Invalid errors is "Kind.group".
api_error not_found(const std::string& resource, const std::string& group, const std::string& plural,
                    const std::string& name);
api_error already_exists(const std::string& resource, const std::string& group,
                         const std::string& plural, const std::string& name);
api_error conflict(const std::string& resource, const std::string& group, const std::string& plural,
                   const std::string& name, const std::string& why);
api_error invalid(const std::string& kind, const std::string& group, const std::string& name,
                  std::vector<status_cause> causes);
api_error bad_request(const std::string& message);
api_error method_not_allowed(const std::string& message);
api_error unsupported_media_type(const std::string& message);
api_error gone(const std::string& message);  // 410 Expired
api_error unauthorized();
api_error forbidden(const std::string& message);
api_error too_many_requests(int retry_after_seconds);
api_error internal_error(const std::string& message);
api_error path_not_found();  // "the server could not find the requested resource"

}  // namespace kubesim
