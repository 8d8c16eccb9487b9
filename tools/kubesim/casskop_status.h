// The CassandraCluster status the CassKop stand-in writes, free of I/O so it can be unit tested:
// which cluster action a spec change is, the rack status names, and the status merge patch.
// Field names and values follow original CassKop (api/v2/cassandracluster_types.go).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "k8s/json/json.h"

namespace kubesim::casskop {

// Annotation that keeps an object's action Ongoing while it is "true".
inline constexpr const char* kHoldAnnotation = "kubesim.casskop/hold";

bool held(const k8s::json::Value& cc);
// A digest of .spec: the change detector for a CRD without status subresource, where every
// write (status too) bumps metadata.generation.
std::string spec_hash(const k8s::json::Value& cc);

// "<dc>-<rack>" for every rack of spec.topology in spec order: dc1-rack1 without topology, and
// "<dc>-rack1" for a DC without racks (CassKop's defaults).
std::vector<std::string> rack_names(const k8s::json::Value& cc);

// The action of a spec change from `before` (the last spec brought to Done, null if unknown)
// to `after` (specs, not whole objects): ScaleUp or ScaleDown when a DC's effective
// nodesPerRacks grew or shrank, else UpdateStatefulSet.
std::string change_action(const k8s::json::Value* before, const k8s::json::Value& after);

struct step {
  std::string phase;          // Initializing or Running
  std::string action;         // lastClusterAction
  std::string action_status;  // Ongoing or Done
  std::string start_time;
  std::string end_time;                          // empty while Ongoing
  std::optional<long long> observed_generation;  // written with Done only
};

// The merge patch that moves `cc`'s status to `s`, with a resourceVersion precondition.
// Fields it does not own (seedlist, cassandraNodeStatus, ...) are left out so they stay;
// racks that left the topology are removed.
std::string status_patch(const k8s::json::Value& cc, uint64_t rv, const step& s);

}  // namespace kubesim::casskop
