// field.Error of k8s.io/apimachinery/pkg/util/validation/field as v1.32 renders it (errors.go,
// path.go), returned as the status causes an Invalid error carries: `reason` is the ErrorType,
// `message` is Error() ("<field>: <ErrorBody()>"), `field` is the Path's String().
// Bad values are passed already rendered as ErrorBody prints them; go_value() renders a JSON
// value decoded as the API server decodes it (int64, float64, string, bool, nil, maps, slices).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "k8s/json/json.h"
#include "tools/kubesim/api_error.h"

namespace kubesim::field {

// strconv.Quote: Go's double-quoted string with its escapes.
std::string go_quote(std::string_view s);
// fmt's %v of a float64 (strconv 'g' with the shortest precision): 1, 1.5, 1e+06, 1e-05.
std::string go_float(double d);
// A decoded JSON value as ErrorBody prints a bad value: %q for strings, %v for numbers and
// booleans, "null" (quoted) for nil, %#v for maps and slices.
std::string go_value(const k8s::json::Value& v);
// %#v of a decoded JSON value: "a" as "\"a\"", maps as map[string]interface {}{"k":v}.
std::string go_sharp_value(const k8s::json::Value& v);

// Path pieces: Child ("a.b"), Index ("a[0]"), Key ("a[k]").
std::string child(const std::string& path, std::string_view name);
std::string index(const std::string& path, size_t i);
std::string key(const std::string& path, std::string_view k);

status_cause required(const std::string& path, const std::string& detail = "");
status_cause forbidden(const std::string& path, const std::string& detail);
status_cause invalid(const std::string& path, const std::string& value, const std::string& detail);
status_cause type_invalid(const std::string& path, const std::string& value,
                          const std::string& detail);
status_cause not_supported(const std::string& path, const std::string& value,
                           const std::vector<std::string>& supported);
status_cause duplicate(const std::string& path, const std::string& value);
// field.TooLong: "may not be more than N bytes" (v1.32), the value omitted.
status_cause too_long(const std::string& path, long long max_bytes);
// field.TooMany: "Too many: <actual>: must have at most N items".
status_cause too_many(const std::string& path, long long actual, long long max);

// ErrorList.ToAggregate().Error(): duplicates dropped, "[a, b]" when more than one.
std::string aggregate(const std::vector<status_cause>& causes);

}  // namespace kubesim::field
