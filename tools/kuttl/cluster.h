// The runner's view of the cluster: blocking calls over k8s::client (the runner does one thing
// at a time), and discovery to find the resource of an apiVersion/kind as kubectl does.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "k8s/api/client.h"

namespace kuttl {

class cluster {
 public:
  explicit cluster(k8s::connection_settings settings);

  // From the group-version's discovery document, fetched again once when the kind is missing
  // (a CRD installed since).
  k8s::result<k8s::resource> resource_for(const std::string& api_version, const std::string& kind);

  k8s::result<k8s::object_ptr> get(const k8s::resource& r, const std::string& ns,
                                   const std::string& name);
  k8s::result<k8s::list_page> list(const k8s::resource& r, const std::string& ns,
                                   const std::string& label_selector = "");
  k8s::result<k8s::object_ptr> create(const k8s::resource& r, const std::string& ns,
                                      std::string body);
  k8s::result<k8s::object_ptr> merge_patch(const k8s::resource& r, const std::string& ns,
                                           const std::string& name, std::string body);
  // A watch from `resource_version`; the callbacks run on the client's I/O threads.
  std::shared_ptr<k8s::stream_handle> watch(
      const k8s::resource& r, const std::string& ns, const std::string& resource_version,
      std::function<void(std::string_view line)> on_line,
      std::function<void(std::optional<k8s::api_error>)> on_end);
  k8s::result<k8s::object_ptr> remove(const k8s::resource& r, const std::string& ns,
                                      const std::string& name);

 private:
  k8s::result<std::vector<k8s::resource>> discover(const std::string& api_version);

  k8s::client client_;
  std::map<std::string, std::vector<k8s::resource>> discovered_;  // by apiVersion
};

}  // namespace kuttl
