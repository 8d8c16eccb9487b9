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

}  // namespace casskop
