#include "tests/unit/multicasskop_world.h"

#include <doctest/doctest.h>

#include "actors/multicasskop/logic/cache_trim.h"
#include "actors/multicasskop/logic/journal.h"
#include "k8s/json/json_patch.h"

#include <algorithm>
#include <climits>
#include <cstdio>
#include <cstdlib>

namespace testworld {

namespace {

using k8s::json::copy_of;

mc::object_ptr share(const js::Value& v) {
  return std::make_shared<const js::Document>(copy_of(v));
}
// As the watchers and writers keep a CassandraCluster (actors/multicasskop/logic/cache_trim.h).
mc::object_ptr cached(const js::Value& cc) {
  return mc::trim_for_cache(share(cc), mc::watched_kind::cassandracluster);
}

bool spec_differs(const js::Value& a, const js::Value& b) {
  const js::Value* sa = js::find(a, "spec");
  const js::Value* sb = js::find(b, "spec");
  if (!sa || !sb) return sa != sb;
  return *sa != *sb;
}

}  // namespace

fake_world::fake_world(std::vector<std::string> clusters, mc::machine_options o)
    : options_(o), sm_(o), clusters_(std::move(clusters)) {
  deliver(mc::clusters_configured{clusters_});
  for (const auto& c : clusters_) deliver(mc::cluster_health{c, true, true, ""});
}

void fake_world::deliver(mc::event_body b) {
  if (auto* w = std::get_if<mc::write_done>(&b)) mc_writes_.erase(w->command_id);
  mc::event e{++seq_, now, std::move(b)};
  now += 10;
  static const bool trace = std::getenv("WORLD_TRACE") != nullptr;
  if (trace) fprintf(stderr, "%s\n", mc::summarize_event(e).c_str());
  // The supervisor's loop: fold the event, decide, fold the issuance of each command, carry it
  // out. Deciding changes nothing, and nothing issued is decided again.
  journal.push_back(e);
  sm_.evolve(e);
  const auto commands = sm_.decide();
  auto summaries = [](const std::vector<mc::command>& cs) {
    std::vector<std::string> out;
    for (const auto& c : cs) out.push_back(mc::summarize_command(c));
    return out;
  };
  CHECK_MESSAGE(summaries(sm_.decide()) == summaries(commands), "decide() twice differs");
  for (const auto& c : commands) {
    mc::event issued{++seq_, e.at_ms, mc::issuance_of(c)};
    journal.push_back(issued);
    sm_.evolve(issued);
  }
  CHECK_MESSAGE(sm_.decide().empty(), "decide() repeats issued commands");
  for (const auto& c : commands) {
    if (trace) fprintf(stderr, "  -> %s\n", mc::summarize_command(c).c_str());
    issued_.push_back(c);
    if (before_write) before_write(*this, c);
    execute(c);
  }
}

void fake_world::queue_cc(const std::string& cluster, const js::Value* obj, const std::string& ns,
                          const std::string& name) {
  if (obj)
    queues_["cc/" + cluster].push_back(mc::cassandracluster_seen{cluster, cached(*obj)});
  else
    queues_["cc/" + cluster].push_back(mc::cassandracluster_gone{cluster, ns, name});
}

void fake_world::queue_mc() {
  if (mc_exists_)
    queues_["mc"].push_back(mc::multicasskop_seen{share(mc_)});
  else
    queues_["mc"].push_back(mc::multicasskop_gone{{"ns", "mcc"}});
}

void fake_world::done(uint64_t id, const js::Value* obj, k8s::error_kind err, bool ok,
                      const std::string& cluster) {
  mc::write_done w;
  w.command_id = id;
  w.ok = ok;
  if (!ok) {
    w.error.kind = err;
    w.error.message = "fake failure";
  }
  if (obj) {
    const bool is_cc = js::get_string(*obj, "kind") == "CassandraCluster";
    w.object = is_cc ? cached(*obj) : share(*obj);
  }
  queues_["writes/" + cluster].push_back(std::move(w));
}

void fake_world::set_multicasskop(const std::string& spec_json) {
  if (!mc_exists_) {
    mc_ = js::parse(
        R"({"apiVersion":"db.orange.com/v2","kind":"MultiCasskop","metadata":{"name":"mcc","namespace":"ns","uid":"mc-uid","generation":0}})");
    mc_exists_ = true;
  }
  auto& a = mc_.GetAllocator();
  js::Document spec = js::parse(spec_json);
  js::set_member(mc_, "spec", js::Value(spec, a), a);
  auto& meta = mc_["metadata"];
  js::set_member(meta, "generation", js::Value(js::get_int(mc_, {"metadata", "generation"}, 0) + 1),
                 a);
  js::set_string(meta, "resourceVersion", next_rv(), a);
  queue_mc();
}

void fake_world::annotate_multicasskop(const std::string& key, const std::string& value) {
  auto& a = mc_.GetAllocator();
  js::set_string(js::ensure_object(mc_["metadata"], "annotations", a), key, value, a);
  js::set_string(mc_["metadata"], "resourceVersion", next_rv(), a);
  queue_mc();
}

void fake_world::delete_multicasskop() {
  auto& a = mc_.GetAllocator();
  js::set_string(mc_["metadata"], "deletionTimestamp", "2026-01-01T00:00:00Z", a);
  js::set_string(mc_["metadata"], "resourceVersion", next_rv(), a);
  if (!js::find_path(mc_, {"metadata", "finalizers"}) || mc_["metadata"]["finalizers"].Empty()) {
    mc_exists_ = false;
  }
  queue_mc();
}

// CassKop writing a status: with its record of the spec in CassKop v2.1.0's way, bumping the
// generation where the CRD has no status subresource (our observedGeneration CassKop is modelled
// as writing through /status).
void fake_world::casskop_writes(const std::string& cluster, const char* phase,
                                const char* action_status) {
  for (auto& [k, d] : ccs_) {
    if (std::get<0>(k) != cluster) continue;
    auto& a = d.GetAllocator();
    auto& st = js::ensure_object(d, "status", a);
    js::set_string(st, "phase", phase, a);
    js::set_string(st, "lastClusterAction", "Initializing", a);
    js::set_string(st, "lastClusterActionStatus", action_status, a);
    if (legacy_casskop == 0 && std::string_view(action_status) == "Done")
      js::set_member(st, "observedGeneration",
                     js::Value(js::get_int(d, {"metadata", "generation"}, 0)), a);
    if (legacy_casskop == 2) {
      js::Document record(rapidjson::kObjectType);
      record.AddMember("spec", js::Value(d["spec"], record.GetAllocator()), record.GetAllocator());
      js::set_string(js::ensure_object(d["metadata"], "annotations", a), mc::casskop_last_applied,
                     js::to_string(record), a);
      if (!status_subresource)
        js::set_member(d["metadata"], "generation",
                       js::Value(js::get_int(d, {"metadata", "generation"}, 0) + 1), a);
    }
    if (std::string_view(action_status) == "Done") done_spec_[cluster] = js::to_string(d["spec"]);
    js::set_string(d["metadata"], "resourceVersion", next_rv(), a);
    queue_cc(cluster, &d, "", "");
  }
}

void fake_world::casskop_done(const std::string& cluster) {
  casskop_writes(cluster, "Running", "Done");
}

bool fake_world::casskop_corrects(const std::string& cluster) {
  auto done = done_spec_.find(cluster);
  if (refused_fields.empty() || done == done_spec_.end()) return false;
  const js::Document accepted = js::parse(done->second);
  bool wrote = false;
  for (auto& [k, d] : ccs_) {
    if (std::get<0>(k) != cluster || !js::find(d, "spec")) continue;
    auto& a = d.GetAllocator();
    bool changed = false;
    for (const auto& f : refused_fields) {
      const js::Value* was = js::find(accepted, f);
      const js::Value* now = js::find(d["spec"], f);
      if (!was && !now) continue;
      if (was && now && *was == *now) continue;
      changed = true;
      if (was)
        js::set_member(d["spec"], f, js::Value(*was, a), a);
      else
        js::remove_member(d["spec"], f);
    }
    if (!changed) continue;
    wrote = true;
    // One write of spec and status (CassKop v2.1.0's plain update): the generation moves once.
    const int64_t generation = js::get_int(d, {"metadata", "generation"}, 0) + 1;
    js::set_member(d["metadata"], "generation", js::Value(generation), a);
    auto& st = js::ensure_object(d, "status", a);
    js::set_string(st, "phase", "Running", a);
    js::set_string(st, "lastClusterAction", "CorrectCRDConfig", a);
    js::set_string(st, "lastClusterActionStatus", "Done", a);
    if (legacy_casskop == 0) js::set_member(st, "observedGeneration", js::Value(generation), a);
    if (legacy_casskop == 2) {
      js::Document record(rapidjson::kObjectType);
      record.AddMember("spec", js::Value(d["spec"], record.GetAllocator()), record.GetAllocator());
      js::set_string(js::ensure_object(d["metadata"], "annotations", a), mc::casskop_last_applied,
                     js::to_string(record), a);
    }
    js::set_string(d["metadata"], "resourceVersion", next_rv(), a);
    queue_cc(cluster, &d, "", "");
  }
  return wrote;
}

void fake_world::casskop_ongoing(const std::string& cluster) {
  casskop_writes(cluster, "Initializing", "Ongoing");
}

void fake_world::set_reachable(const std::string& cluster, bool reachable) {
  down_[cluster] = !reachable;
  queues_["health/" + cluster].push_back(
      mc::cluster_health{cluster, reachable, reachable, reachable ? "" : "connection refused"});
}

void fake_world::restart_operator() {
  ++run_;
  sm_ = mc::state_machine(options_);
  queues_.clear();
  timers_due_.clear();
  mc_writes_.clear();
  deliver(mc::clusters_configured{clusters_});
  // A watcher sends its list's objects before it reports the cluster synced.
  for (const auto& c : clusters_) {
    for (auto& [k, d] : ccs_)
      if (std::get<0>(k) == c) queue_cc(c, &d, "", "");
    queues_["cc/" + c].push_back(
        mc::cluster_health{c, !down_[c], !down_[c], down_[c] ? "connection refused" : ""});
  }
  if (mc_exists_) queue_mc();
}

void fake_world::delete_cassandracluster_in(const std::string& cluster, const std::string& name) {
  if (ccs_.erase({cluster, "ns", name})) queue_cc(cluster, nullptr, "ns", name);
}

void fake_world::put_foreign_cassandracluster(const std::string& cluster, const std::string& name) {
  auto d = js::parse(
      R"({"apiVersion":"db.orange.com/v2","kind":"CassandraCluster","metadata":{"namespace":"ns","name":")" +
      name + R"(","uid":"foreign","generation":1,"resourceVersion":")" + next_rv() +
      R"("},"spec":{}})");
  auto& slot = ccs_[{cluster, "ns", name}];
  slot = std::move(d);
  queue_cc(cluster, &slot, "", "");
}

