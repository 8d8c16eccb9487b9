// The patch types every PATCH handler applies the same way (patch.go's patchers): decoding the
// body, and the merge, JSON and strategic merge patches with the real server's errors.
// Server-side apply is not here: it needs field ownership (field_manager.h).
#pragma once

#include <string_view>

#include "k8s/json/json.h"
#include "tools/kubesim/builtin_schema.h"
#include "tools/kubesim/cluster_state.h"

namespace kubesim {

// The body of a patch: YAML for apply, JSON otherwise; 400 "error decoding patch" when neither.
k8s::json::Document parse_patch(patch_type type, std::string_view body);

// Applies a merge, JSON or strategic merge patch (not apply) to `target` (the strategic one by the
// type `strategic_type`, null for untyped); 422 for a patch that cannot apply, 400 for a malformed
// one.
void apply_patch(k8s::json::Document& target, patch_type type, const k8s::json::Value& patch,
                 const builtin_schema::message* strategic_type);

}  // namespace kubesim
