// casskop's configuration: the host's part (runtime/config.h: namespace, the one cluster it
// works in, log, admin, leader election with the Lease `casskop` by default). From a YAML file
// (--config), or from the original CassKop's environment so its Helm chart's Deployment keeps
// working: WATCH_NAMESPACE (required), POD_NAME (the owner of the Go CassKop's lock
// `casskop-lock`, which casskop takes as the original does), OPERATOR_NAME, KUBECONFIG or the
// pod's service account, LOG_LEVEL, LOG_TYPE=json, ADMIN_ADDRESS (default :8081, the chart's
// probe port).
#pragma once

#include <functional>
#include <string>

#include "actors/runtime/config.h"

namespace casskop {

// The Go CassKop's leader lock (v2.1.0 main.go:145, leader.Become(ctx, "casskop-lock")).
inline constexpr const char* go_casskop_lock = "casskop-lock";

// How casskop talks to Cassandra nodes (config key `jolokia`). The original has no timeout at all
// (a hanging agent blocks its loop); each call here has one.
struct jolokia_settings {
  int64_t timeout_ms = 10'000;  // jolokia.timeoutSeconds: every READ and decommission
  // jolokia.execTimeoutSeconds: blocking EXECs (cleanup, upgradesstables, rebuild, removeNode)
  // answer only when the work is done; past this the call counts as failed (the node's
  // Compactions / CurrentStreams then say whether it still runs).
  int64_t exec_timeout_ms = 3'600'000;
  // jolokia.restPollSeconds: how often a cluster's nodes are read when no action needs them
  // (v2.1.0 reads HostIdMap every 5 s loop); jolokia.busyPollSeconds: while an action waits on
  // a node (a decommission under way, a scale-up waiting for joining nodes).
  int64_t rest_poll_ms = 30'000;
  int64_t busy_poll_ms = 2'000;
  // jolokia.decommissionResendSeconds: a node still NORMAL this long after decommission was
  // sent gets it again (v2.1.0: 120 s, pod_operation.go).
  int64_t decommission_resend_ms = 60'000;
};

struct casskop_config : runtime::host_config {
  casskop_config() { lease_name = "casskop"; }
  std::string pod_name;       // POD_NAME: who we are, in logs
  std::string operator_name;  // OPERATOR_NAME: the Events' reporting component (default casskop)
  // leaderElection.goCasskopLock (default true; always in the original's environment): take and
  // honour the Go CassKop's ConfigMap lock `casskop-lock` (runtime::host_config::life_lock_*),
  // in the watched namespace, owned by the Pod POD_NAME names.
  bool go_casskop_lock = true;
  jolokia_settings jolokia;
};

casskop_config load_config_file(const std::string& path);
casskop_config parse_config(const std::string& yaml, const std::string& origin);
// POD_NAME (`getenv` returns null for an unset variable): the lock's owner with --config, where
// the file does not say who we are.
void set_pod_name(casskop_config& c, const std::function<const char*(const char*)>& getenv);

inline constexpr const char* service_account_namespace_file =
    "/var/run/secrets/kubernetes.io/serviceaccount/namespace";
// The original's environment (see above). The lock lives where leader.Become puts it: the
// namespace of the pod's service account (operator-lib v0.9.0 internal/utils/utils.go,
// GetOperatorNamespace), read from `namespace_file`; outside a pod, WATCH_NAMESPACE.
casskop_config from_environment(const std::function<const char*(const char*)>& getenv,
                                const std::string& namespace_file = service_account_namespace_file);

std::string config_json(const casskop_config& c);

}  // namespace casskop
