// What a real cluster holds without anyone asking: the objects kube-apiserver and the
// kube-controller-manager keep in every cluster and namespace (v1.32), and the ClusterIP range.
#pragma once

#include <set>
#include <string>

#include "k8s/json/json.h"

namespace kubesim {

// SetDefaults_Namespace: the immutable label `kubernetes.io/metadata.name` = the name, set on
// every write (a client that changes or drops it gets it back).
void label_namespace(k8s::json::Document& ns);

// The ServiceAccount controller's `default` ServiceAccount of a namespace.
k8s::json::Document default_service_account(const std::string& ns);
// The root-ca-cert-publisher's ConfigMap `kube-root-ca.crt` of a namespace.
k8s::json::Document root_ca_config_map(const std::string& ns, const std::string& ca_pem);
constexpr const char* root_ca_config_map_name = "kube-root-ca.crt";
// The `default/kubernetes` Service the API server keeps, on the first address of the range.
k8s::json::Document kubernetes_service();
// Its Endpoints: the API server's address (127.0.0.1, where kubesim listens) and port 6443, the
// Service's targetPort.
k8s::json::Document kubernetes_endpoints();

// The Service ClusterIP range 10.96.0.0/16 as kube-apiserver's allocator hands it out:
// 10.96.0.1 is the kubernetes Service's (never allocated, never freed), an address is used by
// one Service at a time.
class cluster_ip_allocator {
 public:
  static constexpr const char* kubernetes_ip = "10.96.0.1";
  // The next free address; throws std::runtime_error when the range is full.
  std::string allocate();
  // A Service that asks for one: false when it is taken (or not in the range's form).
  bool reserve(const std::string& ip);
  void release(const std::string& ip);

 private:
  std::set<std::string> used_;
  unsigned next_ = 2;
};

}  // namespace kubesim
