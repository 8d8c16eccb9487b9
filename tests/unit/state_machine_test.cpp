// The MultiCasskop state machine as a specification (the rules: README.md, "The MultiCasskop
// resource").
#include <doctest/doctest.h>

#include <algorithm>

#include "actors/multicasskop/logic/seeds.h"
#include "tests/unit/multicasskop_world.h"

using testworld::fake_world;
namespace js = k8s::json;

namespace {

const std::vector<std::string> three = {"k8s-cluster1", "k8s-cluster2", "k8s-cluster3"};

std::string spec_for(const std::vector<std::string>& regions, int nodes = 1,
                     const std::string& extra = "") {
  std::string overrides;
  int dc = 1;
  for (const auto& r : regions) {
    if (!overrides.empty()) overrides += ",";
    overrides += "\"" + r + "\":{\"spec\":{\"topology\":{\"dc\":[{\"name\":\"dc" +
                 std::to_string(dc++) + "\",\"rack\":[{\"name\":\"rack1\"}]}]}}}";
  }
  return R"({"deleteCassandraCluster":true,)" + extra +
         R"("base":{"apiVersion":"db.orange.com/v2","kind":"CassandraCluster","metadata":{"name":"cassandra-e2e","namespace":"ns","labels":{"app":"c"}},"spec":{"nodesPerRacks":)" +
         std::to_string(nodes) +
         R"(,"cassandraImage":"cassandra:3.11.10","autoPilot":true}},"override":{)" + overrides +
         "}}";
}

int count_patches(const fake_world& w, const std::string& cluster, bool status) {
  int n = 0;
  for (const auto& c : w.issued())
    if (auto* p = std::get_if<mc::patch_cassandracluster>(&c);
        p && p->cluster == cluster && p->status == status)
      ++n;
  return n;
}

std::vector<std::string> event_reasons(const fake_world& w) {
  std::vector<std::string> out;
  for (const auto& c : w.issued())
    if (auto* e = std::get_if<mc::record_event>(&c)) out.push_back(e->reason);
  return out;
}

bool has(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

}  // namespace

TEST_CASE("state machine: regions are created one after the other, each once Ready") {
  fake_world w(three);
  w.set_multicasskop(spec_for(three));
  w.run();
  // Only the first region exists until CassKop says it is Running/Done.
  CHECK(w.creates() == std::vector<std::string>{"k8s-cluster1"});
  CHECK(w.cc("k8s-cluster2") == nullptr);
  w.casskop_ongoing("k8s-cluster1");
  w.run();
  CHECK(w.cc("k8s-cluster2") == nullptr);
  w.casskop_done("k8s-cluster1");
  w.run();
  CHECK(w.creates() == std::vector<std::string>{"k8s-cluster1", "k8s-cluster2"});
  w.casskop_done("k8s-cluster2");
  w.run();
  CHECK(w.creates() == three);
  CHECK(w.condition("Ready") == "False");
  CHECK(w.condition("Progressing") == "True");
  w.casskop_done("k8s-cluster3");
  w.run();
  CHECK(w.condition("Ready") == "True");
  CHECK(w.condition("Progressing") == "False");
  CHECK(w.condition("Degraded") == "False");
  CHECK(js::get_string(*w.multicasskop(), {"status", "rollingRegion"}) == "");
  // The finalizer of the original operator is on the MultiCasskop (deleteCassandraCluster).
  CHECK(js::to_string(*js::find_path(*w.multicasskop(), {"metadata", "finalizers"})) ==
        R"(["kubernetes.io/multi-casskop"])");
  auto reasons = event_reasons(w);
  CHECK(std::count(reasons.begin(), reasons.end(), "CassandraClusterCreated") == 3);
  CHECK(std::count(reasons.begin(), reasons.end(), "RegionReady") == 3);
}

TEST_CASE("state machine: the desired CassandraCluster is base merged with the region's override") {
  fake_world w({"a", "b"});
  w.auto_casskop = true;
  w.set_multicasskop(
      R"({"base":{"metadata":{"name":"c1","namespace":"ns","labels":{"x":"1"}},"spec":{"autoPilot":true,"nodesPerRacks":3,"hardAntiAffinity":true,"pod":{"annotations":{"k":"v"}}}},
    "override":{"a":{"spec":{"autoPilot":false,"nodesPerRacks":0,"imagepullpolicy":""}},
                "b":{"metadata":{"labels":{"x":null,"y":"2"}},"spec":{"hardAntiAffinity":null,"pod":{"annotations":{"k2":"v2"}}}}}})");
  w.run();
  const js::Value* a = w.cc("a");
  const js::Value* b = w.cc("b");
  REQUIRE(a);
  REQUIRE(b);
  // false, 0 and "" override (the original's mergo could not); null removes.
  CHECK(js::get_bool(*a, {"spec", "autoPilot"}, true) == false);
  CHECK(js::get_int(*a, {"spec", "nodesPerRacks"}, -1) == 0);
  CHECK(js::get_string(*a, {"spec", "imagepullpolicy"}, "unset") == "");
  CHECK(js::find_path(*b, {"spec", "hardAntiAffinity"}) == nullptr);
  CHECK(js::to_string(*js::find_path(*b, {"spec", "pod", "annotations"})) ==
        R"({"k":"v","k2":"v2"})");
  CHECK(js::to_string(*js::find_path(*b, {"metadata", "labels"})) == R"({"y":"2"})");
  CHECK(js::get_string(*a, {"metadata", "annotations", "multicasskop.db.orange.com/owner"}) ==
        "ns/mcc");
}

