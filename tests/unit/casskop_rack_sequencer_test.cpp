// The rack sequencer (actors/casskop/logic/rack_sequencer.h) against a small simulated world:
// StatefulSets whose pods come up and roll as the real controller does them (OrderedReady,
// highest ordinal first, honouring the partition), a PDB computed from the pods, and an operator
// whose cache lags behind the world. Hand-written scenarios first, then a seeded randomized run
// (CASSKOP_SEQ_SEED=<n> replays one seed) that changes the spec at random, loses status writes
// (an operator killed between its StatefulSet write and its status write) and restarts the
// operator, and checks from the world's side: never two racks in motion at once, never a
// StatefulSet written while the PDB the operator saw forbade it, and at the end world = spec.
#include <doctest/doctest.h>

#include <cstdlib>
#include <iostream>
#include <random>

#include "actors/casskop/logic/names.h"
#include "actors/casskop/logic/rack_sequencer.h"

namespace {
using namespace casskop;

struct pod_template {
  std::string image, config_map, restart_stamp;
  std::vector<std::string> seeds;
  int resources = 0;
  bool operator==(const pod_template& o) const {
    return image == o.image && config_map == o.config_map && restart_stamp == o.restart_stamp &&
           seeds == o.seeds && resources == o.resources;
  }
  std::string revision() const {
    std::string s =
        image + "|" + config_map + "|" + restart_stamp + "|" + std::to_string(resources);
    for (const auto& x : seeds) s += "|" + x;
    return "rev-" + std::to_string(std::hash<std::string>{}(s) % 1000000);
  }
};

struct sim_pod {
  std::string revision;
  bool ready = false;
};

// One StatefulSet as the API server and its controller hold it.
struct sim_sts {
  int64_t generation = 1;
  int32_t replicas = 0;
  int32_t partition = 0;
  pod_template tmpl;
  int64_t observed_generation = 0;
  std::string current_revision, update_revision;
  std::vector<sim_pod> pods;

  bool in_motion() const {
    if (observed_generation < generation || static_cast<int32_t>(pods.size()) != replicas)
      return true;
    for (size_t i = 0; i < pods.size(); ++i) {
      if (!pods[i].ready) return true;
      if (static_cast<int32_t>(i) >= partition && pods[i].revision != update_revision) return true;
    }
    return false;
  }

  // One move of the StatefulSet controller and kubelet (OrderedReady, RollingUpdate).
  void step(std::mt19937& rng) {
    if (observed_generation < generation) {
      update_revision = tmpl.revision();
      if (current_revision.empty()) current_revision = update_revision;
      observed_generation = generation;
      return;
    }
    for (auto& p : pods)
      if (!p.ready) {
        if (rng() % 2) p.ready = true;
        return;
      }
    if (static_cast<int32_t>(pods.size()) < replicas) {
      int32_t ordinal = static_cast<int32_t>(pods.size());
      pods.push_back({ordinal >= partition ? update_revision : current_revision, false});
      return;
    }
    for (int32_t i = static_cast<int32_t>(pods.size()) - 1; i >= partition; --i)
      if (pods[i].revision != update_revision) {
        pods[i] = {update_revision, false};  // deleted and recreated at the new revision
        return;
      }
    if (partition == 0) current_revision = update_revision;
  }

  observed_statefulset observed() const {
    observed_statefulset o;
    o.generation = generation;
    o.observed_generation = observed_generation;
    o.spec_replicas = replicas;
    o.replicas = static_cast<int32_t>(pods.size());
    for (const auto& p : pods) {
      o.ready_replicas += p.ready ? 1 : 0;
      o.updated_replicas += p.revision == update_revision ? 1 : 0;
    }
    o.current_revision = current_revision;
    o.update_revision = update_revision;
    if (!tmpl.config_map.empty()) o.config_map = tmpl.config_map;
    o.cassandra_image = tmpl.image;
    o.seeds = tmpl.seeds;
    if (!tmpl.restart_stamp.empty()) o.template_labels["rolling-restart"] = tmpl.restart_stamp;
    return o;
  }
};

dc_spec make_dc(const std::string& name, int racks, int32_t nodes) {
  dc_spec dc;
  dc.name = name;
  dc.nodes_per_racks = nodes;
  for (int r = 1; r <= racks; ++r)
    dc.racks.push_back({"rack" + std::to_string(r), {}, {}, false, 0});
  return dc;
}

struct world {
  parsed_cluster cc;
  int resources = 0;                       // stands for spec.resources
  bool resources_pending = false;          // refused_changes' verdict, until a status write lands
  std::map<std::string, sim_sts> sts;      // the API server's truth, by dc-rack
  std::map<std::string, sim_sts> cache;    // the operator's watch cache
  std::map<std::string, int64_t> written;  // the operator's fence: generation of its last write
  std::string pdb_seen;                    // for failure messages
  int clock = 0;
  int writes = 0;

