// CassKop v2.1.0's reconcile of one CassandraCluster, as a pure function, for kubesim's CassKop
// stand-in (--simulate-casskop). It reproduces what the original writes and when, flaws
// included (controllers/cassandracluster/cassandracluster_controller.go Reconcile, reconcile.go,
// cassandra_status.go, statefulset.go and api/v2/cassandracluster_types.go at v2.1.0-release):
// - the first pass (status.phase empty) runs SetDefaults (nodesPerRacks and maxPodUnavailable 1,
//   resources.limits = requests, topology and rack status initialised, the local seed list when
//   status.seedlist is absent, the deletePVC finalizer) and writes with one plain update;
// - every later pass applies CheckDefaults to the spec in memory, moves the rack statuses, and
//   writes spec, status and its last-applied-configuration annotation with ONE plain update of
//   the whole object (a PUT with the resourceVersion it read), round-tripped through its Go types
//   (unknown fields dropped, zero values omitted). There is no observedGeneration: with a status
//   subresource the server drops that status, as it does for the real CassKop;
// - racks are handled one after the other, one action each: configMap, image, scaling (+/-1
//   node per step), seed list (Configuring in every rack, then ToDo and a roll), rollingRestart,
//   any other StatefulSet change (UpdateStatefulSet); an action is not checked for its end before
//   DefaultDelayWait (20 s) after it started; a pass runs on every change and every 5 s.
// No Cassandra runs: the StatefulSets it would write are simulated in `original_memory`, their
// pods ready `rack_ready_ms` after each change (never while the object carries the annotation
// kubesim.casskop/hold: "true"). A change CheckNonAllowedChanges refuses (casskop_refusal.h)
// is undone: the old values written back with status.lastClusterAction CorrectCRDConfig and the
// record recomputed, in one plain update, then a pass 30 s later. Not modelled: pod
// operations and Jolokia (a ScaleDown ends like a ScaleUp), cassandraNodeStatus, Quantity
// normalisation, the informer cache's lag (reads are live).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "k8s/json/json.h"

namespace kubesim::casskop {

// CassKop v2.1.0's annotation: JSON of the object it last reconciled (annotations, resourceVersion
// and status left out), written with every status update.
inline constexpr const char* kLastAppliedAnnotation =
    "cassandraclusters.db.orange.com/last-applied-configuration";

// The original's pace; tests scale the first two down (kubesim --casskop-time-scale).
struct original_pace {
  int64_t requeue_ms = 5000;       // RequeueAfter of every pass
  int64_t check_delay_ms = 20000;  // api.DefaultDelayWait: an action's end is checked this late
  int64_t rack_ready_ms = 1000;    // simulated: pods of a rack ready after its StatefulSet changed
  int64_t refused_requeue_ms = 30000;  // requeue30, after a refused change (CorrectCRDConfig)
};

// The StatefulSet CassKop wrote for one dc-rack, reduced to what its status logic compares.
struct simulated_statefulset {
  std::string template_digest;     // of everything else the pod template is made of
  std::string image;               // the cassandra container's
  std::string config_map;          // the configMap volume's ("" without one)
  std::vector<std::string> seeds;  // CASSANDRA_SEEDS of the bootstrap init container
  int64_t replicas = 0;
  int rolling_restart = 0;  // the rolling-restart template label, bumped per restart
  int64_t ready_at_ms = 0;  // its pods are all ready from then on
};

// What the stand-in remembers of one CassandraCluster between passes.
struct original_memory {
  std::string uid;
  bool known = false;  // the StatefulSets below reflect the object (taken over or written)
  std::map<std::string, simulated_statefulset> statefulsets;  // by dc-rack
  // The exact start of each rack's action (status keeps whole seconds: too coarse for the
  // scaled-down delays of tests).
  std::map<std::string, std::pair<std::string, int64_t>> action_start;  // dc-rack -> (stamp, ms)
};

struct original_pass {
  std::optional<k8s::json::Document> update;  // the whole object to PUT, when it changed
  int64_t requeue_after_ms = 0;               // 0: at once (Result{Requeue: true})
};

// One Reconcile of `cc` (the object as read) at `now_ms` (Unix ms). `held`: the simulated pods
// never get ready.
original_pass reconcile_original(const k8s::json::Value& cc, original_memory& memory,
                                 int64_t now_ms, const original_pace& pace, bool held);

}  // namespace kubesim::casskop
