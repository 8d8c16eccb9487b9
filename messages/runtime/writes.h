// The writer's protocol (actors/runtime/writer.h): a write to any resource of one cluster, and
// its result. Plain data, no logic.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "k8s/api/api_error.h"
#include "k8s/api/client.h"
#include "k8s/api/resource.h"

namespace runtime {

struct write_request {
  // update: a PUT of the whole object (optimistic when body carries metadata.resourceVersion).
  enum class verb { create, update, patch, remove };
  uint64_t id = 0;  // the requester's; comes back in the result
  verb what = verb::create;
  k8s::resource resource;
  std::string ns;
  std::string name;
  std::string body;              // create, update: the object; patch: an RFC 7386 merge patch
  std::string subresource;       // update, patch: "status" or ""
  std::string precondition_uid;  // remove: never delete a newer object of the same name
  std::string field_manager;
  // Applied to the object the server returned before it is answered (e.g. trimmed as the
  // watchers keep it); none: answered as returned.
  std::function<k8s::object_ptr(const k8s::object_ptr&)> transform;
};

struct write_result {
  uint64_t id = 0;
  bool ok = false;
  k8s::api_error error;
  k8s::object_ptr object;  // what the server returned, after the request's transform
};

}  // namespace runtime
