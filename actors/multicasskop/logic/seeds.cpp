#include "actors/multicasskop/logic/seeds.h"

#include <algorithm>

namespace mc {
namespace js = k8s::json;

namespace {

struct rack {
  std::string name;
  long long nodes;
};

std::string pod_name(const std::string& cc, const std::string& dc, const std::string& rack, long long i) {
  return cc + "-" + dc + "-" + rack + "-" + std::to_string(i);
}

}  // namespace

std::vector<std::string> seeds_of(const std::string& cc_name, const js::Value& spec,
                                  const std::string& dns_domain) {
  // CassKop's defaults: nodesPerRacks 1; no topology means dc1/rack1; a DC without racks
  // has rack1.
  const long long cluster_nodes = js::get_int(spec, {"nodesPerRacks"}, 1);
  std::vector<std::pair<std::string, std::vector<rack>>> dcs;
  const js::Value* dc_list = js::find_path(spec, {"topology", "dc"});
  if (dc_list && dc_list->IsArray() && !dc_list->Empty()) {
    for (const auto& dc : dc_list->GetArray()) {
      std::string dc_name(js::get_string(dc, "name", "dc1"));
      long long nodes = js::get_int(dc, {"nodesPerRacks"}, cluster_nodes);
      std::vector<rack> racks;
      if (const js::Value* rl = js::find(dc, "rack"); rl && rl->IsArray())
        for (const auto& r : rl->GetArray()) racks.push_back({std::string(js::get_string(r, "name", "rack1")), nodes});
      if (racks.empty()) racks.push_back({"rack1", nodes});
      dcs.emplace_back(dc_name, std::move(racks));
    }
  } else {
    dcs.push_back({"dc1", {{"rack1", cluster_nodes}}});
  }
  std::vector<std::string> seeds;
  auto add = [&](const std::string& dc, const rack& r, long long ordinal) {
    if (ordinal < r.nodes) seeds.push_back(pod_name(cc_name, dc, r.name, ordinal) + "." + dns_domain);
  };
  for (const auto& [dc, racks] : dcs) {
    if (racks.size() == 1) {
      for (long long i = 0; i < 3; ++i) add(dc, racks[0], i);
    } else if (racks.size() == 2) {
      add(dc, racks[0], 0);
      add(dc, racks[0], 1);
      add(dc, racks[1], 0);
    } else {
      for (size_t i = 0; i < 3; ++i) add(dc, racks[i], 0);
    }
  }
  return seeds;
}

}  // namespace mc
