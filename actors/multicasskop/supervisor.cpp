#include "actors/multicasskop/supervisor.h"

#include <chrono>

#include "actors/multicasskop/journal_file.h"
#include "actors/multicasskop/logic/cache_trim.h"
#include "actors/multicasskop/logic/inspect.h"
#include "actors/multicasskop/logic/journal.h"
#include "actors/multicasskop/logic/resources.h"
#include "actors/multicasskop/logic/state_machine.h"
#include "actors/multicasskop/metrics.h"
#include "actors/multicasskop/watches.h"
#include "actors/runtime/event_recorder.h"
#include "actors/runtime/resource_watcher.h"
#include "actors/runtime/writer.h"
#include "k8s/base/backoff.h"
#include "k8s/base/log.h"
#include "k8s/base/overloaded.h"
#include "k8s/base/timestamps.h"
#include "messages/atoms.h"

namespace mc {
namespace js = k8s::json;

namespace {

constexpr const char* field_manager = "multi-casskop";
const runtime::event_source event_source{"multi-casskop", "multicasskop.db.orange.com/region"};

using restart_atom = caf::atom_constant<caf::atom("restart")>;  // (restart_atom, role, cluster)

// The supervisor's children, one of each role per cluster (the Event recorder: the local one).
enum class role { watcher, writer, recorder };
const char* role_name(role r) {
  static constexpr const char* names[] = {"cluster-watcher", "writer", "event-recorder"};
  return names[static_cast<int>(r)];
}
struct child {
  role what;
  std::string cluster;
};

struct supervisor_state {
  supervisor_settings settings;
  std::unique_ptr<state_machine> machine;
  std::unique_ptr<journal> events;
  journal_file file;
  std::map<std::string, runtime::resource_watcher_actor> watchers;
  std::map<std::string, runtime::writer_actor> writers;
  runtime::event_recorder_actor recorder;
  // Every live child, by address: an exit from one of them is a failure to restart from.
  std::map<caf::actor_addr, child> children;
  // Writes sent and not answered, command id -> cluster: a writer that fails has them reported
  // as failed, so the state machine retries them; an answer that comes later is dropped.
  std::map<uint64_t, std::string> writes_in_flight;
  // Work for a child being restarted, sent once it is back.
  std::map<std::string, std::vector<runtime::write_request>> waiting_writes;
  std::vector<runtime::event_record> waiting_events;
  // What a failed Event recorder had not written, for the next one.
  std::shared_ptr<runtime::event_handover> event_handover =
      std::make_shared<runtime::event_handover>();
  std::map<std::pair<int, std::string>, k8s::backoff> restart_backoff;
  uint64_t seq = 0;
  // The phase last exported per (MultiCasskop, region), so a change replaces its one series.
  std::map<std::pair<mc_key, std::string>, region_phase> exported_phase;
  std::shared_ptr<change_queue> changes = std::make_shared<change_queue>();
  static inline const char* name = "supervisor";
};

using supervisor_actor = caf::stateful_actor<supervisor_state>;

const std::string& local_cluster(supervisor_actor* self) {
  return self->state.settings.config.clusters.front().name;
}

void log_command(const command& c) {
  std::visit(
      k8s::overloaded{
          [](const create_cassandracluster& b) {
            k8s::log::info("Create CassandraCluster",
                           {{"cluster", js::get_string(*b.object, {"metadata", "name"})},
                            {"kubernetes", b.cluster},
                            {"namespace", js::get_string(*b.object, {"metadata", "namespace"})}});
          },
          [](const patch_cassandracluster& b) {
            k8s::log::info(
                b.status ? "Update CassandraCluster seed list" : "Update CassandraCluster",
                {{"cluster", b.name}, {"kubernetes", b.cluster}, {"namespace", b.ns}});
          },
          [](const delete_cassandracluster& b) {
            k8s::log::info("Delete CassandraCluster",
                           {{"cluster", b.name}, {"kubernetes", b.cluster}, {"namespace", b.ns}});
          },
          [](const record_event& b) {
            auto level = b.type == "Warning" ? k8s::log::level::warning : k8s::log::level::info;
            k8s::log::write(level, b.message,
                            {{"reason", b.reason},
                             {"multicasskop", b.key.name},
                             {"namespace", b.key.ns},
                             {"kubernetes", b.region}});
          },
          [](const patch_multicasskop& b) {
            k8s::log::debug(
                b.status ? "Update MultiCasskop status" : "Update MultiCasskop finalizers",
                {{"multicasskop", b.key.name}, {"namespace", b.key.ns}});
          },
          [](const start_timer&) {},
      },
      c);
}

// A write the state machine decided, as the runtime's writer takes it. Written objects are kept
// as the watchers keep them (trimmed: one may stay cached until the watch brings that version).
runtime::write_request write_of(const command& c, const cache_limits& limits) {
  auto trim = [limits](watched_kind kind) {
    return [kind, limits](const k8s::object_ptr& o) { return trim_for_cache(o, kind, limits); };
  };
  using verb = runtime::write_request::verb;
  runtime::write_request r;
  r.field_manager = field_manager;
  std::visit(k8s::overloaded{
                 [&](const create_cassandracluster& b) {
                   r.id = b.id;
                   r.what = verb::create;
                   r.resource = cassandraclusters;
                   r.ns = std::string(js::get_string(*b.object, {"metadata", "namespace"}));
                   r.name = std::string(js::get_string(*b.object, {"metadata", "name"}));
                   r.body = js::to_string(*b.object);
                   r.transform = trim(watched_kind::cassandracluster);
                 },
                 [&](const patch_cassandracluster& b) {
                   r.id = b.id;
                   r.what = verb::patch;
                   r.resource = cassandraclusters;
                   r.ns = b.ns;
                   r.name = b.name;
                   r.body = b.merge_patch;
                   r.subresource = b.status ? "status" : "";
                   r.transform = trim(watched_kind::cassandracluster);
                 },
                 [&](const delete_cassandracluster& b) {
                   r.id = b.id;
                   r.what = verb::remove;
                   r.resource = cassandraclusters;
                   r.ns = b.ns;
                   r.name = b.name;
                   r.precondition_uid = b.uid;
                   r.transform = trim(watched_kind::cassandracluster);
                 },
                 [&](const patch_multicasskop& b) {
                   r.id = b.id;
                   r.what = verb::patch;
                   r.resource = multicasskops;
                   r.ns = b.key.ns;
                   r.name = b.key.name;
                   r.body = b.merge_patch;
                   r.subresource = b.status ? "status" : "";
                   r.transform = trim(watched_kind::multicasskop);
                 },
                 [](const record_event&) {},  // not writes: dispatch() sends them elsewhere
                 [](const start_timer&) {},
             },
             c);
  return r;
}

runtime::involved_object involved(const mc_key& key, const std::string& uid) {
  return {"MultiCasskop", "db.orange.com/v2", key.ns, key.name, uid};
}

// Reports a write as failed, through the mailbox (never folded in the middle of another event).
void fail_write(supervisor_actor* self, uint64_t id, const std::string& why) {
  write_done w;
  w.command_id = id;
  w.error = k8s::transport_error(k8s::error_kind::unreachable, why);
  self->send(self, event_atom::value, event_body{std::move(w)});
}

void send_write(supervisor_actor* self, const std::string& cluster, runtime::write_request r) {
  auto& st = self->state;
  st.writes_in_flight[r.id] = cluster;
  if (auto w = st.writers.find(cluster); w != st.writers.end())
    self->send(w->second, std::move(r));
  else if (auto q = st.waiting_writes.find(cluster); q != st.waiting_writes.end())
    q->second.push_back(std::move(r));  // its writer is being restarted
  else
    fail_write(self, r.id, "cluster " + cluster + " is not configured");
}

void send_event(supervisor_actor* self, runtime::event_record e) {
  auto& st = self->state;
  if (st.recorder)
    self->send(st.recorder, std::move(e));
  else
    st.waiting_events.push_back(std::move(e));  // the recorder is being restarted
}

void dispatch(supervisor_actor* self, const command& c) {
  log_command(c);
  auto& st = self->state;
  const cache_limits limits{st.settings.config.max_multicasskop_spec_bytes};
  std::visit(
      k8s::overloaded{
          [&](const create_cassandracluster& b) {
            send_write(self, b.cluster, write_of(c, limits));
          },
          [&](const patch_cassandracluster& b) {
            send_write(self, b.cluster, write_of(c, limits));
          },
          [&](const delete_cassandracluster& b) {
            send_write(self, b.cluster, write_of(c, limits));
          },
          [&](const patch_multicasskop&) {
            send_write(self, local_cluster(self), write_of(c, limits));
          },
          [&](const record_event& b) {
            send_event(self, {involved(b.key, b.uid), b.type, b.reason, b.message, b.region});
          },
          [&](const start_timer& b) {
            self->delayed_send(self, std::chrono::milliseconds(b.delay_ms), event_atom::value,
                               event_body{timer_fired{b.key, b.cluster, b.token}});
          },
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
  st.file.record(e);
  auto started = std::chrono::steady_clock::now();
  st.machine->evolve(e);
  const auto commands = st.machine->decide();
  m.decision.labels({}).observe(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  // Each command's issuance is journaled and folded before it goes out (below): the state knows
  // it is made, and a replay sees the same.
  for (const auto& c : commands) {
    event issued{++st.seq, e.at_ms, issuance_of(c)};
    st.file.record(issued);
    st.machine->evolve(issued);
  }
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
    // Its writes still in flight are answered as usual; its Events are no longer correlated.
    if (st.recorder) self->send(st.recorder, runtime::forget_object{involved(gone->key, "")});
  }
  for (const auto& c : commands) dispatch(self, c);
}

// ---- the children: spawned, restarted when they fail, stopped when their cluster goes ----

const cluster_source* source_of(supervisor_actor* self, const std::string& cluster) {
  for (const auto& s : self->state.settings.config.clusters)
    if (s.name == cluster) return &s;
  return nullptr;
}

bool is_local(supervisor_actor* self, const std::string& cluster) {
  return cluster == local_cluster(self);
}

template <class Handle>
void adopt(supervisor_actor* self, const Handle& h, role r, const std::string& cluster) {
  self->link_to(h);
  self->state.children[h.address()] = {r, cluster};
  self->state.restart_backoff[{static_cast<int>(r), cluster}].healthy_since(
      std::chrono::steady_clock::now());
}

// The cluster's client as the registry has it (connecting on first use).
std::pair<std::shared_ptr<k8s::client>, std::string> client_for(supervisor_actor* self,
                                                                const cluster_source& source) {
  auto& registry = *self->state.settings.registry;
  if (auto c = registry.client(source.name)) return {c, ""};
  const auto& conn = registry.connect(source);
  return {conn.client, conn.error};
}

void spawn_child(supervisor_actor* self, role r, const cluster_source& source,
                 bool restarted = false) {
  auto& st = self->state;
  const bool local = is_local(self, source.name);
  auto [client, error] = client_for(self, source);
  auto me = caf::actor_cast<caf::actor>(self);
  switch (r) {
    case role::watcher: {
      runtime::watcher_settings ws;
      ws.controller = controller_name;
      ws.cluster = source.name;
      ws.client = client;
      ws.connect_error = error;
      ws.timers = st.settings.registry->timers();
      // A replacement is told what its predecessor had reported, to notice deletions meanwhile.
      ws.resources =
          watched_resources(me, st.changes, source.name, st.settings.config.namespace_name, local,
                            cache_limits{st.settings.config.max_multicasskop_spec_bytes},
                            restarted ? st.machine->snapshot() : std::vector<event_body>{});
      ws.on_health = health_sink(me);
      auto w = runtime::spawn_resource_watcher(self->system(), std::move(ws));
      adopt(self, w, r, source.name);
      st.watchers[source.name] = w;
      break;
    }
    case role::writer: {
      auto w = runtime::spawn_writer(self->system(), {source.name, client, error});
      adopt(self, w, r, source.name);
      st.writers[source.name] = w;
      if (auto q = st.waiting_writes.find(source.name); q != st.waiting_writes.end()) {
        for (auto& req : q->second) self->send(w, std::move(req));
        st.waiting_writes.erase(q);
      }
      break;
    }
    case role::recorder: {
      runtime::event_recorder_settings rs;
      rs.controller = controller_name;
      rs.cluster = source.name;
      rs.client = client;
      rs.source = event_source;
      rs.handover = st.event_handover;
      st.recorder = runtime::spawn_event_recorder(self->system(), std::move(rs));
      adopt(self, st.recorder, r, source.name);
      for (auto& e : st.waiting_events) self->send(st.recorder, std::move(e));
      st.waiting_events.clear();
      break;
    }
  }
}

void spawn_cluster(supervisor_actor* self, const cluster_source& source) {
  k8s::log::info(is_local(self, source.name) ? "Configuring client for the local cluster"
                                             : "Configuring client for a remote cluster",
                 {{"kubernetes", source.name}, {"source", source.describe()}});
  self->state.settings.registry->connect(source);  // a cluster (re-)added: its own new client
  spawn_child(self, role::watcher, source);
  spawn_child(self, role::writer, source);
  if (is_local(self, source.name)) spawn_child(self, role::recorder, source);
}

// A child stopped without being asked to: what it had in flight is reported or kept for its
// successor, and it is restarted after a backoff (one-for-one: its siblings go on).
void on_child_exit(supervisor_actor* self, const child c, const caf::error& reason) {
  auto& st = self->state;
  const std::string why = caf::to_string(reason);
  k8s::log::error("An actor failed; restarting it",
                  {{"role", role_name(c.what)}, {"kubernetes", c.cluster}, {"error", why}});
  switch (c.what) {
    case role::watcher:
      st.watchers.erase(c.cluster);
      break;
    case role::writer:
      st.writers.erase(c.cluster);
      st.waiting_writes[c.cluster];  // new writes wait for the next writer
      // What it had in flight may or may not have been written: failed, the state machine
      // decides again from what the watchers show.
      for (auto it = st.writes_in_flight.begin(); it != st.writes_in_flight.end();) {
        if (it->second == c.cluster) {
          fail_write(self, it->first, "the writer of cluster " + c.cluster + " failed: " + why);
          it = st.writes_in_flight.erase(it);
        } else {
          ++it;
        }
      }
      break;
    case role::recorder:
      st.recorder = nullptr;  // Events wait for the next one, and so does what it had left
      break;
  }
  auto& b = st.restart_backoff[{static_cast<int>(c.what), c.cluster}];
  b.on_failure(std::chrono::steady_clock::now());
  auto delay = b.next_delay();
  metrics().child_restarts.labels({{"role", role_name(c.what)}}).inc();
  self->delayed_send(self, delay, restart_atom::value, static_cast<int>(c.what), c.cluster);
}

void restart(supervisor_actor* self, role r, const std::string& cluster) {
  const auto* source = source_of(self, cluster);
  if (!source) {  // removed by a reload meanwhile
    self->state.waiting_writes.erase(cluster);
    return;
  }
  auto& st = self->state;
  // Removed and added again meanwhile: the cluster already has a new one.
  if ((r == role::watcher && st.watchers.count(cluster)) ||
      (r == role::writer && st.writers.count(cluster)) || (r == role::recorder && st.recorder))
    return;
  k8s::log::info("Restarting an actor", {{"role", role_name(r)}, {"kubernetes", cluster}});
  spawn_child(self, r, *source, true);
}

template <class Handle>
void stop_child(supervisor_actor* self, const Handle& h) {
  if (!h) return;
  self->state.children.erase(h.address());
  self->unlink_from(h);
  self->send_exit(h, caf::exit_reason::user_shutdown);
}

// A cluster removed by a reload: its children stop; its writes not answered yet are reported
// as failed (its regions are Detached from now on).
void stop_cluster(supervisor_actor* self, const std::string& cluster) {
  auto& st = self->state;
  if (auto w = st.watchers.find(cluster); w != st.watchers.end()) {
    stop_child(self, w->second);
    st.watchers.erase(w);
  }
  if (auto w = st.writers.find(cluster); w != st.writers.end()) {
    stop_child(self, w->second);
    st.writers.erase(w);
  }
  st.waiting_writes.erase(cluster);
  for (auto it = st.writes_in_flight.begin(); it != st.writes_in_flight.end();) {
    if (it->second == cluster) {
      fail_write(self, it->first, "cluster " + cluster + " was removed from the configuration");
      it = st.writes_in_flight.erase(it);
    } else {
      ++it;
    }
  }
}

// A new configuration, already validated: new clusters get their actors, removed ones lose them
// (their CassandraClusters are left alone, reported detached), changed credentials move the
// existing client (open watches keep going), and the regions follow the new order.
void reload(supervisor_actor* self, operator_config c) {
  auto& st = self->state;
  const auto& old = st.settings.config;
  std::map<std::string, cluster_source> before;
  for (const auto& s : old.clusters) before[s.name] = s;
  std::set<std::string> after;
  std::vector<cluster_source> added;
  for (size_t i = 0; i < c.clusters.size(); ++i) {
    const auto& s = c.clusters[i];
    after.insert(s.name);
    auto it = before.find(s.name);
    if (it == before.end()) {
      k8s::log::info("Cluster added by a configuration reload", {{"kubernetes", s.name}});
      added.push_back(s);
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
    k8s::log::info(
        "Cluster removed by a configuration reload; its CassandraClusters are left alone",
        {{"kubernetes", name}});
    stop_cluster(self, name);
    forget_cluster_metrics(name);
  }
  st.settings.config = std::move(c);
  for (const auto& s : added) spawn_cluster(self, s);
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
  sup.AddMember("multicasskops",
                js::Value(static_cast<uint64_t>(st.machine->multicasskops().size())), a);
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
  std::map<std::string, size_t> writing;  // writes in flight per cluster
  for (const auto& [id, cluster] : st.writes_in_flight) ++writing[cluster];
  for (const auto& [name, w] : st.writers) {
    js::Value v(rapidjson::kObjectType);
    v.AddMember("role", "writer", a);
    v.AddMember("id", js::Value(static_cast<uint64_t>(w.id())), a);
    v.AddMember("cluster", js::string_value(name, a), a);
    v.AddMember("state", js::Value(rapidjson::StringRef(writing[name] ? "writing" : "idle")), a);
    v.AddMember("inFlight", js::Value(static_cast<uint64_t>(writing[name])), a);
    add(std::move(v));
  }
  if (st.recorder) {
    js::Value v(rapidjson::kObjectType);
    v.AddMember("role", "event-recorder", a);
    v.AddMember("id", js::Value(static_cast<uint64_t>(st.recorder.id())), a);
    v.AddMember("cluster", js::string_value(local_cluster(self), a), a);
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
      st.file.open(jo, [machine = st.machine.get()] { return machine->snapshot(); });
    } catch (const std::exception& e) {
      k8s::log::error("Cannot write the journal file; continuing without it",
                      {{"error", e.what()}});
    }
  }
  // The cluster order first, so every later event is judged against it.
  std::vector<std::string> names;
  for (const auto& c : cfg.clusters) names.push_back(c.name);
  handle(self, clusters_configured{names});
  for (const auto& c : cfg.clusters) spawn_cluster(self, c);
  self->set_exit_handler([=](caf::exit_msg& msg) {
    auto& children = self->state.children;
    if (auto it = children.find(msg.source); it != children.end()) {
      auto c = it->second;
      children.erase(it);
      if (msg.reason == caf::exit_reason::normal) return;  // none stops on its own; nothing to do
      return on_child_exit(self, c, msg.reason);
    }
    // Not a child: we are told to stop (shutdown, lost lease). Our children are linked, so they
    // stop with us.
    self->quit(msg.reason);
  });
  return {
      [=](event_atom, event_body& b) { handle(self, std::move(b)); },
      [=](clusters_atom) -> std::string { return inspect_clusters(*self->state.machine); },
      [=](changes_atom) {
        for (auto& b : self->state.changes->take_all()) handle(self, std::move(b));
      },
      [=](runtime::write_result& r) {
        // Not in flight: already reported as failed (its writer failed, its cluster went).
        if (self->state.writes_in_flight.erase(r.id) == 0) return;
        handle(self, write_done{r.id, r.ok, std::move(r.error), std::move(r.object)});
      },
      [=](restart_atom, int r, const std::string& cluster) {
        restart(self, static_cast<role>(r), cluster);
      },
      [=](state_atom) -> std::string { return inspect(*self->state.machine, *self->state.events); },
      [=](actors_atom) -> std::string { return actors_json(self); },
      // One child's handle by role and cluster (invalid when there is none): for diagnostics and
      // for the tests that kill children.
      [=](actors_atom, const std::string& r, const std::string& cluster) -> caf::actor {
        auto& st = self->state;
        for (const auto& [addr, c] : st.children)
          if (role_name(c.what) == r && c.cluster == cluster) {
            if (c.what == role::watcher) return caf::actor_cast<caf::actor>(st.watchers[cluster]);
            if (c.what == role::writer) return caf::actor_cast<caf::actor>(st.writers[cluster]);
            return caf::actor_cast<caf::actor>(st.recorder);
          }
        return caf::actor();
      },
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
