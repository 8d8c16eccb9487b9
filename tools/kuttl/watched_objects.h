// The pure part of assert_watch.h: a picture of the watched objects as the list-then-watch
// changes leave it, and the step's asserts evaluated on it.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "k8s/api/client.h"
#include "k8s/json/json.h"
#include "k8s/watch/list_watch.h"

namespace kuttl {

// The latest version of every watched object, by "apiVersion/kind" then "namespace/name".
class watched_objects {
 public:
  // A change of the list-then-watch state machine for objects of `kind_key`.
  void apply(const std::string& kind_key, const k8s::watch_change& c);
  // True when every expected object (an assert file's) is a subset of one object of its kind
  // here (kuttl's semantics; a name or namespace it gives is part of the subset).
  bool all_match(const std::vector<k8s::json::Document>& expected) const;

 private:
  std::map<std::string, std::map<std::string, k8s::object_ptr>> by_kind_;
};

// "v1/ConfigMap", the key of an object's (or an assert's) kind.
std::string kind_key_of(const k8s::json::Value& o);

}  // namespace kuttl
