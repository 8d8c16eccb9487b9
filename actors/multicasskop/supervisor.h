// The supervisor actor: owns the MultiCasskop state machine and its journal, spawns per cluster
// a resource watcher and a writer (and in the local cluster the Event recorder), restarts any of
// them that fails, turns every input into an event, and hands the state machine's commands to
// the writers, the recorder, timers and the log.
#pragma once

#include <memory>
#include <string>

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/fwd.hpp>

#include "actors/multicasskop/config.h"
#include "actors/runtime/cluster_registry.h"

namespace mc {

struct supervisor_settings {
  operator_config config;
  std::shared_ptr<runtime::cluster_registry> registry;
};

caf::actor spawn_supervisor(caf::actor_system& sys, supervisor_settings s);

}  // namespace mc

// (reload_atom, operator_config): a local message, never serialized.
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(mc::operator_config)
