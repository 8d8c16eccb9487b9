// The admin HTTP endpoint: health and readiness probes, Prometheus metrics, and the actors'
// state as JSON (actors, clusters, MultiCasskops with their journal, the configuration with
// secrets redacted). 127.0.0.1 unless configured otherwise; an optional bearer token.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include <caf/fwd.hpp>

namespace mc {

struct admin_settings {
  std::string address;  // host:port
  std::string token;    // "" = no authentication
  std::function<std::string()> config_json;
  std::function<bool()> leading;  // null without leader election
};

class admin_server {
 public:
  admin_server(caf::actor_system& sys, admin_settings s);
  ~admin_server();
  // Binds; throws std::runtime_error naming the address when it cannot.
  void start();
  void stop();
  // host:port it listens on (the real port when the configured one was 0).
  std::string address() const;
  // The supervisor to ask (none while this replica is not the leader).
  void set_supervisor(const caf::actor& supervisor);

  struct impl;

 private:
  std::unique_ptr<impl> impl_;
};

}  // namespace mc
