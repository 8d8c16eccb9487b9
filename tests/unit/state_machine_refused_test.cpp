// A change CassKop refuses (CorrectCRDConfig: it writes the old values back): the region is
// reported Degraded (reason ChangeRefused) with the fields, later regions never get the change,
// nothing is written again until the MultiCasskop changes, and fixing the MultiCasskop resumes
// the rollout (README "The MultiCasskop resource"; state_machine.cpp change_refused).
#include <doctest/doctest.h>

#include <random>

#include "actors/multicasskop/logic/cache_trim.h"
#include "actors/multicasskop/logic/inspect.h"
#include "actors/multicasskop/logic/journal.h"
#include "actors/multicasskop/logic/replay.h"
#include "tests/unit/multicasskop_world.h"

using testworld::fake_world;
namespace js = k8s::json;

namespace {

const std::vector<std::string> abc = {"a", "b", "c"};

std::string spec_with(const std::string& capacity, const std::string& image = "cassandra:3.11") {
  return R"({"base":{"apiVersion":"db.orange.com/v2","kind":"CassandraCluster",
    "metadata":{"name":"cassandra-e2e","namespace":"ns"},
    "spec":{"nodesPerRacks":1,"dataCapacity":")" +
         capacity + R"(","cassandraImage":")" + image + R"("}},
    "override":{"a":{"spec":{"topology":{"dc":[{"name":"dc1"}]}}},
                "b":{"spec":{"topology":{"dc":[{"name":"dc2"}]}}},
                "c":{"spec":{"topology":{"dc":[{"name":"dc3"}]}}}}})";
}

std::string region(const fake_world& w, const std::string& name, const char* field) {
  const js::Value* regions = js::find_path(*w.multicasskop(), {"status", "regions"});
  if (regions && regions->IsArray())
    for (const auto& r : regions->GetArray())
      if (js::get_string(r, "name") == name) return std::string(js::get_string(r, field));
  return "";
}

std::string spec_field(const fake_world& w, const std::string& cluster, const char* field) {
  const js::Value* cc = w.cc(cluster);
  return cc ? std::string(js::get_string(*cc, {"spec", field})) : "";
}

size_t patches_to(const fake_world& w, const std::string& cluster, size_t from = 0) {
  size_t n = 0;
  for (size_t i = from; i < w.issued().size(); ++i)
    if (auto* p = std::get_if<mc::patch_cassandracluster>(&w.issued()[i]);
        p && p->cluster == cluster && !p->status)
      ++n;
  return n;
}

std::vector<std::string> events(const fake_world& w, const std::string& reason, size_t from = 0) {
  std::vector<std::string> out;
  for (size_t i = from; i < w.issued().size(); ++i)
    if (auto* e = std::get_if<mc::record_event>(&w.issued()[i]); e && e->reason == reason)
      out.push_back(e->message);
  return out;
}

// A converged world whose CassKop refuses dataCapacity changes.
fake_world refusing_world(int legacy) {
  fake_world w(abc);
  w.legacy_casskop = legacy;
  w.auto_casskop = true;
  w.refused_fields = {"dataCapacity"};
  w.set_multicasskop(spec_with("1Gi"));
  w.run();
  REQUIRE(w.condition("Ready") == "True");
  return w;
}

}  // namespace

