// ControllerRevisions as the StatefulSet controller keeps them (pkg/controller/history/
// controller_history.go and pkg/controller/statefulset/stateful_set_utils.go, v1.32), free of
// I/O: the revision data (a strategic merge patch that puts spec.template back), its hash and
// name, the revision object, and which revisions the history keeps.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "k8s/json/json.h"

namespace kubesim::history {

// getPatch: {"spec":{"template":{"$patch":"replace", <the template>}}} as json.Marshal writes
// it. The template's metadata.creationTimestamp is null when absent, as Go encodes an
// ObjectMeta.
std::string revision_data(const k8s::json::Value& pod_template);

// HashControllerRevision: FNV-1 32 (hash/fnv New32) over the data and the decimal collision
// count, the decimal digest encoded with rand.SafeEncodeString.
std::string revision_hash(std::string_view data, int32_t collision_count);
// ControllerRevisionName: "<prefix>-<hash>", the prefix cut to 223 bytes.
std::string revision_name(std::string_view prefix, std::string_view hash);

// NewControllerRevision for a StatefulSet: labels of the template plus
// controller.kubernetes.io/hash, the set's annotations, a controller owner reference.
k8s::json::Document new_revision(const k8s::json::Value& sts, const std::string& data,
                                 long long revision, int32_t collision_count);

// The pod template a revision restores (its data's spec.template without "$patch"), or null.
k8s::json::Document template_of(const k8s::json::Value& revision);
// Whether a revision's stored data is `data` (EqualRevision compares the bytes).
bool has_data(const k8s::json::Value& revision, const std::string& data);

// A revision as the controller's decisions need it.
struct revision_info {
  std::string name;
  long long number = 0;
  std::string created;  // creationTimestamp
};
// SortControllerRevisions: by revision number, then creation time, then name.
void sort_revisions(std::vector<revision_info>& revisions);
// truncateHistory: the revisions to delete so that at most `limit` revisions no pod, nor the
// current or update revision, uses are kept, the oldest going first. `revisions` sorted.
std::vector<std::string> revisions_to_prune(const std::vector<revision_info>& revisions,
                                            const std::vector<std::string>& live, int limit);

}  // namespace kubesim::history
