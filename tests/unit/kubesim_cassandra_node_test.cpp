// One simulated Cassandra node: modes at the configured speeds, what its PVC keeps, faults
// (ref = /work/shared/reference/cassandra-nodes.md).
#include <doctest/doctest.h>

#include "tools/kubesim/cassandra/node.h"

namespace {
using namespace kubesim::cassandra;
using namespace std::chrono_literals;

NodeSettings slow() {
  NodeSettings s;
  s.speeds.startup = 10s;
  s.speeds.ring_delay = 30s;
  s.speeds.bootstrap_streaming = 20s;
  s.speeds.decommission_streaming = 15s;
  s.speeds.cleanup_per_keyspace = 5s;
  return s;
}
const Time t0{1'700'000'000'000};
}  // namespace

TEST_CASE("kubesim cassandra: a new non-seed goes STARTING, JOINING, NORMAL at its speeds") {
  Node n({"cc-dc1-rack1-1", "127.1.0.2", "cc", "dc1", "rack1"}, slow());
  REQUIRE_FALSE(n.start(t0, DiskState{}, /*is_seed=*/false, /*joins_a_ring=*/true, 42));
  CHECK(n.mode() == Mode::Starting);
  CHECK_FALSE(n.mbean_registered());  // ref §6: MBean missing early in STARTING
  n.advance(t0 + 5s);
  CHECK(n.mbean_registered());
  CHECK(n.mode() == Mode::Starting);
  n.advance(t0 + 10s);
  CHECK(n.mode() == Mode::Joining);
  // Bootstrap streams while it joins, after RING_DELAY (ref §5 "Entries in CurrentStreams").
  REQUIRE(n.works().size() == 1);
  CHECK_FALSE(n.works()[0].streaming(t0 + 39s));
  CHECK(n.works()[0].streaming(t0 + 40s));
  n.advance(t0 + 59s);
  CHECK(n.mode() == Mode::Joining);
  n.advance(t0 + 60s);  // startup 10 + ring delay 30 + streaming 20
  CHECK(n.mode() == Mode::Normal);
  CHECK(n.works().empty());
  CHECK(n.disk().bootstrapped);
  CHECK(n.disk().tokens.size() == 256);
  CHECK(n.disk().host_id.size() == 36);
  CHECK(std::string(mode_name(n.mode())) == "NORMAL");
}

TEST_CASE(
    "kubesim cassandra: host id and tokens come back from the PVC, and a restart skips JOINING") {
  Node n({"p", "127.1.0.2", "cc", "dc1", "rack1"}, slow());
  REQUIRE_FALSE(n.start(t0, DiskState{}, false, true, 7));
  n.advance(t0 + 60s);
  REQUIRE(n.mode() == Mode::Normal);
  DiskState kept = n.disk();
  n.stop();
  CHECK_FALSE(n.jvm_up());
  // Restarted with another IP and other entropy: the PVC's identity wins.
  n.identity().ip = "127.1.0.9";
  REQUIRE_FALSE(n.start(t0 + 100s, kept, false, true, 999));
  CHECK(n.disk().host_id == kept.host_id);
  CHECK(n.disk().tokens == kept.tokens);
  n.advance(t0 + 110s);
  CHECK(n.mode() == Mode::Normal);  // ref §4 step 2: data on the PVC, no bootstrap
  // A fresh PVC draws a new identity.
  n.stop();
  REQUIRE_FALSE(n.start(t0 + 200s, DiskState{}, false, true, 999));
  CHECK(n.disk().host_id != kept.host_id);
}

TEST_CASE("kubesim cassandra: zero speeds make every step happen at once") {
  Node seed({"s", "127.1.0.1", "cc", "dc1", "rack1"}, NodeSettings{});
  REQUIRE_FALSE(seed.start(t0, DiskState{}, true, false, 1));
  CHECK(seed.mode() == Mode::Normal);
  Node joiner({"j", "127.1.0.2", "cc", "dc1", "rack1"}, NodeSettings{});
  REQUIRE_FALSE(joiner.start(t0, DiskState{}, false, true, 2));
  CHECK(joiner.mode() == Mode::Normal);
  REQUIRE_FALSE(joiner.decommission(t0, 1));
  CHECK(joiner.mode() == Mode::Decommissioned);
}

