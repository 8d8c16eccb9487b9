#include "actors/casskop/logic/seeds.h"

#include <algorithm>

#include "actors/casskop/logic/names.h"

namespace casskop {

std::vector<std::string> seed_pods(const cluster_spec& spec, const std::string& cc) {
  // The dc-racks of each DC (racks_of: no topology is dc1/rack1, a DC without racks has rack1).
  std::vector<std::vector<dc_rack>> dcs;
  for (const dc_rack& r : racks_of(spec)) {
    if (dcs.empty() || dcs.back().front().dc_index != r.dc_index) dcs.emplace_back();
    dcs.back().push_back(r);
  }
  std::vector<std::string> seeds;
  for (const auto& racks : dcs) {
    const int32_t nodes = spec.dcs.empty() ? spec.nodes_per_racks
                                           : nodes_per_racks_of(spec, spec.dcs[racks[0].dc_index]);
    auto add = [&](const dc_rack& r, int ordinal) {
      // The DC's nodesPerRacks bounds the ordinals (types.go:353); v2.1.0 does not bound the
      // 3+ racks case (types.go:359), which lists pods that do not exist when a DC is at 0.
      if (ordinal < nodes) seeds.push_back(pod_name(statefulset_name(cc, r.dc, r.rack), ordinal));
    };
    if (racks.size() == 1) {
      for (int i = 0; i < 3; ++i) add(racks[0], i);
    } else if (racks.size() == 2) {
      add(racks[0], 0);
      add(racks[0], 1);
      add(racks[1], 0);
    } else {
      for (size_t i = 0; i < 3; ++i) add(racks[i], 0);
    }
  }
  return seeds;
}

std::vector<std::string> init_seed_list(const cluster_spec& spec, const std::string& cc,
                                        const std::string& ns) {
  std::vector<std::string> out;
  for (const auto& pod : seed_pods(spec, cc)) out.push_back(pod_fqdn(pod, cc, ns));
  return out;
}

std::vector<std::string> merge_seed_lists(const std::vector<std::string>& old_list,
                                          const std::vector<std::string>& wanted) {
  auto contains = [](const std::vector<std::string>& v, const std::string& s) {
    return std::find(v.begin(), v.end(), s) != v.end();
  };
  std::vector<std::string> out;
  for (const auto& s : old_list)
    if (contains(wanted, s)) out.push_back(s);
  for (const auto& s : wanted)
    if (!contains(old_list, s)) out.push_back(s);
  return out;
}

bool seed_list_change(const cluster_spec& spec, const std::string& cc, const std::string& ns,
                      const std::vector<std::string>& stored, const std::string& dc_rack,
                      cluster_status& status) {
  if (spec.auto_update_seed_list) {
    const std::vector<std::string> wanted = init_seed_list(spec, cc, ns);
    if (wanted != stored) status.seedlist = merge_seed_lists(stored, wanted);
  }
  if (status.seedlist == stored) return false;
  last_action& a = status.racks[dc_rack].cassandra_last_action;
  a.status = status::configuring;
  a.name = action::update_seed_list;
  a.start_time.clear();
  a.end_time.clear();
  return true;
}

bool flip_seed_list_to_do(const cluster_spec& spec, cluster_status& status,
                          const std::set<std::string>& have_seeds) {
  if (status.last_cluster_action != action::update_seed_list ||
      status.last_cluster_action_status != status::configuring)
    return false;
  const std::vector<dc_rack> racks = racks_of(spec);
  // v2.1.0 scans each DC's racks up to the first one not Configuring the seed list: an
  // Initializing one does not hold the flip (nor are that DC's later racks looked at, its
  // `break` leaves the rack loop only); any other action does.
  for (size_t i = 0; i < racks.size(); ++i) {
    auto it = status.racks.find(racks[i].name());
    const last_action* a = it == status.racks.end() ? nullptr : &it->second.cassandra_last_action;
    if (a && a->name == action::update_seed_list && a->status == status::configuring) continue;
    if (have_seeds.count(racks[i].name())) continue;
    if (a && a->name != action::initializing) return false;
    while (i + 1 < racks.size() && racks[i + 1].dc_index == racks[i].dc_index) ++i;
  }
  for (const dc_rack& r : racks) {
    auto it = status.racks.find(r.name());
    if (it == status.racks.end() || it->second.phase == phase::initializing) continue;
    const last_action& a = it->second.cassandra_last_action;
    bool configuring = a.name == action::update_seed_list && a.status == status::configuring;
    if (have_seeds.count(r.name()) && !configuring) continue;  // nothing to roll there
    it->second.cassandra_last_action.name = action::update_seed_list;
    it->second.cassandra_last_action.status = status::to_do;
  }
  return true;
}

}  // namespace casskop
