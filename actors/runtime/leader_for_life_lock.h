// Taking a "leader for life" ConfigMap lock as operator-lib v0.9.0's leader.Become does (the
// decisions are logic/leader_for_life.h): read our own Pod (POD_NAME), check for a lock we
// already own (a restart), then create the lock with our Pod as its owner until it succeeds,
// retrying with leader.Become's backoff (1 s doubling to 16 s, +20 % jitter) while another Pod
// holds it; a lock whose holder was evicted is removed. Once taken it is held for the life of the
// Pod: nothing renews it and nothing here deletes it (the garbage collector does, with the Pod).
// Asynchronous on the client's callbacks and the timer service, like k8s::leader_elector.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "k8s/api/client.h"
#include "k8s/base/timer_service.h"

namespace runtime {

struct leader_for_life_options {
  std::string lock_namespace;
  std::string lock_name;  // casskop-lock
  std::string pod_name;   // POD_NAME: the lock's owner, read in lock_namespace
  // With a Lease: its name, marked on the lock (the Lease holder may take such a lock over);
  // "" without.
  std::string lease;
};

class leader_for_life_lock : public std::enable_shared_from_this<leader_for_life_lock> {
 public:
  // Runs once, on a client or timer thread, when the lock is ours.
  using acquired_fn = std::function<void()>;

  static std::shared_ptr<leader_for_life_lock> create(std::shared_ptr<k8s::client> c,
                                                      std::shared_ptr<k8s::timer_service> timers,
                                                      leader_for_life_options o,
                                                      acquired_fn on_acquired);
  leader_for_life_lock(std::shared_ptr<k8s::client> c, std::shared_ptr<k8s::timer_service> timers,
                       leader_for_life_options o, acquired_fn on_acquired);
  ~leader_for_life_lock();

  void start();  // no-op when started
  // Nothing is sent and no callback runs after this returns (a running one is waited for; it
  // may be called from the callback). The lock is left as it is.
  void stop();

  bool held() const;
  // Why we do not hold it yet, for /readyz ("" once held).
  std::string waiting_reason() const;

 private:
  void read_self();
  void first_look();
  void try_create();
  void read_lock();
  void read_owner_pod(const std::string& owner_name, const std::string& owner_uid,
                      const std::string& lock_uid);
  void remove_lock(const std::string& lock_uid);
  void take_over(k8s::object_ptr lock);
  void acquired(const char* how);
  // Logs `reason` (naming the holder) and tries to create again after the backoff.
  void wait(const std::string& reason, const std::string& holder);
  void retry_after(std::chrono::milliseconds delay);
  // A callback for the client that runs `f` under the mutex unless stopped since.
  template <class T, class F>
  k8s::callback<T> guarded(F f);

  std::shared_ptr<k8s::client> client_;
  std::shared_ptr<k8s::timer_service> timers_;
  leader_for_life_options options_;
  acquired_fn on_acquired_;

  mutable std::recursive_mutex mutex_;
  bool started_ = false, stopped_ = false, held_ = false;
  uint64_t generation_ = 0;
  std::string me_uid_;
  std::string reason_ = "taking the leader lock";
  std::chrono::milliseconds backoff_;
  k8s::timer_service::cancel_flag timer_;
};

}  // namespace runtime
