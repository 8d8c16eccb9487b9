// The resourceVersion-related options of a list or watch request (metav1.ListOptions) as
// kube-apiserver v1.32 defaults and validates them, and what they ask of the store. Pure logic.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace kubesim {

struct list_request {
  bool watch = false;
  std::string resource_version;        // "" | "0" | a number
  std::string resource_version_match;  // "" | Exact | NotOlderThan | anything sent
  std::optional<bool> send_initial_events;
  bool allow_watch_bookmarks = false;
  std::string continue_token;
  long long limit = 0;
};

// SetListOptionsDefaults with the WatchList feature on (beta, default on in v1.32): a watch
// from "" or "0" without sendInitialEvents/resourceVersionMatch becomes a watch-list request.
void default_list_request(list_request& r);

// ValidateListOptions (apimachinery internalversion/validation, v1.32): throws the 422
// Invalid of kind ListOptions.meta.k8s.io with one cause per rule broken.
void validate_list_request(const list_request& r);

// The parsed resourceVersion, nullopt for "" (a bad number is a 400 "invalid resource version").
std::optional<uint64_t> requested_rv(const list_request& r);

// What a list (not a watch) reads, as the cacher and the etcd3 store decide (v1.32):
//  - `exact`: the state at exactly that revision (resourceVersionMatch=Exact, or the legacy
//    rv=N with a limit, which the cacher hands to etcd),
//  - else `min_rv`: the current state, once the cluster is at least that fresh (0: at once).
struct list_read {
  std::optional<uint64_t> exact;
  uint64_t min_rv = 0;
  bool ignore_limit = false;  // rv=0 lists are served whole by the cacher
};
list_read plan_list_read(const list_request& r);

// Whether the watch is a watch-list one: initial state as ADDED events, then (with bookmarks
// allowed) the BOOKMARK annotated k8s.io/initial-events-end.
inline bool sends_initial_events(const list_request& r) {
  return r.send_initial_events.value_or(false);
}

// The 504 the watch cache answers when it is not at `wanted` within 3 s
// (storage.NewTooLargeResourceVersionError with resourceVersionTooHighRetrySeconds = 1).
struct api_error;
api_error too_large_resource_version(uint64_t wanted, uint64_t current);

// How long the watch cache waits for a resourceVersion it has not reached (blockTimeout).
constexpr int freshness_wait_ms = 3000;

}  // namespace kubesim
