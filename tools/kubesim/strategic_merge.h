// Strategic merge patch (`application/strategic-merge-patch+json`) for built-in kinds, as kubesim
// approximates it.
//
// The real API server drives the merge from Go struct tags (patchStrategy / patchMergeKey) of the
// exact type at each path. kubesim has no schemas, so it decides by field name alone, wherever
// the field appears:
//
//   * Maps merge as in RFC 7386: null deletes a key, objects merge recursively, scalars replace.
//   * Lists named below merge by their key: a patch element whose key matches an existing element
//     is merged into it recursively, others are appended; `{"$patch":"delete","<key>":v}` removes
//     the matching element, and a `{"$patch":"replace"}` element makes the list the rest of the
//     patch list. Keys: containers, initContainers, ephemeralContainers, volumes,
//     imagePullSecrets, env -> name; volumeMounts -> mountPath; volumeDevices -> devicePath;
//     ports -> containerPort, or port when the elements have `port` and no `containerPort`
//     (a Service's spec.ports); ownerReferences -> uid; conditions -> type; hostAliases -> ip;
//     topologySpreadConstraints -> topologyKey.
//   * finalizers is a set of strings: the patch's entries are added (existing order first), and
//     `$deleteFromPrimitiveList/finalizers: [...]` removes entries.
//   * Every other list (tolerations, volumeClaimTemplates, args, ...) is replaced whole.
//   * On a map, `$patch: replace` replaces the whole map with the rest of the patch map, and
//     `$patch: delete` removes the map (the top-level document becomes `{}`).
//   * `$retainKeys` and `$setElementOrder/<field>` are accepted and dropped: never stored, and
//     the order they ask for is not applied (merged lists keep existing order, new at the end).
//
// Known deviations: keys apply to any field of that name (also inside custom resources, which the
// real server refuses to strategic-merge); a nested `$patch: delete` map is removed rather than
// left as `{}`; new elements and maps from the patch have their nulls and directives stripped
// (the server sometimes stores them verbatim); a non-object patch replaces the document.
#pragma once

#include "k8s/json.h"

namespace kubesim {

// Applies `patch` to `target` in place. All-or-nothing: on a malformed directive (unknown $patch
// value, keyed-list element without its key) throws k8s::json::json_patch_error (invalid_patch)
// and leaves `target` unchanged.
void apply_strategic_merge_patch(k8s::json::Value& target, const k8s::json::Value& patch,
                                 k8s::json::Allocator& a);

}  // namespace kubesim
