// The Event recorder: one actor per cluster that records Kubernetes Events on any object,
// de-duplicated and rate limited per object (logic/event_correlator.h). An object's Events are
// written one at a time and in order (a bump needs the name the create got); the first one
// waits for a list of the object's Events already there, so a restarted operator bumps them
// instead of repeating them.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "actors/runtime/logic/event_correlator.h"
#include "messages/runtime/protocols.h"

namespace k8s {
class client;
}

namespace runtime {

// What a recorder that stops leaves for its successor: the Events it had not written yet
// (queued, or in flight: at worst one is counted twice). Shared by a recorder and the one that
// replaces it; locked, since the first may stop while the second starts.
struct event_handover {
  std::mutex mutex;
  std::vector<event_record> events;
};

struct event_recorder_settings {
  std::string controller;  // the metrics' `controller` label
  std::string cluster;
  std::shared_ptr<k8s::client> client;  // null: every Event fails
  event_source source;                  // component, detail annotation
  event_correlator_options correlation;
  // Waiting Events per object while one is written or the list is out. Only a slow or
  // unreachable API server fills it (each write waits for its answer); beyond it, new Events of
  // that object are dropped.
  size_t max_queued = 256;
  std::shared_ptr<event_handover> handover;  // none: unwritten Events go with the recorder
};

event_recorder_actor spawn_event_recorder(caf::actor_system& sys, event_recorder_settings s);

}  // namespace runtime
