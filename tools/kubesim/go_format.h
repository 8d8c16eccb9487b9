// Go's text forms of JSON values, which kubectl and the API server print and hash: encoding/json
// (json.Marshal of unstructured data: map keys sorted, HTML-safe escaping), fmt.Sprint of a
// float64, and utf8.DecodeRuneInString.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "k8s/json/json.h"

namespace kubesim::go {

constexpr int32_t kRuneError = 0xFFFD;
// One rune like utf8.DecodeRuneInString: invalid input gives U+FFFD of width 1.
int32_t decode_rune(std::string_view s, size_t i, size_t& width);

// fmt.Sprint(float64): %g with shortest digits, exponent form from 1e+06 up and below 1e-04.
std::string float_text(double v);
// encoding/json's float64: plain below 1e21, exponent form without a leading 0 in it.
std::string json_float(double v);

// encoding/json's string escaping, HTML-safe like json.Marshal.
void append_json_string(std::string& out, std::string_view s);
// json.Marshal of an unstructured value: compact, map keys sorted (the last duplicate wins).
void append_json(std::string& out, const k8s::json::Value& v);
std::string json(const k8s::json::Value& v);

}  // namespace kubesim::go
