// The kubesim process: several simulated clusters, each with its own TLS listener, token,
// kubeconfig and service-account folder, plus the fault-injection control API.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "k8s/http/http_server.h"
#include "tools/kubesim/api_server.h"
#include "tools/kubesim/certs.h"
#include "tools/kubesim/cluster_state.h"

namespace boost::asio {
class io_context;
}

namespace kubesim {

class workload_simulator;
class casskop_standin;
class disruption_controller;
class service_account_tokens;
class auth_controllers;
class cassandra_pods;

struct simulator_options {
  std::filesystem::path state_dir;
  std::vector<std::string> clusters;
  bool insecure_http = false;
  bool simulate_workloads = false;
  int bookmark_interval_ms = 60000;
  size_t history_limit = 10000;
  int pod_ready_delay_ms = 1000;
  // With simulate_workloads: pods running a `cassandra` container are simulated Cassandra nodes.
  // Off by default: the e2e tests run casskop's real pods (readiness initialDelaySeconds 60)
  // and rely on --pod-ready-delay-ms.
  bool simulate_cassandra = false;
  int cassandra_ip_prefix = 0;    // x of the first 127.x.0.0/16 tried; 0: drawn at random
  double probe_time_scale = 1.0;  // factor on the Cassandra pods' probe delay and period
  bool simulate_casskop = false;  // the CassKop stand-in starts enabled on every cluster
  int casskop_delay_ms = 1000;
  std::string casskop_flavor = "v2.1.0";  // or "observed-generation" (casskop_standin.h)
  double casskop_time_scale = 1.0;
  int threads = 2;
};

// One simulated cluster and everything that serves it.
struct sim_cluster {
  std::string name;
  std::unique_ptr<cluster_state> state;
  std::unique_ptr<service_account_tokens> sa_tokens;
  std::unique_ptr<api_server> api;
  std::unique_ptr<k8s::http::listener> listener;
  std::unique_ptr<workload_simulator> workloads;
  std::unique_ptr<casskop_standin> casskop;  // always there; enabled by flag or control API
  std::unique_ptr<disruption_controller> disruption;  // always running, as on a real cluster
  std::unique_ptr<auth_controllers> auth;  // token controller and ClusterRole aggregation
  std::string token;
  std::string previous_token;  // still accepted after a rotation with keepOld
};

class simulator {
 public:
  explicit simulator(simulator_options options);
  ~simulator();

  // Binds every listener and writes the per-cluster files; throws on failure.
  void start();
  // Blocks until stop() (from a signal handler thread or another thread).
  void run();
  void stop();

  sim_cluster* find(const std::string& name);
  const std::vector<std::unique_ptr<sim_cluster>>& clusters() const { return clusters_; }
  const simulator_options& options() const { return options_; }
  std::string control_url() const;

  // Faults and operations the control API exposes.
  void set_reachable(sim_cluster& c, bool reachable);
  void rotate_token(sim_cluster& c, bool keep_old);

 private:
  void write_files(sim_cluster& c);
  void handle_control(const std::shared_ptr<k8s::http::exchange>& ex);
  // POST /clusters/{name}/cassandra/{what}?namespace=&pod=...
  void handle_cassandra_control(const std::shared_ptr<k8s::http::exchange>& ex, sim_cluster& c,
                                const std::string& what);

  simulator_options options_;
  std::unique_ptr<boost::asio::io_context> io_;
  // Before clusters_: their workload controllers point at it. Shared by every cluster, so
  // regions can form one ring.
  std::unique_ptr<cassandra_pods> cassandra_;
  pem_pair ca_;
  pem_pair server_cert_;
  std::string control_token_;
  std::vector<std::unique_ptr<sim_cluster>> clusters_;
  std::unique_ptr<k8s::http::listener> control_;
  std::vector<std::thread> threads_;
};

}  // namespace kubesim
