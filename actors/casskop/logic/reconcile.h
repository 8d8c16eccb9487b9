// One reconcile pass of casskop for one CassandraCluster, as a pure function: from the object
// and what the cluster holds (its StatefulSets, Services and PodDisruptionBudget), the writes
// of the pass, in order, and its Events. The caller (actors/casskop/reconciler.cpp) reads the
// watch caches, calls plan_reconcile(), and hands the writes to the writer.
//
// The steps are CassKop v2.1.0's Reconcile (controllers/cassandracluster/
// cassandracluster_controller.go:66-135): defaults, the deletePVC finalizer, refused changes
// against the last-applied annotation (written back, and nothing else this pass), the PDB, the
// Services, the rack sequencer (at most one StatefulSet), then one Update of the whole object
// with spec, status and annotation, made only when one of them changed
// (cassandra_status.go:38-63): at rest a pass writes nothing.
// Where we differ: bad input (parse problems, a topology the generator cannot build) writes no
// object at all and says why in a Warning Event (v2.1.0 failed the reconcile, or created some
// racks before reaching the bad one); the per-DC and per-rack Services of the seed are created
// with v2.1.0's two; a PDB change is an in-place update (policy/v1).
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "actors/casskop/logic/cluster_spec.h"
#include "actors/casskop/logic/node_facts.h"
#include "actors/casskop/logic/pod_operations.h"
#include "actors/casskop/logic/refused_changes.h"
#include "k8s/json/json.h"

namespace casskop {

struct reconcile_input {
  const k8s::json::Value& cluster;  // the CassandraCluster object (v2 JSON)
  // The cluster's StatefulSets, by object name, as the watch cache has them.
  std::map<std::string, const k8s::json::Value*> statefulsets;
  // StatefulSet names whose cache is older than our last write to them (a lower generation, or
  // created and not in the cache yet): nothing is decided on them.
  std::set<std::string> stale_statefulsets;
  std::set<std::string> services;         // Service names that exist
  const k8s::json::Value* pdb = nullptr;  // the PDB <cc>, if it exists
  std::string now;                        // RFC 3339
  // Write status.observedGeneration, status.conditions: the installed CRD keeps them (ours
  // declares observedGeneration; CassKop's own CRD prunes both). The caller turns one off once a
  // write's answer shows it pruned, so a pruned field never makes every pass write again.
  bool observed_generation = true;
  bool conditions = true;
  // The cluster's pods and what its nodes answered over Jolokia; null when nothing is known
  // (then no scale down starts: see rack_sequencer.h).
  const node_facts* nodes = nullptr;
  // The pod operations' view (pods, joining nodes, the runner's work): nullptr when the caller
  // does not watch Pods; then no operation runs and no cleanup label is set.
  const pod_operations_input* pod_operations = nullptr;
};

struct object_write {
  enum class verb { create, update, patch, remove };
  verb what = verb::create;
  // StatefulSet, Service, PodDisruptionBudget, CassandraCluster, PersistentVolumeClaim
  std::string kind;
  std::string name;
  std::string dc_rack;           // for the log ("" when not about one rack)
  k8s::json::Document body;      // create/update: the object; patch: an RFC 7386 merge patch
  std::string precondition_uid;  // remove: only this object, never a newer one of that name
};

struct reconcile_event {
  bool warning = false;
  std::string reason;
  std::string message;
  std::string dc_rack;
};

struct reconcile_plan {
  std::vector<object_write> writes;  // in the order they must be sent
  std::vector<reconcile_event> events;
  std::string waiting;  // why the sequencer wrote nothing ("" when it wrote or all is done)
  std::vector<spec_problem> problems;  // bad input: nothing is written
  std::vector<refusal> refusals;       // refused changes written back
  cluster_status status;               // the status after the pass
  bool ready = false;                  // Running and Done
  std::vector<node_call> calls;        // Jolokia calls to send (decommission)
  bool nodes_busy = false;             // an action waits on a node: ask its nodes often
  // A DC going to 0 waits for a ring answer asked after the change was seen: ask now (and
  // record when the change was first seen, node_facts::dc_zero_seen).
  bool needs_fresh_ring = false;
  // Jobs for the pod operations runner and why ToDo pods wait (their label patches are in
  // `writes`, before the CassandraCluster's).
  pod_operations_plan pod_operations;
};

reconcile_plan plan_reconcile(const reconcile_input& in);

// A CassandraCluster being deleted with the deletePVC finalizer (v2.1.0 CheckDeletePVC,
// cassandracluster_controller.go:200): its PVCs are deleted, then the finalizer removed. `pvcs`
// are the namespace's PVCs carrying its `cassandracluster` label. Without v2.1.0's stale-read
// bug (orange#316): only PVCs created before the cluster's deletionTimestamp are deleted (a
// cluster of the same name made later has newer ones), each with its UID as precondition.
// Empty when the object is not being deleted or has no finalizer of ours.
reconcile_plan plan_deletion(const k8s::json::Value& cluster,
                             const std::vector<const k8s::json::Value*>& pvcs);

// The condition types written when `conditions` is on.
inline constexpr const char* condition_ready = "Ready";
inline constexpr const char* condition_progressing = "Progressing";
inline constexpr const char* condition_degraded = "Degraded";
// Degraded reasons besides the refusal_reason names: the spec cannot be acted on.
inline constexpr const char* degraded_invalid_spec = "InvalidSpec";

}  // namespace casskop
