// Small rules about object metadata shared by the store and the request handlers.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "k8s/json/json.h"
#include "tools/kubesim/api_error.h"

namespace kubesim {

std::string now_rfc3339();                 // "2026-11-21T10:00:00Z", whole seconds, as stored
std::string new_uid();                     // UUIDv4
std::string random_suffix(size_t length);  // generateName suffix alphabet

// Name checks of apimachinery's util/validation and api/validation/path; each returns the error
// messages the real server gives, empty if valid.
std::vector<std::string> validate_dns1123_subdomain(const std::string& value);
std::vector<std::string> validate_dns1123_label(const std::string& value);
std::vector<std::string> validate_dns1035_label(const std::string& value);
std::vector<std::string> validate_path_segment_name(const std::string& value);
std::vector<std::string> is_qualified_name(const std::string& value);
std::vector<std::string> is_valid_label_value(const std::string& value);

// The name (or, with `prefix`, the generateName) check of a kind: a DNS-1123 label for
// namespaces, a DNS-1035 label for services, a path segment for RBAC objects, a DNS-1123
// subdomain for the others (custom resources included).
std::vector<std::string> validate_object_name(const std::string& group, const std::string& kind,
                                              const std::string& name, bool prefix);

// apimachinery's TotalAnnotationSizeLimitB: 256 KiB of keys and values together.
constexpr long long annotations_size_limit = 256 * 1024;

// What ValidateObjectMetaAccessor(Update) checks in metadata (at `path`, "metadata") for every
// kind besides names: label keys and values, annotation keys and total size, owner references,
// and (on create: `finalizer_names`) finalizer names.
std::vector<status_cause> validate_metadata_contents(const k8s::json::Value& meta,
                                                     const std::string& path,
                                                     bool finalizer_names = true);

// Parses a decimal resourceVersion; nullopt if it is not one.
std::optional<unsigned long long> parse_rv(const std::string& s);

// metadata.<key> of an object as a string, empty when absent.
std::string meta_string(const k8s::json::Value& obj, std::string_view key);
// The object is being deleted (it waits for finalizers or garbage collection).
bool has_deletion_timestamp(const k8s::json::Value& obj);

}  // namespace kubesim
