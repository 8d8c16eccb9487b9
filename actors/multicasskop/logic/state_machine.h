// The MultiCasskop state machine, split as evolve and decide. evolve(event) folds one event
// into the state; decide() says what that state calls for, without changing it. Both pure and
// deterministic: no I/O, no clock (time comes in the events), no CAF. The supervisor actor
// feeds it; `multi-casskop replay` re-runs a journal through it.
//
// Issuance is an event: for each command decide() returned, the shell journals and folds a
// command_issued before carrying it out. Folding it takes that MultiCasskop's decision as made
// (its writes in flight, its ids and timer tokens used), so decide() asked twice gives the same
// commands, and never again once they are issued.
//
// The rules (README.md, "The MultiCasskop resource"): regions are the configured clusters in
// order; a region without an override entry is not deployed; region i+1 is created or updated
// only when regions 1..i are Ready (phase Running, lastClusterActionStatus Done) for the spec we
// last wrote; deletion goes through a finalizer, and nothing is created before it is on the
// object.
#pragma once

#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "actors/multicasskop/logic/spec.h"
#include "actors/multicasskop/logic/text_digest.h"
#include "messages/multicasskop/commands.h"
#include "messages/multicasskop/events.h"

namespace mc {

struct machine_options {
  // CassKop versions that do not report status.observedGeneration: after a spec change we
  // wait to see the cluster leave Running/Done, or this long, before calling it Ready again.
  int64_t legacy_settle_ms = 60000;
  // A create sent by the previous run (killed, or a leader that lost its Lease) may land this long
  // after the state machine started: the API server's request timeout bounds it. Until then a
  // deletion does not take the region it may have targeted for deleted.
  int64_t start_grace_ms = 60000;
  int64_t retry_initial_ms = 1000;
  int64_t retry_max_ms = 60000;
};

enum class region_phase {
  not_deployed,   // no override entry for this cluster
  waiting,        // an earlier region is not Ready yet
  unreachable,    // its cluster cannot be reached (or its first list is not in)
  access_denied,  // its API server refuses our credentials (401) or permissions (403)
  creating,
  updating,  // written, waiting for CassKop to finish
  ready,
  deleting,
  deleted,
  error,
  detached,  // the cluster was removed from the configuration: left alone
  // Running, but not with our spec: CassKop refused the change and wrote the old values back
  // (CorrectCRDConfig). Later regions wait; nothing is written again until the MultiCasskop
  // changes.
  degraded,
};
const char* to_string(region_phase p);

struct region_state {
  region_phase phase = region_phase::waiting;
  std::string message;
  uint64_t in_flight = 0;          // id of our pending write, 0 if none
  int64_t written_generation = 0;  // the CassandraCluster's generation after our last spec write
  bool awaiting_ready = false;     // we changed the spec and have not seen it Ready since
  bool saw_not_ready = false;      // (legacy readiness) a non-Ready status since our write
  bool settled = false;            // (legacy readiness) legacy_settle_ms passed since our write
  uint64_t settle_token = 0;
  bool retry_wait = false;  // backing off after a failed write, or waiting for a newer object
  uint64_t retry_token = 0;
  // A write the API server refused for good (422, 400...): not retried before the MultiCasskop,
  // the CassandraCluster or the cluster's connection changes.
  bool refused = false;
  bool seen = false;  // this run has seen its CassandraCluster (a create of a previous run landed)
  int failures = 0;
  std::string error_reason;  // Degraded reason while phase is error or degraded
  std::string last_error;
  // CassKop wrote back a change of ours (CorrectCRDConfig): kept until the fields it reverted
  // hold what we wrote again (CassKop's own action names move on meanwhile).
  bool change_refused = false;
};

struct condition {
  std::string type, status, reason, message, last_transition;
};

struct multicasskop_state {
  mc_key key;
  // The newest copy we know of. The answer to one of our own writes is kept without its spec
  // (parsed already, and the same for the same generation) until the watch brings that version.
  object_ptr object;
  object_ptr with_spec;  // the last copy seen with its spec (the watch's, shared with its cache)
  parsed_spec spec;
  int64_t generation = 0;
  bool deleting = false;
  bool has_finalizer = false;
  std::map<std::string, region_state> regions;  // by cluster name
  std::string rolling_region;
  std::vector<std::string> seedlist;
  std::vector<condition> conditions;
  text_digest written_status;    // last status we wrote (or are writing)
  bool status_compared = false;  // the object's own status was compared with ours (first write)
  uint64_t status_in_flight = 0;
  uint64_t metadata_in_flight = 0;  // finalizer write
  bool retry_wait = false;          // a write to the MultiCasskop failed: wait before the next
  uint64_t retry_token = 0;
  int failures = 0;
  std::map<std::string, std::string> reported;  // what an Event was last recorded for, by topic
  bool restored = false;     // region bookkeeping restored from the object's status
  uint64_t grace_token = 0;  // the timer ending start_grace_ms for a deletion
  // A write to the MultiCasskop itself (status or finalizers) is on its way: they go one at a
  // time, so they never race each other's resourceVersion.
  bool writing() const { return status_in_flight != 0 || metadata_in_flight != 0; }
};

class state_machine {
 public:
  explicit state_machine(machine_options o = {});

  // Folds one event into the state. For each MultiCasskop it concerns, the decision its new
  // state calls for is worked out (plan(), const, on a copy): one without commands holds at
  // once (region phases, conditions); one with commands is kept, not yet made, until a
  // command_issued for it is folded.
  void evolve(const event& e);
  // What to do now: the commands folded events called for that no command_issued has covered
  // yet, in order. Const: asking changes nothing, and asking again gives the same.
  std::vector<command> decide() const;
  // evolve(e), decide(), and the issuance of every command decided, in one call: the live loop
  // for tests, and for replaying journals written before issuance was journaled.
  std::vector<command> apply(const event& e);

