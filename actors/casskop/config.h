// casskop's configuration: the host's part (runtime/config.h: namespace, the one cluster it
// works in, log, admin, leader election with the Lease `casskop` by default). From a YAML file
// (--config), or from the original CassKop's environment so its Helm chart's Deployment keeps
// working: WATCH_NAMESPACE (required), POD_NAME, OPERATOR_NAME, KUBECONFIG or the pod's service
// account, LOG_LEVEL, LOG_TYPE=json, ADMIN_ADDRESS (default :8081, the chart's probe port).
#pragma once

#include <functional>
#include <string>

#include "actors/runtime/config.h"

namespace casskop {

struct casskop_config : runtime::host_config {
  casskop_config() { lease_name = "casskop"; }
  std::string pod_name;       // POD_NAME: who we are, in logs
  std::string operator_name;  // OPERATOR_NAME: the Events' reporting component (default casskop)
};

casskop_config load_config_file(const std::string& path);
casskop_config parse_config(const std::string& yaml, const std::string& origin);
// The original's environment (see above); `getenv` returns null for an unset variable.
casskop_config from_environment(const std::function<const char*(const char*)>& getenv);

std::string config_json(const casskop_config& c);

}  // namespace casskop
