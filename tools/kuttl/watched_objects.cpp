#include "tools/kuttl/watched_objects.h"

#include "tools/kuttl/subset.h"

namespace kuttl {

namespace js = k8s::json;

std::string kind_key_of(const js::Value& o) {
  return std::string(js::get_string(o, "apiVersion")) + "/" +
         std::string(js::get_string(o, "kind"));
}

void watched_objects::apply(const std::string& kind_key, const k8s::watch_change& c) {
  auto& objects = by_kind_[kind_key];
  using kind = k8s::watch_change::kind;
  if (c.what == kind::init_started) {
    objects.clear();
    return;
  }
  if (!c.object) return;  // init_done
  const std::string key = std::string(js::get_string(*c.object, {"metadata", "namespace"})) + "/" +
                          std::string(js::get_string(*c.object, {"metadata", "name"}));
  if (c.what == kind::deleted)
    objects.erase(key);
  else
    objects[key] = c.object;
}

bool watched_objects::all_match(const std::vector<js::Document>& expected) const {
  for (const auto& e : expected) {
    auto it = by_kind_.find(kind_key_of(e));
    if (it == by_kind_.end()) return false;
    bool found = false;
    for (const auto& [key, o] : it->second)
      if (subset_differences(e, *o).empty()) {
        found = true;
        break;
      }
    if (!found) return false;
  }
  return true;
}

}  // namespace kuttl
