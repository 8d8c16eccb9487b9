// The disruption controller of kube-controller-manager (pkg/controller/disruption/disruption.go,
// v1.32): it keeps each PodDisruptionBudget's status (expectedPods, currentHealthy,
// desiredHealthy, disruptionsAllowed, disruptedPods, observedGeneration and the
// DisruptionAllowed condition) up to date as PDBs and pods change. A real cluster always runs
// it, so every simulated cluster does.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "k8s/json/json.h"

namespace boost::asio {
class io_context;
}

namespace kubesim {

class cluster_state;

namespace pdb {

// The scale of a pod's controller (the finders: a StatefulSet's or Deployment's
// spec.replicas), nullopt when no supported controller with that uid exists.
using scale_finder =
    std::function<std::optional<long long>(const k8s::json::Value& controller_ref)>;

// trySync's numbers for one PDB and the pods its selector matches; throws std::runtime_error
// with the real message when they cannot be computed (failSafe then writes SyncFailed).
struct counts {
  long long expected = 0;
  long long desired_healthy = 0;
  long long current_healthy = 0;
  long long disruptions_allowed = 0;
  // buildDisruptedPodMap: status.disruptedPods entries of pods still there, not being deleted,
  // whose deletion is expected within DeletionTimeout (2 min); the earliest of those deadlines.
  std::map<std::string, std::string> disrupted;
  std::optional<int64_t> recheck_unix_ms;
};
counts compute(const k8s::json::Value& pdb, const std::vector<const k8s::json::Value*>& pods,
               const scale_finder& scale_of, int64_t now_unix_ms);

// GetScaledValueFromIntOrPercent with rounding up: an integer, or "<n>%" of `total`.
long long scaled_value(const k8s::json::Value& int_or_percent, long long total);

// The status the controller writes (updatePdbStatus / failSafe): `old` is the current status
// (its conditions and disruptedPods are carried over), `failure` the sync error if any.
// `now` stamps a condition whose status changes.
k8s::json::Document status(const k8s::json::Value& pdb, const counts& c, const std::string* failure,
                           const std::string& now);

}  // namespace pdb

class disruption_controller {
 public:
  disruption_controller(boost::asio::io_context& io, cluster_state& state);
  ~disruption_controller();
  disruption_controller(const disruption_controller&) = delete;
  disruption_controller& operator=(const disruption_controller&) = delete;

  void start();
  void stop();  // for good: no task touches the store once it returns

  struct impl;

 private:
  std::shared_ptr<impl> impl_;
};

}  // namespace kubesim
