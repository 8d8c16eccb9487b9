#include "actors/runtime/event_recorder.h"

#include <unistd.h>

#include <list>
#include <map>

#include "actors/runtime/client_metrics.h"
#include "k8s/api/client.h"
#include "k8s/base/log.h"
#include "k8s/base/timestamps.h"

namespace runtime {
namespace js = k8s::json;

namespace {

const k8s::resource core_events{"", "v1", "events", "Event", true};

const std::string& instance_name() {
  static const std::string host = [] {
    char buf[256] = {0};
    gethostname(buf, sizeof buf - 1);
    return std::string(buf);
  }();
  return host;
}

// The Events of one involved object, carried out one at a time and in order. Only while it has
// work: an object whose Events are all written keeps nothing here (the correlator knows it was
// seeded), so thousands of quiet objects cost no pipeline each.
struct pipeline {
  struct queued {
    event_record event;
    int64_t at_ms = 0;
  };
  enum class seeding { not_started, listing, done };

  seeding seed = seeding::not_started;
  involved_object seeded_as;  // as the first Event gave it (its uid)
  std::list<queued> queue;    // a std::deque allocates a 512-byte block even when empty
  bool writing = false;
  event_record in_flight;
  event_decision decision;  // of in_flight
};

struct recorder_state {
  event_recorder_settings settings;
  event_correlator correlator;
  std::map<std::string, pipeline> pipelines;  // by involved_object::key(), only while busy
  std::unique_ptr<event_counters> counts;
  static inline const char* name = "event-recorder";

