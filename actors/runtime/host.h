// The host of an operator binary: it owns what every operator needs besides its controllers.
// Leader election (the controllers run exactly while this replica holds the Lease, or always
// without it; with a leader-for-life ConfigMap lock configured, only once that lock is ours too:
// leader_for_life_lock.h), the configuration and its live reload (file change and SIGHUP; an
// invalid file is refused and the old one keeps running), SIGTERM/SIGINT, the admin endpoint
// (probes, metrics, /config, /credentials, the controllers' routes) and its token file (re-read
// when it changes), the clusters' credentials (cluster_registry.h: re-read on change, retried while
// they cannot be loaded), the allocator and thread pool tuning, and the build_info metric.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "actors/runtime/config.h"
#include "actors/runtime/controller.h"

namespace runtime {

struct host_options {
  std::string program;      // the binary's name, in log lines ("Starting multi-casskop")
  std::string version;      // in the start log line and operator_build_info
  std::string config_file;  // watched and reloaded; "" = a fixed configuration (flags)
  // Reads and validates the file: the binary's whole configuration (its host_config-derived
  // type). Throws config_invalid (or any std::exception) to refuse it.
  std::function<std::shared_ptr<host_config>(const std::string& path)> load;
  // The configuration as JSON for /config (no secret).
  std::function<std::string(const host_config&)> config_json;
};

class host {
 public:
  host(host_options options, std::shared_ptr<host_config> config);
  ~host();
  void add(std::unique_ptr<controller> c);
  // Runs until SIGTERM or SIGINT and returns the exit code: 0 after a clean stop, 1 when it
  // cannot start (admin token file missing or empty, admin address unusable). Blocks the
  // termination signals first: call it before starting any thread.
  int run();

  struct impl;

 private:
  std::unique_ptr<impl> impl_;
};

// The log level and format of `c`, applied to k8s::log.
void apply_logging(const host_config& c);

// Reads a token file's first line; false with `error` (naming the path, never the token) when
// it is missing, unreadable or empty.
bool read_token_file(const std::string& path, std::string& token, std::string& error);

}  // namespace runtime
