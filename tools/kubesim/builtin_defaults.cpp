#include "tools/kubesim/builtin_defaults.h"

#include <string>
#include <string_view>

#include "k8s/json/base64.h"
#include "tools/kubesim/object_meta.h"
#include "tools/kubesim/quantity.h"

namespace kubesim::builtin {

namespace js = k8s::json;
using js::Allocator;
using js::Value;

namespace {

// A member to change in place, or nullptr. JSON null counts as absent: it decodes to a nil
// pointer, which the defaulters fill.
Value* member(Value& obj, std::string_view key) {
  if (!obj.IsObject()) return nullptr;
  auto* v = const_cast<Value*>(js::find(obj, key));
  return v && !v->IsNull() ? v : nullptr;
}

// Adding a member may move `obj`'s members: callers look children up again afterwards.
void default_string(Value& obj, std::string_view key, std::string_view value, Allocator& a) {
  Value* v = member(obj, key);
  if (!v || (v->IsString() && v->GetStringLength() == 0)) js::set_string(obj, key, value, a);
}
void default_int(Value& obj, std::string_view key, int64_t value, Allocator& a) {
  if (!member(obj, key)) js::set_member(obj, key, Value(value), a);
}
void default_bool(Value& obj, std::string_view key, bool value, Allocator& a) {
  if (!member(obj, key)) js::set_member(obj, key, Value(value), a);
}
// A non-pointer struct field: Go always serializes it, as `{}` when empty.
Value& default_object(Value& obj, std::string_view key, Allocator& a) {
  if (!member(obj, key)) js::set_member(obj, key, Value(rapidjson::kObjectType), a);
  return *member(obj, key);
}

template <typename F>
void for_each_item(Value& obj, std::string_view key, F f) {
  Value* list = member(obj, key);
  if (!list || !list->IsArray()) return;
  for (auto& item : list->GetArray())
    if (item.IsObject()) f(item);
}

// SetDefaults_Probe and the handler defaults (HTTPGetAction path and scheme).
void default_probe(Value& container, std::string_view key, Allocator& a) {
  Value* probe = member(container, key);
  if (!probe || !probe->IsObject()) return;
  default_int(*probe, "timeoutSeconds", 1, a);
  default_int(*probe, "periodSeconds", 10, a);
  default_int(*probe, "successThreshold", 1, a);
  default_int(*probe, "failureThreshold", 3, a);
  if (Value* http = member(*probe, "httpGet"); http && http->IsObject()) {
    default_string(*http, "path", "/", a);
    default_string(*http, "scheme", "HTTP", a);
  }
}

void default_lifecycle_handler(Value& lifecycle, std::string_view key, Allocator& a) {
  Value* handler = member(lifecycle, key);
  if (!handler || !handler->IsObject()) return;
  if (Value* http = member(*handler, "httpGet"); http && http->IsObject()) {
    default_string(*http, "path", "/", a);
    default_string(*http, "scheme", "HTTP", a);
  }
}

// SetDefaults_Container: the image pull policy follows the tag (pkg/apis/core/v1/defaults.go).
std::string pull_policy_for(std::string_view image) {
  if (image.find('@') != std::string_view::npos) return "IfNotPresent";
  auto slash = image.rfind('/');
  auto colon = image.rfind(':');
  bool has_tag =
      colon != std::string_view::npos && (slash == std::string_view::npos || colon > slash);
  if (!has_tag || image.substr(colon + 1) == "latest") return "Always";
  return "IfNotPresent";
}

void default_container(Value& c, bool copy_limits_to_requests, Allocator& a) {
  if (!member(c, "imagePullPolicy"))
    js::set_string(c, "imagePullPolicy", pull_policy_for(js::get_string(c, "image")), a);
  default_string(c, "terminationMessagePath", "/dev/termination-log", a);
  default_string(c, "terminationMessagePolicy", "File", a);
  Value& resources = default_object(c, "resources", a);
  if (copy_limits_to_requests) {  // SetDefaults_Pod: requests default to limits
    if (Value* limits = member(resources, "limits"); limits && limits->IsObject()) {
      Value copy(*limits, a);
      Value& requests = default_object(resources, "requests", a);
      for (auto& m : copy.GetObject())
        if (!js::find(requests, js::view(m.name)))
          requests.AddMember(Value(m.name, a), Value(m.value, a), a);
    }
  }
  for_each_item(c, "ports", [&](Value& p) { default_string(p, "protocol", "TCP", a); });
  for_each_item(c, "env", [&](Value& e) {
    Value* from = member(e, "valueFrom");
    Value* ref = from ? member(*from, "fieldRef") : nullptr;
    if (ref && ref->IsObject()) default_string(*ref, "apiVersion", "v1", a);
  });
  for (auto probe : {"livenessProbe", "readinessProbe", "startupProbe"}) default_probe(c, probe, a);
  if (Value* lc = member(c, "lifecycle"); lc && lc->IsObject()) {
    default_lifecycle_handler(*lc, "postStart", a);
    default_lifecycle_handler(*lc, "preStop", a);
  }
}

// SetDefaults_Volume and the sources' DefaultMode (0644 = 420).
void default_volume(Value& v, Allocator& a) {
  static constexpr const char* sources[] = {"hostPath",
                                            "emptyDir",
                                            "gcePersistentDisk",
                                            "awsElasticBlockStore",
                                            "gitRepo",
                                            "secret",
                                            "nfs",
                                            "iscsi",
                                            "glusterfs",
                                            "persistentVolumeClaim",
                                            "rbd",
                                            "flexVolume",
                                            "cinder",
                                            "cephfs",
                                            "flocker",
                                            "downwardAPI",
                                            "fc",
                                            "azureFile",
                                            "configMap",
                                            "vsphereVolume",
                                            "quobyte",
                                            "azureDisk",
                                            "photonPersistentDisk",
                                            "projected",
                                            "portworxVolume",
                                            "scaleIO",
                                            "storageos",
                                            "csi",
                                            "ephemeral",
                                            "image"};
  bool has_source = false;
  for (auto s : sources) has_source = has_source || member(v, s);
  if (!has_source) js::set_member(v, "emptyDir", Value(rapidjson::kObjectType), a);
  for (auto s : {"secret", "configMap", "downwardAPI", "projected"})
    if (Value* src = member(v, s); src && src->IsObject()) default_int(*src, "defaultMode", 420, a);
  auto default_field_refs = [&](Value& downward_api) {  // SetDefaults_ObjectFieldSelector
    for_each_item(downward_api, "items", [&](Value& item) {
      if (Value* ref = member(item, "fieldRef"); ref && ref->IsObject())
        default_string(*ref, "apiVersion", "v1", a);
    });
  };
  if (Value* dapi = member(v, "downwardAPI"); dapi && dapi->IsObject()) default_field_refs(*dapi);
  if (Value* projected = member(v, "projected"); projected && projected->IsObject())
    for_each_item(*projected, "sources", [&](Value& source) {
      // SetDefaults_ServiceAccountTokenProjection: an hour.
      if (Value* token = member(source, "serviceAccountToken"); token && token->IsObject())
        default_int(*token, "expirationSeconds", 3600, a);
      if (Value* dapi = member(source, "downwardAPI"); dapi && dapi->IsObject())
        default_field_refs(*dapi);
    });
  // A generic ephemeral volume's claim template: SetDefaults_PersistentVolumeClaimSpec.
  if (Value* eph = member(v, "ephemeral"); eph && eph->IsObject())
    if (Value* claim = member(*eph, "volumeClaimTemplate"); claim && claim->IsObject())
      if (Value* spec = member(*claim, "spec"); spec && spec->IsObject())
        default_string(*spec, "volumeMode", "Filesystem", a);
  if (Value* hp = member(v, "hostPath"); hp && hp->IsObject()) default_string(*hp, "type", "", a);
  if (Value* rbd = member(v, "rbd"); rbd && rbd->IsObject()) {
    default_string(*rbd, "pool", "rbd", a);
    default_string(*rbd, "user", "admin", a);
    default_string(*rbd, "keyring", "/etc/ceph/keyring", a);
  }
  if (Value* iscsi = member(v, "iscsi"); iscsi && iscsi->IsObject())
    default_string(*iscsi, "iscsiInterface", "default", a);
  if (Value* disk = member(v, "azureDisk"); disk && disk->IsObject()) {
    default_string(*disk, "cachingMode", "ReadWrite", a);
    default_string(*disk, "fsType", "ext4", a);
    default_bool(*disk, "readOnly", false, a);
    default_string(*disk, "kind", "Shared", a);
  }
}

// SetDefaults_PodSpec and what SetObjectDefaults_* does to the members of a pod spec.
void default_pod_spec(Value& spec, bool is_pod, Allocator& a) {
  default_string(spec, "dnsPolicy", "ClusterFirst", a);
  default_string(spec, "restartPolicy", "Always", a);
  default_int(spec, "terminationGracePeriodSeconds", 30, a);
  default_object(spec, "securityContext", a);
  default_string(spec, "schedulerName", "default-scheduler", a);
  if (is_pod) default_bool(spec, "enableServiceLinks", true, a);
  // SetDefaults_Pod: with host networking a port's hostPort follows its containerPort, in Pods
  // only (in pod templates too before 1.28: DefaultHostNetworkHostPortsInPodTemplates, off).
  bool host_network = is_pod && js::get_bool(spec, {"hostNetwork"}, false);
  for (auto list : {"initContainers", "containers"})
    for_each_item(spec, list, [&](Value& c) {
      default_container(c, is_pod, a);
      if (host_network)
        for_each_item(c, "ports", [&](Value& p) {
          if (!member(p, "hostPort") || js::get_int(p, {"hostPort"}, 0) == 0)
            if (Value* cp = member(p, "containerPort"))
              js::set_member(p, "hostPort", Value(*cp, a), a);
        });
    });
  for_each_item(spec, "volumes", [&](Value& v) { default_volume(v, a); });
}

// A pod template: its spec, and the `metadata: {creationTimestamp: null}` Go's ObjectMeta
// serializes when empty (v1.32 still writes the zero time as null).
void default_pod_template(Value& parent_spec, Allocator& a) {
  Value& tmpl = default_object(parent_spec, "template", a);
  Value& meta = default_object(tmpl, "metadata", a);
  if (!js::find(meta, "creationTimestamp")) js::set_member(meta, "creationTimestamp", Value(), a);
  default_pod_spec(default_object(tmpl, "spec", a), false, a);
}

// SetDefaults_PersistentVolumeClaim(Spec): volumeMode Filesystem, an empty claim Pending.
void default_pvc(Value& pvc, Allocator& a) {
  Value& spec = default_object(pvc, "spec", a);
  default_string(spec, "volumeMode", "Filesystem", a);
  default_object(spec, "resources", a);
  Value& status = default_object(pvc, "status", a);
  default_string(status, "phase", "Pending", a);
}

void default_statefulset(Value& sts, Allocator& a) {
  Value& spec = default_object(sts, "spec", a);
  default_string(spec, "podManagementPolicy", "OrderedReady", a);
  {  // SetDefaults_StatefulSet (pkg/apis/apps/v1/defaults.go): rollingUpdate is created only
     // with a defaulted type; a client's `type: RollingUpdate` without it stays without it.
    Value& strategy = default_object(spec, "updateStrategy", a);
    if (!member(strategy, "type") || js::get_string(strategy, "type").empty()) {
      js::set_string(strategy, "type", "RollingUpdate", a);
      default_object(strategy, "rollingUpdate", a);
    }
    if (Value* ru = member(strategy, "rollingUpdate");
        ru && ru->IsObject() && js::get_string(strategy, "type") == "RollingUpdate")
      default_int(*ru, "partition", 0, a);
  }
  {  // StatefulSetAutoDeletePVC (beta, on in v1.32)
    Value& policy = default_object(spec, "persistentVolumeClaimRetentionPolicy", a);
    default_string(policy, "whenDeleted", "Retain", a);
    default_string(policy, "whenScaled", "Retain", a);
  }
  default_int(spec, "replicas", 1, a);
  default_int(spec, "revisionHistoryLimit", 10, a);
  default_pod_template(spec, a);
  for_each_item(*member(sts, "spec"), "volumeClaimTemplates", [&](Value& c) {
    default_pvc(c, a);
    // Convert_apps_StatefulSetSpec_To_v1_StatefulSetSpec (pkg/apis/apps/v1/conversion.go): an
    // apps/v1 StatefulSet shows every claim template with this TypeMeta, whatever was sent.
    js::set_string(c, "apiVersion", "v1", a);
    js::set_string(c, "kind", "PersistentVolumeClaim", a);
  });
}

void default_deployment(Value& d, Allocator& a) {
  Value& spec = default_object(d, "spec", a);
  default_int(spec, "replicas", 1, a);
  {
    Value& strategy = default_object(spec, "strategy", a);
    default_string(strategy, "type", "RollingUpdate", a);
    if (js::get_string(strategy, "type") == "RollingUpdate") {
      Value& ru = default_object(strategy, "rollingUpdate", a);
      if (!member(ru, "maxUnavailable")) js::set_string(ru, "maxUnavailable", "25%", a);
      if (!member(ru, "maxSurge")) js::set_string(ru, "maxSurge", "25%", a);
    }
  }
  default_int(spec, "revisionHistoryLimit", 10, a);
  default_int(spec, "progressDeadlineSeconds", 600, a);
  default_pod_template(spec, a);
}

void default_service(Value& svc, Allocator& a) {
  Value& spec = default_object(svc, "spec", a);
  default_string(spec, "sessionAffinity", "None", a);
  default_string(spec, "type", "ClusterIP", a);
  const std::string type(js::get_string(spec, "type"));
  for_each_item(spec, "ports", [&](Value& p) {
    default_string(p, "protocol", "TCP", a);
    Value* target = member(p, "targetPort");
    bool unset = !target || (target->IsInt64() && target->GetInt64() == 0) ||
                 (target->IsString() && target->GetStringLength() == 0);
    if (unset)
      if (Value* port = member(p, "port")) js::set_member(p, "targetPort", Value(*port, a), a);
  });
  // SetDefaults_Service: no affinity, no affinity config (whatever was sent).
  if (js::get_string(spec, "sessionAffinity") == "None")
    js::remove_member(spec, "sessionAffinityConfig");
  if (js::get_string(spec, "sessionAffinity") == "ClientIP") {
    Value& cfg = default_object(spec, "sessionAffinityConfig", a);
    Value& ip = default_object(cfg, "clientIP", a);
    default_int(ip, "timeoutSeconds", 10800, a);
  }
  if (type == "NodePort" || type == "LoadBalancer")
    default_string(spec, "externalTrafficPolicy", "Cluster", a);
  if (type != "ExternalName") default_string(spec, "internalTrafficPolicy", "Cluster", a);
  if (type == "LoadBalancer") default_bool(spec, "allocateLoadBalancerNodePorts", true, a);
}

// Convert_v1_Secret_To_core_Secret: stringData entries overwrite data, then stringData is gone.
void merge_string_data(Value& secret, Allocator& a) {
  Value* sd = member(secret, "stringData");
  if (sd && sd->IsObject() && sd->MemberCount() > 0) {
    Value copy(*sd, a);
    Value& data = default_object(secret, "data", a);
    for (auto& m : copy.GetObject()) {
      std::string encoded = k8s::base64_encode(js::view(m.value));
      js::set_string(data, js::view(m.name), encoded, a);
    }
  }
  js::remove_member(secret, "stringData");
}

Value toleration(const char* key, Allocator& a) {
  Value t(rapidjson::kObjectType);
  t.AddMember("key", Value(key, a), a);
  t.AddMember("operator", "Exists", a);
  t.AddMember("effect", "NoExecute", a);
  t.AddMember("tolerationSeconds", Value(int64_t{300}), a);
  return t;
}

Value kube_api_access_volume(const std::string& name, Allocator& a) {
  auto parse = [&](const char* text) { return Value(js::parse(text), a); };
  Value v(rapidjson::kObjectType);
  v.AddMember("name", js::string_value(name, a), a);
  v.AddMember(
      "projected",
      parse(
          R"({"defaultMode":420,"sources":[)"
          R"({"serviceAccountToken":{"expirationSeconds":3607,"path":"token"}},)"
          R"({"configMap":{"name":"kube-root-ca.crt","items":[{"key":"ca.crt","path":"ca.crt"}]}},)"
          R"({"downwardAPI":{"items":[{"path":"namespace","fieldRef":{"apiVersion":"v1","fieldPath":"metadata.namespace"}}]}}]})"),
      a);
  return v;
}

constexpr std::string_view token_mount_path = "/var/run/secrets/kubernetes.io/serviceaccount";

}  // namespace

void apply_defaults(const resource_type& t, Value& obj, Allocator& a) {
  if (t.custom || !obj.IsObject()) return;
  // Decoding into resource.Quantity, SetDefaults_ResourceList's round up, and the canonical
  // form the stored object is encoded with (quantity.h).
  if ((t.group.empty() && (t.kind == "Pod" || t.kind == "PersistentVolumeClaim")) ||
      (t.group == "apps" && (t.kind == "StatefulSet" || t.kind == "Deployment")))
    if (Value* spec = member(obj, "spec")) canonicalize_quantities(*spec, a);
  if (t.group.empty()) {
    if (t.kind == "Pod") {
      default_pod_spec(default_object(obj, "spec", a), true, a);
    } else if (t.kind == "Service") {
      default_service(obj, a);
    } else if (t.kind == "PersistentVolumeClaim") {
      default_pvc(obj, a);
    } else if (t.kind == "Secret") {
      merge_string_data(obj, a);
      default_string(obj, "type", "Opaque", a);
    }
  } else if (t.group == "apps") {
    if (t.kind == "StatefulSet") default_statefulset(obj, a);
    if (t.kind == "Deployment") default_deployment(obj, a);
  }
}

void admit_pod_create(Value& pod, Allocator& a) {
  Value& spec = default_object(pod, "spec", a);
  // ServiceAccount admission (plugin/pkg/admission/serviceaccount): the `default` account and,
  // unless automounting is off, the kube-api-access-<5> projected volume mounted read-only.
  default_string(spec, "serviceAccountName", "default", a);
  js::set_string(spec, "serviceAccount", js::get_string(spec, "serviceAccountName"), a);
  if (js::get_bool(spec, {"automountServiceAccountToken"}, true)) {
    bool mounted = false;
    for (auto list : {"initContainers", "containers"})
      for_each_item(spec, list, [&](Value& c) {
        for_each_item(c, "volumeMounts", [&](Value& m) {
          mounted = mounted || js::get_string(m, "mountPath") == token_mount_path;
        });
      });
    if (!mounted) {
      const std::string name = "kube-api-access-" + random_suffix(5);
      if (!member(spec, "volumes") || !member(spec, "volumes")->IsArray())
        js::set_member(spec, "volumes", Value(rapidjson::kArrayType), a);
      member(spec, "volumes")->PushBack(kube_api_access_volume(name, a), a);
      for (auto list : {"initContainers", "containers"})
        for_each_item(spec, list, [&](Value& c) {
          if (!member(c, "volumeMounts") || !member(c, "volumeMounts")->IsArray())
            js::set_member(c, "volumeMounts", Value(rapidjson::kArrayType), a);
          Value m(rapidjson::kObjectType);
          m.AddMember("name", js::string_value(name, a), a);
          m.AddMember("readOnly", true, a);
          m.AddMember("mountPath", js::string_value(token_mount_path, a), a);
          member(c, "volumeMounts")->PushBack(m, a);
        });
    }
  }
  // Priority admission without a default PriorityClass.
  default_int(spec, "priority", 0, a);
  default_string(spec, "preemptionPolicy", "PreemptLowerPriority", a);
  // DefaultTolerationSeconds: 300 s on not-ready and unreachable nodes, unless tolerated already.
  for (auto key : {"node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"}) {
    bool tolerated = false;
    for_each_item(spec, "tolerations", [&](Value& t) {
      auto effect = js::get_string(t, "effect");
      tolerated = tolerated ||
                  (js::get_string(t, "key") == key && (effect.empty() || effect == "NoExecute"));
    });
    if (tolerated) continue;
    if (!member(spec, "tolerations") || !member(spec, "tolerations")->IsArray())
      js::set_member(spec, "tolerations", Value(rapidjson::kArrayType), a);
    member(spec, "tolerations")->PushBack(toleration(key, a), a);
  }
}

std::string pod_qos_class(const Value& pod) {
  bool any = false, guaranteed = true;
  for (auto list : {"initContainers", "containers"}) {
    const Value* l = js::find_path(pod, {"spec", list});
    if (!l || !l->IsArray()) continue;
    for (const auto& c : l->GetArray()) {
      const Value* requests = js::find_path(c, {"resources", "requests"});
      const Value* limits = js::find_path(c, {"resources", "limits"});
      for (auto r : {"cpu", "memory"}) {
        auto quantity = [&](const Value* m) {
          const Value* q = m && m->IsObject() ? js::find(*m, r) : nullptr;
          std::string s = q ? (q->IsString() ? std::string(js::view(*q)) : js::to_string(*q)) : "";
          return s == "0" ? std::string() : s;
        };
        const std::string req = quantity(requests), lim = quantity(limits);
        any = any || !req.empty() || !lim.empty();
        guaranteed = guaranteed && !lim.empty() && req == lim;
      }
    }
  }
  if (!any) return "BestEffort";
  return guaranteed ? "Guaranteed" : "Burstable";
}

void set_service_ip_families(Value& service, Allocator& a) {
  Value& spec = default_object(service, "spec", a);
  if (js::get_string(spec, "type") == "ExternalName") return;
  const bool headless = js::get_string(spec, "clusterIP") == "None";
  const Value* selector = js::find(spec, "selector");
  const bool selectorless = !selector || !selector->IsObject() || selector->MemberCount() == 0;
  // A headless Service without selector is RequireDualStack by default (both families, nothing
  // to allocate); everything else is SingleStack IPv4 on this single-stack cluster.
  if (headless && selectorless) {
    default_string(spec, "ipFamilyPolicy", "RequireDualStack", a);
  } else {
    default_string(spec, "ipFamilyPolicy", "SingleStack", a);
  }
  Value* families = member(spec, "ipFamilies");
  if (!families || !families->IsArray() || families->Empty()) {
    Value list(rapidjson::kArrayType);
    list.PushBack("IPv4", a);
    if (js::get_string(spec, "ipFamilyPolicy") != "SingleStack" && headless)
      list.PushBack("IPv6", a);
    js::set_member(spec, "ipFamilies", std::move(list), a);
  }
}

void prepare_update(const resource_type& t, Value& next, const Value& prev, Allocator& a) {
  if (t.custom || !t.group.empty() || t.kind != "Service") return;
  // patchAllocatedValues: an update that leaves the allocated addresses out keeps them.
  const Value* old_spec = js::find(prev, "spec");
  Value* spec = member(next, "spec");
  if (!old_spec || !spec || !spec->IsObject()) return;
  if (js::get_string(*spec, "type") == "ExternalName" ||
      js::get_string(*old_spec, "type") == "ExternalName")
    return;
  if (js::get_string(*spec, "clusterIP").empty()) {
    if (const Value* ip = js::find(*old_spec, "clusterIP"))
      js::set_member(*spec, "clusterIP", Value(*ip, a), a);
    if (const Value* ips = js::find(*old_spec, "clusterIPs"); ips && !member(*spec, "clusterIPs"))
      js::set_member(*spec, "clusterIPs", Value(*ips, a), a);
  }
  // NormalizeClusterIPs: a changed clusterIP with the old clusterIPs untouched rewrites them.
  const Value* ips = js::find(*spec, "clusterIPs");
  const Value* old_ips = js::find(*old_spec, "clusterIPs");
  const auto ip = js::get_string(*spec, "clusterIP");
  if (!ip.empty() && (!ips || ips->IsNull() || (old_ips && *ips == *old_ips))) {
    Value list(rapidjson::kArrayType);
    if (ips && ips->IsArray() && !ips->Empty()) list.CopyFrom(*ips, a);
    if (list.Empty())
      list.PushBack(js::string_value(ip, a), a);
    else
      list[0] = js::string_value(ip, a);
    js::set_member(*spec, "clusterIPs", std::move(list), a);
  }
  for (auto k : {"ipFamilies", "ipFamilyPolicy"})
    if (!member(*spec, k))
      if (const Value* v = js::find(*old_spec, k)) js::set_member(*spec, k, Value(*v, a), a);
}

}  // namespace kubesim::builtin
