// Small helpers to build the JSON objects casskop writes, member by member, in the order the Go
// structs of k8s.io/api declare their fields (so what we write reads like what v2.1.0 wrote).
// Distinct names per value type: a string literal would silently pick a bool overload.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "k8s/json/json.h"

namespace casskop::jb {

using k8s::json::Allocator;
using k8s::json::Value;

inline Value object() {
  return Value(rapidjson::kObjectType);
}
inline Value array() {
  return Value(rapidjson::kArrayType);
}
inline Value str(std::string_view s, Allocator& a) {
  return k8s::json::string_value(s, a);
}
inline Value copy(const Value& v, Allocator& a) {
  return Value(v, a);
}

inline void add(Value& obj, std::string_view key, Value v, Allocator& a) {
  obj.AddMember(str(key, a), v, a);
}
inline void add_str(Value& obj, std::string_view key, std::string_view s, Allocator& a) {
  add(obj, key, str(s, a), a);
}
inline void add_int(Value& obj, std::string_view key, int64_t i, Allocator& a) {
  add(obj, key, Value(static_cast<int64_t>(i)), a);
}
inline void add_bool(Value& obj, std::string_view key, bool b, Allocator& a) {
  add(obj, key, Value(b), a);
}
inline void push_str(Value& arr, std::string_view s, Allocator& a) {
  arr.PushBack(str(s, a), a);
}

inline Value string_map(const std::map<std::string, std::string>& m, Allocator& a) {
  Value o = object();
  for (const auto& [k, v] : m) add_str(o, k, v, a);
  return o;
}

}  // namespace casskop::jb
