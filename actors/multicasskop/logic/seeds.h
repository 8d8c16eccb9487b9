// Cassandra seed nodes across regions, by CassKop's rule (InitSeedList): at most 3 per DC.
//   1 rack:      pods 0, 1, 2 of that rack
//   2 racks:     pods 0, 1 of the first rack and pod 0 of the second
//   3+ racks:    pod 0 of each of the first 3 racks
// (never more pods than the rack has). Pods are <cc>-<dc>-<rack>-<ordinal>; a seed is
// "<pod>.<dns domain>", resolvable across regions through the users' external DNS.
#pragma once

#include <string>
#include <vector>

#include "k8s/json/json.h"

namespace mc {

// Seeds of one CassandraCluster spec (topology, nodesPerRacks) named `cc_name`.
std::vector<std::string> seeds_of(const std::string& cc_name, const k8s::json::Value& spec,
                                  const std::string& dns_domain);

}  // namespace mc