TEST_CASE("state machine: a region without an override entry is not deployed") {
  fake_world w(three);
  w.auto_casskop = true;
  w.set_multicasskop(spec_for({"k8s-cluster1", "k8s-cluster3"}));
  w.run();
  CHECK(w.creates() == std::vector<std::string>{"k8s-cluster1", "k8s-cluster3"});
  CHECK(w.condition("Ready") == "True");
  const js::Value* regions = js::find_path(*w.multicasskop(), {"status", "regions"});
  REQUIRE(regions);
  CHECK(js::get_string((*regions)[1], "phase") == "NotDeployed");
}

TEST_CASE("state machine: a spec change rolls region by region, never on a stale Running") {
  fake_world w(three);
  w.auto_casskop = true;
  w.set_multicasskop(spec_for(three, 1));
  w.run();
  REQUIRE(w.condition("Ready") == "True");
  w.auto_casskop = false;
  w.set_multicasskop(spec_for(three, 2));
  w.run();
  // Region 1 got the new spec; its status still says Running/Done from before (stale), but
  // its observedGeneration is older than the new generation: region 2 must wait.
  CHECK(js::get_int(*w.cc("k8s-cluster1"), {"spec", "nodesPerRacks"}, 0) == 2);
  CHECK(js::get_int(*w.cc("k8s-cluster2"), {"spec", "nodesPerRacks"}, 0) == 1);
  CHECK(w.condition("Ready") == "False");
  CHECK(js::get_string(*w.multicasskop(), {"status", "rollingRegion"}) == "k8s-cluster1");
  w.casskop_done("k8s-cluster1");
  w.run();
  CHECK(js::get_int(*w.cc("k8s-cluster2"), {"spec", "nodesPerRacks"}, 0) == 2);
  CHECK(js::get_int(*w.cc("k8s-cluster3"), {"spec", "nodesPerRacks"}, 0) == 1);
  w.casskop_done("k8s-cluster2");
  w.run();
  w.casskop_done("k8s-cluster3");
  w.run();
  CHECK(js::get_int(*w.cc("k8s-cluster3"), {"spec", "nodesPerRacks"}, 0) == 2);
  CHECK(w.condition("Ready") == "True");
  CHECK(w.creates().size() == 3);  // updates, never re-creates
}

