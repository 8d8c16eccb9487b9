#include "actors/casskop/logic/owned_index.h"

namespace casskop {

void owned_index::put(const std::string& name, const std::string& owner) {
  if (owner.empty()) {
    remove(name);
    return;
  }
  auto [it, inserted] = owner_by_name_.try_emplace(name, owner);
  if (!inserted) {
    if (it->second == owner) return;
    // Relabelled: it moves to its new owner.
    auto old = names_by_owner_.find(it->second);
    old->second.erase(name);
    if (old->second.empty()) names_by_owner_.erase(old);
    it->second = owner;
  }
  names_by_owner_[owner].insert(name);
}

std::string owned_index::remove(const std::string& name) {
  auto it = owner_by_name_.find(name);
  if (it == owner_by_name_.end()) return "";
  std::string owner = std::move(it->second);
  owner_by_name_.erase(it);
  auto names = names_by_owner_.find(owner);
  names->second.erase(name);
  if (names->second.empty()) names_by_owner_.erase(names);
  return owner;
}

const std::set<std::string>& owned_index::of(const std::string& owner) const {
  static const std::set<std::string> none;
  auto it = names_by_owner_.find(owner);
  return it == names_by_owner_.end() ? none : it->second;
}

std::string owned_index::owner_of(const std::string& name) const {
  auto it = owner_by_name_.find(name);
  return it == owner_by_name_.end() ? "" : it->second;
}

}  // namespace casskop
