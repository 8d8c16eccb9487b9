// The machinery kubesim's in-process controllers (workloads.cpp, casskop_standin.cpp) share, as
// client-go's controllers share theirs:
// - tasks run one at a time on a strand, each holding `running`: start/stop take it too, so they
//   never overlap a task, and once `stopped` is set no task touches the store again;
// - timers whose task runs only if the timer was not cancelled;
// - watch events forwarded from the store (which calls under its lock) to the strand;
// - a work queue of "ns/name" keys: one sync queued per key at a time, and a failed sync retried
//   with exponential backoff, as a controller requeues.
// Controller derives from controller_base<Controller> and provides
// `void sync(const std::string& ns, const std::string& name)`, level-triggered.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include "tools/kubesim/api_error.h"
#include "tools/kubesim/cluster_state.h"

namespace kubesim {

// "ns/name", an object's key in the work queue.
inline std::string key_of(std::string_view ns, std::string_view name) {
  std::string key(ns);
  key += '/';
  key += name;
  return key;
}

template <class Controller>
struct controller_base : std::enable_shared_from_this<Controller> {
  using task = std::function<void(Controller&)>;
  // Which watch generation a task belongs to: stopping a watch bumps it, so events and tasks
  // already posted for the old one are dropped. nullptr: the task belongs to no generation.
  using epoch_ref = std::atomic<uint64_t> Controller::*;
  using event_handler = void (Controller::*)(const char* type, const snapshot_ptr& obj);

  static constexpr int kMinRetryMs = 100;
  static constexpr int kMaxRetryMs = 5000;

  // `log_name` prefixes error lines; `kind` names what the work queue holds; queued syncs
  // belong to the generation `queue_epoch`.
  controller_base(boost::asio::io_context& io, cluster_state& state, std::string log_name,
                  std::string kind, epoch_ref queue_epoch)
      : io(io),
        state(state),
        strand(boost::asio::make_strand(io)),
        log_name(std::move(log_name)),
        kind(std::move(kind)),
        queue_epoch(queue_epoch) {}

  boost::asio::io_context& io;
  cluster_state& state;
  boost::asio::strand<boost::asio::io_context::executor_type> strand;
  const std::string log_name, kind;
  const epoch_ref queue_epoch;
  std::atomic<bool> stopped{false};

  // Held by every task while it runs, and by the controller's start/stop.
  std::mutex running;
  std::map<uint64_t, std::shared_ptr<boost::asio::steady_timer>> timers;
  uint64_t next_timer = 1;
  std::set<std::string> queued;         // keys awaiting a sync
  std::map<std::string, int> retry_ms;  // backoff of keys whose sync failed

  // Runs `t` on the strand, unless generation `e` has moved on from `epoch` by then.
  void post(epoch_ref e, uint64_t epoch, task t) {
    boost::asio::post(strand, [w = this->weak_from_this(), e, epoch, t = std::move(t)] {
      if (auto self = w.lock())
        self->run([&](Controller& s) {
          if (!e || (s.*e) == epoch) t(s);
        });
    });
  }

  // Runs `t` on the strand after `ms` unless cancelled first: cancelling erases it from `timers`.
  uint64_t after(int ms, task t) {
    auto id = next_timer++;
    auto timer = std::make_shared<boost::asio::steady_timer>(io, std::chrono::milliseconds(ms));
    timers.emplace(id, timer);
    timer->async_wait(boost::asio::bind_executor(
        strand,
        [w = this->weak_from_this(), id, t = std::move(t)](const boost::system::error_code& ec) {
          auto self = w.lock();
          if (!self || ec) return;
          self->run([id, &t](Controller& s) {
            if (s.timers.erase(id)) t(s);
          });
        }));
    return id;
  }

  void cancel_timer(uint64_t& id) {
    if (auto it = timers.find(id); it != timers.end()) {
      it->second->cancel();
      timers.erase(it);
    }
    id = 0;
  }

  void cancel_timers() {
    for (auto& [id, timer] : timers) timer->cancel();
    timers.clear();
  }

  void run(const task& t) {
    std::lock_guard lock(running);
    if (stopped) return;
    try {
      t(self());
    } catch (const std::exception& e) {
      log_error(e.what());
    }
  }

  void log_error(const std::string& what) const {
    std::cerr << "kubesim: " << log_name << ": " << what << "\n";
  }

  // Forwards watch events to the strand: the store calls it under its lock, so it only posts.
  class event_sink : public watch_sink {
   public:
    event_sink(std::weak_ptr<Controller> owner, epoch_ref e, uint64_t epoch, event_handler h)
        : owner_(std::move(owner)), epoch_ref_(e), epoch_(epoch), handler_(h) {}

    bool deliver(const watch_event& e) override {
      auto self = owner_.lock();
      if (!self || self->stopped || (epoch_ref_ && ((*self).*epoch_ref_) != epoch_)) return false;
      if (!e.object) return true;  // bookmark
      self->post(epoch_ref_, epoch_, [type = e.type, obj = e.object, h = handler_](Controller& s) {
        (s.*h)(type, obj);
      });
      return true;
    }

   private:
    std::weak_ptr<Controller> owner_;
    epoch_ref epoch_ref_;
    uint64_t epoch_;
    event_handler handler_;
  };

  // Watches `t` in every namespace; `h` gets each event on the strand while generation `e` is
  // the one current now. With `running` held.
  uint64_t watch(const resource_type& t, event_handler h, epoch_ref e = nullptr) {
    return state.watch(t, {},
                       std::make_shared<event_sink>(this->weak_from_this(), e, epoch_of(e), h));
  }

  // Queues a sync of ns/name unless one is already on its way.
  void enqueue(const std::string& ns, const std::string& name) {
    if (!queued.insert(key_of(ns, name)).second) return;
    post(queue_epoch, epoch_of(queue_epoch), [ns, name](Controller& s) {
      s.queued.erase(key_of(ns, name));
      s.sync_with_retry(ns, name);
    });
  }

  void sync_with_retry(const std::string& ns, const std::string& name) {
    auto key = key_of(ns, name);
    try {
      self().sync(ns, name);
      retry_ms.erase(key);
    } catch (const std::exception& e) {
      // Conflicts and races with other writers (api_errors) are expected: sync again later.
      int& delay = retry_ms[key];
      delay = std::clamp(delay * 2, kMinRetryMs, kMaxRetryMs);
      if (!dynamic_cast<const api_error*>(&e))
        log_error("sync of " + kind + " " + key + ": " + e.what());
      after(delay, [ns, name](Controller& s) { s.enqueue(ns, name); });
    }
  }

  // The object, or nullptr when there is none.
  snapshot_ptr get_or_null(const resource_type& t, const std::string& ns, const std::string& name) {
    try {
      return state.get(t, ns, name);
    } catch (const api_error& e) {
      if (e.code == 404) return nullptr;
      throw;
    }
  }

 private:
  Controller& self() { return static_cast<Controller&>(*this); }
  uint64_t epoch_of(epoch_ref e) { return e ? (self().*e).load() : 0; }
};

}  // namespace kubesim
