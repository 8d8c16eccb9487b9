// A CassandraCluster (db.orange.com/v2) as casskop reads it: the spec typed after CassKop
// v2.1.0's CheckDefaults (api/v2/cassandracluster_types.go), the status as v2.1.0 writes it.
// Kubernetes sub-objects the operator only copies (resources, tolerations, containers, PVC
// specs, volume mounts, free config) stay JSON, so nothing the user wrote is lost in between.
// Pure data and pure functions: no I/O, no actors.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "k8s/json/json.h"

namespace casskop {

// An owned JSON value (a Document so it carries its own allocator). Null when absent.
struct json_value {
  k8s::json::Document doc;
  json_value();
  json_value(const json_value& other);
  json_value& operator=(const json_value& other);
  json_value(json_value&&) noexcept = default;
  json_value& operator=(json_value&&) noexcept = default;
  bool present() const { return !doc.IsNull(); }
  bool operator==(const json_value& other) const;  // deep, JSON semantics
  bool operator!=(const json_value& other) const { return !(*this == other); }
};

struct rack_spec {
  std::string name;
  std::map<std::string, std::string> labels;  // node affinity: nodeSelectorTerms
  json_value config;                          // free JSON merged over the DC's
  bool rolling_restart = false;
  int32_t rolling_partition = 0;
};

struct dc_spec {
  std::string name;
  std::map<std::string, std::string> labels;
  json_value config;
  std::optional<int32_t> nodes_per_racks;  // per-DC override of spec.nodesPerRacks
  std::string data_capacity;
  std::string data_storage_class;
  json_value resources;  // v1.ResourceRequirements; wins over spec.resources when set
  std::vector<rack_spec> racks;
};

struct storage_config {
  std::string mount_path;
  std::string name;
  json_value pvc_spec;  // v1.PersistentVolumeClaimSpec
};

struct backrest_sidecar {
  std::string image;
  std::string image_pull_policy;
  json_value resources;
  json_value volume_mounts;  // []v1.VolumeMount (CRD field "volumeMount")
};

struct probe_settings {
  int32_t initial_delay_seconds = 0;
  int32_t timeout_seconds = 0;
  int32_t period_seconds = 0;
  std::optional<int32_t> failure_threshold;
  std::optional<int32_t> success_threshold;
};

// spec, after CheckDefaults: every default v2.1.0 fills in is filled in here too.
struct cluster_spec {
  int32_t nodes_per_racks = 1;
  std::string cassandra_image;
  std::string image_pull_policy;
  std::string bootstrap_image;
  std::string config_builder_image;
  int64_t run_as_user = 999;
  int64_t fs_group = 1;
  bool read_only_root_filesystem = true;
  json_value resources;
  bool hard_anti_affinity = false;
  std::map<std::string, std::string> pod_annotations;
  json_value pod_tolerations;  // []v1.Toleration
  std::map<std::string, std::string> service_annotations;
  bool delete_pvc = false;
  bool debug = false;
  bool auto_pilot = false;
  bool no_check_sts_are_equal = false;
  bool auto_update_seed_list = false;
  int32_t max_pod_unavailable = 1;
  int32_t restart_count_before_pod_deletion = 0;
  bool unlock_next_operation = false;
  std::string data_capacity;
  std::string data_storage_class;
  std::vector<storage_config> storage_configs;
  json_value sidecar_configs;  // []v1.Container, kept whole
  std::string config_map_name;
  std::string server_version;
  std::string server_type;
  json_value config;
  std::string image_pull_secret;     // LocalObjectReference.name
  std::string image_jolokia_secret;  // LocalObjectReference.name
  std::vector<dc_spec> dcs;          // spec.topology.dc, in spec order
  probe_settings liveness;
  probe_settings readiness;
  std::optional<bool> share_process_namespace;
  std::optional<backrest_sidecar> backrest;
  std::string service_account_name;
};

struct last_action {
  std::string name;    // an action name below
  std::string status;  // ToDo, Configuring, Ongoing, Continue, Finalizing, Done
  std::string start_time;
  std::string end_time;
  std::vector<std::string> updated_nodes;
};

struct pod_last_operation {
  std::string name, status, start_time, end_time, operator_name;
  std::vector<std::string> pods, pods_ok, pods_ko;
};

struct rack_status {
  std::string phase;  // Initializing, Running, Pending
  last_action cassandra_last_action;
  pod_last_operation pod_last_op;
};

struct node_status {
  std::string host_id;
  std::string node_ip;
};

struct cluster_status {
  std::string phase;
  std::string last_cluster_action;
  std::string last_cluster_action_status;
  std::vector<std::string> seedlist;
  std::map<std::string, node_status> nodes;  // by pod name
  std::map<std::string, rack_status> racks;  // by "dc-rack"
};

// Phases, actions and statuses, spelled as v2.1.0 writes them.
namespace phase {
inline constexpr const char* initializing = "Initializing";
inline constexpr const char* running = "Running";
inline constexpr const char* pending = "Pending";
}  // namespace phase
namespace action {
inline constexpr const char* initializing = "Initializing";
inline constexpr const char* update_config_map = "UpdateConfigMap";
inline constexpr const char* update_docker_image = "UpdateDockerImage";
inline constexpr const char* update_seed_list = "UpdateSeedList";
inline constexpr const char* rolling_restart = "RollingRestart";
inline constexpr const char* update_resources = "UpdateResources";
inline constexpr const char* update_statefulset = "UpdateStatefulSet";
inline constexpr const char* scale_up = "ScaleUp";
inline constexpr const char* scale_down = "ScaleDown";
inline constexpr const char* delete_dc = "ActionDeleteDC";
inline constexpr const char* delete_rack = "ActionDeleteRack";
inline constexpr const char* correct_crd_config = "CorrectCRDConfig";
}  // namespace action
namespace status {
inline constexpr const char* to_do = "ToDo";
inline constexpr const char* configuring = "Configuring";
inline constexpr const char* ongoing = "Ongoing";
inline constexpr const char* continue_ = "Continue";
inline constexpr const char* finalizing = "Finalizing";
inline constexpr const char* done = "Done";
inline constexpr const char* manual = "Manual";
inline constexpr const char* error = "Error";
}  // namespace status

inline constexpr const char* last_applied_annotation =
    "cassandraclusters.db.orange.com/last-applied-configuration";
inline constexpr const char* pvc_finalizer = "kubernetes.io/pvc-to-delete";

// A problem with what the user wrote: `field` is the JSON path ("spec.topology.dc[1].name").
struct spec_problem {
  std::string field;
  std::string message;
};

struct parsed_cluster {
  std::string name, namespace_, uid;
  int64_t generation = 0;
  std::map<std::string, std::string> labels;  // metadata.labels: copied onto every object
  cluster_spec spec;
  cluster_status status;
  std::vector<spec_problem> problems;  // empty when the spec can be acted on
};

// Reads a CassandraCluster object (v2 JSON) and applies CheckDefaults, the CRD's defaults and
// (on the first pass, when status.phase is empty) SetDefaults' nodesPerRacks.
parsed_cluster parse_cluster(const k8s::json::Value& object);
// Only the spec (the value of "spec"), with the same defaults; problems are appended, with paths
// starting "spec.". A global nodesPerRacks written as 0 stays 0 (refused as a change later).
cluster_spec parse_spec(const k8s::json::Value& spec, std::vector<spec_problem>& problems);
// The spec back as JSON, as v2.1.0 would marshal it (omitempty).
k8s::json::Document spec_to_json(const cluster_spec& spec);
k8s::json::Document status_to_json(const cluster_status& status);

// Effective per-DC values, as v2.1.0's getters (NodesPerRacks of a DC, its capacity, class,
// resources). Precondition: `dc` indexes spec.dcs, or the implicit dc1/rack1 topology when
// spec.dcs is empty (see racks_of).
int32_t nodes_per_racks_of(const cluster_spec& spec, const dc_spec& dc);
// GetDataCapacityForDC: the DC's dataCapacity when set, else spec.dataCapacity.
std::string data_capacity_of(const cluster_spec& spec, const dc_spec& dc);
// GetDataStorageClassForDC, with v2.1.0's bug kept on purpose: the DC's dataStorageClass is used
// only when the DC sets its own dataCapacity (see cluster_spec.cpp for why).
std::string data_storage_class_of(const cluster_spec& spec, const dc_spec& dc);
// Two v1.ResourceRequirements (as parsed: limits and requests of Quantities) the same for Go:
// quantities compared by value ("1" = "1000m", "2Gi" = "2048Mi"), as a v2.1.0 spec written back
// in Go's canonical spelling must not look like a resources change.
bool same_resources(const json_value& a, const json_value& b);
// The DC of that name in spec.dcs, or nullptr.
const dc_spec* find_dc(const cluster_spec& spec, const std::string& name);
// v2.1.0's regexDCRackName (api/v2/cassandracluster_types.go:72): ^[a-z]([-a-z0-9]*[a-z0-9])?$
bool is_dns1035_label(const std::string& name);

// Every dc-rack in spec order; an empty topology is dc1/rack1, a DC without racks has rack1,
// as v2.1.0's InitCassandraRackList.
struct dc_rack {
  std::string dc, rack;
  size_t dc_index = 0, rack_index = 0;
  std::string name() const { return dc + "-" + rack; }
};
std::vector<dc_rack> racks_of(const cluster_spec& spec);

}  // namespace casskop