void fake_world::execute(const mc::command& c) {
  const std::string* cluster = std::visit(
      [](const auto& cmd) -> const std::string* {
        using T = std::decay_t<decltype(cmd)>;
        if constexpr (std::is_same_v<T, mc::create_cassandracluster> ||
                      std::is_same_v<T, mc::patch_cassandracluster> ||
                      std::is_same_v<T, mc::delete_cassandracluster>)
          return &cmd.cluster;
        else
          return nullptr;
      },
      c);
  if (cluster && slow_links.count(*cluster)) {
    in_transit_[*cluster].push_back({c, run_, now + max_transit_ms});
    return;
  }
  land(c, run_);
}

void fake_world::land(const mc::command& c, int run) {
  std::visit(
      [&](const auto& cmd) {
        using T = std::decay_t<decltype(cmd)>;
        if constexpr (std::is_same_v<T, mc::create_cassandracluster>) {
          if (down_[cmd.cluster])
            return done(cmd.id, nullptr, k8s::error_kind::unreachable, false, cmd.cluster);
          if (auto r = refused_.find(cmd.cluster);
              r != refused_.end() && r->second != k8s::error_kind::other)
            return done(cmd.id, nullptr, r->second, false, cmd.cluster);
          key k{cmd.cluster, std::string(js::get_string(*cmd.object, {"metadata", "namespace"})),
                std::string(js::get_string(*cmd.object, {"metadata", "name"}))};
          if (ccs_.count(k)) {
            // A run creating what it created itself is a bug; a run creating what a previous
            // (killed) run's late create made is not: the API server refuses it.
            if (created_by_run_[k] == run)
              violations.push_back("create of an existing CassandraCluster in " + cmd.cluster);
            return done(cmd.id, nullptr, k8s::error_kind::already_exists, false, cmd.cluster);
          }
          created_by_run_[k] = run;
          js::Document d = copy_of(*cmd.object);
          auto& a = d.GetAllocator();
          if (status_subresource) js::remove_member(d, "status");  // create drops it
          js::set_string(d["metadata"], "uid", "uid-" + cmd.cluster + "-" + next_rv(), a);
          js::set_member(d["metadata"], "generation", js::Value(1), a);
          js::set_string(d["metadata"], "resourceVersion", next_rv(), a);
          auto& slot = ccs_[k];
          slot = std::move(d);
          done(cmd.id, &slot, k8s::error_kind::other, true, cmd.cluster);
          queue_cc(cmd.cluster, &slot, "", "");
          if (auto_casskop) casskop_done(cmd.cluster);
        } else if constexpr (std::is_same_v<T, mc::patch_cassandracluster>) {
          if (down_[cmd.cluster])
            return done(cmd.id, nullptr, k8s::error_kind::unreachable, false, cmd.cluster);
          if (auto r = refused_.find(cmd.cluster);
              r != refused_.end() && r->second != k8s::error_kind::other)
            return done(cmd.id, nullptr, r->second, false, cmd.cluster);
          auto it = ccs_.find({cmd.cluster, cmd.ns, cmd.name});
          if (it == ccs_.end())
            return done(cmd.id, nullptr, k8s::error_kind::not_found, false, cmd.cluster);
          auto& d = it->second;
          auto patch = js::parse(cmd.merge_patch);
          auto rv = js::get_string(patch, {"metadata", "resourceVersion"});
          if (!rv.empty() && rv != js::get_string(d, {"metadata", "resourceVersion"}))
            return done(cmd.id, nullptr, k8s::error_kind::conflict, false, cmd.cluster);
          js::Document next = copy_of(d);
          auto& a = next.GetAllocator();
          if (cmd.status) {
            if (!status_subresource)
              return done(cmd.id, nullptr, k8s::error_kind::not_found, false, cmd.cluster);
            if (const js::Value* st = js::find(patch, "status")) {
              js::Document sp(rapidjson::kObjectType);
              js::set_member(sp, "status", js::Value(*st, sp.GetAllocator()), sp.GetAllocator());
              js::apply_merge_patch(next, sp, a);
            }
          } else {
            if (status_subresource) js::remove_member(patch, "status");  // ignored there
            js::apply_merge_patch(next, patch, a);
            const js::Value* st_before = js::find(d, "status");
            const js::Value* st_after = js::find(next, "status");
            const bool status_changed =
                !status_subresource && (st_before == nullptr) != (st_after == nullptr);
            if (spec_differs(d, next) || status_changed ||
                (!status_subresource && st_before && st_after && *st_before != *st_after))
              js::set_member(next["metadata"], "generation",
                             js::Value(js::get_int(d, {"metadata", "generation"}, 0) + 1), a);
          }
          js::set_string(next["metadata"], "resourceVersion", next_rv(), a);
          d = std::move(next);
          done(cmd.id, &d, k8s::error_kind::other, true, cmd.cluster);
          queue_cc(cmd.cluster, &d, "", "");
          if (auto_casskop && !cmd.status && !casskop_corrects(cmd.cluster))
            casskop_done(cmd.cluster);
        } else if constexpr (std::is_same_v<T, mc::delete_cassandracluster>) {
          if (down_[cmd.cluster])
            return done(cmd.id, nullptr, k8s::error_kind::unreachable, false, cmd.cluster);
          auto it = ccs_.find({cmd.cluster, cmd.ns, cmd.name});
          if (it == ccs_.end())
            return done(cmd.id, nullptr, k8s::error_kind::not_found, false, cmd.cluster);
          if (js::get_string(it->second, {"metadata", "uid"}) != cmd.uid)
            return done(cmd.id, nullptr, k8s::error_kind::conflict, false, cmd.cluster);
          ccs_.erase(it);
          done(cmd.id, nullptr, k8s::error_kind::other, true, cmd.cluster);
          queue_cc(cmd.cluster, nullptr, cmd.ns, cmd.name);
        } else if constexpr (std::is_same_v<T, mc::patch_multicasskop>) {
          if (!mc_writes_.empty())
            violations.push_back("a write to the MultiCasskop while another is in flight");
          mc_writes_.insert(cmd.id);
          if (!mc_exists_) return done(cmd.id, nullptr, k8s::error_kind::not_found, false);
          auto patch = js::parse(cmd.merge_patch);
          auto rv = js::get_string(patch, {"metadata", "resourceVersion"});
          if (!rv.empty() && rv != js::get_string(mc_, {"metadata", "resourceVersion"}))
            return done(cmd.id, nullptr, k8s::error_kind::conflict, false);
          auto& a = mc_.GetAllocator();
          if (cmd.status) {
            js::set_member(mc_, "status", js::Value(patch["status"], a), a);
          } else {
            js::apply_merge_patch(mc_, patch, a);
          }
          js::set_string(mc_["metadata"], "resourceVersion", next_rv(), a);
          // Finalizers gone while deleting: the object disappears.
          if (js::find_path(mc_, {"metadata", "deletionTimestamp"}) &&
              (!js::find_path(mc_, {"metadata", "finalizers"}) ||
               mc_["metadata"]["finalizers"].Empty()))
            mc_exists_ = false;
          done(cmd.id, mc_exists_ ? &mc_ : nullptr);
          queue_mc();
        } else if constexpr (std::is_same_v<T, mc::start_timer>) {
          timers_due_.emplace_back(now + cmd.delay_ms,
                                   mc::timer_fired{cmd.key, cmd.cluster, cmd.token});
        }
      },
      c);
}

