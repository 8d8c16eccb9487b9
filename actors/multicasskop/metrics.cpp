#include "actors/multicasskop/metrics.h"

#include "actors/runtime/client_metrics.h"

namespace mc {

multicasskop_metrics& metrics() {
  auto& r = k8s::metrics::default_registry();
  static multicasskop_metrics m{
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
      r.counters("multicasskop_child_restarts_total",
                 "Actors of the supervisor (watcher, writer, Event recorder) restarted after they "
                 "failed, by role"),
  };
  return m;
}

void forget_cluster_metrics(const std::string& cluster) {
  auto& m = metrics();
  m.reachable.remove_matching({{"cluster", cluster}});
  runtime::forget_cluster_metrics(controller_name, cluster);
}

}  // namespace mc
