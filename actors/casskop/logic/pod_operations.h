// Pod operations by label (CassKop v2.1.0 controllers/cassandracluster/pod_operation.go): a user
// (or casskop after a ScaleUp) labels pods `operation-name=<op>`, `operation-status=ToDo`
// (`operation-argument` for rebuild and remove); casskop runs the operation on the node, labels
// the pod Ongoing with `operation-start`, then Done or Error with `operation-end`, and keeps the
// rack's status.cassandraRackStatus[dc-rack].podLastOperation up to date.
//
// Pure: the caller gives the cluster's pods (as observe_pod reads them), whether nodes are
// joining, which pods its runner works on now and what finished since the last pass; it gets the
// label merge patches to send, the jobs to hand the runner, the status and the Events.
//
// Where we differ from v2.1.0, on purpose:
// - Every operation type waiting in a rack is served, one type at a time per rack (the one in
//   podLastOperation while Ongoing, else the first of cleanup, upgradesstables, rebuild, remove
//   that has ToDo pods). v2.1.0 picks ONE random type per loop (pod_operation.go:76,132), so a
//   ToDo pod waits for luck and two types can mix into one podLastOperation.
// - A pod labelled Ongoing that the runner does not work on (casskop restarted, or lost the
//   call) is resumed: the runner watches the node's work (Compactions, CurrentStreams,
//   LeavingNodes) until it is gone. v2.1.0 does so only when status.operatorName differs from
//   its POD_NAME (pod_operation.go:480); its goroutines are lost otherwise.
// - Bad labels are answered, never ignored: an unknown operation-name, a rebuild without a DC, a
//   remove whose argument is not `[pod][_IP]` or names a pod with no IP label the pod Error at
//   once with a Warning Event saying why (v2.1.0 ignores an unknown name forever).
// - A pod listed in podLastOperation.pods whose label already says Done/Error (the status write
//   was lost) or that is gone is settled into podsOK/podsKO instead of staying Ongoing forever.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "actors/casskop/logic/cluster_spec.h"
#include "k8s/json/json.h"

namespace casskop {

namespace op_label {
inline constexpr const char* name = "operation-name";
inline constexpr const char* status = "operation-status";
inline constexpr const char* argument = "operation-argument";
inline constexpr const char* start = "operation-start";
inline constexpr const char* end = "operation-end";
}  // namespace op_label

namespace pod_op {
inline constexpr const char* cleanup = "cleanup";
inline constexpr const char* upgradesstables = "upgradesstables";
inline constexpr const char* rebuild = "rebuild";
inline constexpr const char* remove = "remove";
inline constexpr const char* decommission = "decommission";  // scale-down's, not run here
}  // namespace pod_op

// v2.1.0 k8s.LabelTime (pkg/k8s/util.go:145): "20261205T151239", UTC.
std::string label_time(std::chrono::system_clock::time_point t);

// What the pod operations read of one pod.
struct observed_pod {
  std::string name;
  std::string dc_rack;    // "<dc>-<rack>" from the pod's dc and rack labels
  std::string pod_ip;     // status.podIP
  bool running = false;   // status.phase Running
  bool deleting = false;  // metadata.deletionTimestamp set
  bool ready = false;     // the cassandra container is Ready
  std::map<std::string, std::string> labels;
  std::string label(const char* key) const;
};
observed_pod observe_pod(const k8s::json::Value& pod);

// operation-argument of remove: "<pod>_<ip>", "<pod>", "_<ip>" (v2.1.0 runRemove,
// pod_operation.go:757). Either part may be empty, not both; the IP must be an IPv4/IPv6 address.
struct remove_target {
  std::string pod;  // "" when only the IP was given
  std::string ip;
};
// Returns the target, or sets `error` (a sentence for the user) and returns nullopt.
std::optional<remove_target> parse_remove_argument(const std::string& argument, std::string& error);
bool is_ip_address(const std::string& s);

// One pod's work for the runner.
struct operation_job {
  std::string pod, dc_rack, pod_ip, operation, argument;
  remove_target target;  // remove: the dead node (IP always filled in)
  // Resume: the node may still be working (casskop restarted): watch, do not send it again.
  bool resume = false;
  std::string jolokia_secret;  // spec.imageJolokiaSecret, filled in by the caller
};

// What the runner reports when a job ends.
struct operation_outcome {
  std::string pod, dc_rack, operation;
  bool ok = false;
  std::string error;  // why, when !ok
};

struct pod_operations_input {
  const std::vector<observed_pod>& pods;  // the cluster's pods
  // Whether a node of the cluster is joining (JoiningNodes on a ready node). nullopt: unknown
  // (no answer, or an error): as v2.1.0 (node_operations.go hasJoiningNodes), nothing starts.
  std::optional<bool> nodes_joining;
  std::set<std::string> in_flight;          // pods the runner works on now (or whose end is unseen)
  std::vector<operation_outcome> finished;  // jobs ended since the last pass
  std::string operator_name;                // written to podLastOperation.operatorName
  std::string now;                          // RFC 3339 (status times)
  std::string now_label;                    // label_time() (operation-start / -end)
};

struct pod_label_patch {
  std::string pod;
  std::map<std::string, std::string> labels;  // merged into metadata.labels
};
// {"metadata":{"labels":{...}}}, an RFC 7386 merge patch.
k8s::json::Document label_patch_body(const pod_label_patch& p);

struct pod_operation_event {
  bool warning = false;
  std::string reason, message, dc_rack;
};

struct pod_operations_plan {
  std::vector<pod_label_patch> patches;
  std::vector<operation_job> start;  // new jobs and resumed ones
  std::vector<pod_operation_event> events;
  std::string waiting;  // why ToDo pods wait ("" when none do)
};

// Plans one pass. `status` (the cluster status of this pass) gets podLastOperation changes.
// Racks whose podLastOperation is decommission (scale-down's) are left alone.
pod_operations_plan plan_pod_operations(const pod_operations_input& in, cluster_status& status);

// After a ScaleUp of a rack is Done (v2.1.0 cassandra_status.go:374-382): every pod of the rack
// (`rack_pods`: the StatefulSet's pod names, ordinals 0..replicas-1, all Ready since the action
// ended on it) not being deleted gets operation-name=cleanup and operation-status ToDo with
// spec.autoPilot, Manual without (a user flips Manual to ToDo to run it). By name, not from the
// Pods cache alone: that cache may not have the newest pod yet when the StatefulSet's status
// already counts it, and the labels are set once.
std::vector<pod_label_patch> cleanup_labels_after_scale_up(
    const std::vector<observed_pod>& pods, const std::vector<std::string>& rack_pods,
    bool auto_pilot);

}  // namespace casskop