bool fake_world::step(std::mt19937* rng) {
  // A write on its way past its deadline lands first, held or not.
  for (auto& [cluster, q] : in_transit_)
    if (!q.empty() && q.front().lands_by <= now) {
      auto t = std::move(q.front());
      q.pop_front();
      land(t.command, t.run);
      return true;
    }
  std::vector<std::string> sources;
  for (auto& [name, q] : queues_)
    if (!q.empty() && !held.count(name)) sources.push_back(name);
  for (auto& [cluster, q] : in_transit_)
    if (!q.empty() && !held.count("transit/" + cluster)) sources.push_back("transit/" + cluster);
  const bool timer_due = !hold_timers && std::any_of(timers_due_.begin(), timers_due_.end(),
                                                     [&](const auto& t) { return t.first <= now; });
  if (timer_due) sources.push_back("timer");
  if (sources.empty()) {
    if (!advance_time) return false;
    // Nothing to deliver now: time moves to the next timer or transit deadline, if any.
    int64_t next = INT64_MAX;
    if (!hold_timers)
      for (const auto& t : timers_due_) next = std::min(next, t.first);
    for (const auto& [cluster, q] : in_transit_)
      if (!q.empty()) next = std::min(next, q.front().lands_by);
    if (next == INT64_MAX) return false;
    now = std::max(now, next);
    return step(rng);
  }
  std::string pick = sources.front();
  if (rng) pick = sources[std::uniform_int_distribution<size_t>(0, sources.size() - 1)(*rng)];
  if (pick == "timer") {
    auto it = std::find_if(timers_due_.begin(), timers_due_.end(),
                           [&](const auto& t) { return t.first <= now; });
    auto fired = it->second;
    timers_due_.erase(it);
    deliver(fired);
    return true;
  }
  if (pick.rfind("transit/", 0) == 0) {  // a write reaches its API server
    auto& q = in_transit_[pick.substr(8)];
    auto t = std::move(q.front());
    q.pop_front();
    land(t.command, t.run);
    return true;
  }
  auto b = std::move(queues_[pick].front());
  queues_[pick].pop_front();
  deliver(std::move(b));
  return true;
}

