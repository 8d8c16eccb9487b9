#include "actors/multicasskop/logic/seeds.h"

#include "actors/casskop/logic/cluster_spec.h"
#include "actors/casskop/logic/seeds.h"

namespace mc {
namespace js = k8s::json;

std::vector<std::string> seeds_of(const std::string& cc_name, const js::Value& spec,
                                  const std::string& dns_domain) {
  // casskop's rule, read with casskop's defaults (nodesPerRacks 1, no topology is dc1/rack1, a
  // DC without racks has rack1). A field of the wrong type falls back to its default here: the
  // region's casskop reports it.
  std::vector<casskop::spec_problem> ignored;
  const casskop::cluster_spec parsed = casskop::parse_spec(spec, ignored);
  std::vector<std::string> seeds;
  for (const auto& pod : casskop::seed_pods(parsed, cc_name))
    seeds.push_back(pod + "." + dns_domain);
  return seeds;
}

}  // namespace mc
