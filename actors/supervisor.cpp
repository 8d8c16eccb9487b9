#include "actors/supervisor.h"

#include <chrono>

#include "actors/cluster_watcher.h"
#include "actors/deployer.h"
#include "actors/multicasskop/inspect.h"
#include "actors/multicasskop/journal.h"
#include "actors/multicasskop/state_machine.h"
#include "k8s/log.h"
#include "messages/atoms.h"

namespace mc {
namespace js = k8s::json;

namespace {

struct supervisor_state {
  supervisor_settings settings;
  std::unique_ptr<state_machine> machine;
  std::unique_ptr<journal> events;
  std::map<std::string, caf::actor> watchers;
  std::map<std::pair<mc_key, std::string>, caf::actor> deployers;
  uint64_t seq = 0;
  static inline const char* name = "supervisor";
};

using supervisor_actor = caf::stateful_actor<supervisor_state>;

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

caf::actor deployer_for(supervisor_actor* self, const mc_key& key, const std::string& cluster) {
  auto& st = self->state;
  auto& d = st.deployers[{key, cluster}];
  if (!d) {
    deployer_settings s{key, cluster, st.settings.registry->client(cluster), ""};
    if (!s.client) s.connect_error = "no connection";
    d = spawn_deployer(self->system(), std::move(s), caf::actor_cast<caf::actor>(self));
    self->link_to(d);
  }
  return d;
}

const std::string& local_cluster(supervisor_actor* self) {
  return self->state.settings.config.clusters.front().name;
}

void log_command(const command& c) {
  std::visit(
      [](const auto& b) {
        using T = std::decay_t<decltype(b)>;
        if constexpr (std::is_same_v<T, create_cassandracluster>) {
          k8s::log::info("Create CassandraCluster",
                         {{"cluster", js::get_string(*b.object, {"metadata", "name"})},
                          {"kubernetes", b.cluster},
                          {"namespace", js::get_string(*b.object, {"metadata", "namespace"})}});
        } else if constexpr (std::is_same_v<T, patch_cassandracluster>) {
          k8s::log::info(b.status ? "Update CassandraCluster seed list" : "Update CassandraCluster",
                         {{"cluster", b.name}, {"kubernetes", b.cluster}, {"namespace", b.ns}});
        } else if constexpr (std::is_same_v<T, delete_cassandracluster>) {
          k8s::log::info("Delete CassandraCluster",
                         {{"cluster", b.name}, {"kubernetes", b.cluster}, {"namespace", b.ns}});
        } else if constexpr (std::is_same_v<T, record_event>) {
          auto level = b.type == "Warning" ? k8s::log::level::warning : k8s::log::level::info;
          k8s::log::write(level, b.message,
                          {{"reason", b.reason}, {"multicasskop", b.key.name}, {"namespace", b.key.ns},
                           {"kubernetes", b.region}});
        } else if constexpr (std::is_same_v<T, patch_multicasskop>) {
          k8s::log::debug(b.status ? "Update MultiCasskop status" : "Update MultiCasskop finalizers",
                          {{"multicasskop", b.key.name}, {"namespace", b.key.ns}});
        }
      },
      c);
}

void dispatch(supervisor_actor* self, const command& c) {
  log_command(c);
  std::visit(
      [&](const auto& b) {
        using T = std::decay_t<decltype(b)>;
        if constexpr (std::is_same_v<T, create_cassandracluster> ||
                      std::is_same_v<T, patch_cassandracluster> ||
                      std::is_same_v<T, delete_cassandracluster>) {
          self->send(deployer_for(self, b.owner, b.cluster), command_atom::value, command{b});
        } else if constexpr (std::is_same_v<T, patch_multicasskop> || std::is_same_v<T, record_event>) {
          self->send(deployer_for(self, b.key, local_cluster(self)), command_atom::value, command{b});
        } else if constexpr (std::is_same_v<T, start_timer>) {
          self->delayed_send(self, std::chrono::milliseconds(b.delay_ms), event_atom::value,
                             event_body{timer_fired{b.key, b.cluster, b.token}});
        }
      },
      c);
}

void handle(supervisor_actor* self, event_body body) {
  auto& st = self->state;
  event e{++st.seq, now_ms(), std::move(body)};
  auto concerned = st.machine->concerned(e);
  st.events->record(e, concerned);
  auto commands = st.machine->apply(e);
  if (auto* gone = std::get_if<multicasskop_gone>(&e.body)) {
    st.events->forget(gone->key);
    for (auto it = st.deployers.begin(); it != st.deployers.end();) {
      if (it->first.first == gone->key) {
        self->send(it->second, stop_atom::value);
        it = st.deployers.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (const auto& c : commands) dispatch(self, c);
}

caf::behavior supervisor(supervisor_actor* self, supervisor_settings s) {
  auto& st = self->state;
  st.settings = std::move(s);
  const auto& cfg = st.settings.config;
  machine_options mo;
  mo.legacy_settle_ms = cfg.legacy_settle_ms;
  st.machine = std::make_unique<state_machine>(mo);
  st.events = std::make_unique<journal>(cfg.journal_limit);
  if (!cfg.journal_file.empty()) {
    try {
      st.events->open_file(cfg.journal_file);
    } catch (const std::exception& e) {
      k8s::log::error("Cannot write the journal file; continuing without it", {{"error", e.what()}});
    }
  }
  // The cluster order first, so every later event is judged against it.
  std::vector<std::string> names;
  for (const auto& c : cfg.clusters) names.push_back(c.name);
  handle(self, clusters_configured{names});
  for (size_t i = 0; i < cfg.clusters.size(); ++i) {
    const auto& source = cfg.clusters[i];
    const auto& conn = st.settings.registry->connect(source);
    k8s::log::info(i == 0 ? "Configuring client for the local cluster" : "Configuring client for a remote cluster",
                   {{"kubernetes", source.name}, {"source", source.describe()}});
    watcher_settings ws{source.name, cfg.namespace_name, i == 0, conn.client, conn.error,
                        st.settings.registry->timers()};
    auto w = spawn_cluster_watcher(self->system(), std::move(ws), caf::actor_cast<caf::actor>(self));
    self->link_to(w);
    st.watchers[source.name] = w;
  }
  self->set_exit_handler([=](caf::exit_msg& msg) {
    // Our children are linked, so they stop with us. A child that stops on its own (a
    // deployer of a deleted MultiCasskop) is normal; one that fails is reported.
    if (msg.reason == caf::exit_reason::user_shutdown || msg.reason == caf::exit_reason::kill) {
      self->quit(msg.reason);
      return;
    }
    if (msg.reason != caf::exit_reason::normal)
      k8s::log::error("An actor failed", {{"error", caf::to_string(msg.reason)}});
  });
  return {
      [=](event_atom, event_body& b) { handle(self, std::move(b)); },
      [=](state_atom) -> std::string { return inspect(*self->state.machine, *self->state.events); },
      [=](state_atom, const std::string& ns, const std::string& name) -> std::string {
        mc_key k{ns, name};
        return inspect(*self->state.machine, *self->state.events, &k);
      },
  };
}

}  // namespace

caf::actor spawn_supervisor(caf::actor_system& sys, supervisor_settings s) {
  return sys.spawn(supervisor, std::move(s));
}

}  // namespace mc
