// What an authorizer sees of a request: k8s.io/apiserver's RequestInfo (v1.32,
// pkg/endpoints/request/requestinfo.go) joined with the requesting user into the attributes
// of pkg/authorization/authorizer. Pure: no I/O, no cluster state.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "k8s/http/http_server.h"
#include "tools/kubesim/api_error.h"

namespace kubesim {

// user.Info: who a request acts as once authenticated (and impersonation applied).
struct user_info {
  std::string name;
  std::string uid;
  std::vector<std::string> groups;
  std::map<std::string, std::vector<std::string>> extra;

  bool in_group(const std::string& g) const;
};

// authorizer.AttributesRecord.
struct request_attributes {
  bool resource_request = false;
  std::string verb;  // get list watch create update patch delete deletecollection, or the
                     // lower-case HTTP method of a non-resource request
  std::string api_group;
  std::string api_version;
  std::string ns;
  std::string resource;
  std::string subresource;
  std::string name;
  std::string path;  // non-resource requests
};

// RequestInfoFactory.NewRequestInfo with APIPrefixes {api, apis} and the groupless prefix api:
// verbs from the method, list/watch for a GET without a name (watch=true, or a
// metadata.name= field selector naming the object), deletecollection for a DELETE without one.
request_attributes request_attributes_of(const std::string& method, const std::string& path,
                                         const k8s::http::header_list& query);

// responsewriters.ForbiddenStatusError's message: `User "u" cannot VERB resource "r/s" in API
// group "g" in the namespace "n"` (or `at the cluster scope`, or `cannot VERB path "/p"`),
// with `: reason` appended when the authorizer gave one.
std::string forbidden_message(const user_info& u, const request_attributes& a,
                              const std::string& reason);
// The whole 403: apierrors.NewForbidden(group/resource, name, that message), e.g.
// `configmaps "x" is forbidden: User ...`, or `forbidden: User ...` for a path.
api_error forbidden_error(const user_info& u, const request_attributes& a,
                          const std::string& reason);

}  // namespace kubesim
