// What multi-casskop watches in one cluster, and what the changes become: CassandraClusters
// everywhere and, in the local cluster, MultiCasskops, each trimmed for the cache and turned
// into the supervisor's events (messages/multicasskop/events.h).
#pragma once

#include <string>
#include <vector>

#include <caf/fwd.hpp>

#include "actors/multicasskop/logic/cache_trim.h"
#include "actors/runtime/resource_watcher.h"

namespace mc {

std::vector<runtime::watched_resource> watched_resources(const caf::actor& supervisor,
                                                         const std::string& cluster,
                                                         const std::string& namespace_name,
                                                         bool local, const cache_limits& limits);

// The watcher's health reports, as the supervisor's cluster_health events.
std::function<void(const runtime::cluster_health&)> health_sink(const caf::actor& supervisor);

}  // namespace mc
