// The operator's configuration: the watched namespace and the clusters (regions) in order,
// each with one way to connect. From a YAML file (--config), or from the original operator's
// flags (-l local -r remote ...) so its Helm values keep working.
#pragma once

#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "k8s/api/connection.h"

namespace mc {

struct cluster_source {
  std::string name;
  std::string kubeconfig;  // a kubeconfig file ...
  std::string context;     // ... and optionally its context
  std::string secret_dir;  // or a kubemcsa secret folder
  bool in_cluster = false;  // or the pod's service account
  std::string describe() const;  // "kubeconfig /x (context y)", never a secret
  bool operator==(const cluster_source& o) const;
};

struct operator_config {
  std::string namespace_name;
  std::vector<cluster_source> clusters;  // the first is the local cluster
  std::string log_level = "info";
  std::string log_format = "logfmt";  // or json
  size_t journal_limit = 32;          // events kept in memory per MultiCasskop
  std::string journal_file;           // every event as a JSON line, for `replay`; "" = none
  int64_t journal_max_file_mib = 32;  // then it rotates (journal.h)
  int journal_max_files = 4;
  // A MultiCasskop whose spec is larger is refused (TooLarge) and not held in memory: its
  // CassandraClusters carry the spec twice in annotations (ours and CassKop's), and the API
  // server caps annotations at 256 KiB per object.
  int64_t max_multicasskop_spec_bytes = 64 * 1024;
  int64_t legacy_settle_ms = 60000;
  int64_t deletion_start_grace_ms = 60000;  // see machine_options::start_grace_ms
  std::string admin_address = "127.0.0.1:8090";
  std::string admin_token_file;
  // Two replicas: one leads (writes), the other waits, through a Lease in the local cluster.
  bool leader_election = false;
  std::string lease_name = "multi-casskop";
  int64_t lease_duration_ms = 15000;
  int64_t renew_deadline_ms = 10000;
  int64_t retry_period_ms = 2000;
  std::string origin;  // where it came from, for messages
};

// What is wrong with a configuration; what() says which file and field.
struct config_invalid : std::runtime_error {
  using std::runtime_error::runtime_error;
};

operator_config load_config_file(const std::string& path);
operator_config parse_config(const std::string& yaml, const std::string& origin);

// The original operator's command line: -l/--local NAME, -r/--remote NAME (repeated), the
// namespace from WATCH_NAMESPACE, LOG_LEVEL, LOG_TYPE=json and ADMIN_ADDRESS (host:port). The local cluster is the pod's
// service account (or $KUBECONFIG outside a cluster); a remote NAME is the Admiralty import
// /var/run/secrets/admiralty.io/serviceaccountimports/NAME/config if it exists, else the
// context NAME of $KUBECONFIG (or ~/.kube/config).
operator_config from_legacy_flags(const std::string& local, const std::vector<std::string>& remotes,
                                  const std::function<const char*(const char*)>& getenv,
                                  const std::string& admiralty_dir =
                                      "/var/run/secrets/admiralty.io/serviceaccountimports");

// The configuration as JSON for the admin endpoint. It holds no secret (tokens live in files,
// which are named, never read here).
std::string config_json(const operator_config& c);

// Connection settings for one cluster; throws k8s::config_error with a clear message.
k8s::connection_settings connect_settings(const cluster_source& source);

}  // namespace mc
