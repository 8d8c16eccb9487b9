// YAML to JSON, for the inputs users write in YAML: kubectl's apply bodies
// (application/apply-patch+yaml), kubeconfigs and operator config files.
#pragma once

#include <stdexcept>
#include <string_view>

#include "k8s/json/json.h"

namespace YAML {
class Node;
}

namespace k8s::json {

struct yaml_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Plain scalars are typed as YAML 1.2's core schema does (null, bool, int, float, else string);
// quoted scalars always stay strings. Throws yaml_error on malformed input.
Document yaml_to_json(std::string_view yaml_text);
Value yaml_node_to_json(const YAML::Node& node, Allocator& a);

}  // namespace k8s::json
