#include "tools/kubesim/object_meta.h"

#include <algorithm>
#include <chrono>
#include <random>
#include <regex>

#include <fmt/format.h>

#include "k8s/base/timestamps.h"
#include "tools/kubesim/field_errors.h"

namespace kubesim {
namespace js = k8s::json;

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

namespace {

const std::regex dns1123_label_re(R"([a-z0-9]([-a-z0-9]*[a-z0-9])?)");
const std::regex dns1123_subdomain_re(
    R"([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*)");
const std::regex dns1035_label_re(R"([a-z]([-a-z0-9]*[a-z0-9])?)");
const std::regex qualified_name_re(R"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])");
const std::regex label_value_re(R"((([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?)");

std::string max_len_error(size_t n) {
  return fmt::format("must be no more than {} characters", n);
}

// util/validation RegexError: "<msg> (e.g. 'a',  or 'b', regex used for validation is '<re>')".
std::string regex_error(const std::string& msg, const std::string& re,
                        std::initializer_list<const char*> examples) {
  std::string out = msg + " (e.g. ";
  bool first = true;
  for (const char* e : examples) {
    out += fmt::format("{}'{}', ", first ? "" : " or ", e);
    first = false;
  }
  return out + "regex used for validation is '" + re + "')";
}

const char* const qualified_name_msg =
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
    "alphanumeric character";
const char* const qualified_name_fmt = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";

// generic.go maskTrailingDash, quirk included: "abc-" is checked as "aba".
std::string mask_trailing_dash(const std::string& name) {
  if (name.size() > 1 && name.back() == '-') return name.substr(0, name.size() - 2) + "a";
  return name;
}

void append_invalid(std::vector<status_cause>& out, const std::string& path,
                    const std::string& value, const std::vector<std::string>& messages) {
  for (const auto& m : messages) out.push_back(field::invalid(path, field::go_quote(value), m));
}

void validate_labels(const js::Value& labels, const std::string& path,
                     std::vector<status_cause>& out) {
  for (const auto& l : labels.GetObject()) {
    const std::string k(js::view(l.name)), v(js::view(l.value));
    append_invalid(out, path, k, is_qualified_name(k));
    append_invalid(out, path, v, is_valid_label_value(v));
  }
}

void validate_annotations(const js::Value& annotations, const std::string& path,
                          std::vector<status_cause>& out) {
  long long total = 0;
  for (const auto& a : annotations.GetObject()) {
    std::string k(js::view(a.name));
    total += static_cast<long long>(k.size() + a.value.GetStringLength());
    std::string lower = k;
    std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
    append_invalid(out, path, k, is_qualified_name(lower));
  }
  if (total > annotations_size_limit) out.push_back(field::too_long(path, annotations_size_limit));
}

void validate_owner_references(const js::Value& refs, const std::string& path,
                               std::vector<status_cause>& out) {
  std::string first_controller;
  for (const auto& r : refs.GetArray()) {
    if (!r.IsObject()) continue;
    const std::string api_version(js::get_string(r, "apiVersion")), kind(js::get_string(r, "kind"));
    const size_t slashes = std::count(api_version.begin(), api_version.end(), '/');
    const std::string version = slashes > 1 ? "" : api_version.substr(api_version.find('/') + 1);
    auto check = [&](const char* member, bool empty, const char* what) {
      if (empty)
        out.push_back(field::invalid(field::child(path, member),
                                     field::go_quote(js::get_string(r, member)), what));
    };
    check("apiVersion", version.empty(), "version must not be empty");
    check("kind", kind.empty(), "kind must not be empty");
    check("name", js::get_string(r, "name").empty(), "name must not be empty");
    check("uid", js::get_string(r, "uid").empty(), "uid must not be empty");
    if (version == "v1" && api_version == "v1" && kind == "Event")
      out.push_back(field::invalid(path, field::go_sharp_value(r),
                                   "/v1, Kind=Event is disallowed from being an owner"));
    if (js::get_bool(r, {"controller"}, false)) {
      std::string name = kind + "/" + std::string(js::get_string(r, "name"));
      if (first_controller.empty())
        first_controller = name;
      else
        out.push_back(field::invalid(
            path, field::go_sharp_value(refs),
            fmt::format("Only one reference can have Controller set to true. Found \"true\" in "
                        "references for {} and {}",
                        first_controller, name)));
    }
  }
}

void validate_finalizer_names(const js::Value& finalizers, const std::string& path,
                              std::vector<status_cause>& out) {
  bool orphan = false, foreground = false;
  for (const auto& f : finalizers.GetArray()) {
    if (!f.IsString()) continue;
    const std::string name(js::view(f));
    append_invalid(out, path, name, is_qualified_name(name));
    orphan = orphan || name == "orphan";
    foreground = foreground || name == "foregroundDeletion";
  }
  if (orphan && foreground) {
    std::string list;
    for (const auto& f : finalizers.GetArray())
      list += (list.empty() ? "" : ", ") + field::go_quote(js::view(f));
    out.push_back(field::invalid(path, "[]string{" + list + "}",
                                 "finalizer orphan and foregroundDeletion cannot be both set"));
  }
}

}  // namespace

std::vector<std::string> validate_dns1123_subdomain(const std::string& value) {
  std::vector<std::string> errs;
  if (value.size() > 253) errs.push_back(max_len_error(253));
  if (!std::regex_match(value, dns1123_subdomain_re))
    errs.push_back(regex_error(
        "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' "
        "or '.', and must start and end with an alphanumeric character",
        "[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*", {"example.com"}));
  return errs;
}

std::vector<std::string> validate_dns1123_label(const std::string& value) {
  std::vector<std::string> errs;
  if (value.size() > 63) errs.push_back(max_len_error(63));
  if (!std::regex_match(value, dns1123_label_re)) {
    if (std::regex_match(value, dns1123_subdomain_re))
      errs.push_back("must not contain dots");
    else
      errs.push_back(regex_error(
          "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
          "and must start and end with an alphanumeric character",
          "[a-z0-9]([-a-z0-9]*[a-z0-9])?", {"my-name", "123-abc"}));
  }
  return errs;
}

std::vector<std::string> validate_dns1035_label(const std::string& value) {
  std::vector<std::string> errs;
  if (value.size() > 63) errs.push_back(max_len_error(63));
  if (!std::regex_match(value, dns1035_label_re))
    errs.push_back(regex_error(
        "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with "
        "an alphabetic character, and end with an alphanumeric character",
        "[a-z]([-a-z0-9]*[a-z0-9])?", {"my-name", "abc-123"}));
  return errs;
}

std::vector<std::string> validate_path_segment_name(const std::string& value) {
  if (value == "." || value == "..") return {fmt::format("may not be '{}'", value)};
  std::vector<std::string> errs;
  for (const char* bad : {"/", "%"})
    if (value.find(bad) != std::string::npos)
      errs.push_back(fmt::format("may not contain '{}'", bad));
  return errs;
}

std::vector<std::string> is_qualified_name(const std::string& value) {
  std::vector<std::string> errs;
  const auto slashes = std::count(value.begin(), value.end(), '/');
  std::string name = value;
  if (slashes > 1)
    return {"a qualified name " +
            regex_error(qualified_name_msg, qualified_name_fmt, {"MyName", "my.name", "123-abc"}) +
            " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"};
  if (slashes == 1) {
    std::string prefix = value.substr(0, value.find('/'));
    name = value.substr(value.find('/') + 1);
    if (prefix.empty())
      errs.push_back("prefix part must be non-empty");
    else
      for (auto& m : validate_dns1123_subdomain(prefix)) errs.push_back("prefix part " + m);
  }
  if (name.empty())
    errs.push_back("name part must be non-empty");
  else if (name.size() > 63)
    errs.push_back("name part " + max_len_error(63));
  if (!std::regex_match(name, qualified_name_re))
    errs.push_back("name part " + regex_error(qualified_name_msg, qualified_name_fmt,
                                              {"MyName", "my.name", "123-abc"}));
  return errs;
}

std::vector<std::string> is_valid_label_value(const std::string& value) {
  std::vector<std::string> errs;
  if (value.size() > 63) errs.push_back(max_len_error(63));
  if (!std::regex_match(value, label_value_re))
    errs.push_back(regex_error(
        "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or "
        "'.', and must start and end with an alphanumeric character",
        "(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?", {"MyValue", "my_value", "12345"}));
  return errs;
}

std::vector<std::string> validate_object_name(const std::string& group, const std::string& kind,
                                              const std::string& name, bool prefix) {
  if (group == "rbac.authorization.k8s.io") {
    if (!prefix) return validate_path_segment_name(name);
    std::vector<std::string> errs;
    for (const char* bad : {"/", "%"})
      if (name.find(bad) != std::string::npos)
        errs.push_back(fmt::format("may not contain '{}'", bad));
    return errs;
  }
  const std::string checked = prefix ? mask_trailing_dash(name) : name;
  if (group.empty() && kind == "Namespace") return validate_dns1123_label(checked);
  if (group.empty() && kind == "Service") return validate_dns1035_label(checked);
  // ValidateStatefulSetName (v1.27+): pods take the name as their hostname.
  if (group == "apps" && kind == "StatefulSet") return validate_dns1123_label(checked);
  return validate_dns1123_subdomain(checked);
}

std::vector<status_cause> validate_metadata_contents(const js::Value& meta, const std::string& path,
                                                     bool finalizer_names) {
  std::vector<status_cause> out;
  if (!meta.IsObject()) return out;
  if (const js::Value* l = js::find(meta, "labels"); l && l->IsObject())
    validate_labels(*l, field::child(path, "labels"), out);
  if (const js::Value* a = js::find(meta, "annotations"); a && a->IsObject())
    validate_annotations(*a, field::child(path, "annotations"), out);
  if (const js::Value* r = js::find(meta, "ownerReferences"); r && r->IsArray())
    validate_owner_references(*r, field::child(path, "ownerReferences"), out);
  if (const js::Value* f = js::find(meta, "finalizers"); f && f->IsArray() && finalizer_names)
    validate_finalizer_names(*f, field::child(path, "finalizers"), out);
  return out;
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