TEST_CASE(
    "state machine: with a CassKop that reports no observedGeneration, Ready needs a visible "
    "action") {
  mc::machine_options o;
  o.legacy_settle_ms = 5000;
  fake_world w({"a", "b"}, o);
  w.legacy_casskop = 1;
  w.auto_casskop = true;
  w.set_multicasskop(spec_for({"a", "b"}, 1));
  w.run();
  REQUIRE(w.condition("Ready") == "True");
  w.auto_casskop = false;
  w.hold_timers = true;
  w.set_multicasskop(spec_for({"a", "b"}, 2));
  w.run();
  // Status of a is still Running/Done from before, with no way to tell: b waits.
  CHECK(js::get_int(*w.cc("b"), {"spec", "nodesPerRacks"}, 0) == 1);
  w.casskop_ongoing("a");
  w.casskop_done("a");
  w.run();
  CHECK(js::get_int(*w.cc("b"), {"spec", "nodesPerRacks"}, 0) == 2);
  // Without any visible action, the settle time releases the next region.
  w.set_multicasskop(spec_for({"a", "b"}, 3));
  w.run();
  CHECK(js::get_int(*w.cc("a"), {"spec", "nodesPerRacks"}, 0) == 3);
  CHECK(js::get_int(*w.cc("b"), {"spec", "nodesPerRacks"}, 0) == 2);
  w.hold_timers = false;
  w.run();
  CHECK(js::get_int(*w.cc("b"), {"spec", "nodesPerRacks"}, 0) == 3);
}

TEST_CASE("state machine: deletion removes every region's CassandraCluster, then the finalizer") {
  fake_world w(three);
  w.auto_casskop = true;
  w.set_multicasskop(spec_for(three));
  w.run();
  REQUIRE(w.cc("k8s-cluster3"));
  w.set_reachable("k8s-cluster2", false);
  w.run();
  w.delete_multicasskop();
  w.run();
  // One region cannot be reached: its CassandraCluster stays, and so does the finalizer.
  CHECK(w.cc("k8s-cluster1") == nullptr);
  CHECK(w.cc("k8s-cluster2") != nullptr);
  CHECK(w.cc("k8s-cluster3") == nullptr);
  REQUIRE(w.multicasskop());
  const js::Value* regions = js::find_path(*w.multicasskop(), {"status", "regions"});
  REQUIRE(regions);
  CHECK(js::get_string((*regions)[1], "phase") == "Unreachable");
  w.set_reachable("k8s-cluster2", true);
  w.run();
  CHECK(w.cc("k8s-cluster2") == nullptr);
  CHECK(w.multicasskop() == nullptr);  // finalizer removed: the object is gone
}

TEST_CASE("state machine: deleteCassandraCluster false leaves the CassandraClusters") {
  fake_world w({"a"});
  w.auto_casskop = true;
  w.set_multicasskop(
      R"({"deleteCassandraCluster":false,"base":{"metadata":{"name":"c1","namespace":"ns"},"spec":{}},"override":{"a":{}}})");
  w.run();
  CHECK(js::find_path(*w.multicasskop(), {"metadata", "finalizers"}) == nullptr);
  w.delete_multicasskop();
  w.run();
  CHECK(w.cc("a") != nullptr);
  CHECK(w.multicasskop() == nullptr);
}

TEST_CASE("state machine: turning deleteCassandraCluster off removes the finalizer") {
  fake_world w({"a"});
  w.auto_casskop = true;
  w.set_multicasskop(
      R"({"deleteCassandraCluster":true,"base":{"metadata":{"name":"c1","namespace":"ns"},"spec":{}},"override":{"a":{}}})");
  w.run();
  REQUIRE(js::find_path(*w.multicasskop(), {"metadata", "finalizers"}));
  w.set_multicasskop(
      R"({"deleteCassandraCluster":false,"base":{"metadata":{"name":"c1","namespace":"ns"},"spec":{}},"override":{"a":{}}})");
  w.run();
  const js::Value* f = js::find_path(*w.multicasskop(), {"metadata", "finalizers"});
  CHECK((f == nullptr || f->Empty()));
}

TEST_CASE(
    "state machine: an override naming no configured cluster is reported, others proceed, never "
    "Ready") {
  fake_world w({"a", "b"});
  w.auto_casskop = true;
  w.set_multicasskop(spec_for({"a", "typo", "b"}));
  w.run();
  CHECK(w.creates() == std::vector<std::string>{"a", "b"});
  CHECK(w.condition("Degraded") == "True");
  // Every region it names is not Ready: `kubectl wait --for=condition=Ready` must not pass.
  CHECK(w.condition("Ready") == "False");
  CHECK(testworld::condition_field(w, "Ready", "reason") == "UnknownRegion");
  CHECK(testworld::condition_field(w, "Ready", "message").find("2 of 2 regions Ready, but") == 0);
  CHECK(has(event_reasons(w), "UnknownRegion"));
  const js::Value* conds = js::find_path(*w.multicasskop(), {"status", "conditions"});
  bool found = false;
  for (const auto& c : conds->GetArray())
    if (js::get_string(c, "type") == "Degraded") {
      CHECK(js::get_string(c, "reason") == "UnknownRegion");
      CHECK(std::string(js::get_string(c, "message")).find("\"typo\"") != std::string::npos);
      found = true;
    }
  CHECK(found);
}

