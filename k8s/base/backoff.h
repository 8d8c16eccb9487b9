// Exponential backoff with jitter, as client-go and kube-rs use for watches: 0.8 s doubling up
// to 30 s, reset once the connection has been healthy for 2 minutes.
#pragma once

#include <chrono>
#include <cstdint>
#include <random>

namespace k8s {

struct backoff_policy {
  std::chrono::milliseconds initial{800};
  std::chrono::milliseconds max{30000};
  double factor = 2.0;
  double jitter = 1.0;  // delay is d * (1 + jitter * U[0,1)), capped at max
  std::chrono::milliseconds reset_after{120000};
};

class backoff {
 public:
  explicit backoff(backoff_policy p = {}, uint64_t seed = std::random_device{}());
  // The delay before the next attempt; grows with each failure.
  std::chrono::milliseconds next_delay();
  // Call when a connection started working at `now`; failures after `reset_after` of
  // uninterrupted health start again from `initial`. Calls while already healthy (since the last
  // failure) keep the earlier time.
  void healthy_since(std::chrono::steady_clock::time_point since);
  void on_failure(std::chrono::steady_clock::time_point now);
  void reset();
  int attempts() const { return attempts_; }

 private:
  backoff_policy p_;
  std::mt19937_64 rng_;
  std::chrono::milliseconds current_{0};
  int attempts_ = 0;
  std::chrono::steady_clock::time_point healthy_since_{};
  bool healthy_ = false;
};

}  // namespace k8s
