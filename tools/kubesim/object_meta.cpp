#include "tools/kubesim/object_meta.h"

#include <chrono>
#include <random>
#include <regex>

#include <fmt/format.h>

#include "k8s/timestamps.h"

namespace kubesim {
namespace {

std::mt19937_64& rng() {
  thread_local std::mt19937_64 gen{std::random_device{}()};
  return gen;
}

}  // namespace

std::string now_rfc3339() {
  return k8s::format_time(std::chrono::system_clock::now());
}

std::string new_uid() {
  std::uniform_int_distribution<uint64_t> dist;
  uint64_t hi = dist(rng()), lo = dist(rng());
  hi = (hi & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;  // version 4
  lo = (lo & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;  // variant 10
  return fmt::format("{:08x}-{:04x}-{:04x}-{:04x}-{:012x}", hi >> 32, (hi >> 16) & 0xffff,
                     hi & 0xffff, lo >> 48, lo & 0xffffffffffffULL);
}

std::string random_suffix(size_t length) {
  // The alphabet of k8s.io/apimachinery/pkg/util/rand: no vowels, no confusable digits.
  static const char alphabet[] = "bcdfghjklmnpqrstvwxz2456789";
  std::uniform_int_distribution<size_t> dist(0, sizeof(alphabet) - 2);
  std::string s;
  for (size_t i = 0; i < length; ++i) s.push_back(alphabet[dist(rng())]);
  return s;
}

std::vector<std::string> validate_dns1123_subdomain(const std::string& value) {
  static const std::regex re(R"([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*)");
  std::vector<std::string> errs;
  if (value.size() > 253) errs.push_back("must be no more than 253 characters");
  if (!std::regex_match(value, re))
    errs.push_back(
        "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' "
        "or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex "
        "used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')");
  return errs;
}

std::vector<std::string> validate_dns1123_label(const std::string& value) {
  static const std::regex re(R"([a-z0-9]([-a-z0-9]*[a-z0-9])?)");
  std::vector<std::string> errs;
  if (value.size() > 63) errs.push_back("must be no more than 63 characters");
  if (!std::regex_match(value, re))
    errs.push_back(
        "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and "
        "must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex "
        "used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')");
  return errs;
}

std::optional<unsigned long long> parse_rv(const std::string& s) {
  if (s.empty() || s.size() > 19) return std::nullopt;
  for (char c : s)
    if (c < '0' || c > '9') return std::nullopt;
  return std::stoull(s);
}

std::string meta_string(const k8s::json::Value& obj, std::string_view key) {
  return std::string(k8s::json::get_string(obj, {"metadata", key}));
}

bool has_deletion_timestamp(const k8s::json::Value& obj) {
  return k8s::json::find_path(obj, {"metadata", "deletionTimestamp"}) != nullptr;
}

}  // namespace kubesim
