#include "tools/kubesim/api_error.h"

#include <fmt/format.h>

#include "k8s/json/json.h"
#include "tools/kubesim/field_errors.h"

namespace kubesim {

k8s::json::Document status_object(std::string_view status) {
  namespace js = k8s::json;
  js::Document d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  d.AddMember("kind", "Status", a);
  d.AddMember("apiVersion", "v1", a);
  d.AddMember("metadata", js::Value(rapidjson::kObjectType), a);
  d.AddMember("status", js::string_value(status, a), a);
  return d;
}

std::string api_error::status_json() const {
  namespace js = k8s::json;
  js::Document d = status_object("Failure");
  auto& a = d.GetAllocator();
  d.AddMember("message", js::string_value(what(), a), a);
  if (!reason.empty()) d.AddMember("reason", js::string_value(reason, a), a);  // omitempty
  js::Value details(rapidjson::kObjectType);
  if (!name.empty()) details.AddMember("name", js::string_value(name, a), a);
  if (!group.empty()) details.AddMember("group", js::string_value(group, a), a);
  if (!kind.empty()) details.AddMember("kind", js::string_value(kind, a), a);
  if (!uid.empty()) details.AddMember("uid", js::string_value(uid, a), a);
  if (!causes.empty()) {
    js::Value list(rapidjson::kArrayType);
    for (const auto& c : causes) {
      js::Value cause(rapidjson::kObjectType);
      // metav1.StatusCause: every member is omitempty.
      if (!c.reason.empty()) cause.AddMember("reason", js::string_value(c.reason, a), a);
      if (!c.message.empty()) cause.AddMember("message", js::string_value(c.message, a), a);
      if (!c.field.empty()) cause.AddMember("field", js::string_value(c.field, a), a);
      list.PushBack(cause, a);
    }
    details.AddMember("causes", list, a);
  }
  if (retry_after_seconds > 0) details.AddMember("retryAfterSeconds", retry_after_seconds, a);
  if (details.MemberCount() > 0 || empty_details) d.AddMember("details", details, a);
  d.AddMember("code", code, a);
  return js::to_string(d);
}

namespace {
api_error with_details(api_error e, const std::string& name, const std::string& group,
                       const std::string& kind) {
  e.name = name;
  e.group = group;
  e.kind = kind;
  return e;
}
}  // namespace

api_error not_found(const std::string& resource, const std::string& group, const std::string& plural,
                    const std::string& name) {
  return with_details(api_error(404, "NotFound", fmt::format("{} \"{}\" not found", resource, name)),
                      name, group, plural);
}

api_error already_exists(const std::string& resource, const std::string& group,
                         const std::string& plural, const std::string& name) {
  return with_details(
      api_error(409, "AlreadyExists", fmt::format("{} \"{}\" already exists", resource, name)), name,
      group, plural);
}

api_error conflict(const std::string& resource, const std::string& group, const std::string& plural,
                   const std::string& name, const std::string& why) {
  return with_details(
      api_error(409, "Conflict",
                fmt::format("Operation cannot be fulfilled on {} \"{}\": {}", resource, name, why)),
      name, group, plural);
}

api_error invalid(const std::string& kind, const std::string& group, const std::string& name,
                  std::vector<status_cause> causes) {
  // apierrors.NewInvalid: "<Kind.group> \"<name>\" is invalid: <ErrorList.ToAggregate()>".
  std::string qualified = group.empty() ? kind : kind + "." + group;
  auto e = with_details(
      api_error(422, "Invalid",
                fmt::format("{} \"{}\" is invalid: {}", qualified, name, field::aggregate(causes))),
      name, group, kind);
  // A cause carries field.Error's ErrorBody(): its message without the "<field>: " prefix.
  for (auto& c : causes) {
    std::string prefix = c.field + ": ";
    if (!c.field.empty() && c.message.rfind(prefix, 0) == 0) c.message.erase(0, prefix.size());
  }
  e.causes = std::move(causes);
  return e;
}

api_error bad_request(const std::string& message) { return api_error(400, "BadRequest", message); }
api_error method_not_allowed(const std::string& message) {
  return api_error(405, "MethodNotAllowed", message);
}
api_error unsupported_media_type(const std::string& message) {
  return api_error(415, "UnsupportedMediaType", message);
}
api_error gone(const std::string& message) { return api_error(410, "Expired", message); }
api_error unauthorized() { return api_error(401, "Unauthorized", "Unauthorized"); }
api_error forbidden(const std::string& message) { return api_error(403, "Forbidden", message); }
api_error too_many_requests(int retry_after_seconds) {
  auto e = api_error(429, "TooManyRequests",
                     "The server has received too many requests and has asked us to try again later");
  e.retry_after_seconds = retry_after_seconds;
  return e;
}
api_error internal_error(const std::string& message) {
  return api_error(500, "InternalError",
                   fmt::format("Internal error occurred: {}", message));
}
api_error path_not_found() {
  // apierrors.NewGenericServerResponse(404, ...): its Details is set, if empty.
  auto e = api_error(404, "NotFound", "the server could not find the requested resource");
  e.empty_details = true;
  return e;
}

}  // namespace kubesim
