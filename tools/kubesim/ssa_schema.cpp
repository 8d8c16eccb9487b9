#include "tools/kubesim/ssa_schema.h"

#include <algorithm>
#include <map>
#include <mutex>

#include "tools/kubesim/builtin_schema.h"
#include "tools/kubesim/crd_schema.h"

namespace kubesim::ssa {
namespace js = k8s::json;

namespace {

bool is_one_of(std::string_view s, std::initializer_list<std::string_view> names) {
  return std::find(names.begin(), names.end(), s) != names.end();
}

namespace bs = builtin_schema;

// Where a schema path leads in a built-in kind's types: a struct (msg, field null at the root),
// a field's value (a list or map field itself), or an element of a list or map field.
struct builtin_node {
  const bs::message* msg = nullptr;  // the struct at this node, when it is one
  const bs::field* field = nullptr;  // the field this node is the value or an element of
  bool element = false;
};

// Walks `p` from the root; false when a step is not in the types (unknown field, untyped JSON).
bool walk(const bs::message* root, const schema_path& p, builtin_node& n) {
  if (!root) return false;
  n = {root, nullptr, false};
  for (auto step : p) {
    if (n.field && !n.element && (n.field->repeated || n.field->map)) {
      // A list item ("[]") or a map value (its key): the element type.
      if (n.field->repeated != (step == "[]")) return false;
      n.element = true;
      n.msg = n.field->msg;
      continue;
    }
    if (!n.msg || n.msg->form != bs::json_form::fields) return false;
    const bs::field* f = n.msg->find(step);
    if (!f) return false;
    n = {f->msg, f, false};
  }
  return true;
}

// A list's merge as structured-merge-diff sees the v1.32 OpenAPI (kube-openapi
// pkg/schemaconv/smd.go getListElementRelationship): x-kubernetes-list-type when declared; else
// patch strategy merge makes it associative, keyed by the patch merge key (a set without one);
// everything else is atomic. Key defaults are the key fields' +default (ports' protocol "TCP").
list_info list_of(const bs::field& f) {
  list_info info;
  if (f.list_type == "set") {
    info.type = list_type::set;
  } else if (f.list_type == "map") {
    info.type = list_type::map;
    info.keys = f.list_map_keys;
  } else if (f.list_type.empty() &&
             (f.patch_strategy == "merge" || f.patch_strategy == "merge,retainKeys")) {
    info.type = f.patch_merge_key.empty() ? list_type::set : list_type::map;
    if (!f.patch_merge_key.empty()) info.keys = {f.patch_merge_key};
  }
  if (info.type == list_type::map && f.msg)
    for (const auto& k : info.keys)
      if (const bs::field* kf = f.msg->find(k);
          kf && !kf->default_json.empty() && kf->default_json.rfind("ref(", 0) != 0)
        info.key_defaults.emplace_back(k, kf->default_json);
  return info;
}

// The built-in kinds, from their v1.32 types (builtin_schema: +listType, +listMapKey,
// +patchStrategy, +patchMergeKey, +mapType, +structType, +default).
class builtin_kind_schema : public ssa_schema {
 public:
  // metadata_only: a custom resource without a schema, typed only in its ObjectMeta.
  builtin_kind_schema(const bs::message* root, std::string kind, bool metadata_only = false)
      : root_(root),
        metadata_only_(metadata_only),
        kind_(std::move(kind)),
        baseline_(make_baseline(kind_)) {}

  list_info list_at(const schema_path& p) const override {
    builtin_node n;
    if (!walk_to(p, n) || !n.field || n.element || !n.field->repeated) return {};
    return list_of(*n.field);
  }

  bool atomic_map_at(const schema_path& p) const override {
    builtin_node n;
    if (!walk_to(p, n)) return false;
    // x-kubernetes-map-type atomic: a map field's +mapType, or a struct's +structType (on the
    // field or on its type).
    if (n.field && !n.element && n.field->map) return n.field->map_type == "atomic";
    if (n.field && !n.element && n.field->struct_type == "atomic") return true;
    return n.msg && n.msg->struct_type == "atomic";
  }

  bool declares_field(const schema_path& parent, std::string_view field) const override {
    builtin_node n;
    if (!walk_to(parent, n)) return true;                     // not in the types: as if declared
    if (n.field && !n.element && n.field->map) return false;  // map[string]...: keys
    if (!n.msg || n.msg->form != bs::json_form::fields) return false;  // untyped JSON
    return n.msg->find(field) != nullptr;
  }

  const js::Value& create_baseline() const override { return baseline_; }

