// Restarts, leader changes and deletion, where races hide: the finalizer before anything is
// created, writes in flight during a deletion, one write at a time to the MultiCasskop, and a
// restart that changes nothing on a Ready MultiCasskop. Randomized runs print their seed.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <random>

#include "actors/multicasskop/logic/spec.h"
#include "tests/unit/multicasskop_world.h"

using testworld::fake_world;
namespace js = k8s::json;

namespace {

const std::vector<std::string> abc = {"a", "b", "c"};

std::string spec_of(int nodes, bool delete_ccs = true) {
  return std::string(R"({"deleteCassandraCluster":)") + (delete_ccs ? "true" : "false") +
         R"(,"base":{"apiVersion":"db.orange.com/v2","kind":"CassandraCluster",
    "metadata":{"name":"cassandra-e2e","namespace":"ns"},"spec":{"nodesPerRacks":)" +
         std::to_string(nodes) + R"(}},
    "override":{"a":{"spec":{"topology":{"dc":[{"name":"dc1"}]}}},"b":{"spec":{"topology":{"dc":[{"name":"dc2"}]}}},
                "c":{"spec":{"topology":{"dc":[{"name":"dc3"}]}}}}})";
}

std::vector<std::string> reasons(const fake_world& w, size_t from = 0) {
  std::vector<std::string> out;
  for (size_t i = from; i < w.issued().size(); ++i)
    if (auto* e = std::get_if<mc::record_event>(&w.issued()[i])) out.push_back(e->reason);
  return out;
}

size_t writes_since(const fake_world& w, size_t from) {
  size_t n = 0;
  for (size_t i = from; i < w.issued().size(); ++i) {
    const auto& c = w.issued()[i];
    if (std::holds_alternative<mc::create_cassandracluster>(c) ||
        std::holds_alternative<mc::patch_cassandracluster>(c) ||
        std::holds_alternative<mc::delete_cassandracluster>(c) ||
        std::holds_alternative<mc::patch_multicasskop>(c))
      ++n;
  }
  return n;
}

}  // namespace

TEST_CASE("lifecycle: nothing is created before our finalizer is on the MultiCasskop") {
  fake_world w(abc);
  w.auto_casskop = true;
  w.set_multicasskop(spec_of(1));
  REQUIRE(w.step(nullptr));    // the MultiCasskop is seen: the finalizer patch goes out
  w.held = {"writes/", "mc"};  // its answer and the watch event showing it are slow to come
  w.run();
  CHECK(w.creates().empty());
  w.held.clear();
  w.run();
  CHECK(w.creates() == abc);
  CHECK(w.violations.empty());
}

TEST_CASE("lifecycle: a MultiCasskop deleted before its finalizer landed leaves nothing behind") {
  fake_world w(abc);
  w.auto_casskop = true;
  w.set_multicasskop(spec_of(1));
  // Deleted by the user at once, before the operator even saw it: no finalizer, gone.
  w.delete_multicasskop();
  w.held.clear();
  w.run();
  CHECK(w.multicasskop() == nullptr);
  for (const auto& c : abc) CHECK(w.cc(c) == nullptr);
}

TEST_CASE(
    "lifecycle: a create in flight to a slow region when the MultiCasskop is deleted is deleted "
    "once it lands") {
  fake_world w(abc);
  w.auto_casskop = true;
  w.set_multicasskop(spec_of(1));
  w.held = {"writes/b", "cc/b"};  // region b answers slowly
  w.run();
  REQUIRE(w.cc("a"));
  REQUIRE(w.cc("b"));  // the create landed; its answer (and b's watch) did not reach us yet
  w.delete_multicasskop();
  w.run();
  CHECK(w.cc("a") == nullptr);
  REQUIRE(w.multicasskop() != nullptr);  // the finalizer waits for b's write
  const js::Value* regions = js::find_path(*w.multicasskop(), {"status", "regions"});
  REQUIRE(regions);
  CHECK(js::get_string((*regions)[1], "phase") == "Deleting");
  w.held.clear();
  w.run();
  CHECK(w.cc("b") == nullptr);
  CHECK(w.cc("c") == nullptr);
  CHECK(w.multicasskop() == nullptr);
  CHECK(w.violations.empty());
}

TEST_CASE(
    "lifecycle: a Ready MultiCasskop after a restart (or leader change): no write, no Event, in "
    "any order of the lists") {
  for (int legacy : {0, 2}) {
    for (unsigned seed = 1; seed <= 30; ++seed) {
      CAPTURE(legacy);
      CAPTURE(seed);
      std::mt19937 rng(seed);
      fake_world w(abc);
      w.legacy_casskop = legacy;
      w.auto_casskop = true;
      w.set_multicasskop(spec_of(1));
      w.run();
      REQUIRE(w.condition("Ready") == "True");
      const std::string status_before = js::to_string((*w.multicasskop())["status"]);
      const size_t from = w.issued().size();
      w.now += 3'600'000;  // an hour later: any new condition time would differ
      w.restart_operator();
      w.run(&rng);
      CHECK(writes_since(w, from) == 0);
      CHECK(reasons(w, from).empty());
      CHECK(js::to_string((*w.multicasskop())["status"]) == status_before);
    }
  }
}

