// The ring(s) of one simulator: seeds at start, one ring or two, membership views, replication,
// describeRing and nodetool status (ref = /work/shared/reference/cassandra-nodes.md).
#include <doctest/doctest.h>

#include <algorithm>
#include <sstream>
#include <vector>

#include "kubesim_cassandra_world.h"

namespace {
using namespace kubesim_cassandra_test;

std::vector<std::string> lines(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}
// A row's columns split on blanks: status, address, load value, load unit, tokens, owns, ...
std::vector<std::string> fields(const std::string& row) {
  std::vector<std::string> out;
  std::istringstream in(row);
  for (std::string f; in >> f;) out.push_back(f);
  return out;
}
bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}
const std::string kSeeds = "cc-dc1-rack1-0.cc.ns,cc-dc2-rack1-0.cc.ns";

// Three nodes of two DCs started in StatefulSet order, with CassKop's seed list.
void three_nodes(World& w) {
  w.start("cc-dc1-rack1-0", "127.5.0.1", "dc1", "rack1", kSeeds);
  w.run(1s);
  w.start("cc-dc1-rack1-1", "127.5.0.2", "dc1", "rack1", kSeeds);
  w.run(1s);
  w.start("cc-dc2-rack1-0", "127.5.0.3", "dc2", "rack1", kSeeds);
  w.run(1s);
}
}  // namespace

TEST_CASE(
    "kubesim cassandra: scenario - three nodes of two DCs join one ring, UN in two sections") {
  Speeds speeds;
  speeds.startup = 2s;
  speeds.ring_delay = 3s;
  speeds.bootstrap_streaming = 2s;
  speeds.decommission_streaming = 2s;
  World w(speeds);
  StartOutcome first = w.start("cc-dc1-rack1-0", "127.5.0.1", "dc1", "rack1", kSeeds);
  // No seed answers yet (its own JVM is not up): run.sh makes it its own seed, a new ring.
  CHECK(first.founded);
  CHECK(first.is_seed);
  w.run(2s);
  REQUIRE(w.mode("cc-dc1-rack1-0") == Mode::Normal);

  StartOutcome second = w.start("cc-dc1-rack1-1", "127.5.0.2", "dc1", "rack1", kSeeds);
  CHECK_FALSE(second.founded);
  CHECK(second.seed_used == "cc-dc1-rack1-0.cc.ns");
  CHECK(second.ring == first.ring);
  CHECK_FALSE(second.is_seed);
  w.run(2s);
  // A new non-seed bootstraps: JOINING, in every member's JoiningNodes and HostIdMap (ref §4).
  REQUIRE(w.mode("cc-dc1-rack1-1") == Mode::Joining);
  CHECK(w.rings.joining_nodes("cc-dc1-rack1-0") == std::vector<std::string>{"127.5.0.2"});
  CHECK(w.rings.host_id_map("cc-dc1-rack1-0").size() == 2);
  CHECK(w.rings.nodetool_status("cc-dc1-rack1-0").find("UJ  127.5.0.2") != std::string::npos);
  w.run(5s);
  REQUIRE(w.mode("cc-dc1-rack1-1") == Mode::Normal);
  CHECK(w.rings.joining_nodes("cc-dc1-rack1-0").empty());

  // The dc2 seed reaches dc1's seed first in its list: same ring, no bootstrap (a seed).
  StartOutcome third = w.start("cc-dc2-rack1-0", "127.5.0.3", "dc2", "rack1", kSeeds);
  CHECK(third.ring == first.ring);
  CHECK(third.is_seed);
  w.run(2s);
  REQUIRE(w.mode("cc-dc2-rack1-0") == Mode::Normal);
  CHECK(w.rings.rings().size() == 1);

  const std::string status = w.rings.nodetool_status("cc-dc2-rack1-0");
  std::vector<std::string> l = lines(status);
  REQUIRE(l.size() >= 14);
  CHECK(l[0] == "Datacenter: dc1");
  CHECK(l[1] == "===============");
  CHECK(l[2] == "Status=Up/Down");
  CHECK(l[3] == "|/ State=Normal/Leaving/Joining/Moving");
  CHECK(l[4] ==
        "--  Address    Load       Tokens       Owns (effective)  Host ID                        "
        "       Rack");
  CHECK(l[5].rfind("UN  127.5.0.1  ", 0) == 0);
  CHECK(l[6].rfind("UN  127.5.0.2  ", 0) == 0);
  CHECK(l[7] == "Datacenter: dc2");
  CHECK(l[8] == "===============");
  CHECK(l[11] == l[4]);
  CHECK(l[12].rfind("UN  127.5.0.3  ", 0) == 0);
  CHECK(l[13].empty());
  // A row: status, address, load, tokens, owns, host id, rack in their columns.
  const Node* n3 = w.rings.node("cc-dc2-rack1-0");
  std::vector<std::string> f = fields(l[12]);
  REQUIRE(f.size() == 8);
  CHECK(f[3] == "KiB");
  CHECK(f[4] == "256");
  CHECK(f[5].back() == '%');
  CHECK(f[6] == n3->disk().host_id);
  CHECK(f[7] == "rack1");
  // Columns as Status.java's format: the address padded to the longest one, then two blanks.
  CHECK(l[12].substr(0, 17) == "UN  127.5.0.3  " + f[2].substr(0, 2));

  // Decommission: NORMAL -> LEAVING (UL, in LeavingNodes) -> DECOMMISSIONED, out of the ring.
  REQUIRE_FALSE(w.rings.decommission(w.now, "cc-dc1-rack1-1"));
  CHECK(w.mode("cc-dc1-rack1-1") == Mode::Leaving);
  CHECK(w.rings.leaving_nodes("cc-dc1-rack1-0") == std::vector<std::string>{"127.5.0.2"});
  CHECK(w.rings.nodetool_status("cc-dc1-rack1-0").find("UL  127.5.0.2") != std::string::npos);
  w.run(5s);
  CHECK(w.mode("cc-dc1-rack1-1") == Mode::Decommissioned);
  CHECK(w.rings.host_id_map("cc-dc1-rack1-0").size() == 2);
  CHECK_FALSE(contains(w.rings.ring_of("cc-dc1-rack1-0")->members, "cc-dc1-rack1-1"));
  CHECK(w.rings.leaving_nodes("cc-dc1-rack1-0").empty());
  CHECK(w.rings.nodetool_status("cc-dc1-rack1-0").find("127.5.0.2") == std::string::npos);
  // The decommissioned JVM still answers, and its LiveNodes still holds itself (ref §2).
  CHECK(contains(w.rings.live_nodes("cc-dc1-rack1-1"), "127.5.0.2"));

  // A node whose seeds do not answer founds a ring of its own: two rings (ref §6).
  w.seeds_reachable = false;
  StartOutcome lone = w.start("cc-dc3-rack1-0", "127.5.0.9", "dc3", "rack1", kSeeds);
  CHECK(lone.founded);
  CHECK(lone.ring != first.ring);
  w.run(2s);
  CHECK(w.rings.rings().size() == 2);
  std::string lone_status = w.rings.nodetool_status("cc-dc3-rack1-0");
  CHECK(lone_status.find("Datacenter: dc3") == 0);
  CHECK(lone_status.find("127.5.0.1") == std::string::npos);
  CHECK(w.rings.nodetool_status("cc-dc1-rack1-0").find("dc3") == std::string::npos);
}

