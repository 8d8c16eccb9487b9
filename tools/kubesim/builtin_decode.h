// What kube-apiserver v1.32's JSON decoding of a built-in kind into its Go struct does to a
// write (k8s.io/apimachinery runtime/serializer/json with sigs.k8s.io/json's strict,
// case-sensitive unmarshalling): unknown fields and all but the last of duplicate keys are
// dropped and reported as strict decoding errors (fieldValidation decides what they cost: see
// custom_resources::enforce_field_validation), a value of the wrong type fails with
// encoding/json's message. Types come from builtin_schema (k8s.io/api v0.32.9).
#pragma once

#include <string>
#include <vector>

#include "k8s/json/json.h"
#include "tools/kubesim/resource_types.h"

namespace kubesim::builtin_decode {

// Decodes `obj`, a write of built-in kind `t`, in place. Returns the strict decoding errors in
// document order (`unknown field "spec.foo"`, `duplicate field "spec.replicas"`). Throws
// crd::decode_error with the Go decoder's message for a value of the wrong type
// ("json: cannot unmarshal string into Go struct field StatefulSetSpec.spec.replicas of type
// int32", "illegal base64 data at input byte 3", "quantities must match ..."). A kind without
// types in the model is left as it is. `unstructured`: the object is a strategic merge patch's
// result, which the server converts from its map (runtime.DefaultUnstructuredConverter) rather
// than decodes from JSON; wrong types are then worded as the converter words them
// ("unrecognized type: int32", "cannot restore struct from: string").
std::vector<std::string> decode(const resource_type& t, k8s::json::Value& obj,
                                bool unstructured = false);

// The strategic merge patch of a built-in as the real handler names it in a 422
// (fmt.Sprintf("%+v", patchMap) in patch.go applyPatchToObject): Go's map printing.
std::string go_map_print(const k8s::json::Value& v);

// Server-side apply converts the patch to a typed object with the kind's schema first: an
// unknown field fails whatever fieldValidation says, with a 500 (structured-merge-diff's
// "failed to create typed patch object (<ns>/<name>; <gvk>): .spec.foo: field not declared in
// schema"). Throws api_error.
void check_apply_patch(const resource_type& t, const k8s::json::Value& patch);

}  // namespace kubesim::builtin_decode
