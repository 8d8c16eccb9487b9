// The StatefulSet `<cc>-<dc>-<rack>` of one dc-rack, as CassKop v2.1.0 generates it
// (generator.go:301 generateCassandraStatefulSet, deploy_cassandra.go:91): serviceName <cc>,
// replicas = the DC's nodesPerRacks, RollingUpdate with partition = the rack's
// rollingPartition, the pod template of pod_template.h, claims `data` (when the DC has a data
// capacity) and the storageConfigs', owned by the CassandraCluster.
#pragma once

#include <vector>

#include "actors/casskop/logic/cluster_spec.h"
#include "actors/casskop/logic/pod_template.h"
#include "k8s/json/json.h"

namespace casskop {

struct generated_object {
  k8s::json::Document object;
  std::vector<spec_problem> problems;  // when not empty, `object` must not be written
};

// The owner reference v2.1.0 puts on everything (pkg/k8s/util.go:133 AsOwner): apiVersion
// db.orange.com/v2, kind CassandraCluster, name, uid, controller true (no blockOwnerDeletion).
k8s::json::Value owner_reference(const parsed_cluster& cc, k8s::json::Allocator& a);

// The replicas of a dc-rack: the DC's nodesPerRacks, else the cluster's.
int32_t replicas_of(const cluster_spec& spec, const dc_rack& rack);
int32_t rolling_partition_of(const cluster_spec& spec, const dc_rack& rack);

// The replicas to write when the stored StatefulSet has `stored`: one step towards `desired`
// at a time (statefulset.go:245), so nodes join (or leave) one by one.
int32_t next_replicas(int32_t stored, int32_t desired);

generated_object statefulset(const parsed_cluster& cc, const dc_rack& rack,
                             const generation_inputs& in);

// What an update must keep from the stored StatefulSet: the API server refuses a change of the
// selector, serviceName, podManagementPolicy or volumeClaimTemplates, and v2.1.0 keeps the stored
// template labels (statefulset.go:218), so pods are never relabelled and the selector always
// matches them (a label added to or removed from the CassandraCluster changes nothing).
// `extra_template_labels` (rolling-restart=<time> when a restart starts) go over the stored
// ones, as statefulset.go:262 does. Writes into `generated`, in place.
void keep_immutable_from_stored(k8s::json::Value& generated, const k8s::json::Value& stored,
                                const label_map& extra_template_labels, k8s::json::Allocator& a);

}  // namespace casskop