TEST_CASE("state machine: an invalid base is reported and nothing is written") {
  fake_world w({"a"});
  w.set_multicasskop(R"({"base":{"metadata":{"name":"Not_Valid"},"spec":{}},"override":{"a":{}}})");
  w.run();
  CHECK(w.creates().empty());
  CHECK(w.condition("Ready") == "False");
  CHECK(w.condition("Degraded") == "True");
  CHECK(has(event_reasons(w), "InvalidBase"));
  w.set_multicasskop(R"({"base":"nope","override":{"a":{}}})");
  w.run();
  CHECK(w.creates().empty());
  // Fixing it resumes.
  w.set_multicasskop(R"({"base":{"metadata":{"name":"ok"},"spec":{}},"override":{"a":{}}})");
  w.run();
  CHECK(w.creates() == std::vector<std::string>{"a"});
}

TEST_CASE("state machine: a CassandraCluster not created by us is never touched") {
  fake_world w({"a", "b"});
  w.auto_casskop = true;
  w.put_foreign_cassandracluster("a", "cassandra-e2e");
  w.run();
  w.set_multicasskop(spec_for({"a", "b"}));
  w.run();
  CHECK(w.creates().empty());
  CHECK(count_patches(w, "a", false) == 0);
  CHECK(w.condition("Degraded") == "True");
  CHECK(has(event_reasons(w), "ForeignCassandraCluster"));
}

TEST_CASE(
    "state machine: an unreachable region blocks the ones after it, not other MultiCasskops' "
    "earlier regions") {
  fake_world w(three);
  w.auto_casskop = true;
  w.set_reachable("k8s-cluster2", false);
  w.run();
  w.set_multicasskop(spec_for(three));
  w.run();
  CHECK(w.creates() == std::vector<std::string>{"k8s-cluster1"});
  CHECK(w.condition("Degraded") == "True");
  CHECK(has(event_reasons(w), "RegionUnreachable"));
  w.set_reachable("k8s-cluster2", true);
  w.run();
  CHECK(w.creates() == three);
  CHECK(w.condition("Ready") == "True");
  CHECK(w.condition("Degraded") == "False");
}

TEST_CASE(
    "state machine: a Ready region that stops being Ready is reported once, and Ready again once "
    "back") {
  fake_world w({"a", "b"});
  w.set_multicasskop(spec_for({"a", "b"}));
  w.run();
  w.casskop_done("a");
  w.run();
  w.casskop_done("b");
  w.run();
  REQUIRE(w.condition("Ready") == "True");
  auto count = [&](const std::string& reason) {
    auto r = event_reasons(w);
    return std::count(r.begin(), r.end(), reason);
  };
  REQUIRE(count("RegionReady") == 2);
  // CassKop takes region b out of Running/Done with no change of ours (same generation).
  for (int flap = 1; flap <= 3; ++flap) {
    CAPTURE(flap);
    w.casskop_ongoing("b");
    w.run();
    w.casskop_ongoing("b");  // read again, still not Ready: nothing new
    w.run();
    CHECK(w.condition("Ready") == "False");
    CHECK(count("RegionNotReady") == flap);
    w.casskop_done("b");
    w.run();
    CHECK(w.condition("Ready") == "True");
    CHECK(count("RegionReady") == 2 + flap);
  }
  for (const auto& c : w.issued())
    if (auto* e = std::get_if<mc::record_event>(&c); e && e->reason == "RegionNotReady") {
      CHECK(e->type == "Warning");
      CHECK(e->region == "b");
      CHECK(e->message.find("region b is no longer Ready") != std::string::npos);
    }
  // A spec change of ours takes regions out of Ready too: that is an update, not a warning.
  w.set_multicasskop(spec_for({"a", "b"}, 2));
  w.run();
  w.casskop_done("a");
  w.run();
  w.casskop_done("b");
  w.run();
  CHECK(w.condition("Ready") == "True");
  CHECK(count("RegionNotReady") == 3);
  CHECK(count("CassandraClusterUpdated") == 2);
}

