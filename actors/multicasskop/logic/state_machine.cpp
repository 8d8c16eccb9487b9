#include "actors/multicasskop/logic/state_machine.h"

#include <algorithm>
#include <cstdlib>

#include <fmt/format.h>

#include "actors/multicasskop/logic/cache_trim.h"
#include "actors/multicasskop/logic/seeds.h"
#include "k8s/base/overloaded.h"
#include "k8s/base/timestamps.h"

namespace mc {
namespace js = k8s::json;

const char* to_string(region_phase p) {
  switch (p) {
    case region_phase::not_deployed:
      return "NotDeployed";
    case region_phase::waiting:
      return "Waiting";
    case region_phase::unreachable:
      return "Unreachable";
    case region_phase::access_denied:
      return "AccessDenied";
    case region_phase::creating:
      return "Creating";
    case region_phase::updating:
      return "Updating";
    case region_phase::ready:
      return "Ready";
    case region_phase::deleting:
      return "Deleting";
    case region_phase::deleted:
      return "Deleted";
    case region_phase::error:
      return "Error";
    case region_phase::detached:
      return "Detached";
    case region_phase::degraded:
      return "Degraded";
  }
  return "Unknown";
}

namespace {

// reported[topic] after a restart, for Events a previous run recorded: the next report of that
// topic is taken as already made (a restart or a leader change records nothing again).
constexpr const char* restored_report = "(restored)";
// Condition messages are capped by the CRD (and kept readable).
constexpr size_t max_message_bytes = 4096;

std::string meta(const js::Value& obj, std::string_view key) {
  return std::string(js::get_string(obj, {"metadata", key}));
}

unsigned long long rv_of(const js::Value& obj) {
  return std::strtoull(meta(obj, "resourceVersion").c_str(), nullptr, 10);
}

bool has_finalizer(const js::Value& obj, const char* name) {
  if (const js::Value* f = js::find_path(obj, {"metadata", "finalizers"}); f && f->IsArray())
    for (const auto& e : f->GetArray())
      if (e.IsString() && js::view(e) == name) return true;
  return false;
}

bool is_deleting(const js::Value& obj) {
  return js::find_path(obj, {"metadata", "deletionTimestamp"}) != nullptr;
}

bool running_and_done(const js::Value& cc) {
  return js::get_string(cc, {"status", "phase"}) == "Running" &&
         js::get_string(cc, {"status", "lastClusterActionStatus"}) == "Done";
}

// "ns/name" of an owner annotation.
std::optional<mc_key> owner_key(const js::Value& cc) {
  std::string owner = owner_of(cc);
  auto slash = owner.find('/');
  if (slash == std::string::npos) return std::nullopt;
  return mc_key{owner.substr(0, slash), owner.substr(slash + 1)};
}

int64_t generation_of(const js::Value& obj) {
  return js::get_int(obj, {"metadata", "generation"}, 0);
}

// What the state machine keeps of the answer to a write to MultiCasskop `m`: without its spec
// when that is the spec already parsed (same object, same generation), so the answer does not
// hold a second copy of the spec beside the watch cache's until the watch brings it.
object_ptr answer_to_keep(const object_ptr& answer, const multicasskop_state& m) {
  if (!m.object || !js::find(*answer, "spec") || meta(*answer, "uid") != meta(*m.object, "uid") ||
      generation_of(*answer) != m.generation)
    return answer;
  js::Document slim(rapidjson::kObjectType);
  auto& a = slim.GetAllocator();
  for (const auto& member : answer->GetObject())
    if (js::view(member.name) != "spec")
      slim.AddMember(js::Value(member.name, a), js::Value(member.value, a), a);
  return js::compact_copy(slim);
}

// `object` with its spec again, for a snapshot (a replay parses it).
object_ptr whole(const multicasskop_state& m) {
  if (!m.object || js::find(*m.object, "spec") || !m.with_spec) return m.object;
  const js::Value* spec = js::find(*m.with_spec, "spec");
  if (!spec) return m.object;
  js::Document d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  d.CopyFrom(*m.object, a);
  d.AddMember("spec", js::Value(*spec, a), a);
  return js::compact_copy(d);
}

std::string truncated(std::string s) {
  if (s.size() > max_message_bytes) s = s.substr(0, max_message_bytes - 3) + "...";
  return s;
}

// {"metadata":{"finalizers":[...],"resourceVersion":"N"}}: with the resourceVersion, a
// concurrent change of the list makes the write fail instead of losing someone's finalizer.
std::string finalizers_patch(const js::Value& obj, bool add) {
  js::Document p(rapidjson::kObjectType);
  auto& a = p.GetAllocator();
  js::Value list(rapidjson::kArrayType);
  if (const js::Value* f = js::find_path(obj, {"metadata", "finalizers"}); f && f->IsArray())
    for (const auto& e : f->GetArray())
      if (!(e.IsString() && js::view(e) == finalizer)) list.PushBack(js::Value(e, a), a);
  if (add) list.PushBack(js::string_value(finalizer, a), a);
  js::Value m(rapidjson::kObjectType);
  m.AddMember("finalizers", list, a);
  m.AddMember("resourceVersion", js::string_value(meta(obj, "resourceVersion"), a), a);
  p.AddMember("metadata", m, a);
  return js::to_string(p);
}

js::Value string_list(const std::vector<std::string>& list, js::Allocator& a) {
  js::Value out(rapidjson::kArrayType);
  for (const auto& s : list) out.PushBack(js::string_value(s, a), a);
  return out;
}

// The seed list in the status: through /status as is, or (no status subresource) in the
// object as the original Multi-CassKop wrote it, guarded by the resourceVersion it read.
std::string seedlist_patch(const std::vector<std::string>& seeds, const js::Value* guard) {
  js::Document p(rapidjson::kObjectType);
  auto& a = p.GetAllocator();
  if (guard) {
    js::Value m(rapidjson::kObjectType);
    m.AddMember("resourceVersion", js::string_value(meta(*guard, "resourceVersion"), a), a);
    p.AddMember("metadata", m, a);
  }
  js::Value status(rapidjson::kObjectType);
  status.AddMember("seedlist", string_list(seeds, a), a);
  p.AddMember("status", status, a);
  return js::to_string(p);
}

std::vector<std::string> seedlist_of(const js::Value& cc) {
  std::vector<std::string> out;
  if (const js::Value* s = js::find_path(cc, {"status", "seedlist"}); s && s->IsArray())
    for (const auto& e : s->GetArray())
      if (e.IsString()) out.emplace_back(js::view(e));
  return out;
}

// Regions of this MultiCasskop that a reload removed from the configuration: reported as
// Detached (Degraded reason RegionDetached), not as an override naming an unknown cluster.
std::set<std::string> detached_regions(const multicasskop_state& m) {
  std::set<std::string> out;
  for (const auto& [name, r] : m.regions)
    if (r.phase == region_phase::detached) out.insert(name);
  return out;
}

// Refused for good: retrying the same write gives the same answer.
bool refused_for_good(const k8s::api_error& e) {
  using k8s::error_kind;
  switch (e.kind) {
    case error_kind::invalid:
    case error_kind::bad_request:
    case error_kind::unsupported_media_type:
    case error_kind::method_not_allowed:
    case error_kind::request_entity_too_large:
      return true;
    default:
      return false;
  }
}

}  // namespace

bool cassandracluster_ready(const js::Value& cc, const region_state& r) {
  if (!running_and_done(cc)) return false;
  // Our casskop reports which generation its status is about: trust only a current one.
  if (const js::Value* og = js::find_path(cc, {"status", "observedGeneration"});
      og && og->IsInt64())
    return og->GetInt64() >= js::get_int(cc, {"metadata", "generation"}, 0);
  // CassKop records the spec it reconciled with every status it writes: a Running/Done written
  // with the current spec is about the current spec (and CassKop marks a change it starts in
  // that very write, so a stale Running/Done never passes).
  if (auto reconciled = casskop_reconciled_spec(cc)) return *reconciled;
  // A CassKop that says neither: after our spec change, a Running/Done we saw before it proves
  // nothing until it has visibly acted (or had time to).
  return !r.awaiting_ready || r.saw_not_ready || r.settled;
}

state_machine::state_machine(machine_options o) : options_(o) {}

bool state_machine::reachable(const std::string& cluster) const {
  auto it = health_.find(cluster);
  return it != health_.end() && it->second.reachable && it->second.synced;
}

bool state_machine::heard_of(const std::string& cluster) const {
  auto it = health_.find(cluster);
  if (it == health_.end()) return false;
  const auto& h = it->second;
  return h.synced || (!h.reachable && !h.error.empty());
}

const object_ptr* state_machine::observed(const std::string& cluster, const std::string& ns,
                                          const std::string& name) const {
  auto it = ccs_.find({cluster, ns, name});
  return it == ccs_.end() ? nullptr : &it->second;
}

std::vector<mc_key> state_machine::concerned(const event& e) const {
  std::vector<mc_key> out;
  auto all = [&] {
    for (const auto& [k, m] : mcs_) out.push_back(k);
  };
  std::visit(
      [&](const auto& b) {
        using T = std::decay_t<decltype(b)>;
        if constexpr (std::is_same_v<T, clusters_configured> || std::is_same_v<T, cluster_health>) {
          all();
        } else if constexpr (std::is_same_v<T, multicasskop_seen>) {
          out.push_back({meta(*b.object, "namespace"), meta(*b.object, "name")});
        } else if constexpr (std::is_same_v<T, multicasskop_gone>) {
          out.push_back(b.key);
        } else if constexpr (std::is_same_v<T, cassandracluster_seen> ||
                             std::is_same_v<T, cassandracluster_gone>) {
          std::string ns, name;
          if constexpr (std::is_same_v<T, cassandracluster_seen>) {
            ns = meta(*b.object, "namespace");
            name = meta(*b.object, "name");
            if (auto owner = owner_key(*b.object); owner && mcs_.count(*owner))
              out.push_back(*owner);
          } else {
            ns = b.ns;
            name = b.name;
            if (auto it = ccs_.find({b.cluster, ns, name}); it != ccs_.end())
              if (auto owner = owner_key(*it->second); owner && mcs_.count(*owner))
                out.push_back(*owner);
          }
          for (const auto& k : wanting(ns, name))
            if (std::find(out.begin(), out.end(), k) == out.end()) out.push_back(k);
        } else if constexpr (std::is_same_v<T, write_done>) {
          if (auto it = pending_.find(b.command_id); it != pending_.end())
            out.push_back(it->second.key);
        } else if constexpr (std::is_same_v<T, timer_fired> || std::is_same_v<T, command_issued>) {
          out.push_back(b.key);
        } else {
          static_assert(k8s::unhandled_alternative<T>, "a type without a branch");
        }
      },
      e.body);
  return out;
}

std::vector<event_body> state_machine::snapshot() const {
  std::vector<event_body> out;
  out.push_back(clusters_configured{clusters_});
  for (const auto& [name, h] : health_) out.push_back(h);
  for (const auto& [ref, cc] : ccs_) out.push_back(cassandracluster_seen{std::get<0>(ref), cc});
  for (const auto& [key, m] : mcs_)
    if (m.object) out.push_back(multicasskop_seen{whole(m)});
  return out;
}

const cluster_health& state_machine::health_of(const std::string& cluster) const {
  static const cluster_health none;
  auto it = health_.find(cluster);
  return it == health_.end() ? none : it->second;
}

namespace {

const mc_key& key_of(const command& c) {
  return std::visit(
      [](const auto& b) -> const mc_key& {
        using T = std::decay_t<decltype(b)>;
        if constexpr (std::is_same_v<T, create_cassandracluster> ||
                      std::is_same_v<T, patch_cassandracluster> ||
                      std::is_same_v<T, delete_cassandracluster>)
          return b.owner;
        else
          return b.key;
      },
      c);
}

uint64_t id_of(const command& c) {
  return std::visit(
      [](const auto& b) -> uint64_t {
        using T = std::decay_t<decltype(b)>;
        if constexpr (std::is_same_v<T, record_event>)
          return 0;
        else if constexpr (std::is_same_v<T, start_timer>)
          return b.token;
        else
          return b.id;
      },
      c);
}

}  // namespace

command_issued issuance_of(const command& c) {
  return {kind_name(c), id_of(c), key_of(c)};
}

void state_machine::evolve(const event& e) {
  if (started_ms_ < 0) started_ms_ = e.at_ms;
  if (const auto* c = std::get_if<command_issued>(&e.body)) {
    issued(*c);
    return;
  }
  now_ = e.at_ms;
  std::set<mc_key> touched;
  fold(e, touched);
  // A decision not issued is taken again, on what is known now.
  for (const auto& [k, p] : proposals_) touched.insert(k);
  proposals_.clear();
  uint64_t id = last_id_;
  for (const auto& k : touched) {
    auto it = mcs_.find(k);
    if (it == mcs_.end()) continue;
    proposal p{it->second, decision{id}};
    plan(p.decided, p.d);
    if (p.d.out.empty()) {
      it->second = std::move(p.decided);  // nothing to issue: the decision holds at once
      continue;
    }
    id = p.d.last_id;
    proposals_.emplace(k, std::move(p));
  }
}

std::vector<command> state_machine::decide() const {
  std::vector<command> out = owed_;
  for (const auto& [k, p] : proposals_) out.insert(out.end(), p.d.out.begin(), p.d.out.end());
  return out;
}

void state_machine::issued(const command_issued& c) {
  adopt(c.key);
  for (auto it = owed_.begin(); it != owed_.end(); ++it)
    if (kind_name(*it) == c.kind && id_of(*it) == c.id && key_of(*it) == c.key) {
      owed_.erase(it);
      break;
    }
  last_id_ = std::max(last_id_, c.id);
}

// The MultiCasskop's decision is made: its state becomes what deciding left, its writes are in
// flight and its ids are used.
void state_machine::adopt(const mc_key& key) {
  auto p = proposals_.find(key);
  if (p == proposals_.end()) return;
  if (auto it = mcs_.find(key); it != mcs_.end()) {
    it->second = std::move(p->second.decided);
    for (auto& [id, w] : p->second.d.pending) pending_[id] = std::move(w);
    last_id_ = std::max(last_id_, p->second.d.last_id);
  }
  proposals_.erase(p);
}

std::vector<command> state_machine::apply(const event& e) {
  evolve(e);
  auto out = decide();
  for (const auto& c : out) evolve(event{e.seq, e.at_ms, issuance_of(c)});
  return out;
}

void state_machine::fold(const event& e, std::set<mc_key>& touched) {
  auto touch_all = [&] {
    for (const auto& [k, m] : mcs_) touched.insert(k);
  };
  std::visit(
      [&](const auto& b) {
        using T = std::decay_t<decltype(b)>;
        if constexpr (std::is_same_v<T, clusters_configured>) {
          clusters_ = b.clusters;
          ever_configured_.insert(b.clusters.begin(), b.clusters.end());
          touch_all();
        } else if constexpr (std::is_same_v<T, cluster_health>) {
          auto& h = health_[b.cluster];
          const bool changed =
              h.reachable != b.reachable || h.synced != b.synced || h.error != b.error;
          h = b;
          if (changed)  // new credentials or a reconnect may fix a refused write
            for (auto& [k, m] : mcs_)
              if (auto r = m.regions.find(b.cluster); r != m.regions.end())
                r->second.refused = false;
          touch_all();
        } else if constexpr (std::is_same_v<T, multicasskop_seen>) {
          observe_multicasskop(b.object, touched);
        } else if constexpr (std::is_same_v<T, multicasskop_gone>) {
          if (auto it = mcs_.find(b.key); it != mcs_.end()) {
            wanted_by_[{it->second.spec.cc_namespace, it->second.spec.cc_name}].erase(b.key);
            mcs_.erase(it);
          }
        } else if constexpr (std::is_same_v<T, cassandracluster_seen>) {
          observe_cassandracluster(b.cluster, b.object, touched);
        } else if constexpr (std::is_same_v<T, cassandracluster_gone>) {
          if (auto it = ccs_.find({b.cluster, b.ns, b.name}); it != ccs_.end())
            if (auto owner = owner_key(*it->second); owner && mcs_.count(*owner))
              touched.insert(*owner);
          drop_cassandracluster({b.cluster, b.ns, b.name});
          for (const auto& k : wanting(b.ns, b.name)) touched.insert(k);
        } else if constexpr (std::is_same_v<T, write_done>) {
          on_write_done(b, touched);
        } else if constexpr (std::is_same_v<T, timer_fired>) {
          auto it = mcs_.find(b.key);
          if (it == mcs_.end()) return;
          touched.insert(b.key);
          if (b.cluster.empty()) {  // the MultiCasskop's own backoff, or the start grace
            if (b.token == it->second.retry_token) it->second.retry_wait = false;
            if (b.token == it->second.grace_token) start_grace_over_ = true;
            return;
          }
          auto r = it->second.regions.find(b.cluster);
          if (r == it->second.regions.end()) return;
          if (b.token == r->second.retry_token) r->second.retry_wait = false;
          if (b.token == r->second.settle_token) r->second.settled = true;
        } else if constexpr (std::is_same_v<T, command_issued>) {
          // folded by evolve() itself
        } else {
          static_assert(k8s::unhandled_alternative<T>, "a type without a branch");
        }
      },
      e.body);
}

void state_machine::observe_multicasskop(const object_ptr& object, std::set<mc_key>& touched) {
  mc_key key{meta(*object, "namespace"), meta(*object, "name")};
  auto& m = mcs_[key];
  const bool first = !m.object;
  // Our own write's answer may have brought a newer copy than this watch event.
  if (!first && meta(*m.object, "uid") == meta(*object, "uid") && rv_of(*m.object) > rv_of(*object))
    return;
  if (!first && rv_of(*m.object) != rv_of(*object)) m.retry_wait = false;
  m.key = key;
  m.object = object;
  if (js::find(*object, "spec")) m.with_spec = object;
  const int64_t generation = generation_of(*object);
  if (first || generation != m.generation) {
    if (!first) wanted_by_[{m.spec.cc_namespace, m.spec.cc_name}].erase(key);
    m.spec = parse_multicasskop(object);
    m.generation = generation;
    wanted_by_[{m.spec.cc_namespace, m.spec.cc_name}].insert(key);
    for (auto& [name, r] : m.regions) r.refused = false;  // a new spec: worth a new try
  } else {  // the adopt annotation may change without the generation (metadata only)
    share_parts_of(m.spec, object);
    m.spec.adopt = js::get_string(*object, {"metadata", "annotations", adopt_annotation}) == "true";
  }
  m.deleting = is_deleting(*object);
  m.has_finalizer = has_finalizer(*object, finalizer);
  if (!m.restored) restore_from_status(m);
  touched.insert(key);
}

void state_machine::index_owner(const cc_ref& ref, const object_ptr& before,
                                const object_ptr& after) {
  auto owner_before = before ? owner_key(*before) : std::nullopt;
  auto owner_after = after ? owner_key(*after) : std::nullopt;
  if (owner_before == owner_after) return;
  if (owner_before)
    if (auto it = owned_.find(*owner_before);
        it != owned_.end() && (it->second.erase(ref), it->second.empty()))
      owned_.erase(it);
  if (owner_after) owned_[*owner_after].insert(ref);
}

void state_machine::drop_cassandracluster(const cc_ref& ref) {
  auto it = ccs_.find(ref);
  if (it == ccs_.end()) return;
  index_owner(ref, it->second, nullptr);
  ccs_.erase(it);
}

void state_machine::observe_cassandracluster(const std::string& cluster, const object_ptr& cc,
                                             std::set<mc_key>& touched) {
  const std::string ns = meta(*cc, "namespace"), name = meta(*cc, "name");
  const cc_ref ref{cluster, ns, name};
  auto& slot = ccs_[ref];
  // A write's answer may arrive after the watch already showed a newer state.
  if (slot && meta(*slot, "uid") == meta(*cc, "uid") && rv_of(*slot) > rv_of(*cc)) return;
  const object_ptr before = slot;
  slot = cc;
  index_owner(ref, before, cc);
  auto concern = [&](const mc_key& k) {
    auto it = mcs_.find(k);
    if (it == mcs_.end()) return;
    auto& m = it->second;
    touched.insert(k);
    auto r = m.regions.find(cluster);
    if (r == m.regions.end()) return;
    // A newer object ends a wait caused by a stale picture (conflict, already exists), and may
    // make a refused write possible.
    if (r->second.retry_wait && r->second.last_error.empty()) r->second.retry_wait = false;
    if (!before || rv_of(*before) != rv_of(*cc)) r->second.refused = false;
    if (r->second.awaiting_ready && !running_and_done(*cc)) r->second.saw_not_ready = true;
  };
  for (const auto& k : wanting(ns, name)) concern(k);
  if (auto owner = owner_key(*cc)) concern(*owner);
  if (before)
    if (auto owner = owner_key(*before)) concern(*owner);
}

const std::set<mc_key>& state_machine::wanting(const std::string& ns,
                                               const std::string& name) const {
  static const std::set<mc_key> none;
  auto it = wanted_by_.find({ns, name});
  return it == wanted_by_.end() ? none : it->second;
}

void state_machine::restore_from_status(multicasskop_state& m) {
  // After a restart the bookkeeping of our writes comes back from the status we wrote, and so
  // do the conditions (their transition times) and which Events were recorded.
  m.restored = true;
  if (const js::Value* conds = js::find_path(*m.object, {"status", "conditions"});
      conds && conds->IsArray())
    for (const auto& c : conds->GetArray())
      m.conditions.push_back(
          {std::string(js::get_string(c, "type")), std::string(js::get_string(c, "status")),
           std::string(js::get_string(c, "reason")), std::string(js::get_string(c, "message")),
           std::string(js::get_string(c, "lastTransitionTime"))});
  const js::Value* regions = js::find_path(*m.object, {"status", "regions"});
  if (!regions || !regions->IsArray()) return;
  for (const auto& r : regions->GetArray()) {
    const std::string name(js::get_string(r, "name"));
    auto& rs = m.regions[name];
    rs.written_generation = js::get_int(r, {"writtenGeneration"}, 0);
    rs.awaiting_ready = js::get_bool(r, {"awaitingReady"}, false);
    const auto phase = js::get_string(r, "phase");
    if (phase == "Ready") m.reported["ready/" + name] = restored_report;
    // A refusal reported before: still one while its fields differ, CorrectCRDConfig or not.
    if (phase == "Degraded" && js::get_string(r, "reason") == "ChangeRefused") {
      rs.change_refused = true;
      m.reported["refused/" + name] = restored_report;
    }
    if (phase == "Unreachable" || phase == "AccessDenied")
      m.reported["reach/" + name] = restored_report;
  }
}

void state_machine::on_write_done(const write_done& w, std::set<mc_key>& touched) {
  auto& out = owed_;
  auto p = pending_.find(w.command_id);
  if (p == pending_.end()) return;
  pending_write pw = std::move(p->second);
  pending_.erase(p);
  auto it = mcs_.find(pw.key);
  if (it == mcs_.end()) return;
  auto& m = it->second;
  touched.insert(pw.key);

  if (pw.what == pending_write::kind::mc_status || pw.what == pending_write::kind::mc_metadata) {
    (pw.what == pending_write::kind::mc_status ? m.status_in_flight : m.metadata_in_flight) = 0;
    if (w.ok) {
      m.failures = 0;
      // The answer is the newest copy we know of: the next write guards with its version.
      if (w.object && rv_of(*w.object) > rv_of(*m.object))
        observe_multicasskop(answer_to_keep(w.object, m), touched);
      return;
    }
    if (pw.what == pending_write::kind::mc_status) m.written_status = {};  // write it again
    // Wait for a newer MultiCasskop (conflict) or a while (anything else) before retrying.
    ++m.failures;
    int64_t delay = options_.retry_initial_ms;
    for (int i = 1; i < m.failures && delay < options_.retry_max_ms; ++i) delay *= 2;
    m.retry_wait = true;
    m.retry_token = next_id();
    out.push_back(start_timer{m.key, "", m.retry_token, std::min(delay, options_.retry_max_ms)});
    if (w.error.kind != k8s::error_kind::conflict && w.error.kind != k8s::error_kind::not_found)
      report(m, "mcwrite", w.error.describe(),
             {m.key, "Warning", "WriteFailed",
              "cannot update the MultiCasskop: " + w.error.describe(), ""},
             out);
    return;
  }
  auto& r = m.regions[pw.region];
  r.in_flight = 0;
  if (w.ok) {
    r.failures = 0;
    r.last_error.clear();
    if (w.object && pw.what != pending_write::kind::remove) {
      // The watch usually shows our write before its answer arrives: then the answer is the
      // same object again, and keeping it instead of the watch's copy (shared with the
      // watcher's store) would hold every CassandraCluster twice.
      const object_ptr* seen =
          observed(pw.region, meta(*w.object, "namespace"), meta(*w.object, "name"));
      if (!seen || meta(**seen, "uid") != meta(*w.object, "uid") ||
          rv_of(**seen) < rv_of(*w.object))
        observe_cassandracluster(pw.region, w.object, touched);
    }
    const std::string cc = m.spec.cc_name;
    switch (pw.what) {
      case pending_write::kind::create:
      case pending_write::kind::update:
        if (pw.spec_changed && w.object) {
          r.written_generation = js::get_int(*w.object, {"metadata", "generation"}, 0);
          r.awaiting_ready = true;
          r.saw_not_ready = !running_and_done(*w.object);
          r.settled = false;
          r.settle_token = next_id();
          out.push_back(start_timer{m.key, pw.region, r.settle_token, options_.legacy_settle_ms});
        }
        report(m, "write/" + pw.region, fmt::format("{}", r.written_generation),
               {m.key, "Normal",
                pw.what == pending_write::kind::create ? "CassandraClusterCreated"
                                                       : "CassandraClusterUpdated",
                fmt::format("{} CassandraCluster {} in region {}",
                            pw.what == pending_write::kind::create ? "created" : "updated", cc,
                            pw.region),
                pw.region},
               out);
        break;
      case pending_write::kind::seedlist:
        // Written in the object but not kept: the CRD there has a status subresource (or has
        // just gained one). Through /status from now on.
        if (!pw.through_status && w.object && seedlist_of(*w.object) != pw.seeds)
          status_subresource_[pw.region] = true;
        break;
      case pending_write::kind::remove:
        if (w.object && is_deleting(*w.object)) {
          observe_cassandracluster(pw.region, w.object, touched);
        } else {
          // Deleted at once (no finalizers): gone, even if the watch has not said so yet.
          // Forgetting it keeps the next decision from deleting it a second time.
          for (auto c = ccs_.begin(); c != ccs_.end();) {
            auto next = std::next(c);
            if (std::get<0>(c->first) == pw.region && meta(*c->second, "uid") == pw.uid)
              drop_cassandracluster(c->first);
            c = next;
          }
        }
        report(m, "delete/" + pw.region, "requested",
               {m.key, "Normal", "CassandraClusterDeleted",
                fmt::format("deleting CassandraCluster {} in region {}", cc, pw.region), pw.region},
               out);
        break;
      default:
        break;
    }
    return;
  }
  using k8s::error_kind;
  const auto kind = w.error.kind;
  // /status not served there: the CRD has no status subresource (as CassKop's own); write the
  // seed list in the object, as the original Multi-CassKop did, at once.
  if (pw.what == pending_write::kind::seedlist && pw.through_status &&
      kind == error_kind::not_found) {
    status_subresource_[pw.region] = false;
    return;
  }
  // A conflict or a missing/existing object means our picture is behind: the next watch event
  // brings the truth and a new decision. Other errors back off.
  if (kind == error_kind::conflict || kind == error_kind::already_exists ||
      (kind == error_kind::not_found && pw.what != pending_write::kind::create)) {
    r.last_error.clear();
    back_off(m, pw.region, r, false, out);  // or until the watch shows a newer object
    return;
  }
  r.last_error = truncated(w.error.describe());
  r.error_reason = "WriteFailed";
  if (refused_for_good(w.error)) {
    // The same write would be refused again: wait for a change instead of retrying blindly.
    r.refused = true;
    report(
        m, "error/" + pw.region, r.last_error,
        {m.key, "Warning", "WriteFailed",
         truncated(fmt::format("region {}: the API server refused the CassandraCluster: {}. Fix "
                               "spec.base or spec.override.{} (or the CassandraCluster CRD there); "
                               "the write is tried again when the MultiCasskop changes",
                               pw.region, r.last_error, pw.region)),
         pw.region},
        out);
    return;
  }
  // A 401 makes the host read the cluster's credentials again (a rotated token): retried on the
  // usual backoff, not after the long wait of a permanent error.
  const bool long_wait = !w.error.retryable() && w.error.kind != k8s::error_kind::unauthorized;
  back_off(m, pw.region, r, long_wait, out);
  // One transient failure (a keep-alive connection that died while the cluster was away) is
  // retried quietly; a repeated or a permanent one is reported.
  if (w.error.retryable() && r.failures < 2) {
    r.last_error.clear();
    return;
  }
  report(m, "error/" + pw.region, r.last_error,
         {m.key, "Warning", "WriteFailed", fmt::format("region {}: {}", pw.region, r.last_error),
          pw.region},
         out);
}

void state_machine::back_off(multicasskop_state& m, const std::string& region, region_state& r,
                             bool long_wait, std::vector<command>& out) {
  ++r.failures;
  int64_t delay = options_.retry_initial_ms;
  for (int i = 1; i < r.failures && delay < options_.retry_max_ms; ++i) delay *= 2;
  if (long_wait) delay = options_.retry_max_ms;
  delay = std::min(delay, options_.retry_max_ms);
  r.retry_wait = true;
  r.retry_token = next_id();
  out.push_back(start_timer{m.key, region, r.retry_token, delay});
}

void state_machine::report(multicasskop_state& m, const std::string& topic,
                           const std::string& state, record_event e, std::vector<command>& out) {
  auto& last = m.reported[topic];
  if (last == state) return;  // one Event per change, not per decision
  const bool restored = last == restored_report;
  last = state;
  if (restored) return;  // recorded by a previous run (restart, leader change)
  if (m.object) e.uid = meta(*m.object, "uid");
  e.message = truncated(std::move(e.message));
  out.push_back(std::move(e));
}

void state_machine::plan(multicasskop_state& m, decision& d) const {
  auto& out = d.out;
  if (m.deleting) {
    plan_deletion(m, d);
  } else {
    // A finalizer only when we will have to clean up, as the original; and removed again
    // when deleteCassandraCluster is turned off (the original left it behind).
    if (!m.writing() && !m.retry_wait && m.spec.delete_cassandraclusters != m.has_finalizer &&
        (m.spec.base_valid() || !m.spec.delete_cassandraclusters)) {
      m.metadata_in_flight = d.next_id();
      d.pending.emplace_back(m.metadata_in_flight,
                             pending_write{m.key, "", pending_write::kind::mc_metadata});
      out.push_back(patch_multicasskop{m.metadata_in_flight, m.key,
                                       finalizers_patch(*m.object, m.spec.delete_cassandraclusters),
                                       false});
    }
    plan_rollout(m, d);
  }
  write_status(m, d);
}

void state_machine::plan_deletion(multicasskop_state& m, decision& d) const {
  auto& out = d.out;
  const int64_t now = now_;
  m.rolling_region.clear();
  if (!m.has_finalizer) return;  // nothing of ours holds it
  bool all_gone = true;
  if (m.spec.delete_cassandraclusters) {
    const auto owned = owned_.find(m.key);
    // Only the first region whose CassandraCluster this run never saw can have had a create on
    // its way when the previous run stopped (later ones waited for it).
    bool first_absent = true;
    for (const auto& cluster : clusters_) {
      auto& r = m.regions[cluster];
      if (!reachable(cluster)) {
        all_gone = false;
        const auto& h = health_of(cluster);
        r.phase = h.denied ? region_phase::access_denied : region_phase::unreachable;
        r.message = "cannot delete the CassandraCluster: " +
                    (h.error.empty() ? std::string("cluster unreachable") : h.error);
        continue;
      }
      // Everything we own there, whatever its name is now.
      const object_ptr* found = nullptr;
      if (owned != owned_.end())
        for (const auto& ref : owned->second)
          if (std::get<0>(ref) == cluster)
            found = observed(cluster, std::get<1>(ref), std::get<2>(ref));
      if (!found) {
        // A write still on its way (a create to a slow region) may yet land: not gone before
        // its answer says what happened.
        if (r.in_flight) {
          all_gone = false;
          r.phase = region_phase::deleting;
          r.message = "waiting for a write in flight before deleting";
          continue;
        }
        const bool deployable = m.spec.overrides.count(cluster) > 0;
        if (deployable && first_absent && !r.seen && !start_grace_over_ &&
            now < started_ms_ + options_.start_grace_ms) {
          first_absent = false;
          all_gone = false;
          r.phase = region_phase::deleting;
          r.message = fmt::format(
              "waiting until {} s after the operator started: a create its previous run sent may "
              "still land",
              options_.start_grace_ms / 1000);
          if (!m.grace_token) {
            m.grace_token = d.next_id();
            out.push_back(
                start_timer{m.key, "", m.grace_token, started_ms_ + options_.start_grace_ms - now});
          }
          continue;
        }
        if (deployable && !r.seen) first_absent = false;
        if (r.phase != region_phase::not_deployed || m.spec.overrides.count(cluster)) {
          r.phase = region_phase::deleted;
          r.message.clear();
        }
        continue;
      }
      all_gone = false;
      r.seen = true;
      r.phase = region_phase::deleting;
      r.message = is_deleting(**found) ? "waiting for the CassandraCluster's finalizers" : "";
      if (r.in_flight || r.retry_wait || is_deleting(**found)) continue;
      r.in_flight = d.next_id();
      d.pending.emplace_back(r.in_flight, pending_write{m.key, cluster, pending_write::kind::remove,
                                                        false, meta(**found, "uid")});
      out.push_back(delete_cassandracluster{r.in_flight, m.key, cluster, meta(**found, "namespace"),
                                            meta(**found, "name"), meta(**found, "uid")});
    }
  }
  if (all_gone && !m.writing() && !m.retry_wait) {
    m.metadata_in_flight = d.next_id();
    d.pending.emplace_back(m.metadata_in_flight,
                           pending_write{m.key, "", pending_write::kind::mc_metadata});
    out.push_back(
        patch_multicasskop{m.metadata_in_flight, m.key, finalizers_patch(*m.object, false), false});
  }
}

// spec.base.metadata.name changed while CassandraClusters of the old name are ours: creating
// the new one would start a second, empty Cassandra cluster beside the old one, which no one
// would delete. Refused with a condition until the old one is gone or the name is back.
bool state_machine::refuse_renamed_base(multicasskop_state& m, decision& d) const {
  auto& out = d.out;
  auto owned = owned_.find(m.key);
  if (owned == owned_.end()) return false;
  std::string old_name, regions;
  for (const auto& ref : owned->second) {
    if (std::get<1>(ref) == m.spec.cc_namespace && std::get<2>(ref) == m.spec.cc_name) continue;
    old_name = std::get<1>(ref) + "/" + std::get<2>(ref);
    regions += (regions.empty() ? "" : ", ") + std::get<0>(ref);
  }
  if (old_name.empty()) return false;
  const std::string message = fmt::format(
      "spec.base.metadata.name is now {} but CassandraCluster {} (regions {}) is still managed by "
      "this MultiCasskop: a new name would start a second, empty Cassandra cluster beside it. Set "
      "the old name back, or delete CassandraCluster {} in those regions (its data goes with it) "
      "to have {} created",
      m.spec.cc_name, old_name, regions, old_name, m.spec.cc_name);
  for (const auto& cluster : clusters_) {
    if (!m.spec.overrides.count(cluster)) continue;
    auto& r = m.regions[cluster];
    r.phase = region_phase::error;
    r.error_reason = "BaseRenamed";
    r.message = message;
  }
  report(m, "renamed", message, {m.key, "Warning", "BaseRenamed", message, ""}, out);
  return true;
}

// The seed list of region `cluster`: through /status where the CRD has that subresource, else
// in the object (guarded by its resourceVersion), as the original Multi-CassKop wrote it.
void state_machine::write_seedlist(multicasskop_state& m, const std::string& cluster,
                                   region_state& r, const object_ptr& cur,
                                   const std::vector<std::string>& seeds, decision& d) const {
  auto known = status_subresource_.find(cluster);
  const bool through_status = known != status_subresource_.end() && known->second;
  r.phase = region_phase::updating;
  r.message = "writing the seed list";
  r.in_flight = d.next_id();
  pending_write pw{m.key, cluster, pending_write::kind::seedlist};
  pw.seeds = seeds;
  pw.through_status = through_status;
  d.pending.emplace_back(r.in_flight, std::move(pw));
  d.out.push_back(patch_cassandracluster{
      r.in_flight, m.key, cluster, m.spec.cc_namespace, m.spec.cc_name,
      seedlist_patch(seeds, through_status ? nullptr : cur.get()), through_status});
}

// CassKop refused our last change of the region's spec and wrote its old values back
// (CorrectCRDConfig: v2.1.0 controllers/cassandracluster/reconcile.go:115-220, and our casskop
// alike): what we wrote is not what we read back. Reported (region Degraded, reason
// ChangeRefused, one Event per set of fields) until those fields hold what we wrote again: the
// user sets the old values back in the MultiCasskop (our next write then changes nothing
// CassKop refuses), or changes them to values CassKop takes. Nothing is written again meanwhile
// but what the MultiCasskop changes (update_patch writes only that): pushing the refused values
// again would be refused again, a write war with CassKop.
bool state_machine::change_refused(multicasskop_state& m, const std::string& cluster,
                                   region_state& r, const js::Value& cc,
                                   std::vector<command>& out) const {
  const auto reverted = fields_changed_since_our_write(cc);
  const bool correcting = js::get_string(cc, {"status", "lastClusterAction"}) == "CorrectCRDConfig";
  if (reverted.empty() || (!correcting && !r.change_refused)) {
    r.change_refused = false;
    m.reported.erase("refused/" + cluster);
    return false;
  }
  std::string fields;
  for (const auto& f : reverted) fields += (fields.empty() ? "" : "; ") + f;
  r.change_refused = true;
  r.phase = region_phase::degraded;
  r.error_reason = "ChangeRefused";
  r.message = fmt::format(
      "CassKop refused the change and wrote the previous values back ({}); set them back in "
      "spec.base or spec.override.{} (CassKop cannot change them on a running cluster); later "
      "regions wait",
      fields, cluster);
  report(m, "refused/" + cluster, fields,
         {m.key, "Warning", "ChangeRefused",
          fmt::format("region {}: CassKop refused the change of CassandraCluster {} and wrote the "
                      "previous values back: {}. Later regions are not updated until the "
                      "MultiCasskop is fixed",
                      cluster, m.spec.cc_name, fields),
          cluster},
         out);
  return true;
}

void state_machine::plan_rollout(multicasskop_state& m, decision& d) const {
  auto& out = d.out;
  m.rolling_region.clear();
  auto& spec = m.spec;
  for (auto& [name, r] : m.regions)
    if (std::find(clusters_.begin(), clusters_.end(), name) == clusters_.end())
      // Detached: a region it deploys to (an override names it) whose cluster a reload removed.
      r.phase = ever_configured_.count(name) && spec.overrides.count(name)
                    ? region_phase::detached
                    : region_phase::not_deployed;
  if (!spec.base_valid()) {
    for (const auto& p : spec.problems)
      report(m, "spec", p.message, {m.key, "Warning", p.reason, p.message, ""}, out);
    return;
  }
  for (const auto& p : unknown_regions(spec, clusters_, detached_regions(m)))
    report(m, "unknown/" + p.message, "1", {m.key, "Warning", p.reason, p.message, ""}, out);
  for (const auto& p : spec.problems)  // an override that is not an object
    report(m, "spec", p.message, {m.key, "Warning", p.reason, p.message, ""}, out);
  if (refuse_renamed_base(m, d)) return;
  m.reported.erase("renamed");

  // Seeds: given ones unchanged, else computed over every deployed region, else none.
  std::vector<std::string> seeds = spec.given_seedlist;
  if (seeds.empty() && !spec.seed_domain.empty()) {
    for (const auto& cluster : clusters_) {
      if (!spec.overrides.count(cluster)) continue;
      auto desired = desired_cassandracluster(spec, cluster, m.key);
      for (auto& s : seeds_of(spec.cc_name, desired["spec"], spec.seed_domain)) seeds.push_back(s);
    }
  }
  m.seedlist = seeds;

  // Nothing is created before our finalizer is on the object: a MultiCasskop deleted at once
  // would otherwise go without us, leaving what we created behind.
  const bool finalizer_missing = spec.delete_cassandraclusters && !m.has_finalizer;
  bool blocked = false;  // an earlier region is not Ready: later ones wait
  for (const auto& cluster : clusters_) {
    auto& r = m.regions[cluster];
    if (!spec.overrides.count(cluster)) {
      r.phase = region_phase::not_deployed;
      r.message.clear();
      continue;
    }
    if (blocked) {
      r.phase = region_phase::waiting;
      r.message = "waiting for " + m.rolling_region + " to be Ready";
      continue;
    }
    blocked = true;
    m.rolling_region = cluster;
    if (finalizer_missing) {
      r.phase = region_phase::waiting;
      r.message = "waiting for our finalizer on the MultiCasskop";
      continue;
    }
    if (!reachable(cluster)) {
      const auto& h = health_of(cluster);
      if (h.reachable || (h.error.empty() && !h.synced)) {
        // Connected (or connecting) and the first list is not in yet: nothing to report, and
        // nothing to decide before we know what exists there.
        r.phase = region_phase::waiting;
        r.message = "waiting for the first list of " + cluster;
        continue;
      }
      r.phase = h.denied ? region_phase::access_denied : region_phase::unreachable;
      r.message = h.error.empty() ? "cluster unreachable" : h.error;
      report(m, "reach/" + cluster, "down",
             h.denied
                 ? record_event{m.key, "Warning", "RegionAccessDenied",
                                fmt::format("region {}: the API server refuses our credentials or "
                                            "permissions: {}; check the cluster's token and Role",
                                            cluster, r.message),
                                cluster}
                 // The error says how it failed ("unreachable: ...", "timeout: ..."): said once.
                 : record_event{m.key, "Warning", "RegionUnreachable",
                                fmt::format("region {}: {}", cluster, r.message), cluster},
             out);
      continue;
    }
    m.reported.erase("reach/" + cluster);
    const object_ptr* cur = observed(cluster, spec.cc_namespace, spec.cc_name);
    const bool adoptable = cur && owner_of(**cur).empty() && spec.adopt;
    if (cur && !managed_by(**cur, m.key) && !adoptable) {
      r.phase = region_phase::error;
      r.error_reason = "ForeignCassandraCluster";
      std::string owner = owner_of(**cur);
      r.message = fmt::format(
          "CassandraCluster {}/{} already exists and is not managed by this "
          "MultiCasskop{}",
          spec.cc_namespace, spec.cc_name,
          owner.empty() ? " (to take over one the original Multi-CassKop created, annotate "
                          "the MultiCasskop multicasskop.db.orange.com/adopt=true)"
                        : " (it belongs to " + owner + ")");
      report(m, "foreign/" + cluster, r.message,
             {m.key, "Warning", "ForeignCassandraCluster", r.message, cluster}, out);
      continue;
    }
    m.reported.erase("foreign/" + cluster);
    if (cur) r.seen = true;
    if (r.in_flight) continue;  // phase set when the write was issued
    if (r.retry_wait || r.refused) {
      if (!r.last_error.empty()) {
        r.phase = region_phase::error;
        r.message = r.last_error;
      }
      continue;
    }
    auto desired = desired_cassandracluster(spec, cluster, m.key);
    auto& da = desired.GetAllocator();
    js::set_string(desired["metadata"]["annotations"], last_applied_annotation,
                   js::to_string(managed_part(desired)), da);
    // CassKop copies the spec into an annotation of its own: both must fit in the API server's
    // 256 KiB of annotations, or CassKop's writes of the object fail.
    const size_t spec_bytes = js::to_string(desired["spec"]).size();
    if (annotation_bytes(desired) + spec_bytes + 16 * 1024 > max_annotation_bytes) {
      r.phase = region_phase::error;
      r.error_reason = "TooLarge";
      r.message = fmt::format(
          "the CassandraCluster would carry {} KiB of annotations plus CassKop's {} KiB copy of "
          "its "
          "spec, over the API server's 256 KiB: make the spec or its annotations smaller",
          (annotation_bytes(desired) + 1023) / 1024, (spec_bytes + 1023) / 1024);
      report(m, "toolarge/" + cluster, r.message,
             {m.key, "Warning", "TooLarge", r.message, cluster}, out);
      continue;
    }
    m.reported.erase("toolarge/" + cluster);
    if (!cur) {
      // The seed list is in the object from its first version (kept where the CRD has no status
      // subresource, as CassKop's own): no CassKop ever sees it without one and founds a ring
      // of its own.
      if (!seeds.empty()) {
        js::Value status(rapidjson::kObjectType);
        status.AddMember("seedlist", string_list(seeds, da), da);
        desired.AddMember("status", status, da);
      }
      r.phase = region_phase::creating;
      r.message.clear();
      r.in_flight = d.next_id();
      d.pending.emplace_back(r.in_flight,
                             pending_write{m.key, cluster, pending_write::kind::create, true});
      out.push_back(create_cassandracluster{
          r.in_flight, m.key, cluster, std::make_shared<const js::Document>(std::move(desired))});
      continue;
    }
    if (is_deleting(**cur)) {
      r.phase = region_phase::waiting;
      r.message = "the CassandraCluster is being deleted; it will be created again once gone";
      continue;
    }
    std::string patch = update_patch(**cur, desired);
    if (!patch.empty()) {
      r.phase = region_phase::updating;
      r.message = adoptable || owner_of(**cur).empty() ? "taking it over" : "";
      r.in_flight = d.next_id();
      d.pending.emplace_back(r.in_flight, pending_write{m.key, cluster, pending_write::kind::update,
                                                        patch_changes_spec(patch)});
      out.push_back(patch_cassandracluster{r.in_flight, m.key, cluster, spec.cc_namespace,
                                           spec.cc_name, patch, false});
      continue;
    }
    if (!seeds.empty() && seedlist_of(**cur) != seeds) {
      write_seedlist(m, cluster, r, *cur, seeds, d);
      continue;
    }
    if (change_refused(m, cluster, r, **cur, out)) continue;  // later regions wait
    if (r.awaiting_ready && r.settle_token == 0) {  // restored after a restart: its own settle time
      r.settle_token = d.next_id();
      out.push_back(start_timer{m.key, cluster, r.settle_token, options_.legacy_settle_ms});
    }
    if (!cassandracluster_ready(**cur, r)) {
      // Creating until CassKop has brought it up once (its own phase Initializing, or no status
      // yet); the generation cannot tell, CassKop's status writes bump it where the CRD has no
      // status subresource.
      const auto cassandra_phase = js::get_string(**cur, {"status", "phase"});
      r.phase = cassandra_phase.empty() || cassandra_phase == "Initializing"
                    ? region_phase::creating
                    : region_phase::updating;
      const bool reconciling = running_and_done(**cur);  // Running/Done, not for this spec yet
      r.message = reconciling
                      ? "waiting for CassKop to take in the current spec"
                      : fmt::format("waiting for CassKop: phase={} action={} status={}",
                                    js::get_string(**cur, {"status", "phase"}),
                                    js::get_string(**cur, {"status", "lastClusterAction"}),
                                    js::get_string(**cur, {"status", "lastClusterActionStatus"}));
      // Ready for the spec of our last write before, and no longer, without a write of ours:
      // said once, and RegionReady again once it is back. (Our writes, not the object's
      // generation, tell: CassKop's own status writes bump that where status is no subresource.)
      // A flapping region is rate limited when its Events are recorded
      // (actors/event_correlator.h), not here.
      const auto gen = std::to_string(r.written_generation);
      if (auto was = m.reported.find("ready/" + cluster);
          !reconciling && was != m.reported.end() && was->second == gen)
        report(m, "ready/" + cluster, "lost " + gen,
               {m.key, "Warning", "RegionNotReady",
                fmt::format("CassandraCluster {} in region {} is no longer Ready: {}", spec.cc_name,
                            cluster, r.message),
                cluster},
               out);
      continue;
    }
    if (r.awaiting_ready) {
      r.awaiting_ready = false;
      r.saw_not_ready = false;
    }
    r.phase = region_phase::ready;
    r.message.clear();
    report(m, "ready/" + cluster, std::to_string(r.written_generation),
           {m.key, "Normal", "RegionReady",
            fmt::format("CassandraCluster {} in region {} is Running", spec.cc_name, cluster),
            cluster},
           out);
    m.rolling_region.clear();
    blocked = false;
  }
}

void state_machine::write_status(multicasskop_state& m, decision& d) const {
  const int64_t now = now_;
  if (m.writing() || m.retry_wait || !m.object) return;
  // Until every region's cluster has been heard of (after a restart), what we would write is a
  // guess: a Ready MultiCasskop would flap to Waiting and back.
  for (const auto& cluster : clusters_)
    if (m.spec.overrides.count(cluster) && !heard_of(cluster)) return;
  // Conditions, from the regions and the spec's problems.
  std::vector<spec_problem> problems = m.spec.problems;
  std::vector<spec_problem> unknown;
  if (m.spec.base_valid()) unknown = unknown_regions(m.spec, clusters_, detached_regions(m));
  for (auto& p : unknown) problems.push_back(p);
  size_t deployed = 0, ready = 0;
  std::string not_ready;
  std::string renamed;
  for (const auto& cluster : clusters_) {
    if (!m.spec.overrides.count(cluster)) continue;
    ++deployed;
    const auto& r = m.regions[cluster];
    if (r.phase == region_phase::ready)
      ++ready;
    else if (not_ready.empty())
      not_ready = cluster;
    if (r.phase == region_phase::unreachable)
      problems.push_back({"RegionUnreachable", "region " + cluster + ": " + r.message});
    else if (r.phase == region_phase::access_denied)
      problems.push_back({"RegionAccessDenied", "region " + cluster + ": " + r.message});
    else if (r.phase == region_phase::error && r.error_reason == "BaseRenamed")
      renamed = r.message;
    else if (r.phase == region_phase::error || r.phase == region_phase::degraded)
      problems.push_back({r.error_reason, "region " + cluster + ": " + r.message});
  }
  if (!renamed.empty()) problems.insert(problems.begin(), {"BaseRenamed", renamed});
  for (const auto& [name, r] : m.regions)
    if (r.phase == region_phase::detached)
      problems.push_back({"RegionDetached", "region " + name +
                                                " was removed from the configuration; its "
                                                "CassandraCluster is left alone"});
  // Problems that keep it from being Ready although every deployed region is.
  const spec_problem* blocking = nullptr;
  for (const auto& p : problems)
    if (!blocking &&
        (p.reason == "UnknownRegion" || p.reason == "InvalidOverride" || p.reason == "BaseRenamed"))
      blocking = &p;

  std::vector<condition> conds;
  if (m.deleting) {
    conds.push_back({"Ready", "False", "Deleting", "the MultiCasskop is being deleted", ""});
    conds.push_back({"Progressing", "True", "Deleting", "deleting CassandraClusters", ""});
  } else if (!m.spec.base_valid()) {
    conds.push_back(
        {"Ready", "False", "InvalidSpec", problems.empty() ? "" : problems[0].message, ""});
    conds.push_back({"Progressing", "False", "InvalidSpec", "fix the spec to continue", ""});
  } else if (!renamed.empty()) {
    conds.push_back({"Ready", "False", "BaseRenamed", renamed, ""});
    conds.push_back(
        {"Progressing", "False", "BaseRenamed", "nothing is written until this is resolved", ""});
  } else if (deployed == 0) {
    conds.push_back(
        {"Ready", "False", blocking ? blocking->reason : "NoRegions",
         blocking ? blocking->message : "spec.override names none of the configured clusters", ""});
    conds.push_back({"Progressing", "False", "Idle", "", ""});
  } else if (ready == deployed) {
    if (blocking)
      conds.push_back(
          {"Ready", "False", blocking->reason,
           fmt::format("{} of {} regions Ready, but {}", ready, deployed, blocking->message), ""});
    else
      conds.push_back({"Ready", "True", "AllRegionsReady",
                       fmt::format("{} of {} regions Ready", ready, deployed), ""});
    conds.push_back({"Progressing", "False", "Idle", "", ""});
  } else {
    const auto& r = m.regions[m.rolling_region.empty() ? not_ready : m.rolling_region];
    conds.push_back({"Ready", "False", "RegionsNotReady",
                     fmt::format("{} of {} regions Ready", ready, deployed), ""});
    if (r.phase == region_phase::degraded)  // nothing moves until the MultiCasskop changes
      conds.push_back(
          {"Progressing", "False", r.error_reason,
           fmt::format("region {}: {}", m.rolling_region.empty() ? not_ready : m.rolling_region,
                       r.message),
           ""});
    else
      conds.push_back(
          {"Progressing", "True", "RollingRegion",
           fmt::format("region {}: {}{}", m.rolling_region.empty() ? not_ready : m.rolling_region,
                       to_string(r.phase), r.message.empty() ? "" : " (" + r.message + ")"),
           ""});
  }
  if (problems.empty())
    conds.push_back({"Degraded", "False", "AsExpected", "", ""});
  else
    conds.push_back({"Degraded", "True", problems[0].reason, problems[0].message, ""});
  for (auto& c : conds) {
    c.message = truncated(std::move(c.message));
    auto prev = std::find_if(m.conditions.begin(), m.conditions.end(),
                             [&](const condition& p) { return p.type == c.type; });
    c.last_transition = prev != m.conditions.end() && prev->status == c.status
                            ? prev->last_transition
                            : k8s::format_time(k8s::from_unix_ms(now));
  }
  m.conditions = conds;

  js::Document st(rapidjson::kObjectType);
  auto& a = st.GetAllocator();
  js::Value status(rapidjson::kObjectType);
  status.AddMember("observedGeneration", js::Value(static_cast<int64_t>(m.generation)), a);
  status.AddMember("rollingRegion", js::string_value(m.rolling_region, a), a);
  status.AddMember("seedlist", string_list(m.seedlist, a), a);
  js::Value regions(rapidjson::kArrayType);
  std::vector<std::string> names = clusters_;
  for (const auto& [name, r] : m.regions)
    if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
  for (const auto& name : names) {
    const auto& r = m.regions[name];
    js::Value e(rapidjson::kObjectType);
    e.AddMember("name", js::string_value(name, a), a);
    e.AddMember("phase", js::string_value(to_string(r.phase), a), a);
    const object_ptr* cur =
        m.spec.base_valid() ? observed(name, m.spec.cc_namespace, m.spec.cc_name) : nullptr;
    if (cur && managed_by(**cur, m.key)) {
      e.AddMember("cassandraPhase", js::string_value(js::get_string(**cur, {"status", "phase"}), a),
                  a);
      e.AddMember("lastClusterAction",
                  js::string_value(js::get_string(**cur, {"status", "lastClusterAction"}), a), a);
      e.AddMember("lastClusterActionStatus",
                  js::string_value(js::get_string(**cur, {"status", "lastClusterActionStatus"}), a),
                  a);
    }
    if (r.phase == region_phase::degraded)
      e.AddMember("reason", js::string_value(r.error_reason, a), a);
    e.AddMember("reachable", reachable(name), a);
    if (!r.message.empty()) e.AddMember("message", js::string_value(truncated(r.message), a), a);
    if (r.written_generation) e.AddMember("writtenGeneration", js::Value(r.written_generation), a);
    if (r.awaiting_ready) e.AddMember("awaitingReady", true, a);
    regions.PushBack(e, a);
  }
  status.AddMember("regions", regions, a);
  js::Value conditions(rapidjson::kArrayType);
  for (const auto& c : conds) {
    js::Value e(rapidjson::kObjectType);
    e.AddMember("type", js::string_value(c.type, a), a);
    e.AddMember("status", js::string_value(c.status, a), a);
    e.AddMember("reason", js::string_value(c.reason, a), a);
    e.AddMember("message", js::string_value(c.message, a), a);
    e.AddMember("lastTransitionTime", js::string_value(c.last_transition, a), a);
    e.AddMember("observedGeneration", js::Value(static_cast<int64_t>(m.generation)), a);
    conditions.PushBack(e, a);
  }
  status.AddMember("conditions", conditions, a);
  st.AddMember("status", status, a);
  std::string json = js::to_string(st);
  const text_digest digest = text_digest::of(json);
  if (digest == m.written_status) return;
  // The object already carries exactly this status (after a restart): nothing to write. Only
  // for our first status: later the object we hold may be older than our own last write.
  if (!m.status_compared) {
    m.status_compared = true;
    const text_digest current = status_digest(*m.object);
    if (!current.empty() && current == text_digest::of(js::canonical_text(st["status"]))) {
      m.written_status = digest;
      return;
    }
  }
  m.written_status = digest;
  m.status_in_flight = d.next_id();
  d.pending.emplace_back(m.status_in_flight,
                         pending_write{m.key, "", pending_write::kind::mc_status});
  d.out.push_back(patch_multicasskop{m.status_in_flight, m.key, json, true});
}

}  // namespace mc
