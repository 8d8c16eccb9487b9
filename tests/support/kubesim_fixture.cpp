#include "tests/support/kubesim_fixture.h"

#include <filesystem>
#include <stdexcept>

namespace testsupport {

kubesim_instance::kubesim_instance(std::vector<std::string> clusters,
                                   std::vector<std::string> extra_args) {
  dir_ = make_temp_dir("kubesim-test");
  std::vector<std::string> argv = {KUBESIM_BIN, "--state-dir", dir_ + "/state"};
  for (auto& c : clusters) {
    argv.push_back("--cluster");
    argv.push_back(c);
  }
  for (auto& a : extra_args) argv.push_back(a);
  process_ = std::make_unique<child>(argv);
  if (!process_->wait_for_line("kubesim ready", std::chrono::seconds(30)))
    throw std::runtime_error("kubesim did not become ready; output:\n" + process_->output());
}

kubesim_instance::~kubesim_instance() {
  process_->terminate();
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

std::string kubesim_instance::kubeconfig(const std::string& cluster) const {
  return dir_ + "/state/" + cluster + "/kubeconfig";
}
std::string kubesim_instance::url(const std::string& cluster) const {
  return read_file(dir_ + "/state/" + cluster + "/serviceaccount/server");
}
std::string kubesim_instance::token(const std::string& cluster) const {
  return read_file(dir_ + "/state/" + cluster + "/serviceaccount/token");
}
std::string kubesim_instance::ca_pem(const std::string& cluster) const {
  return read_file(dir_ + "/state/" + cluster + "/serviceaccount/ca.crt");
}

api_client kubesim_instance::client(const std::string& cluster) const {
  return api_client({url(cluster), token(cluster), ca_pem(cluster), "", "", std::chrono::seconds(30)});
}
api_client kubesim_instance::anonymous_client(const std::string& cluster) const {
  return api_client({url(cluster), "", ca_pem(cluster), "", "", std::chrono::seconds(30)});
}

api_client kubesim_instance::control_client() const {
  return api_client({read_file(dir_ + "/state/control/url"),
                     read_file(dir_ + "/state/control/token"), "", "", "",
                     std::chrono::seconds(30)});
}

http_reply kubesim_instance::control(const std::string& cluster, const std::string& action,
                                     const std::string& query) const {
  return control_client().request(
      "POST", "/clusters/" + cluster + "/" + action + (query.empty() ? "" : "?" + query));
}

http_reply kubesim_instance::cluster_info(const std::string& cluster) const {
  return control_client().get("/clusters/" + cluster);
}

std::map<std::string, std::string> kubesim_instance::kubectl_env() const {
  return {{"KUBECACHEDIR", dir_ + "/kubectl-cache"}, {"HOME", dir_}};
}

std::vector<std::string> kubesim_instance::kubectl_argv(const std::string& cluster,
                                                        const std::vector<std::string>& args) const {
  std::vector<std::string> argv = {"kubectl", "--kubeconfig", kubeconfig(cluster)};
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

run_result kubesim_instance::kubectl(const std::string& cluster, const std::vector<std::string>& args,
                                     const std::string& stdin_data,
                                     std::chrono::milliseconds timeout) const {
  return run(kubectl_argv(cluster, args), kubectl_env(), timeout, stdin_data);
}

std::string cassandracluster_crd_yaml() {
  return R"(apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: cassandraclusters.db.orange.com
spec:
  group: db.orange.com
  names:
    kind: CassandraCluster
    listKind: CassandraClusterList
    plural: cassandraclusters
    singular: cassandracluster
    shortNames: [cassc, casscs]
  scope: Namespaced
  versions:
  - name: v2
    served: true
    storage: true
    subresources:
      status: {}
    additionalPrinterColumns:
    - name: Phase
      type: string
      jsonPath: .status.phase
    - name: Nodes
      type: integer
      jsonPath: .spec.nodesPerRacks
    schema:
      openAPIV3Schema:
        type: object
        x-kubernetes-preserve-unknown-fields: true
)";
}

}  // namespace testsupport
