// One simulated Cassandra node: what a Cassandra 3.11 JVM in a CassKop pod does, as pure logic.
// Time is passed in (milliseconds since the epoch); nothing here reads a clock, opens a socket or
// starts a thread. Facts: /work/shared/reference/cassandra-nodes.md (cited as "ref §N").
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace kubesim::cassandra {

using Millis = std::chrono::milliseconds;
// A point in time: milliseconds since the epoch, given by the caller.
using Time = Millis;

// StorageService.OperationMode of Cassandra (ref §5 "Node state"). The JVM being down is not a
// mode: it is Node::jvm_up().
// DecommissionFailed: what Cassandra 4.1+ reports after a failed decommission (ref §6).
enum class Mode {
  Starting,
  Joining,
  Normal,
  Leaving,
  Decommissioned,
  Moving,
  Draining,
  Drained,
  DecommissionFailed
};
const char* mode_name(Mode m);  // "STARTING", "NORMAL", ... as the OperationMode attribute reads

// How fast a node does things (ref §5 "Configurable ring delay, streaming, cleanup and startup
// times"). Zero is allowed everywhere: the step then happens on the next advance().
struct Speeds {
  Millis startup{0};                 // JVM start until StorageService is registered (STARTING)
  Millis ring_delay{0};              // cassandra_ring_delay_ms (CassKop sets 30000, ref §3)
  Millis bootstrap_streaming{0};     // JOINING: streaming after the ring delay
  Millis decommission_streaming{0};  // LEAVING: streaming after the ring delay
  Millis cleanup_per_keyspace{0};    // forceKeyspaceCleanup, one keyspace
  Millis upgrade_per_keyspace{0};    // upgradeSSTables, one keyspace
  Millis rebuild_streaming{0};       // rebuild(srcDC)
  Millis remove_streaming{0};        // removeNode(hostId), on the node coordinating it
};

// What a real cluster of CassKop would run (cassandra.yaml defaults of 3.11, ref §3).
struct NodeSettings {
  Speeds speeds;
  int num_tokens = 256;                    // cassandra.yaml num_tokens of 3.11
  std::string server_version = "3.11.10";  // v2.1.0's default image cassandra:3.11.10
};

// Kept on the pod's PVC (ref §5 "On the PVC"): survives a restart, wiped with the PVC. The caller
// stores it per PVC and hands it back at the next start; an empty host_id means a fresh disk.
struct DiskState {
  std::string host_id;          // UUID, drawn at the first start
  std::vector<int64_t> tokens;  // Murmur3 tokens, drawn at the first start
  bool bootstrapped = false;    // system.local bootstrapped = COMPLETED
  bool decommissioned = false;  // a decommissioned node refuses to start again on the same data
  int64_t load_bytes = 0;       // what nodetool status shows as Load
};

// Injectable faults of ref §6 (the caller flips them; they act from the next call on).
struct NodeFaults {
  bool decommission_stuck = false;        // stays LEAVING forever once a decommission started
  std::string decommission_refused;       // non-empty: decommission fails with this message
  bool joining_stuck = false;             // stays JOINING forever
  bool decommission_ignored = false;      // accepted, yet the node stays NORMAL (CassKop re-sends)
  bool exit_when_decommissioned = false;  // the JVM exits at DECOMMISSIONED (reads then fail)
  // The StorageService MBean not registered, as early in STARTING: every Jolokia call answers
  // 404 InstanceNotFoundException and the probe fails; the node itself goes on.
  bool mbean_missing = false;
  std::string remove_node_refused;  // non-empty: removeNode on this node fails with this message
  bool remove_node_hang = false;    // a removeNode this node coordinates never ends (EXEC held)
  std::string describe_ring_error;  // non-empty: describeRingJMX fails (java.io.IOException)
  // A decommission streams, then fails: DECOMMISSION_FAILED (4.1+), the node keeps its tokens.
  bool decommission_fails = false;
  std::string crash_at_start;  // non-empty: the JVM exits at every start with this message
};

// Background work that CassKop looks at (ref §1 calls 12 and 13).
enum class WorkKind { Bootstrap, Decommission, Cleanup, UpgradeSSTables, Rebuild, RemoveNode };
struct Work {
  int id = 0;
  WorkKind kind = WorkKind::Cleanup;
  std::string keyspace;  // cleanup/upgrade: the keyspace; rebuild: the source DC
  Time started{0};
  std::optional<Time> ends;  // nullopt: until the node's mode changes (bootstrap, decommission)
  Time streams_from{0};      // bootstrap and decommission stream only after RING_DELAY
  // Shows in StreamManager CurrentStreams at `now`.
  bool streaming(Time now) const;
  const char* compaction_type() const;  // "Cleanup", "Upgrade sstables", or nullptr
};

// A failure of a JMX operation, as Cassandra throws it: the Java exception class and message.
struct JavaError {
  std::string type;  // e.g. "java.lang.UnsupportedOperationException"
  std::string message;
};

// What a node is told at its start: read from the pod spec (ref §3).
struct NodeIdentity {
  std::string pod;      // a key unique in the simulator: the wiring should use <cluster>/<ns>/<pod>
  std::string ip;       // POD_IP (may change on restart)
  std::string cluster;  // CASSANDRA_CLUSTER_NAME
  std::string dc;       // CASSANDRA_DC
  std::string rack;     // CASSANDRA_RACK
};

class Node {
 public:
  Node(NodeIdentity id, NodeSettings settings);

  // Starts the JVM with what the PVC holds. A fresh disk gets a host id and tokens drawn from
  // `random` (the caller's entropy: keeps this deterministic in tests). `is_seed`: the node is in
  // its own seed list (seeds skip bootstrap); `bootstrap_needed`: false when the node founds a
  // ring. Returns an error when Cassandra would exit at start (decommissioned data).
  std::optional<std::string> start(Time now, DiskState disk, bool is_seed, bool joins_a_ring,
                                   uint64_t random);
  // The JVM stops (killed, or the pod deleted): connection refused from now on.
  void stop();
  // Moves the node's timeline to `now` (modes, background work).
  void advance(Time now);

  // decommission() of StorageService (ref §4 "What Cassandra does on decommission").
  // `other_normal_nodes`: how many other NORMAL members the ring has.
  std::optional<JavaError> decommission(Time now, int other_normal_nodes);
  // forceKeyspaceCleanup / upgradeSSTables / rebuild / removeNode: starts blocking work; the
  // Jolokia EXEC answers when work_done(id). `endless`: the work never ends (a hang fault).
  int start_work(Time now, WorkKind kind, std::string keyspace, bool endless = false);
  bool work_done(int id) const;
  const std::vector<Work>& works() const { return works_; }

  const NodeIdentity& identity() const { return id_; }
  NodeIdentity& identity() { return id_; }
  const NodeSettings& settings() const { return settings_; }
  NodeSettings& settings() { return settings_; }
  NodeFaults& faults() { return faults_; }
  const NodeFaults& faults() const { return faults_; }
  const DiskState& disk() const { return disk_; }  // the caller copies it back onto the PVC
  Mode mode() const { return mode_; }
  bool jvm_up() const { return jvm_up_; }
  // StorageService MBean registered: false early in STARTING (ref §6 "MBean missing").
  bool mbean_registered() const { return jvm_up_ && registered_ && !faults_.mbean_missing; }
  bool is_seed() const { return seed_; }
  // In the token ring (tokens taken): NORMAL, LEAVING, MOVING... and JOINING (bootstrap tokens).
  bool in_ring() const;
  // When the current mode started (for the caller's timeouts and tests).
  Time mode_since() const { return mode_since_; }

 private:
  void set_mode(Mode m, Time at);
  NodeIdentity id_;
  NodeSettings settings_;
  NodeFaults faults_;
  DiskState disk_;
  Mode mode_ = Mode::Starting;
  Time mode_since_{0};
  Time started_{0};
  bool jvm_up_ = false;
  bool registered_ = false;
  bool seed_ = false;
  bool needs_bootstrap_ = false;
  int next_work_ = 1;
  std::vector<Work> works_;
};

// A random version-4 UUID from a 64-bit seed (host ids, plan ids).
std::string uuid_from(uint64_t random);

}  // namespace kubesim::cassandra
