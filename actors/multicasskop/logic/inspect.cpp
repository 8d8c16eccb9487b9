#include "actors/multicasskop/logic/inspect.h"

namespace mc {
namespace js = k8s::json;

namespace {

js::Value describe(const multicasskop_state& m, const journal* j, js::Allocator& a) {
  js::Value v(rapidjson::kObjectType);
  v.AddMember("namespace", js::string_value(m.key.ns, a), a);
  v.AddMember("name", js::string_value(m.key.name, a), a);
  v.AddMember("generation", js::Value(static_cast<int64_t>(m.generation)), a);
  v.AddMember("deleting", m.deleting, a);
  v.AddMember("rollingRegion", js::string_value(m.rolling_region, a), a);
  js::Value regions(rapidjson::kArrayType);
  for (const auto& [name, r] : m.regions) {
    js::Value e(rapidjson::kObjectType);
    e.AddMember("name", js::string_value(name, a), a);
    e.AddMember("phase", js::string_value(to_string(r.phase), a), a);
    e.AddMember("message", js::string_value(r.message, a), a);
    e.AddMember("writeInFlight", r.in_flight != 0, a);
    e.AddMember("awaitingReady", r.awaiting_ready, a);
    e.AddMember("backingOff", r.retry_wait, a);
    e.AddMember("refused", r.refused, a);  // waiting for a change after a refused write
    if (r.change_refused) e.AddMember("changeRefused", true, a);  // CassKop wrote ours back
    e.AddMember("failures", r.failures, a);
    regions.PushBack(e, a);
  }
  v.AddMember("regions", regions, a);
  if (j) {
    js::Value events(rapidjson::kArrayType);
    for (std::string_view line : j->recent(m.key)) {
      js::Document d = js::parse(line);
      events.PushBack(js::Value(d, a), a);
    }
    v.AddMember("journal", events, a);
  }
  return v;
}

js::Value clusters_json(const state_machine& sm, js::Allocator& a) {
  js::Value clusters(rapidjson::kArrayType);
  for (const auto& name : sm.clusters()) {
    js::Value c(rapidjson::kObjectType);
    c.AddMember("name", js::string_value(name, a), a);
    auto h = sm.health().find(name);
    c.AddMember("reachable", h != sm.health().end() && h->second.reachable, a);
    c.AddMember("synced", h != sm.health().end() && h->second.synced, a);
    c.AddMember("error", js::string_value(h != sm.health().end() ? h->second.error : "", a), a);
    clusters.PushBack(c, a);
  }
  return clusters;
}

}  // namespace

std::string inspect_clusters(const state_machine& sm) {
  js::Document d;
  js::Value clusters = clusters_json(sm, d.GetAllocator());
  return js::to_string(clusters);
}

std::string inspect(const state_machine& sm, const journal& j, const mc_key* only) {
  js::Document d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  if (only) {
    auto it = sm.multicasskops().find(*only);
    if (it == sm.multicasskops().end()) return "";
    js::Value v = describe(it->second, &j, a);
    return js::to_string(v);
  }
  d.AddMember("clusters", clusters_json(sm, a), a);
  js::Value mcs(rapidjson::kArrayType);
  for (const auto& [k, m] : sm.multicasskops()) mcs.PushBack(describe(m, nullptr, a), a);
  d.AddMember("multicasskops", mcs, a);
  d.AddMember("journalSize", js::Value(static_cast<uint64_t>(j.size())), a);
  return js::to_string(d);
}

}  // namespace mc
