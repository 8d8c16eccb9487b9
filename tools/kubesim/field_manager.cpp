#include "tools/kubesim/field_manager.h"

#include <fmt/format.h>

#include "tools/kubesim/field_errors.h"
#include "tools/kubesim/object_meta.h"

namespace kubesim {

field_manager::field_manager(const resource_type& t, const write_options& o, bool status_only)
    : schema_(ssa::ssa_schema_for(t, o.version)),
      context_{*schema_,
               ssa::manager_for(o.field_manager, o.user_agent),
               t.group_version(o.version.empty() ? t.storage_version() : o.version),
               t.kind,
               status_only ? "status" : "",
               t.has_status,
               now_rfc3339()} {}

void field_manager::track(const k8s::json::Value* live, const ssa::managed_input& in,
                          k8s::json::Document& next) const {
  ssa::track_update(context_, live, in, next);
}

ssa::apply_result field_manager::apply(const k8s::json::Value* live, const k8s::json::Value& config,
                                       bool force) const {
  return ssa::apply(context_, live, config, force);
}

std::vector<status_cause> field_manager_causes(const std::string& field_manager) {
  std::vector<status_cause> causes;
  if (field_manager.size() > 128) causes.push_back(field::too_long("fieldManager", 128));
  for (size_t i = 0; i < field_manager.size(); ++i) {
    auto ch = static_cast<unsigned char>(field_manager[i]);
    if (ch < 0x20 || ch == 0x7f)
      causes.push_back(field::invalid("fieldManager", field::go_quote(field_manager),
                                      fmt::format("invalid character U+{:04X} (at position {})",
                                                  static_cast<unsigned>(ch), i)));
  }
  return causes;
}

}  // namespace kubesim