  world() {
    cc.name = "cc";
    cc.namespace_ = "ns";
    cc.spec.cassandra_image = "cassandra:3.11.10";
    cc.spec.dcs.push_back(make_dc("dc1", 2, 1));
  }

  pod_template desired(const statefulset_intent& in) const {
    pod_template t;
    t.image = cc.spec.cassandra_image;
    t.config_map = cc.spec.config_map_name;
    t.seeds = in.seeds;
    t.resources = resources;
    auto kept = in.template_labels.find("rolling-restart");
    if (kept != in.template_labels.end()) t.restart_stamp = kept->second;
    if (in.rolling_restart_stamp) t.restart_stamp = *in.rolling_restart_stamp;
    return t;
  }

  int32_t partition_of(size_t dc, size_t rack) const {
    return cc.spec.dcs[dc].racks[rack].rolling_partition;
  }

  observed_pdb pdb() const {
    observed_pdb p;
    p.exists = true;
    int32_t healthy = 0;
    for (const auto& [name, s] : sts) {
      p.expected_pods += s.replicas;
      for (const auto& pod : s.pods) healthy += pod.ready ? 1 : 0;
    }
    p.disruptions_allowed = std::max(0, healthy - (p.expected_pods - cc.spec.max_pod_unavailable));
    return p;
  }

  std::string now() {
    ++clock;
    char buf[32];
    std::snprintf(buf, sizeof buf, "2026-12-05T10:%02d:%02dZ", (clock / 60) % 60, clock % 60);
    return buf;
  }

  // One reconcile pass; `lose_status` drops its CassandraCluster write (killed in between).
  sequence_result pass(bool lose_status = false) {
    std::map<std::string, observed_statefulset> seen;
    for (const auto& [name, s] : cache) {
      seen[name] = s.observed();
      auto w = written.find(name);
      seen[name].stale = w != written.end() && s.generation < w->second;
    }
    for (const auto& [name, generation] : written)  // created, not yet seen by the watch
      if (!cache.count(name)) seen[name].stale = true;
    observed_pdb p = pdb();
    pdb_seen = "disruptionsAllowed=" + std::to_string(p.disruptions_allowed);
    sequence_input in{cc, seen, p, now(), resources_pending, {}};
    in.differs_from_stored = [&](const statefulset_intent& i) {
      const sim_sts& s = cache.at(i.dc_rack);
      return !(s.tmpl == desired(i)) || s.replicas != i.replicas ||
             s.partition != partition_of(i.dc_index, i.rack_index);
    };
    sequence_result out = sequence(in);
    if (std::getenv("CASSKOP_SEQ_TRACE"))
      std::cerr << "pass " << clock << (lose_status ? " (status lost)" : "") << " pdb " << pdb_seen
                << " write " << (out.write ? out.write->dc_rack : "-") << " waiting " << out.waiting
                << "\n"
                << dump();
    if (out.write) {
      const statefulset_intent& i = *out.write;
      bool allowed =
          p.disruptions_allowed > 0 || p.expected_pods == 0 || cc.spec.unlock_next_operation;
      REQUIRE_MESSAGE(allowed, "wrote " << i.dc_rack << " while the PDB said " << pdb_seen);
      sim_sts& s = sts[i.dc_rack];
      if (i.create) REQUIRE(cache.count(i.dc_rack) == 0);
      s.tmpl = desired(i);
      s.replicas = i.replicas;
      s.partition = partition_of(i.dc_index, i.rack_index);
      if (!i.create) ++s.generation;
      written[i.dc_rack] = s.generation;
      ++writes;
    }
    if (!lose_status) {
      cc.status = out.status;
      for (auto [d, r] : out.rolling_restart_consumed)
        cc.spec.dcs[d].racks[r].rolling_restart = false;
      if (out.unlock_consumed) cc.spec.unlock_next_operation = false;
      resources_pending = false;
    }
    return out;
  }

