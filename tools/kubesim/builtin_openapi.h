// The OpenAPI v3 schemas of the built-in kinds, as kube-apiserver v1.32 publishes them under
// /openapi/v3/<group-version> (kube-openapi's builder3 from the generated OpenAPI definitions):
// components.schemas named "io.k8s.api.apps.v1.StatefulSet", properties referring to other
// schemas with allOf/$ref, descriptions, x-kubernetes-group-version-kind on the kinds, and the
// list-type, list-map-keys, patch-strategy and patch-merge-key extensions. Made from
// builtin_schema's model; what kubectl explain and kubectl's client-side apply read.
#pragma once

#include <string>
#include <vector>

namespace kubesim::builtin_openapi {

// The members of components.schemas (a JSON object) for the built-in `kinds` of one
// group-version and every schema they refer to. Kinds without types in the model are left out.
// Built once per argument set and cached.
std::string schemas_json(const std::string& group, const std::string& version,
                         const std::vector<std::string>& kinds);

}  // namespace kubesim::builtin_openapi
