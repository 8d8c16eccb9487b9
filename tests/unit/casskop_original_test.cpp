// kubesim's CassKop v2.1.0 stand-in, pass by pass: what the original writes into a
// CassandraCluster and when (tools/kubesim/casskop_original.h).
#include <doctest/doctest.h>

#include <string>

#include "k8s/json/json.h"
#include "tools/kubesim/casskop_original.h"

namespace {

namespace js = k8s::json;
using namespace kubesim::casskop;

// The object as a server without a status subresource keeps it: a plain update replaces it
// whole, and any change outside metadata bumps the generation.
struct plain_server {
  js::Document cc;
  int writes = 0;

  explicit plain_server(const std::string& json) : cc(js::parse(json)) {
    auto& a = cc.GetAllocator();
    auto& meta = cc["metadata"];
    meta.AddMember("uid", "u-1", a);
    meta.AddMember("generation", 1, a);
    meta.AddMember("resourceVersion", "1", a);
  }
  void put(js::Document next) {
    auto& a = next.GetAllocator();
    const int64_t gen = js::get_int(cc, {"metadata", "generation"}, 1);
    bool outside_metadata = false;
    for (const char* k : {"spec", "status"}) {
      const js::Value* before = js::find(cc, k);
      const js::Value* after = js::find(next, k);
      if ((before == nullptr) != (after == nullptr) || (before && *before != *after))
        outside_metadata = true;
    }
    js::set_member(next["metadata"], "generation", js::Value(gen + (outside_metadata ? 1 : 0)), a);
    js::set_string(next["metadata"], "resourceVersion", std::to_string(++writes + 1), a);
    cc = std::move(next);
  }
};

struct standin {
  plain_server server;
  original_memory memory;
  original_pace pace{50, 200, 100};
  int64_t now = 1'800'000'000'000;
  bool held = false;

  explicit standin(const std::string& json) : server(json) {}

  // One pass at `now`; true when it wrote.
  bool pass() {
    auto p = reconcile_original(server.cc, memory, now, pace, held);
    if (!p.update) return false;
    server.put(std::move(*p.update));
    return true;
  }
  // Passes (each one `step` ms after the previous) until nothing is written.
  void settle(int64_t step = 10) {
    for (int i = 0; i < 20 && pass(); ++i) now += step;
  }
  // Time passes; CassKop passes at its requeue.
  void run_for(int64_t ms) {
    for (int64_t end = now + ms; now < end; now += pace.requeue_ms) settle();
  }
  std::string status(const char* field) const {
    return std::string(js::get_string(server.cc, {"status", field}));
  }
  std::string cluster() const {
    return status("phase") + "/" + status("lastClusterAction") + "/" +
           status("lastClusterActionStatus");
  }
  std::string rack(const std::string& name, const char* field = "phase") const {
    const js::Value* r = js::find_path(server.cc, {"status", "cassandraRackStatus", name});
    if (!r) return "";
    if (std::string_view(field) == "phase") return std::string(js::get_string(*r, "phase"));
    return std::string(js::get_string(*r, {"cassandraLastAction", field}));
  }
  // CassKop's record says it has reconciled the spec the object has now.
  bool reconciled_current_spec() const {
    auto record = js::get_string(server.cc, {"metadata", "annotations", kLastAppliedAnnotation});
    if (record.empty()) return false;
    auto d = js::parse(record);
    const js::Value* spec = js::find(d, "spec");
    return spec && *spec == server.cc["spec"];
  }
  void patch_spec(const std::string& merge) {
    auto p = js::parse(merge);
    for (auto& m : p.GetObject())
      js::set_member(server.cc["spec"], js::view(m.name),
                     js::Value(m.value, server.cc.GetAllocator()), server.cc.GetAllocator());
    js::set_member(server.cc["metadata"], "generation",
                   js::Value(js::get_int(server.cc, {"metadata", "generation"}, 0) + 1),
                   server.cc.GetAllocator());
  }
};

const char* two_racks = R"({"apiVersion":"db.orange.com/v2","kind":"CassandraCluster",
  "metadata":{"name":"cc","namespace":"ns","labels":{"app":"x"}},
  "spec":{"nodesPerRacks":1,"dataCapacity":"1Gi","unknownField":"dropped",
          "topology":{"dc":[{"name":"dc1","rack":[{"name":"rack1"},{"name":"rack2"}]}]}}})";

}  // namespace

