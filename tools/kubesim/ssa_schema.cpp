#include "tools/kubesim/ssa_schema.h"

#include <algorithm>
#include <map>
#include <mutex>

#include "tools/kubesim/crd_schema.h"

namespace kubesim::ssa {
namespace js = k8s::json;

namespace {

bool is_one_of(std::string_view s, std::initializer_list<std::string_view> names) {
  return std::find(names.begin(), names.end(), s) != names.end();
}

std::string_view at(const schema_path& p, size_t from_end) {
  return p.size() > from_end ? p[p.size() - 1 - from_end] : std::string_view{};
}

list_info map_list(std::vector<std::string> keys,
                   std::vector<std::pair<std::string, std::string>> defaults = {}) {
  return {list_type::map, std::move(keys), std::move(defaults)};
}

// The built-in kinds, from the list types, map types and merge keys of k8s.io/api v0.32 types.go
// (+listType, +listMapKey, +mapType, patchMergeKey). Lists not named here are atomic.
class builtin_schema : public ssa_schema {
 public:
  explicit builtin_schema(std::string kind)
      : kind_(std::move(kind)), baseline_(make_baseline(kind_)) {}

  list_info list_at(const schema_path& p) const override {
    std::string_view name = at(p, 0), parent = at(p, 1);
    if (p.size() == 2 && parent == "metadata") {
      if (name == "finalizers") return {list_type::set, {}, {}};
      if (name == "ownerReferences") return map_list({"uid"});
      if (name == "managedFields") return {};
    }
    if (is_one_of(name, {"containers", "initContainers", "ephemeralContainers", "volumes",
                         "imagePullSecrets", "env", "resourceClaims", "schedulingGates"}))
      return map_list({"name"});
    if (name == "ports") {
      if (kind_ == "Service" && p.size() == 2)  // ServiceSpec.ports: +listMapKey=port,protocol
        return map_list({"port", "protocol"}, {{"protocol", "\"TCP\""}});
      if (parent == "[]")  // Container.ports
        return map_list({"containerPort", "protocol"}, {{"protocol", "\"TCP\""}});
      return {};
    }
    if (name == "volumeMounts") return map_list({"mountPath"});
    if (name == "volumeDevices") return map_list({"devicePath"});
    if (name == "conditions") return map_list({"type"});
    if (name == "hostAliases") return map_list({"ip"});
    if (name == "topologySpreadConstraints") return map_list({"topologyKey", "whenUnsatisfiable"});
    return {};
  }

  bool atomic_map_at(const schema_path& p) const override {
    std::string_view name = at(p, 0);
    // LabelSelector (+structType=atomic), ServiceSpec.selector (+mapType=atomic), the
    // references of env sources (+structType=atomic).
    return is_one_of(name, {"selector", "labelSelector", "namespaceSelector", "configMapKeyRef",
                            "secretKeyRef", "fieldRef", "resourceFieldRef"});
  }

  bool declares_field(const schema_path& parent, std::string_view) const override {
    // Free-form maps (map[string]...) hold keys, not declared fields.
    return !is_one_of(at(parent, 0), {"labels", "annotations", "data", "binaryData", "stringData",
                                      "nodeSelector", "limits", "requests", "capacity",
                                      "allocatable", "hard", "used", "parameters", "matchLabels"});
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
  std::string kind_;
  js::Document baseline_;
};

// A custom resource: its CRD's structural schema; metadata is an ObjectMeta.
class crd_schema : public ssa_schema {
 public:
  crd_schema(std::shared_ptr<const crd::structural_schema> s, std::string kind)
      : schema_(std::move(s)), meta_(std::move(kind)) {}

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
  builtin_schema meta_;
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
  std::lock_guard lock(mutex);
  auto& s = builtins[kind];
  if (!s) s = std::make_shared<builtin_schema>(kind);
  return s;
}

}  // namespace kubesim::ssa
