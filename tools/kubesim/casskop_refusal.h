// CassKop v2.1.0's CheckNonAllowedChanges, for kubesim's CassKop stand-in: the changes of a
// CassandraCluster's spec the original refuses, and the spec it writes back instead
// (controllers/cassandracluster/reconcile.go:115-220 and CheckTopologyChanges :268-345, getters
// in api/v2/cassandracluster_types.go:458-491, at v2.1.0-release). An independent model of the
// original, written from its source: it shares nothing with our casskop (actors/casskop/).
//
// Refused, in the original's order (the first group restores field by field and stops there):
// - spec.nodesPerRacks 0 (the old value written back);
// - a DC's effective dataCapacity or dataStorageClass changed (the DC's own, else the cluster's;
//   the storage class read through the original's bug: the DC's own only when the DC sets a
//   dataCapacity): the cluster's value and that DC's written back;
// then the topology, restored whole when refused:
// - a DC or rack renamed, a rack added to or removed from a DC that stays (the r3labs/diff
//   pairing the original uses: list elements equal to one of the other list are left out, the
//   rest are compared by index);
// - more than one DC removed at once;
// - a DC removed while a ScaleDown is not Done, or while the old spec gives it nodes.
// Not modelled: CheckNonAllowedScaleDown (Jolokia's keyspace check), and the removal of a DC
// at 0 nodes (ActionDeleteDC) is let through as any allowed change. A DC added after the last
// one with a dataCapacity of its own differing from the cluster's old one makes v2.1.0 panic
// (index out of range in oldCRD.Spec.Topology.DC[dc]); here it is refused like the others.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "k8s/json/json.h"

namespace kubesim::casskop {

inline constexpr const char* kCorrectCRDConfig = "CorrectCRDConfig";

struct refusal {
  k8s::json::Document spec;          // the spec with the refused changes undone
  std::vector<std::string> reasons;  // the original's warnings, one per refused change
};

// `old_spec` is the spec of CassKop's last-applied record, `spec` the one read (its defaults
// applied), `status` the object's status (for the ScaleDown check). nullopt: allowed.
std::optional<refusal> check_non_allowed_changes(const k8s::json::Value& old_spec,
                                                 const k8s::json::Value& spec,
                                                 const k8s::json::Value& status);

}  // namespace kubesim::casskop
