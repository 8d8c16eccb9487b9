// The HTTP face of one simulated cluster: authentication, injected faults, URL routing to
// cluster_state, content negotiation (JSON, Table, aggregated discovery) and watch streams.
#pragma once

#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "k8s/http/http_server.h"
#include "tools/kubesim/cluster_state.h"
#include "tools/kubesim/pod_exec.h"

namespace boost::asio {
class io_context;
}

namespace kubesim {

class service_account_tokens;

// Faults the control API can inject into one cluster's API.
struct fault_settings {
  int latency_ms = 0;
  double error_rate = 0;  // fraction of requests answered with error_code
  int error_code = 500;   // 500 or 429
  int retry_after_seconds = 1;
  bool expire_next_watch = false;  // the next watch gets ERROR 410 at once
};

struct api_server_options {
  std::string server_address;  // host:port, for legacy discovery
  int bookmark_interval_ms = 60000;
  // false: no authentication at all, like the old --insecure-port (kubectl sends no credentials
  // over plain http: clientcmd only reads a user's auth info for TLS servers).
  bool authenticate = true;
  // ServiceAccount tokens (and TokenRequest) of this cluster; none when null.
  const service_account_tokens* sa_tokens = nullptr;
};

class api_server {
 public:
  api_server(boost::asio::io_context& io, cluster_state& state, api_server_options options);
  ~api_server();

  void handle(std::shared_ptr<k8s::http::exchange> ex);

  // The admin tokens accepted as `Authorization: Bearer` (user kubesim-admin in system:masters).
  // Rotation may keep the old one valid.
  void set_tokens(std::set<std::string> tokens);
  fault_settings faults() const;
  void set_faults(const fault_settings& f);
  // Ends every open watch cleanly, as an API server restart or a load balancer would.
  void close_watches();
  size_t open_watches() const;
  void set_address(std::string server_address);
  // What pods/exec runs (kubesim's kubelet); call before serving. Unset: no command runs.
  void set_exec_runner(exec_runner run);

  struct impl;

 private:
  std::shared_ptr<impl> impl_;
};

}  // namespace kubesim
