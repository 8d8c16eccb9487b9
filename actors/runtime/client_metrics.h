// The runtime's Prometheus metrics, shared by every controller and told apart by a `controller`
// label: Kubernetes API requests, watch restarts and relists, Kubernetes Events recorded.
// Registered once in the process's default registry.
#pragma once

#include <functional>
#include <string>

#include "k8s/api/client.h"
#include "k8s/base/metrics.h"
#include "k8s/watch/watcher.h"

namespace runtime {

struct client_metrics {
  using counters = k8s::metrics::family<k8s::metrics::counter>;
  using histograms = k8s::metrics::family<k8s::metrics::histogram>;

  counters& api_requests;       // {controller,cluster,verb,code}
  histograms& api_latency;      // {controller,cluster,verb}
  counters& watch_restarts;     // {controller,cluster,resource}: watches opened again after an end
  counters& watch_relists;      // {controller,cluster,resource}: full lists after a gap
  counters& kubernetes_events;  // {controller,result}: created, updated, dropped, failed
};

client_metrics& metrics();

// For a client of `cluster`: counts each request by verb and status code ("<error>" when no
// answer came) and records its latency.
std::function<void(const k8s::request_record&)> api_request_observer(const std::string& controller,
                                                                     const std::string& cluster);

// Counts restarts and relists of one watcher from its successive status reports (which carry
// running totals). Call it from the watcher's status callback only: it keeps the last totals.
std::function<void(const k8s::watcher_status&)> watch_restart_observer(
    const std::string& controller, const std::string& cluster, const std::string& resource);

// The Kubernetes Event results of one controller, one counter each; their series exist, at 0,
// once this was called.
struct event_counters {
  k8s::metrics::counter& created;
  k8s::metrics::counter& updated;
  k8s::metrics::counter& dropped;
  k8s::metrics::counter& failed;
};
event_counters event_counts(const std::string& controller);

// Forgets a cluster's series (a cluster removed by a reload is no longer reported).
void forget_cluster_metrics(const std::string& controller, const std::string& cluster);

}  // namespace runtime
