// kuttl's assertion semantics: an expected object matches an actual one when it is a subset of
// it. Maps: every key listed must be present and match, recursively (other keys are ignored).
// Lists: the same length, each element a subset of the element at the same index. Scalars:
// equal (numbers by value, so 1 matches 1.0).
#pragma once

#include <string>
#include <vector>

#include "k8s/json/json.h"

namespace kuttl {

// One place where `actual` is not a superset of `expected`, with its JSON path.
struct difference {
  std::string path;      // ".status.cassandraRackStatus.dc1-rack1.phase", ".spec.containers[1]"
  std::string expected;  // compact JSON
  std::string actual;    // compact JSON, or "(missing)"
};

// Every difference (empty: `expected` matches).
std::vector<difference> subset_differences(const k8s::json::Value& expected,
                                           const k8s::json::Value& actual);

// "  .status.phase: expected "Running", got "Pending"" lines, one per difference.
std::string describe(const std::vector<difference>& diffs);

}  // namespace kuttl