void fake_world::run(std::mt19937* rng, int max_steps) {
  for (int i = 0; i < max_steps && step(rng); ++i) {
  }
}

const js::Value* fake_world::cc(const std::string& cluster) const {
  for (const auto& [k, d] : ccs_)
    if (std::get<0>(k) == cluster) return &d;
  return nullptr;
}

std::string fake_world::condition(const std::string& type) const {
  if (!mc_exists_) return "";
  if (const js::Value* conds = js::find_path(mc_, {"status", "conditions"});
      conds && conds->IsArray())
    for (const auto& c : conds->GetArray())
      if (js::get_string(c, "type") == type) return std::string(js::get_string(c, "status"));
  return "";
}

std::string condition_field(const fake_world& w, const std::string& type, const char* field) {
  const js::Value* mcc = w.multicasskop();
  if (!mcc) return "";
  if (const js::Value* conds = js::find_path(*mcc, {"status", "conditions"});
      conds && conds->IsArray())
    for (const auto& c : conds->GetArray())
      if (js::get_string(c, "type") == type) return std::string(js::get_string(c, field));
  return "";
}

std::vector<std::string> fake_world::creates() const {
  std::vector<std::string> out;
  for (const auto& c : issued_)
    if (auto* cr = std::get_if<mc::create_cassandracluster>(&c)) out.push_back(cr->cluster);
  return out;
}

bool fake_world::truly_ready(const std::string& cluster) const {
  const js::Value* d = cc(cluster);
  if (!d || !mc_exists_) return false;
  // CassKop has finished (Running/Done) the spec the object has now. A later spontaneous
  // Ongoing (a pod restart) does not undo that the region was released correctly, so the
  // current phase is not checked.
  auto done = done_spec_.find(cluster);
  if (done == done_spec_.end() || done->second != js::to_string((*d)["spec"])) return false;
  // ...and that spec is what the MultiCasskop asks for, in the latest version the operator
  // has been told about (a newer one may still be on its way to it).
  auto seen = sm_.multicasskops().find({"ns", "mcc"});
  if (seen == sm_.multicasskops().end() || !seen->second.object) return false;
  // Its parse (the object kept may be the answer to a status write, without the spec).
  const auto& spec = seen->second.spec;
  if (!spec.base_valid()) return false;
  auto desired = mc::desired_cassandracluster(spec, cluster, {"ns", "mcc"});
  return desired["spec"] == (*d)["spec"];
}

}  // namespace testworld
