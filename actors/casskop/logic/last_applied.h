// The last-applied annotation (cassandraclusters.db.orange.com/last-applied-configuration): the
// spec CassKop last accepted, against which CheckNonAllowedChanges judges the next one. v2.1.0
// stores ComputeLastAppliedConfiguration (api/v2/cassandracluster_types.go:187): the whole object
// as json.Marshal writes it, without annotations, resourceVersion and status (`"status":{}`),
// written after CheckDefaults (cassandracluster_controller.go:100, cassandra_status.go:45-56).
#pragma once

#include <optional>
#include <string>

#include "actors/casskop/logic/cluster_spec.h"
#include "k8s/json/json.h"

namespace casskop {

// The annotation's value for `object` (a CassandraCluster) whose spec is now `spec`.
std::string compute_last_applied(const k8s::json::Value& object, const cluster_spec& spec);

struct last_applied_read {
  std::optional<cluster_spec> spec;  // absent: no annotation yet (first pass) or unreadable
  std::string error;                 // why an annotation present could not be read
};
// The spec stored in `object`'s annotation, parsed with the same defaults as parse_cluster.
last_applied_read read_last_applied(const k8s::json::Value& object);

}  // namespace casskop
