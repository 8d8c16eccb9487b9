// The pod template and volume claim templates of one dc-rack's StatefulSet, field for field as
// CassKop v2.1.0's generateCassandraStatefulSet builds them (controllers/cassandracluster/
// generator.go:301): a template that differs in anything (list order, a default left out, one
// byte of CONFIG_FILE_DATA) is a new revision, and the StatefulSet controller would restart
// every pod of a cluster v2.1.0 created.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "actors/casskop/logic/cluster_spec.h"
#include "actors/casskop/logic/names.h"
#include "k8s/json/json.h"

namespace casskop {

// What the generator needs that is not in the spec.
struct generation_inputs {
  // The comma-joined status seedlist (cc.SeedList, generator.go:629, 781): cluster-info.seeds of
  // CONFIG_FILE_DATA, and CASSANDRA_SEEDS of the bootstrap container and of every sidecar.
  std::string seeds;
  // The bootstrap container's CASSANDRA_SEEDS when it differs: v2.1.0 keeps the stored
  // StatefulSet's value unless an UpdateSeedList is under way (statefulset.go:229), after the
  // sidecars got theirs from the status seedlist. The caller passes the stored value then.
  std::optional<std::string> bootstrap_seeds;
  // Labels the stored template carries that v2.1.0 keeps (statefulset.go:218 copies the stored
  // template labels over the generated ones), e.g. rolling-restart=<time>.
  label_map extra_template_labels;
};

struct pod_template_parts {
  k8s::json::Value template_;               // spec.template: metadata, spec
  k8s::json::Value volume_claim_templates;  // [] when none
  std::vector<spec_problem> problems;       // a storageConfig without pvcSpec
};

// One dc-rack of racks_of(cc.spec) (its dc_index/rack_index are ignored for the implicit
// dc1/rack1 topology). Allocates in `a`.
pod_template_parts pod_template(const parsed_cluster& cc, const dc_rack& rack,
                                const generation_inputs& in, k8s::json::Allocator& a);

// The labels of the StatefulSet, its selector, its pods and its claims (pkg/k8s/util.go:161
// DCRackLabelsAndNodeSelectorForStatefulSet): the CC's own labels, then ours.
label_map statefulset_labels(const parsed_cluster& cc, const dc_rack& rack);

inline constexpr const char* cassandra_container = "cassandra";
inline constexpr const char* bootstrap_container = "bootstrap";
inline constexpr const char* config_builder_container = "config-builder";
inline constexpr const char* base_config_builder_container = "base-config-builder";
inline constexpr const char* backrest_container = "backrest-sidecar";

}  // namespace casskop
