#include "tools/kubesim/custom_resources.h"

#include <fmt/format.h>

#include "tools/kubesim/crd_schema.h"
#include "tools/kubesim/field_errors.h"

namespace kubesim::custom_resources {
namespace js = k8s::json;

namespace {

std::string joined(const std::vector<std::string>& items, const char* sep) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : sep) + i;
  return out;
}

}  // namespace

std::vector<std::string> decode(const resource_type& t, const std::string& version,
                                js::Document& obj) {
  std::vector<std::string> errors;
  for (const auto& path : crd::drop_duplicate_fields(obj))
    errors.push_back(fmt::format("duplicate field {}", field::go_quote(path)));
  const crd::structural_schema* schema = t.schema_for(version);
  if (!schema || !obj.IsObject()) return errors;
  auto& a = obj.GetAllocator();
  for (const auto& path : schema->prune(obj, a))
    errors.push_back(fmt::format("unknown field \"{}\"", path));
  schema->apply_defaults(obj, a);
  if (const crd::structural_schema* storage = t.schema_for(t.storage_version()); storage != schema)
    storage->prune(obj, a);
  return errors;
}

void enforce_field_validation(const std::vector<std::string>& errors, const write_options& o,
                              const std::function<api_error(const std::string&)>& failure) {
  if (errors.empty() || o.validation == field_validation::ignore) return;
  if (o.validation == field_validation::strict)
    throw failure("strict decoding error: " + joined(errors, ", "));
  if (o.warnings) o.warnings->insert(o.warnings->end(), errors.begin(), errors.end());
}

api_error cannot_be_handled(const resource_type& t, const std::string& version,
                            const std::string& why) {
  return bad_request(fmt::format("{} in version \"{}\" cannot be handled as a {}: {}", t.kind,
                                 version.empty() ? t.storage_version() : version, t.kind, why));
}

api_error invalid_patch(const std::string& patched_json, const std::string& why) {
  return invalid("", "", "", {field::invalid("patch", field::go_quote(patched_json), why)});
}

void check_apply_patch(const resource_type& t, const std::string& version, const js::Value& patch) {
  const crd::structural_schema* schema = t.schema_for(version);
  if (!schema || !patch.IsObject()) return;
  js::Document copy = js::copy_of(patch);
  std::vector<std::string> unknown;
  try {
    unknown = schema->prune(copy, copy.GetAllocator());
  } catch (const crd::decode_error&) {
    return;  // the apply itself reports a malformed object
  }
  if (unknown.empty()) return;
  std::vector<std::string> lines;
  for (const auto& path : unknown) lines.push_back("." + path + ": field not declared in schema");
  // sigs.k8s.io/structured-merge-diff ValidationErrors: one error as is, several as a list.
  std::string why = lines.size() == 1 ? lines[0] : "errors:\n  " + joined(lines, "\n  ");
  std::string api_version(js::get_string(patch, "apiVersion"));
  auto slash = api_version.find('/');
  // GroupVersionKind.String(): "<group>/<version>, Kind=<kind>", the core group empty.
  std::string gvk = slash == std::string::npos ? "/" + api_version : api_version;
  throw api_error(500, "",
                  fmt::format("failed to create typed patch object ({}/{}; {}, Kind={}): {}",
                              js::get_string(patch, {"metadata", "namespace"}),
                              js::get_string(patch, {"metadata", "name"}), gvk,
                              js::get_string(patch, "kind"), why));
}

std::vector<status_cause> validate_create(const resource_type& t, const std::string& version,
                                          const js::Value& obj) {
  const crd::structural_schema* schema = t.schema_for(version);
  return schema ? schema->validate(obj) : std::vector<status_cause>{};
}

std::vector<status_cause> validate_update(const resource_type& t, const std::string& version,
                                          const js::Value& obj, const js::Value& old) {
  const crd::structural_schema* schema = t.schema_for(version);
  return schema ? schema->validate_update(obj, old) : std::vector<status_cause>{};
}

std::vector<status_cause> validate_status_update(const resource_type& t, const std::string& version,
                                                 const js::Value& obj, const js::Value& old) {
  const crd::structural_schema* schema = t.schema_for(version);
  return schema ? schema->validate_status_update(obj, old) : std::vector<status_cause>{};
}

}  // namespace kubesim::custom_resources