  void sync_cache() { cache = sts; }
  void restart_operator() {
    written.clear();
    sync_cache();  // a fresh list
  }

  int in_motion() const {
    int n = 0;
    for (const auto& [name, s] : sts) n += s.in_motion() ? 1 : 0;
    return n;
  }

  // Runs the world and the operator, the cache in step, until nothing moves.
  void settle(int max_steps = 400) {
    std::mt19937 rng(7);
    for (int i = 0; i < max_steps; ++i) {
      for (auto& [name, s] : sts) s.step(rng);
      sync_cache();
      pass();
      sync_cache();
      REQUIRE(in_motion() <= 1);
    }
  }

  std::string dump() const {
    std::string out;
    for (const auto& [name, s] : sts) {
      out += name + ": gen " + std::to_string(s.generation) + "/" +
             std::to_string(s.observed_generation) + " replicas " + std::to_string(s.replicas) +
             " partition " + std::to_string(s.partition) + " pods";
      for (const auto& p : s.pods)
        out += std::string(" ") + (p.revision == s.update_revision ? "new" : "old") +
               (p.ready ? "+" : "-");
      auto rs = cc.status.racks.find(name);
      if (rs != cc.status.racks.end())
        out += " status " + rs->second.phase + " " + rs->second.cassandra_last_action.name + "/" +
               rs->second.cassandra_last_action.status;
      out += " seeds " + std::to_string(s.tmpl.seeds.size());
      for (const auto& seed : s.tmpl.seeds) out += " " + seed.substr(3, seed.find('.') - 3);
      out += "\n";
    }
    return out;
  }

  bool converged() const {
    for (const auto& r : racks_of(cc.spec)) {
      auto it = sts.find(r.name());
      if (it == sts.end()) return false;
      const sim_sts& s = it->second;
      int32_t nodes = nodes_per_racks_of(cc.spec, cc.spec.dcs[r.dc_index]);
      if (s.replicas != nodes || s.in_motion() || s.tmpl.image != cc.spec.cassandra_image ||
          s.tmpl.config_map != cc.spec.config_map_name || s.tmpl.resources != resources ||
          s.tmpl.seeds != cc.status.seedlist || s.current_revision != s.update_revision)
        return false;
      if (cc.spec.dcs[r.dc_index].racks[r.rack_index].rolling_restart) return false;
    }
    return cluster_ready(cc.status);
  }
};

}  // namespace

TEST_CASE("casskop sequencer: racks are created one at a time, in spec order") {
  world w;
  w.cc.spec.dcs.push_back(make_dc("dc2", 2, 2));
  auto first = w.pass();
  REQUIRE(first.write);
  CHECK(first.write->dc_rack == "dc1-rack1");
  CHECK(first.write->create);
  CHECK(first.status.phase == "Initializing");
  CHECK(first.status.racks.size() == 4);
  w.sync_cache();
  // Until dc1-rack1 is Running, nothing else is created.
  auto waiting = w.pass();
  CHECK_FALSE(waiting.write);
  CHECK(waiting.waiting.find("dc1-rack1") != std::string::npos);
  std::vector<std::string> order;
  std::mt19937 rng(1);
  for (int i = 0; i < 300 && !w.converged(); ++i) {
    for (auto& [name, s] : w.sts) s.step(rng);
    w.sync_cache();
    auto r = w.pass();
    if (r.write && r.write->create) order.push_back(r.write->dc_rack);
    w.sync_cache();
    REQUIRE(w.in_motion() <= 1);
  }
  CHECK(w.converged());
  CHECK(order == std::vector<std::string>{"dc1-rack2", "dc2-rack1", "dc2-rack2"});
  CHECK(w.cc.status.phase == "Running");
  CHECK(w.cc.status.last_cluster_action_status == "Done");
}

