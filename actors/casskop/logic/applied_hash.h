// Whether a stored object must be written: the generated object compared with what was
// last applied, not with the live object (which carries the API server's defaults: a direct
// comparison would see a difference on every pass, and writing would change nothing).
//
// Design. Every object casskop writes carries `casskop.db.orange.com/applied-hash`: a hash of
// the generated object in a canonical form (keys sorted, zero values dropped, our annotations,
// owner references and status left out). A write is needed when the hash of what we generate
// now differs from the stored one. Pure, cheap, and independent of server defaulting.
//
// Takeover. CassKop v2.1.0 stamps `banzaicloud.com/last-applied` instead (generator.go:403,
// k8s-objectmatcher v1.3.3 SetLastAppliedAnnotation): base64 of the JSON of the StatefulSet it
// generated, with nulls and zero values (false, 0, "") removed, before its owner reference was
// added. When there is no hash of ours, that annotation is decoded and compared with what we
// generate, in the same canonical form, with three fields taken from the live object because
// v2.1.0 changed them after stamping (statefulset.go:216-258): the template labels (it copies
// the stored ones; they are compared as the live ones on both sides, since an update keeps
// them), the bootstrap container's CASSANDRA_SEEDS (it keeps the stored seeds) and replicas (it
// clips a scale to one step, so a scale under way is seen as one). Quantities compare by value
// ("0.5Gi" = "512Mi"), as Go re-encodes them. Equal: no write, the object stays exactly as v2.1.0
// left it.
//
// Limit: like any last-applied scheme, a hand edit of the live object that leaves the annotation
// alone goes unnoticed until the spec changes (v2.1.0's three-way patch would have reverted it).
#pragma once

#include <string>

#include "k8s/json/json.h"

namespace casskop {

inline constexpr const char* applied_hash_annotation = "casskop.db.orange.com/applied-hash";
inline constexpr const char* banzaicloud_last_applied = "banzaicloud.com/last-applied";

// The hash of `generated` (16 hex digits), whatever annotations it already has.
std::string applied_hash(const k8s::json::Value& generated);
// Sets metadata.annotations[applied_hash_annotation] on `generated`.
void stamp_applied_hash(k8s::json::Value& generated, k8s::json::Allocator& a);

struct write_check {
  bool needed = true;
  std::string
      reason;  // for the log: "no annotation", "hash differs", "v2.1.0 last-applied differs"
};
// `generated` as statefulset() returns it (replicas as they are to be written), before
// keep_immutable_from_stored; `stored` as read from the API server. The write path is:
//   obj = statefulset(...); if (needs_write(stored, obj).needed) { stamp_applied_hash(obj);
//   keep_immutable_from_stored(obj, stored, extra_labels); update(obj); }
// so the stamp is the hash of what was generated, not of what the stored object contributed.
write_check needs_write(const k8s::json::Value& stored, const k8s::json::Value& generated);

// The canonical form both sides are compared in (exposed for tests and diagnostics).
k8s::json::Document canonical(const k8s::json::Value& object);
// Deep equality of two canonical forms; ResourceList quantities by value.
bool canonical_equal(const k8s::json::Value& a, const k8s::json::Value& b);

}  // namespace casskop