TEST_CASE("state machine: failed writes back off, are reported, and are retried") {
  fake_world w({"a"});
  w.auto_casskop = true;
  w.fail_writes("a", true);  // the watch is fine, writes fail (e.g. an unreachable API)
  w.set_multicasskop(spec_for({"a"}));
  for (int i = 0; i < 40; ++i) w.step(nullptr);
  CHECK(w.creates().size() >= 2);  // retried
  CHECK(w.cc("a") == nullptr);
  CHECK(w.condition("Degraded") == "True");
  CHECK(has(event_reasons(w), "WriteFailed"));
  // The delays grow: each retry timer is longer than the one before, up to the cap.
  std::vector<int64_t> delays;
  for (const auto& c : w.issued())
    if (auto* t = std::get_if<mc::start_timer>(&c)) delays.push_back(t->delay_ms);
  REQUIRE(delays.size() >= 3);
  CHECK(delays[1] > delays[0]);
  w.fail_writes("a", false);
  w.run();
  CHECK(w.cc("a") != nullptr);
  CHECK(w.condition("Ready") == "True");
  CHECK(w.condition("Degraded") == "False");
}

TEST_CASE("state machine: seeds given in base.status.seedlist are written unchanged") {
  fake_world w({"a", "b"});
  w.auto_casskop = true;
  w.set_multicasskop(
      R"({"base":{"metadata":{"name":"c"},"spec":{},"status":{"seedlist":["s1.zone","s2.zone"]}},"override":{"a":{},"b":{}}})");
  w.run();
  for (const char* r : {"a", "b"})
    CHECK(js::to_string(*js::find_path(*w.cc(r), {"status", "seedlist"})) ==
          R"(["s1.zone","s2.zone"])");
}

TEST_CASE("state machine: seeds computed from the topology and a DNS domain, 3 per DC at most") {
  fake_world w({"a", "b"});
  w.auto_casskop = true;
  w.set_multicasskop(
      R"({"seeds":{"dnsDomain":"my.zone"},"base":{"metadata":{"name":"c"},"spec":{"nodesPerRacks":2}},
    "override":{"a":{"spec":{"topology":{"dc":[{"name":"dc1","rack":[{"name":"rack1"},{"name":"rack2"}]}]}}},
                "b":{"spec":{"topology":{"dc":[{"name":"dc2","nodesPerRacks":4,"rack":[{"name":"rack4"}]}]}}}}})");
  w.run();
  const char* expected =
      R"(["c-dc1-rack1-0.my.zone","c-dc1-rack1-1.my.zone","c-dc1-rack2-0.my.zone","c-dc2-rack4-0.my.zone","c-dc2-rack4-1.my.zone","c-dc2-rack4-2.my.zone"])";
  CHECK(js::to_string(*js::find_path(*w.cc("a"), {"status", "seedlist"})) == expected);
  CHECK(js::to_string(*js::find_path(*w.cc("b"), {"status", "seedlist"})) == expected);
  CHECK(js::to_string(*js::find_path(*w.multicasskop(), {"status", "seedlist"})) == expected);
}

TEST_CASE("seeds: CassKop's InitSeedList rule") {
  auto seeds = [](const char* spec) {
    auto d = js::parse(spec);
    std::string out;
    for (auto& s : mc::seeds_of("cc", d, "z")) out += s + " ";
    return out;
  };
  CHECK(seeds(R"({})") == "cc-dc1-rack1-0.z ");
  CHECK(seeds(R"({"nodesPerRacks":5})") == "cc-dc1-rack1-0.z cc-dc1-rack1-1.z cc-dc1-rack1-2.z ");
  CHECK(
      seeds(
          R"({"nodesPerRacks":1,"topology":{"dc":[{"name":"d","rack":[{"name":"r1"},{"name":"r2"}]}]}})") ==
      "cc-d-r1-0.z cc-d-r2-0.z ");
  CHECK(
      seeds(
          R"({"nodesPerRacks":3,"topology":{"dc":[{"name":"d","rack":[{"name":"r1"},{"name":"r2"},{"name":"r3"},{"name":"r4"},{"name":"r5"}]}]}})") ==
      "cc-d-r1-0.z cc-d-r2-0.z cc-d-r3-0.z ");
  CHECK(seeds(R"({"topology":{"dc":[{"name":"d1"},{"name":"d2","nodesPerRacks":2}]}})") ==
        "cc-d1-rack1-0.z cc-d2-rack1-0.z cc-d2-rack1-1.z ");
}

