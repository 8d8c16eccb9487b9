// What server-side apply needs to know of a kind's schema, path by path: how a list merges
// (x-kubernetes-list-type atomic / set / map with its keys, or a built-in's patchMergeKey), which
// maps are atomic, which fields a struct declares (EnsureNamedFieldsAreMembers), and the zero
// object a create starts from (the Go zero value the server's ObjectCreater makes).
//
// This is the seam for typed built-in schemas: ssa_schema_for() picks the implementation; the
// built-in one here is a table of the list types kubesim's kinds use (as v1.32's OpenAPI declares
// them); custom resources read their CRD's structural schema.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "k8s/json/json.h"
#include "tools/kubesim/resource_types.h"

namespace kubesim::ssa {

// Field names from the object's root to a node; a list item adds "[]".
using schema_path = std::vector<std::string_view>;

enum class list_type { atomic, set, map };

struct list_info {
  list_type type = list_type::atomic;
  std::vector<std::string> keys;  // map lists
  // Defaults of key fields (their JSON), used when an item omits that key field.
  std::vector<std::pair<std::string, std::string>> key_defaults;
};

class ssa_schema {
 public:
  virtual ~ssa_schema() = default;
  // The list at `path` (an array value).
  virtual list_info list_at(const schema_path& path) const = 0;
  // Whether the map at `path` (an object value) is atomic (x-kubernetes-map-type: atomic).
  virtual bool atomic_map_at(const schema_path& path) const = 0;
  // Whether the map at `parent` declares `field` (a struct field, not a free-form map key).
  virtual bool declares_field(const schema_path& parent, std::string_view field) const = 0;
  // The object a create compares against: non-pointer structs present, non-omitempty lists null.
  virtual const k8s::json::Value& create_baseline() const = 0;
};

// The schema of `t` in `version` (empty: storage version). Built-in kinds' schemas are made once
// and shared (thread-safe).
std::shared_ptr<const ssa_schema> ssa_schema_for(const resource_type& t,
                                                 const std::string& version);

}  // namespace kubesim::ssa
