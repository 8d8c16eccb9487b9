// What kubesim knows about each kind it serves: names, scope, subresources, printer columns.
// Built-in kinds are a fixed table; custom resources come from CRDs at run time.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "k8s/json/json.h"

namespace kubesim {

namespace crd {
class structural_schema;
}

struct printer_column {
  std::string name;
  std::string type;  // integer, number, string, boolean, date
  std::string format;
  std::string description;
  std::string json_path;  // CRDs only; built-ins are printed by code (tables.cpp)
  int priority = 0;
};

// A CRD version's subresources.scale.
struct crd_scale {
  std::string spec_replicas_path;
  std::string status_replicas_path;
  std::string label_selector_path;
};

// A kind served from another kind's storage, as events.k8s.io/v1 Events are core/v1 Events on
// a real server: objects are stored in the storing kind's form (same plural), converted on the
// way in and out, and share names, uids, resourceVersions and watches.
struct stored_as_kind {
  std::string group;  // the storing kind's group and version
  std::string version;
  k8s::json::Document (*to_storage)(const k8s::json::Value&);
  k8s::json::Document (*from_storage)(const k8s::json::Value&);
};

struct resource_type {
  std::string group;                  // "" for the core group
  std::vector<std::string> versions;  // served versions, preferred (storage) first
  std::string kind;
  std::string plural;
  std::string singular;
  std::string list_kind;
  bool namespaced = true;
  bool has_status = false;              // status subresource
  bool tracks_generation = false;       // metadata.generation bumped on spec changes
  bool custom = false;                  // defined by a CRD: no strategic merge, stricter PUT
  bool returns_deleted_object = false;  // DELETE answers with the object, not a Status
  std::vector<std::string> short_names;
  std::vector<std::string> categories;
  std::vector<printer_column> columns;  // CRD additionalPrinterColumns of the storage version
  // CRDs: the structural schema of each version, shared so that copies of a type stay cheap.
  std::map<std::string, std::shared_ptr<const crd::structural_schema>> schemas;
  std::map<std::string, crd_scale> scale;  // CRDs: the versions declaring subresources.scale
  // Discovery's verbs when not the usual set (the create-only reviews of access_reviews.h).
  std::vector<std::string> verbs{};

  std::shared_ptr<const stored_as_kind> stored_as;  // null: stored as itself

  // Key of the storage: objects of all served versions share it (and kinds stored as another).
  std::string id() const {
    const std::string& g = stored_as ? stored_as->group : group;
    return g.empty() ? plural : plural + "." + g;
  }
  std::string group_version(const std::string& version) const {
    return group.empty() ? version : group + "/" + version;
  }
  std::string storage_version() const { return versions.front(); }
  bool serves(const std::string& version) const;
  // The schema a write in `version` is decoded and validated with (the request's version, as
  // the apiextensions handler does), else the storage version's; null for built-in kinds.
  const crd::structural_schema* schema_for(const std::string& version) const;
};

// The built-in kinds kubesim serves, in discovery order.
const std::vector<resource_type>& builtin_types();

// Builds the resource type a CustomResourceDefinition (apiextensions.k8s.io/v1) declares, with
// the structural schema of every version. Throws api_error (422 Invalid, with the causes the
// real server gives) when the CRD is not acceptable: names, scope, storage version, a version
// without schema ("schemas are required"), a schema that is not structural.
resource_type type_from_crd(const k8s::json::Value& crd);

// All resource types of one cluster, built-ins plus established CRDs. Not thread-safe: the
// cluster's lock guards it.
class type_registry {
 public:
  type_registry();
  const resource_type* find(const std::string& group, const std::string& version,
                            const std::string& plural) const;
  const resource_type* find_by_id(const std::string& id) const;
  void add_custom(resource_type t);
  void remove_custom(const std::string& id);
  // Types in discovery order: built-ins first, then CRDs by group.
  std::vector<const resource_type*> all() const;
  // Changes whenever a CRD comes or goes (OpenAPI hashes depend on it).
  uint64_t revision() const { return revision_; }

 private:
  std::vector<resource_type> builtins_;
  std::map<std::string, resource_type> custom_;
  uint64_t revision_ = 1;
};

}  // namespace kubesim
