// Starts a kubesim process for one test and stops it at the end; gives access to its clusters
// through kubectl (with a fresh discovery cache), the test HTTP client and the control API.
#pragma once

#include <map>
#include <memory>
#include <thread>
#include <string>
#include <vector>

#include "tests/support/api_client.h"
#include "tests/support/process.h"

namespace testsupport {

class kubesim_instance {
 public:
  explicit kubesim_instance(std::vector<std::string> clusters = {"k1"},
                            std::vector<std::string> extra_args = {});
  ~kubesim_instance();

  const std::string& state_dir() const { return dir_; }
  std::string kubeconfig(const std::string& cluster) const;
  std::string url(const std::string& cluster) const;
  std::string token(const std::string& cluster) const;
  std::string ca_pem(const std::string& cluster) const;
  api_client client(const std::string& cluster) const;  // authenticated with the token
  api_client anonymous_client(const std::string& cluster) const;

  // POST /clusters/<cluster>/<action>?<query> on the control API; returns the reply.
  http_reply control(const std::string& cluster, const std::string& action,
                     const std::string& query = "") const;
  // GET /clusters/<cluster> on the control API: the cluster's faults and counters.
  http_reply cluster_info(const std::string& cluster) const;

  // kubectl against one cluster; KUBECACHEDIR is private to this instance.
  run_result kubectl(const std::string& cluster, const std::vector<std::string>& args,
                     const std::string& stdin_data = "",
                     std::chrono::milliseconds timeout = std::chrono::seconds(60)) const;
  // Args for a background kubectl (e.g. get -w) plus the environment it needs.
  std::vector<std::string> kubectl_argv(const std::string& cluster,
                                        const std::vector<std::string>& args) const;
  std::map<std::string, std::string> kubectl_env() const;

  child& process() { return *process_; }

 private:
  api_client control_client() const;  // authenticated with the control API's token

  std::string dir_;
  std::unique_ptr<child> process_;
};

// The CassandraCluster CRD used across kubesim tests (status subresource, printer columns).
std::string cassandracluster_crd_yaml();

// Polls `condition` every 20 ms until it is true or `timeout` passes; returns its last value.
template <class F>
bool eventually(F&& condition, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (condition()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

}  // namespace testsupport
