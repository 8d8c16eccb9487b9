#include "k8s/watch/object_store.h"

#include <cstdlib>

namespace k8s {

object_store::key object_store::key_of(const json::Value& obj) {
  return {std::string(json::get_string(obj, {"metadata", "namespace"})),
          std::string(json::get_string(obj, {"metadata", "name"}))};
}

unsigned long long object_store::rv_of(const json::Value& obj) {
  auto rv = json::get_string(obj, {"metadata", "resourceVersion"});
  return std::strtoull(std::string(rv).c_str(), nullptr, 10);
}

store_delta object_store::apply(const watch_change& c) {
  store_delta d;
  switch (c.what) {
    case watch_change::kind::init_started:
      in_relist_ = true;
      relisting_.clear();
      break;
    case watch_change::kind::init_object:
      if (in_relist_ && c.object) relisting_[key_of(*c.object)] = c.object;
      break;
    case watch_change::kind::init_done:
      for (const auto& [k, obj] : objects_)
        if (!relisting_.count(k)) d.removed.push_back(obj);
      for (const auto& [k, obj] : relisting_) {
        auto it = objects_.find(k);
        if (it == objects_.end() || rv_of(*it->second) != rv_of(*obj)) d.upserted.push_back(obj);
      }
      objects_ = std::move(relisting_);
      relisting_.clear();
      bytes_ = 0;
      for (const auto& [k, obj] : objects_) bytes_ += json::allocated_bytes(*obj);
      in_relist_ = false;
      ready_ = true;
      break;
    case watch_change::kind::applied: {
      if (!c.object) break;
      auto k = key_of(*c.object);
      // One search of the map per event (it is on every watch event's path).
      auto it = objects_.lower_bound(k);
      if (it != objects_.end() && it->first == k) {
        if (rv_of(*it->second) >= rv_of(*c.object)) {
          ++stale_events_;
          break;
        }
        bytes_ -= json::allocated_bytes(*it->second);
        it->second = c.object;
      } else {
        objects_.emplace_hint(it, std::move(k), c.object);
      }
      bytes_ += json::allocated_bytes(*c.object);
      d.upserted.push_back(c.object);
      break;
    }
    case watch_change::kind::deleted: {
      if (!c.object) break;
      auto it = objects_.find(key_of(*c.object));
      if (it == objects_.end()) {
        ++stale_events_;
        break;
      }
      d.removed.push_back(it->second);
      bytes_ -= json::allocated_bytes(*it->second);
      objects_.erase(it);
      break;
    }
  }
  return d;
}

object_ptr object_store::get(const std::string& ns, const std::string& name) const {
  auto it = objects_.find({ns, name});
  return it == objects_.end() ? nullptr : it->second;
}

std::vector<object_ptr> object_store::list() const {
  std::vector<object_ptr> out;
  out.reserve(objects_.size());
  for (const auto& [k, obj] : objects_) out.push_back(obj);
  return out;
}

}  // namespace k8s
