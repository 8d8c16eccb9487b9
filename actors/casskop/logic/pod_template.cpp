#include "actors/casskop/logic/pod_template.h"

#include <set>
#include <utility>

#include "actors/casskop/logic/cassandra_config.h"
#include "actors/casskop/logic/json_build.h"

namespace casskop {

namespace js = k8s::json;
using js::Allocator;
using js::Value;

namespace {

constexpr const char* default_backrest_image = "gcr.io/cassandra-operator/instaclustr-icarus:1.1.0";

const rack_spec* rack_of(const dc_spec* dc, const dc_rack& r) {
  if (!dc) return nullptr;
  for (const auto& k : dc->racks)
    if (k.name == r.rack) return &k;
  return nullptr;
}

// The model's getters (GetDataCapacityForDC, GetDataStorageClassForDC with v2.1.0's bug kept),
// or the cluster's values for the implicit dc1 of an empty topology.
std::string data_capacity(const cluster_spec& spec, const dc_spec* dc) {
  return dc ? data_capacity_of(spec, *dc) : spec.data_capacity;
}
std::string data_storage_class(const cluster_spec& spec, const dc_spec* dc) {
  return dc ? data_storage_class_of(spec, *dc) : spec.data_storage_class;
}

Value mount(std::string_view name, std::string_view path, Allocator& a) {
  Value m = jb::object();
  jb::add_str(m, "name", name, a);
  jb::add_str(m, "mountPath", path, a);
  return m;
}

// EnvVar.value is omitempty: an empty seed list is written as a bare name.
Value value_env(std::string_view name, std::string_view value, Allocator& a) {
  Value e = jb::object();
  jb::add_str(e, "name", name, a);
  if (!value.empty()) jb::add_str(e, "value", value, a);
  return e;
}

Value field_env(std::string_view name, std::string_view field_path, Allocator& a) {
  Value ref = jb::object();
  jb::add_str(ref, "apiVersion", "v1", a);
  jb::add_str(ref, "fieldPath", field_path, a);
  Value from = jb::object();
  jb::add(from, "fieldRef", std::move(ref), a);
  Value e = jb::object();
  jb::add_str(e, "name", name, a);
  jb::add(e, "valueFrom", std::move(from), a);
  return e;
}

Value secret_env(std::string_view name, std::string_view secret, std::string_view key,
                 Allocator& a) {
  Value ref = jb::object();
  jb::add_str(ref, "name", secret, a);
  jb::add_str(ref, "key", key, a);
  Value from = jb::object();
  jb::add(from, "secretKeyRef", std::move(ref), a);
  Value e = jb::object();
  jb::add_str(e, "name", name, a);
  jb::add(e, "valueFrom", std::move(from), a);
  return e;
}

enum class container_kind { init, bootstrap, cassandra, backrest };

// generateContainerVolumeMount (generator.go:192). The data mount follows the cluster-level
// dataCapacity only (generator.go:213), even where a DC sets its own.
Value generic_mounts(const cluster_spec& spec, container_kind kind, Allocator& a) {
  Value vm = jb::array();
  if (kind == container_kind::init) {
    vm.PushBack(mount("bootstrap", "/bootstrap", a), a);
    return vm;
  }
  vm.PushBack(mount("bootstrap", "/etc/cassandra", a), a);
  vm.PushBack(mount("extra-lib", "/extra-lib", a), a);
  if (kind != container_kind::backrest) vm.PushBack(mount("tools", "/opt/bin", a), a);
  if (kind == container_kind::bootstrap) {
    if (!spec.config_map_name.empty()) vm.PushBack(mount("cassandra-config", "/configmap", a), a);
    return vm;
  }
  if (!spec.data_capacity.empty()) vm.PushBack(mount("data", "/var/lib/cassandra", a), a);
  vm.PushBack(mount("tmp", "/tmp", a), a);
  if (kind == container_kind::backrest) return vm;
  vm.PushBack(mount("log", "/var/log/cassandra", a), a);
  return vm;
}

// commonBootstrapCassandraEnvVar (generator.go:807).
void add_common_env(Value& env, const cluster_spec& spec, Allocator& a) {
  env.PushBack(field_env("POD_IP", "status.podIP", a), a);
  env.PushBack(value_env("CASSANDRA_LOG_DIR", "/var/log/cassandra", a), a);
  if (!spec.image_jolokia_secret.empty()) {
    env.PushBack(secret_env("JOLOKIA_USER", spec.image_jolokia_secret, "username", a), a);
    env.PushBack(secret_env("JOLOKIA_PASSWORD", spec.image_jolokia_secret, "password", a), a);
    env.PushBack(value_env("CASSANDRA_AUTH_JOLOKIA", "true", a), a);
  }
}

constexpr const char* dc_field = "metadata.labels['cassandraclusters.db.orange.com.dc']";
constexpr const char* rack_field = "metadata.labels['cassandraclusters.db.orange.com.rack']";

// bootstrapContainerEnvVar (generator.go:772).
Value bootstrap_env(const parsed_cluster& cc, const std::string& seeds, Allocator& a) {
  Value env = jb::array();
  env.PushBack(value_env("CASSANDRA_CLUSTER_NAME", cc.name, a), a);
  env.PushBack(value_env("CASSANDRA_SEEDS", seeds, a), a);
  env.PushBack(field_env("CASSANDRA_DC", dc_field, a), a);
  env.PushBack(field_env("CASSANDRA_RACK", rack_field, a), a);
  add_common_env(env, cc.spec, a);
  return env;
}

// initContainerEnvVar (generator.go:627).
Value config_builder_env(const parsed_cluster& cc, const dc_rack& r, const generation_inputs& in,
                         Allocator& a) {
  Value env = jb::array();
  env.PushBack(value_env("CONFIG_FILE_DATA", config_file_data(cc, r.dc, r.rack, in.seeds), a), a);
  env.PushBack(value_env("CONFIG_OUTPUT_DIRECTORY", "/bootstrap", a), a);
  env.PushBack(field_env("RACK_NAME", rack_field, a), a);
  env.PushBack(value_env("PRODUCT_NAME", detected_server_type(cc.spec), a), a);
  env.PushBack(value_env("PRODUCT_VERSION", detected_server_version(cc.spec), a), a);
  env.PushBack(field_env("POD_IP", "status.podIP", a), a);
  env.PushBack(field_env("HOST_IP", "status.hostIP", a), a);
  return env;
}

// cpu and memory as resource.Quantity marshals them (canonical form: "0.5" is "500m", "0.5Gi"
// is "512Mi").
Value resource_list(std::string_view cpu, std::string_view memory, Allocator& a) {
  Value l = jb::object();
  jb::add_str(l, "cpu", cpu, a);
  jb::add_str(l, "memory", memory, a);
  return l;
}

Value fixed_resources(std::string_view cpu, std::string_view memory, Allocator& a) {
  Value r = jb::object();
  jb::add(r, "limits", resource_list(cpu, memory, a), a);
  jb::add(r, "requests", resource_list(cpu, memory, a), a);
  return r;
}

// initContainerResources (generator.go:541): 0.5 CPU and 0.5Gi, limits = requests.
Value init_resources(Allocator& a) {
  return fixed_resources("500m", "512Mi", a);
}

Value string_array(std::initializer_list<std::string_view> items, Allocator& a) {
  Value arr = jb::array();
  for (auto s : items) jb::push_str(arr, s, a);
  return arr;
}

void add_pull_policy(Value& c, const std::string& policy, Allocator& a) {
  if (!policy.empty()) jb::add_str(c, "imagePullPolicy", policy, a);
}

// createBaseConfigBuilderContainer (generator.go:868).
Value base_config_builder(const cluster_spec& spec, Allocator& a) {
  Value c = jb::object();
  jb::add_str(c, "name", base_config_builder_container, a);
  jb::add_str(c, "image", spec.cassandra_image, a);
  jb::add(c, "command", string_array({"/bin/sh"}, a), a);
  jb::add(c, "args", string_array({"-c", "cp -r /etc/cassandra/* /bootstrap/"}, a), a);
  jb::add(c, "resources", init_resources(a), a);
  jb::add(c, "volumeMounts", generic_mounts(spec, container_kind::init, a), a);
  add_pull_policy(c, spec.image_pull_policy, a);
  return c;
}

// createInitConfigContainer (generator.go:855).
Value config_builder(const parsed_cluster& cc, const dc_rack& r, const generation_inputs& in,
                     Allocator& a) {
  Value c = jb::object();
  jb::add_str(c, "name", config_builder_container, a);
  jb::add_str(c, "image", cc.spec.config_builder_image, a);
  jb::add(c, "env", config_builder_env(cc, r, in, a), a);
  jb::add(c, "resources", init_resources(a), a);
  jb::add(c, "volumeMounts", generic_mounts(cc.spec, container_kind::init, a), a);
  add_pull_policy(c, cc.spec.image_pull_policy, a);
  return c;
}

// createCassandraBootstrapContainer (generator.go:883).
Value bootstrap(const parsed_cluster& cc, const generation_inputs& in, Allocator& a) {
  Value c = jb::object();
  jb::add_str(c, "name", bootstrap_container, a);
  jb::add_str(c, "image", cc.spec.bootstrap_image, a);
  jb::add(c, "env", bootstrap_env(cc, in.bootstrap_seeds.value_or(in.seeds), a), a);
  jb::add(c, "resources", init_resources(a), a);
  jb::add(c, "volumeMounts", generic_mounts(cc.spec, container_kind::bootstrap, a), a);
  add_pull_policy(c, cc.spec.image_pull_policy, a);
  return c;
}

Value port(std::string_view name, int number, bool tcp, Allocator& a) {
  Value p = jb::object();
  jb::add_str(p, "name", name, a);
  jb::add_int(p, "containerPort", number, a);
  if (tcp) jb::add_str(p, "protocol", "TCP", a);
  return p;
}

// Probe fields are omitempty: a zero is left out (and the API server's default applies).
Value probe(std::string_view script, const probe_settings& s, Allocator& a) {
  Value exec = jb::object();
  jb::add(exec, "command", string_array({"/bin/bash", "-c", script}, a), a);
  Value p = jb::object();
  jb::add(p, "exec", std::move(exec), a);
  if (s.initial_delay_seconds) jb::add_int(p, "initialDelaySeconds", s.initial_delay_seconds, a);
  if (s.timeout_seconds) jb::add_int(p, "timeoutSeconds", s.timeout_seconds, a);
  if (s.period_seconds) jb::add_int(p, "periodSeconds", s.period_seconds, a);
  if (s.success_threshold && *s.success_threshold)
    jb::add_int(p, "successThreshold", *s.success_threshold, a);
  if (s.failure_threshold && *s.failure_threshold)
    jb::add_int(p, "failureThreshold", *s.failure_threshold, a);
  return p;
}

// The resources of the cassandra container (generator.go:920): the DC's when it sets limits
// or requests, as written; else the cluster's, with limits defaulting to requests.
Value cassandra_resources(const cluster_spec& spec, const dc_spec* dc, Allocator& a) {
  if (dc && dc->resources.present() && dc->resources.doc.IsObject() &&
      (dc->resources.doc.HasMember("limits") || dc->resources.doc.HasMember("requests")))
    return Value(dc->resources.doc, a);
  js::Document r = cluster_resources(spec);
  return Value(r, a);
}

// createCassandraContainer (generator.go:917).
Value cassandra(const parsed_cluster& cc, const dc_spec* dc, Allocator& a) {
  const cluster_spec& spec = cc.spec;
  Value c = jb::object();
  jb::add_str(c, "name", cassandra_container, a);
  jb::add_str(c, "image", spec.cassandra_image, a);
  jb::add(c, "command",
          spec.debug ? string_array({"sh", "-c", "tail -f /dev/null"}, a)
                     : string_array({"cassandra", "-f"}, a),
          a);
  Value ports = jb::array();
  ports.PushBack(port("intra-node", 7000, true, a), a);
  ports.PushBack(port("intra-node-tls", 7001, true, a), a);
  ports.PushBack(port("jmx-port", 7199, true, a), a);
  ports.PushBack(port("cql", 9042, true, a), a);
  ports.PushBack(port("promjmx", 9500, true, a), a);
  ports.PushBack(port("jolokia", 8778, true, a), a);
  jb::add(c, "ports", std::move(ports), a);
  Value env = jb::array();
  add_common_env(env, spec, a);
  jb::add(c, "env", std::move(env), a);
  jb::add(c, "resources", cassandra_resources(spec, dc, a), a);
  Value mounts = generic_mounts(spec, container_kind::cassandra, a);
  for (const auto& s : spec.storage_configs) mounts.PushBack(mount(s.name, s.mount_path, a), a);
  jb::add(c, "volumeMounts", std::move(mounts), a);
  jb::add(c, "livenessProbe", probe("/etc/cassandra/liveness-probe.sh", spec.liveness, a), a);
  jb::add(c, "readinessProbe", probe("/etc/cassandra/readiness-probe.sh", spec.readiness, a), a);
  add_pull_policy(c, spec.image_pull_policy, a);
  Value caps = jb::object();
  jb::add(caps, "add", string_array({"IPC_LOCK"}, a), a);
  Value sc = jb::object();
  jb::add(sc, "capabilities", std::move(caps), a);
  jb::add_bool(sc, "readOnlyRootFilesystem", spec.read_only_root_filesystem, a);
  jb::add_str(sc, "procMount", "Default", a);  // generator.go:984
  jb::add(c, "securityContext", std::move(sc), a);
  return c;
}

// backrestSidecarContainer (generator.go:1039): the user's mounts first, then ours.
Value backrest(const cluster_spec& spec, Allocator& a) {
  backrest_sidecar b = spec.backrest.value_or(backrest_sidecar{});
  Value c = jb::object();
  jb::add_str(c, "name", backrest_container, a);
  jb::add_str(c, "image", b.image.empty() ? default_backrest_image : b.image, a);
  Value ports = jb::array();
  ports.PushBack(port("http", 4567, false, a), a);  // no protocol: the server defaults TCP
  jb::add(c, "ports", std::move(ports), a);
  if (b.resources.present())
    jb::add(c, "resources", Value(b.resources.doc, a), a);
  else
    jb::add(c, "resources", fixed_resources("500m", "1Gi", a), a);
  Value mounts = jb::array();
  if (b.volume_mounts.present() && b.volume_mounts.doc.IsArray())
    for (const auto& m : b.volume_mounts.doc.GetArray()) mounts.PushBack(Value(m, a), a);
  Value ours = generic_mounts(spec, container_kind::backrest, a);
  for (auto& m : ours.GetArray()) mounts.PushBack(m, a);
  jb::add(c, "volumeMounts", std::move(mounts), a);
  add_pull_policy(c, b.image_pull_policy, a);
  return c;
}

Value empty_dir(std::string_view name, Allocator& a) {
  Value v = jb::object();
  jb::add_str(v, "name", name, a);
  jb::add(v, "emptyDir", jb::object(), a);
  return v;
}

// generateCassandraVolumes (generator.go:156).
Value volumes(const cluster_spec& spec, Allocator& a) {
  Value v = jb::array();
  for (const char* name : {"bootstrap", "extra-lib", "tools", "log", "tmp"})
    v.PushBack(empty_dir(name, a), a);
  if (!spec.config_map_name.empty()) {
    Value cm = jb::object();
    jb::add_str(cm, "name", spec.config_map_name, a);
    jb::add_int(cm, "defaultMode", 493, a);  // 0755
    Value vol = jb::object();
    jb::add_str(vol, "name", "cassandra-config", a);
    jb::add(vol, "configMap", std::move(cm), a);
    v.PushBack(vol, a);
  }
  return v;
}

std::string_view member_string(const Value& v, const char* key) {
  return js::get_string(v, key);
}

// RemoveDuplicateVolumesAndVolumeMounts (generator.go:409). A claim the cassandra container
// mounts by name claims its mount path: any other mount on that path is dropped from the
// cassandra container, and its volume from the pod. For the other containers v2.1.0 means to
// rename such a mount to the claim, but only stores the result when the count of mounts
// changed (generator.go:458), which renaming never does: their mounts stay as written, while
// the volume they named is still removed. Kept as is: it is what the pods run with.
void remove_duplicate_volumes(Value& containers, const Value& claims, Value& vols) {
  std::vector<std::pair<std::string, std::string>> claim_paths;  // claim name -> mount path
  for (const auto& c : containers.GetArray()) {
    if (member_string(c, "name") != cassandra_container) continue;
    const Value* mounts = js::find(c, "volumeMounts");
    for (const auto& claim : claims.GetArray()) {
      std::string claim_name(js::get_string(claim, {"metadata", "name"}));
      if (!mounts || !mounts->IsArray()) continue;
      for (const auto& m : mounts->GetArray())
        if (member_string(m, "name") == claim_name) {
          bool known = false;
          for (auto& cp : claim_paths)
            if (cp.first == claim_name) cp.second = member_string(m, "mountPath"), known = true;
          if (!known) claim_paths.emplace_back(claim_name, member_string(m, "mountPath"));
        }
    }
  }
  std::set<std::string> to_remove;
  for (auto& c : containers.GetArray()) {
    auto mounts = c.FindMember("volumeMounts");
    if (mounts == c.MemberEnd() || !mounts->value.IsArray()) continue;
    const bool is_cassandra = member_string(c, "name") == cassandra_container;
    std::vector<size_t> drop;
    size_t i = 0;
    for (const auto& m : mounts->value.GetArray()) {
      std::string_view name = member_string(m, "name"), path = member_string(m, "mountPath");
      bool claimed_by_name = false;
      for (const auto& cp : claim_paths) claimed_by_name |= cp.first == name;
      if (!claimed_by_name) {
        for (const auto& cp : claim_paths)
          if (cp.second == path) {
            to_remove.insert(std::string(name));
            if (is_cassandra) drop.push_back(i);
            break;
          }
      }
      ++i;
    }
    for (auto it = drop.rbegin(); it != drop.rend(); ++it)
      mounts->value.Erase(mounts->value.Begin() + *it);
  }
  if (to_remove.empty()) return;
  for (size_t i = vols.Size(); i-- > 0;)
    if (to_remove.count(std::string(member_string(vols[i], "name")))) vols.Erase(vols.Begin() + i);
}

// createNodeAffinity (generator.go:567): one term, an In requirement per label, keys sorted;
// an empty NodeAffinity (written as {}) without labels.
Value node_affinity(const label_map& labels, Allocator& a) {
  Value na = jb::object();
  if (labels.empty()) return na;
  Value exprs = jb::array();
  for (const auto& [k, v] : labels) {
    Value e = jb::object();
    jb::add_str(e, "key", k, a);
    jb::add_str(e, "operator", "In", a);
    Value values = jb::array();
    jb::push_str(values, v, a);
    jb::add(e, "values", std::move(values), a);
    exprs.PushBack(e, a);
  }
  Value term = jb::object();
  jb::add(term, "matchExpressions", std::move(exprs), a);
  Value terms = jb::array();
  terms.PushBack(term, a);
  Value selector = jb::object();
  jb::add(selector, "nodeSelectorTerms", std::move(terms), a);
  jb::add(na, "requiredDuringSchedulingIgnoredDuringExecution", std::move(selector), a);
  return na;
}

// createPodAntiAffinity (generator.go:601): on kubernetes.io/hostname over all of the cluster's
// pods; hard = required, soft = preferred with weight 100.
Value pod_anti_affinity(bool hard, const label_map& labels, Allocator& a) {
  Value selector = jb::object();
  jb::add(selector, "matchLabels", jb::string_map(labels, a), a);
  Value term = jb::object();
  jb::add(term, "labelSelector", std::move(selector), a);
  jb::add_str(term, "topologyKey", "kubernetes.io/hostname", a);
  Value terms = jb::array();
  Value paa = jb::object();
  if (hard) {
    terms.PushBack(term, a);
    jb::add(paa, "requiredDuringSchedulingIgnoredDuringExecution", std::move(terms), a);
  } else {
    Value weighted = jb::object();
    jb::add_int(weighted, "weight", 100, a);
    jb::add(weighted, "podAffinityTerm", std::move(term), a);
    terms.PushBack(weighted, a);
    jb::add(paa, "preferredDuringSchedulingIgnoredDuringExecution", std::move(terms), a);
  }
  return paa;
}

// generateVolumeClaimTemplate (generator.go:255) and the storageConfigs' claims.
Value claim_templates(const parsed_cluster& cc, const dc_spec* dc, const label_map& labels,
                      std::vector<spec_problem>& problems, Allocator& a) {
  Value claims = jb::array();
  const std::string capacity = data_capacity(cc.spec, dc);
  if (!capacity.empty()) {
    Value meta = jb::object();
    jb::add_str(meta, "name", "data", a);
    jb::add(meta, "labels", jb::string_map(labels, a), a);
    Value requests = jb::object();
    jb::add_str(requests, "storage", capacity, a);
    Value res = jb::object();
    jb::add(res, "requests", std::move(requests), a);
    Value spec = jb::object();
    jb::add(spec, "accessModes", string_array({"ReadWriteOnce"}, a), a);
    jb::add(spec, "resources", std::move(res), a);
    const std::string cls = data_storage_class(cc.spec, dc);
    if (!cls.empty()) jb::add_str(spec, "storageClassName", cls, a);
    Value claim = jb::object();
    jb::add(claim, "metadata", std::move(meta), a);
    jb::add(claim, "spec", std::move(spec), a);
    claims.PushBack(claim, a);
  }
  // v2.1.0 returns before the storageConfigs when there is no data capacity
  // (generator.go:262), leaving their mounts without a volume: the API server refused such a
  // StatefulSet, so none exists to stay compatible with. We give them their claims.
  for (size_t i = 0; i < cc.spec.storage_configs.size(); ++i) {
    const storage_config& s = cc.spec.storage_configs[i];
    if (!s.pvc_spec.present() || !s.pvc_spec.doc.IsObject()) {
      problems.push_back({"spec.storageConfigs[" + std::to_string(i) + "].pvcSpec",
                          "Can't create PVC from storageConfig named " + s.name +
                              ", with mountPath " + s.mount_path +
                              ", because the PvcSpec is not specified"});
      continue;
    }
    Value meta = jb::object();
    jb::add_str(meta, "name", s.name, a);
    jb::add(meta, "labels", jb::string_map(labels, a), a);
    Value claim = jb::object();
    jb::add(claim, "metadata", std::move(meta), a);
    jb::add(claim, "spec", Value(s.pvc_spec.doc, a), a);
    claims.PushBack(claim, a);
  }
  return claims;
}

}  // namespace

label_map statefulset_labels(const parsed_cluster& cc, const dc_rack& rack) {
  return labels_for_dc_rack(cc.name, rack.dc, rack.rack, cc.labels);
}

pod_template_parts pod_template(const parsed_cluster& cc, const dc_rack& r,
                                const generation_inputs& in, Allocator& a) {
  const cluster_spec& spec = cc.spec;
  const dc_spec* dc = find_dc(spec, r.dc);
  const rack_spec* rack = rack_of(dc, r);
  const label_map labels = statefulset_labels(cc, r);
  pod_template_parts out{jb::object(), jb::array(), {}};

  out.volume_claim_templates = claim_templates(cc, dc, labels, out.problems, a);

  // generateContainers (generator.go:905): sidecars, cassandra, backrest.
  Value containers = jb::array();
  if (spec.sidecar_configs.present() && spec.sidecar_configs.doc.IsArray()) {
    rapidjson::SizeType i = 0;
    for (const auto& s : spec.sidecar_configs.doc.GetArray()) {
      if (s.IsObject())
        containers.PushBack(Value(s, a), a);
      else
        out.problems.push_back({"spec.sidecarConfigs[" + std::to_string(i) + "]",
                                "a sidecar must be a container (an object)"});
      ++i;
    }
  }
  containers.PushBack(cassandra(cc, dc, a), a);
  containers.PushBack(backrest(spec, a), a);

  Value vols = volumes(spec, a);
  remove_duplicate_volumes(containers, out.volume_claim_templates, vols);

  Value init = jb::array();
  init.PushBack(base_config_builder(spec, a), a);
  init.PushBack(config_builder(cc, r, in, a), a);
  init.PushBack(bootstrap(cc, in, a), a);

  // addBootstrapContainerEnvVarsToSidecars (generator.go:485): every container but cassandra,
  // the backrest sidecar included, gets the bootstrap container's env after its own.
  for (auto& c : containers.GetArray()) {
    if (member_string(c, "name") == cassandra_container) continue;
    Value extra = bootstrap_env(cc, in.seeds, a);
    auto env = c.FindMember("env");
    if (env == c.MemberEnd() || !env->value.IsArray()) {
      if (env != c.MemberEnd()) c.RemoveMember("env");
      jb::add(c, "env", jb::array(), a);
      env = c.FindMember("env");
    }
    for (auto& e : extra.GetArray()) env->value.PushBack(e, a);
  }

  label_map node_labels = dc ? dc->labels : label_map{};
  if (rack)
    for (const auto& [k, v] : rack->labels) node_labels[k] = v;

  Value pod = jb::object();
  jb::add(pod, "volumes", std::move(vols), a);
  jb::add(pod, "initContainers", std::move(init), a);
  jb::add(pod, "containers", std::move(containers), a);
  jb::add_str(pod, "restartPolicy", "Always", a);
  jb::add_int(pod, "terminationGracePeriodSeconds", 1800, a);  // api/v2 types.go:34
  if (!spec.service_account_name.empty())
    jb::add_str(pod, "serviceAccountName", spec.service_account_name, a);
  if (spec.share_process_namespace)
    jb::add_bool(pod, "shareProcessNamespace", *spec.share_process_namespace, a);
  Value psc = jb::object();
  jb::add_int(psc, "runAsUser", spec.run_as_user, a);
  jb::add_bool(psc, "runAsNonRoot", true, a);
  jb::add_int(psc, "fsGroup", spec.fs_group, a);
  jb::add(pod, "securityContext", std::move(psc), a);
  if (!spec.image_pull_secret.empty()) {
    Value secrets = jb::array();
    Value ref = jb::object();
    jb::add_str(ref, "name", spec.image_pull_secret, a);
    secrets.PushBack(ref, a);
    jb::add(pod, "imagePullSecrets", std::move(secrets), a);
  }
  Value affinity = jb::object();
  jb::add(affinity, "nodeAffinity", node_affinity(node_labels, a), a);
  jb::add(affinity, "podAntiAffinity",
          pod_anti_affinity(spec.hard_anti_affinity, labels_for_cluster(cc.name, cc.labels), a), a);
  jb::add(pod, "affinity", std::move(affinity), a);
  if (spec.pod_tolerations.present() && spec.pod_tolerations.doc.IsArray() &&
      !spec.pod_tolerations.doc.Empty())
    jb::add(pod, "tolerations", Value(spec.pod_tolerations.doc, a), a);

  label_map template_labels = labels;
  for (const auto& [k, v] : in.extra_template_labels) template_labels[k] = v;
  Value meta = jb::object();
  jb::add(meta, "labels", jb::string_map(template_labels, a), a);
  if (!spec.pod_annotations.empty())
    jb::add(meta, "annotations", jb::string_map(spec.pod_annotations, a), a);
  jb::add(out.template_, "metadata", std::move(meta), a);
  jb::add(out.template_, "spec", std::move(pod), a);
  return out;
}

}  // namespace casskop