TEST_CASE(
    "refused change: the region is Degraded with the fields, later regions never get it, and "
    "nothing is pushed again") {
  for (int legacy : {0, 2}) {  // observedGeneration (our casskop), CassKop v2.1.0's record
    CAPTURE(legacy);
    fake_world w = refusing_world(legacy);
    const size_t from = w.issued().size();
    w.set_multicasskop(spec_with("2Gi"));
    w.run();  // timers included: settle timers go off too

    CHECK(spec_field(w, "a", "dataCapacity") == "1Gi");  // CassKop wrote it back
    CHECK(region(w, "a", "phase") == "Degraded");
    CHECK(region(w, "a", "reason") == "ChangeRefused");
    CHECK(region(w, "a", "message").find("spec.dataCapacity: 2Gi written, 1Gi found") !=
          std::string::npos);
    CHECK(w.condition("Ready") == "False");
    CHECK(w.condition("Progressing") == "False");
    CHECK(testworld::condition_field(w, "Progressing", "reason") == "ChangeRefused");
    CHECK(w.condition("Degraded") == "True");
    CHECK(testworld::condition_field(w, "Degraded", "reason") == "ChangeRefused");
    CHECK(testworld::condition_field(w, "Degraded", "message").find("region a:") == 0);
    // Later regions are not released with it.
    CHECK(region(w, "b", "phase") == "Waiting");
    CHECK(spec_field(w, "b", "dataCapacity") == "1Gi");
    CHECK(patches_to(w, "b", from) == 0);
    CHECK(patches_to(w, "c", from) == 0);
    // One write to region a, one Event, however long it stays so.
    CHECK(patches_to(w, "a", from) == 1);
    const auto refused = events(w, "ChangeRefused", from);
    REQUIRE(refused.size() == 1);
    CHECK(refused[0].find("region a: CassKop refused the change of CassandraCluster "
                          "cassandra-e2e") == 0);
    CHECK(refused[0].find("spec.dataCapacity: 2Gi written, 1Gi found") != std::string::npos);
    w.now += 3'600'000;
    w.casskop_done("a");  // CassKop passes again: its action moves on, the refusal stays
    w.run();
    CHECK(region(w, "a", "phase") == "Degraded");
    CHECK(patches_to(w, "a", from) == 1);
    CHECK(events(w, "ChangeRefused", from).size() == 1);

    // The user sets the old value back: region a recovers, the rollout goes on.
    const size_t fixed = w.issued().size();
    w.set_multicasskop(spec_with("1Gi"));
    w.run();
    CHECK(w.condition("Ready") == "True");
    CHECK(w.condition("Degraded") == "False");
    for (const auto& c : abc) {
      CHECK(region(w, c, "phase") == "Ready");
      CHECK(spec_field(w, c, "dataCapacity") == "1Gi");
    }
    CHECK(events(w, "ChangeRefused", fixed).empty());
    CHECK(w.violations.empty());
  }
}

TEST_CASE(
    "refused change: other changes still reach the Degraded region, later regions wait for the "
    "fix and then get them") {
  fake_world w = refusing_world(2);
  w.set_multicasskop(spec_with("2Gi"));
  w.run();
  REQUIRE(region(w, "a", "phase") == "Degraded");
  const size_t from = w.issued().size();
  w.set_multicasskop(spec_with("2Gi", "cassandra:4.0"));
  w.run();
  // Only what changed is written (the refused value is not sent again); CassKop takes it and its
  // action is no longer CorrectCRDConfig, but the refusal is remembered.
  REQUIRE(patches_to(w, "a", from) == 1);
  const auto& patch = std::get<mc::patch_cassandracluster>(*std::find_if(
      w.issued().begin() + static_cast<long>(from), w.issued().end(),
      [](const mc::command& c) { return std::holds_alternative<mc::patch_cassandracluster>(c); }));
  CHECK(js::find_path(js::parse(patch.merge_patch), {"spec", "dataCapacity"}) == nullptr);
  CHECK(js::find_path(js::parse(patch.merge_patch), {"spec", "cassandraImage"}) != nullptr);
  CHECK(spec_field(w, "a", "cassandraImage") == "cassandra:4.0");
  CHECK(js::get_string(*w.cc("a"), {"status", "lastClusterAction"}) != "CorrectCRDConfig");
  CHECK(region(w, "a", "phase") == "Degraded");
  CHECK(spec_field(w, "b", "cassandraImage") == "cassandra:3.11");

  w.set_multicasskop(spec_with("1Gi", "cassandra:4.0"));
  w.run();
  CHECK(w.condition("Ready") == "True");
  for (const auto& c : abc) {
    CHECK(spec_field(w, c, "cassandraImage") == "cassandra:4.0");
    CHECK(spec_field(w, c, "dataCapacity") == "1Gi");
  }
}

TEST_CASE(
    "refused change: a restart keeps the region Degraded without a new Event or write, and a "
    "replayed journal decides the same") {
  fake_world w = refusing_world(2);
  w.set_multicasskop(spec_with("2Gi"));
  w.run();
  REQUIRE(region(w, "a", "phase") == "Degraded");
  w.casskop_done("a");  // CorrectCRDConfig gone from the status: only our record tells
  w.run();
  const size_t from = w.issued().size();
  std::mt19937 rng(7);
  w.restart_operator();
  w.run(&rng);
  CHECK(region(w, "a", "phase") == "Degraded");
  CHECK(events(w, "ChangeRefused", from).empty());
  CHECK(patches_to(w, "a", from) == 0);
  CHECK(patches_to(w, "b", from) == 0);

  // The journal of the run after the restart replays to the same decisions.
  mc::journal_replay replay;
  std::vector<std::string> replayed, live;
  bool after_restart = false;
  size_t n = 0;
  for (const auto& e : w.journal) {
    if (std::holds_alternative<mc::clusters_configured>(e.body) && ++n == 2) after_restart = true;
    if (!after_restart) continue;
    for (auto& c : replay.feed(mc::decode_event(mc::encode_event(e))))
      replayed.push_back(mc::summarize_command(c));
  }
  for (size_t i = from; i < w.issued().size(); ++i)
    live.push_back(mc::summarize_command(w.issued()[i]));
  CHECK(replayed == live);
  const mc::journal none(1);
  CHECK(mc::inspect(replay.machine(), none) == mc::inspect(w.machine(), none));
}

