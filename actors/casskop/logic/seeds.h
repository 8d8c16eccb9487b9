// Cassandra seed nodes of a CassandraCluster by CassKop v2.1.0's rule (InitSeedList,
// api/v2/cassandracluster_types.go:314-367), at most 3 per DC:
//   1 rack:    pods 0, 1, 2 of that rack
//   2 racks:   pods 0, 1 of the first rack and pod 0 of the second
//   3+ racks:  pod 0 of each of the first 3 racks
// never more pods than the DC's nodesPerRacks. multi-casskop uses the same rule with an external
// DNS domain (actors/multicasskop/logic/seeds.cpp).
#pragma once

#include <set>
#include <string>
#include <vector>

#include "actors/casskop/logic/cluster_spec.h"

namespace casskop {

// The seed pods' names "<cc>-<dc>-<rack>-<n>", DC by DC in spec order.
std::vector<std::string> seed_pods(const cluster_spec& spec, const std::string& cc);
// InitSeedList: "<pod>.<cc>.<ns>", resolvable through the headless Service <cc>.
std::vector<std::string> init_seed_list(const cluster_spec& spec, const std::string& cc,
                                        const std::string& ns);
// autoUpdateSeedList's merge (pkg/k8s/util.go:101 MergeSlice): the old list's order kept, the
// seeds no longer wanted dropped, the new ones appended in their order.
std::vector<std::string> merge_seed_lists(const std::vector<std::string>& old_list,
                                          const std::vector<std::string>& wanted);

// UpdateStatusIfSeedListHasChanged (controllers/cassandracluster/cassandra_status.go:267-299)
// for the dc-rack `dc_rack` whose StatefulSet's bootstrap container has CASSANDRA_SEEDS
// `stored` (split on ','): with autoUpdateSeedList, status.seedlist becomes the merge of `stored`
// and InitSeedList when they differ; then, when status.seedlist differs from `stored`, the rack's
// last action becomes UpdateSeedList/Configuring (times cleared) and true is returned.
bool seed_list_change(const cluster_spec& spec, const std::string& cc, const std::string& ns,
                      const std::vector<std::string>& stored, const std::string& dc_rack,
                      cluster_status& status);

// EnsureSeedListIsUpdatedWhenRequired (controllers/cassandracluster/reconcile.go:660-708): once
// the cluster's last action is UpdateSeedList/Configuring and every rack is Configuring it (or
// still Initializing), every rack not Initializing goes to UpdateSeedList/ToDo, so they roll one
// at a time. Returns whether it flipped. Unlike v2.1.0, racks in `have_seeds` (whose
// StatefulSets already carry status.seedlist, e.g. a DC just added) do not hold the flip: v2.1.0
// only got past them through its bug of rolling a Configuring rack at once (orange#340).
bool flip_seed_list_to_do(const cluster_spec& spec, cluster_status& status,
                          const std::set<std::string>& have_seeds = {});

}  // namespace casskop
