// A pretend world for the MultiCasskop state machine: the truth of every cluster in memory,
// commands carried out on it, and the resulting events queued per source (one watch stream per
// cluster, the local MultiCasskop stream, write results) so tests choose the interleaving.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "actors/multicasskop/logic/state_machine.h"

namespace testworld {

namespace js = k8s::json;

class fake_world {
 public:
  explicit fake_world(std::vector<std::string> clusters, mc::machine_options o = {});

  // The MultiCasskop `name` in namespace "ns" with this spec (JSON); bumps its generation.
  void set_multicasskop(const std::string& spec_json);
  void delete_multicasskop();  // sets deletionTimestamp (finalizers hold it)
  void annotate_multicasskop(const std::string& key, const std::string& value);  // metadata only
  // CassKop finishing (Running/Done) or starting (Ongoing) on the CassandraCluster in `cluster`.
  void casskop_done(const std::string& cluster);
  void casskop_ongoing(const std::string& cluster);
  // CassKop's CorrectCRDConfig: in `cluster`, the fields of `refused_fields` that differ from the
  // spec it last finished are written back, with lastClusterAction CorrectCRDConfig (Done). True
  // when it wrote. With auto_casskop it runs on every spec change before casskop_done.
  bool casskop_corrects(const std::string& cluster);
  std::set<std::string> refused_fields;  // top-level spec fields CassKop refuses to change
  void set_reachable(const std::string& cluster, bool reachable);
  // kill -9 and start again: answers, timers and events on their way are lost; the new state
  // machine gets what every watcher's first list says (each cluster's objects, then its health).
  void restart_operator();
  void fail_writes(const std::string& cluster, bool fail) { down_[cluster] = fail; }
  // Writes to CassandraClusters in `cluster` answered with this error (other: none).
  void refuse_writes(const std::string& cluster, k8s::error_kind kind) { refused_[cluster] = kind; }
  // Someone deletes a CassandraCluster (no finalizers: gone at once).
  void delete_cassandracluster_in(const std::string& cluster, const std::string& name);
  // A CassandraCluster created by someone else.
  void put_foreign_cassandracluster(const std::string& cluster, const std::string& name);

  // Delivers queued events until none is left: in FIFO order, or randomly across sources.
  // Sources: "mc" (the MultiCasskop watch), "cc/<cluster>" (a cluster's watch), "writes/<cluster>"
  // (answers to writes there; "writes/" for the MultiCasskop's), "health/<cluster>", "timer/...".
  // Sources named in `held` wait.
  void run(std::mt19937* rng = nullptr, int max_steps = 100000);
  bool step(std::mt19937* rng);  // one event; false when nothing is queued
  std::set<std::string> held;
  // Writes to these clusters travel slowly: they land when their source "transit/<cluster>" is
  // stepped, and a restart of the operator does not stop them (they are on their way).
  std::set<std::string> slow_links;
  int64_t max_transit_ms = 500;
  bool advance_time = true;  // false: run() stops when nothing is left to deliver now
  void deliver(mc::event_body b);

  const js::Value* cc(const std::string& cluster) const;
  const js::Value* multicasskop() const { return mc_exists_ ? &mc_ : nullptr; }
  std::string condition(const std::string& type) const;  // status of a condition, "" if none
  const std::vector<mc::command>& issued() const { return issued_; }
  std::vector<std::string> creates() const;  // clusters, in the order of create commands
  // How CassKop tells which spec its status is about: 0 status.observedGeneration (our casskop),
  // 1 nothing, 2 its last-applied-configuration record (CassKop v2.1.0).
  int legacy_casskop = 0;
  bool status_subresource = false;  // the CassandraCluster CRD's, in every cluster
  bool auto_casskop = false;        // CassKop finishes every change at once
  bool hold_timers = false;         // timers do not fire until released
  // Called before each command is carried out, with the world as it is: tests check
  // invariants that must hold whenever we write.
  std::function<void(const fake_world&, const mc::command&)> before_write;
  // Whether region `cluster` is truly Ready for the current spec (the invariant's notion).
  bool truly_ready(const std::string& cluster) const;
  mc::state_machine& machine() { return sm_; }
  // Every event the state machine folded, command_issued ones included, as the supervisor
  // journals them.
  std::vector<mc::event> journal;
  std::vector<std::string> violations;
  int64_t now = 1'700'000'000'000;

 private:
  using key = std::tuple<std::string, std::string, std::string>;
  void execute(const mc::command& c);
  void land(const mc::command& c, int run);
  void queue_cc(const std::string& cluster, const js::Value* obj, const std::string& ns,
                const std::string& name);
  void queue_mc();
  void done(uint64_t id, const js::Value* obj, k8s::error_kind err = k8s::error_kind::other,
            bool ok = true, const std::string& cluster = "");
  std::string next_rv() { return std::to_string(++rv_); }

  void casskop_writes(const std::string& cluster, const char* phase, const char* action_status);

  mc::machine_options options_;
  mc::state_machine sm_;
  std::vector<std::string> clusters_;
  std::map<std::string, std::string> done_spec_;  // by cluster: the spec CassKop last finished
  std::set<uint64_t> mc_writes_;                  // writes to the MultiCasskop not answered yet
  std::map<std::string, bool> down_;
  std::map<std::string, k8s::error_kind> refused_;
  // Writes on their way, by cluster, with the run of the operator that sent them and the time by
  // which they have landed (max_transit_ms after sending: an API server's request timeout).
  struct transit {
    mc::command command;
    int run;
    int64_t lands_by;
  };
  std::map<std::string, std::deque<transit>> in_transit_;
  // Timers go off when the world's time reaches them (time jumps there when nothing else is
  // left to deliver).
  std::deque<std::pair<int64_t, mc::timer_fired>> timers_due_;
  int run_ = 0;                        // bumped by restart_operator
  std::map<key, int> created_by_run_;  // which run created a CassandraCluster
  std::map<key, js::Document> ccs_;
  js::Document mc_;
  bool mc_exists_ = false;
  std::map<std::string, std::deque<mc::event_body>> queues_;  // by source
  std::vector<mc::command> issued_;
  std::map<mc::mc_key, std::vector<int64_t>> timers_;
  uint64_t rv_ = 100;
  uint64_t seq_ = 0;
};

// A field of the MultiCasskop's condition `type` ("" when there is none).
std::string condition_field(const fake_world& w, const std::string& type, const char* field);

}  // namespace testworld
