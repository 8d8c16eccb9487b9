#include "actors/casskop/logic/node_facts.h"

namespace casskop {

const char* reason_of(const jolokia::error& e) {
  using jolokia::failure;
  switch (e.kind) {
    case failure::refused:
    case failure::timeout:
    case failure::transport:
      return node_reason::jolokia_unreachable;
    case failure::unauthorized:
      return node_reason::jolokia_unauthorized;
    case failure::no_credentials:
      return node_reason::jolokia_no_credentials;
    default:
      return node_reason::jolokia_error;
  }
}

std::optional<bool> joining_for_pod_operations(const node_facts& f) {
  if (f.joining) return f.joining;
  if (f.joining_error.kind == jolokia::failure::unauthorized ||
      f.joining_error.kind == jolokia::failure::no_credentials)
    return false;
  return std::nullopt;
}

}  // namespace casskop
