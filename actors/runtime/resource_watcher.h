// The resource watcher: one actor per cluster that list-watches the resources it is given and
// streams their changes to its sink, with the cluster's health (reachable, first lists in)
// whenever it changes. Which resources, in which namespace, trimmed how, and what a change
// becomes is the controller's; the watcher knows no operator.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "k8s/api/client.h"
#include "k8s/api/resource.h"
#include "k8s/watch/object_store.h"
#include "messages/runtime/protocols.h"

namespace k8s {
class timer_service;
}  // namespace k8s

namespace runtime {

// A watcher's view of its cluster.
struct cluster_health {
  std::string cluster;
  bool reachable = false;
  bool synced = false;  // every resource's first list is in
  std::string error;    // why not
  bool denied = false;  // unreachable because the API server refused our credentials (401, 403)
};

struct watched_resource {
  k8s::resource what;
  std::string namespace_name;  // "" for all namespaces
  // Applied to every object before it is cached and handed on; none: kept as listed.
  std::function<k8s::object_ptr(const k8s::object_ptr&)> transform;
  // The sink of this resource's changes. Runs on a client thread, serialized per resource, so
  // it must only hand the delta on (send it to an actor): one hop on the hot path.
  std::function<void(const k8s::store_delta&)> on_change;
  // What a failed predecessor had reported (a restart): those of them missing from the first
  // list were deleted meanwhile, and are reported removed once it is in. Also runs on_change,
  // from the watcher actor.
  std::vector<k8s::object_ptr> known;
  // Only objects with these labels ("app=x,k=v"), listed and watched so: "" for all.
  std::string label_selector;
};

struct watcher_settings {
  std::string controller;  // the metrics' `controller` label
  std::string cluster;
  std::shared_ptr<k8s::client> client;  // null: the cluster's source could not be read
  std::string connect_error;
  std::shared_ptr<k8s::timer_service> timers;
  std::vector<watched_resource> resources;
  // The sink of the cluster's health; runs in the watcher actor, on every change.
  std::function<void(const cluster_health&)> on_health;
};

resource_watcher_actor spawn_resource_watcher(caf::actor_system& sys, watcher_settings s);

}  // namespace runtime
