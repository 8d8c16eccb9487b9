// A pretend world for the MultiCasskop state machine: the truth of every cluster in memory,
// commands carried out on it, and the resulting events queued per source (one watch stream per
// cluster, the local MultiCasskop stream, write results) so tests choose the interleaving.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "actors/multicasskop/state_machine.h"

namespace testworld {

namespace js = k8s::json;

class fake_world {
 public:
  explicit fake_world(std::vector<std::string> clusters, mc::machine_options o = {});

  // The MultiCasskop `name` in namespace "ns" with this spec (JSON); bumps its generation.
  void set_multicasskop(const std::string& spec_json);
  void delete_multicasskop();  // sets deletionTimestamp (finalizers hold it)
  // CassKop finishing (Running/Done) or starting (Ongoing) on the CassandraCluster in `cluster`.
  void casskop_done(const std::string& cluster);
  void casskop_ongoing(const std::string& cluster);
  void set_reachable(const std::string& cluster, bool reachable);
  void fail_writes(const std::string& cluster, bool fail) { down_[cluster] = fail; }
  // A CassandraCluster created by someone else.
  void put_foreign_cassandracluster(const std::string& cluster, const std::string& name);

  // Delivers queued events until none is left: in FIFO order, or randomly across sources.
  void run(std::mt19937* rng = nullptr, int max_steps = 100000);
  bool step(std::mt19937* rng);  // one event; false when nothing is queued
  void deliver(mc::event_body b);

  const js::Value* cc(const std::string& cluster) const;
  const js::Value* multicasskop() const { return mc_exists_ ? &mc_ : nullptr; }
  std::string condition(const std::string& type) const;  // status of a condition, "" if none
  const std::vector<mc::command>& issued() const { return issued_; }
  std::vector<std::string> creates() const;  // clusters, in the order of create commands
  int legacy_casskop = 0;                    // 1: CassKop without status.observedGeneration
  bool auto_casskop = false;                 // CassKop finishes every change at once
  bool hold_timers = false;                  // timers do not fire until released
  // Called before each command is carried out, with the world as it is: tests check
  // invariants that must hold whenever we write.
  std::function<void(const fake_world&, const mc::command&)> before_write;
  // Whether region `cluster` is truly Ready for the current spec (the invariant's notion).
  bool truly_ready(const std::string& cluster) const;
  mc::state_machine& machine() { return sm_; }
  std::vector<std::string> violations;
  int64_t now = 1'700'000'000'000;

 private:
  using key = std::tuple<std::string, std::string, std::string>;
  void execute(const mc::command& c);
  void queue_cc(const std::string& cluster, const js::Value* obj, const std::string& ns,
                const std::string& name);
  void queue_mc();
  void done(uint64_t id, const js::Value* obj, k8s::error_kind err = k8s::error_kind::other,
            bool ok = true);
  std::string next_rv() { return std::to_string(++rv_); }

  mc::state_machine sm_;
  std::vector<std::string> clusters_;
  std::map<std::string, bool> down_;
  std::map<key, js::Document> ccs_;
  js::Document mc_;
  bool mc_exists_ = false;
  std::map<std::string, std::deque<mc::event_body>> queues_;  // by source
  std::vector<mc::command> issued_;
  std::map<mc::mc_key, std::vector<int64_t>> timers_;
  uint64_t rv_ = 100;
  uint64_t seq_ = 0;
};

}  // namespace testworld