TEST_CASE("refused change: what the cache keeps of a CassandraCluster names the fields") {
  auto ours = js::parse(R"({"nodesPerRacks":2,"dataCapacity":"2Gi","deletePVC":false,
    "topology":{"dc":[{"name":"dc1","dataStorageClass":"ssd","rack":[{"name":"r1"},{"name":"r2"}]}]}})");
  // CassKop's Go types drop false and "" (not a change), fill what we did not set (not ours).
  auto found = js::parse(R"({"nodesPerRacks":2,"dataCapacity":"1Gi","cassandraImage":"x",
    "topology":{"dc":[{"name":"dc1","dataStorageClass":"hdd","rack":[{"name":"r1"}]}]}})");
  CHECK(mc::refusable_fields_differing(ours, found) ==
        std::vector<std::string>{"spec.dataCapacity: 2Gi written, 1Gi found",
                                 "spec.topology.dc[0].dataStorageClass: ssd written, hdd found",
                                 "spec.topology.dc[0].rack: [r1,r2] written, [r1] found"});
  CHECK(mc::refusable_fields_differing(ours, ours).empty());

  // Trimmed: the spec goes, the differing fields stay (and are journaled with the object).
  js::Document cc = js::parse(R"({"metadata":{"name":"x","namespace":"ns","annotations":{}},
    "status":{"lastClusterAction":"CorrectCRDConfig"}})");
  auto& a = cc.GetAllocator();
  js::Document record(rapidjson::kObjectType);
  record.AddMember("spec", js::Value(ours, record.GetAllocator()), record.GetAllocator());
  js::set_string(cc["metadata"]["annotations"], mc::last_applied_annotation, js::to_string(record),
                 a);
  cc.AddMember("spec", js::Value(found, a), a);
  auto trimmed = mc::trim_for_cache(std::make_shared<const js::Document>(std::move(cc)),
                                    mc::watched_kind::cassandracluster);
  CHECK(js::find(*trimmed, "spec") == nullptr);
  CHECK(mc::fields_changed_since_our_write(*trimmed).size() == 3);
  const auto line = mc::encode_event(mc::event{1, 1, mc::cassandracluster_seen{"a", trimmed}});
  const auto decoded = mc::decode_event(line);
  const auto& seen = std::get<mc::cassandracluster_seen>(decoded.body);
  CHECK(mc::fields_changed_since_our_write(*seen.object) ==
        mc::fields_changed_since_our_write(*trimmed));
  // `multi-casskop replay` shows it on the event's line.
  CHECK(mc::summarize_event(decoded).find(R"("changedSinceOurWrite":3)") != std::string::npos);
}

TEST_CASE(
    "refused change: in any interleaving, no write ever carries the refused value to a later "
    "region, and the fix converges") {
  for (int legacy : {0, 2}) {
    for (unsigned seed = 1; seed <= 25; ++seed) {
      CAPTURE(legacy);
      CAPTURE(seed);
      std::mt19937 rng(seed);
      fake_world w = refusing_world(legacy);
      std::vector<std::string> leaked;
      w.before_write = [&](const fake_world&, const mc::command& c) {
        const auto* p = std::get_if<mc::patch_cassandracluster>(&c);
        const auto* cr = std::get_if<mc::create_cassandracluster>(&c);
        if (p && p->cluster != "a" && p->merge_patch.find("2Gi") != std::string::npos)
          leaked.push_back(p->cluster + ": " + p->merge_patch);
        if (cr && cr->cluster != "a" && js::to_string(*cr->object).find("2Gi") != std::string::npos)
          leaked.push_back(cr->cluster + " created with 2Gi");
      };
      const size_t from = w.issued().size();
      w.set_multicasskop(spec_with("2Gi"));
      w.run(&rng);
      CHECK(leaked.empty());
      CHECK(region(w, "a", "phase") == "Degraded");
      CHECK(patches_to(w, "a", from) <= 2);  // a second one only after a conflict
      CHECK(events(w, "ChangeRefused", from).size() == 1);
      w.set_multicasskop(spec_with("1Gi"));
      w.run(&rng);
      CHECK(w.condition("Ready") == "True");
      CHECK(leaked.empty());
      CHECK(w.violations.empty());
    }
  }
}
