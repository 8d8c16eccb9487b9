// multi-casskop's configuration: the host's part (runtime/config.h: namespace, clusters, log,
// admin, leader election) and its own keys (journal, readiness, deletion, limits). From a YAML
// file (--config), or from the original operator's flags (-l local -r remote ...) so its Helm
// values keep working.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "actors/runtime/config.h"

namespace mc {

using runtime::cluster_source;
using runtime::config_invalid;
using runtime::connect_settings;

struct operator_config : runtime::host_config {
  operator_config() { lease_name = "multi-casskop"; }
  size_t journal_limit = 16;          // events kept in memory per MultiCasskop (admin endpoint)
  std::string journal_file;           // every event as a JSON line, for `replay`; "" = none
  int64_t journal_max_file_mib = 32;  // then it rotates (journal.h)
  int journal_max_files = 4;
  // A MultiCasskop whose spec is larger is refused (TooLarge) and not held in memory: its
  // CassandraClusters carry the spec twice in annotations (ours and CassKop's), and the API
  // server caps annotations at 256 KiB per object.
  int64_t max_multicasskop_spec_bytes = 64 * 1024;
  int64_t legacy_settle_ms = 60000;
  int64_t deletion_start_grace_ms = 60000;  // see machine_options::start_grace_ms
};

operator_config load_config_file(const std::string& path);
operator_config parse_config(const std::string& yaml, const std::string& origin);

// The original operator's command line: -l/--local NAME, -r/--remote NAME (repeated), the
// namespace from WATCH_NAMESPACE, LOG_LEVEL, LOG_TYPE=json and ADMIN_ADDRESS (host:port). The local
// cluster is the pod's service account (or $KUBECONFIG outside a cluster); a remote NAME is the
// Admiralty import /var/run/secrets/admiralty.io/serviceaccountimports/NAME/config if it exists,
// else the context NAME of $KUBECONFIG (or ~/.kube/config).
operator_config from_legacy_flags(
    const std::string& local, const std::vector<std::string>& remotes,
    const std::function<const char*(const char*)>& getenv,
    const std::string& admiralty_dir = "/var/run/secrets/admiralty.io/serviceaccountimports");

// The configuration as JSON for the admin endpoint. It holds no secret (tokens live in files,
// which are named, never read here).
std::string config_json(const operator_config& c);

}  // namespace mc
