// What multi-casskop watches in one cluster, and what the changes become: CassandraClusters
// everywhere and, in the local cluster, MultiCasskops, each trimmed for the cache and turned
// into the supervisor's events (messages/multicasskop/events.h).
#pragma once

#include <string>
#include <vector>

#include <caf/fwd.hpp>

#include "actors/multicasskop/logic/cache_trim.h"
#include "actors/runtime/logic/coalescing_queue.h"
#include "actors/runtime/resource_watcher.h"
#include "messages/multicasskop/events.h"

namespace mc {

// Watch changes waiting for the supervisor, the latest per object: a supervisor busy with a
// burst reads each object once, not every version in between, and its backlog stays one entry
// per object. It is woken with (changes_atom) when the queue turns non-empty.
using change_queue = runtime::coalescing_queue<std::string, event_body>;

// `known`: what the state machine knows (its snapshot) when a failed watcher is replaced, so
// objects deleted meanwhile are reported gone; empty for a first watcher.
std::vector<runtime::watched_resource> watched_resources(const caf::actor& supervisor,
                                                         std::shared_ptr<change_queue> changes,
                                                         const std::string& cluster,
                                                         const std::string& namespace_name,
                                                         bool local, const cache_limits& limits,
                                                         const std::vector<event_body>& known = {});

// The watcher's health reports, as the supervisor's cluster_health events.
std::function<void(const runtime::cluster_health&)> health_sink(const caf::actor& supervisor);

}  // namespace mc
