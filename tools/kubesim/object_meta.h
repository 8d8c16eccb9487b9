// Small rules about object metadata shared by the store and the request handlers.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "k8s/json.h"
#include "tools/kubesim/api_error.h"

namespace kubesim {

std::string now_rfc3339();                 // "2026-11-21T10:00:00Z", whole seconds, as stored
std::string new_uid();                     // UUIDv4
std::string random_suffix(size_t length);  // generateName suffix alphabet

// DNS-1123 checks; each returns the error messages the real server gives, empty if valid.
std::vector<std::string> validate_dns1123_subdomain(const std::string& value);
std::vector<std::string> validate_dns1123_label(const std::string& value);

// Parses a decimal resourceVersion; nullopt if it is not one.
std::optional<unsigned long long> parse_rv(const std::string& s);

// metadata.<key> of an object as a string, empty when absent.
std::string meta_string(const k8s::json::Value& obj, std::string_view key);
// The object is being deleted (it waits for finalizers or garbage collection).
bool has_deletion_timestamp(const k8s::json::Value& obj);

}  // namespace kubesim
