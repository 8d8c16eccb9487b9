// What the reconciler remembers between passes about the pod operations of its clusters: which
// pods the runner works on, the outcomes not yet written, and the last JoiningNodes answer. Pure
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
  using clock = std::chrono::steady_clock;
  // How long a JoiningNodes answer is trusted (v2.1.0 reads it on every 5 s pass).
  explicit pod_operations_tracker(clock::duration joining_ttl = std::chrono::seconds(5))
      : joining_ttl_(joining_ttl) {}

  // The input of one pass of `cluster` (its pods as the cache has them). Outcomes handed here
  // are pending until pass_ended().
  pod_operations_input input(const std::string& cluster, const std::vector<observed_pod>& pods,
                             const std::string& operator_name, const std::string& now,
                             const std::string& now_label, clock::time_point at);
  // The pass's jobs went to the runner.
  void started(const std::string& cluster, const std::vector<operation_job>& jobs);
  // The pass's writes all went through (ok) or one failed (its outcomes are offered again).
  void pass_ended(const std::string& cluster, bool ok);
  // The runner says a job ended.
  void ended(const std::string& cluster, const operation_outcome& outcome);
  // The runner's JoiningNodes answer (known false: the read failed, `why` says so).
  void joining_answer(const std::string& cluster, bool known, bool joining, const std::string& why,
                      clock::time_point at);
  // The IP of a ready pod to read JoiningNodes on, when pods wait for a ToDo operation and no
  // fresh answer is there nor asked for; nullopt otherwise.
  std::optional<std::string> joining_check(const std::string& cluster,
                                           const std::vector<observed_pod>& pods,
                                           clock::time_point at);
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
    std::optional<bool> joining;
    clock::time_point joining_at{};
    bool join_asked = false;
    std::string join_error;
  };
  clock::duration joining_ttl_;
  std::map<std::string, per_cluster> clusters_;
};

}  // namespace casskop
