#include "actors/deployer.h"

#include <unistd.h>

#include <chrono>
#include <deque>

#include "actors/event_correlator.h"
#include "actors/multicasskop/logic/cache_trim.h"
#include "actors/multicasskop/logic/resources.h"
#include "actors/operator_metrics.h"
#include "k8s/api/client.h"
#include "k8s/base/log.h"
#include "k8s/base/timestamps.h"
#include "messages/atoms.h"

namespace mc {
namespace {

// Answers of the Event pipeline's own requests, sent back to the deployer as messages.
struct events_listed {
  bool ok = false;
  std::string error;
  std::vector<object_ptr> items;
};
struct event_written {
  bool ok = false;
  k8s::api_error error;
  std::string name;  // of the created Event
};

}  // namespace
}  // namespace mc

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(mc::events_listed)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(mc::event_written)

namespace mc {
namespace js = k8s::json;

namespace {

using evlisted_atom = caf::atom_constant<caf::atom("evlisted")>;
using evwritten_atom = caf::atom_constant<caf::atom("evwritten")>;

constexpr const char* field_manager = "multi-casskop";
// Waiting Events while one is written or the list is out. Only a slow or unreachable API server
// fills it (each write waits for its answer); beyond this, new Events are dropped.
constexpr size_t max_queued_events = 256;

// The Kubernetes Event results, one counter each (their series exist, at 0, from the start).
struct event_results {
  k8s::metrics::counter& created = metrics().kubernetes_events.labels({{"result", "created"}});
  k8s::metrics::counter& updated = metrics().kubernetes_events.labels({{"result", "updated"}});
  k8s::metrics::counter& dropped = metrics().kubernetes_events.labels({{"result", "dropped"}});
  k8s::metrics::counter& failed = metrics().kubernetes_events.labels({{"result", "failed"}});
};

event_results& event_counts() {
  static event_results m;
  return m;
}

const std::string& instance_name() {
  static const std::string host = [] {
    char buf[256] = {0};
    gethostname(buf, sizeof buf - 1);
    return std::string(buf);
  }();
  return host;
}

// record_event commands of one MultiCasskop, carried out one at a time and in order: a bump
// needs the name the create got. The first one waits for a list of the Events already there.
struct event_pipeline {
  struct queued {
    record_event event;
    int64_t at_ms = 0;
  };
  enum class seeding { not_started, listing, done };

