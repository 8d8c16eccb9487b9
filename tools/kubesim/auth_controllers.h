// The kube-controller-manager controllers RBAC and ServiceAccounts rely on (v1.32):
// - the token controller (pkg/controller/serviceaccount/tokens_controller.go): fills Secrets of
//   type kubernetes.io/service-account-token with data.token, data["ca.crt"], data.namespace
//   and the ServiceAccount's uid annotation, and deletes them when their ServiceAccount is gone;
// - the ClusterRole aggregation controller (pkg/controller/clusterroleaggregation): the rules of
//   a ClusterRole with an aggregationRule are the union of the rules of the ClusterRoles its
//   selectors match.
#pragma once

#include <memory>
#include <string>

namespace boost::asio {
class io_context;
}

namespace kubesim {

class cluster_state;
class service_account_tokens;

class auth_controllers {
 public:
  auth_controllers(boost::asio::io_context& io, cluster_state& state,
                   const service_account_tokens& tokens, std::string ca_pem);
  ~auth_controllers();
  auth_controllers(const auth_controllers&) = delete;
  auth_controllers& operator=(const auth_controllers&) = delete;

  void start();
  void stop();

  struct impl;

 private:
  std::shared_ptr<impl> impl_;
};

}  // namespace kubesim
