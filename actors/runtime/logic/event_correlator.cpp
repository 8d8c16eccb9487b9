#include "actors/runtime/logic/event_correlator.h"

#include <atomic>

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "k8s/base/timestamps.h"

namespace runtime {
namespace js = k8s::json;

namespace {

// What makes two occurrences the same Event, hashed (FNV-1a, 64 bits) with a '\0' after each
// part (which none of our reasons, messages or region names contains) so that the parts cannot
// run into each other.
uint64_t key_of(std::string_view type, std::string_view reason, std::string_view message,
                std::string_view region) {
  uint64_t h = 14695981039346656037ull;
  for (std::string_view part : {type, reason, message, region}) {
    for (unsigned char c : part) h = (h ^ c) * 1099511628211ull;
    h = (h ^ 0u) * 1099511628211ull;
  }
  return h;
}

uint64_t key_of(const event_record& e) {
  return key_of(e.type, e.reason, e.message, e.detail);
}

// An Event's timestamp in Unix milliseconds, -1 when it is absent or unreadable.
int64_t ms_of(std::string_view text) {
  const auto t = k8s::parse_rfc3339(text);
  return t ? k8s::unix_ms(*t) : -1;
}

std::string time_text(int64_t ms) {
  return k8s::format_time(k8s::from_unix_ms(ms));
}

}  // namespace

event_correlator::object_state& event_correlator::object_of(const involved_object& object) {
  auto& o = objects_[object.key()];
  const std::string& uid = object.uid;
  // The same name with another uid is a new object: the old one's Events are not its.
  if (!uid.empty() && !o.uid.empty() && o.uid != uid) o = object_state{};
  if (!uid.empty()) o.uid = uid;
  return o;
}

event_correlator::record& event_correlator::touch(object_state& o, uint64_t key) {
  const uint64_t now = ++o.clock;
  for (auto& r : o.records)
    if (r.key == key) {
      r.seen = now;
      return r;
    }
  // Forgetting the least recently seen Event only costs a second object if it comes back.
  while (!o.records.empty() && o.records.size() >= std::max<size_t>(options_.max_keys, 1)) {
    auto oldest =
        std::min_element(o.records.begin(), o.records.end(),
                         [](const record& a, const record& b) { return a.seen < b.seen; });
    std::iter_swap(oldest, o.records.end() - 1);
    o.records.pop_back();
  }
  // A few at a time: an object has a handful of distinct Events, doubling would waste as many.
  if (o.records.size() == o.records.capacity()) o.records.reserve(o.records.size() + 4);
  record& r = o.records.emplace_back();
  r.key = key;
  r.seen = now;
  return r;
}

bool event_correlator::take_token(object_state& o, int64_t now_ms) {
  if (!o.bucket_started) {
    o.bucket_started = true;
    o.tokens = options_.burst;
    o.refilled_ms = now_ms;
  }
  if (options_.refill_ms > 0 && now_ms > o.refilled_ms) {
    int64_t earned = (now_ms - o.refilled_ms) / options_.refill_ms;
    o.tokens = std::min(options_.burst, o.tokens + earned);
    o.refilled_ms += earned * options_.refill_ms;
    // A full bucket saves nothing up for later.
    if (o.tokens == options_.burst) o.refilled_ms = now_ms;
  }
  if (o.tokens <= 0) return false;
  --o.tokens;
  return true;
}

event_decision event_correlator::decide(const event_record& e, int64_t now_ms) {
  auto& o = object_of(e.object);
  record& r = touch(o, key_of(e));
  if (r.count == 0) r.first_ms = now_ms;
  ++r.count;
  r.last_ms = now_ms;
  event_decision d;
  d.count = r.count;
  d.first_ms = r.first_ms;
  d.last_ms = now_ms;
  if (!take_token(o, now_ms)) {
    d.what = event_decision::action::drop;
    d.name = r.name;
    return d;
  }
  d.what = r.name.empty() ? event_decision::action::create : event_decision::action::bump;
  d.name = r.name;
  return d;
}

void event_correlator::created(const event_record& e, const std::string& name) {
  auto o = objects_.find(e.object.key());
  if (o == objects_.end()) return;
  const uint64_t key = key_of(e);
  for (auto& r : o->second.records)
    if (r.key == key) r.name = name;
}

event_decision event_correlator::recreate(const event_record& e, int64_t now_ms) {
  auto& o = object_of(e.object);
  record& r = touch(o, key_of(e));
  r.name.clear();
  r.count = 1;
  r.first_ms = now_ms;
  r.last_ms = now_ms;
  event_decision d;
  d.what = event_decision::action::create;
  d.first_ms = d.last_ms = now_ms;
  return d;
}

void event_correlator::seed(const involved_object& object, const event_source& source,
                            const std::vector<k8s::object_ptr>& events) {
  const std::string& uid = object.uid;
  struct found {
    const js::Value* event;
    int64_t last_ms;
  };
  std::vector<found> ours;
  for (const auto& p : events) {
    if (!p || !p->IsObject()) continue;
    const js::Value& ev = *p;
    if (js::get_string(ev, {"involvedObject", "kind"}) != object.kind ||
        js::get_string(ev, {"involvedObject", "namespace"}) != object.ns ||
        js::get_string(ev, {"involvedObject", "name"}) != object.name)
      continue;
    // Listed by name, the Events of an earlier object of that name come along.
    if (!uid.empty() && js::get_string(ev, {"involvedObject", "uid"}) != uid) continue;
    if (js::get_string(ev, {"source", "component"}) != source.component &&
        js::get_string(ev, "reportingComponent") != source.component)
      continue;
    if (js::get_string(ev, {"metadata", "name"}).empty()) continue;
    ours.push_back({&ev, ms_of(js::get_string(ev, "lastTimestamp"))});
  }
  // Oldest first: the most recent ends up most recently used and, of duplicates of one key
  // (from before de-duplication, or two replicas racing), the most recent is the one bumped.
  std::stable_sort(ours.begin(), ours.end(),
                   [](const found& a, const found& b) { return a.last_ms < b.last_ms; });
  auto& o = object_of(object);
  std::set<uint64_t> seeded;
  for (const auto& f : ours) {
    const js::Value& ev = *f.event;
    const uint64_t k = key_of(
        js::get_string(ev, "type"), js::get_string(ev, "reason"), js::get_string(ev, "message"),
        source.detail_annotation.empty()
            ? std::string_view()
            : js::get_string(ev, {"metadata", "annotations", source.detail_annotation.c_str()}));
    const bool known = std::any_of(o.records.begin(), o.records.end(),
                                   [k](const record& r) { return r.key == k; });
    if (known && !seeded.count(k)) continue;  // this process knows better
    seeded.insert(k);
    record& r = touch(o, k);
    r.name = std::string(js::get_string(ev, {"metadata", "name"}));
    r.count = std::max<int64_t>(1, js::get_int(ev, {"count"}, 1));
    r.last_ms = f.last_ms;
    r.first_ms = ms_of(js::get_string(ev, "firstTimestamp"));
    if (r.first_ms < 0) r.first_ms = r.last_ms;
  }
}

size_t event_correlator::keys(const involved_object& object) const {
  auto o = objects_.find(object.key());
  return o == objects_.end() ? 0 : o->second.records.size();
}

size_t event_correlator::memory_bytes() const {
  auto heap = [](const std::string& s) { return s.capacity() > 15 ? s.capacity() + 1 : 0; };
  size_t bytes = 0;
  for (const auto& [key, o] : objects_) {
    bytes += sizeof(std::pair<const std::string, object_state>) + 4 * sizeof(void*);  // map node
    bytes += heap(key) + heap(o.uid) + o.records.capacity() * sizeof(record);
    for (const auto& r : o.records) bytes += heap(r.name);
  }
  return bytes;
}

// ---- the wire format ----

std::string event_json(const event_record& e, const event_decision& d, const event_source& source,
                       const std::string& instance) {
  js::Document doc(rapidjson::kObjectType);
  auto& a = doc.GetAllocator();
  doc.AddMember("apiVersion", "v1", a);
  doc.AddMember("kind", "Event", a);
  js::Value meta(rapidjson::kObjectType);
  // Named as client-go's EventRecorder names them, <object>.<hex of a nanosecond time>: a
  // generateName of "<object>." is refused (a name prefix may not end with a dot).
  static std::atomic<uint64_t> sequence{0};
  const uint64_t nanos = static_cast<uint64_t>(d.last_ms) * 1000000 + sequence++ % 1000000;
  meta.AddMember("name", js::string_value(fmt::format("{}.{:x}", e.object.name, nanos), a), a);
  meta.AddMember("namespace", js::string_value(e.object.ns, a), a);
  if (!e.detail.empty() && !source.detail_annotation.empty()) {
    js::Value annotations(rapidjson::kObjectType);
    annotations.AddMember(js::string_value(source.detail_annotation, a),
                          js::string_value(e.detail, a), a);
    meta.AddMember("annotations", annotations, a);
  }
  doc.AddMember("metadata", meta, a);
  js::Value involved(rapidjson::kObjectType);
  involved.AddMember("apiVersion", js::string_value(e.object.api_version, a), a);
  involved.AddMember("kind", js::string_value(e.object.kind, a), a);
  involved.AddMember("name", js::string_value(e.object.name, a), a);
  involved.AddMember("namespace", js::string_value(e.object.ns, a), a);
  // `kubectl describe` finds an object's Events by its uid.
  if (!e.object.uid.empty()) involved.AddMember("uid", js::string_value(e.object.uid, a), a);
  doc.AddMember("involvedObject", involved, a);
  doc.AddMember("reason", js::string_value(e.reason, a), a);
  doc.AddMember("message", js::string_value(e.message, a), a);
  doc.AddMember("type", js::string_value(e.type, a), a);
  js::Value src(rapidjson::kObjectType);
  src.AddMember("component", js::string_value(source.component, a), a);
  doc.AddMember("source", src, a);
  doc.AddMember("reportingComponent", js::string_value(source.component, a), a);
  doc.AddMember("reportingInstance", js::string_value(instance, a), a);
  doc.AddMember("firstTimestamp", js::string_value(time_text(d.first_ms), a), a);
  doc.AddMember("lastTimestamp", js::string_value(time_text(d.last_ms), a), a);
  doc.AddMember("count", static_cast<int64_t>(d.count), a);
  return js::to_string(doc);
}

std::string event_bump_patch(const event_decision& d) {
  js::Document doc(rapidjson::kObjectType);
  auto& a = doc.GetAllocator();
  doc.AddMember("count", static_cast<int64_t>(d.count), a);
  doc.AddMember("lastTimestamp", js::string_value(time_text(d.last_ms), a), a);
  return js::to_string(doc);
}

}  // namespace runtime
