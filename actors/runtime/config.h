// The host's part of an operator's configuration: the watched namespace, the clusters (regions)
// in order with one way to connect to each, logging, the admin endpoint and leader election.
// A binary's configuration derives from host_config and adds its controllers' own keys; both
// are read from the same YAML file (config_reader helps with the controllers' keys).
#pragma once

#include <cstdint>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "k8s/api/connection.h"
#include "k8s/json/json.h"

namespace runtime {

struct cluster_source {
  std::string name;
  std::string kubeconfig;        // a kubeconfig file ...
  std::string context;           // ... and optionally its context
  std::string secret_dir;        // or a kubemcsa secret folder
  bool in_cluster = false;       // or the pod's service account
  std::string describe() const;  // "kubeconfig /x (context y)", never a secret
  bool operator==(const cluster_source& o) const;
};

struct host_config {
  virtual ~host_config() = default;
  std::string namespace_name;
  std::vector<cluster_source> clusters;  // the first is the local cluster
  std::string log_level = "info";
  std::string log_format = "logfmt";  // or json
  std::string admin_address = "127.0.0.1:8090";
  std::string admin_token_file;  // "" = no token
  // Two replicas: one leads (runs the controllers), the other waits, through a Lease in the
  // local cluster.
  bool leader_election = false;
  std::string lease_name;  // the binary sets its default
  int64_t lease_duration_ms = 15000;
  int64_t renew_deadline_ms = 10000;
  int64_t retry_period_ms = 2000;
  // A "leader for life" ConfigMap lock (operator-sdk's leader.Become: leader_for_life_lock.h)
  // that must be ours before the controllers start, besides the Lease when there is one: its
  // name ("" = none), its namespace, and our Pod, its owner (POD_NAME: without it no lock is
  // taken, as when not running in a cluster). Read at start only.
  std::string life_lock_name;
  std::string life_lock_namespace;
  std::string life_lock_pod;
  std::string origin;  // where it came from, for messages
};

// What is wrong with a configuration; what() says which file and field.
struct config_invalid : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Reads typed fields of a YAML mapping; every error names the origin and the field.
class config_reader {
 public:
  explicit config_reader(std::string origin) : origin_(std::move(origin)) {}
  [[noreturn]] void fail(const std::string& msg) const;
  // Refuses keys of `map` outside `allowed`, listing the known ones.
  void only(const YAML::Node& map, const std::string& where,
            const std::set<std::string>& allowed) const;
  std::string str(const YAML::Node& map, const char* key, const std::string& where,
                  const std::string& fallback = "") const;
  bool flag(const YAML::Node& map, const char* key, const std::string& where) const;
  int64_t number(const YAML::Node& map, const char* key, const std::string& where, int64_t fallback,
                 int64_t min) const;
  // The document's root mapping; fails on YAML that is not a mapping.
  YAML::Node root(const std::string& yaml) const;

 private:
  std::string origin_;
};

// The top-level keys the host reads: namespace, clusters, log, admin, leaderElection.
const std::set<std::string>& host_config_keys();
// Fills the host's fields of `c` from the root mapping (other keys are left to the caller).
void parse_host_config(const YAML::Node& root, const config_reader& r, host_config& c);
// Cluster names, their count, the log settings.
void validate_host_config(const host_config& c, const config_reader& r);
// The file's text; config_invalid naming the path when it cannot be read.
std::string read_config_file(const std::string& path);
// The host's fields as members of the object `d` (no secret: token files are named, not read).
void add_host_config_json(const host_config& c, k8s::json::Document& d);

// Connection settings for one cluster; throws k8s::config_error with a clear message.
k8s::connection_settings connect_settings(const cluster_source& source);

}  // namespace runtime
