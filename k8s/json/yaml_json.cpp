#include "k8s/json/yaml_json.h"

#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <cstdlib>
#include <regex>
#include <string>

namespace k8s::json {
namespace {

bool is_null(const std::string& s) { return s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL"; }

Value plain_scalar(const std::string& s, Allocator& a) {
  if (is_null(s)) return Value(rapidjson::kNullType);
  if (s == "true" || s == "True" || s == "TRUE") return Value(true);
  if (s == "false" || s == "False" || s == "FALSE") return Value(false);
  static const std::regex int_re("[-+]?[0-9]+");
  static const std::regex float_re(R"([-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?)");
  if (std::regex_match(s, int_re)) {
    errno = 0;
    long long v = std::strtoll(s.c_str(), nullptr, 10);
    if (errno == 0) return Value(static_cast<int64_t>(v));
  }
  if (std::regex_match(s, float_re)) return Value(std::strtod(s.c_str(), nullptr));
  return string_value(s, a);
}

}  // namespace

Value yaml_node_to_json(const YAML::Node& node, Allocator& a) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return Value(rapidjson::kNullType);
    case YAML::NodeType::Scalar:
      // yaml-cpp tags quoted scalars "!" and leaves plain ones "?".
      if (node.Tag() == "!") return string_value(node.Scalar(), a);
      return plain_scalar(node.Scalar(), a);
    case YAML::NodeType::Sequence: {
      Value arr(rapidjson::kArrayType);
      for (const auto& item : node) arr.PushBack(yaml_node_to_json(item, a), a);
      return arr;
    }
    case YAML::NodeType::Map: {
      Value obj(rapidjson::kObjectType);
      for (const auto& kv : node) {
        auto key = kv.first.Scalar();
        set_member(obj, key, yaml_node_to_json(kv.second, a), a);
      }
      return obj;
    }
  }
  return Value(rapidjson::kNullType);
}

Document yaml_to_json(std::string_view yaml_text) {
  Document d;
  try {
    YAML::Node root = YAML::Load(std::string(yaml_text));
    Value v = yaml_node_to_json(root, d.GetAllocator());
    static_cast<Value&>(d).Swap(v);
  } catch (const YAML::Exception& e) {
    throw yaml_error(e.what());
  }
  return d;
}

}  // namespace k8s::json
