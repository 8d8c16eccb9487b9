// Custom resources under a CRD version's structural schema, as kube-apiserver v1.32 treats them:
// k8s.io/apiextensions-apiserver v0.32.4 (pkg/apiserver/schema/{pruning,defaulting,objectmeta,
// listtype}, pkg/apiserver/validation, pkg/registry/customresource) and the kube-openapi it
// vendors (32ad38e42d3f, pkg/validation/{validate,errors,strfmt}).
//
// What a write goes through, in the server's order: decoding (duplicate fields, root ObjectMeta,
// pruning, nulls of non-nullable fields, embedded ObjectMeta: prune()), defaulting
// (apply_defaults()), then validation (validate(), validate_update() with ratcheting,
// validate_status_update()). check_version_schema() is what the server checks on a CRD's schema.
//
// Pure: no locks, no I/O. Errors are status causes as field.Error renders them (field_errors.h).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <stdexcept>
#include <string>
#include <vector>

#include "k8s/json/json.h"
#include "tools/kubesim/api_error.h"

namespace kubesim::crd {

// One node of a schema as the API server holds it: the structural part (type, properties, items,
// additionalProperties, extensions, default) and the value validations kube-openapi checks.
struct schema_node {
  std::string type;  // "" (preserve-unknown or int-or-string nodes), object, array, string, ...
  // As written, when kube-openapi validates it for CRDs: formats.go keeps only the formats of
  // supportedVersionedFormats (no int32, int64, float or double: those are never checked).
  std::string format;
  bool nullable = false;
  bool preserve_unknown_fields = false;
  bool embedded_resource = false;
  bool int_or_string = false;
  std::map<std::string, schema_node> properties;
  std::unique_ptr<schema_node> items;
  bool has_additional_properties = false;
  bool additional_properties_allowed = true;           // false for additionalProperties: false
  std::unique_ptr<schema_node> additional_properties;  // its schema, when it is one
  std::shared_ptr<const k8s::json::Document> default_value;
  std::shared_ptr<const k8s::json::Document> enum_values;  // an array
  std::optional<double> minimum, maximum, multiple_of;
  bool exclusive_minimum = false, exclusive_maximum = false;
  std::optional<int64_t> min_length, max_length, min_items, max_items, min_properties,
      max_properties;
  bool unique_items = false;
  std::string pattern;
  std::shared_ptr<const std::regex> pattern_regex;  // null if std::regex cannot compile it
  std::vector<std::string> required;
  std::vector<schema_node> all_of, any_of, one_of;
  std::unique_ptr<schema_node> not_schema;
  std::string list_type;  // x-kubernetes-list-type
  std::vector<std::string> list_map_keys;

  // The type list kube-openapi checks: int-or-string is "integer,string".
  std::vector<std::string> types() const;
  const schema_node* property(const std::string& name) const;
};

// Reads a schema node from its JSON (an openAPIV3Schema or a part of it); shapes the structural
// check refuses are read as well as they can be.
schema_node parse_schema_node(const k8s::json::Value& v);

// The body cannot be decoded as the server decodes it (a malformed ObjectMeta, an embedded
// resource's kind that is not a string): the server answers 400 with this text.
struct decode_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class structural_schema {
 public:
  explicit structural_schema(const k8s::json::Value& open_api_v3_schema);
  const schema_node& root() const { return root_; }

  // Decoding a custom resource (customresource_handler.go unstructuredSchemaCoercer.apply): the
  // root metadata becomes an ObjectMeta (unknown fields dropped, empty ones omitted), unknown
  // fields are pruned except under x-kubernetes-preserve-unknown-fields (the root and embedded
  // resources keep apiVersion, kind and metadata), nulls of non-nullable fields without default
  // are dropped, embedded resources' metadata is coerced. Returns the unknown field paths as
  // strict field validation reports them ("metadata.foo", "spec.bar", "spec.list[0].baz").
  // Throws decode_error.
  std::vector<std::string> prune(k8s::json::Value& obj, k8s::json::Allocator& a) const;

  // defaulting/algorithm.go Default: `default:` values for absent fields (and nulls of
  // non-nullable ones) whose parent object exists, recursively.
  void apply_defaults(k8s::json::Value& obj, k8s::json::Allocator& a) const;

  // The schema's checks of a new object (customresource strategy Validate): kube-openapi value
  // validation, embedded resources, x-kubernetes-list-type uniqueness.
  std::vector<status_cause> validate(const k8s::json::Value& obj) const;
  // An update, with CRDValidationRatcheting (on by default in v1.32): an error on a value that is
  // unchanged from the old object is not reported, nor list-type errors the old object had.
  std::vector<status_cause> validate_update(const k8s::json::Value& obj,
                                            const k8s::json::Value& old) const;
  // A write of the status subresource: `status` against the status schema (no ratcheting there:
  // ValidateStatusUpdate passes no correlation), list types.
  std::vector<status_cause> validate_status_update(const k8s::json::Value& obj,
                                                   const k8s::json::Value& old) const;

 private:
  schema_node root_;
};

// A node's value validation as kube-openapi reports it, under field path `field_prefix` (empty:
// none): what the server does to a default value when it checks a CRD.
std::vector<status_cause> validate_value(const schema_node& s, const k8s::json::Value& value,
                                         const std::string& field_prefix);

// Whether kube-openapi's strfmt registry accepts `value` for a format kept on a schema node
// ("date-time", "byte", "uuid", ...).
bool format_accepts(const std::string& format, const std::string& value);

// Duplicate object keys: JSON decoding keeps the last one, the strict decoder reports each
// repeat as `duplicate field "<path>"`. Removes the earlier ones and returns those paths.
std::vector<std::string> drop_duplicate_fields(k8s::json::Value& v);

// The checks of a v1 CRD version's `schema.openAPIV3Schema` (apis/apiextensions/validation:
// "schemas are required", structural-schema invariants, the OpenAPI rules CRDs add, defaults that
// validate and are pruned). `path` is "spec.versions[i].schema.openAPIV3Schema".
std::vector<status_cause> check_version_schema(const k8s::json::Value* schema,
                                               const std::string& path, bool status_subresource);

}  // namespace kubesim::crd
