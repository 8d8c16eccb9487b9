#include "actors/casskop/logic/ip_swap.h"

namespace casskop {

std::optional<ip_swap_deletion> pod_with_swapped_ip(
    int32_t restart_count_before_pod_deletion, const node_facts& facts,
    const std::map<std::string, node_status>& recorded) {
  if (restart_count_before_pod_deletion <= 0 || !facts.host_ids) return std::nullopt;
  for (const auto& [name, pod] : facts.pods) {
    if (pod.deleting || pod.ip.empty() || pod.restarts <= restart_count_before_pod_deletion)
      continue;
    auto ring = facts.host_ids->find(pod.ip);
    if (ring == facts.host_ids->end()) continue;  // v2.1.0: keyFound false, nothing done
    auto rec = recorded.find(name);
    // v2.1.0 compares with "" when the status has no entry: any mapped IP differs.
    const std::string recorded_id = rec == recorded.end() ? "" : rec->second.host_id;
    if (recorded_id == ring->second) continue;
    return ip_swap_deletion{name, pod.uid, pod.ip, recorded_id, ring->second, pod.restarts};
  }
  return std::nullopt;
}

}  // namespace casskop
