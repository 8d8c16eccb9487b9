// CassKop v2.1.0's IP-swap check (controllers/cassandracluster/reconcile.go:786-830,
// processingPods / checkPodCrossIpUseCaseForPod): a pod whose cassandra container restarted more
// than spec.restartCountBeforePodDeletion times, and whose IP the ring (HostIdMap) maps to
// another host id than status.cassandraNodeStatus records for the pod, was given an address a
// down node still holds: Cassandra refuses to start there ("A node with address ... already
// exists") and the pod crash-loops for good. Deleting it gives it a fresh IP (its PVC, so its
// host id, is kept).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "actors/casskop/logic/cluster_spec.h"
#include "actors/casskop/logic/node_facts.h"

namespace casskop {

struct ip_swap_deletion {
  std::string pod, uid, ip;
  std::string recorded_host_id;  // status.cassandraNodeStatus[pod].hostId
  std::string ring_host_id;      // HostIdMap[pod IP]
  int restarts = 0;
};

// The pod to delete this pass, if any (the first by name: one per pass, as v2.1.0). Nothing when
// the check is off (restart_count_before_pod_deletion <= 0) or HostIdMap is not known. Where we
// differ: v2.1.0 looks only at the first pod over the restart count; here every such pod is
// looked at, and a pod already being deleted is skipped.
std::optional<ip_swap_deletion> pod_with_swapped_ip(
    int32_t restart_count_before_pod_deletion, const node_facts& facts,
    const std::map<std::string, node_status>& recorded);

}  // namespace casskop
