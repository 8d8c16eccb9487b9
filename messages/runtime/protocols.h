// The runtime actors' typed interfaces: a message an actor does not handle does not compile.
// Include only in actor code: it pulls in CAF.
#pragma once

#include <string>
#include <vector>

#include <caf/all.hpp>

#include "messages/runtime/events.h"
#include "messages/runtime/writes.h"

namespace runtime {

using stop_atom = caf::atom_constant<caf::atom("stop")>;

// What the Event recorder's own requests answered; internal to it, but part of its interface
// since they reach it as messages.
struct events_listed {
  std::string object_key;
  bool ok = false;
  std::string error;
  std::vector<k8s::object_ptr> items;
};
struct event_written {
  std::string object_key;
  bool ok = false;
  k8s::api_error error;
  std::string name;  // of the created Event
};

// Whoever sends writes: gets one write_result per write_request.
using write_result_sink = caf::typed_actor<caf::reacts_to<write_result>>;

// What a write answered; internal to the writer (it forwards a write_result to the requester).
struct write_finished {
  std::string object_key;
  caf::strong_actor_ptr reply_to;
  write_result result;
};

// One watch stream's state, as its resource watcher learns it from a client thread; internal to
// the watcher, but part of its interface since it reaches it as a message.
struct stream_status {
  size_t index = 0;  // which of the watcher's resources
  bool synced = false;
  bool failing = false;
  bool denied = false;
  std::string error;
};

// One resource watcher per cluster: list-watches its resources, reports health and changes.
using resource_watcher_actor =
    caf::typed_actor<caf::reacts_to<stream_status>, caf::reacts_to<stop_atom>>;

// One writer per cluster: carries out writes, at most one at a time per object and in the order
// they came, and answers each with a write_result sent to the requester.
using writer_actor = caf::typed_actor<caf::reacts_to<write_request>, caf::reacts_to<write_finished>,
                                      caf::reacts_to<stop_atom>>;

// One Event recorder per cluster: records Events, de-duplicated and rate limited per object.
using event_recorder_actor =
    caf::typed_actor<caf::reacts_to<event_record>, caf::reacts_to<forget_object>,
                     caf::reacts_to<events_listed>, caf::reacts_to<event_written>,
                     caf::reacts_to<stop_atom>>;

}  // namespace runtime

// Local messages only: these types never cross a process boundary, so CAF need not serialize
// them.
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(runtime::stream_status)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(runtime::write_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(runtime::write_result)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(runtime::write_finished)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(runtime::event_record)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(runtime::forget_object)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(runtime::events_listed)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(runtime::event_written)
