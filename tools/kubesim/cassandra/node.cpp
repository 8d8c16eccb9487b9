#include "node.h"

#include <cstdio>
#include <random>

namespace kubesim::cassandra {

const char* mode_name(Mode m) {
  switch (m) {
    case Mode::Starting:
      return "STARTING";
    case Mode::Joining:
      return "JOINING";
    case Mode::Normal:
      return "NORMAL";
    case Mode::Leaving:
      return "LEAVING";
    case Mode::Decommissioned:
      return "DECOMMISSIONED";
    case Mode::Moving:
      return "MOVING";
    case Mode::Draining:
      return "DRAINING";
    case Mode::Drained:
      return "DRAINED";
    case Mode::DecommissionFailed:
      return "DECOMMISSION_FAILED";
  }
  return "UNKNOWN";
}

bool Work::streaming(Time now) const {
  return now >= streams_from && (kind == WorkKind::Bootstrap || kind == WorkKind::Decommission ||
                                 kind == WorkKind::Rebuild || kind == WorkKind::RemoveNode);
}

// CompactionInfo.getTaskType() of the compactions CassKop matches on (ref §1 call 12):
// OperationType.CLEANUP is "Cleanup", OperationType.UPGRADE_SSTABLES is "Upgrade sstables".
const char* Work::compaction_type() const {
  if (kind == WorkKind::Cleanup) return "Cleanup";
  if (kind == WorkKind::UpgradeSSTables) return "Upgrade sstables";
  return nullptr;
}

std::string uuid_from(uint64_t random) {
  std::mt19937_64 gen(random);
  uint64_t hi = gen(), lo = gen();
  hi = (hi & ~0xF000ULL) | 0x4000ULL;              // version 4
  lo = (lo & ~(0xC0ULL << 56)) | (0x80ULL << 56);  // IETF variant
  char buf[37];
  std::snprintf(buf, sizeof buf, "%08x-%04x-%04x-%04x-%012llx", unsigned(hi >> 32),
                unsigned((hi >> 16) & 0xFFFF), unsigned(hi & 0xFFFF), unsigned(lo >> 48),
                static_cast<unsigned long long>(lo & 0xFFFFFFFFFFFFULL));
  return buf;
}

Node::Node(NodeIdentity id, NodeSettings settings)
    : id_(std::move(id)), settings_(std::move(settings)) {}

std::optional<std::string> Node::start(Time now, DiskState disk, bool is_seed, bool joins_a_ring,
                                       uint64_t random) {
  // StorageService.checkForEndpointCollision / prepareToJoin of 3.x: a node whose data says it
  // was decommissioned exits at start (CASSANDRA-8801).
  if (disk.decommissioned)
    return "This node was decommissioned and will not rejoin the ring unless "
           "cassandra.override_decommission=true has been set, or all existing data is removed "
           "and the node is bootstrapped again";
  disk_ = std::move(disk);
  std::mt19937_64 gen(random);
  if (disk_.host_id.empty()) {
    disk_.host_id = uuid_from(gen());
    disk_.tokens.clear();
    for (int i = 0; i < settings_.num_tokens; ++i) disk_.tokens.push_back(int64_t(gen()));
    disk_.load_bytes = 70 * 1024 + int64_t(gen() % (60 * 1024));
    disk_.bootstrapped = false;
  }
  seed_ = is_seed;
  // A seed, a node founding a ring, or one with data already bootstrapped goes straight to
  // NORMAL; a new non-seed joining a ring bootstraps (ref §4 "Scale-up" step 2).
  needs_bootstrap_ = joins_a_ring && !is_seed && !disk_.bootstrapped;
  jvm_up_ = true;
  registered_ = false;
  started_ = now;
  works_.clear();
  set_mode(Mode::Starting, now);
  advance(now);
  return std::nullopt;
}

void Node::stop() {
  jvm_up_ = false;
  registered_ = false;
  works_.clear();
}

void Node::set_mode(Mode m, Time at) {
  mode_ = m;
  mode_since_ = at;
}

void Node::advance(Time now) {
  if (!jvm_up_) return;
  const Speeds& s = settings_.speeds;
  // The StorageService MBean is registered half-way through the start: before, every Jolokia
  // call on it answers InstanceNotFoundException (ref §6 "MBean missing early in STARTING").
  if (!registered_ && now >= started_ + s.startup / 2) registered_ = true;
  if (mode_ == Mode::Starting && now >= started_ + s.startup) {
    Time at = started_ + s.startup;
    if (needs_bootstrap_) {
      set_mode(Mode::Joining, at);
      works_.push_back(
          Work{next_work_++, WorkKind::Bootstrap, "", at, std::nullopt, at + s.ring_delay});
    } else {
      set_mode(Mode::Normal, at);
      disk_.bootstrapped = true;
    }
  }
  // JOINING: RING_DELAY, then streaming, then NORMAL (ref §4 step 2).
  if (mode_ == Mode::Joining && !faults_.joining_stuck &&
      now >= mode_since_ + s.ring_delay + s.bootstrap_streaming) {
    Time at = mode_since_ + s.ring_delay + s.bootstrap_streaming;
    for (Work& w : works_)
      if (w.kind == WorkKind::Bootstrap) w.ends = at;
    set_mode(Mode::Normal, at);
    disk_.bootstrapped = true;
    needs_bootstrap_ = false;
    disk_.load_bytes += 40 * 1024;
  }
  // LEAVING: RING_DELAY, then streaming, then DECOMMISSIONED; the JVM and Jolokia stay up
  // (ref §4 "What Cassandra does on decommission").
  if (mode_ == Mode::Leaving && !faults_.decommission_stuck &&
      now >= mode_since_ + s.ring_delay + s.decommission_streaming) {
    Time at = mode_since_ + s.ring_delay + s.decommission_streaming;
    for (Work& w : works_)
      if (w.kind == WorkKind::Decommission) w.ends = at;
    if (faults_.decommission_fails) {
      // 4.1's StorageService.decommission: streaming failed, the node stays a member.
      set_mode(Mode::DecommissionFailed, at);
    } else {
      set_mode(Mode::Decommissioned, at);
      // StorageService.leaveRing: bootstrap state NEEDS_BOOTSTRAP; the data says decommissioned.
      disk_.bootstrapped = false;
      disk_.decommissioned = true;
      if (faults_.exit_when_decommissioned) jvm_up_ = false;
    }
  }
  for (auto it = works_.begin(); it != works_.end();) {
    if (it->ends && now >= *it->ends)
      it = works_.erase(it);
    else
      ++it;
  }
}

bool Node::in_ring() const {
  return mode_ == Mode::Joining || mode_ == Mode::Normal || mode_ == Mode::Leaving ||
         mode_ == Mode::Moving || mode_ == Mode::Draining || mode_ == Mode::Drained ||
         mode_ == Mode::DecommissionFailed;
}

std::optional<JavaError> Node::decommission(Time now, int other_normal_nodes) {
  advance(now);
  const std::string unsupported = "java.lang.UnsupportedOperationException";
  if (!faults_.decommission_refused.empty())
    return JavaError{unsupported, faults_.decommission_refused};
  // StorageService.decommission() of 3.11, in its order of checks.
  if (mode_ != Mode::Leaving && (!in_ring() || mode_ == Mode::Joining))
    return JavaError{unsupported, "local node is not a member of the token ring yet"};
  if (other_normal_nodes < 1)
    return JavaError{unsupported,
                     "no other normal nodes in the ring; decommission would be pointless"};
  // 4.1 lets a decommission that failed be sent again.
  if (mode_ != Mode::Normal && mode_ != Mode::DecommissionFailed)
    return JavaError{unsupported, std::string("Node in ") + mode_name(mode_) +
                                      " state; wait for status to become normal or restart"};
  if (faults_.decommission_ignored) return std::nullopt;
  set_mode(Mode::Leaving, now);
  works_.push_back(Work{next_work_++, WorkKind::Decommission, "", now, std::nullopt,
                        now + settings_.speeds.ring_delay});
  advance(now);
  return std::nullopt;
}

int Node::start_work(Time now, WorkKind kind, std::string keyspace, bool endless) {
  advance(now);
  const Speeds& s = settings_.speeds;
  Millis d{0};
  switch (kind) {
    case WorkKind::Cleanup:
      d = s.cleanup_per_keyspace;
      break;
    case WorkKind::UpgradeSSTables:
      d = s.upgrade_per_keyspace;
      break;
    case WorkKind::Rebuild:
      d = s.rebuild_streaming;
      break;
    case WorkKind::RemoveNode:
      d = s.remove_streaming;
      break;
    default:
      break;
  }
  int id = next_work_++;
  works_.push_back(Work{id, kind, std::move(keyspace), now,
                        endless ? std::nullopt : std::optional<Time>(now + d), now});
  return id;
}

bool Node::work_done(int id) const {
  for (const Work& w : works_)
    if (w.id == id) return false;
  return true;
}

}  // namespace kubesim::cassandra
