#include "tests/unit/multicasskop_world.h"

#include "k8s/json_patch.h"

namespace testworld {

namespace {

using k8s::json::copy_of;


mc::object_ptr share(const js::Value& v) { return std::make_shared<const js::Document>(copy_of(v)); }

bool spec_differs(const js::Value& a, const js::Value& b) {
  const js::Value* sa = js::find(a, "spec");
  const js::Value* sb = js::find(b, "spec");
  if (!sa || !sb) return sa != sb;
  return *sa != *sb;
}

}  // namespace

fake_world::fake_world(std::vector<std::string> clusters, mc::machine_options o)
    : sm_(o), clusters_(std::move(clusters)) {
  deliver(mc::clusters_configured{clusters_});
  for (const auto& c : clusters_) deliver(mc::cluster_health{c, true, true, ""});
}

void fake_world::deliver(mc::event_body b) {
  mc::event e{++seq_, now, std::move(b)};
  now += 10;
  for (const auto& c : sm_.apply(e)) {
    issued_.push_back(c);
    if (before_write) before_write(*this, c);
    execute(c);
  }
}

void fake_world::queue_cc(const std::string& cluster, const js::Value* obj, const std::string& ns,
                          const std::string& name) {
  if (obj)
    queues_["cc/" + cluster].push_back(mc::cassandracluster_seen{cluster, share(*obj)});
  else
    queues_["cc/" + cluster].push_back(mc::cassandracluster_gone{cluster, ns, name});
}

void fake_world::queue_mc() {
  if (mc_exists_)
    queues_["mc"].push_back(mc::multicasskop_seen{share(mc_)});
  else
    queues_["mc"].push_back(mc::multicasskop_gone{{"ns", "mcc"}});
}

void fake_world::done(uint64_t id, const js::Value* obj, k8s::error_kind err, bool ok) {
  mc::write_done w;
  w.command_id = id;
  w.ok = ok;
  if (!ok) {
    w.error.kind = err;
    w.error.message = "fake failure";
  }
  if (obj) w.object = share(*obj);
  queues_["writes"].push_back(std::move(w));
}

void fake_world::set_multicasskop(const std::string& spec_json) {
  if (!mc_exists_) {
    mc_ = js::parse(R"({"apiVersion":"db.orange.com/v2","kind":"MultiCasskop","metadata":{"name":"mcc","namespace":"ns","uid":"mc-uid","generation":0}})");
    mc_exists_ = true;
  }
  auto& a = mc_.GetAllocator();
  js::Document spec = js::parse(spec_json);
  js::set_member(mc_, "spec", js::Value(spec, a), a);
  auto& meta = mc_["metadata"];
  js::set_member(meta, "generation", js::Value(js::get_int(mc_, {"metadata", "generation"}, 0) + 1), a);
  js::set_string(meta, "resourceVersion", next_rv(), a);
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

void fake_world::casskop_done(const std::string& cluster) {
  for (auto& [k, d] : ccs_) {
    if (std::get<0>(k) != cluster) continue;
    auto& a = d.GetAllocator();
    auto& st = js::ensure_object(d, "status", a);
    js::set_string(st, "phase", "Running", a);
    js::set_string(st, "lastClusterAction", "Initializing", a);
    js::set_string(st, "lastClusterActionStatus", "Done", a);
    if (!legacy_casskop)
      js::set_member(st, "observedGeneration", js::Value(js::get_int(d, {"metadata", "generation"}, 0)), a);
    js::set_string(d["metadata"], "resourceVersion", next_rv(), a);
    queue_cc(cluster, &d, "", "");
  }
}

void fake_world::casskop_ongoing(const std::string& cluster) {
  for (auto& [k, d] : ccs_) {
    if (std::get<0>(k) != cluster) continue;
    auto& a = d.GetAllocator();
    auto& st = js::ensure_object(d, "status", a);
    js::set_string(st, "phase", "Initializing", a);
    js::set_string(st, "lastClusterActionStatus", "Ongoing", a);
    js::set_string(d["metadata"], "resourceVersion", next_rv(), a);
    queue_cc(cluster, &d, "", "");
  }
}

void fake_world::set_reachable(const std::string& cluster, bool reachable) {
  down_[cluster] = !reachable;
  queues_["health/" + cluster].push_back(mc::cluster_health{cluster, reachable, reachable,
                                                            reachable ? "" : "connection refused"});
}

void fake_world::put_foreign_cassandracluster(const std::string& cluster, const std::string& name) {
  auto d = js::parse(R"({"apiVersion":"db.orange.com/v2","kind":"CassandraCluster","metadata":{"namespace":"ns","name":")" +
                     name + R"(","uid":"foreign","generation":1,"resourceVersion":")" + next_rv() +
                     R"("},"spec":{}})");
  auto& slot = ccs_[{cluster, "ns", name}];
  slot = std::move(d);
  queue_cc(cluster, &slot, "", "");
}

