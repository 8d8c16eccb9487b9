#include "tools/kubesim/event_conversion.h"

#include <utility>

namespace kubesim::events {
namespace js = k8s::json;

namespace {

// Copies `from[key]` into `out[as]`; absent or empty strings are left out (omitempty) unless
// `null_when_absent` asks for what Go writes for a zero metav1.Time.
void copy_field(const js::Value& from, std::string_view key, js::Value& out, std::string_view as,
                js::Allocator& a, bool null_when_absent = false) {
  const js::Value* v = js::find(from, key);
  if (v && !(v->IsString() && v->GetStringLength() == 0) && !(v->IsInt64() && v->GetInt64() == 0)) {
    js::set_member(out, as, js::Value(*v, a), a);
  } else if (null_when_absent) {
    js::set_member(out, as, js::Value(), a);
  }
}

js::Document start(const js::Value& from, const char* api_version, js::Allocator*& a) {
  js::Document d(rapidjson::kObjectType);
  a = &d.GetAllocator();
  d.AddMember("apiVersion", rapidjson::StringRef(api_version), *a);
  d.AddMember("kind", "Event", *a);
  if (const js::Value* m = js::find(from, "metadata"))
    d.AddMember("metadata", js::Value(*m, *a), *a);
  else
    d.AddMember("metadata", js::Value(rapidjson::kObjectType), *a);
  return d;
}

// An ObjectReference or EventSource that Go always writes, {} when empty.
void copy_struct(const js::Value& from, std::string_view key, js::Value& out, std::string_view as,
                 js::Allocator& a) {
  const js::Value* v = js::find(from, key);
  js::set_member(out, as, v && v->IsObject() ? js::Value(*v, a) : js::Value(rapidjson::kObjectType),
                 a);
}

}  // namespace

js::Document to_events_v1(const js::Value& core) {
  js::Allocator* a = nullptr;
  js::Document d = start(core, "events.k8s.io/v1", a);
  copy_field(core, "eventTime", d, "eventTime", *a, true);
  if (const js::Value* s = js::find(core, "series"); s && s->IsObject()) {
    js::Value series(*s, *a);
    if (!js::find(series, "count")) series.AddMember("count", 0, *a);
    if (!js::find(series, "lastObservedTime"))
      series.AddMember("lastObservedTime", js::Value(), *a);
    d.AddMember("series", series, *a);
  }
  copy_field(core, "reportingComponent", d, "reportingController", *a);
  copy_field(core, "reportingInstance", d, "reportingInstance", *a);
  copy_field(core, "action", d, "action", *a);
  copy_field(core, "reason", d, "reason", *a);
  copy_struct(core, "involvedObject", d, "regarding", *a);
  copy_field(core, "related", d, "related", *a);
  copy_field(core, "message", d, "note", *a);
  copy_field(core, "type", d, "type", *a);
  copy_struct(core, "source", d, "deprecatedSource", *a);
  copy_field(core, "firstTimestamp", d, "deprecatedFirstTimestamp", *a, true);
  copy_field(core, "lastTimestamp", d, "deprecatedLastTimestamp", *a, true);
  copy_field(core, "count", d, "deprecatedCount", *a);
  return d;
}

js::Document to_core_v1(const js::Value& event) {
  js::Allocator* a = nullptr;
  js::Document d = start(event, "v1", a);
  copy_struct(event, "regarding", d, "involvedObject", *a);
  copy_field(event, "reason", d, "reason", *a);
  copy_field(event, "note", d, "message", *a);
  copy_struct(event, "deprecatedSource", d, "source", *a);
  copy_field(event, "deprecatedFirstTimestamp", d, "firstTimestamp", *a, true);
  copy_field(event, "deprecatedLastTimestamp", d, "lastTimestamp", *a, true);
  copy_field(event, "deprecatedCount", d, "count", *a);
  copy_field(event, "type", d, "type", *a);
  copy_field(event, "eventTime", d, "eventTime", *a, true);
  copy_field(event, "series", d, "series", *a);
  copy_field(event, "action", d, "action", *a);
  copy_field(event, "related", d, "related", *a);
  // Written even when empty: the core type has no omitempty on these two.
  js::set_string(d, "reportingComponent", js::get_string(event, "reportingController"), *a);
  js::set_string(d, "reportingInstance", js::get_string(event, "reportingInstance"), *a);
  return d;
}

}  // namespace kubesim::events
