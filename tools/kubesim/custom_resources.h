// What the CRD's schema does to a write of a custom resource, between the request and the
// store's own rules, in kube-apiserver v1.32's order: decoding (duplicate keys, ObjectMeta,
// pruning, nulls, defaults: customresource_handler.go), fieldValidation (endpoints/handlers
// create.go, update.go, patch.go), then the strategy's validation (registry/customresource).
// The store (cluster_state) calls these under or before its lock; they keep no state.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "k8s/json/json.h"
#include "tools/kubesim/api_error.h"
#include "tools/kubesim/cluster_state.h"
#include "tools/kubesim/resource_types.h"

namespace kubesim::custom_resources {

// Decodes `obj` for a write in version `version` (empty: storage) as the server's decoder does:
// duplicate keys (the last wins), root ObjectMeta, pruning and nulls with that version's schema,
// its defaults, then the storage version's pruning (the conversion to storage). Returns the
// strict decoding errors fieldValidation acts on ("unknown field \"spec.foo\"", "duplicate
// field \"spec.bar\""). Throws crd::decode_error for a body that cannot be decoded.
std::vector<std::string> decode(const resource_type& t, const std::string& version,
                                k8s::json::Document& obj);

// fieldValidation on strict decoding errors: Strict throws failure("strict decoding error: ..."),
// Warn adds one warning per error, Ignore drops them.
void enforce_field_validation(const std::vector<std::string>& errors, const write_options& o,
                              const std::function<api_error(const std::string&)>& failure);

// A create or update body that cannot be handled (transformDecodeError): 400
// `<Kind> in version "<v>" cannot be handled as a <Kind>: <why>`.
api_error cannot_be_handled(const resource_type& t, const std::string& version,
                            const std::string& why);
// A patch whose result cannot be decoded or has strict errors under Strict: 422 ` "" is invalid:
// patch: Invalid value: "<patched object>": <why>`.
api_error invalid_patch(const std::string& patched_json, const std::string& why);

// Server-side apply converts the patch to a typed object with the schema: an unknown field fails
// with a 500 ("failed to create typed patch object (...): .spec.foo: field not declared in
// schema"), whatever fieldValidation says.
void check_apply_patch(const resource_type& t, const std::string& version,
                       const k8s::json::Value& patch);

// The schema's checks of a create (customresource strategy Validate) and of an update
// (ValidateUpdate, with ratcheting), of a status write (statusStrategy ValidateUpdate).
std::vector<status_cause> validate_create(const resource_type& t, const std::string& version,
                                          const k8s::json::Value& obj);
std::vector<status_cause> validate_update(const resource_type& t, const std::string& version,
                                          const k8s::json::Value& obj, const k8s::json::Value& old);
std::vector<status_cause> validate_status_update(const resource_type& t, const std::string& version,
                                                 const k8s::json::Value& obj,
                                                 const k8s::json::Value& old);

}  // namespace kubesim::custom_resources