TEST_CASE(
    "casskop sequencer: an image change rolls rack by rack, each ending on the StatefulSet's "
    "status") {
  world w;
  w.settle();
  REQUIRE(w.converged());
  w.cc.spec.cassandra_image = "cassandra:4.0.4";
  auto started = w.pass();
  REQUIRE(started.write);
  CHECK(started.write->dc_rack == "dc1-rack1");
  CHECK(started.status.racks.at("dc1-rack1").cassandra_last_action.name == "UpdateDockerImage");
  CHECK(started.status.racks.at("dc1-rack1").cassandra_last_action.status == "Ongoing");
  CHECK(started.status.last_cluster_action == "UpdateDockerImage");
  // Before the StatefulSet controller has seen the new generation, the action is not over, even
  // though the stored revisions are still equal.
  w.sync_cache();
  auto early = w.pass();
  CHECK_FALSE(early.write);
  CHECK(w.cc.status.racks.at("dc1-rack1").cassandra_last_action.status == "Ongoing");
  w.settle();
  CHECK(w.converged());
  CHECK(w.sts.at("dc1-rack2").tmpl.image == "cassandra:4.0.4");
}

TEST_CASE("casskop sequencer: a stale cache decides nothing for the rack just written") {
  world w;
  w.settle();
  w.cc.spec.cassandra_image = "cassandra:4.0.4";
  REQUIRE(w.pass().write);
  // The cache still holds the StatefulSet from before our write: settled, old generation.
  auto r = w.pass();
  CHECK_FALSE(r.write);
  CHECK(r.waiting.find("our last write") != std::string::npos);
  CHECK(r.status.racks.at("dc1-rack1").cassandra_last_action.status == "Ongoing");
}

TEST_CASE("casskop sequencer: rollingPartition holds its rack and every rack after it") {
  world w;
  w.cc.spec.dcs[0].nodes_per_racks = 2;
  w.settle();
  REQUIRE(w.converged());
  w.cc.spec.dcs[0].racks[0].rolling_partition = 1;
  w.cc.spec.cassandra_image = "cassandra:4.0.4";
  w.settle(200);
  CHECK(w.sts.at("dc1-rack1").pods[1].revision == w.sts.at("dc1-rack1").update_revision);
  CHECK(w.sts.at("dc1-rack1").pods[0].revision != w.sts.at("dc1-rack1").update_revision);
  CHECK(w.sts.at("dc1-rack2").tmpl.image == "cassandra:3.11.10");
  CHECK(w.cc.status.racks.at("dc1-rack1").cassandra_last_action.status == "Ongoing");
  w.cc.spec.dcs[0].racks[0].rolling_partition = 0;
  w.settle();
  CHECK(w.converged());
}

TEST_CASE("casskop sequencer: detection priority is configMap before image, one action per pass") {
  world w;
  w.settle();
  w.cc.spec.cassandra_image = "cassandra:4.0.4";
  w.cc.spec.config_map_name = "cassandra-configmap-v1";
  auto r = w.pass();
  CHECK(r.status.racks.at("dc1-rack1").cassandra_last_action.name == "UpdateConfigMap");
  w.settle();
  CHECK(w.converged());
}

TEST_CASE("casskop sequencer: rollingRestart stamps the pod template and is consumed") {
  world w;
  w.settle();
  w.cc.spec.dcs[0].racks[1].rolling_restart = true;
  w.settle();
  CHECK(w.converged());
  CHECK_FALSE(w.sts.at("dc1-rack2").tmpl.restart_stamp.empty());
  CHECK(w.sts.at("dc1-rack1").tmpl.restart_stamp.empty());
  CHECK(w.cc.status.racks.at("dc1-rack2").cassandra_last_action.name == "RollingRestart");
  CHECK_FALSE(w.cc.spec.dcs[0].racks[1].rolling_restart);
}

TEST_CASE("casskop sequencer: nothing is written while the PDB allows no disruption") {
  world w;
  w.settle();
  w.sts.at("dc1-rack2").pods[0].ready = false;  // a node down, not by us
  w.sync_cache();
  w.cc.spec.cassandra_image = "cassandra:4.0.4";
  auto r = w.pass();
  CHECK_FALSE(r.write);
  w.cc.spec.unlock_next_operation = true;  // the original's escape hatch
  auto unlocked = w.pass();
  CHECK(unlocked.write);
  CHECK(unlocked.unlock_consumed);
}

