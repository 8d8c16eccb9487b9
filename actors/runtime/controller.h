// What a binary registers on the host (host.h): a controller, started with the configuration
// and the cluster registry when this replica leads (at once without leader election), stopped
// when it loses the lease or the process stops, told of every configuration reload, and asked
// for its state by the admin endpoint.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include <caf/fwd.hpp>

#include "actors/runtime/cluster_registry.h"
#include "actors/runtime/config.h"

namespace runtime {

struct controller_context {
  caf::actor_system& system;
  std::shared_ptr<cluster_registry> registry;  // one client per configured cluster, and timers
};

// An answer of the admin endpoint: an HTTP status and a JSON body.
struct admin_reply {
  int status = 200;
  std::string json;
};

class controller {
 public:
  virtual ~controller() = default;
  // Names it in logs and in the operator_build_info metric (e.g. "multicasskop").
  virtual std::string name() const = 0;
  // Spawns its actors; `config` is the binary's whole configuration (its derived type). The
  // returned root actor is stopped with exit_reason::user_shutdown, which must stop them all.
  virtual caf::actor start(const controller_context& ctx, const host_config& config) = 0;
  // A new configuration, already validated, for the running root actor.
  virtual void reload(const caf::actor& root, const host_config& config) = 0;
  // "" when ready to serve, else why not (e.g. a cluster's first list not in yet).
  virtual std::string not_ready(const caf::actor& /*root*/) { return ""; }
  // The admin routes it serves (besides the host's /healthz /readyz /metrics /config /credentials),
  // answered by the running controller only (a standby answers 503 for them).
  virtual bool serves(const std::string& /*path*/) const { return false; }
  virtual admin_reply route(const caf::actor& /*root*/, const std::string& /*path*/) {
    return {404, "{}"};
  }
};

}  // namespace runtime
