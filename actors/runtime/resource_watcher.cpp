#include "actors/runtime/resource_watcher.h"

#include <set>

#include <caf/all.hpp>

#include "actors/runtime/client_metrics.h"
#include "k8s/base/log.h"
#include "k8s/watch/watcher.h"

namespace runtime {
namespace {

struct watcher_state {
  watcher_settings settings;
  std::vector<std::shared_ptr<k8s::watcher>> streams;
  struct stream_health {
    bool synced = false;
    bool failing = false;
    bool denied = false;
    std::string error;
  };
  std::vector<stream_health> status;
  cluster_health last;
  bool reported = false;
  static inline const char* name = "resource-watcher";

  ~watcher_state() {
    for (auto& s : streams) s->stop();
  }
};

using watcher_actor = resource_watcher_actor::stateful_base<watcher_state>;

// Whether the last failure means we cannot trust our picture of the cluster.
bool failing(const k8s::watcher_status& s) {
  if (!s.last_error) return false;
  switch (s.last_error->kind) {
    case k8s::error_kind::gone:      // a relist is routine
    case k8s::error_kind::conflict:  // not a read error
      return false;
    default:
      return true;
  }
}

void report(watcher_actor* self, const cluster_health& h) {
  auto& st = self->state;
  st.reported = true;
  st.last = h;
  if (st.settings.on_health) st.settings.on_health(h);
}

// A restarted watcher's first list is in: what its predecessor reported and the list lacks was
// deleted while nobody watched.
void report_deleted_meanwhile(watcher_actor* self, size_t index) {
  auto& r = self->state.settings.resources[index];
  if (r.known.empty()) return;
  std::set<std::pair<std::string, std::string>> listed;
  for (const auto& o : self->state.streams[index]->objects())
    listed.emplace(k8s::json::get_string(*o, {"metadata", "namespace"}),
                   k8s::json::get_string(*o, {"metadata", "name"}));
  k8s::store_delta d;
  for (auto& o : r.known)
    if (o && !listed.count({std::string(k8s::json::get_string(*o, {"metadata", "namespace"})),
                            std::string(k8s::json::get_string(*o, {"metadata", "name"}))}))
      d.removed.push_back(std::move(o));
  r.known.clear();
  if (!d.removed.empty() && r.on_change) r.on_change(d);
}

// Combines the streams' states into the cluster's health and reports it on change.
void report_health(watcher_actor* self) {
  auto& st = self->state;
  cluster_health h{st.settings.cluster, true, true, "", false};
  for (const auto& s : st.status) {
    if (!s.synced) h.synced = false;
    if (s.failing) {
      h.reachable = false;
      if (h.error.empty()) {
        h.error = s.error;
        h.denied = s.denied;
      }
    }
  }
  if (st.reported && h.reachable == st.last.reachable && h.synced == st.last.synced &&
      h.error == st.last.error && h.denied == st.last.denied)
    return;
  if (h.reachable && h.synced)
    k8s::log::info("Cluster reachable, watching", {{"kubernetes", h.cluster}});
  else if (h.denied)
    k8s::log::warn("Cluster refuses our credentials, retrying",
                   {{"kubernetes", h.cluster}, {"error", h.error}});
  else if (!h.reachable)
    k8s::log::warn("Cluster unreachable, retrying",
                   {{"kubernetes", h.cluster}, {"error", h.error}});
  report(self, h);
}

void start_stream(watcher_actor* self, const watched_resource& r, size_t index) {
  auto& st = self->state;
  auto weak = caf::actor_cast<caf::weak_actor_ptr>(self);
  k8s::watcher_options o;
  o.what = r.what;
  o.namespace_name = r.namespace_name;
  o.label_selector = r.label_selector;
  o.metric_labels = {{"controller", st.settings.controller}, {"cluster", st.settings.cluster}};
  o.transform = r.transform;
  auto w = k8s::watcher::create(
      st.settings.client, st.settings.timers, o,
      [on_change = r.on_change](const k8s::watch_change&, const k8s::store_delta& d) {
        if (on_change) on_change(d);
      },
      [weak, index,
       count_restarts = watch_restart_observer(st.settings.controller, st.settings.cluster,
                                               r.what.plural)](const k8s::watcher_status& s) {
        count_restarts(s);
        const bool denied = s.last_error && (s.last_error->kind == k8s::error_kind::unauthorized ||
                                             s.last_error->kind == k8s::error_kind::forbidden);
        if (auto strong = weak.lock())
          caf::anon_send(caf::actor_cast<resource_watcher_actor>(strong),
                         stream_status{index, s.synced, failing(s), denied,
                                       s.last_error ? s.last_error->describe() : std::string()});
      });
  st.streams.push_back(w);
  st.status.emplace_back();
  w->start();
}

resource_watcher_actor::behavior_type resource_watcher(watcher_actor* self, watcher_settings s) {
  auto& st = self->state;
  st.settings = std::move(s);
  if (!st.settings.client) {
    // The source could not be read: report it; a configuration reload may fix it.
    k8s::log::error("Cannot configure cluster access",
                    {{"kubernetes", st.settings.cluster}, {"error", st.settings.connect_error}});
    report(self, {st.settings.cluster, false, false, st.settings.connect_error, false});
  } else {
    for (size_t i = 0; i < st.settings.resources.size(); ++i)
      start_stream(self, st.settings.resources[i], i);
    report_health(self);
  }
  return {
      [=](const stream_status& u) {
        auto& status = self->state.status;
        if (u.index >= status.size()) return;
        if (u.synced && !status[u.index].synced) report_deleted_meanwhile(self, u.index);
        status[u.index] = {u.synced, u.failing, u.denied, u.error};
        report_health(self);
      },
      [=](stop_atom) { self->quit(); },
  };
}

}  // namespace

resource_watcher_actor spawn_resource_watcher(caf::actor_system& sys, watcher_settings s) {
  return sys.spawn(resource_watcher, std::move(s));
}

}  // namespace runtime
