// What the operator keeps of a watched object: its watch caches hold thousands of them, and the
// state machine reads only part of each. Dropped:
// - metadata.managedFields (server-side apply bookkeeping, often the largest part of an object)
//   and kubectl's last-applied-configuration annotation (a whole copy of what was applied);
// - of a CassandraCluster: its spec when it carries our last-applied annotation (three-way
//   updates compare against that record of our own write, never against the live spec, which is
//   only read when the record is missing, and is then kept); CassKop's last-applied-configuration
//   annotation (a whole copy of the spec), replaced by what the state machine needs of it: whether
//   CassKop has reconciled the spec the object has now; status fields other than the ones read;
// - of a MultiCasskop whose spec is over the size limit: the spec, but deleteCassandraCluster;
// - of a MultiCasskop's status (ours): all but what a restart restores from it (conditions'
//   type, status and lastTransitionTime; each region's name, phase, reason, writtenGeneration,
//   awaitingReady), and a digest of the whole status, to tell whether it is the one we would
//   write.
// What trimming derives is kept under the top-level member `derived_member`, so the journal and a
// replay see exactly what the state machine saw.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "actors/multicasskop/logic/text_digest.h"
#include "messages/multicasskop/events.h"

namespace mc {

enum class watched_kind { multicasskop, cassandracluster };

inline constexpr const char* derived_member = "multicasskop.derived";
// CassKop (v2.1.0 and the cscetbon fork) records the object it last reconciled here, with every
// status update it writes.
inline constexpr const char* casskop_last_applied =
    "cassandraclusters.db.orange.com/last-applied-configuration";

struct cache_limits {
  int64_t max_multicasskop_spec_bytes = 64 * 1024;
};

// The object to cache: `obj` itself when there is nothing to drop, else a compact copy without
// those parts.
object_ptr trim_for_cache(const object_ptr& obj, watched_kind kind,
                          const cache_limits& limits = {});

// Of a trimmed CassandraCluster: whether CassKop's record says it reconciled the current spec;
// nullopt when CassKop keeps no record (another CassKop, or not reconciled once yet).
std::optional<bool> casskop_reconciled_spec(const k8s::json::Value& cc);
// Of a trimmed CassandraCluster: the fields CassKop refuses changes of (CorrectCRDConfig:
// nodesPerRacks, dataCapacity, dataStorageClass, the topology's DC and rack names and their
// nodesPerRacks and storage) whose value differs from the one our last write set, each as
// "spec.dataCapacity: 2Gi written, 1Gi found"; empty when none (or no record of ours). Computed
// when the object is cached, the only time its spec is at hand (see trim_for_cache).
std::vector<std::string> fields_changed_since_our_write(const k8s::json::Value& cc);
// The same comparison, of our record's spec and the object's (for trimming and tests).
std::vector<std::string> refusable_fields_differing(const k8s::json::Value& ours,
                                                    const k8s::json::Value& found);
// Of a MultiCasskop (trimmed or not): the digest of its status's canonical text (members sorted:
// k8s::json::canonical_text); empty without a status.
text_digest status_digest(const k8s::json::Value& mcc);
// Of a trimmed MultiCasskop: the size of a spec dropped for being over the limit, else 0.
int64_t dropped_spec_bytes(const k8s::json::Value& mcc);

}  // namespace mc
