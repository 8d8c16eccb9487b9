// The decisions of operator-sdk's "leader for life" lock, as operator-lib v0.9.0's
// leader.Become takes it (leader/leader.go; CassKop v2.1.0 calls leader.Become(ctx,
// "casskop-lock") before it starts, main.go:144-149, with operator-lib v0.9.0 in go.mod). The
// lock is a ConfigMap whose one ownerReference is the leader's Pod: whoever creates it leads
// until that Pod is deleted and the garbage collector deletes the ConfigMap. Nothing renews it.
// Pure: the shell (actors/runtime/leader_for_life_lock.h) reads and writes, this decides.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "k8s/json/json.h"

namespace runtime::leader_for_life {

struct owner_reference {
  std::string api_version, kind, name, uid;
};

// Who we are: the Pod named by POD_NAME, as read from the API server (leader.go:215-228).
struct pod_identity {
  std::string name, uid;
};

// An existing lock as read.
struct lock_state {
  std::vector<owner_reference> owners;
  // Our own mark (lease_annotation): the Lease whose holder holds the lock. A Go CassKop's lock
  // has none.
  std::string lease;
  std::string uid, resource_version;
};
lock_state lock_state_of(const k8s::json::Value& config_map);

// The annotation a lock taken with a Lease carries: among our replicas the Lease decides, so
// the Lease's holder may move such a lock to its own Pod; a lock without it is never moved.
inline constexpr const char* lease_annotation = "casskop.db.orange.com/leader-lease";

enum class verdict {
  lead,             // the lock is ours
  take_over,        // ours by the Lease, owned by a replica that no longer holds the Lease
  check_owner_pod,  // one Pod owns it: its state says whether to wait or remove the lock
  wait,             // held by another: retry later
};

struct decision {
  verdict what = verdict::wait;
  std::string reason;  // for the log and /readyz
  std::string holder;  // the owner Pod's name, when one Pod owns the lock
};

// On an existing lock. `our_lease` is "" without a Lease (the original's environment), else the
// Lease we hold.
// - An owner that is our Pod: we lead (leader.go:118-124: "I was likely restarted"). By name
//   and, unlike leader.go, uid: a new Pod with an old Pod's name does not own the old Pod's
//   lock (the garbage collector deletes it, as its owner is gone).
// - With a Lease, a lock marked with that Lease: take it over (its owner no longer leads).
// - Not exactly one owner, or an owner that is not a Pod: wait (leader.go:160-164).
// - Else check the owner Pod (on_owner_pod).
decision on_lock(const lock_state& lock, const pod_identity& me, const std::string& our_lease);

// A Pod failed with reason Evicted (leader.go:230-234).
bool is_evicted(const k8s::json::Value& pod);

enum class pod_verdict {
  wait,         // the holder lives, or is gone and the garbage collector will remove the lock
  remove_lock,  // the holder was evicted: delete the lock
};
struct owner_pod_decision {
  pod_verdict what = pod_verdict::wait;
  std::string reason;
};

// On the lock's owner Pod, `pod` null when it is not found (leader.go:165-193):
// - not found: the garbage collector will delete the lock, wait;
// - another uid (a new Pod of that name): likewise;
// - evicted and not being deleted: remove the lock. leader.go deletes the evicted Pod instead
//   and lets the garbage collector delete the lock; deleting the lock (with its uid as a
//   precondition) frees it the same way without the right to delete Pods;
// - else: the holder lives, wait.
// (leader.go:182-189 also deletes a holder whose Node is NotReady; that needs Nodes, which are
// cluster-scoped: the original chart's Role does not grant them, so v2.1.0 never does it either.)
owner_pod_decision on_owner_pod(const k8s::json::Value* pod, const owner_reference& owner);

// leader.go:144 and 196-201: the first wait 1 s, doubled after each wait while under 16 s.
inline constexpr std::chrono::milliseconds first_backoff{1000};
inline constexpr std::chrono::milliseconds max_backoff{16000};
std::chrono::milliseconds next_backoff(std::chrono::milliseconds b);
// wait.Jitter(b, 0.2): b plus up to 20 %; `unit` in [0, 1).
std::chrono::milliseconds jittered(std::chrono::milliseconds b, double unit);

// The ConfigMap leader.Become creates (leader.go:135-141): name, namespace and one owner
// reference to our Pod (apiVersion v1, kind Pod, name, uid), no data. With a Lease, marked with
// lease_annotation.
std::string lock_body(const std::string& ns, const std::string& name, const pod_identity& me,
                      const std::string& our_lease);
// `lock` with our Pod as its only owner (its resourceVersion kept: a concurrent change makes
// the update fail).
std::string taken_over_body(const k8s::json::Value& lock, const pod_identity& me);

}  // namespace runtime::leader_for_life