 private:
  static js::Document make_baseline(const std::string& kind_) {
    static const char* pod_template = R"({"metadata":{},"spec":{"containers":null}})";
    std::string spec;
    if (kind_ == "Deployment")
      spec = fmt_spec({"\"template\":", pod_template, ",\"strategy\":{},\"selector\":null"});
    else if (kind_ == "StatefulSet" || kind_ == "DaemonSet")
      spec = fmt_spec({"\"template\":", pod_template, ",\"updateStrategy\":{},\"selector\":null"});
    else if (kind_ == "ReplicaSet")
      spec = fmt_spec({"\"template\":", pod_template, ",\"selector\":null"});
    else if (kind_ == "Job")
      spec = fmt_spec({"\"template\":", pod_template});
    else if (kind_ == "CronJob")
      spec = fmt_spec(
          {"\"jobTemplate\":{\"metadata\":{},\"spec\":{\"template\":", pod_template, "}}"});
    else if (kind_ == "Pod")
      spec = R"(,"spec":{"containers":null})";
    else if (kind_ == "PersistentVolumeClaim")
      spec = R"(,"spec":{"resources":{}})";
    else if (is_one_of(kind_, {"Service", "Namespace", "Node", "PersistentVolume", "Lease",
                               "PodDisruptionBudget", "HorizontalPodAutoscaler", "Ingress",
                               "NetworkPolicy", "ResourceQuota", "LimitRange"}))
      spec = R"(,"spec":{})";
    else if (kind_ == "CustomResourceDefinition")
      spec = R"(,"spec":{"names":{},"versions":null})";
    else if (kind_ == "Role" || kind_ == "ClusterRole")
      spec = R"(,"rules":null)";
    else if (kind_ == "RoleBinding" || kind_ == "ClusterRoleBinding")
      spec = R"(,"roleRef":{})";
    return js::parse("{\"metadata\":{}" + spec + "}");
  }

  static std::string fmt_spec(std::initializer_list<std::string_view> parts) {
    std::string out = ",\"spec\":{";
    for (auto s : parts) out += s;
    return out + "}";
  }
  bool walk_to(const schema_path& p, builtin_node& n) const {
    if (metadata_only_ && (p.empty() || p[0] != "metadata")) return false;
    return walk(root_, p, n);
  }

  const bs::message* root_;  // null for a kind the types do not have: every list atomic
  bool metadata_only_;
  std::string kind_;
  js::Document baseline_;
};

// A custom resource: its CRD's structural schema; metadata is an ObjectMeta.
class crd_schema : public ssa_schema {
 public:
  crd_schema(std::shared_ptr<const crd::structural_schema> s, std::string kind)
      // Any built-in's metadata is an ObjectMeta; a ConfigMap's stands in for the resource's.
      : schema_(std::move(s)),
        meta_(bs::model::get().root("", "v1", "ConfigMap"), std::move(kind), true) {}

  list_info list_at(const schema_path& p) const override {
    if (!p.empty() && p[0] == "metadata") return meta_.list_at(p);
    const crd::schema_node* n = node_at(p);
    if (!n) return {};  // untyped (preserved unknown fields): lists are atomic
    if (n->list_type == "set") return {list_type::set, {}, {}};
    if (n->list_type != "map") return {};
    list_info info{list_type::map, n->list_map_keys, {}};
    if (n->items)
      for (const auto& k : n->list_map_keys)
        if (const crd::schema_node* kn = n->items->property(k); kn && kn->default_value)
          info.key_defaults.emplace_back(k, js::to_string(*kn->default_value));
    return info;
  }

  bool atomic_map_at(const schema_path& p) const override {
    if (!p.empty() && p[0] == "metadata") return meta_.atomic_map_at(p);
    return false;  // x-kubernetes-map-type is not kept by crd::schema_node
  }

  bool declares_field(const schema_path& parent, std::string_view field) const override {
    if (!parent.empty() && parent[0] == "metadata") return meta_.declares_field(parent, field);
    if (parent.empty() && (field == "apiVersion" || field == "kind" || field == "metadata"))
      return true;
    const crd::schema_node* n = node_at(parent);
    return n && n->properties.count(std::string(field));
  }

  const js::Value& create_baseline() const override { return baseline_; }

 private:
  const crd::schema_node* node_at(const schema_path& p) const {
    const crd::schema_node* n = &schema_->root();
    for (auto name : p) {
      if (!n) return nullptr;
      if (name == "[]") {
        n = n->items.get();
      } else if (auto it = n->properties.find(std::string(name)); it != n->properties.end()) {
        n = &it->second;
      } else {
        n = n->additional_properties.get();
      }
    }
    return n;
  }
  std::shared_ptr<const crd::structural_schema> schema_;
  builtin_kind_schema meta_;
  js::Document baseline_{rapidjson::kObjectType};
};

}  // namespace

std::shared_ptr<const ssa_schema> ssa_schema_for(const resource_type& t,
                                                 const std::string& version) {
  if (t.custom) {
    auto it = t.schemas.find(version.empty() ? t.storage_version() : version);
    if (it == t.schemas.end()) it = t.schemas.find(t.storage_version());
    if (it != t.schemas.end() && it->second)
      return std::make_shared<crd_schema>(it->second, t.kind);
  }
  static std::mutex mutex;
  static std::map<std::string, std::shared_ptr<const ssa_schema>> builtins;
  std::string kind = t.custom ? std::string() : t.kind;
  std::string v = version.empty() || !t.serves(version) ? t.storage_version() : version;
  std::lock_guard lock(mutex);
  auto& s = builtins[t.group + "/" + v + "/" + kind];
  if (!s) {
    const bs::model& m = bs::model::get();
    const bs::message* root = t.custom ? m.root("", "v1", "ConfigMap") : m.root(t.group, v, kind);
    if (!root && !t.custom) root = m.root(t.group, t.storage_version(), kind);
    s = std::make_shared<builtin_kind_schema>(root, kind, t.custom);
  }
  return s;
}

}  // namespace kubesim::ssa
