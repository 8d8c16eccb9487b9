// Go's encoding/json.Marshal of a value decoded into interface{} (what gabs holds and prints in
// v2.1.0's CONFIG_FILE_DATA, generator.go:702): object keys sorted bytewise, a repeated key keeps
// its last value, every number a float64 printed as strconv 'f' (or 'e' below 1e-6 and from
// 1e21), strings escaped as Go 1.17 does with HTML escaping on (<, >, & as \u003c...; U+2028,
// U+2029; other control characters as \u00XX; invalid UTF-8 as \ufffd).
#pragma once

#include <string>
#include <string_view>

#include "k8s/json/json.h"

namespace casskop {

std::string go_marshal(const k8s::json::Value& v);
void go_append_string(std::string& out, std::string_view s);
void go_append_number(std::string& out, double d);

}  // namespace casskop