TEST_CASE("kubesim cassandra: a down node is DN and stays in HostIdMap, LiveNodes drops it") {
  World w;
  three_nodes(w);
  w.rings.stop("cc-dc1-rack1-1");
  CHECK(w.rings.host_id_map("cc-dc1-rack1-0").size() == 3);
  CHECK_FALSE(contains(w.rings.live_nodes("cc-dc1-rack1-0"), "127.5.0.2"));
  CHECK(w.rings.unreachable_nodes("cc-dc1-rack1-0") == std::vector<std::string>{"127.5.0.2"});
  CHECK(w.rings.nodetool_status("cc-dc1-rack1-0").find("DN  127.5.0.2") != std::string::npos);
  // Restarted from its PVC with a new IP: same host id, NORMAL without bootstrap.
  const std::string id = w.pvcs["cc-dc1-rack1-1"].host_id;
  w.start("cc-dc1-rack1-1", "127.5.0.7", "dc1", "rack1", kSeeds);
  w.run(1s);
  CHECK(w.mode("cc-dc1-rack1-1") == Mode::Normal);
  auto map = w.rings.host_id_map("cc-dc1-rack1-0");
  CHECK(std::count(map.begin(), map.end(), std::make_pair(std::string("127.5.0.7"), id)) == 1);
}

