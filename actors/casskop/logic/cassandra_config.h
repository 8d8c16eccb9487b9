// What v2.1.0's config-builder init container receives (generator.go:627 initContainerEnvVar):
// CONFIG_FILE_DATA, the cass-config-builder JSON, rendered byte for byte as v2.1.0 renders it
// (a different string is a different pod template: every pod would restart on takeover), and
// the product name and version it detects from the image.
#pragma once

#include <string>

#include "actors/casskop/logic/cluster_spec.h"
#include "k8s/json/json.h"

namespace casskop {

// PRODUCT_VERSION: spec.serverVersion, else the image tag up to its first '-' (with ".0"
// appended when there was a '-'), else "" (generator.go:631).
std::string detected_server_version(const cluster_spec& spec);
// PRODUCT_NAME: spec.serverType, else "dse" when the image's part before the first ':' says
// so, else "cassandra" (generator.go:643).
std::string detected_server_type(const cluster_spec& spec);

// spec.resources after v2.1.0's SetDefaults (cassandracluster_types.go:179): limits copied from
// requests when limits are unset. Only the cluster level: a DC's resources are used as written.
k8s::json::Document cluster_resources(const cluster_spec& spec);

struct jvm_heap {
  std::string max_heap_size, initial_heap_size;
};
// defineJvmMemory (generator.go:498): max = memory limit / 4 in whole MiB, initial = max / 4;
// 2048M / 512M without a memory limit.
jvm_heap jvm_heap_of(const k8s::json::Value& resources);

// CONFIG_FILE_DATA for one dc-rack: cluster-info (name, seeds), datacenter-info (name), then
// spec.config, the DC's config, the rack's config merged in (later wins, objects merged key by
// key, anything else replaced), then v2.1.0's defaults for keys still unset. `seeds` is the
// comma-joined seed list (the status seedlist, as for CASSANDRA_SEEDS). The heap comes from the
// cluster-level memory limit even when the DC has its own resources (generator.go:862).
std::string config_file_data(const parsed_cluster& cc, const std::string& dc,
                             const std::string& rack, const std::string& seeds);

}  // namespace casskop
