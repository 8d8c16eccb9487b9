// CheckNonAllowedChanges (controllers/cassandracluster/reconcile.go:115-221 at v2.1.0): which
// changes of a CassandraCluster's spec, against the last-applied one, casskop refuses. A refused
// change is written back to its old value (v2.1.0's CorrectCRDConfig); everything else the user
// changed stays. Pure: what is known of the data in each DC comes in as a parameter.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "actors/casskop/logic/cluster_spec.h"

namespace casskop {

// Stable reason names (Events, conditions, tests).
namespace refusal_reason {
inline constexpr const char* nodes_per_racks_zero = "NodesPerRacksZero";
inline constexpr const char* data_capacity_changed = "DataCapacityChanged";
inline constexpr const char* data_storage_class_changed = "DataStorageClassChanged";
inline constexpr const char* dc_renamed = "DCRenamed";
inline constexpr const char* dc_order_changed = "DCOrderChanged";
inline constexpr const char* rack_renamed = "RackRenamed";
inline constexpr const char* rack_added = "RackAdded";
inline constexpr const char* rack_removed = "RackRemoved";
inline constexpr const char* too_many_dcs_removed = "TooManyDCsRemoved";
inline constexpr const char* dc_removed_with_nodes = "DCRemovedWithNodes";
inline constexpr const char* dc_removed_during_scale_down = "DCRemovedDuringScaleDown";
inline constexpr const char* dc_still_replicated = "DCStillReplicated";
inline constexpr const char* data_check_not_possible = "DataCheckNotPossible";
// Ours: claim templates are immutable, so an existing StatefulSet can never get the new ones
// (v2.1.0 accepted the change and then failed every update of the StatefulSet).
inline constexpr const char* storage_configs_changed = "StorageConfigsChanged";
}  // namespace refusal_reason

// What is known of the data placed in each DC (describeRingJMX on a Running pod of the DC).
struct replication_knowledge {
  bool known = false;                    // false: nobody could ask Cassandra yet
  std::set<std::string> replicated_dcs;  // DCs some keyspace still replicates to
  uint64_t asked = 0;  // sequence number of the ask that gave this answer (0: never asked)
  std::string why;     // when not known: what failed ("" if nobody could be asked)
};

struct change_context {
  replication_knowledge data;
  // status says ScaleDown is not Done (reconcile.go:321): no DC may be removed meanwhile.
  bool scale_down_ongoing = false;
  // The caller can ask the ring again (it has node facts): a DC going to 0 is then decided only
  // on an answer asked after the change was first seen (data.asked > change_seen), never on one
  // that may predate an ALTER KEYSPACE made just before. nullopt: that moment is not recorded
  // yet. Until then the review neither accepts nor refuses: it lists the DC in awaiting_ring.
  bool fresh_data_required = false;
  std::optional<uint64_t> change_seen;
};

struct refusal {
  std::string field;    // JSON path of the value written back, "spec.topology.dc[1].nodesPerRacks"
  std::string reason;   // a refusal_reason name
  std::string message;  // for a user: what was refused, why, what to do
};

struct change_review {
  cluster_spec spec;               // the spec to act on: the new one, refused values restored
  std::vector<refusal> refusals;   // empty: every change accepted
  bool resources_changed = false;  // spec.resources changed: every rack gets UpdateResources/ToDo
  std::optional<std::string> removed_dc;      // a DC removal accepted (ActionDeleteDC)
  std::vector<std::string> removed_dc_racks;  // its dc-rack names, to drop from the status
  // DCs going to 0 whose data check waits for a ring answer asked after the change was seen.
  std::vector<std::string> awaiting_ring;
  bool refused() const { return !refusals.empty(); }
};

// reconcile.go:321's condition, read from the status: the last cluster action is a ScaleDown not
// Done yet.
inline bool scale_down_in_progress(const cluster_status& status) {
  return status.last_cluster_action == action::scale_down &&
         status.last_cluster_action_status != status::done;
}

change_review review_changes(const cluster_spec& last_applied, const cluster_spec& wanted,
                             const change_context& context);

// UpdateResources (reconcile.go:198-217): every dc-rack of `spec` is marked UpdateResources/ToDo
// with startTime `now` and no endTime, so the racks then roll one after the other.
void mark_resources_update(const cluster_spec& spec, cluster_status& status,
                           const std::string& now);

}  // namespace casskop
