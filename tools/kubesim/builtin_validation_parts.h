// Pieces shared by the per-kind validation files (builtin_validation*.cpp).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "k8s/json/json.h"
#include "tools/kubesim/api_error.h"

namespace kubesim::builtin {

using causes = std::vector<status_cause>;

// ValidatePodSpec's checks that matter to our kinds (containers, names, images, ports, pull and
// restart policies, DNS policy, volumes and mounts); `spec` at `path`.
void validate_pod_spec(const k8s::json::Value* spec, const std::string& path, causes& out);
// ValidatePodUpdate: only images, activeDeadlineSeconds, added tolerations and a negative
// terminationGracePeriodSeconds set to 1 may change.
void validate_pod_spec_update(const k8s::json::Value& spec, const k8s::json::Value& old,
                              causes& out);

// util/validation.IsValidPortNum's message, empty if valid.
std::vector<std::string> port_num_errors(int64_t port);
// validation.IsValidPortName.
std::vector<std::string> port_name_errors(const std::string& name);
// field.NotFound.
status_cause not_found(const std::string& path, const std::string& value);
// A short rendering of how two specs differ, where the real message carries cmp.Diff's output
// (whose layout go-cmp randomizes on purpose, so no client can rely on it).
std::string spec_diff(std::string_view go_type, const k8s::json::Value* old_spec,
                      const k8s::json::Value* new_spec);
// %#v of a map[string]string (labels, selectors): map[string]string{"a":"b"}, nil when absent.
std::string go_string_map(const k8s::json::Value* m);

}  // namespace kubesim::builtin
