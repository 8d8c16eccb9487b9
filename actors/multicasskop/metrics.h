// The operator's own Prometheus metrics, registered once in the process's default registry, and
// the observers that feed them from the Kubernetes client and the watchers.
#pragma once

#include <functional>
#include <string>

#include "k8s/api/client.h"
#include "k8s/base/metrics.h"
#include "k8s/watch/watcher.h"

namespace mc {

struct operator_metrics {
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
  counters& api_requests;       // {cluster,verb,code}
  histograms& api_latency;      // {cluster,verb}
  counters& watch_restarts;     // {cluster,resource}: watches opened again after an end
  counters& watch_relists;      // {cluster,resource}: full lists after a gap (410, garbled line)
  counters& kubernetes_events;  // {result}: created, updated, dropped, failed
};

operator_metrics& metrics();

// For a client of `cluster`: counts each request by verb and status code ("<error>" when no
// answer came) and records its latency.
std::function<void(const k8s::request_record&)> api_request_observer(const std::string& cluster);

// Counts restarts and relists of one watcher of `cluster` from its successive status reports
// (which carry running totals). Call it from the watcher's status callback only: it keeps the
// last totals it saw.
std::function<void(const k8s::watcher_status&)> watch_restart_observer(const std::string& cluster,
                                                                       const std::string& resource);

// Forgets a cluster's series (a cluster removed by a reload is no longer reported; its regions
// stay, as Detached).
void forget_cluster_metrics(const std::string& cluster);

}  // namespace mc
