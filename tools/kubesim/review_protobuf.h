// kubectl's typed clients (auth can-i, auth whoami, create token) send their request bodies as
// Kubernetes protobuf ("application/vnd.kubernetes.protobuf": the "k8s\0" magic, then a
// runtime.Unknown wrapping the object). kubesim speaks JSON only, so it decodes just the
// fields of the four request kinds it serves in access_reviews.h into their JSON form
// (field numbers of k8s.io/api authorization/v1 and authentication/v1 generated.proto, v1.32);
// ObjectMeta and statuses are skipped. Replies stay JSON, which those clients also accept.
#pragma once

#include <string_view>

#include "k8s/json.h"

namespace kubesim {

constexpr const char* kProtobufContentType = "application/vnd.kubernetes.protobuf";

// Throws api_error 400 when the bytes are not such an object.
k8s::json::Document review_from_protobuf(std::string_view bytes);

}  // namespace kubesim
