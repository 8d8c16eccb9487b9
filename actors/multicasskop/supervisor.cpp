#include "actors/supervisor.h"

#include <chrono>

#include "actors/cluster_watcher.h"
#include "actors/deployer.h"
#include "actors/multicasskop/logic/inspect.h"
#include "actors/multicasskop/logic/journal.h"
#include "actors/multicasskop/logic/state_machine.h"
#include "actors/operator_metrics.h"
#include "k8s/base/log.h"
#include "k8s/base/timestamps.h"
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
  // The phase last exported per (MultiCasskop, region), so a change replaces its one series.
  std::map<std::pair<mc_key, std::string>, region_phase> exported_phase;
  static inline const char* name = "supervisor";
};

using supervisor_actor = caf::stateful_actor<supervisor_state>;

caf::actor deployer_for(supervisor_actor* self, const mc_key& key, const std::string& cluster) {
  auto& st = self->state;
  auto& d = st.deployers[{key, cluster}];
  if (!d) {
    deployer_settings s{key, cluster, st.settings.registry->client(cluster), "",
                        cache_limits{st.settings.config.max_multicasskop_spec_bytes}};
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
  event e{++st.seq, k8s::now_unix_ms(), std::move(body)};
  auto& m = metrics();
  m.events.labels({{"type", type_name(e.body)}}).inc();
  auto concerned = st.machine->concerned(e);
  st.events->record(e, concerned);
  auto started = std::chrono::steady_clock::now();
  auto commands = st.machine->apply(e);
  m.decision.labels({}).observe(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  for (const auto& c : commands) m.commands.labels({{"kind", kind_name(c)}}).inc();
  // A removed cluster's watcher may still have a report in our mailbox: not exported again.
  if (auto* h = std::get_if<cluster_health>(&e.body); h && st.watchers.count(h->cluster))
    m.reachable.labels({{"cluster", h->cluster}}).set(h->reachable && h->synced ? 1 : 0);
  for (const auto& k : concerned) {
    auto it = st.machine->multicasskops().find(k);
    if (it == st.machine->multicasskops().end()) continue;
    for (const auto& [region, r] : it->second.regions) {
      auto [at, added] = st.exported_phase.try_emplace({k, region}, r.phase);
      if (!added && at->second == r.phase) continue;
      if (!added)
        m.region_phase.remove({{"namespace", k.ns},
                               {"multicasskop", k.name},
                               {"region", region},
                               {"phase", to_string(at->second)}});
      at->second = r.phase;
      m.region_phase
          .labels({{"namespace", k.ns},
                   {"multicasskop", k.name},
                   {"region", region},
                   {"phase", to_string(r.phase)}})
          .set(1);
    }
  }
  m.journal_size.labels({}).set(static_cast<double>(st.events->size()));
  m.multicasskops.labels({}).set(static_cast<double>(st.machine->multicasskops().size()));
  if (auto* gone = std::get_if<multicasskop_gone>(&e.body)) {
    st.events->forget(gone->key);
    m.region_phase.remove_matching({{"namespace", gone->key.ns}, {"multicasskop", gone->key.name}});
    for (auto it = st.exported_phase.lower_bound({gone->key, ""});
         it != st.exported_phase.end() && it->first.first == gone->key;)
      it = st.exported_phase.erase(it);
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

void spawn_watcher(supervisor_actor* self, const cluster_source& source, bool local) {
  auto& st = self->state;
  const auto& conn = st.settings.registry->connect(source);
  k8s::log::info(local ? "Configuring client for the local cluster" : "Configuring client for a remote cluster",
                 {{"kubernetes", source.name}, {"source", source.describe()}});
  watcher_settings ws{source.name,
                      st.settings.config.namespace_name,
                      local,
                      conn.client,
                      conn.error,
                      st.settings.registry->timers(),
                      cache_limits{st.settings.config.max_multicasskop_spec_bytes}};
  auto w = spawn_cluster_watcher(self->system(), std::move(ws), caf::actor_cast<caf::actor>(self));
  self->link_to(w);
  st.watchers[source.name] = w;
}

// A new configuration, already validated: new clusters get a watcher, removed ones lose theirs
// (their CassandraClusters are left alone, reported detached), changed credentials move the
// existing client (open watches keep going), and the regions follow the new order.
void reload(supervisor_actor* self, operator_config c) {
  auto& st = self->state;
  const auto& old = st.settings.config;
  std::map<std::string, cluster_source> before;
  for (const auto& s : old.clusters) before[s.name] = s;
  std::set<std::string> after;
  for (size_t i = 0; i < c.clusters.size(); ++i) {
    const auto& s = c.clusters[i];
    after.insert(s.name);
    auto it = before.find(s.name);
    if (it == before.end()) {
      k8s::log::info("Cluster added by a configuration reload", {{"kubernetes", s.name}});
      st.settings.config.namespace_name = c.namespace_name;
      spawn_watcher(self, s, i == 0);
    } else if (!(it->second == s)) {
      std::string error;
      if (st.settings.registry->update(s, error))
        k8s::log::info("Cluster credentials changed by a configuration reload",
                       {{"kubernetes", s.name}, {"source", s.describe()}});
      else
        k8s::log::error("Cannot read the new credentials; keeping the old ones",
                        {{"kubernetes", s.name}, {"error", error}});
    }
  }
  for (const auto& [name, s] : before) {
    if (after.count(name)) continue;
    k8s::log::info("Cluster removed by a configuration reload; its CassandraClusters are left alone",
                   {{"kubernetes", name}});
    if (auto w = st.watchers.find(name); w != st.watchers.end()) {
      self->unlink_from(w->second);
      self->send_exit(w->second, caf::exit_reason::user_shutdown);
      st.watchers.erase(w);
    }
    forget_cluster_metrics(name);
  }
  st.settings.config = std::move(c);
  std::vector<std::string> names;
  for (const auto& s : st.settings.config.clusters) names.push_back(s.name);
  handle(self, clusters_configured{names});
}

std::string actors_json(supervisor_actor* self) {
  auto& st = self->state;
  js::Document d(rapidjson::kArrayType);
  auto& a = d.GetAllocator();
  auto add = [&](js::Value v) { d.PushBack(v, a); };
  js::Value sup(rapidjson::kObjectType);
  sup.AddMember("role", "supervisor", a);
  sup.AddMember("id", js::Value(static_cast<uint64_t>(self->id())), a);
  sup.AddMember("events", js::Value(static_cast<uint64_t>(st.seq)), a);
  sup.AddMember("multicasskops", js::Value(static_cast<uint64_t>(st.machine->multicasskops().size())), a);
  add(std::move(sup));
  for (const auto& [name, w] : st.watchers) {
    js::Value v(rapidjson::kObjectType);
    v.AddMember("role", "cluster-watcher", a);
    v.AddMember("id", js::Value(static_cast<uint64_t>(w.id())), a);
    v.AddMember("cluster", js::string_value(name, a), a);
    auto h = st.machine->health().find(name);
    std::string state = "starting", error;
    if (h != st.machine->health().end()) {
      error = h->second.error;
      state = !h->second.reachable ? "backing off" : h->second.synced ? "connected" : "listing";
    }
    v.AddMember("state", js::string_value(state, a), a);
    v.AddMember("lastError", js::string_value(error, a), a);
    add(std::move(v));
  }
  for (const auto& [key, dep] : st.deployers) {
    js::Value v(rapidjson::kObjectType);
    v.AddMember("role", "deployer", a);
    v.AddMember("id", js::Value(static_cast<uint64_t>(dep.id())), a);
    v.AddMember("multicasskop", js::string_value(key.first.str(), a), a);
    v.AddMember("cluster", js::string_value(key.second, a), a);
    std::string state = "idle";
    if (auto m = st.machine->multicasskops().find(key.first); m != st.machine->multicasskops().end())
      if (auto r = m->second.regions.find(key.second); r != m->second.regions.end() && r->second.in_flight)
        state = "writing";
    v.AddMember("state", js::string_value(state, a), a);
    add(std::move(v));
  }
  return js::to_string(d);
}

caf::behavior supervisor(supervisor_actor* self, supervisor_settings s) {
  auto& st = self->state;
  st.settings = std::move(s);
  const auto& cfg = st.settings.config;
  machine_options mo;
  mo.legacy_settle_ms = cfg.legacy_settle_ms;
  mo.start_grace_ms = cfg.deletion_start_grace_ms;
  st.machine = std::make_unique<state_machine>(mo);
  st.events = std::make_unique<journal>(cfg.journal_limit);
  if (!cfg.journal_file.empty()) {
    try {
      journal_file_options jo{cfg.journal_file,
                              static_cast<uint64_t>(cfg.journal_max_file_mib) << 20,
                              cfg.journal_max_files};
      st.events->open_file(jo, [machine = st.machine.get()] { return machine->snapshot(); });
    } catch (const std::exception& e) {
      k8s::log::error("Cannot write the journal file; continuing without it", {{"error", e.what()}});
    }
  }
  // The cluster order first, so every later event is judged against it.
  std::vector<std::string> names;
  for (const auto& c : cfg.clusters) names.push_back(c.name);
  handle(self, clusters_configured{names});
  for (size_t i = 0; i < cfg.clusters.size(); ++i) spawn_watcher(self, cfg.clusters[i], i == 0);
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
      [=](actors_atom) -> std::string { return actors_json(self); },
      [=](reload_atom, operator_config& c) { reload(self, std::move(c)); },
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
