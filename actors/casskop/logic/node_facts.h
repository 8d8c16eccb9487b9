// What casskop knows of a CassandraCluster's Cassandra nodes when a pass runs: its pods (from
// the watch cache) and the last answers of their Jolokia agents (asked by the reconciler's node
// prober, jolokia_client.h). The pass stays pure: these come in with reconcile_input, and the
// node calls a pass wants sent go out with reconcile_plan.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "actors/casskop/logic/jolokia_codec.h"
#include "actors/casskop/logic/refused_changes.h"

namespace casskop {

struct pod_state {
  std::string name, uid, ip;
  std::string phase;           // status.phase
  bool ready = false;          // the cassandra container is Ready and the pod Running
  bool unschedulable = false;  // Pending, PodScheduled False with reason Unschedulable
  bool deleting = false;       // metadata.deletionTimestamp set
  int restarts = 0;            // the cassandra container's restartCount
};

// One answer of one node, tied to the pod (uid) that gave it: a pod of the same name made later
// (a scale up after a scale down) never inherits its predecessor's answer.
struct node_answer {
  std::string pod_uid;
  std::string value;     // e.g. the OperationMode
  jolokia::error error;  // kind none: `value` is the answer
  std::string at;        // RFC 3339, when it came
};

struct node_facts {
  std::map<std::string, pod_state> pods;        // the cluster's pods, by name
  std::map<std::string, std::string> pvc_uids;  // PVC name -> uid (not being deleted)
  // Asked of the first Ready pod by ordinal (v2.1.0 CheckPodsState / hasJoiningNodes):
  std::string asked_pod;
  std::optional<std::map<std::string, std::string>> host_ids;  // IP -> host id, last good answer
  jolokia::error host_ids_error;
  // Whether a node is joining. nullopt: not asked since the pods last changed, or the read
  // failed (v2.1.0: an error counts as joining): a scale up waits.
  std::optional<bool> joining;
  jolokia::error joining_error;
  std::map<std::string, node_answer> modes;  // pod -> its OperationMode
  // pod -> the last answer to decommission (a refusal says why the node stays NORMAL).
  std::map<std::string, node_answer> decommission_answers;
  // The DCs some keyspace other than system/system_schema replicates to: Keyspaces and then
  // describeRingJMX of each, asked of the first Ready pod on every round (v2.1.0 asks a Running
  // pod of the DC being scaled to 0; the ring is the same seen from any node). Not known when
  // any of these calls failed, or nobody could be asked (DataCheckNotPossible).
  replication_knowledge replication;
  // The last probe round started when a pass first saw a DC going to 0 (set by the reconciler,
  // cleared once no such change waits): only a later round's ring answer decides it.
  std::optional<uint64_t> dc_zero_seen;
  // A node stays NORMAL this long after decommission was sent: sent again.
  int64_t decommission_resend_ms = 60'000;
};

// A call the pass wants sent to a node (the reconciler sends it and records the answer).
struct node_call {
  std::string pod, pod_uid, ip, dc_rack;
  jolokia::request request;
};

// Whether a node joins, as the pod operations take it (nothing starts while one does, v2.1.0
// hasJoiningNodes): the prober's answer; nullopt (wait) when the read failed, except when the
// credentials failed: every call would fail alike, so the operations start and end Error with
// that reason rather than wait in ToDo with no word to the user.
std::optional<bool> joining_for_pod_operations(const node_facts& f);

// Condition reasons saying what a node answered when an action waits on it.
namespace node_reason {
inline constexpr const char* decommission_stuck = "DecommissionStuck";
inline constexpr const char* decommission_refused = "DecommissionRefused";
inline constexpr const char* jolokia_unreachable = "JolokiaUnreachable";
inline constexpr const char* jolokia_unauthorized = "JolokiaUnauthorized";
inline constexpr const char* jolokia_no_credentials = "JolokiaNoCredentials";
inline constexpr const char* jolokia_error = "JolokiaError";
}  // namespace node_reason

// The reason for a failed call: unreachable (refused, timeout, transport), unauthorized, no
// credentials, or an error of the agent (HTTP status, Jolokia error, malformed).
const char* reason_of(const jolokia::error& e);

}  // namespace casskop
