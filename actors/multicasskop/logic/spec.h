// What a MultiCasskop asks for, read from its object: the base CassandraCluster, the
// per-region overrides, and how seeds are chosen. Pure functions, no I/O.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "messages/multicasskop/events.h"

namespace mc {

// Annotations multi-casskop puts on the CassandraClusters it manages.
inline constexpr const char* owner_annotation = "multicasskop.db.orange.com/owner";
inline constexpr const char* last_applied_annotation = "multicasskop.db.orange.com/last-applied";
// The original operator's finalizer: objects it created keep working with us.
inline constexpr const char* finalizer = "kubernetes.io/multi-casskop";
// On a MultiCasskop: take over the CassandraClusters of its name that carry no owner yet (those
// the original Multi-CassKop created), without changing their spec.
inline constexpr const char* adopt_annotation = "multicasskop.db.orange.com/adopt";
// What a real API server allows in the annotations of one object (keys and values together).
inline constexpr size_t max_annotation_bytes = 256 * 1024;

struct spec_problem {
  std::string reason;  // InvalidBase, InvalidOverride, InvalidSpec, TooLarge, UnknownRegion
  std::string message;
};

// A part of a parsed MultiCasskop: into the object it was read from (sharing its ownership), or a
// copy of its own.
using spec_part = std::shared_ptr<const k8s::json::Value>;

struct parsed_spec {
  bool delete_cassandraclusters = true;        // the CRD's default, as the original documents
  spec_part base;                              // the base CassandraCluster (null when invalid)
  std::map<std::string, spec_part> overrides;  // region (cluster name) -> fragment
  std::string cc_name;
  std::string cc_namespace;
  std::vector<std::string> given_seedlist;  // base.status.seedlist, used unchanged
  std::string seed_domain;                  // spec.seeds.dnsDomain
  bool adopt = false;                       // the adopt annotation is "true"
  std::vector<spec_problem> problems;
  // The object base and overrides point into (null when they are copies): held as long as the
  // spec, so a newer copy of the same spec should take its place (share_parts_of).
  object_ptr source;
  bool base_valid() const { return base != nullptr; }
};

parsed_spec parse_multicasskop(const k8s::json::Value& object);
// The same, with base and overrides pointing into `object` instead of copied out of it.
parsed_spec parse_multicasskop(const object_ptr& object);
// `object` carries the same spec as the one `spec` was read from: its parts now point into
// `object`, so the older object (the watch cache has dropped) is not held for them.
void share_parts_of(parsed_spec& spec, const object_ptr& object);

// Problems that depend on the configured clusters: override keys naming no cluster. Keys in
// `detached` (regions a reload removed, reported as Detached) are not unknown.
std::vector<spec_problem> unknown_regions(const parsed_spec& spec,
                                          const std::vector<std::string>& clusters,
                                          const std::set<std::string>& detached = {});

// The CassandraCluster for one region: base with the region's override applied as an RFC 7386
// merge patch, our owner annotation, no status (the seed list is written separately).
k8s::json::Document desired_cassandracluster(const parsed_spec& spec, const std::string& region,
                                             const mc_key& owner);

// The part of a CassandraCluster multi-casskop manages: labels, annotations (but ours), spec.
k8s::json::Document managed_part(const k8s::json::Value& cassandracluster);

// The merge patch bringing `observed` to `desired`, or "" when nothing is to change. Only what
// changed in the MultiCasskop since our last write (kept in an annotation) is written: fields
// CassKop defaults or resets in the spec are not fought over. Without that annotation (a
// CassandraCluster we adopt) only our annotations are written: the record of what we would
// have written and the owner, so the spec changes only when the MultiCasskop does (taking over
// from the original Multi-CassKop restarts nothing). The patch carries the observed
// resourceVersion, so a concurrent change makes it fail with a conflict.
std::string update_patch(const k8s::json::Value& observed, const k8s::json::Value& desired);

// Bytes of metadata.annotations as the API server counts them (keys plus values).
size_t annotation_bytes(const k8s::json::Value& object);

// Whether a patch from update_patch changes the spec (CassKop will act) or only metadata.
bool patch_changes_spec(const std::string& patch);

bool managed_by(const k8s::json::Value& cassandracluster, const mc_key& owner);
std::string owner_of(const k8s::json::Value& cassandracluster);

}  // namespace mc
