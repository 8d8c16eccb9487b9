// The `scale` subresource (autoscaling/v1 Scale) of StatefulSets and Deployments and of custom
// resources whose CRD version declares subresources.scale, as kube-apiserver v1.32 serves it:
// pkg/registry/apps/{statefulset,deployment}/storage (ScaleREST) and apiextensions-apiserver
// pkg/registry/customresource/etcd.go (ScaleREST, scaleFromCustomResource). Pure logic: the
// handler reads the parent, calls these, and writes the parent with the merge patch they give.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "k8s/json/json.h"
#include "tools/kubesim/api_error.h"
#include "tools/kubesim/cluster_state.h"
#include "tools/kubesim/resource_types.h"

namespace kubesim::scale {

// Where the parent keeps what the Scale shows ("." paths as in a CRD's subresources.scale).
// The built-in kinds have no selector path: their status.selector is spec.selector as a string.
struct paths {
  std::string spec_replicas;
  std::string status_replicas;
  std::string label_selector;  // empty: none (CRDs) or spec.selector (built-ins)
  bool builtin = false;
};

// The scale subresource of `t` in `version`, when it has one.
std::optional<paths> paths_of(const resource_type& t, const std::string& version);

// The Scale of `parent`: 500 when a CR's replicas or selector field has another type, or (for a
// GET, not `for_update`) when its spec replicas field is missing.
std::string scale_of(const paths& p, const k8s::json::Value& parent, bool for_update = false);

// PATCH: the Scale `current` with the patch applied (400/422 as the patch handler answers).
k8s::json::Document patched(const std::string& current, patch_type type, std::string_view body);

// PUT or patched Scale → the merge patch that writes it on the parent: the replicas at the spec
// path, and the Scale's resourceVersion as precondition when it has one. Throws the errors of the
// real ScaleREST.Update (name mismatch 400, negative replicas 422, CR replicas missing 400).
std::string parent_patch(const resource_type& t, const paths& p, const std::string& name,
                         const k8s::json::Value& parent, const k8s::json::Value& scale);

// ValidateCustomResourceDefinitionSubresources on a CRD version's subresources.scale (`scale` may
// be null); `path` is that version's "spec.versions[i].subresources".
std::vector<status_cause> check_crd_scale(const k8s::json::Value* scale, const std::string& path);

// A metav1.LabelSelector as LabelSelectorAsSelector(...).String() prints it.
std::string selector_string(const k8s::json::Value* label_selector);

}  // namespace kubesim::scale
