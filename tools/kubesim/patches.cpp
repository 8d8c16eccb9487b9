#include "tools/kubesim/patches.h"

#include <stdexcept>

#include <fmt/format.h>

#include "k8s/json/json_patch.h"
#include "k8s/json/yaml_json.h"
#include "tools/kubesim/api_error.h"
#include "tools/kubesim/strategic_merge.h"

namespace kubesim {
namespace js = k8s::json;

js::Document parse_patch(patch_type type, std::string_view body) {
  try {
    return type == patch_type::apply ? js::yaml_to_json(body) : js::parse(body);
  } catch (const std::exception& e) {
    throw bad_request(fmt::format("error decoding patch: {}", e.what()));
  }
}

void apply_patch(js::Document& target, patch_type type, const js::Value& patch,
                 const builtin_schema::message* strategic_type) {
  try {
    switch (type) {
      case patch_type::merge:
        js::apply_merge_patch(target, patch, target.GetAllocator());
        break;
      case patch_type::apply:
        throw std::logic_error("server-side apply needs field ownership (field_manager.h)");
      case patch_type::strategic:
        apply_strategic_merge_patch(target, patch, target.GetAllocator(), strategic_type);
        break;
      case patch_type::json:
        js::apply_json_patch(target, patch, target.GetAllocator());
        break;
    }
  } catch (const js::json_patch_error& e) {
    throw api_error(422, "Invalid", e.what());
  } catch (const js::usage_error& e) {
    throw bad_request(fmt::format("invalid patch: {}", e.what()));
  }
}

}  // namespace kubesim
