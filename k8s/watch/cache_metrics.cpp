#include "k8s/watch/cache_metrics.h"

#include <mutex>
#include <vector>

#include "k8s/watch/watcher.h"

namespace k8s {
namespace {

std::mutex tracked_mutex;
std::vector<std::weak_ptr<watcher>> tracked;

// The live watchers; forgets those that are gone.
std::vector<std::shared_ptr<watcher>> live_watchers() {
  std::lock_guard lock(tracked_mutex);
  std::vector<std::shared_ptr<watcher>> out;
  for (auto it = tracked.begin(); it != tracked.end();) {
    if (auto w = it->lock()) {
      out.push_back(std::move(w));
      ++it;
    } else {
      it = tracked.erase(it);
    }
  }
  return out;
}

template <class Read>
std::vector<metrics::labeled_value> read_all(Read read) {
  std::vector<metrics::labeled_value> out;
  for (const auto& w : live_watchers()) {
    metrics::label_set labels = w->metric_labels();
    labels.emplace_back("resource", w->resource_plural());
    out.push_back({std::move(labels), static_cast<double>(read(w->usage()))});
  }
  return out;
}

void register_gauges() {
  auto& r = metrics::default_registry();
  r.labeled_gauge_callback("operator_cache_objects", "Objects held in a watch cache",
                           [] { return read_all([](const cache_usage& u) { return u.objects; }); });
  r.labeled_gauge_callback("operator_cache_bytes",
                           "Heap bytes the objects of a watch cache take (their JSON pools)",
                           [] { return read_all([](const cache_usage& u) { return u.bytes; }); });
}

}  // namespace

void track_cache_metrics(const std::shared_ptr<watcher>& w) {
  static std::once_flag registered;
  std::call_once(registered, register_gauges);
  std::lock_guard lock(tracked_mutex);
  tracked.push_back(w);
}

}  // namespace k8s
