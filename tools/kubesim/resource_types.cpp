#include "tools/kubesim/resource_types.h"

#include <algorithm>

#include <fmt/format.h>

#include "tools/kubesim/api_error.h"
#include "tools/kubesim/crd_schema.h"
#include "tools/kubesim/event_conversion.h"
#include "tools/kubesim/field_errors.h"
#include "tools/kubesim/scale_subresource.h"

namespace kubesim {
namespace js = k8s::json;

bool resource_type::serves(const std::string& version) const {
  return std::find(versions.begin(), versions.end(), version) != versions.end();
}

const crd::structural_schema* resource_type::schema_for(const std::string& version) const {
  auto it = schemas.find(version);
  if (it == schemas.end()) it = schemas.find(storage_version());
  return it == schemas.end() ? nullptr : it->second.get();
}

namespace {

struct builtin_spec {
  const char* group;
  const char* version;
  const char* kind;
  const char* plural;
  bool namespaced;
  bool has_status;
  bool tracks_generation;
  bool returns_deleted;
  std::vector<std::string> short_names;
  std::vector<std::string> categories;
};

std::vector<resource_type> make_builtins() {
  const std::vector<builtin_spec> specs = {
      {"", "v1", "Namespace", "namespaces", false, true, false, true, {"ns"}, {}},
      {"", "v1", "ConfigMap", "configmaps", true, false, false, false, {"cm"}, {}},
      {"", "v1", "Secret", "secrets", true, false, false, false, {}, {}},
      {"", "v1", "ServiceAccount", "serviceaccounts", true, false, false, false, {"sa"}, {}},
      {"", "v1", "Service", "services", true, true, false, true, {"svc"}, {"all"}},
      {"", "v1", "Pod", "pods", true, true, false, true, {"po"}, {"all"}},
      {"", "v1", "PersistentVolumeClaim", "persistentvolumeclaims", true, true, false, true,
       {"pvc"}, {}},
      {"", "v1", "Event", "events", true, false, false, false, {"ev"}, {}},
      {"", "v1", "Endpoints", "endpoints", true, false, false, false, {"ep"}, {}},
      {"apps", "v1", "ControllerRevision", "controllerrevisions", true, false, false, false, {},
       {}},
      {"apps", "v1", "StatefulSet", "statefulsets", true, true, true, false, {"sts"}, {"all"}},
      {"apps", "v1", "Deployment", "deployments", true, true, true, false, {"deploy"}, {"all"}},
      {"policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets", true, true, true, false,
       {"pdb"}, {}},
      {"events.k8s.io", "v1", "Event", "events", true, false, false, false, {"ev"}, {}},
      {"coordination.k8s.io", "v1", "Lease", "leases", true, false, false, false, {}, {}},
      {"apiextensions.k8s.io", "v1", "CustomResourceDefinition", "customresourcedefinitions",
       false, true, true, false, {"crd", "crds"}, {"api-extensions"}},
      {"rbac.authorization.k8s.io", "v1", "Role", "roles", true, false, false, false, {}, {}},
      {"rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings", true, false, false,
       false, {}, {}},
      {"rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles", false, false, false,
       false, {}, {}},
      {"rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", "clusterrolebindings", false,
       false, false, false, {}, {}},
  };
  std::vector<resource_type> out;
  for (const auto& s : specs) {
    resource_type t;
    t.group = s.group;
    t.versions = {s.version};
    t.kind = s.kind;
    t.plural = s.plural;
    t.singular = t.kind;
    std::transform(t.singular.begin(), t.singular.end(), t.singular.begin(), ::tolower);
    t.list_kind = t.kind + "List";
    t.namespaced = s.namespaced;
    t.has_status = s.has_status;
    t.tracks_generation = s.tracks_generation;
    t.returns_deleted_object = s.returns_deleted;
    t.short_names = s.short_names;
    t.categories = s.categories;
    if (t.group == "events.k8s.io")
      t.stored_as = std::make_shared<const stored_as_kind>(
          stored_as_kind{"", "v1", &events::to_core_v1, &events::to_events_v1});
    out.push_back(std::move(t));
  }
  return out;
}

std::vector<std::string> string_list(const js::Value* v) {
  std::vector<std::string> out;
  if (v && v->IsArray())
    for (const auto& e : v->GetArray())
      if (e.IsString()) out.emplace_back(js::view(e));
  return out;
}

}  // namespace

const std::vector<resource_type>& builtin_types() {
  static const std::vector<resource_type> types = make_builtins();
  return types;
}

namespace {

printer_column column_of(const js::Value& c) {
  printer_column pc;
  pc.name = js::get_string(c, "name");
  pc.type = js::get_string(c, "type");
  pc.format = js::get_string(c, "format");
  pc.description = js::get_string(c, "description");
  pc.json_path = js::get_string(c, "jsonPath");
  pc.priority = static_cast<int>(js::get_int(c, {"priority"}, 0));
  return pc;
}

// Each version's schema: required and structural (validation.go validateCustomResourceDefinition-
// Version); the parsed schema of every acceptable one goes into `t`.
void add_version_schemas(const js::Value& versions, resource_type& t,
                         std::vector<status_cause>& causes) {
  for (rapidjson::SizeType i = 0; i < versions.Size(); ++i) {
    const js::Value& v = versions[i];
    const js::Value* schema = js::find_path(v, {"schema", "openAPIV3Schema"});
    const bool status = js::find_path(v, {"subresources", "status"}) != nullptr;
    auto errs = crd::check_version_schema(
        schema, fmt::format("spec.versions[{}].schema.openAPIV3Schema", i), status);
    if (errs.empty() && schema)
      t.schemas[std::string(js::get_string(v, "name"))] =
          std::make_shared<const crd::structural_schema>(*schema);
    causes.insert(causes.end(), errs.begin(), errs.end());
    auto scale_errs = scale::check_crd_scale(js::find_path(v, {"subresources", "scale"}),
                                             fmt::format("spec.versions[{}].subresources", i));
    causes.insert(causes.end(), scale_errs.begin(), scale_errs.end());
  }
}

}  // namespace

resource_type type_from_crd(const js::Value& crd) {
  const std::string crd_name(js::get_string(crd, {"metadata", "name"}));
  std::vector<status_cause> causes;
  auto fail = [&](std::string field, std::string message) {
    causes.push_back({"FieldValueInvalid", field + ": " + message, field});
  };
  resource_type t;
  t.custom = true;
  t.tracks_generation = true;
  t.group = js::get_string(crd, {"spec", "group"});
  t.kind = js::get_string(crd, {"spec", "names", "kind"});
  t.plural = js::get_string(crd, {"spec", "names", "plural"});
  t.singular = js::get_string(crd, {"spec", "names", "singular"});
  t.list_kind = js::get_string(crd, {"spec", "names", "listKind"});
  t.short_names = string_list(js::find_path(crd, {"spec", "names", "shortNames"}));
  t.categories = string_list(js::find_path(crd, {"spec", "names", "categories"}));
  std::string scope(js::get_string(crd, {"spec", "scope"}));
  if (t.group.empty()) causes.push_back(field::required("spec.group"));
  if (t.kind.empty()) causes.push_back(field::required("spec.names.kind"));
  if (t.plural.empty()) causes.push_back(field::required("spec.names.plural"));
  if (scope.empty())
    causes.push_back(field::required("spec.scope"));
  else if (scope != "Namespaced" && scope != "Cluster")
    causes.push_back(
        field::not_supported("spec.scope", field::go_quote(scope), {"Cluster", "Namespaced"}));
  if (!t.plural.empty() && !t.group.empty() && crd_name != t.plural + "." + t.group)
    causes.push_back(field::invalid("metadata.name", field::go_quote(crd_name),
                                    "must be spec.names.plural+\".\"+spec.group"));
  t.namespaced = scope == "Namespaced";
  if (t.singular.empty()) {
    t.singular = t.kind;
    std::transform(t.singular.begin(), t.singular.end(), t.singular.begin(), ::tolower);
  }
  if (t.list_kind.empty()) t.list_kind = t.kind + "List";

  const js::Value* versions = js::find_path(crd, {"spec", "versions"});
  std::string storage;
  std::vector<std::string> served;
  if (!versions || !versions->IsArray() || versions->Empty()) {
    fail("spec.versions", "Invalid value: must have exactly one version marked as storage version");
  } else {
    for (const auto& v : versions->GetArray()) {
      std::string name(js::get_string(v, "name"));
      if (js::get_bool(v, {"served"}, false)) served.push_back(name);
      if (const js::Value* sc = js::find_path(v, {"subresources", "scale"}); sc && sc->IsObject())
        t.scale[name] = {std::string(js::get_string(*sc, "specReplicasPath")),
                         std::string(js::get_string(*sc, "statusReplicasPath")),
                         std::string(js::get_string(*sc, "labelSelectorPath"))};
      if (js::get_bool(v, {"storage"}, false)) {
        if (!storage.empty())
          fail("spec.versions", "Invalid value: must have exactly one version marked as storage version");
        storage = name;
        t.has_status = js::find_path(v, {"subresources", "status"}) != nullptr;
        if (const auto* cols = js::find(v, "additionalPrinterColumns"); cols && cols->IsArray())
          for (const auto& c : cols->GetArray()) t.columns.push_back(column_of(c));
      }
    }
    if (storage.empty())
      fail("spec.versions", "Invalid value: must have exactly one version marked as storage version");
    add_version_schemas(*versions, t, causes);
  }
  if (!causes.empty()) {
    throw invalid("CustomResourceDefinition", "apiextensions.k8s.io", crd_name, std::move(causes));
  }
  // The storage version first: it is the preferred version in discovery, as in most CRDs.
  t.versions.push_back(storage);
  for (auto& v : served)
    if (v != storage) t.versions.push_back(v);
  return t;
}

type_registry::type_registry() : builtins_(builtin_types()) {}

const resource_type* type_registry::find(const std::string& group, const std::string& version,
                                         const std::string& plural) const {
  for (const auto& t : builtins_)
    if (t.group == group && t.plural == plural && t.serves(version)) return &t;
  auto it = custom_.find(group.empty() ? plural : plural + "." + group);
  if (it != custom_.end() && it->second.serves(version)) return &it->second;
  return nullptr;
}

const resource_type* type_registry::find_by_id(const std::string& id) const {
  for (const auto& t : builtins_)
    if (t.id() == id) return &t;
  auto it = custom_.find(id);
  return it == custom_.end() ? nullptr : &it->second;
}

void type_registry::add_custom(resource_type t) {
  custom_[t.id()] = std::move(t);
  ++revision_;
}

void type_registry::remove_custom(const std::string& id) {
  if (custom_.erase(id)) ++revision_;
}

std::vector<const resource_type*> type_registry::all() const {
  std::vector<const resource_type*> out;
  for (const auto& t : builtins_) out.push_back(&t);
  for (const auto& [id, t] : custom_) out.push_back(&t);
  return out;
}

}  // namespace kubesim
