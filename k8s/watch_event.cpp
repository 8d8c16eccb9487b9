#include "k8s/watch_event.h"

namespace k8s {

bool decode_watch_line(std::string_view line, watch_event& out, std::string& why) {
  auto doc = std::make_shared<json::Document>();
  // Decoding happens once per event on the hot path; a document per event keeps the
  // allocator's memory bounded to the object's lifetime.
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
  out.object = std::move(doc);
  return true;
}

}  // namespace k8s
