// Strategic merge patch (`application/strategic-merge-patch+json`) for built-in kinds, driven by
// the v1.32 types (builtin_schema) as k8s.io/apimachinery pkg/util/strategicpatch is driven by
// the Go structs' patchStrategy / patchMergeKey tags (PatchMetaFromStruct, v0.32.9):
//
//   * Maps merge as in RFC 7386: null deletes a key, objects merge recursively, scalars replace.
//     A struct field tagged patchStrategy replace (PodDisruptionBudgetSpec.selector) takes the
//     patch's map whole.
//   * A list field tagged patchStrategy merge (also "merge,retainKeys") merges: lists of structs
//     by the field's patchMergeKey (a patch element whose key matches an existing element is
//     merged into it, others are appended; `{"$patch":"delete","<key>":v}` removes the match; a
//     `{"$patch":"replace"}` element makes the list the rest of the patch list); lists of
//     primitives (metadata.finalizers) as sets, the patch's new entries appended.
//     `$deleteFromPrimitiveList/<field>: [...]` removes entries from any list.
//   * Every other list (tolerations, volumeClaimTemplates, args, ...) is replaced whole; so is
//     any list the types do not know (a field absent from the Go struct, RawExtension content).
//   * A field's merge key is the one of the exact type at its path: a Service's spec.ports merge
//     by port, a container's ports by containerPort, a ConfigMap's data key named `containers`
//     is a plain map entry.
//   * On a map, `$patch: replace` replaces the whole map with the rest of the patch map, and
//     `$patch: delete` removes the map (the top-level document becomes `{}`). `$retainKeys`
//     keeps only the listed keys (and refuses a patch setting other keys).
//   * `$setElementOrder/<field>` is accepted and dropped: the order it asks for is not applied
//     (merged lists keep existing order, new elements at the end; the real server reorders).
//
// Known deviations: a field unknown to the Go struct merges untyped here where the real server
// fails ("unable to find api field"); a nested `$patch: delete` map is removed rather than left
// as `{}`; new elements and maps from the patch have their nulls and directives stripped (the
// server sometimes stores them verbatim); a non-object patch replaces the document. Custom
// resources never get here (415, as the real server answers).
#pragma once

#include "k8s/json/json.h"
#include "tools/kubesim/builtin_schema.h"
#include "tools/kubesim/resource_types.h"

namespace kubesim {

// Applies `patch` to `target`, an object of the type `type` (a kind's root message; null: untyped,
// every list replaced), in place. All-or-nothing: on a malformed directive (unknown $patch
// value, keyed-list element without its key) throws k8s::json::json_patch_error (invalid_patch)
// and leaves `target` unchanged.
void apply_strategic_merge_patch(k8s::json::Value& target, const k8s::json::Value& patch,
                                 k8s::json::Allocator& a, const builtin_schema::message* type);

// The type a strategic merge patch of `t` in `version` (empty: storage version) follows; null for
// a kind without built-in types.
const builtin_schema::message* strategic_merge_type(const resource_type& t,
                                                    const std::string& version);

}  // namespace kubesim
