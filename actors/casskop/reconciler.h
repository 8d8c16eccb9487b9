// The reconciler actor: casskop's root actor. It owns, in its one cluster, a resource watcher
// over CassandraClusters and the StatefulSets, Services and PodDisruptionBudgets they own, a
// writer and the Event recorder (restarted when they fail). Watch changes are coalesced per
// object and turned into work per CassandraCluster; one pass (logic/reconcile.h) per
// CassandraCluster at a time, its writes sent through the writer; a change seen during a pass
// runs another one after it, a failed write retries it with backoff.
//
// Fences: after writing a StatefulSet at generation G, a cached one with a lower generation (or,
// after a create, none) is handed to the pass as stale, so a cache that lags behind our own
// writes never ends an action early or writes twice. Likewise a CassandraCluster we wrote is
// read back from the write's answer until the cache catches up.
#pragma once

#include <memory>

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/fwd.hpp>

#include "actors/casskop/config.h"
#include "actors/runtime/cluster_registry.h"

namespace casskop {

struct reconciler_settings {
  casskop_config config;
  std::shared_ptr<runtime::cluster_registry> registry;
};

caf::actor spawn_reconciler(caf::actor_system& sys, reconciler_settings s);

}  // namespace casskop

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(casskop::casskop_config)
