// The names of cached objects grouped by the CassandraCluster that owns them (their
// `cassandracluster` label), so that a pass over one CassandraCluster reads its own objects
// only: a pass costs O(objects of that cluster), not O(objects of the namespace).
#pragma once

#include <map>
#include <set>
#include <string>

namespace casskop {

class owned_index {
 public:
  // `name` now belongs to `owner` ("" = to nobody: forgotten). Moves it if its owner changed.
  void put(const std::string& name, const std::string& owner);
  // Forgets `name`; returns the owner it had ("" if unknown).
  std::string remove(const std::string& name);
  // The names `owner` owns, in name order (empty if none).
  const std::set<std::string>& of(const std::string& owner) const;
  // The owner of `name` ("" if unknown).
  std::string owner_of(const std::string& name) const;
  size_t size() const { return owner_by_name_.size(); }

 private:
  std::map<std::string, std::string> owner_by_name_;
  std::map<std::string, std::set<std::string>> names_by_owner_;
};

}  // namespace casskop
