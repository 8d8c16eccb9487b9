// resource.Quantity as kube-apiserver stores it: a write decodes every Quantity
// (k8s.io/apimachinery/pkg/api/resource ParseQuantity), SetDefaults_ResourceList rounds resource
// lists up to milli-units, and the stored object holds the canonical form MarshalJSON writes
// (CanonicalizeBytes): "0.5" -> "500m", "0.5Gi" -> "512Mi", "1000m" -> "1", "2048Mi" -> "2Gi".
// Two objects written with different spellings of one quantity are stored the same.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "k8s/json/json.h"

namespace kubesim {

// The canonical form of `q`; nullopt when `q` is no quantity or lies outside what this model
// computes exactly (more than 30 digits, a decimal exponent beyond 10^18).
std::optional<std::string> canonical_quantity(std::string_view q);

// Every resource list (`resources.limits`, `resources.requests`) and emptyDir `sizeLimit` under
// `obj` in canonical form; values it cannot compute stay as written.
void canonicalize_quantities(k8s::json::Value& obj, k8s::json::Allocator& a);

}  // namespace kubesim