TEST_CASE(
    "casskop sequencer: between two racks of a roll the cluster never looks Ready, even while "
    "the PDB lags") {
  // multi-casskop releases the next region on Running/Done for the current spec: a pass that
  // ends rack1's action while the PDB it reads still counts rack1's pod as down (its watch
  // event comes after the StatefulSet's) must not say Done before rack2 has rolled.
  world w;
  w.settle();
  REQUIRE(w.converged());
  w.cc.spec.cassandra_image = "cassandra:3.11.11";
  auto first = w.pass();
  REQUIRE(first.write);
  CHECK(first.write->dc_rack == "dc1-rack1");
  std::mt19937 rng(3);
  for (int i = 0;
       i < 100 && (w.sts.at("dc1-rack1").in_motion() ||
                   w.sts.at("dc1-rack1").current_revision != w.sts.at("dc1-rack1").update_revision);
       ++i)
    w.sts.at("dc1-rack1").step(rng);
  w.sync_cache();
  REQUIRE_FALSE(w.sts.at("dc1-rack1").in_motion());
  std::map<std::string, observed_statefulset> seen;
  for (const auto& [name, st] : w.cache) seen[name] = st.observed();
  observed_pdb lagging;  // as it was while rack1's pod restarted
  lagging.exists = true;
  lagging.expected_pods = 2;
  lagging.disruptions_allowed = 0;
  sequence_input in{w.cc, seen, lagging, w.now(), false, {}};
  in.differs_from_stored = [&](const statefulset_intent& i) {
    return !(w.cache.at(i.dc_rack).tmpl == w.desired(i));
  };
  auto r = sequence(in);
  CHECK_FALSE(r.write);
  CHECK(r.status.racks.at("dc1-rack1").cassandra_last_action.status == "Done");
  CHECK(r.status.racks.at("dc1-rack2").cassandra_last_action.name == "UpdateDockerImage");
  CHECK(r.status.racks.at("dc1-rack2").cassandra_last_action.status == "ToDo");
  CHECK(r.status.last_cluster_action_status == "ToDo");
  CHECK_FALSE(cluster_ready(r.status));
  CHECK(r.waiting.find("PodDisruptionBudget") != std::string::npos);
  // Once the PDB has caught up, rack2 rolls; Ready only at the end.
  w.cc.status = r.status;
  auto next = w.pass();
  REQUIRE(next.write);
  CHECK(next.write->dc_rack == "dc1-rack2");
  CHECK_FALSE(cluster_ready(next.status));
  w.settle();
  CHECK(w.converged());
}

TEST_CASE(
    "casskop sequencer: a new seed list marks every rack Configuring, then they roll one at a "
    "time") {
  world w;
  w.cc.spec.auto_update_seed_list = true;
  w.settle();
  REQUIRE(w.converged());
  auto before = w.cc.status.seedlist;
  w.cc.spec.dcs.push_back(make_dc("dc2", 1, 1));
  w.settle();
  CHECK(w.converged());
  CHECK(w.cc.status.seedlist.size() == before.size() + 1);
  CHECK(std::equal(before.begin(), before.end(), w.cc.status.seedlist.begin()));
  for (const auto& [name, s] : w.sts) CHECK(s.tmpl.seeds == w.cc.status.seedlist);
}

TEST_CASE("casskop sequencer: a scale up goes one node at a time and never shrinks") {
  world w;
  w.settle();
  w.cc.spec.dcs[0].nodes_per_racks = 3;
  std::mt19937 rng(3);
  int32_t last = 1;
  for (int i = 0; i < 400 && !w.converged(); ++i) {
    for (auto& [name, s] : w.sts) s.step(rng);
    w.sync_cache();
    w.pass();
    int32_t now = w.sts.at("dc1-rack1").replicas;
    CHECK(now - last <= 1);
    CHECK(now >= last);
    last = now;
  }
  CHECK(w.converged());
  CHECK(w.cc.status.racks.at("dc1-rack2").cassandra_last_action.name == "ScaleUp");
}

