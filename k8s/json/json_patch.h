// JSON merge patch (RFC 7386) and JSON patch (RFC 6902) on RapidJSON values: what the API server
// does for `application/merge-patch+json` and `application/json-patch+json` PATCH requests.
#pragma once

#include <stdexcept>
#include <string>

#include "k8s/json/json.h"

namespace k8s::json {

// A JSON patch that cannot be applied. what() is phrased like the Kubernetes API server's message
// (which comes from evanphx/json-patch), so clients matching on it behave the same against us.
struct json_patch_error : std::runtime_error {
  enum class kind {
    invalid_patch,   // malformed patch: not a list of operations, unknown op, bad pointer...
    path_not_found,  // a path or from pointer names nothing in the document
    test_failed,     // a "test" operation did not match
  };
  json_patch_error(kind k, const std::string& what) : std::runtime_error(what), kind_(k) {}
  kind which() const noexcept { return kind_; }

 private:
  kind kind_;
};

// RFC 7386: null deletes a member, objects merge recursively, anything else (arrays included)
// replaces. Existing members keep their order; new ones are appended. Never throws on any input.
void apply_merge_patch(Value& target, const Value& patch, Allocator& a);

// The RFC 7386 patch turning `from` into `to`: removed members become null, unchanged subtrees are
// omitted, so equal inputs give `{}`. If either side is not an object the patch is `to` itself.
// Limitation inherent to RFC 7386: a member whose value in `to` is null cannot be expressed (the
// null would delete it), so such members are dropped rather than round-tripped.
Document create_merge_patch(const Value& from, const Value& to);

// RFC 6902: `ops` must be an array of operations (add, remove, replace, move, copy, test), paths
// are JSON Pointers (RFC 6901). All-or-nothing: on any error `target` is left unchanged and
// json_patch_error is thrown. Unknown members of an operation are ignored, as the RFC requires.
void apply_json_patch(Value& target, const Value& ops, Allocator& a);

}  // namespace k8s::json
