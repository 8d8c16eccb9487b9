// The latest pending change per object, as client-go's workqueue keeps it: while the consumer is
// busy, a new version of an object replaces the one waiting instead of queueing behind it, so a
// backlog holds at most one entry per object (not every version a busy cluster writes) and the
// consumer skips versions it would have read only to overwrite. Objects wait in the order they
// first changed. Thread-safe: producers are the watch threads, the consumer one actor.
#pragma once

#include <deque>
#include <mutex>
#include <unordered_map>
#include <utility>
#include <vector>

namespace runtime {

template <class Key, class Value, class Hash = std::hash<Key>>
class coalescing_queue {
 public:
  // True when the queue was empty: the consumer must be woken (once per batch).
  bool put(const Key& key, Value value) {
    std::lock_guard lock(mutex_);
    const bool was_empty = order_.empty();
    auto [it, added] = pending_.try_emplace(key, std::move(value));
    if (added) {
      order_.push_back(key);
    } else {
      it->second = std::move(value);
      ++replaced_;
    }
    return was_empty;
  }

  // Everything waiting, in first-changed order; the queue is empty afterwards.
  std::vector<Value> take_all() {
    std::lock_guard lock(mutex_);
    std::vector<Value> out;
    out.reserve(order_.size());
    for (const auto& k : order_) {
      auto it = pending_.find(k);
      out.push_back(std::move(it->second));
      pending_.erase(it);
    }
    order_.clear();
    return out;
  }

  size_t size() const {
    std::lock_guard lock(mutex_);
    return order_.size();
  }
  // Changes that replaced one still waiting (versions the consumer never had to read).
  uint64_t replaced() const {
    std::lock_guard lock(mutex_);
    return replaced_;
  }

 private:
  mutable std::mutex mutex_;
  std::deque<Key> order_;
  std::unordered_map<Key, Value, Hash> pending_;
  uint64_t replaced_ = 0;
};

}  // namespace runtime