  const std::map<mc_key, multicasskop_state>& multicasskops() const { return mcs_; }
  const std::vector<std::string>& clusters() const { return clusters_; }
  const std::map<std::string, cluster_health>& health() const { return health_; }
  // What the state machine knows, as the events that would rebuild it after a restart (for the
  // snapshot at the start of a journal file).
  std::vector<event_body> snapshot() const;
  // The MultiCasskops an event concerns (for per-MultiCasskop journals).
  std::vector<mc_key> concerned(const event& e) const;

 private:
  struct pending_write {
    mc_key key;
    std::string region;  // "" for writes to the MultiCasskop itself
    enum class kind { create, update, seedlist, remove, mc_status, mc_metadata } what;
    bool spec_changed = false;
    std::string uid{};  // remove: the CassandraCluster being deleted
    // seedlist: what was written, and whether through /status
    std::vector<std::string> seeds{};
    bool through_status = false;
  };
  using cc_ref = std::tuple<std::string, std::string, std::string>;  // cluster, ns, name

  // One decision about one MultiCasskop: the state it leaves (its region phases, conditions,
  // writes in flight) and the commands; adopted when its first command is issued (the shell
  // issues every command decide() returns before the next event).
  struct decision {
    uint64_t last_id = 0;  // ids and timer tokens come from this counter
    std::vector<std::pair<uint64_t, pending_write>> pending{};
    std::vector<command> out{};
    uint64_t next_id() { return ++last_id; }
  };
  struct proposal {
    multicasskop_state decided;
    decision d;
  };

  void fold(const event& e, std::set<mc_key>& touched);
  void issued(const command_issued& c);
  void adopt(const mc_key& key);
  void on_write_done(const write_done& w, std::set<mc_key>& touched);
  void observe_cassandracluster(const std::string& cluster, const object_ptr& cc,
                                std::set<mc_key>& touched);
  void observe_multicasskop(const object_ptr& object, std::set<mc_key>& touched);
  // Deciding for one MultiCasskop: changes only `m` (a copy) and `d`.
  void plan(multicasskop_state& m, decision& d) const;
  void plan_deletion(multicasskop_state& m, decision& d) const;
  void plan_rollout(multicasskop_state& m, decision& d) const;
  void write_status(multicasskop_state& m, decision& d) const;
  static void report(multicasskop_state& m, const std::string& topic, const std::string& state,
                     record_event e, std::vector<command>& out);
  void back_off(multicasskop_state& m, const std::string& region, region_state& r, bool long_wait,
                std::vector<command>& out);
  void restore_from_status(multicasskop_state& m);
  void index_owner(const cc_ref& ref, const object_ptr& before, const object_ptr& after);
  void drop_cassandracluster(const cc_ref& ref);
  bool refuse_renamed_base(multicasskop_state& m, decision& d) const;
  bool change_refused(multicasskop_state& m, const std::string& cluster, region_state& r,
                      const k8s::json::Value& cc, std::vector<command>& out) const;
  void write_seedlist(multicasskop_state& m, const std::string& cluster, region_state& r,
                      const object_ptr& cur, const std::vector<std::string>& seeds,
                      decision& d) const;
  const cluster_health& health_of(const std::string& cluster) const;
  bool reachable(const std::string& cluster) const;
  // The cluster has said whether it can be reached, and if so its first list is in.
  bool heard_of(const std::string& cluster) const;
  const object_ptr* observed(const std::string& cluster, const std::string& ns,
                             const std::string& name) const;
  uint64_t next_id() { return ++last_id_; }

  machine_options options_;
  std::vector<std::string> clusters_;
  std::set<std::string> ever_configured_;
  std::map<std::string, cluster_health> health_;
  std::map<mc_key, multicasskop_state> mcs_;
  std::map<cc_ref, object_ptr> ccs_;  // every CassandraCluster we have seen, by cluster
  // Which MultiCasskops want a CassandraCluster of this namespace/name: a CassandraCluster
  // event concerns only them (a scan of every MultiCasskop per event grows with the square).
  std::map<std::pair<std::string, std::string>, std::set<mc_key>> wanted_by_;
  const std::set<mc_key>& wanting(const std::string& ns, const std::string& name) const;
  // The CassandraClusters each MultiCasskop owns (our owner annotation), whatever their name.
  std::map<mc_key, std::set<cc_ref>> owned_;
  // Per cluster, whether its CassandraCluster CRD has a status subresource, as learnt from the
  // answers to our seed list writes (absent: not known, written in the object as CassKop does).
  std::map<std::string, bool> status_subresource_;
  std::map<uint64_t, pending_write> pending_;
  uint64_t last_id_ = 0;
  // Commands folding an event called for (a retry timer, an Event about a write's answer),
  // not issued yet.
  std::vector<command> owed_;
  // Decisions whose commands are not issued yet, by MultiCasskop. A decision without commands
  // is adopted at once.
  std::map<mc_key, proposal> proposals_;
  int64_t now_ = 0;                // time of the last event folded (command_issued aside)
  int64_t started_ms_ = -1;        // time of the first event: when this run began
  bool start_grace_over_ = false;  // a start_grace_ms timer went off
};

// Region readiness: Running and Done, for the spec currently in the object: as the object's
// status.observedGeneration says (our casskop), else as CassKop's record of the spec it last
// reconciled says (CassKop v2.1.0, the fork), else (a CassKop that says neither) once it was seen
// acting on our change or legacy_settle_ms passed.
bool cassandracluster_ready(const k8s::json::Value& cc, const region_state& r);

// The command_issued event the shell records when it carries out `c`.
command_issued issuance_of(const command& c);

}  // namespace mc
