// Label and field selectors exactly as kube-apiserver parses and applies them
// (k8s.io/apimachinery/pkg/labels and pkg/fields), including its error messages, so clients
// see the same 400s from kubesim as from a real cluster.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "k8s/json/json.h"

namespace kubesim {

// what() is the message the real server puts in its BadRequest Status.
struct selector_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

enum class label_op {
  in,
  not_in,
  equals,         // "="
  double_equals,  // "=="
  not_equals,
  exists,          // "key"
  does_not_exist,  // "!key"
  greater_than,    // "key>1" (apimachinery accepts it, values must be integers)
  less_than,
};

struct label_requirement {
  std::string key;
  label_op op;
  std::vector<std::string> values;  // sorted and unique, like apimachinery's sets.String
  bool matches(const k8s::json::Value* labels) const;
};

struct label_selector {
  // Throws selector_error. An empty (or blank) string selects everything.
  static label_selector parse(std::string_view text);
  // labels: the metadata.labels object, or nullptr when the object has none.
  bool matches(const k8s::json::Value* labels) const;
  bool empty() const { return requirements_.empty(); }
  // Sorted by key, as the server does.
  const std::vector<label_requirement>& requirements() const { return requirements_; }

 private:
  std::vector<label_requirement> requirements_;
};

enum class field_op { equals, not_equals };  // "=" and "==" are the same term on the server

struct field_selector {
  struct requirement {
    std::string field;
    field_op op;
    std::string value;  // unescaped
  };
  // Throws selector_error. An empty string selects everything.
  static field_selector parse(std::string_view text);
  bool matches(const k8s::json::Value& object) const;
  bool empty() const { return requirements_.empty(); }
  // In the server's order: sorted by the raw term text.
  const std::vector<requirement>& requirements() const { return requirements_; }

 private:
  std::vector<requirement> requirements_;
};

// Throws selector_error("field label not supported: <field>") for the first field the kind
// does not index. Custom resources only allow metadata.name and metadata.namespace.
void validate_fields(const field_selector& selector, std::string_view kind,
                     bool is_custom_resource);

// The string a field selector compares against: the value at the dotted path (missing ->
// ""), with the server's special cases (Event "source", Pod "status.podIP").
std::string selectable_field_value(const k8s::json::Value& object, std::string_view field);

// apimachinery's validation messages (joined with "; " by callers), empty when valid.
// Also what object validation needs for metadata.labels.
std::vector<std::string> label_key_errors(std::string_view key);
std::vector<std::string> label_value_errors(std::string_view value);

}  // namespace kubesim
