#include "actors/runtime/client_metrics.h"

#include <memory>

namespace runtime {

client_metrics& metrics() {
  auto& r = k8s::metrics::default_registry();
  // Latency buckets as client-go's rest_client_request_duration_seconds, from 5 ms to 1 min.
  static const std::vector<double> api_buckets = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                                                  1,     2.5,  5,     10,   30,  60};
  static client_metrics m{
      r.counters(
          "operator_api_requests_total",
          "Requests to the Kubernetes API by controller, cluster, verb and HTTP status code"),
      r.histograms("operator_api_request_duration_seconds",
                   "Kubernetes API request latency by controller, cluster and verb (watches: until "
                   "opened)",
                   api_buckets),
      r.counters("operator_watch_restarts_total",
                 "Watches started again from the last resource version, by controller, cluster and "
                 "resource"),
      r.counters("operator_watch_relists_total",
                 "Full lists after a watch could not resume (410 Gone, undecodable event)"),
      r.counters("operator_kubernetes_events_total",
                 "Kubernetes Events by controller and result: created, updated (count bumped), "
                 "dropped (rate limited), failed"),
  };
  return m;
}

std::function<void(const k8s::request_record&)> api_request_observer(const std::string& controller,
                                                                     const std::string& cluster) {
  auto& m = metrics();
  return [&m, controller, cluster](const k8s::request_record& r) {
    std::string verb(r.verb);
    m.api_requests
        .labels({{"controller", controller},
                 {"cluster", cluster},
                 {"verb", verb},
                 {"code", r.code == 0 ? "<error>" : std::to_string(r.code)}})
        .inc();
    m.api_latency.labels({{"controller", controller}, {"cluster", cluster}, {"verb", verb}})
        .observe(r.elapsed.count());
  };
}

std::function<void(const k8s::watcher_status&)> watch_restart_observer(
    const std::string& controller, const std::string& cluster, const std::string& resource) {
  auto& m = metrics();
  const k8s::metrics::label_set l{
      {"controller", controller}, {"cluster", cluster}, {"resource", resource}};
  auto& restarts = m.watch_restarts.labels(l);
  auto& relists = m.watch_relists.labels(l);
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

event_counters event_counts(const std::string& controller) {
  auto& f = metrics().kubernetes_events;
  return {f.labels({{"controller", controller}, {"result", "created"}}),
          f.labels({{"controller", controller}, {"result", "updated"}}),
          f.labels({{"controller", controller}, {"result", "dropped"}}),
          f.labels({{"controller", controller}, {"result", "failed"}})};
}

void forget_cluster_metrics(const std::string& controller, const std::string& cluster) {
  auto& m = metrics();
  const k8s::metrics::label_set l{{"controller", controller}, {"cluster", cluster}};
  m.api_requests.remove_matching(l);
  m.api_latency.remove_matching(l);
  m.watch_restarts.remove_matching(l);
  m.watch_relists.remove_matching(l);
}

}  // namespace runtime
