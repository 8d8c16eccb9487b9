// Delayed callbacks for the k8s layer (backoff, retries): one thread, cancellable timers.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>

namespace k8s {

class timer_service {
 public:
  timer_service();
  // Cancels what is pending and joins the thread; run by one of its own callbacks (whose capture
  // held the last owner), it lets the thread finish on its own instead of joining itself.
  ~timer_service();
  timer_service(const timer_service&) = delete;
  timer_service& operator=(const timer_service&) = delete;

  using cancel_flag = std::shared_ptr<std::atomic<bool>>;
  // Runs `fn` on the timer thread after `delay` unless the returned flag is set first.
  cancel_flag after(std::chrono::milliseconds delay, std::function<void()> fn);

  struct impl;

 private:
  std::shared_ptr<impl> impl_;  // shared with the thread, which may outlive this object
};

}  // namespace k8s
