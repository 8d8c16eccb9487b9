// The rack sequencer: what casskop does next for one CassandraCluster, given its spec and
// status and what the cluster's StatefulSets and PodDisruptionBudget say. Pure: the caller
// reads the world, calls sequence(), then writes what it returns (at most one StatefulSet).
//
// The rules are CassKop v2.1.0's (controllers/cassandracluster/reconcile.go ReconcileRack,
// cassandra_status.go, statefulset.go CreateOrUpdateStatefulSet): racks in spec order, one
// action per rack, at most one StatefulSet written per pass, a write only while the PDB allows a
// disruption, later racks wait while a rack is not Running or its action is under way, and the
// detection priority configMap, image, scaling, seed list, rolling restart, other drift.
// Where we differ, on purpose:
// - Watch-driven, no fixed waits: v2.1.0 waits 20 s after starting an action
//   (needToWaitDelayBeforeCheck) and polls every 5 s. Here an action ends when the StatefulSet's
//   status says so for the generation we wrote (observedGeneration == generation, revisions
//   equal, every replica ready), and the caller withholds a rack whose cached StatefulSet is
//   older than our last write to it (observed_statefulset::stale), so a stale read can never end
//   an action early.
// - Scale up goes +1 node at a time, as v2.1.0, but without its JoiningNodes gate (no Jolokia
//   yet): the next node is added once the previous one is Ready.
// - Scale down by decommission (v2.1.0 pod_operation.go ensureDecommission), one node at a time,
//   highest ordinal first: ScaleDown ToDo, podLastOperation decommission ToDo -> decommission
//   sent, Ongoing -> the node's OperationMode polled: NORMAL past decommissionResendSeconds sends
//   it again, LEAVING/JOINING wait, DECOMMISSIONED -> Finalizing and replicas - 1 -> the pod gone
//   -> its PVC data-<pod> deleted (uid precondition) -> Done, and the next node. The StatefulSet
//   is never shrunk before its last node answered DECOMMISSIONED (v2.1.0 also takes "UNKNOWN";
//   we don't), nor while nothing is known. A node already LEAVING or DECOMMISSIONED at ToDo goes
//   on to Ongoing (v2.1.0 stays ToDo for good).
// - A scale up adds no node while one is joining, or while that could not be read, as v2.1.0
//   (scaleup_test.go TestAddTwoNodes); here a pod change makes the answer stale until asked again.
// - A seed list change marks every rack Configuring in the same pass, then all of them ToDo,
//   and they roll one at a time (v2.1.0 rolled the first rack while still Configuring: orange#340).
// - Racks missing from status are initialised and the first of them created in the same pass
//   (v2.1.0 spends one 5 s pass initialising status first).
// - A rack's next action is detected (ToDo) even while the PDB forbids a disruption; only the
//   write waits for it. v2.1.0 detects only when the PDB allows (cassandra_status.go:107), so
//   between two racks of a roll, with a PDB still counting the last rack's pod as down, its
//   status says Running/Done for the new spec, which multi-casskop takes for Ready.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "actors/casskop/logic/cluster_spec.h"
#include "actors/casskop/logic/node_facts.h"

namespace casskop {

// What the sequencer reads of one stored StatefulSet (see observe_statefulset).
struct observed_statefulset {
  int64_t generation = 0;
  int64_t observed_generation = 0;
  int32_t spec_replicas = 0;
  int32_t replicas = 0;
  int32_t ready_replicas = 0;
  int32_t updated_replicas = 0;
  std::string current_revision;
  std::string update_revision;
  std::optional<std::string> config_map;  // the cassandra-config volume's ConfigMap, if any
  std::string cassandra_image;            // image of the "cassandra" container
  std::vector<std::string> seeds;         // CASSANDRA_SEEDS of the "bootstrap" init container
  std::map<std::string, std::string> template_labels;
  // The cache holds an older generation than our last write to it: decide nothing on this rack.
  bool stale = false;
};

// Reads a StatefulSet object (apps/v1 JSON).
observed_statefulset observe_statefulset(const k8s::json::Value& statefulset);

struct observed_pdb {
  bool exists = false;
  int32_t disruptions_allowed = 0;
  int32_t expected_pods = 0;
};

// What the caller must write to one rack's StatefulSet (built by the generator from the spec).
struct statefulset_intent {
  std::string dc_rack;
  size_t dc_index = 0, rack_index = 0;  // into racks_of(spec)
  bool create = false;
  int32_t replicas = 0;            // clipped to one node from what is stored
  std::vector<std::string> seeds;  // CASSANDRA_SEEDS to write (stored ones unless rolling seeds)
  std::map<std::string, std::string> template_labels;  // stored pod-template labels kept
  std::optional<std::string> rolling_restart_stamp;    // "rolling-restart" label value to set
};

// A Kubernetes Event to record on the CassandraCluster.
struct sequencer_notice {
  bool warning = false;
  std::string reason;
  std::string message;
  std::string dc_rack;
};

struct sequence_input {
  const parsed_cluster& cluster;  // spec after refused changes were written back
  const std::map<std::string, observed_statefulset>& statefulsets;  // by dc-rack
  observed_pdb pdb;
  std::string now;                 // RFC 3339, for start and end times
  bool resources_changed = false;  // refused_changes.h: every rack goes UpdateResources
  // Whether the generated StatefulSet for `intent` differs from the stored one (the generator
  // and comparator of statefulset.h); only asked for racks whose StatefulSet exists.
  std::function<bool(const statefulset_intent&)> differs_from_stored;
  // The cluster's pods and what its nodes answered (node_facts.h). Null: nothing is known of the
  // nodes, so no scale down starts and a scale up is not gated on joining nodes.
  const node_facts* nodes = nullptr;
};

struct sequence_result {
  cluster_status status;                    // the status to write (unchanged when equal)
  std::optional<statefulset_intent> write;  // at most one StatefulSet per pass
  std::vector<std::pair<size_t, size_t>> rolling_restart_consumed;  // (dc, rack) to reset in spec
  bool unlock_consumed = false;  // spec.unlockNextOperation to reset
  std::vector<sequencer_notice> notices;
  std::string waiting;  // why nothing was written (for the Progressing condition), "" otherwise
  std::vector<node_call> calls;  // Jolokia calls to send (decommission)
  std::vector<std::pair<std::string, std::string>> delete_pvcs;  // (PVC name, uid)
  // A node_reason when an action waits on what a node answered (or failed to): Degraded.
  std::string node_problem;
  // An action waits on a node (decommission, joining nodes): its nodes are asked often.
  bool nodes_busy = false;
};

sequence_result sequence(const sequence_input& in);

// v2.1.0's Ready for multi-casskop: phase Running and lastClusterActionStatus Done.
bool cluster_ready(const cluster_status& status);

}  // namespace casskop