TEST_CASE("state machine: after a restart the state is rebuilt and nothing is created twice") {
  fake_world w(three);
  w.auto_casskop = true;
  w.set_multicasskop(spec_for(three));
  w.run();
  REQUIRE(w.condition("Ready") == "True");
  // A new process: a fresh machine fed the initial lists of every watcher.
  mc::state_machine fresh;
  int64_t t = w.now;
  std::vector<mc::command> cmds;
  auto feed = [&](mc::event_body b) {
    auto out = fresh.apply(mc::event{0, t += 10, std::move(b)});
    cmds.insert(cmds.end(), out.begin(), out.end());
  };
  feed(mc::clusters_configured{three});
  for (const auto& c : three) {
    feed(mc::cassandracluster_seen{c, std::make_shared<const js::Document>([&] {
                                     js::Document d;
                                     d.CopyFrom(*w.cc(c), d.GetAllocator());
                                     return d;
                                   }())});
    feed(mc::cluster_health{c, true, true, ""});
  }
  js::Document mcd;
  mcd.CopyFrom(*w.multicasskop(), mcd.GetAllocator());
  feed(mc::multicasskop_seen{std::make_shared<const js::Document>(std::move(mcd))});
  for (const auto& c : cmds) {
    CHECK_FALSE(std::holds_alternative<mc::create_cassandracluster>(c));
    CHECK_FALSE(std::holds_alternative<mc::patch_cassandracluster>(c));
    CHECK_FALSE(std::holds_alternative<mc::patch_multicasskop>(c));  // status already true
  }
}

TEST_CASE("state machine: randomized interleavings keep the invariants") {
  for (unsigned seed = 1; seed <= 200; ++seed) {
    std::mt19937 rng(seed);
    fake_world w(three);
    // Invariant: a region is created or changed only when every region before it is Ready
    // for the current spec; a create never targets an existing object (checked by the world).
    w.before_write = [&](const fake_world& world, const mc::command& c) {
      std::string target;
      bool spec_write = false;
      if (auto* cr = std::get_if<mc::create_cassandracluster>(&c)) {
        target = cr->cluster;
        spec_write = true;
      } else if (auto* p = std::get_if<mc::patch_cassandracluster>(&c); p && !p->status) {
        target = p->cluster;
        spec_write = mc::patch_changes_spec(p->merge_patch);
      }
      if (!spec_write) return;
      for (const auto& r : three) {
        if (r == target) break;
        if (!world.truly_ready(r))
          w.violations.push_back("seed " + std::to_string(seed) + ": wrote " + target + " while " +
                                 r + " not Ready");
      }
    };
    w.set_multicasskop(spec_for(three, 1));
    int nodes = 1;
    for (int round = 0; round < 60; ++round) {
      int action = std::uniform_int_distribution<int>(0, 9)(rng);
      if (action == 0 && nodes < 4)
        w.set_multicasskop(spec_for(three, ++nodes));
      else if (action <= 3)
        w.casskop_done(three[std::uniform_int_distribution<size_t>(0, 2)(rng)]);
      else if (action == 4)
        w.casskop_ongoing(three[std::uniform_int_distribution<size_t>(0, 2)(rng)]);
      for (int i = 0; i < 5; ++i) w.step(&rng);
    }
    // Let everything settle: CassKop finishes whatever is pending.
    for (int i = 0; i < 10; ++i) {
      w.run(&rng);
      for (const auto& r : three) w.casskop_done(r);
    }
    w.run(&rng);
    REQUIRE_MESSAGE(w.violations.empty(), w.violations.front());
    CHECK(w.creates().size() == 3);
    for (const auto& r : three) {
      REQUIRE(w.cc(r));
      CHECK(js::get_int(*w.cc(r), {"spec", "nodesPerRacks"}, 0) == nodes);
    }
    CHECK(w.condition("Ready") == "True");
  }
}