TEST_CASE(
    "lifecycle: a restart mid-update never releases the next region early, with or without "
    "CassKop's record") {
  for (int legacy : {1, 2}) {
    CAPTURE(legacy);
    mc::machine_options o;
    o.legacy_settle_ms = 60'000;
    fake_world w(abc, o);
    w.legacy_casskop = legacy;
    w.auto_casskop = true;
    w.set_multicasskop(spec_of(1));
    w.run();
    REQUIRE(w.condition("Ready") == "True");
    w.auto_casskop = false;
    w.hold_timers = true;
    w.set_multicasskop(spec_of(2));
    w.run();
    REQUIRE(js::get_int(*w.cc("a"), {"spec", "nodesPerRacks"}, 0) == 2);
    // Region a still shows Running/Done from before. Killed here, started again.
    w.restart_operator();
    w.run();
    CHECK(js::get_int(*w.cc("b"), {"spec", "nodesPerRacks"}, 0) == 1);
    w.casskop_ongoing("a");
    w.casskop_done("a");
    w.run();
    CHECK(js::get_int(*w.cc("b"), {"spec", "nodesPerRacks"}, 0) == 2);
  }
}

// Random interleavings of every source, slow regions, restarts (kill -9), spec changes and a
// deletion at a random moment: afterwards nothing is left, nothing was written out of order, and
// no two writes to the MultiCasskop overlapped. The seed is printed on failure (CAPTURE).
TEST_CASE(
    "lifecycle: randomized runs with restarts, slow regions and a deletion leave nothing behind") {
  const unsigned only =
      std::getenv("SEED") ? static_cast<unsigned>(std::atoi(std::getenv("SEED"))) : 0;
  for (unsigned seed = only ? only : 1; seed <= (only ? only : 150); ++seed) {
    CAPTURE(seed);
    std::mt19937 rng(seed);
    auto pick = [&](int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng); };
    mc::machine_options o;
    o.start_grace_ms = 1000;  // the fake world's time moves 10 ms per event
    fake_world w(abc, o);
    w.legacy_casskop = pick(2) ? 2 : 0;
    w.before_write = [&](const fake_world& world, const mc::command& c) {
      std::string target;
      if (auto* cr = std::get_if<mc::create_cassandracluster>(&c))
        target = cr->cluster;
      else if (auto* p = std::get_if<mc::patch_cassandracluster>(&c);
               p && mc::patch_changes_spec(p->merge_patch))
        target = p->cluster;
      if (target.empty()) return;
      if (world.multicasskop() && !js::find_path(*world.multicasskop(), {"metadata", "finalizers"}))
        w.violations.push_back("wrote " + target + " before the finalizer was on the MultiCasskop");
      for (const auto& r : abc) {
        if (r == target) break;
        if (!world.truly_ready(r))
          w.violations.push_back("wrote " + target + " while " + r + " not Ready");
      }
    };
    w.set_multicasskop(spec_of(1));
    int nodes = 1;
    bool deleted = false;
    for (int round = 0; round < 80; ++round) {
      switch (pick(12)) {
        case 0:
          if (!deleted && nodes < 4) w.set_multicasskop(spec_of(++nodes));
          break;
        case 1:
          w.restart_operator();
          break;
        case 2: {  // a slow region: its writes land late, their answers come later still
          const auto& c = abc[static_cast<size_t>(pick(3))];
          w.slow_links = {c};
          w.held = {"writes/" + c, "transit/" + c};
          break;
        }
        case 3:
          w.held.clear();
          break;
        case 4:
          if (!deleted && round > 10) {
            w.delete_multicasskop();
            deleted = true;
          }
          break;
        case 5:
          w.casskop_ongoing(abc[static_cast<size_t>(pick(3))]);
          break;
        default:
          w.casskop_done(abc[static_cast<size_t>(pick(3))]);
      }
      for (int i = 0; i < 6; ++i) w.step(&rng);
    }
    if (!deleted) w.delete_multicasskop();
    w.held.clear();
    for (int i = 0; i < 10; ++i) {
      w.run(&rng);
      for (const auto& r : abc) w.casskop_done(r);
    }
    w.run(&rng);
    REQUIRE_MESSAGE(w.violations.empty(), w.violations.front());
    CHECK(w.multicasskop() == nullptr);
    for (const auto& r : abc) CHECK_MESSAGE(w.cc(r) == nullptr, "left behind in ", r);
  }
}

TEST_CASE("lifecycle: a create the killed run sent lands after the restart: the deletion waits for it and deletes it") {
  mc::machine_options o;
  o.start_grace_ms = 3000;
  fake_world w(abc, o);
  w.auto_casskop = true;
  w.set_multicasskop(spec_of(1));
  w.slow_links = {"b"};
  w.max_transit_ms = 2000;  // within the grace, as an API server's request timeout is
  w.held = {"transit/b"};   // region b's create is on its way
  w.advance_time = false;
  w.run();
  REQUIRE(w.cc("a"));
  REQUIRE_FALSE(w.cc("b"));
  w.delete_multicasskop();  // deleted while the operator is down; it restarts knowing nothing of b's create
  w.restart_operator();
  w.hold_timers = true;
  w.run();
  CHECK(w.cc("a") == nullptr);
  REQUIRE(w.multicasskop() != nullptr);  // region b is absent, but may not be for long
  const js::Value* regions = js::find_path(*w.multicasskop(), {"status", "regions"});
  REQUIRE(regions);
  CHECK(std::string(js::get_string((*regions)[1], "message")).find("previous run") != std::string::npos);
  w.held.clear();  // the create lands: seen, and deleted
  w.run();
  CHECK(w.cc("b") == nullptr);
  w.hold_timers = false;  // the grace ends
  w.advance_time = true;
  w.run();
  CHECK(w.multicasskop() == nullptr);
  CHECK(w.cc("b") == nullptr);
}