TEST_CASE(
    "casskop sequencer: randomized spec changes, lagging cache, lost status writes, restarts") {
  uint64_t first = 1, count = 150;
  if (const char* s = std::getenv("CASSKOP_SEQ_SEED")) {
    first = std::strtoull(s, nullptr, 10);
    count = 1;
  }
  for (uint64_t seed = first; seed < first + count; ++seed) {
    CAPTURE(seed);
    std::mt19937 rng(static_cast<uint32_t>(seed));
    world w;
    w.cc.spec.auto_update_seed_list = rng() % 2;
    w.cc.spec.dcs[0].nodes_per_racks = 1 + rng() % 2;
    const int change_steps = 300, max_steps = 6000;
    int step = 0;
    for (; step < max_steps; ++step) {
      bool changing = step < change_steps;
      if (!changing && w.converged()) break;
      switch (rng() % 10) {
        case 0:
        case 1:
        case 2: {  // the StatefulSet controller moves one StatefulSet
          if (w.sts.empty()) break;
          auto it = w.sts.begin();
          std::advance(it, rng() % w.sts.size());
          it->second.step(rng);
          break;
        }
        case 3:
        case 4: {  // the watch delivers one StatefulSet's latest version
          if (w.sts.empty()) break;
          auto it = w.sts.begin();
          std::advance(it, rng() % w.sts.size());
          w.cache[it->first] = it->second;
          break;
        }
        case 5:
        case 6:
        case 7:
          w.pass(rng() % 20 == 0);
          break;
        case 8:
          if (rng() % 10 == 0) w.restart_operator();
          break;
        case 9: {
          if (!changing || rng() % 4) break;
          auto& spec = w.cc.spec;
          switch (rng() % 7) {
            case 0:
              spec.cassandra_image = "cassandra:4.0." + std::to_string(rng() % 4);
              break;
            case 1:
              spec.config_map_name = rng() % 2 ? "cm-" + std::to_string(rng() % 3) : "";
              break;
            case 2: {
              auto& dc = spec.dcs[rng() % spec.dcs.size()];
              if (*dc.nodes_per_racks < 3) *dc.nodes_per_racks += 1;
              break;
            }
            case 3: {
              auto& dc = spec.dcs[rng() % spec.dcs.size()];
              dc.racks[rng() % dc.racks.size()].rolling_restart = true;
              break;
            }
            case 4:
              ++w.resources;
              w.resources_pending = true;
              break;
            case 5:
              if (spec.dcs.size() < 3)
                spec.dcs.push_back(
                    make_dc("dc" + std::to_string(spec.dcs.size() + 1), 1 + rng() % 2, 1));
              break;
            case 6: {
              auto& dc = spec.dcs[rng() % spec.dcs.size()];
              dc.racks[rng() % dc.racks.size()].rolling_partition = rng() % 3 ? 0 : 1;
              break;
            }
          }
          break;
        }
      }
      if (!changing)  // holds are released so the world can reach the spec
        for (auto& dc : w.cc.spec.dcs)
          for (auto& rack : dc.racks) rack.rolling_partition = 0;
      INFO("pdb " << w.pdb_seen);
      REQUIRE_MESSAGE(w.in_motion() <= 1, "two racks in motion at step " << step << ", seed "
                                                                         << seed << "\n"
                                                                         << w.dump());
    }
    if (!w.converged())
      std::cerr << "casskop sequencer: replay with CASSKOP_SEQ_SEED=" << seed << "\n";
    REQUIRE_MESSAGE(
        w.converged(), "not converged after " << max_steps << " steps, seed " << seed << ", status "
                                              << w.cc.status.phase << "/"
                                              << w.cc.status.last_cluster_action << "/"
                                              << w.cc.status.last_cluster_action_status << "\n"
                                              << w.dump() << "seeds:" << [&] {
                                                   std::string s;
                                                   for (auto& x : w.cc.status.seedlist)
                                                     s += " " + x;
                                                   return s;
                                                 }());
  }
  MESSAGE("casskop sequencer: seeds " << first << ".." << first + count - 1
                                      << " (replay one with CASSKOP_SEQ_SEED=<n>)");
}
