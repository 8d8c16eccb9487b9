// One watcher actor per cluster: list-watches the CassandraClusters of the watched namespace
// (and, in the local cluster, the MultiCasskops) and streams them to the supervisor as events,
// with the cluster's health (reachable, first list in) whenever it changes.
#pragma once

#include <memory>
#include <string>

#include <caf/fwd.hpp>

#include "actors/multicasskop/logic/cache_trim.h"

namespace k8s {
class client;
class timer_service;
}  // namespace k8s

namespace mc {

struct watcher_settings {
  std::string cluster;
  std::string namespace_name;
  bool local = false;  // also watch MultiCasskops
  std::shared_ptr<k8s::client> client;  // null: the cluster's source could not be read
  std::string connect_error;
  std::shared_ptr<k8s::timer_service> timers;
  cache_limits limits;
};

caf::actor spawn_cluster_watcher(caf::actor_system& sys, watcher_settings s, caf::actor supervisor);

}  // namespace mc
