// The create-only APIs about the requester itself, as kube-apiserver v1.32 serves them:
//   POST /apis/authorization.k8s.io/v1/selfsubjectaccessreviews   (kubectl auth can-i VERB RES)
//   POST /apis/authorization.k8s.io/v1/selfsubjectrulesreviews    (kubectl auth can-i --list)
//   POST /apis/authentication.k8s.io/v1/selfsubjectreviews        (kubectl auth whoami)
//   POST /api/v1/namespaces/NS/serviceaccounts/NAME/token         (kubectl create token NAME)
// (pkg/registry/authorization/selfsubject*review, pkg/registry/authentication/selfsubjectreview,
// pkg/registry/core/serviceaccount/storage/token.go). Nothing is stored.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "k8s/json/json.h"
#include "tools/kubesim/rbac_authorizer.h"
#include "tools/kubesim/request_info.h"
#include "tools/kubesim/resource_types.h"

namespace kubesim {

class cluster_state;
class service_account_tokens;

struct review_reply {
  int code;
  std::string json;
};

// The reply when `parts` (the URL path split on "/") addresses one of those APIs, else nullopt.
// `body` decodes the request body; throws api_error for the real server's refusals.
std::optional<review_reply> serve_access_review(const std::string& method,
                                                const std::vector<std::string>& parts,
                                                const std::function<k8s::json::Document()>& body,
                                                const user_info& user, const cluster_state& state,
                                                const service_account_tokens* tokens);

// For discovery: whether the path names one of these resources.
bool is_access_review_path(const std::vector<std::string>& parts);
// `types` and the three reviews (create only, cluster scope), as discovery lists them.
std::vector<resource_type> with_review_types(std::vector<resource_type> types);

}  // namespace kubesim
