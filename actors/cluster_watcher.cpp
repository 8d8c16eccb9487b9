#include "actors/cluster_watcher.h"

#include "actors/multicasskop/logic/cache_trim.h"
#include "actors/multicasskop/logic/resources.h"
#include "actors/operator_metrics.h"
#include "k8s/base/log.h"
#include "k8s/watch/watcher.h"
#include "messages/atoms.h"

namespace mc {
namespace {

struct watcher_state {
  watcher_settings settings;
  caf::actor supervisor;
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
  static inline const char* name = "cluster-watcher";

  ~watcher_state() {
    for (auto& s : streams) s->stop();
  }
};

using watcher_actor = caf::stateful_actor<watcher_state>;

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

// Combines the streams' states into the cluster's health and tells the supervisor on change.
void report_health(watcher_actor* self) {
  auto& st = self->state;
  cluster_health h{st.settings.cluster, true, true, ""};
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
    k8s::log::warn("Cluster unreachable, retrying", {{"kubernetes", h.cluster}, {"error", h.error}});
  st.reported = true;
  st.last = h;
  self->send(st.supervisor, event_atom::value, event_body{h});
}

void start_stream(watcher_actor* self, const k8s::resource& what, size_t index) {
  auto& st = self->state;
  caf::actor supervisor = st.supervisor;
  const std::string cluster = st.settings.cluster;
  const bool is_mc = &what == &multicasskops;
  auto weak = caf::actor_cast<caf::weak_actor_ptr>(self);
  k8s::watcher_options o;
  o.what = what;
  o.namespace_name = st.settings.namespace_name;
  o.metric_labels = {{"controller", "multicasskop"}, {"cluster", cluster}};
  const auto kind = is_mc ? watched_kind::multicasskop : watched_kind::cassandracluster;
  o.transform = [kind, limits = st.settings.limits](const k8s::object_ptr& obj) {
    return trim_for_cache(obj, kind, limits);
  };
  auto w = k8s::watcher::create(
      st.settings.client, st.settings.timers, o,
      // Changes go straight to the supervisor: one hop on the hot path.
      [supervisor, cluster, is_mc](const k8s::watch_change&, const k8s::store_delta& d) {
        for (const auto& obj : d.upserted) {
          if (is_mc)
            caf::anon_send(supervisor, event_atom::value, event_body{multicasskop_seen{obj}});
          else
            caf::anon_send(supervisor, event_atom::value, event_body{cassandracluster_seen{cluster, obj}});
        }
        for (const auto& obj : d.removed) {
          std::string ns(k8s::json::get_string(*obj, {"metadata", "namespace"}));
          std::string name(k8s::json::get_string(*obj, {"metadata", "name"}));
          if (is_mc)
            caf::anon_send(supervisor, event_atom::value, event_body{multicasskop_gone{{ns, name}}});
          else
            caf::anon_send(supervisor, event_atom::value, event_body{cassandracluster_gone{cluster, ns, name}});
        }
      },
      [weak, index, count_restarts = watch_restart_observer(cluster, what.plural)](
          const k8s::watcher_status& s) {
        count_restarts(s);
        const bool denied = s.last_error && (s.last_error->kind == k8s::error_kind::unauthorized ||
                                             s.last_error->kind == k8s::error_kind::forbidden);
        if (auto strong = weak.lock())
          caf::anon_send(caf::actor_cast<caf::actor>(strong), health_atom::value, index, s.synced,
                         failing(s), denied,
                         s.last_error ? s.last_error->describe() : std::string());
      });
  st.streams.push_back(w);
  st.status.emplace_back();
  w->start();
}

caf::behavior cluster_watcher(watcher_actor* self, watcher_settings s, caf::actor supervisor) {
  self->state.settings = std::move(s);
  self->state.supervisor = supervisor;
  auto& st = self->state;
  if (!st.settings.client) {
    // The source could not be read: report it; a config reload may fix it.
    st.last = {st.settings.cluster, false, false, st.settings.connect_error};
    st.reported = true;
    k8s::log::error("Cannot configure cluster access", {{"kubernetes", st.settings.cluster},
                                                         {"error", st.settings.connect_error}});
    self->send(supervisor, event_atom::value, event_body{st.last});
  } else {
    start_stream(self, cassandraclusters, 0);
    if (st.settings.local) start_stream(self, multicasskops, 1);
    report_health(self);
  }
  return {
      [=](health_atom, size_t index, bool synced, bool is_failing, bool denied,
          const std::string& error) {
        auto& status = self->state.status;
        if (index >= status.size()) return;
        status[index] = {synced, is_failing, denied, error};
        report_health(self);
      },
      [=](stop_atom) { self->quit(); },
  };
}

}  // namespace

caf::actor spawn_cluster_watcher(caf::actor_system& sys, watcher_settings s, caf::actor supervisor) {
  return sys.spawn(cluster_watcher, std::move(s), std::move(supervisor));
}

}  // namespace mc
