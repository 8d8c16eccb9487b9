// The decisions of the StatefulSet controller, free of I/O so they can be unit tested: which
// pod to create or delete next, revision names, status, and the pods and PVCs it creates.
// It follows the real controller's sync (pkg/controller/statefulset/stateful_set_control.go):
// create missing pods in ordinal order, then delete condemned pods from the highest ordinal,
// then roll one outdated pod at a time from the highest ordinal down to the partition.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "k8s/json/json.h"

namespace kubesim::sts {

// What the controller reads from a StatefulSet.
struct set_spec {
  std::string name;
  std::string ns;
  std::string uid;
  long long generation = 0;
  int replicas = 1;
  int start_ordinal = 0;       // spec.ordinals.start
  bool parallel = false;       // podManagementPolicy Parallel (else OrderedReady)
  bool on_delete = false;      // updateStrategy OnDelete (else RollingUpdate)
  int partition = 0;           // rollingUpdate.partition, relative to start_ordinal
  bool delete_claims = false;  // persistentVolumeClaimRetentionPolicy.whenDeleted Delete
  std::string service_name;
  std::vector<std::string> claim_templates;  // volumeClaimTemplates[].metadata.name
};
set_spec read_spec(const k8s::json::Value& sts);

// What the controller reads from one of its pods.
struct pod_state {
  int ordinal = 0;
  std::string revision;  // label controller-revision-hash
  bool running_ready = false;
  bool terminating = false;  // has a deletionTimestamp
  bool finished = false;     // phase Failed or Succeeded: replaced by a new pod
};
pod_state read_pod(const k8s::json::Value& pod, int ordinal);

std::string pod_name(std::string_view set, int ordinal);
std::string claim_name(std::string_view claim_template, std::string_view set, int ordinal);
// The ordinal of a pod named "<set>-<n>", nullopt for any other name.
std::optional<int> ordinal_of(std::string_view set, std::string_view pod);
// "<name>" from "<name>-<digits>": the StatefulSet a pod name would belong to.
std::optional<std::string> parent_of(std::string_view pod);

// Hex of an FNV-1a digest of `data`, `length` characters (up to 64).
std::string stable_hex(std::string_view data, size_t length);
// "<set>-<hash>": the revision name of a pod template (like a ControllerRevision's name).
std::string revision_name(std::string_view set, const k8s::json::Value& pod_template);

struct revisions {
  std::string current;
  std::string update;
};
// The revision a new pod with this ordinal gets: below the partition it keeps the current one.
const std::string& revision_for(const set_spec& s, const revisions& r, int ordinal);

enum class step_kind { create, remove };
struct step {
  step_kind kind;
  int ordinal;
  std::string revision;  // create: the revision (template) of the new pod
  bool operator==(const step& o) const {
    return kind == o.kind && ordinal == o.ordinal && revision == o.revision;
  }
};
// The writes of one sync given the pods that exist now. Empty: nothing to do, or waiting for a
// pod to become Running and Ready (or to go away).
std::vector<step> plan(const set_spec& s, const std::vector<pod_state>& pods, const revisions& r);

struct set_status {
  long long observed_generation = 0;
  int replicas = 0;  // pods that exist
  int ready = 0;
  int current = 0;  // pods at current_revision
  int updated = 0;  // pods at update_revision
  int available = 0;
  std::string current_revision;
  std::string update_revision;
  int collision_count = 0;
};
set_status compute_status(const set_spec& s, const std::vector<pod_state>& pods,
                          const revisions& r);
// status as the real controller serializes it (zero counts omitted, as Go's omitempty does);
// conditions of `old_status` are kept.
k8s::json::Document status_json(const set_status& st, const k8s::json::Value* old_status);

// The pod of `ordinal` built from `pod_template` (the template of `revision`).
k8s::json::Document build_pod(const k8s::json::Value& sts, const k8s::json::Value& pod_template,
                              int ordinal, const std::string& revision);
// {apiVersion apps/v1, kind StatefulSet, name, uid, controller, blockOwnerDeletion}.
k8s::json::Value owner_reference(const k8s::json::Value& sts, k8s::json::Allocator& a);
// The PVC of `ordinal` for one volumeClaimTemplates entry; `volume_name` is its bound PV.
k8s::json::Document build_claim(const k8s::json::Value& sts, const k8s::json::Value& claim_template,
                                int ordinal, const std::string& volume_name);
// The status of a PVC bound to a volume of exactly the requested size.
k8s::json::Document bound_claim_status(const k8s::json::Value& claim);

// metav1.LabelSelector (matchLabels, matchExpressions) against metadata.labels (may be null).
bool selector_matches(const k8s::json::Value& selector, const k8s::json::Value* labels);

}  // namespace kubesim::sts
