// What kube-apiserver v1.32 fills in on a write of a built-in kind, before validation: the
// defaulting functions of each group's v1 package (pkg/apis/core/v1/defaults.go,
// pkg/apis/apps/v1/defaults.go), the v1 conversion of a Secret's stringData, what the registry
// strategies keep from the stored object on update (pkg/registry/core/service/strategy.go
// patchAllocatedValues), and the admission plugins of a default cluster that change a new Pod
// (ServiceAccount, Priority, DefaultTolerationSeconds). Pure functions of the JSON objects.
#pragma once

#include <string>

#include "k8s/json/json.h"
#include "tools/kubesim/resource_types.h"

namespace kubesim::builtin {

// SetObjectDefaults_<Kind> as every decode of a create, update or patch result applies it.
// Custom resources and kinds without defaults are left alone.
void apply_defaults(const resource_type& t, k8s::json::Value& obj, k8s::json::Allocator& a);

// The admission plugins of a default v1.32 cluster on a Pod create: the `default` service
// account with its kube-api-access projected volume, priority 0, and the not-ready/unreachable
// tolerations of 300 s.
void admit_pod_create(k8s::json::Value& pod, k8s::json::Allocator& a);

// PrepareForUpdate of the registry: what an update keeps from the stored object when the body
// leaves it out (a Service's allocated clusterIP(s), ipFamilies and ipFamilyPolicy).
void prepare_update(const resource_type& t, k8s::json::Value& next, const k8s::json::Value& prev,
                    k8s::json::Allocator& a);

// The ipFamilyPolicy and ipFamilies the Service REST storage sets on a single-stack IPv4
// cluster once the clusterIP is known (none for ExternalName).
void set_service_ip_families(k8s::json::Value& service, k8s::json::Allocator& a);

// qos.GetPodQOS of a defaulted Pod, as its PrepareForCreate stores in status.qosClass:
// Guaranteed when every container limits cpu and memory to what it requests, BestEffort when no
// container requests or limits either, else Burstable. Quantities compare as written.
std::string pod_qos_class(const k8s::json::Value& pod);

}  // namespace kubesim::builtin
