// The validation kube-apiserver v1.32 runs on writes of the built-in kinds our operators write
// (the strategies' Validate/ValidateUpdate: pkg/apis/core/validation, pkg/apis/apps/validation,
// pkg/apis/policy/validation), with the real field.Error messages. Metadata is checked
// elsewhere (object_meta.h); objects are already defaulted (builtin_defaults.h). Pure.
#pragma once

#include <vector>

#include "k8s/json/json.h"
#include "tools/kubesim/api_error.h"
#include "tools/kubesim/resource_types.h"

namespace kubesim::builtin {

std::vector<status_cause> validate_create(const resource_type& t, const k8s::json::Value& obj);
// The new object against the stored one (immutable fields, then the create checks).
std::vector<status_cause> validate_update(const resource_type& t, const k8s::json::Value& obj,
                                          const k8s::json::Value& old);

// What a /status write of the kind checks (ValidateStatefulSetStatusUpdate,
// ValidateDeploymentStatusUpdate): counts not negative nor above status.replicas, a
// collisionCount never decremented.
std::vector<status_cause> validate_status_update(const resource_type& t,
                                                 const k8s::json::Value& obj,
                                                 const k8s::json::Value& old);

}  // namespace kubesim::builtin
