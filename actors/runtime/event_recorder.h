// Deployer actors, one per (MultiCasskop, region): carry out the state machine's writes in that
// region's cluster (and, for the local region, the writes to the MultiCasskop itself) and report
// each result back to the supervisor as a write_done event. The local one also records the
// MultiCasskop's Kubernetes Events, de-duplicated and rate limited (event_correlator.h).
#pragma once

#include <memory>
#include <string>

#include <caf/fwd.hpp>

#include "actors/multicasskop/logic/cache_trim.h"
#include "messages/multicasskop/events.h"

namespace k8s {
class client;
}

namespace mc {

struct deployer_settings {
  mc_key key;
  std::string cluster;
  std::shared_ptr<k8s::client> client;  // that cluster's; null if it cannot be reached
  std::string connect_error;
  cache_limits limits;  // written objects are kept as the watchers keep them
};

caf::actor spawn_deployer(caf::actor_system& sys, deployer_settings s, caf::actor supervisor);

}  // namespace mc
