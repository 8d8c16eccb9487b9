#include "actors/casskop/logic/pod_operations_tracker.h"

#include <algorithm>

namespace casskop {

namespace {

bool waits(const observed_pod& p, const std::set<std::string>& busy) {
  if (busy.count(p.name) || !p.running || p.deleting) return false;
  if (p.label(op_label::status) != status::to_do) return false;
  std::string n = p.label(op_label::name);
  return n == pod_op::cleanup || n == pod_op::upgradesstables || n == pod_op::rebuild ||
         n == pod_op::remove;
}

}  // namespace

pod_operations_input pod_operations_tracker::input(const std::string& cluster,
                                                   const std::vector<observed_pod>& pods,
                                                   std::optional<bool> nodes_joining,
                                                   const std::string& operator_name,
                                                   const std::string& now,
                                                   const std::string& now_label) {
  per_cluster& c = clusters_[cluster];
  // An ended job's pod leaves the fence once the cache shows its label off Ongoing (or the pod
  // gone).
  for (auto it = c.ending.begin(); it != c.ending.end();) {
    auto p = std::find_if(pods.begin(), pods.end(),
                          [&](const observed_pod& o) { return o.name == *it; });
    if (p == pods.end() || p->label(op_label::status) != status::ongoing)
      it = c.ending.erase(it);
    else
      ++it;
  }
  pod_operations_input in{pods, nodes_joining, {}, {}, operator_name, now, now_label};
  in.in_flight = c.running;
  in.in_flight.insert(c.ending.begin(), c.ending.end());
  // Outcomes of a failed pass come again, before the new ones.
  c.in_pass.insert(c.in_pass.end(), c.pending.begin(), c.pending.end());
  c.pending.clear();
  in.finished = c.in_pass;
  return in;
}

void pod_operations_tracker::started(const std::string& cluster,
                                     const std::vector<operation_job>& jobs) {
  per_cluster& c = clusters_[cluster];
  for (const auto& j : jobs) c.running.insert(j.pod);
}

void pod_operations_tracker::pass_ended(const std::string& cluster, bool ok) {
  auto it = clusters_.find(cluster);
  if (it == clusters_.end()) return;
  per_cluster& c = it->second;
  if (!ok) c.pending.insert(c.pending.begin(), c.in_pass.begin(), c.in_pass.end());
  c.in_pass.clear();
}

void pod_operations_tracker::ended(const std::string& cluster, const operation_outcome& outcome) {
  per_cluster& c = clusters_[cluster];
  c.running.erase(outcome.pod);
  c.ending.insert(outcome.pod);
  c.pending.push_back(outcome);
}

bool pod_operations_tracker::has_waiting(const std::string& cluster,
                                         const std::vector<observed_pod>& pods) const {
  auto it = clusters_.find(cluster);
  static const std::set<std::string> none;
  const std::set<std::string>& busy = it == clusters_.end() ? none : it->second.running;
  return std::any_of(pods.begin(), pods.end(),
                     [&](const observed_pod& p) { return waits(p, busy); });
}

void pod_operations_tracker::runner_lost() {
  for (auto& [name, c] : clusters_) c.running.clear();
}

size_t pod_operations_tracker::in_flight(const std::string& cluster) const {
  auto it = clusters_.find(cluster);
  return it == clusters_.end() ? 0 : it->second.running.size();
}

}  // namespace casskop
