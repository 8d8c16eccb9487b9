#include "tools/kubesim/cluster_defaults.h"

#include <fmt/format.h>

#include <stdexcept>

namespace kubesim {
namespace js = k8s::json;

void label_namespace(js::Document& ns) {
  auto& a = ns.GetAllocator();
  const std::string name(js::get_string(ns, {"metadata", "name"}));
  if (name.empty()) return;  // generateName: labelled once the name exists
  auto& meta = js::ensure_object(ns, "metadata", a);
  auto& labels = js::ensure_object(meta, "labels", a);
  js::set_string(labels, "kubernetes.io/metadata.name", name, a);
}

js::Document default_service_account(const std::string& ns) {
  js::Document d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  js::set_string(d, "apiVersion", "v1", a);
  js::set_string(d, "kind", "ServiceAccount", a);
  auto& meta = js::ensure_object(d, "metadata", a);
  js::set_string(meta, "name", "default", a);
  js::set_string(meta, "namespace", ns, a);
  return d;
}

js::Document root_ca_config_map(const std::string& ns, const std::string& ca_pem) {
  js::Document d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  js::set_string(d, "apiVersion", "v1", a);
  js::set_string(d, "kind", "ConfigMap", a);
  auto& meta = js::ensure_object(d, "metadata", a);
  js::set_string(meta, "name", root_ca_config_map_name, a);
  js::set_string(meta, "namespace", ns, a);
  auto& annotations = js::ensure_object(meta, "annotations", a);
  // The publisher's own words (pkg/controller/certificates/rootcacertpublisher).
  js::set_string(annotations, "kubernetes.io/description",
                 "Contains a CA bundle that can be used to verify the kube-apiserver when using "
                 "internal endpoints such as the internal service IP or kubernetes.default.svc. No "
                 "other usage is guaranteed across distributions of Kubernetes clusters.",
                 a);
  auto& data = js::ensure_object(d, "data", a);
  js::set_string(data, "ca.crt", ca_pem, a);
  return d;
}

js::Document kubernetes_service() {
  // As the API server's controller writes it (pkg/controlplane/controller/kubernetesservice).
  return js::parse(fmt::format(
      R"({{"apiVersion":"v1","kind":"Service","metadata":{{"name":"kubernetes","namespace":"default",)"
      R"("labels":{{"component":"apiserver","provider":"kubernetes"}}}},"spec":{{"type":"ClusterIP",)"
      R"("clusterIP":"{0}","clusterIPs":["{0}"],"ipFamilies":["IPv4"],"ipFamilyPolicy":"SingleStack",)"
      R"("internalTrafficPolicy":"Cluster","sessionAffinity":"None",)"
      R"("ports":[{{"name":"https","port":443,"protocol":"TCP","targetPort":6443}}]}}}})",
      cluster_ip_allocator::kubernetes_ip));
}

js::Document kubernetes_endpoints() {
  // The API server's endpoint reconciler (pkg/controlplane/reconcilers): its advertise address
  // and secure port, not mirrored to an EndpointSlice.
  return js::parse(
      R"({"apiVersion":"v1","kind":"Endpoints","metadata":{"name":"kubernetes","namespace":"default",)"
      R"("labels":{"endpointslice.kubernetes.io/skip-mirror":"true"}},)"
      R"("subsets":[{"addresses":[{"ip":"127.0.0.1"}],)"
      R"("ports":[{"name":"https","port":6443,"protocol":"TCP"}]}]})");
}

namespace {
std::string address(unsigned n) {
  return fmt::format("10.96.{}.{}", (n >> 8) & 0xff, n & 0xff);
}
}  // namespace

std::string cluster_ip_allocator::allocate() {
  // 10.96.0.0 (network) and 10.96.255.255 (broadcast) are never handed out, nor 10.96.0.1,
  // which only the kubernetes Service takes.
  for (unsigned tries = 0; tries < 0xfffd; ++tries) {
    const unsigned n = next_;
    next_ = next_ >= 0xfffe ? 2 : next_ + 1;
    if (used_.insert(address(n)).second) return address(n);
  }
  throw std::runtime_error("range is full");
}

bool cluster_ip_allocator::reserve(const std::string& ip) {
  return used_.insert(ip).second;
}

void cluster_ip_allocator::release(const std::string& ip) {
  if (ip != kubernetes_ip) used_.erase(ip);
}

}  // namespace kubesim