  event_correlator correlator;
  seeding seed = seeding::not_started;
  std::string seed_uid;  // the MultiCasskop's, as the first record_event gave it
  std::deque<queued> queue;
  bool writing = false;
  record_event in_flight;
  event_decision decision;  // of in_flight
};

struct deployer_state {
  deployer_settings settings;
  caf::actor supervisor;
  event_pipeline events;
  static inline const char* name = "deployer";
};

using deployer_actor = caf::stateful_actor<deployer_state>;

// The callback every write ends in: the result goes to the supervisor as an event.
// The written object is kept as the watchers keep it (trimmed: it may stay cached until the
// watch brings the same version).
k8s::callback<k8s::object_ptr> report_to(caf::actor supervisor, uint64_t id,
                                         const cache_limits& limits,
                                         watched_kind kind = watched_kind::cassandracluster) {
  return [supervisor, id, kind, limits](k8s::result<k8s::object_ptr> r) {
    write_done w;
    w.command_id = id;
    w.ok = r.ok();
    if (r.ok())
      w.object = trim_for_cache(r.value(), kind, limits);
    else
      w.error = r.error();
    caf::anon_send(supervisor, event_atom::value, event_body{std::move(w)});
  };
}

// Sends (atom, value) to the deployer from a client callback, unless it has stopped meanwhile.
template <class Atom, class T>
auto to_self(deployer_actor* self) {
  auto weak = caf::actor_cast<caf::weak_actor_ptr>(self);
  return [weak](T value) {
    if (auto strong = weak.lock())
      caf::anon_send(caf::actor_cast<caf::actor>(strong), Atom::value, std::move(value));
  };
}

void write_event(deployer_actor* self, record_event e, const event_decision& d) {
  auto& ev = self->state.events;
  ev.writing = true;
  ev.in_flight = std::move(e);
  ev.decision = d;
  auto send = to_self<evwritten_atom, event_written>(self);
  auto done = [send](k8s::result<k8s::object_ptr> r) {
    event_written w;
    w.ok = r.ok();
    if (!r.ok())
      w.error = r.error();
    else if (r.value())
      w.name = std::string(js::get_string(*r.value(), {"metadata", "name"}));
    send(std::move(w));
  };
  auto& client = *self->state.settings.client;
  k8s::write_options o;
  o.field_manager = field_manager;
  const auto& cmd = ev.in_flight;
  if (d.what == event_decision::action::create)
    client.create(core_events, cmd.key.ns, event_json(cmd, d, instance_name()), o, std::move(done));
  else
    client.patch(core_events, cmd.key.ns, d.name, k8s::patch_kind::merge, event_bump_patch(d), o,
                 std::move(done));
}

void list_existing_events(deployer_actor* self, const record_event& first) {
  auto& ev = self->state.events;
  ev.seed = event_pipeline::seeding::listing;
  ev.seed_uid = first.uid;
  k8s::list_options o;
  o.field_selector = first.uid.empty()
                         ? "involvedObject.kind=MultiCasskop,involvedObject.name=" + first.key.name
                         : "involvedObject.uid=" + first.uid;
  self->state.settings.client->list(
      core_events, first.key.ns, o,
      [send = to_self<evlisted_atom, events_listed>(self)](k8s::result<k8s::list_page> r) {
        events_listed l;
        l.ok = r.ok();
        if (r.ok())
          l.items = std::move(r.value().items);
        else
          l.error = r.error().describe();
        send(std::move(l));
      });
}

// Moves the queue on: the list first, then one write at a time; drops need no write.
void pump_events(deployer_actor* self) {
  auto& ev = self->state.events;
  if (ev.writing || ev.seed == event_pipeline::seeding::listing || ev.queue.empty()) return;
  if (!self->state.settings.client) {
    event_counts().failed.inc(ev.queue.size());
    ev.queue.clear();
    return;
  }
  if (ev.seed == event_pipeline::seeding::not_started)
    return list_existing_events(self, ev.queue.front().event);
  while (!ev.queue.empty()) {
    auto q = std::move(ev.queue.front());
    ev.queue.pop_front();
    auto d = ev.correlator.decide(q.event, q.at_ms);
    if (d.what != event_decision::action::drop) return write_event(self, std::move(q.event), d);
    event_counts().dropped.inc();
    // The supervisor logged it already: a dropped Event is still in the log.
    k8s::log::debug("Event not recorded: rate limited", {{"reason", q.event.reason},
                                                         {"multicasskop", q.event.key.name},
                                                         {"namespace", q.event.key.ns},
                                                         {"count", std::to_string(d.count)}});
  }
}

void record(deployer_actor* self, const record_event& e) {
  auto& ev = self->state.events;
  if (ev.queue.size() >= max_queued_events) {
    event_counts().dropped.inc();
    k8s::log::warn("Event not recorded: too many waiting for the API server",
                   {{"reason", e.reason}, {"multicasskop", e.key.name}, {"namespace", e.key.ns}});
    return;
  }
  ev.queue.push_back({e, k8s::now_unix_ms()});
  pump_events(self);
}

void on_events_listed(deployer_actor* self, const events_listed& l) {
  auto& ev = self->state.events;
  const auto& key = self->state.settings.key;
  ev.seed = event_pipeline::seeding::done;
  if (l.ok) {
    ev.correlator.seed(key, ev.seed_uid, l.items);
    k8s::log::debug("Known Events of the MultiCasskop listed",
                    {{"multicasskop", key.name},
                     {"namespace", key.ns},
                     {"events", std::to_string(ev.correlator.keys(key))}});
  } else {
    // Recording without them at worst repeats an Event once; losing Events would be worse.
    k8s::log::warn("Cannot list the MultiCasskop's Events; recording new ones without them",
                   {{"multicasskop", key.name}, {"namespace", key.ns}, {"error", l.error}});
  }
  pump_events(self);
}

void on_event_written(deployer_actor* self, const event_written& w) {
  auto& ev = self->state.events;
  ev.writing = false;
  const auto& e = ev.in_flight;
  const bool create = ev.decision.what == event_decision::action::create;
  if (w.ok && create) {
    ev.correlator.created(e, w.name);
    event_counts().created.inc();
  } else if (w.ok) {
    event_counts().updated.inc();
  } else if (!create && w.error.kind == k8s::error_kind::not_found) {
    // Expired (Events live an hour by default): this occurrence starts a new one.
    return write_event(self, e, ev.correlator.recreate(e, ev.decision.last_ms));
  } else {
    event_counts().failed.inc();
    k8s::log::warn("Cannot record Event", {{"reason", e.reason},
                                           {"multicasskop", e.key.name},
                                           {"namespace", e.key.ns},
                                           {"error", w.error.describe()}});
  }
  pump_events(self);
}

void execute(deployer_actor* self, const command& c) {
  auto& st = self->state;
  auto& client = st.settings.client;
  const auto& cluster = st.settings.cluster;
  auto fail_now = [&](uint64_t id) {
    report_to(st.supervisor, id, st.settings.limits)(k8s::transport_error(
        k8s::error_kind::unreachable,
        "cluster " + cluster + " is not configured: " + st.settings.connect_error));
  };
  std::visit(
      [&](const auto& cmd) {
        using T = std::decay_t<decltype(cmd)>;
        if constexpr (std::is_same_v<T, create_cassandracluster>) {
          if (!client) return fail_now(cmd.id);
          k8s::write_options o;
          o.field_manager = field_manager;
          client->create(cassandraclusters,
                         std::string(js::get_string(*cmd.object, {"metadata", "namespace"})),
                         js::to_string(*cmd.object), o,
                         report_to(st.supervisor, cmd.id, st.settings.limits));
        } else if constexpr (std::is_same_v<T, patch_cassandracluster>) {
          if (!client) return fail_now(cmd.id);
          k8s::write_options o;
          o.field_manager = field_manager;
          client->patch(cassandraclusters, cmd.ns, cmd.name, k8s::patch_kind::merge,
                        cmd.merge_patch, o, report_to(st.supervisor, cmd.id, st.settings.limits),
                        cmd.status ? "status" : "");
        } else if constexpr (std::is_same_v<T, delete_cassandracluster>) {
          if (!client) return fail_now(cmd.id);
          k8s::delete_options o;
          o.propagation = "Background";
          o.precondition_uid = cmd.uid;
          client->remove(cassandraclusters, cmd.ns, cmd.name, o,
                         report_to(st.supervisor, cmd.id, st.settings.limits));
        } else if constexpr (std::is_same_v<T, patch_multicasskop>) {
          if (!client) return fail_now(cmd.id);
          k8s::write_options o;
          o.field_manager = field_manager;
          client->patch(
              multicasskops, cmd.key.ns, cmd.key.name, k8s::patch_kind::merge, cmd.merge_patch, o,
              report_to(st.supervisor, cmd.id, st.settings.limits, watched_kind::multicasskop),
              cmd.status ? "status" : "");
        } else if constexpr (std::is_same_v<T, record_event>) {
          record(self, cmd);
        }
      },
      c);
}

caf::behavior deployer(deployer_actor* self, deployer_settings s, caf::actor supervisor) {
  self->state.settings = std::move(s);
  self->state.supervisor = std::move(supervisor);
  return {
      [=](command_atom, const command& c) { execute(self, c); },
      [=](evlisted_atom, const events_listed& l) { on_events_listed(self, l); },
      [=](evwritten_atom, const event_written& w) { on_event_written(self, w); },
      [=](stop_atom) { self->quit(); },
  };
}

}  // namespace

caf::actor spawn_deployer(caf::actor_system& sys, deployer_settings s, caf::actor supervisor) {
  event_counts();  // the series exist, at 0, from the first MultiCasskop on
  return sys.spawn(deployer, std::move(s), std::move(supervisor));
}

}  // namespace mc
