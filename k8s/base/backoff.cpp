#include "k8s/base/backoff.h"

#include <algorithm>

namespace k8s {

backoff::backoff(backoff_policy p, uint64_t seed) : p_(p), rng_(seed) {}

std::chrono::milliseconds backoff::next_delay() {
  current_ = attempts_ == 0 ? p_.initial
                            : std::min(p_.max, std::chrono::milliseconds(static_cast<long long>(
                                                   static_cast<double>(current_.count()) * p_.factor)));
  ++attempts_;
  double u = std::uniform_real_distribution<double>(0.0, 1.0)(rng_);
  auto jittered = std::chrono::milliseconds(
      static_cast<long long>(static_cast<double>(current_.count()) * (1.0 + p_.jitter * u)));
  return std::min(p_.max, jittered);
}

void backoff::healthy_since(std::chrono::steady_clock::time_point since) {
  // Health lasts from the first success after a failure: later successes (every re-watch) must
  // not restart the clock, or a connection reopened more often than reset_after never resets.
  if (healthy_) return;
  healthy_ = true;
  healthy_since_ = since;
}

void backoff::on_failure(std::chrono::steady_clock::time_point now) {
  if (healthy_ && now - healthy_since_ >= p_.reset_after) reset();
  healthy_ = false;
}

void backoff::reset() {
  attempts_ = 0;
  current_ = std::chrono::milliseconds(0);
}

}  // namespace k8s
