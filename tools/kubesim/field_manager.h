// The field manager of one write (k8s.io/apiserver endpoints/handlers: the FieldManager each
// handler calls): the resource type's schema and the request's manager, API version and
// subresource, for cluster_state's write paths.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "k8s/json/json.h"
#include "tools/kubesim/api_error.h"
#include "tools/kubesim/cluster_state.h"
#include "tools/kubesim/resource_types.h"
#include "tools/kubesim/structured_merge.h"

namespace kubesim {

class field_manager {
 public:
  field_manager(const resource_type& t, const write_options& o, bool status_only);

  // Create (live null), update, non-apply patch: metadata.managedFields of `next`.
  void track(const k8s::json::Value* live, const ssa::managed_input& in,
             k8s::json::Document& next) const;
  // Server-side apply of `config` onto `live` (null: create).
  ssa::apply_result apply(const k8s::json::Value* live, const k8s::json::Value& config,
                          bool force) const;

 private:
  std::shared_ptr<const ssa::ssa_schema> schema_;
  ssa::write_context context_;
};

// ValidateFieldManager (apimachinery apis/meta/v1/validation): at most 128 bytes, printable
// characters only (ASCII control characters are what kubesim recognizes).
std::vector<status_cause> field_manager_causes(const std::string& field_manager);

}  // namespace kubesim
