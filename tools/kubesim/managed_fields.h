// Field ownership as kube-apiserver v1.32 records it in metadata.managedFields:
// sigs.k8s.io/structured-merge-diff v4.4.2 fieldpath (PathElement, Set, the FieldsV1 encoding of
// serialize.go and serialize-pe.go) and k8s.io/apimachinery v0.32.9
// pkg/util/managedfields/internal (managedfields.go: manager identifiers, the entries' order).
//
// Pure: no locks, no I/O.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "k8s/json/json.h"

namespace kubesim::ssa {

// One step of a field path (fieldpath.PathElement): a field name, the key of a map-list item
// (its key fields sorted by name, values as JSON), the value of a set item (as JSON), an index.
struct path_element {
  enum kind_t : unsigned char { field = 0, key = 1, value = 2, index = 3 };
  kind_t kind = field;
  std::string text;  // field: the name; value: the JSON of the value
  std::vector<std::pair<std::string, std::string>> key_fields;  // key: (name, JSON value)
  int position = 0;                                             // index

  static path_element named(std::string_view name) { return {field, std::string(name), {}, 0}; }
  // FieldsV1 form: `f:name`, `k:{"name":"x"}`, `v:"x"`, `i:3`.
  std::string encoded() const;
  // Path form (fieldpath PathElement.String): `.name`, `[name="x"]`, `[="x"]`, `[3]`.
  std::string printed() const;
  // PathElement.Compare: fields < keys < values < indexes; values as value.Compare orders them.
  bool operator<(const path_element& o) const;
  bool operator==(const path_element& o) const { return !(*this < o) && !(o < *this); }
};

using field_path = std::vector<path_element>;
std::string print_path(const field_path& p);  // ".spec.replicas"

// fieldpath.Set as a trie: a node is in the set when `member`; it may also have children (the
// FieldsV1 `.` entry).
struct field_set {
  bool member = false;
  std::map<path_element, field_set> children;

  bool empty() const { return !member && children.empty(); }
  void insert(const field_path& p);
  bool has(const field_path& p) const;
  const field_set* child(const path_element& pe) const;
  field_set& child_at(const path_element& pe) { return children[pe]; }
  // Set operations as fieldpath.Set has them (members only: removing a member keeps its children).
  void unite(const field_set& o);
  void subtract(const field_set& o);
  field_set intersection(const field_set& o) const;
  // Removes the node at `p` and everything under it (RecursiveDifference of one path).
  void remove_subtree(const field_path& p);
  // Every member path, members of a node before its children's (Set.Iterate).
  void for_each(const std::function<void(const field_path&)>& f) const;

  // FieldsV1 (serialize.go ToJSON): an object of encoded path elements, sorted.
  void to_fields_v1(k8s::json::Value& out, k8s::json::Allocator& a) const;
  // Parses FieldsV1; throws std::invalid_argument on a malformed one.
  static field_set from_fields_v1(const k8s::json::Value& v);

 private:
  void for_each(field_path& prefix, const std::function<void(const field_path&)>& f) const;
  void prune_empty();
};

// One metadata.managedFields entry, decoded.
struct managed_entry {
  std::string manager;
  std::string operation;  // Apply or Update
  std::string api_version;
  std::string time;  // RFC 3339, empty when the entry has none
  std::string subresource;
  field_set fields;

  // BuildManagerIdentifier: the entry's JSON without fieldsType, fieldsV1, time, and without
  // apiVersion for appliers: entries with the same identifier are one manager.
  std::string identifier() const;
  // printManager, as conflict messages name a manager: `"name"`, `"name" with subresource
  // "status"`, `... using apps/v1` for updaters.
  std::string printed() const;
};

// DecodeManagedFields. Returns false when an entry is malformed (the server then falls back to
// the live object's entries, or none).
bool decode_managed_fields(const k8s::json::Value* list, std::vector<managed_entry>& out);
// encodeManagedFields: sorted as sortEncodedManagedFields does (operation, time in seconds,
// manager, apiVersion, subresource); an empty list removes metadata.managedFields.
void encode_managed_fields(std::vector<managed_entry> entries, k8s::json::Value& metadata,
                           k8s::json::Allocator& a);

}  // namespace kubesim::ssa
