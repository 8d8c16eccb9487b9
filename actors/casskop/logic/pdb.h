// The PodDisruptionBudget `<cc>` over all of the cluster's pods, maxUnavailable =
// spec.maxPodUnavailable (generator.go:519, deploy_cassandra.go:82).
// v2.1.0 wrote policy/v1beta1; we write policy/v1 (v1beta1 is gone since Kubernetes 1.25). The
// stored object is the same either way; what differs: in v1 an empty selector selects every
// pod of the namespace (ours is never empty), and a v1 PDB's spec can be updated in place, so a
// new maxPodUnavailable is an update rather than v2.1.0's delete and re-create
// (poddisruptionbudget.go:90), which left a window without a budget (and orange#321).
// The selector is fixed at creation: an update keeps the stored one.
#pragma once

#include "actors/casskop/logic/cluster_spec.h"
#include "k8s/json/json.h"

namespace casskop {

k8s::json::Document pod_disruption_budget(const parsed_cluster& cc);

// Whether the stored budget must be updated: its maxUnavailable differs, the one field v2.1.0
// acts on (poddisruptionbudget.go:90). A v1beta1 budget v2.1.0 created reads the same.
bool pdb_needs_update(const k8s::json::Value& stored, const k8s::json::Value& generated);
// The update body: `generated` with the stored selector (fixed at creation) and resourceVersion.
void keep_stored_pdb_selector(k8s::json::Value& generated, const k8s::json::Value& stored,
                              k8s::json::Allocator& a);

}  // namespace casskop