void fake_world::execute(const mc::command& c) {
  std::visit(
      [&](const auto& cmd) {
        using T = std::decay_t<decltype(cmd)>;
        if constexpr (std::is_same_v<T, mc::create_cassandracluster>) {
          if (down_[cmd.cluster]) return done(cmd.id, nullptr, k8s::error_kind::unreachable, false);
          key k{cmd.cluster, std::string(js::get_string(*cmd.object, {"metadata", "namespace"})),
                std::string(js::get_string(*cmd.object, {"metadata", "name"}))};
          if (ccs_.count(k)) {
            violations.push_back("create of an existing CassandraCluster in " + cmd.cluster);
            return done(cmd.id, nullptr, k8s::error_kind::already_exists, false);
          }
          js::Document d = copy_of(*cmd.object);
          auto& a = d.GetAllocator();
          js::remove_member(d, "status");
          js::set_string(d["metadata"], "uid", "uid-" + cmd.cluster + "-" + next_rv(), a);
          js::set_member(d["metadata"], "generation", js::Value(1), a);
          js::set_string(d["metadata"], "resourceVersion", next_rv(), a);
          auto& slot = ccs_[k];
          slot = std::move(d);
          done(cmd.id, &slot);
          queue_cc(cmd.cluster, &slot, "", "");
          if (auto_casskop) casskop_done(cmd.cluster);
        } else if constexpr (std::is_same_v<T, mc::patch_cassandracluster>) {
          if (down_[cmd.cluster]) return done(cmd.id, nullptr, k8s::error_kind::unreachable, false);
          auto it = ccs_.find({cmd.cluster, cmd.ns, cmd.name});
          if (it == ccs_.end()) return done(cmd.id, nullptr, k8s::error_kind::not_found, false);
          auto& d = it->second;
          auto patch = js::parse(cmd.merge_patch);
          auto rv = js::get_string(patch, {"metadata", "resourceVersion"});
          if (!rv.empty() && rv != js::get_string(d, {"metadata", "resourceVersion"}))
            return done(cmd.id, nullptr, k8s::error_kind::conflict, false);
          js::Document next = copy_of(d);
          auto& a = next.GetAllocator();
          if (cmd.status) {
            if (const js::Value* st = js::find(patch, "status")) {
              js::Document sp(rapidjson::kObjectType);
              js::set_member(sp, "status", js::Value(*st, sp.GetAllocator()), sp.GetAllocator());
              js::apply_merge_patch(next, sp, a);
            }
          } else {
            js::remove_member(patch, "status");
            js::apply_merge_patch(next, patch, a);
            if (spec_differs(d, next))
              js::set_member(next["metadata"], "generation",
                             js::Value(js::get_int(d, {"metadata", "generation"}, 0) + 1), a);
          }
          js::set_string(next["metadata"], "resourceVersion", next_rv(), a);
          d = std::move(next);
          done(cmd.id, &d);
          queue_cc(cmd.cluster, &d, "", "");
          if (auto_casskop && !cmd.status) casskop_done(cmd.cluster);
        } else if constexpr (std::is_same_v<T, mc::delete_cassandracluster>) {
          if (down_[cmd.cluster]) return done(cmd.id, nullptr, k8s::error_kind::unreachable, false);
          auto it = ccs_.find({cmd.cluster, cmd.ns, cmd.name});
          if (it == ccs_.end()) return done(cmd.id, nullptr, k8s::error_kind::not_found, false);
          if (js::get_string(it->second, {"metadata", "uid"}) != cmd.uid)
            return done(cmd.id, nullptr, k8s::error_kind::conflict, false);
          ccs_.erase(it);
          done(cmd.id, nullptr);
          queue_cc(cmd.cluster, nullptr, cmd.ns, cmd.name);
        } else if constexpr (std::is_same_v<T, mc::patch_multicasskop>) {
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
              (!js::find_path(mc_, {"metadata", "finalizers"}) || mc_["metadata"]["finalizers"].Empty()))
            mc_exists_ = false;
          done(cmd.id, mc_exists_ ? &mc_ : nullptr);
          queue_mc();
        } else if constexpr (std::is_same_v<T, mc::start_timer>) {
          queues_["timer/" + cmd.key.str() + "/" + cmd.cluster].push_back(
              mc::timer_fired{cmd.key, cmd.cluster, cmd.token});
        }
      },
      c);
}

bool fake_world::step(std::mt19937* rng) {
  std::vector<std::string> sources;
  for (auto& [name, q] : queues_)
    if (!q.empty() && !(hold_timers && name.rfind("timer/", 0) == 0)) sources.push_back(name);
  if (sources.empty()) return false;
  std::string pick = sources.front();
  if (rng) pick = sources[std::uniform_int_distribution<size_t>(0, sources.size() - 1)(*rng)];
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
  if (const js::Value* conds = js::find_path(mc_, {"status", "conditions"}); conds && conds->IsArray())
    for (const auto& c : conds->GetArray())
      if (js::get_string(c, "type") == type) return std::string(js::get_string(c, "status"));
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
  // CassKop has finished (Running/Done) the spec the object has now: casskop_done sets
  // observedGeneration with Done. A later spontaneous Ongoing (a pod restart) does not undo
  // that the region was released correctly, so the current phase is not checked.
  if (js::get_int(*d, {"status", "observedGeneration"}, -1) != js::get_int(*d, {"metadata", "generation"}, 0))
    return false;
  // ...and that spec is what the MultiCasskop asks for, in the latest version the operator
  // has been told about (a newer one may still be on its way to it).
  auto seen = sm_.multicasskops().find({"ns", "mcc"});
  if (seen == sm_.multicasskops().end() || !seen->second.object) return false;
  auto spec = mc::parse_multicasskop(*seen->second.object);
  if (!spec.base_valid()) return false;
  auto desired = mc::desired_cassandracluster(spec, cluster, {"ns", "mcc"});
  return desired["spec"] == (*d)["spec"];
}

}  // namespace testworld
