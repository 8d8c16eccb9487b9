// Which API resource a call addresses, and the URL paths the API server serves it under.
#pragma once

#include <string>
#include <string_view>

namespace k8s {

struct resource {
  std::string group;    // "" for the core group
  std::string version;  // "v1", "v2", ...
  std::string plural;   // "cassandraclusters"
  std::string kind;     // "CassandraCluster"
  bool namespaced = true;

  std::string api_version() const { return group.empty() ? version : group + "/" + version; }
  // /api/v1/namespaces/ns/pods, /apis/g/v/plural (all namespaces or cluster scope when ns is "")
  std::string collection_path(const std::string& ns) const;
  // .../plural/name[/subresource]
  std::string item_path(const std::string& ns, const std::string& name,
                        const std::string& subresource = "") const;
};

// RFC 3986 percent-encoding of everything but unreserved characters (A-Z a-z 0-9 - . _ ~), for a
// path segment or a query value; "." and ".." are encoded whole so they never act as dot-segments.
std::string percent_encode(std::string_view s);

}  // namespace k8s
