// The default ClusterRoles and ClusterRoleBindings a v1.32 API server reconciles at start
// (plugin/pkg/auth/authorizer/rbac/bootstrappolicy/policy.go), limited to those clients
// meet: cluster-admin (bound to system:masters), the discovery, basic-user and
// public-info-viewer roles of every user, and the aggregated admin, edit and view with the
// system:aggregate-to-* roles they gather. The system:controller:*, node and kube-* component
// roles are left out (kubesim's controllers run in-process, not through the API).
#pragma once

namespace kubesim {

class cluster_state;

void create_bootstrap_policy(cluster_state& state);

}  // namespace kubesim
