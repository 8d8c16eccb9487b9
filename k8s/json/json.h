// The one way our code includes RapidJSON: asserts become exceptions, so malformed network input
// can never abort the process, plus small helpers every layer uses.
#pragma once

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

#ifndef RAPIDJSON_ASSERT
#define RAPIDJSON_ASSERT(x)                                                   \
  do {                                                                        \
    if (!(x)) throw ::k8s::json::usage_error("JSON usage error: " #x);        \
  } while (0)
#endif
#define RAPIDJSON_HAS_CXX11_RVALUE_REFS 1
// RapidJSON's default 64 KiB pool chunk per Document would make every stored object cost at
// least 64 KiB; ours are small (a few KiB) and there are thousands of them.
#ifndef RAPIDJSON_ALLOCATOR_DEFAULT_CHUNK_CAPACITY
#define RAPIDJSON_ALLOCATOR_DEFAULT_CHUNK_CAPACITY (4 * 1024)
#endif
// RapidJSON 1.1.0 (Debian 12) ignores that macro: its kDefaultChunkCapacity is a hard-coded
// 64 KiB. Every allocator a Document makes for itself comes from RAPIDJSON_NEW(Allocator()),
// so that is where the chunk size is applied: a pool allocator (constructible from a chunk
// size) gets RAPIDJSON_ALLOCATOR_DEFAULT_CHUNK_CAPACITY, anything else is made as before.
// (Measured: 1,000 MultiCasskops over 4 regions held ~560 MB of mostly untouched 64 KiB chunks.)
#include <cstddef>
#include <type_traits>
#ifndef RAPIDJSON_NEW
#define RAPIDJSON_NEW(x) ::k8s::json::detail::rapidjson_new<decltype(x)>()
#endif

namespace k8s::json {
struct usage_error : std::logic_error {
  using std::logic_error::logic_error;
};
namespace detail {
template <class T>
T* rapidjson_new() {
  if constexpr (std::is_constructible_v<T, std::size_t>)
    return new T(static_cast<std::size_t>(RAPIDJSON_ALLOCATOR_DEFAULT_CHUNK_CAPACITY));
  else
    return new T();
}
}  // namespace detail
}  // namespace k8s::json

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace k8s::json {

using Document = rapidjson::Document;
using Value = rapidjson::Value;
using Allocator = rapidjson::Document::AllocatorType;

// Thrown by parse(): what() is RapidJSON's message with the byte offset.
struct parse_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

Document parse(std::string_view text);
std::string to_string(const Value& v);
void append_to(std::string& out, const Value& v);
// The text of `v` with every object's members sorted by name: equal for values that are equal
// as JSON whatever their member order (a server may store and return members in its own order).
std::string canonical_text(const Value& v);

// Typed field access that never throws: missing or wrongly typed fields give the fallback.
const Value* find(const Value& obj, std::string_view key);
const Value* find_path(const Value& obj, std::initializer_list<std::string_view> path);
std::string_view get_string(const Value& obj, std::string_view key, std::string_view fallback = {});
std::string_view get_string(const Value& obj, std::initializer_list<std::string_view> path,
                            std::string_view fallback = {});
int64_t get_int(const Value& obj, std::initializer_list<std::string_view> path, int64_t fallback);
bool get_bool(const Value& obj, std::initializer_list<std::string_view> path, bool fallback);

// Returns obj[key], creating it as an empty object if missing or not an object.
Value& ensure_object(Value& obj, std::string_view key, Allocator& a);
void set_member(Value& obj, std::string_view key, Value value, Allocator& a);
void set_string(Value& obj, std::string_view key, std::string_view s, Allocator& a);
bool remove_member(Value& obj, std::string_view key);  // keeps member order

// A standalone copy of `v` in one pool chunk of exactly the size it takes (a Document's own
// pool takes at least RAPIDJSON_ALLOCATOR_DEFAULT_CHUNK_CAPACITY): for small values kept long.
std::shared_ptr<const Document> compact_copy(const Value& v);
// A deep copy in a Document of its own (a Value cannot be copied across allocators).
Document copy_of(const Value& v);
// The heap a document holds through its pool: the pool's chunks (what it reserved, used or not)
// plus the document itself. For memory accounting (watch cache sizes), not for limits.
size_t allocated_bytes(const Document& d);
// Copies `s`; an empty view may have a null data pointer, which RapidJSON rejects.
inline Value string_value(std::string_view s, Allocator& a) {
  if (s.empty()) return Value("", 0, a);
  return Value(s.data(), static_cast<rapidjson::SizeType>(s.size()), a);
}
inline std::string_view view(const Value& v) {
  return v.IsString() ? std::string_view(v.GetString(), v.GetStringLength()) : std::string_view{};
}

}  // namespace k8s::json