TEST_CASE("kubesim cassandra: removeNode of a dead node, refused for a live one or an unknown id") {
  Speeds speeds;
  speeds.remove_streaming = 10s;
  World w(speeds);
  three_nodes(w);
  const std::string live_id = w.pvcs["cc-dc2-rack1-0"].host_id;
  auto r = w.rings.remove_node(w.now, "cc-dc1-rack1-0", live_id);
  REQUIRE(std::holds_alternative<JavaError>(r));
  CHECK(std::get<JavaError>(r).message ==
        "Node /127.5.0.3 is alive and owns this ID. Use decommission command to remove it from "
        "the ring");
  r = w.rings.remove_node(w.now, "cc-dc1-rack1-0", "00000000-0000-4000-8000-000000000000");
  REQUIRE(std::holds_alternative<JavaError>(r));
  CHECK(std::get<JavaError>(r).message == "Host ID not found.");
  r = w.rings.remove_node(w.now, "cc-dc1-rack1-0", w.pvcs["cc-dc1-rack1-0"].host_id);
  CHECK(std::get<JavaError>(r).message == "Cannot remove self");

  w.rings.stop("cc-dc2-rack1-0");
  r = w.rings.remove_node(w.now, "cc-dc1-rack1-0", live_id);
  REQUIRE(std::holds_alternative<int>(r));
  // While it runs, the removed IP is in LeavingNodes (ref §4 "Remove").
  CHECK(w.rings.leaving_nodes("cc-dc1-rack1-0") == std::vector<std::string>{"127.5.0.3"});
  CHECK_FALSE(w.rings.node("cc-dc1-rack1-0")->work_done(std::get<int>(r)));
  w.run(10s);
  CHECK(w.rings.node("cc-dc1-rack1-0")->work_done(std::get<int>(r)));
  CHECK(w.rings.host_id_map("cc-dc1-rack1-0").size() == 2);
  CHECK(w.rings.nodetool_status("cc-dc1-rack1-0").find("dc2") == std::string::npos);
}

TEST_CASE("kubesim cassandra: describeRing follows per-DC replication that a test alters") {
  World w;
  three_nodes(w);
  auto ring = w.rings.describe_ring("cc-dc1-rack1-0", "system_auth");
  REQUIRE(std::holds_alternative<std::vector<std::string>>(ring));
  auto ranges = std::get<std::vector<std::string>>(ring);
  CHECK(ranges.size() == 3 * 256);
  const std::string& first = ranges.front();
  CHECK(first.rfind("TokenRange(start_token:", 0) == 0);
  CHECK(first.find(", endpoints:[127.5.0.") != std::string::npos);
  CHECK(first.find("endpoint_details:[EndpointDetails(host:127.5.0.") != std::string::npos);
  auto in_dc = [&](const std::string& ks, const std::string& dc) {
    auto res = std::get<std::vector<std::string>>(w.rings.describe_ring("cc-dc1-rack1-0", ks));
    return std::any_of(res.begin(), res.end(), [&](const std::string& s) {
      return s.find("datacenter:" + dc) != std::string::npos;
    });
  };
  // SimpleStrategy RF 1 over both DCs: some ranges in dc2 (what blocks a DC scale to 0, ref §4).
  CHECK(in_dc("system_auth", "dc2"));
  REQUIRE_FALSE(w.rings.alter_keyspace("cc-dc1-rack1-0", "system_auth",
                                       {"NetworkTopologyStrategy", {{"dc1", "1"}}}));
  CHECK_FALSE(in_dc("system_auth", "dc2"));
  CHECK(in_dc("system_auth", "dc1"));
  // NTS dc1:2 dc2:1: every range has 3 replicas, 2 in dc1.
  REQUIRE_FALSE(w.rings.alter_keyspace("cc-dc1-rack1-0", "system_auth",
                                       {"NetworkTopologyStrategy", {{"dc1", "2"}, {"dc2", "1"}}}));
  auto nts = w.rings.describe_ring("cc-dc1-rack1-0", "system_auth");
  for (const std::string& s : std::get<std::vector<std::string>>(nts)) {
    size_t n = 0;
    for (size_t p = s.find("EndpointDetails("); p != std::string::npos;
         p = s.find("EndpointDetails(", p + 1))
      ++n;
    REQUIRE(n == 3);
  }
  // LocalStrategy keyspaces have no ring; unknown keyspaces assert (ref §6).
  auto sys = w.rings.describe_ring("cc-dc1-rack1-0", "system");
  REQUIRE(std::holds_alternative<JavaError>(sys));
  CHECK(std::get<JavaError>(sys).type == "java.io.IOException");
  CHECK(std::get<JavaError>(sys).message == "There is no ring for the keyspace: system");
  CHECK(std::get<JavaError>(w.rings.describe_ring("cc-dc1-rack1-0", "nope")).message ==
        "Unknown keyspace nope");
  CHECK(w.rings.keyspace_names("cc-dc2-rack1-0") ==
        std::vector<std::string>{"system", "system_schema", "system_auth", "system_distributed",
                                 "system_traces"});
}

