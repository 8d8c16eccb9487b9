// The consumer's picture of one resource, fed by list_watch changes (kube-rs' reflector
// store). A relist is buffered and swapped in at init_done, so objects deleted while we were
// disconnected are noticed and reported as removed.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "k8s/watch/list_watch.h"

namespace k8s {

// What changed in the picture by one watch_change.
struct store_delta {
  std::vector<object_ptr> upserted;  // new, or with a different resourceVersion than before
  std::vector<object_ptr> removed;   // the last state we knew
};

class object_store {
 public:
  using key = std::pair<std::string, std::string>;  // namespace, name

  store_delta apply(const watch_change& c);

  object_ptr get(const std::string& ns, const std::string& name) const;
  std::vector<object_ptr> list() const;
  size_t size() const { return objects_.size(); }
  // The heap the held objects take (json::allocated_bytes of each), for memory accounting.
  size_t bytes() const { return bytes_; }
  bool ready() const { return ready_; }  // true after the first complete list
  // Events that carried an older or equal resourceVersion than the object we hold: they
  // would have been applied twice. A correct list-watch keeps this at zero.
  uint64_t stale_events() const { return stale_events_; }

  static key key_of(const json::Value& obj);
  static unsigned long long rv_of(const json::Value& obj);

 private:
  std::map<key, object_ptr> objects_;
  std::map<key, object_ptr> relisting_;
  bool in_relist_ = false;
  bool ready_ = false;
  uint64_t stale_events_ = 0;
  size_t bytes_ = 0;
};

}  // namespace k8s
