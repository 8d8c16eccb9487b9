#include "actors/operator_metrics.h"

#include <memory>

namespace mc {

operator_metrics& metrics() {
  auto& r = k8s::metrics::default_registry();
  // Latency buckets as client-go's rest_client_request_duration_seconds, from 5 ms to 1 min.
  static const std::vector<double> api_buckets = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                                                  1,     2.5,  5,     10,   30,  60};
  static operator_metrics m{
      r.counters("multicasskop_events_total", "Events handled by the supervisor, by type"),
      r.counters("multicasskop_commands_total", "Commands decided by the state machine, by kind"),
      r.histograms("multicasskop_decision_duration_seconds", "Time to fold one event and decide",
                   {0.00001, 0.0001, 0.001, 0.01, 0.1, 1}),
      r.gauges("multicasskop_cluster_reachable",
               "1 when the cluster is reachable and its first list is in"),
      r.gauges("multicasskop_region_phase",
               "The phase each region of a MultiCasskop is in: one series per region, value 1"),
      r.gauges("multicasskop_journal_events", "Journal summaries kept in memory"),
      r.gauges("multicasskop_multicasskops", "MultiCasskops known to the supervisor"),
      r.counters("multicasskop_api_requests_total",
                 "Requests to the Kubernetes API by cluster, verb and HTTP status code"),
      r.histograms("multicasskop_api_request_duration_seconds",
                   "Kubernetes API request latency by cluster and verb (watches: until opened)",
                   api_buckets),
      r.counters("multicasskop_watch_restarts_total",
                 "Watches started again from the last resource version, by cluster and resource"),
      r.counters("multicasskop_watch_relists_total",
                 "Full lists after a watch could not resume (410 Gone, undecodable event)"),
      r.counters("multicasskop_kubernetes_events_total",
                 "Kubernetes Events on MultiCasskops by result: created, updated (count bumped), "
                 "dropped (rate limited), failed"),
  };
  return m;
}

std::function<void(const k8s::request_record&)> api_request_observer(const std::string& cluster) {
  auto& m = metrics();
  return [&m, cluster](const k8s::request_record& r) {
    std::string verb(r.verb);
    m.api_requests
        .labels({{"cluster", cluster},
                 {"verb", verb},
                 {"code", r.code == 0 ? "<error>" : std::to_string(r.code)}})
        .inc();
    m.api_latency.labels({{"cluster", cluster}, {"verb", verb}}).observe(r.elapsed.count());
  };
}

std::function<void(const k8s::watcher_status&)> watch_restart_observer(
    const std::string& cluster, const std::string& resource) {
  auto& m = metrics();
  auto& restarts = m.watch_restarts.labels({{"cluster", cluster}, {"resource", resource}});
  auto& relists = m.watch_relists.labels({{"cluster", cluster}, {"resource", resource}});
  struct seen {
    int restarts = 0;
    int relists = 0;
  };
  auto last = std::make_shared<seen>();
  return [&restarts, &relists, last](const k8s::watcher_status& s) {
    if (s.rewatches > last->restarts) restarts.inc(s.rewatches - last->restarts);
    if (s.relists > last->relists) relists.inc(s.relists - last->relists);
    last->restarts = s.rewatches;
    last->relists = s.relists;
  };
}

void forget_cluster_metrics(const std::string& cluster) {
  auto& m = metrics();
  m.reachable.remove_matching({{"cluster", cluster}});
  m.api_requests.remove_matching({{"cluster", cluster}});
  m.api_latency.remove_matching({{"cluster", cluster}});
  m.watch_restarts.remove_matching({{"cluster", cluster}});
  m.watch_relists.remove_matching({{"cluster", cluster}});
}

}  // namespace mc
