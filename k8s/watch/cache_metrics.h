// The watch caches' sizes as Prometheus gauges, read at scrape time from the live watchers that
// carry metric labels (watcher_options::metric_labels):
//   operator_cache_objects{<labels>,resource}  objects held
//   operator_cache_bytes{<labels>,resource}    heap they take (json::allocated_bytes)
// Nothing is counted on the event path: a scrape locks each watcher briefly.
#pragma once

#include <memory>

#include "k8s/base/metrics.h"

namespace k8s {

class watcher;

// Called by watcher::create for a watcher with metric labels; registers the gauges in the
// default registry on first use. The watcher is held weakly: a stopped, destroyed one drops out.
void track_cache_metrics(const std::shared_ptr<watcher>& w);

}  // namespace k8s
