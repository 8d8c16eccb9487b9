// The types of the built-in kinds as Kubernetes v1.32 defines them (k8s.io/api v0.32.9), from
// tools/kubesim/schemas/builtin-types-v1.32.json (made by gen_builtin_schema.py from the
// generated.proto and types.go files), embedded in the binary and loaded once.
// Messages keep their proto names and field numbers (for a protobuf codec) and the markers the
// API machinery reads (+listType, +listMapKey, +patchStrategy, +patchMergeKey, +mapType, +enum,
// +default; +structType on fields and types).
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace kubesim::builtin_schema {

// What a field holds (of one element, for repeated fields and map values).
enum class scalar { string, boolean, int32, int64, uint32, uint64, float64, bytes, message };

// The JSON form of a message: its fields, or a type with its own (un)marshalling.
enum class json_form {
  fields,
  quantity,       // resource.Quantity: a string or a number
  int_or_string,  // intstr.IntOrString
  date_time,      // metav1.Time, metav1.MicroTime: an RFC 3339 string
  duration,       // metav1.Duration: a Go duration string
  object,         // runtime.RawExtension, metav1.FieldsV1: any JSON object
  any,            // apiextensions JSON and the JSONSchemaProps*Or* unions: any JSON value
  string_array,   // authentication ExtraValue: a list of strings
};

struct message;

struct field {
  std::string name;  // the JSON name
  int number = 0;    // the proto field number (0: TypeMeta's apiVersion/kind, not in proto)
  scalar type = scalar::string;
  std::string type_name;         // the proto type: "int32", "k8s.io.api.core.v1.PodSpec"
  const message* msg = nullptr;  // when type == message
  bool repeated = false;
  bool map = false;      // map<string, type>
  bool inline_ = false;  // an embedded struct whose fields are the parent's (json:",inline")
  bool optional = false;
  bool omitempty = false;
  bool pointer = false;
  std::string go_type;    // reflect.Type.String(), as encoding/json's errors name it
  std::string list_type;  // +listType: atomic, set, map
  std::vector<std::string> list_map_keys;
  std::string patch_strategy;
  std::string patch_merge_key;
  std::string map_type;      // +mapType
  std::string struct_type;   // +structType
  std::string default_json;  // +default: its JSON ("\"TCP\""), or ref(<Go constant>)
  std::vector<std::string> enum_values;
  std::string description;
};

struct message {
  std::string name;     // the proto name: "k8s.io.api.apps.v1.StatefulSet"
  std::string go_name;  // "v1.StatefulSet"
  std::string description;
  json_form form = json_form::fields;
  std::string struct_type;    // the type's +structType (atomic: SSA owns it whole)
  std::vector<field> fields;  // as declared; inline fields not expanded

  // The field a JSON member name is, with inline structs expanded; null when unknown.
  const field* find(std::string_view json_name) const;
  // The OpenAPI name: "io.k8s.api.apps.v1.StatefulSet".
  std::string openapi_name() const;

  std::unordered_map<std::string_view, const field*> by_json;  // filled by the loader
};

struct kind_entry {
  std::string group, version, kind;
  const message* root = nullptr;
};

class model {
 public:
  // The embedded data, parsed once (thread-safe).
  static const model& get();
  explicit model(std::string_view json);

  const std::string& tag() const { return tag_; }
  const std::vector<kind_entry>& kinds() const { return kinds_; }
  // The root message of a kind (a List kind too); null when unknown.
  const message* root(std::string_view group, std::string_view version,
                      std::string_view kind) const;
  const message* find_message(std::string_view proto_name) const;
  // The field at a dotted JSON path below a root ("spec.template.spec.containers"): list and map
  // elements are stepped into implicitly. Null when a step is unknown.
  const field* field_at(const message& root, std::string_view path) const;
  const std::map<std::string, message, std::less<>>& messages() const { return messages_; }

 private:
  std::string tag_;
  std::map<std::string, message, std::less<>> messages_;
  std::vector<kind_entry> kinds_;
};

}  // namespace kubesim::builtin_schema