namespace {

mc::object_ptr shared_copy(const js::Value& v) {
  auto d = std::make_shared<js::Document>();
  d->CopyFrom(v, d->GetAllocator());
  return d;
}

}  // namespace

TEST_CASE(
    "state machine: a CassandraCluster deleted at once is deleted once, before its watch event") {
  fake_world w({"a"});
  w.auto_casskop = true;
  w.set_multicasskop(spec_for({"a"}));
  w.run();
  REQUIRE(w.condition("Ready") == "True");
  // The server answers an immediate delete with the object as it was, or with a Status (null).
  for (bool with_object : {true, false}) {
    CAPTURE(with_object);
    mc::state_machine sm;
    int64_t t = w.now;
    auto feed = [&](mc::event_body b) { return sm.apply(mc::event{0, t += 10, std::move(b)}); };
    feed(mc::clusters_configured{{"a"}});
    feed(mc::cassandracluster_seen{"a", shared_copy(*w.cc("a"))});
    feed(mc::cluster_health{"a", true, true, ""});
    js::Document deleting;
    deleting.CopyFrom(*w.multicasskop(), deleting.GetAllocator());
    js::set_string(deleting["metadata"], "deletionTimestamp", "2026-01-01T00:00:00Z",
                   deleting.GetAllocator());
    auto out = feed(mc::multicasskop_seen{shared_copy(deleting)});
    const mc::delete_cassandracluster* del = nullptr;
    const mc::patch_multicasskop* status = nullptr;
    for (const auto& c : out) {
      if (auto* d = std::get_if<mc::delete_cassandracluster>(&c)) del = d;
      if (auto* p = std::get_if<mc::patch_multicasskop>(&c); p && p->status) status = p;
    }
    REQUIRE(del != nullptr);
    REQUIRE(status != nullptr);
    mc::write_done done;
    done.command_id = del->id;
    done.ok = true;
    if (with_object) done.object = shared_copy(*w.cc("a"));
    auto after_delete = feed(done);  // the watch's DELETED has not arrived yet
    mc::write_done status_done;
    status_done.command_id = status->id;
    status_done.ok = true;
    auto after_status = feed(status_done);  // the finalizer waits for our status write
    bool finalizer_removed = false;
    for (const auto* cmds : {&after_delete, &after_status})
      for (const auto& c : *cmds) {
        CHECK_FALSE(std::holds_alternative<mc::delete_cassandracluster>(c));
        if (auto* p = std::get_if<mc::patch_multicasskop>(&c); p && !p->status)
          finalizer_removed = true;
      }
    CHECK(finalizer_removed);
  }
}

TEST_CASE(
    "state machine: after a restart, nothing is written before every region's cluster was heard "
    "of") {
  fake_world w(three);
  w.auto_casskop = true;
  w.set_multicasskop(spec_for(three));
  w.run();
  REQUIRE(w.condition("Ready") == "True");
  const int64_t t = w.now + 60'000;
  mc::state_machine sm;
  std::vector<mc::command> out;
  auto feed = [&](mc::event_body b) {
    auto o = sm.apply(mc::event{0, t, std::move(b)});
    out.insert(out.end(), o.begin(), o.end());
  };
  feed(mc::clusters_configured{three});
  feed(mc::multicasskop_seen{shared_copy(*w.multicasskop())});
  // Lists arrive one after the other, some clusters still connecting: no guess is written.
  for (const auto& c : three) {
    feed(mc::cluster_health{c, true, false, ""});
    CHECK(out.empty());
  }
  for (const auto& c : three) {
    feed(mc::cassandracluster_seen{c, shared_copy(*w.cc(c))});
    feed(mc::cluster_health{c, true, true, ""});
  }
  // Everything as the status says: nothing at all to write, no Event.
  for (const auto& c : out) MESSAGE(mc::kind_name(c));
  CHECK(out.empty());
}
