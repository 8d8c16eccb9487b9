// Leader election on a coordination.k8s.io/v1 Lease, as client-go's leaderelection does it, so
// only one replica of the operator writes at a time. Candidates poll the Lease every retry
// period and take it over once it has expired; a Lease is judged expired by this process's own
// clock, leaseDurationSeconds after the moment we last saw the record change (never by comparing
// its renewTime with our clock, which may be skewed). The leader renews every retry period and
// stops leading at once if no renewal succeeded within the renew deadline, which is shorter than
// the lease duration: it has stopped before anyone else may take over.
// Everything is asynchronous on the client's callbacks and the timer service; nothing blocks.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "k8s/api/client.h"
#include "k8s/base/timer_service.h"

namespace k8s {

extern const resource leases;  // coordination.k8s.io/v1 Lease

struct leader_election_options {
  std::string lease_namespace;
  std::string lease_name;
  std::string identity;                             // default_identity() when empty
  std::chrono::milliseconds lease_duration{15000};  // written as whole seconds (rounded up)
  std::chrono::milliseconds renew_deadline{10000};
  std::chrono::milliseconds retry_period{2000};
};

// POD_NAME when set, else "<hostname>_<pid>".
std::string default_identity();

// The Lease's spec as client-go's LeaderElectionRecord sees it.
struct lease_record {
  std::string holder_identity;
  int64_t lease_duration_seconds = 0;
  std::string acquire_time;  // MicroTime, RFC 3339 with microseconds
  std::string renew_time;
  int64_t lease_transitions = 0;
  bool operator==(const lease_record& o) const;
  bool operator!=(const lease_record& o) const { return !(*this == o); }
};
lease_record lease_record_of(const json::Value& lease);

class leader_elector : public std::enable_shared_from_this<leader_elector> {
 public:
  struct callbacks {
    std::function<void()> on_started_leading;
    // Leadership ended while running: a renewal missed the deadline, another holder was seen, or
    // release() gave it up. Stop writing at once. Not called for stop().
    std::function<void()> on_stopped_leading;
    // Optional: every change of holder seen on the Lease ("" when released).
    std::function<void(const std::string& holder)> on_new_leader;
  };

  // Throws std::invalid_argument unless lease_duration > renew_deadline > 1.2 * retry_period
  // (client-go's rule) and the namespace and name are set.
  static std::shared_ptr<leader_elector> create(std::shared_ptr<client> c,
                                                std::shared_ptr<timer_service> timers,
                                                leader_election_options o, callbacks cb);
  ~leader_elector();

  void start();  // begins campaigning; no-op when already started
  // Stops everything: no request is sent and no callback runs after this returns. A request
  // already in flight may still reach the server (its answer is ignored); a callback running on
  // another thread is waited for; stop() may be called from a callback. The Lease is left as it
  // is, as after a crash: call release() first for a fast hand-over.
  void stop();
  // Ends the campaign and, if we hold the Lease, clears holderIdentity (leaseDurationSeconds 1)
  // so another candidate takes over at its next retry. `done(true)` once the Lease was written,
  // `done(false)` if we did not hold it or the write failed. Stops leading at once
  // (on_stopped_leading runs first). The elector never campaigns again (start() is a no-op);
  // wait for `done` before stop(), which would suppress it. `done` may run before this returns.
  void release(std::function<void(bool released)> done = nullptr);

  // Thread-safe and lock-free: true between on_started_leading and on_stopped_leading, and never
  // past the renew deadline even if the timer thread is late.
  bool is_leader() const;
  const std::string& identity() const { return options_.identity; }
  std::string current_holder() const;  // as last seen on the Lease

  leader_elector(std::shared_ptr<client> c, std::shared_ptr<timer_service> timers,
                 leader_election_options o, callbacks cb);

 private:
  using steady = std::chrono::steady_clock;
  enum class phase { idle, campaigning, releasing, released, stopped };

  // All called with mutex_ held.
  void attempt();
  void schedule_attempt(std::chrono::milliseconds delay);
  void on_get(uint64_t gen, result<object_ptr> r);
  void write(const lease_record& rec, bool create, std::function<void(result<object_ptr>)> then);
  void on_written(uint64_t gen, steady::time_point sent, const lease_record& rec,
                  result<object_ptr> r);
  void do_release();
  void observe(const lease_record& rec);
  void stop_leading(const char* why);
  void arm_deadline();
  void finish_release(bool ok);

  std::shared_ptr<client> client_;
  std::shared_ptr<timer_service> timers_;
  leader_election_options options_;
  callbacks cb_;
  int64_t lease_seconds_;

  mutable std::recursive_mutex mutex_;  // recursive: callbacks may call stop() or release()
  phase phase_ = phase::idle;
  uint64_t generation_ = 0;  // bumped by stop(): late answers and timers are ignored
  bool in_flight_ = false;
  bool release_pending_ = false;
  std::function<void(bool)> release_done_;
  object_ptr lease_;  // the Lease as last read or written: the base of our updates
  lease_record observed_;
  steady::time_point observed_at_{};
  timer_service::cancel_flag retry_timer_;
  timer_service::cancel_flag deadline_timer_;

  std::atomic<bool> leading_{false};
  std::atomic<int64_t> deadline_ns_{0};  // steady clock; leading ends here without a renewal
};

}  // namespace k8s