TEST_CASE(
    "casskop v2.1.0: the first pass writes SetDefaults with one plain update, status included") {
  standin s(
      R"({"apiVersion":"db.orange.com/v2","kind":"CassandraCluster","metadata":{"name":"cc","namespace":"ns"},
               "spec":{"deletePVC":true,"resources":{"requests":{"cpu":"1"}}}})");
  auto p = reconcile_original(s.server.cc, s.memory, s.now, s.pace, false);
  REQUIRE(p.update);
  CHECK(p.requeue_after_ms == 0);  // Requeue: true
  const js::Value& cc = *p.update;
  CHECK(js::get_int(cc, {"spec", "nodesPerRacks"}, 0) == 1);
  CHECK(js::get_int(cc, {"spec", "maxPodUnavailable"}, 0) == 1);
  CHECK(js::to_string(*js::find_path(cc, {"spec", "resources", "limits"})) == R"({"cpu":"1"})");
  CHECK(js::to_string(*js::find_path(cc, {"spec", "topology"})) ==
        R"({"dc":[{"name":"dc1","rack":[{"name":"rack1"}]}]})");
  CHECK(js::get_string(cc, {"status", "phase"}) == "Initializing");
  CHECK(js::to_string(*js::find_path(cc, {"status", "seedlist"})) == R"(["cc-dc1-rack1-0.cc.ns"])");
  CHECK(js::get_string(cc, {"status", "cassandraRackStatus", "dc1-rack1", "cassandraLastAction",
                            "status"}) == "Ongoing");
  CHECK(js::to_string(*js::find_path(cc, {"metadata", "finalizers"})) ==
        R"(["kubernetes.io/pvc-to-delete"])");
  // Not yet: CheckDefaults and the last-applied record come with the next pass.
  CHECK(js::get_string(cc, {"spec", "cassandraImage"}).empty());
  CHECK(js::get_string(cc, {"metadata", "annotations", kLastAppliedAnnotation}).empty());
}

TEST_CASE("casskop v2.1.0: a given seed list is kept, InitSeedList takes 3 per DC") {
  standin given(
      R"({"apiVersion":"db.orange.com/v2","kind":"CassandraCluster","metadata":{"name":"cc","namespace":"ns"},
                   "spec":{"nodesPerRacks":3},"status":{"seedlist":["a.example","b.example"]}})");
  given.pass();
  CHECK(js::to_string(*js::find_path(given.server.cc, {"status", "seedlist"})) ==
        R"(["a.example","b.example"])");
  CHECK(given.status("phase") == "Initializing");

  standin computed(
      R"({"apiVersion":"db.orange.com/v2","kind":"CassandraCluster","metadata":{"name":"cc","namespace":"ns"},
    "spec":{"nodesPerRacks":2,"topology":{"dc":[{"name":"dc1","rack":[{"name":"r1"},{"name":"r2"}]},
                                                 {"name":"dc2","nodesPerRacks":5,"rack":[{"name":"r1"}]}]}}})");
  computed.pass();
  CHECK(
      js::to_string(*js::find_path(computed.server.cc, {"status", "seedlist"})) ==
      R"(["cc-dc1-r1-0.cc.ns","cc-dc1-r1-1.cc.ns","cc-dc1-r2-0.cc.ns","cc-dc2-r1-0.cc.ns","cc-dc2-r1-1.cc.ns","cc-dc2-r1-2.cc.ns"])");
}

TEST_CASE(
    "casskop v2.1.0: racks initialise one after the other, then Running and Done, with its spec "
    "defaults") {
  standin s(two_racks);
  s.settle();
  CHECK(s.cluster() == "Initializing/Initializing/Ongoing");
  CHECK(s.rack("dc1-rack1") == "Initializing");
  // Its Go types dropped what they do not know, and wrote its defaults and record.
  CHECK(js::find_path(s.server.cc, {"spec", "unknownField"}) == nullptr);
  CHECK(js::get_string(s.server.cc, {"spec", "cassandraImage"}) == "cassandra:3.11.10");
  CHECK(js::get_int(s.server.cc, {"spec", "livenessInitialDelaySeconds"}, 0) == 120);
  CHECK(js::to_string(*js::find_path(s.server.cc, {"spec", "imagePullSecret"})) == "{}");
  CHECK(s.reconciled_current_spec());

  s.run_for(s.pace.rack_ready_ms + 10);  // rack1's pods ready: rack2's StatefulSet comes next
  CHECK(s.rack("dc1-rack1") == "Running");
  CHECK(s.rack("dc1-rack1", "status") == "Done");
  CHECK(s.rack("dc1-rack2") == "Initializing");
  CHECK(s.cluster() == "Initializing/Initializing/Ongoing");
  s.run_for(s.pace.rack_ready_ms + 10);
  CHECK(s.cluster() == "Running/Initializing/Done");
  CHECK(js::find_path(s.server.cc, {"status", "observedGeneration"}) == nullptr);
  CHECK(s.reconciled_current_spec());
  const auto gen = js::get_int(s.server.cc, {"metadata", "generation"}, 0);
  s.run_for(s.pace.requeue_ms * 4);
  CHECK(js::get_int(s.server.cc, {"metadata", "generation"}, 0) == gen);  // a fixed point
}

