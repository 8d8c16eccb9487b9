#include "k8s/watch/watch_event.h"

#include <algorithm>

namespace k8s {
namespace {

// An event's document together with the pool its values live in, one allocation. The pool's
// chunk is sized from the line: a Document's own pool would take a fixed chunk
// (RAPIDJSON_ALLOCATOR_DEFAULT_CHUNK_CAPACITY, 4 KiB) per object whatever its size, and the
// objects we keep are mostly much smaller. Parsed values take about 1.6 times their JSON text
// (strings are copied, every value is 16 bytes), so twice the line holds most objects in one
// chunk; a bigger one simply gets more chunks. The parse stack uses the shared stateless
// CrtAllocator instead of allocating one per document.
struct pooled_document {
  explicit pooled_document(size_t chunk)
      : pool(chunk), doc(&pool, stack_capacity, &stack_allocator) {}
  static constexpr size_t stack_capacity = 1024;
  static inline rapidjson::CrtAllocator stack_allocator;
  json::Allocator pool;  // declared first: outlives doc
  json::Document doc;
};

}  // namespace

bool decode_watch_line(std::string_view line, watch_event& out, std::string& why) {
  // Decoding happens once per event on the hot path; a document per event keeps the
  // allocator's memory bounded to the object's lifetime.
  auto holder = std::make_shared<pooled_document>(std::max<size_t>(2 * line.size(), 256));
  json::Document* doc = &holder->doc;
  doc->Parse(line.data(), line.size());
  if (doc->HasParseError()) {
    why = std::string("invalid JSON: ") + rapidjson::GetParseError_En(doc->GetParseError()) +
          " at offset " + std::to_string(doc->GetErrorOffset());
    return false;
  }
  if (!doc->IsObject()) {
    why = "watch event is not a JSON object";
    return false;
  }
  auto type = json::get_string(*doc, "type");
  auto obj_it = doc->FindMember("object");
  if (obj_it == doc->MemberEnd() || !obj_it->value.IsObject()) {
    why = "watch event has no object";
    return false;
  }
  if (type == "ADDED") out.kind = watch_event::type::added;
  else if (type == "MODIFIED") out.kind = watch_event::type::modified;
  else if (type == "DELETED") out.kind = watch_event::type::deleted;
  else if (type == "BOOKMARK") out.kind = watch_event::type::bookmark;
  else if (type == "ERROR") out.kind = watch_event::type::error;
  else {
    why = "unknown watch event type \"" + std::string(type) + "\"";
    return false;
  }
  if (out.kind == watch_event::type::error) {
    out.error = error_from_response(static_cast<int>(json::get_int(obj_it->value, {"code"}, 500)),
                                    json::to_string(obj_it->value), "");
    out.object.reset();
    out.resource_version.clear();
    return true;
  }
  out.resource_version = std::string(json::get_string(obj_it->value, {"metadata", "resourceVersion"}));
  if (out.resource_version.empty() && out.kind == watch_event::type::bookmark) {
    why = "bookmark without resourceVersion";
    return false;
  }
  // Keep only the object: move it to the root of its own document (same allocator).
  json::Value obj;
  obj.Swap(obj_it->value);
  static_cast<json::Value&>(*doc).Swap(obj);
  out.object = std::shared_ptr<const json::Document>(std::move(holder), doc);
  return true;
}

}  // namespace k8s
