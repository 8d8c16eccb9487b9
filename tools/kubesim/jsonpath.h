// kubectl-style JSONPath (k8s.io/client-go/util/jsonpath) as kube-apiserver uses it for CRD
// additionalPrinterColumns, and the Table cell the server builds from each column.
#pragma once

#include <chrono>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "k8s/json/json.h"

namespace kubesim {

// Syntax errors; what() is client-go's parser message (e.g. "unterminated array").
struct jsonpath_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Throws jsonpath_error when the path would not parse. The server parses "{" + path + "}" and,
// when that fails, falls back to the default Name/Age table for the CRD.
void jsonpath_validate(std::string_view path);

// All matches of a column path such as ".status.phase", ".spec['x']", ".items[*].name",
// ".status.conditions[?(@.type==\"Ready\")].status", in document order. Missing keys and
// evaluation errors (index out of range, indexing a non-array...) give no match, as with
// AllowMissingKeys(true). Pointers are into root. Throws jsonpath_error on bad syntax.
std::vector<const k8s::json::Value*> jsonpath_eval(const k8s::json::Value& root,
                                                   std::string_view path);

// The Table cell for a printer column of the given type (integer, number, boolean, string,
// date), as the apiextensions tableconvertor computes it from the first match:
//   no match / null / wrong type -> null
//   integer -> int64 (floats truncated); number -> double; boolean -> bool
//   string  -> the string; numbers and booleans as Go prints them; objects and arrays as
//              compact JSON; a JSON null as "<no value>"
//   date    -> age relative to now like "5m10s" (or "<invalid>" / "<unknown>")
// Throws jsonpath_error on bad syntax.
k8s::json::Value printer_cell(const k8s::json::Value& root, std::string_view path,
                              std::string_view type, k8s::json::Allocator& allocator);
// Same, with an explicit "now" for date columns.
k8s::json::Value printer_cell(const k8s::json::Value& root, std::string_view path,
                              std::string_view type, k8s::json::Allocator& allocator,
                              std::chrono::system_clock::time_point now);

// apimachinery's duration.HumanDuration ("4s", "2m30s", "5h", "3d4h", "2y10d"): the age in date
// cells and in the built-in tables.
std::string human_duration(std::chrono::nanoseconds d);

}  // namespace kubesim