TEST_CASE(
    "casskop v2.1.0: a change shows as not Done in the very write that records it, rack by rack") {
  standin s(two_racks);
  s.run_for(1000);
  REQUIRE(s.cluster() == "Running/Initializing/Done");

  SUBCASE("scaling") {
    s.patch_spec(R"({"nodesPerRacks":2})");
    CHECK_FALSE(s.reconciled_current_spec());
    REQUIRE(s.pass());
    CHECK(s.reconciled_current_spec());
    CHECK(s.cluster() == "Running/ScaleUp/Ongoing");
    CHECK(s.rack("dc1-rack1", "name") == "ScaleUp");
    CHECK(s.rack("dc1-rack2", "status") == "Done");  // waits for rack1
    s.now += 10;
    s.settle();
    CHECK(s.cluster() == "Pending/ScaleUp/Ongoing");
    // Pods ready after 100 ms, but the action is not checked before 200 ms.
    s.now += s.pace.rack_ready_ms;
    s.settle();
    CHECK(s.rack("dc1-rack1", "status") == "Ongoing");
    s.run_for(s.pace.check_delay_ms);
    CHECK(s.rack("dc1-rack1", "status") == "Done");
    CHECK(s.rack("dc1-rack2", "name") == "ScaleUp");
    s.run_for(s.pace.check_delay_ms + s.pace.rack_ready_ms + 100);
    CHECK(s.cluster() == "Running/ScaleUp/Done");
  }
  SUBCASE("a pod template change is UpdateStatefulSet") {
    s.patch_spec(R"({"pod":{"annotations":{"a":"b"}}})");
    REQUIRE(s.pass());
    CHECK(s.reconciled_current_spec());
    CHECK(s.cluster() == "Running/UpdateStatefulSet/Ongoing");
    s.run_for(2 * (s.pace.check_delay_ms + s.pace.rack_ready_ms) + 200);
    CHECK(s.cluster() == "Running/UpdateStatefulSet/Done");
    CHECK(s.rack("dc1-rack2", "name") == "UpdateStatefulSet");
  }
  SUBCASE("a change no StatefulSet depends on is recorded and stays Running and Done") {
    s.patch_spec(R"({"maxPodUnavailable":2})");
    REQUIRE(s.pass());
    CHECK(s.reconciled_current_spec());
    CHECK(s.cluster() == "Running/Initializing/Done");
  }
  SUBCASE("a new seed list is Configuring, then rolls") {
    auto& a = s.server.cc.GetAllocator();
    s.server.cc["status"]["seedlist"].PushBack("cc-dc2-rack1-0.example", a);
    REQUIRE(s.pass());
    CHECK(s.rack("dc1-rack1", "name") == "UpdateSeedList");
    CHECK(s.rack("dc1-rack1", "status") == "Ongoing");
    CHECK(s.cluster() == "Running/UpdateSeedList/Ongoing");
  }
  SUBCASE("rollingRestart is reset in the spec and rolls the rack") {
    auto& a = s.server.cc.GetAllocator();
    s.server.cc["spec"]["topology"]["dc"][0]["rack"][0].AddMember("rollingRestart", true, a);
    REQUIRE(s.pass());
    s.settle();
    CHECK(js::find_path(s.server.cc, {"spec", "topology", "dc"}) != nullptr);
    CHECK_FALSE(js::get_bool(s.server.cc["spec"]["topology"]["dc"][0]["rack"][0],
                             {"rollingRestart"}, false));
    CHECK(s.rack("dc1-rack1", "name") == "RollingRestart");
    CHECK(s.rack("dc1-rack1", "status") == "Ongoing");
  }
}

TEST_CASE(
    "casskop v2.1.0: a held object never gets its pods ready, and an observedGeneration is "
    "dropped") {
  standin s(two_racks);
  s.held = true;
  s.run_for(1000);
  CHECK(s.cluster() == "Initializing/Initializing/Ongoing");
  s.held = false;
  s.run_for(1000);
  CHECK(s.cluster() == "Running/Initializing/Done");

  auto& a = s.server.cc.GetAllocator();
  s.server.cc["status"].AddMember("observedGeneration", 7, a);
  s.patch_spec(R"({"nodesPerRacks":2})");
  REQUIRE(s.pass());
  CHECK(js::find_path(s.server.cc, {"status", "observedGeneration"}) == nullptr);
}

TEST_CASE("casskop v2.1.0: taking over a Running cluster restarts nothing") {
  standin s(two_racks);
  s.run_for(1000);
  REQUIRE(s.cluster() == "Running/Initializing/Done");
  const auto gen = js::get_int(s.server.cc, {"metadata", "generation"}, 0);
  s.memory = original_memory{};  // CassKop restarted
  s.run_for(1000);
  CHECK(s.cluster() == "Running/Initializing/Done");
  CHECK(js::get_int(s.server.cc, {"metadata", "generation"}, 0) == gen);
}
