// libFuzzer target: JSON merge patch (RFC 7386) and JSON patch (RFC 6902), k8s/json/json_patch.h.
//
// The input is two JSON documents one after the other (`{"a":1} {"a":2}`): A, then B from where
// A ends. When both parse:
//   - apply_merge_patch(A, B) never throws or crashes, and applying B a second time changes
//     nothing (RFC 7386 patches are idempotent);
//   - apply(from, create_merge_patch(from, to)) == to, both ways round, when `to` holds no null
//     (a null member cannot be expressed in a merge patch, see json_patch.h);
//   - apply_json_patch(A, B) either succeeds or throws json_patch_error and then leaves A as it
//     was (all-or-nothing). Any other exception is a finding.
// The equality properties are only checked on documents without duplicate member names: JSON
// leaves their meaning undefined and RapidJSON's operator== does not compare them.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <string_view>

#include "k8s/json/json.h"
#include "k8s/json/json_patch.h"

#include <rapidjson/memorystream.h>

namespace json = k8s::json;

namespace {

using k8s::json::copy_of;

[[noreturn]] void finding(const char* what) {
  std::fprintf(stderr, "merge_patch_fuzz: %s\n", what);
  std::abort();
}

bool has_null(const json::Value& v) {
  if (v.IsNull()) return true;
  if (v.IsObject()) {
    for (auto& m : v.GetObject())
      if (has_null(m.value)) return true;
  } else if (v.IsArray()) {
    for (auto& e : v.GetArray())
      if (has_null(e)) return true;
  }
  return false;
}

bool has_duplicate_names(const json::Value& v) {
  if (v.IsObject()) {
    for (auto m = v.MemberBegin(); m != v.MemberEnd(); ++m) {
      for (auto n = v.MemberBegin(); n != m; ++n)
        if (n->name == m->name) return true;
      if (has_duplicate_names(m->value)) return true;
    }
  } else if (v.IsArray()) {
    for (auto& e : v.GetArray())
      if (has_duplicate_names(e)) return true;
  }
  return false;
}

void check_merge(const json::Value& a, const json::Value& b, bool unique_names) {
  json::Document once = copy_of(a);
  json::apply_merge_patch(once, b, once.GetAllocator());
  if (!unique_names) return;
  json::Document twice = copy_of(once);
  json::apply_merge_patch(twice, b, twice.GetAllocator());
  if (!(twice == once)) finding("applying a merge patch twice changed the result");
}

void check_round_trip(const json::Value& from, const json::Value& to) {
  json::Document patch = json::create_merge_patch(from, to);
  json::Document result = copy_of(from);
  json::apply_merge_patch(result, patch, result.GetAllocator());
  if (!(result == to)) finding("apply(from, create_merge_patch(from, to)) != to");
}

void check_json_patch(const json::Value& a, const json::Value& ops) {
  json::Document target = copy_of(a);
  const std::string before = json::to_string(target);
  try {
    json::apply_json_patch(target, ops, target.GetAllocator());
  } catch (const json::json_patch_error& e) {
    if (std::string_view(e.what()).empty()) finding("json_patch_error without a message");
    if (json::to_string(target) != before) finding("a failed JSON patch changed the document");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const char* text = reinterpret_cast<const char*>(data);
  json::Document a, b;
  rapidjson::MemoryStream first(text, size);
  a.ParseStream<rapidjson::kParseStopWhenDoneFlag>(first);
  if (a.HasParseError()) return 0;
  const size_t used = first.Tell();
  b.Parse(text + used, size - used);
  if (b.HasParseError()) return 0;

  try {
    const bool unique = !has_duplicate_names(a) && !has_duplicate_names(b);
    check_merge(a, b, unique);
    if (unique) {
      if (!has_null(b)) check_round_trip(a, b);
      if (!has_null(a)) check_round_trip(b, a);
    }
    check_json_patch(a, b);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "merge_patch_fuzz: unexpected exception: %s\n", e.what());
    std::abort();
  }
  return 0;
}
