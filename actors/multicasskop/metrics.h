// multi-casskop's own Prometheus metrics (multicasskop_*), registered once in the process's
// default registry. The client, watch and Event metrics are the runtime's
// (actors/runtime/client_metrics.h), labelled controller="multicasskop".
#pragma once

#include <string>

#include "k8s/base/metrics.h"

namespace mc {

// This controller's name in the runtime's metrics (their `controller` label).
inline constexpr const char* controller_name = "multicasskop";

struct multicasskop_metrics {
  using counters = k8s::metrics::family<k8s::metrics::counter>;
  using gauges = k8s::metrics::family<k8s::metrics::gauge>;
  using histograms = k8s::metrics::family<k8s::metrics::histogram>;

  counters& events;      // {type}: events folded by the supervisor
  counters& commands;    // {kind}: commands decided
  histograms& decision;  // time to fold one event and decide
  gauges& reachable;     // {cluster}
  gauges& region_phase;  // {namespace,multicasskop,region,phase}: 1 for the current phase
  gauges& journal_size;
  gauges& multicasskops;
  counters& child_restarts;  // {role}: actors the supervisor restarted after they failed
};

multicasskop_metrics& metrics();

// Forgets a cluster's series, ours and the runtime's (a cluster removed by a reload is no longer
// reported; its regions stay, as Detached).
void forget_cluster_metrics(const std::string& cluster);

}  // namespace mc