  // Stopping (failed or told to): what is not written yet goes to the successor, if any.
  ~recorder_state() {
    if (!settings.handover) return;
    std::lock_guard lock(settings.handover->mutex);
    for (auto& [key, p] : pipelines) {
      if (p.writing) settings.handover->events.push_back(std::move(p.in_flight));
      for (auto& q : p.queue) settings.handover->events.push_back(std::move(q.event));
    }
  }
};

using recorder_pointer = event_recorder_actor::stateful_pointer<recorder_state>;

// Sends a value to the recorder from a client callback, unless it has stopped meanwhile.
auto to_self(recorder_pointer self) {
  auto weak = caf::actor_cast<caf::weak_actor_ptr>(self);
  return [weak](auto value) {
    if (auto strong = weak.lock())
      caf::anon_send(caf::actor_cast<event_recorder_actor>(strong), std::move(value));
  };
}

void write_event(recorder_pointer self, pipeline& p, const std::string& key, event_record e,
                 const event_decision& d) {
  auto& st = self->state;
  p.writing = true;
  p.in_flight = std::move(e);
  p.decision = d;
  auto done = [send = to_self(self), key](k8s::result<k8s::object_ptr> r) {
    event_written w;
    w.object_key = key;
    w.ok = r.ok();
    if (!r.ok())
      w.error = r.error();
    else if (r.value())
      w.name = std::string(js::get_string(*r.value(), {"metadata", "name"}));
    send(std::move(w));
  };
  k8s::write_options o;
  o.field_manager = st.settings.source.component;
  const auto& cmd = p.in_flight;
  if (d.what == event_decision::action::create)
    st.settings.client->create(core_events, cmd.object.ns,
                               event_json(cmd, d, st.settings.source, instance_name()), o,
                               std::move(done));
  else
    st.settings.client->patch(core_events, cmd.object.ns, d.name, k8s::patch_kind::merge,
                              event_bump_patch(d), o, std::move(done));
}

void list_existing_events(recorder_pointer self, pipeline& p, const std::string& key) {
  p.seed = pipeline::seeding::listing;
  p.seeded_as = p.queue.front().event.object;
  const auto& obj = p.seeded_as;
  k8s::list_options o;
  o.field_selector = obj.uid.empty()
                         ? "involvedObject.kind=" + obj.kind + ",involvedObject.name=" + obj.name
                         : "involvedObject.uid=" + obj.uid;
  self->state.settings.client->list(core_events, obj.ns, o,
                                    [send = to_self(self), key](k8s::result<k8s::list_page> r) {
                                      events_listed l;
                                      l.object_key = key;
                                      l.ok = r.ok();
                                      if (r.ok())
                                        l.items = std::move(r.value().items);
                                      else
                                        l.error = r.error().describe();
                                      send(std::move(l));
                                    });
}

// Moves an object's queue on: the list first, then one write at a time; drops need no write.
void pump(recorder_pointer self, const std::string& key) {
  auto& st = self->state;
  auto it = st.pipelines.find(key);
  if (it == st.pipelines.end()) return;
  auto& p = it->second;
  if (p.writing || p.seed == pipeline::seeding::listing) return;
  if (p.queue.empty()) {
    if (p.seed == pipeline::seeding::done) st.pipelines.erase(it);  // idle: nothing to keep
    return;
  }
  if (!st.settings.client) {
    st.counts->failed.inc(p.queue.size());
    p.queue.clear();
    return;
  }
  if (p.seed == pipeline::seeding::not_started) return list_existing_events(self, p, key);
  while (!p.queue.empty()) {
    auto q = std::move(p.queue.front());
    p.queue.pop_front();
    auto d = st.correlator.decide(q.event, q.at_ms);
    if (d.what != event_decision::action::drop)
      return write_event(self, p, key, std::move(q.event), d);
    st.counts->dropped.inc();
    // The controller logged it already: a dropped Event is still in the log.
    k8s::log::debug("Event not recorded: rate limited", {{"reason", q.event.reason},
                                                         {"kind", q.event.object.kind},
                                                         {"name", q.event.object.name},
                                                         {"namespace", q.event.object.ns},
                                                         {"count", std::to_string(d.count)}});
  }
  st.pipelines.erase(it);  // every Event dropped: idle
}

void record(recorder_pointer self, event_record& e) {
  auto& st = self->state;
  const auto key = e.object.key();
  auto& p = st.pipelines[key];
  // An object seen before had its Events listed then: not again.
  if (p.seed == pipeline::seeding::not_started && st.correlator.knows(e.object))
    p.seed = pipeline::seeding::done;
  if (p.queue.size() >= st.settings.max_queued) {
    st.counts->dropped.inc();
    k8s::log::warn("Event not recorded: too many waiting for the API server",
                   {{"reason", e.reason},
                    {"kind", e.object.kind},
                    {"name", e.object.name},
                    {"namespace", e.object.ns}});
    return;
  }
  p.queue.push_back({std::move(e), k8s::now_unix_ms()});
  pump(self, key);
}

void on_listed(recorder_pointer self, events_listed& l) {
  auto& st = self->state;
  auto it = st.pipelines.find(l.object_key);
  if (it == st.pipelines.end()) return;  // forgotten meanwhile
  auto& p = it->second;
  p.seed = pipeline::seeding::done;
  const auto& obj = p.seeded_as;
  if (l.ok) {
    st.correlator.seed(obj, st.settings.source, l.items);
    k8s::log::debug("Known Events of the object listed",
                    {{"kind", obj.kind},
                     {"name", obj.name},
                     {"namespace", obj.ns},
                     {"events", std::to_string(st.correlator.keys(obj))}});
  } else {
    st.correlator.seed(obj, st.settings.source, {});  // seeded with none: not listed again
    // Recording without them at worst repeats an Event once; losing Events would be worse.
    k8s::log::warn(
        "Cannot list the object's Events; recording new ones without them",
        {{"kind", obj.kind}, {"name", obj.name}, {"namespace", obj.ns}, {"error", l.error}});
  }
  p.seeded_as = involved_object{};
  pump(self, l.object_key);
}

void on_written(recorder_pointer self, const event_written& w) {
  auto& st = self->state;
  auto it = st.pipelines.find(w.object_key);
  if (it == st.pipelines.end()) return;  // forgotten meanwhile
  auto& p = it->second;
  p.writing = false;
  const auto& e = p.in_flight;
  const bool create = p.decision.what == event_decision::action::create;
  if (w.ok && create) {
    st.correlator.created(e, w.name);
    st.counts->created.inc();
  } else if (w.ok) {
    st.counts->updated.inc();
  } else if (!create && w.error.kind == k8s::error_kind::not_found) {
    // Expired (Events live an hour by default): this occurrence starts a new one.
    return write_event(self, p, w.object_key, e, st.correlator.recreate(e, p.decision.last_ms));
  } else {
    st.counts->failed.inc();
    k8s::log::warn("Cannot record Event", {{"reason", e.reason},
                                           {"kind", e.object.kind},
                                           {"name", e.object.name},
                                           {"namespace", e.object.ns},
                                           {"error", w.error.describe()}});
  }
  p.in_flight = event_record{};
  p.decision = event_decision{};
  pump(self, w.object_key);
}

event_recorder_actor::behavior_type event_recorder(recorder_pointer self,
                                                   event_recorder_settings s) {
  auto& st = self->state;
  st.settings = std::move(s);
  st.correlator = event_correlator(st.settings.correlation);
  st.counts = std::make_unique<event_counters>(event_counts(st.settings.controller));
  if (st.settings.handover) {
    std::vector<event_record> left;
    {
      std::lock_guard lock(st.settings.handover->mutex);
      left.swap(st.settings.handover->events);
    }
    if (!left.empty())
      k8s::log::info("Recording the Events a failed recorder left",
                     {{"events", std::to_string(left.size())}});
    for (auto& e : left) record(self, e);
  }
  return {
      [=](event_record& e) { record(self, e); },
      [=](const forget_object& f) {
        // An Event still in flight answers into nothing; the object is gone anyway.
        self->state.pipelines.erase(f.object.key());
        self->state.correlator.forget(f.object);
      },
      [=](events_listed& l) { on_listed(self, l); },
      [=](const event_written& w) { on_written(self, w); },
      [=](stop_atom) { self->quit(); },
  };
}

}  // namespace

event_recorder_actor spawn_event_recorder(caf::actor_system& sys, event_recorder_settings s) {
  event_counts(s.controller);  // the series exist, at 0, from the start
  return sys.spawn(event_recorder, std::move(s));
}

}  // namespace runtime
