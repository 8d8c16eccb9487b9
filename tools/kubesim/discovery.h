// What clients learn before they touch an object: /version, discovery (aggregated v2 and the
// legacy documents) and a minimal OpenAPI v3. Each function returns the JSON body; `types` are
// the served kinds, built-ins first, then CRDs, in the order given.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tools/kubesim/resource_types.h"

namespace kubesim {

// /version. The installed kubectl is a dispatcher that runs the client matching gitVersion.
std::string version_info();

// /api (legacy_core) or /apis as apidiscovery.k8s.io/v2 APIGroupDiscoveryList. The caller
// must answer with Content-Type
// `application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList`, or kubectl ignores it.
std::string aggregated_discovery(const std::vector<resource_type>& types, bool legacy_core);

// Legacy discovery: /api (APIVersions), /apis (APIGroupList), /apis/<group> (APIGroup) and
// /api/v1 or /apis/<group>/<version> (APIResourceList). "" when not served.
std::string api_versions(const std::string& server_address);  // host:port
std::string api_group_list(const std::vector<resource_type>& types);
std::string api_group(const std::vector<resource_type>& types, const std::string& group);
std::string api_resource_list(const std::vector<resource_type>& types, const std::string& group,
                              const std::string& version);

// /openapi/v3: every served group-version ("api/v1", "apis/<g>/<v>") with a serverRelativeURL
// whose hash changes with `revision` and the types of that group-version.
std::string openapi_v3_root(const std::vector<resource_type>& types, uint64_t revision);
// /openapi/v3/<path>: paths with patch/put/post operations carrying
// x-kubernetes-group-version-kind and the fieldValidation parameter (what kubectl checks before
// `apply --validate=strict`); no schemas. "" for an unknown path.
std::string openapi_v3_group_version(const std::vector<resource_type>& types,
                                     const std::string& path, uint64_t revision);

// Versions ordered as kube-apiserver prefers them: v2 > v1 > v1beta2 > v1beta1 > v1alpha1 >
// anything else (alphabetically). Exposed for tests.
bool version_preferred(const std::string& a, const std::string& b);

}  // namespace kubesim