TEST_CASE("kubesim cassandra: nodetool status ownership and its Note as 3.11 computes them") {
  World w;
  three_nodes(w);
  // No user keyspace: effective ownership of system_traces (SimpleStrategy RF 2): the three
  // shares add up to 200%.
  double total = 0;
  for (const std::string& l : lines(w.rings.nodetool_status("cc-dc1-rack1-0"))) {
    if (l.rfind("UN  ", 0) != 0) continue;
    total += std::stod(fields(l)[5]);
  }
  CHECK(total == doctest::Approx(200.0).epsilon(0.002));
  // User keyspaces replicated differently: plain "Owns", "?" and the Note (Status.java).
  Ring* ring = w.rings.ring_of("cc-dc1-rack1-0");
  ring->keyspaces.push_back({"a", {"NetworkTopologyStrategy", {{"dc1", "1"}}}});
  ring->keyspaces.push_back({"b", {"NetworkTopologyStrategy", {{"dc1", "2"}}}});
  std::vector<std::string> l = lines(w.rings.nodetool_status("cc-dc1-rack1-0"));
  CHECK(
      l[4] ==
      "--  Address    Load       Tokens       Owns    Host ID                               Rack");
  CHECK(fields(l[5])[5] == "?");
  CHECK(l[l.size() - 1] ==
        "Note: Non-system keyspaces don't have the same replication settings, effective "
        "ownership information is meaningless");
  CHECK(l[l.size() - 2].empty());
}

TEST_CASE("kubesim cassandra: nodetool status lists a DC's nodes in Java HashMap order") {
  // Status.java groups endpoints in an ArrayListMultimap (a HashMap keyed by InetAddress):
  // bucket = (h ^ h>>>16) & 15: 127.5.0.17 -> 0x11^0x05 = 4, 127.5.0.3 -> 6, 127.5.0.2 -> 7,
  // whatever the tokens and the start order say.
  World w;
  w.start("a-0", "127.5.0.2", "dc1", "r1", "a-0.cc.ns");
  w.start("a-1", "127.5.0.17", "dc1", "r1", "a-0.cc.ns");
  w.start("a-2", "127.5.0.3", "dc1", "r1", "a-0.cc.ns");
  w.run(1s);
  std::vector<std::string> l = lines(w.rings.nodetool_status("a-0"));
  REQUIRE(l.size() >= 8);
  CHECK(l[5].rfind("UN  127.5.0.17  ", 0) == 0);
  CHECK(l[6].rfind("UN  127.5.0.3   ", 0) == 0);
  CHECK(l[7].rfind("UN  127.5.0.2   ", 0) == 0);
}

TEST_CASE("kubesim cassandra: regions form one ring only when seed names resolve across them") {
  // The caller's probe is where name resolution lives (ref §3): here cluster DNS names
  // (<pod>.cc.ns) resolve only inside their own region, zone names (<pod>.zone) everywhere.
  auto run = [](const std::string& seeds) {
    Rings rings;
    std::map<std::string, std::string> region_of = {{"r1-0", "region1"}, {"r2-0", "region2"}};
    auto probe_from = [&](const std::string& region) -> SeedProbe {
      return [&, region](const std::string& name) -> std::optional<std::string> {
        std::string pod = name.substr(0, name.find('.'));
        bool cluster_dns = name.size() > 6 && name.substr(name.size() - 6) == ".cc.ns";
        if (cluster_dns && region_of[pod] != region) return std::nullopt;
        const Node* n = rings.node(pod);
        if (!n || !n->jvm_up()) return std::nullopt;
        return n->identity().ip;
      };
    };
    Time now{1'700'000'000'000};
    rings.start(now,
                {{"r1-0", "127.9.0.1", "cc", "dc1", "rack1"}, seeds, {"r1-0.cc.ns", "r1-0.zone"}},
                {}, probe_from("region1"), 1);
    rings.start(now,
                {{"r2-0", "127.9.0.2", "cc", "dc2", "rack1"}, seeds, {"r2-0.cc.ns", "r2-0.zone"}},
                {}, probe_from("region2"), 2);
    rings.advance(now);
    return rings.rings().size();
  };
  CHECK(run("r1-0.cc.ns,r2-0.cc.ns") == 2);  // no external-DNS names: two rings
  CHECK(run("r1-0.zone,r2-0.zone") == 1);    // what external-DNS publishes: one ring
}
