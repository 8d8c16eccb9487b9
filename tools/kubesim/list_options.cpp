#include "tools/kubesim/list_options.h"

#include <vector>

#include <fmt/format.h>

#include "tools/kubesim/api_error.h"
#include "tools/kubesim/field_errors.h"
#include "tools/kubesim/object_meta.h"

namespace kubesim {

void default_list_request(list_request& r) {
  if (r.send_initial_events || !r.resource_version_match.empty()) return;
  if (r.watch && (r.resource_version.empty() || r.resource_version == "0")) {
    r.send_initial_events = true;
    r.resource_version_match = "NotOlderThan";
  }
}

void validate_list_request(const list_request& r) {
  std::vector<status_cause> errs;
  const std::string& match = r.resource_version_match;
  if (r.watch) {
    // validateWatchOptions
    if (r.send_initial_events && match != "NotOlderThan")
      errs.push_back(field::forbidden(
          "resourceVersionMatch",
          "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan"));
    if (!match.empty()) {
      if (!r.send_initial_events)
        errs.push_back(field::forbidden(
            "resourceVersionMatch",
            "resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided"));
      if (match != "NotOlderThan")
        errs.push_back(
            field::not_supported("resourceVersionMatch", field::go_quote(match), {"NotOlderThan"}));
      if (!r.continue_token.empty())
        errs.push_back(field::forbidden(
            "resourceVersionMatch", "resourceVersionMatch is forbidden when continue is provided"));
    }
  } else {
    if (!match.empty()) {
      if (r.resource_version.empty())
        errs.push_back(field::forbidden(
            "resourceVersionMatch",
            "resourceVersionMatch is forbidden unless resourceVersion is provided"));
      if (!r.continue_token.empty())
        errs.push_back(field::forbidden(
            "resourceVersionMatch", "resourceVersionMatch is forbidden when continue is provided"));
      if (match != "Exact" && match != "NotOlderThan")
        errs.push_back(field::not_supported("resourceVersionMatch", field::go_quote(match),
                                            {"Exact", "NotOlderThan", ""}));
      if (match == "Exact" && r.resource_version == "0")
        errs.push_back(field::forbidden(
            "resourceVersionMatch",
            "resourceVersionMatch \"exact\" is forbidden for resourceVersion \"0\""));
    }
    if (r.send_initial_events)
      errs.push_back(
          field::forbidden("sendInitialEvents", "sendInitialEvents is forbidden for list"));
  }
  if (!errs.empty()) throw invalid("ListOptions", "meta.k8s.io", "", std::move(errs));
}

std::optional<uint64_t> requested_rv(const list_request& r) {
  if (r.resource_version.empty()) return std::nullopt;
  auto n = parse_rv(r.resource_version);
  if (!n) throw bad_request(fmt::format("invalid resource version: {}", r.resource_version));
  return *n;
}

list_read plan_list_read(const list_request& r) {
  list_read plan;
  auto rv = requested_rv(r);
  // etcd3 store resolveGetListRev: a continued list reads at its token's revision.
  if (!r.continue_token.empty() && rv && *rv != 0)
    throw bad_request("specifying resource version is not allowed when using continue");
  plan.ignore_limit = r.resource_version == "0";  // the cacher's computeListLimit
  if (!rv || *rv == 0) return plan;
  // etcd3 store resolveGetListRev: Exact, or the legacy "rv=N with a limit", reads at N.
  if (r.resource_version_match == "Exact" || (r.resource_version_match.empty() && r.limit > 0)) {
    plan.exact = *rv;
    return plan;
  }
  plan.min_rv = *rv;
  return plan;
}

api_error too_large_resource_version(uint64_t wanted, uint64_t current) {
  api_error e(504, "Timeout",
              fmt::format("Timeout: Too large resource version: {}, current: {}", wanted, current));
  e.causes.push_back({"ResourceVersionTooLarge", "Too large resource version", ""});
  e.retry_after_seconds = 1;
  return e;
}

}  // namespace kubesim
