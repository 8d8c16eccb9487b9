// What the reconciler remembers between passes about the pod operations of its clusters: which
// pods the runner works on and the outcomes not yet written (whether a node joins is the node
// prober's answer, node_facts.h joining_for_pod_operations). Pure
// bookkeeping (no I/O): the reconciler feeds it messages and asks it for each pass's input.
//
// Fences, as for StatefulSets: a pod whose job ended stays "in flight" until the watch cache
// shows its label moved off Ongoing, so a lagging cache never resumes a finished job; an outcome
// stays pending until a pass that carried it wrote everything without a failure.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "actors/casskop/logic/pod_operations.h"

namespace casskop {

class pod_operations_tracker {
 public:
  // The input of one pass of `cluster` (its pods as the cache has them; `nodes_joining` as
  // pod_operations_input says). Outcomes handed here are pending until pass_ended().
  pod_operations_input input(const std::string& cluster, const std::vector<observed_pod>& pods,
                             std::optional<bool> nodes_joining, const std::string& operator_name,
                             const std::string& now, const std::string& now_label);
  // The pass's jobs went to the runner.
  void started(const std::string& cluster, const std::vector<operation_job>& jobs);
  // The pass's writes all went through (ok) or one failed (its outcomes are offered again).
  void pass_ended(const std::string& cluster, bool ok);
  // The runner says a job ended.
  void ended(const std::string& cluster, const operation_outcome& outcome);
  // Whether the cluster has pods waiting for an operation to start (to re-check later).
  bool has_waiting(const std::string& cluster, const std::vector<observed_pod>& pods) const;
  void forget(const std::string& cluster) { clusters_.erase(cluster); }
  // The runner restarted: what it worked on is resumed from the labels.
  void runner_lost();
  size_t in_flight(const std::string& cluster) const;

 private:
  struct per_cluster {
    std::set<std::string> running;  // the runner works on them
    std::set<std::string> ending;   // ended; the cache may still say Ongoing
    std::vector<operation_outcome> pending, in_pass;
  };
  std::map<std::string, per_cluster> clusters_;
};

}  // namespace casskop
