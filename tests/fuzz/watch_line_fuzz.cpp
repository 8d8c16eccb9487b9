// libFuzzer target: decode_watch_line on arbitrary bytes. It is documented never to throw, so any
// exception is a finding, as is a crash or a sanitizer report. A decoded event must also be
// consistent: an object for every kind but error, a resourceVersion for a bookmark, a reason
// when the line is refused, and an object that serializes to JSON that parses again.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <string_view>

#include "k8s/watch/watch_event.h"

namespace {

[[noreturn]] void finding(const char* what) {
  std::fprintf(stderr, "watch_line_fuzz: %s\n", what);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view line(reinterpret_cast<const char*>(data), size);
  k8s::watch_event event;
  std::string why;
  bool ok = false;
  try {
    ok = k8s::decode_watch_line(line, event, why);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "watch_line_fuzz: decode_watch_line threw: %s\n", e.what());
    std::abort();
  } catch (...) {
    finding("decode_watch_line threw a non-std exception");
  }
  if (!ok) {
    if (why.empty()) finding("refused a line without saying why");
    return 0;
  }
  if (event.kind == k8s::watch_event::type::error) return 0;
  if (!event.object || !event.object->IsObject()) finding("decoded event has no object");
  if (event.kind == k8s::watch_event::type::bookmark && event.resource_version.empty())
    finding("bookmark without resourceVersion accepted");
  // What consumers do with the object next (logs, journal, object_store) must work too.
  const std::string text = k8s::json::to_string(*event.object);
  k8s::json::Document again;
  again.Parse(text.data(), text.size());
  // (Not compared for equality: duplicate member names and RapidJSON's default double precision
  // make "parses back equal" a property of RapidJSON, not of our code.)
  if (again.HasParseError() || !again.IsObject())
    finding("decoded object does not serialize to a JSON object");
  return 0;
}
