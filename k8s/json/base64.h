// Base64 (RFC 4648) on OpenSSL's codec, strict on input: kubeconfig data fields, Secret data
// and continue tokens come from outside and must never crash or be half-decoded.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace k8s {

// Standard alphabet with padding; `url`: URL-safe alphabet without padding (as Go's
// base64.RawURLEncoding, used by Kubernetes continue tokens).
std::string base64_encode(std::string_view bytes, bool url = false);
// nullopt unless the whole input is valid (whitespace is skipped, as Go's decoder does).
std::optional<std::string> base64_decode(std::string_view text, bool url = false);

}  // namespace k8s