TEST_CASE(
    "kubesim cassandra: decommission goes LEAVING then DECOMMISSIONED with the JVM still up") {
  Node n({"p", "127.1.0.2", "cc", "dc1", "rack1"}, slow());
  REQUIRE_FALSE(n.start(t0, DiskState{}, true, false, 3));
  n.advance(t0 + 10s);
  REQUIRE(n.mode() == Mode::Normal);
  REQUIRE_FALSE(n.decommission(t0 + 20s, 2));
  CHECK(n.mode() == Mode::Leaving);
  n.advance(t0 + 64s);
  CHECK(n.mode() == Mode::Leaving);
  n.advance(t0 + 65s);  // ring delay 30 + streaming 15
  CHECK(n.mode() == Mode::Decommissioned);
  CHECK(n.jvm_up());  // ref §4: Jolokia keeps answering until the pod is deleted
  CHECK(n.disk().decommissioned);
  // A decommissioned node does not start again on the same data (CASSANDRA-8801).
  DiskState kept = n.disk();
  n.stop();
  auto err = n.start(t0 + 100s, kept, true, false, 3);
  REQUIRE(err);
  CHECK(err->find("This node was decommissioned") == 0);
}

TEST_CASE("kubesim cassandra: decommission is refused outside NORMAL, when alone, and by fault") {
  Node n({"p", "127.1.0.2", "cc", "dc1", "rack1"}, slow());
  REQUIRE_FALSE(n.start(t0, DiskState{}, false, true, 4));
  n.advance(t0 + 10s);
  REQUIRE(n.mode() == Mode::Joining);
  auto e = n.decommission(t0 + 11s, 2);
  REQUIRE(e);
  CHECK(e->type == "java.lang.UnsupportedOperationException");
  CHECK(e->message == "local node is not a member of the token ring yet");
  n.advance(t0 + 60s);
  REQUIRE(n.mode() == Mode::Normal);
  e = n.decommission(t0 + 61s, 0);
  REQUIRE(e);
  CHECK(e->message == "no other normal nodes in the ring; decommission would be pointless");
  n.faults().decommission_refused = "Not enough live nodes to maintain replication factor";
  e = n.decommission(t0 + 62s, 2);
  REQUIRE(e);
  CHECK(e->message == "Not enough live nodes to maintain replication factor");
  CHECK(n.mode() == Mode::Normal);
  n.faults().decommission_refused.clear();
  REQUIRE_FALSE(n.decommission(t0 + 63s, 2));
  e = n.decommission(t0 + 64s, 2);
  REQUIRE(e);
  CHECK(e->message == "Node in LEAVING state; wait for status to become normal or restart");
}

TEST_CASE("kubesim cassandra: stuck faults keep a node JOINING or LEAVING") {
  Node n({"p", "127.1.0.2", "cc", "dc1", "rack1"}, slow());
  n.faults().joining_stuck = true;
  REQUIRE_FALSE(n.start(t0, DiskState{}, false, true, 5));
  n.advance(t0 + 3600s);
  CHECK(n.mode() == Mode::Joining);
  n.faults().joining_stuck = false;
  n.advance(t0 + 3601s);
  CHECK(n.mode() == Mode::Normal);
  n.faults().decommission_stuck = true;
  REQUIRE_FALSE(n.decommission(t0 + 3602s, 1));
  n.advance(t0 + 36000s);
  CHECK(n.mode() == Mode::Leaving);
  REQUIRE(n.works().size() == 1);
  CHECK(n.works()[0].kind == WorkKind::Decommission);
}

TEST_CASE("kubesim cassandra: cleanup work runs for its duration as a Cleanup compaction") {
  Node n({"p", "127.1.0.2", "cc", "dc1", "rack1"}, slow());
  REQUIRE_FALSE(n.start(t0, DiskState{}, true, false, 6));
  n.advance(t0 + 10s);
  int id = n.start_work(t0 + 10s, WorkKind::Cleanup, "ks");
  CHECK_FALSE(n.work_done(id));
  REQUIRE(n.works().size() == 1);
  CHECK(std::string(n.works()[0].compaction_type()) == "Cleanup");
  n.advance(t0 + 15s);
  CHECK(n.work_done(id));
  CHECK(n.works().empty());
}

TEST_CASE(
    "kubesim cassandra: a decommission that is ignored, and a JVM that exits at DECOMMISSIONED") {
  Node n({"p", "127.1.0.2", "cc", "dc1", "rack1"}, NodeSettings{});
  REQUIRE_FALSE(n.start(t0, DiskState{}, true, false, 8));
  n.faults().decommission_ignored = true;
  CHECK_FALSE(n.decommission(t0, 1));  // no error, yet nothing happens (ref §6)
  CHECK(n.mode() == Mode::Normal);
  n.faults().decommission_ignored = false;
  n.faults().exit_when_decommissioned = true;
  REQUIRE_FALSE(n.decommission(t0, 1));
  CHECK(n.mode() == Mode::Decommissioned);
  CHECK_FALSE(n.jvm_up());
}
