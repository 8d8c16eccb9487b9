// The supervisor actor: owns the MultiCasskop state machine and its journal, spawns one
// watcher per cluster and the deployers, turns every input into an event, and hands the
// state machine's commands to the deployers (writes), to timers and to the log.
#pragma once

#include <memory>
#include <string>

#include <caf/fwd.hpp>

#include "actors/cluster_registry.h"
#include "actors/config.h"

namespace mc {

struct supervisor_settings {
  operator_config config;
  std::shared_ptr<cluster_registry> registry;
};

caf::actor spawn_supervisor(caf::actor_system& sys, supervisor_settings s);

}  // namespace mc
