// The CassKop stand-in (--simulate-casskop): CassandraCluster status moves as CassKop's does,
// seen through watches as an operator would see it, and switched through the control API.
#include <doctest/doctest.h>

#include <optional>
#include <thread>

#include "tests/support/kubesim_fixture.h"

using namespace testsupport;
using namespace std::chrono_literals;
namespace js = k8s::json;

namespace {

const std::string kCollection = "/apis/db.orange.com/v2/namespaces/default/cassandraclusters";
const std::string kObject = kCollection + "/cluster1";

// The cluster-level status fields CassKop keeps.
struct cc_status {
  std::string phase, action, action_status;
  long long observed = -1;  // -1: absent
  long long generation = 0;
};

cc_status status_of(const js::Value& cc) {
  return {std::string(js::get_string(cc, {"status", "phase"})),
          std::string(js::get_string(cc, {"status", "lastClusterAction"})),
          std::string(js::get_string(cc, {"status", "lastClusterActionStatus"})),
          js::get_int(cc, {"status", "observedGeneration"}, -1),
          js::get_int(cc, {"metadata", "generation"}, 0)};
}

bool ongoing(const cc_status& s, const std::string& action) {
  return s.action == action && s.action_status == "Ongoing";
}
bool done(const cc_status& s, long long generation) {
  return s.phase == "Running" && s.action_status == "Done" && s.observed == generation;
}

// A CassandraCluster watch read event by event; every status seen is kept.
class cc_watch {
 public:
  cc_watch(api_client& c, const std::string& rv)
      : s_(c.stream(kCollection + "?watch=true&resourceVersion=" + rv)) {
    REQUIRE(s_->status() == 200);
  }
  // The first object whose status satisfies `pred`.
  template <class P>
  js::Document until(P&& pred, std::chrono::milliseconds timeout = 10s) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      REQUIRE_MESSAGE(left.count() > 0, "no matching watch event in time");
      auto line = s_->next(left);
      REQUIRE_MESSAGE(line.has_value(), "no matching watch event in time");
      js::Document e = js::parse(*line);
      const js::Value* obj = js::find(e, "object");
      if (js::get_string(e, "type") == "BOOKMARK" || !obj) continue;
      seen.push_back(status_of(*obj));
      seen_objects.push_back(js::to_string(*obj));
      if (pred(seen.back())) {
        js::Document d;
        d.CopyFrom(*obj, d.GetAllocator());
        return d;
      }
    }
  }
  // True when no event but bookmarks arrives within `quiet`.
  bool stays_quiet(std::chrono::milliseconds quiet) {
    auto deadline = std::chrono::steady_clock::now() + quiet;
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return true;
      auto line = s_->next(left);
      if (!line) return true;
      if (js::get_string(js::parse(*line), "type") != "BOOKMARK") return false;
    }
  }
  std::vector<cc_status> seen;
  std::vector<std::string> seen_objects;  // the same events, whole

 private:
  std::unique_ptr<line_stream> s_;
};

std::string crd_without_status_subresource() {
  std::string crd = cassandracluster_crd_yaml();
  const std::string sub = "    subresources:\n      status: {}\n";
  auto at = crd.find(sub);
  REQUIRE(at != std::string::npos);
  return crd.erase(at, sub.size());
}

std::vector<std::string> with_flavor(std::vector<std::string> args, const std::string& flavor) {
  args.push_back("--casskop-flavor");
  args.push_back(flavor);
  return args;
}

// A kubesim with the CassandraCluster CRD applied after it started, as a user would; its
// stand-in in the observed-generation flavor unless said otherwise.
struct casskop_sim {
  kubesim_instance sim;
  api_client k1;

  explicit casskop_sim(std::vector<std::string> args = {"--simulate-casskop", "--casskop-delay-ms",
                                                        "300"},
                       const std::string& crd = cassandracluster_crd_yaml(),
                       const std::string& flavor = "observed-generation")
      : sim({"k1"}, with_flavor(std::move(args), flavor)), k1(sim.client("k1")) {
    apply_crd(crd);
  }
  void apply_crd(const std::string& crd) {
    auto r = sim.kubectl("k1", {"apply", "-f", "-"}, crd);
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    auto w = sim.kubectl("k1", {"wait", "--for=condition=Established",
                                "crd/cassandraclusters.db.orange.com", "--timeout=20s"});
    REQUIRE_MESSAGE(w.exit_code == 0, w.err);
  }
  std::string list_rv() {
    auto r = k1.get(kCollection);
    REQUIRE(r.status == 200);
    return std::string(js::get_string(r.json(), {"metadata", "resourceVersion"}));
  }
  void create(const std::string& json) {
    auto r = k1.request("POST", kCollection, json);
    REQUIRE_MESSAGE(r.status == 201, r.body);
  }
  void patch(const std::string& json, const std::string& path = kObject) {
    auto r = k1.request("PATCH", path, json, "application/merge-patch+json");
    REQUIRE_MESSAGE(r.status == 200, r.body);
  }
  js::Document get() {
    auto r = k1.get(kObject);
    REQUIRE_MESSAGE(r.status == 200, r.body);
    return r.json();
  }
};

const char* cluster1 =
    R"({"apiVersion":"db.orange.com/v2","kind":"CassandraCluster",
        "metadata":{"name":"cluster1","namespace":"default"},"spec":{"nodesPerRacks":3}})";

}  // namespace

TEST_CASE("casskop stand-in: create goes Initializing Ongoing then Running Done") {
  casskop_sim f;
  cc_watch w(f.k1, f.list_rv());
  f.create(cluster1);
  auto first = w.until([](const cc_status& s) { return ongoing(s, "Initializing"); });
  CHECK(status_of(first).phase == "Initializing");
  CHECK(status_of(first).observed == -1);  // nothing is Done yet
  auto rack = js::find_path(first, {"status", "cassandraRackStatus", "dc1-rack1"});
  REQUIRE(rack != nullptr);
  CHECK(js::get_string(*rack, {"phase"}) == "Initializing");
  CHECK(js::get_string(*rack, {"cassandraLastAction", "status"}) == "Ongoing");
  CHECK(js::find_path(*rack, {"cassandraLastAction", "endTime"}) == nullptr);

  auto last = w.until([](const cc_status& s) { return s.action_status == "Done"; });
  auto s = status_of(last);
  CHECK(s.phase == "Running");
  CHECK(s.action == "Initializing");
  CHECK(s.observed == 1);
  CHECK(s.generation == 1);  // status writes go through the subresource
  rack = js::find_path(last, {"status", "cassandraRackStatus", "dc1-rack1"});
  REQUIRE(rack != nullptr);
  CHECK(js::get_string(*rack, {"phase"}) == "Running");
  CHECK(js::get_string(*rack, {"cassandraLastAction", "name"}) == "Initializing");
  CHECK(js::get_string(*rack, {"cassandraLastAction", "status"}) == "Done");
  CHECK(!js::get_string(*rack, {"cassandraLastAction", "startTime"}).empty());
  CHECK(!js::get_string(*rack, {"cassandraLastAction", "endTime"}).empty());
  // Nothing more happens once Done.
  CHECK(w.stays_quiet(700ms));

  auto info = f.sim.cluster_info("k1");
  REQUIRE(info.status == 200);
  CHECK(js::get_bool(info.json(), {"casskop", "enabled"}, false));
  CHECK(js::get_int(info.json(), {"casskop", "delayMs"}, 0) == 300);
}

TEST_CASE("casskop stand-in: spec changes roll as ScaleUp, ScaleDown or UpdateStatefulSet") {
  casskop_sim f;
  cc_watch w(f.k1, f.list_rv());
  f.create(cluster1);
  w.until([](const cc_status& s) { return done(s, 1); });

  f.patch(R"({"spec":{"nodesPerRacks":5}})");
  auto up = w.until([](const cc_status& s) { return s.action_status == "Ongoing"; });
  CHECK(status_of(up).phase == "Running");  // phase stays Running during a rolling update
  CHECK(status_of(up).action == "ScaleUp");
  CHECK(status_of(up).observed == 1);  // still the last Done generation
  w.until([](const cc_status& s) { return done(s, 2); });
  CHECK(status_of(f.get()).action == "ScaleUp");

  f.patch(R"({"spec":{"cassandraImage":"cassandra:3.11.11"}})");
  auto update = w.until([](const cc_status& s) { return s.action_status == "Ongoing"; });
  CHECK(status_of(update).action == "UpdateStatefulSet");
  w.until([](const cc_status& s) { return done(s, 3); });

  // A DC's own nodesPerRacks wins over the cluster's.
  f.patch(R"({"spec":{"topology":{"dc":[{"name":"dc1","nodesPerRacks":5}]}}})");
  auto same = w.until([](const cc_status& s) { return s.action_status == "Ongoing"; });
  CHECK(status_of(same).action == "UpdateStatefulSet");
  w.until([](const cc_status& s) { return done(s, 4); });
  f.patch(R"({"spec":{"topology":{"dc":[{"name":"dc1","nodesPerRacks":2}]}}})");
  auto down = w.until([](const cc_status& s) { return s.action_status == "Ongoing"; });
  CHECK(status_of(down).action == "ScaleDown");
  auto end = w.until([](const cc_status& s) { return done(s, 5); });
  CHECK(status_of(end).action == "ScaleDown");
}

TEST_CASE("casskop stand-in: a change while Ongoing ends Done only for the newest generation") {
  casskop_sim f({"--simulate-casskop", "--casskop-delay-ms", "1500"});
  cc_watch w(f.k1, f.list_rv());
  f.create(cluster1);
  w.until([](const cc_status& s) { return done(s, 1); });

  f.patch(R"({"spec":{"nodesPerRacks":4}})");
  w.until([](const cc_status& s) { return ongoing(s, "ScaleUp"); });
  f.patch(R"({"spec":{"nodesPerRacks":6}})");
  f.patch(R"({"spec":{"cassandraImage":"cassandra:4.0.1"}})");
  auto last = w.until([](const cc_status& s) { return s.action_status == "Done"; });
  CHECK(status_of(last).observed == 4);
  CHECK(status_of(last).generation == 4);
  for (const auto& s : w.seen) CHECK_FALSE((s.action_status == "Done" && s.observed == 2));
  for (const auto& s : w.seen) CHECK_FALSE((s.action_status == "Done" && s.observed == 3));
}

TEST_CASE("casskop stand-in: the hold annotation keeps the action Ongoing until removed") {
  casskop_sim f({"--simulate-casskop", "--casskop-delay-ms", "100"});
  cc_watch w(f.k1, f.list_rv());
  f.create(R"({"apiVersion":"db.orange.com/v2","kind":"CassandraCluster",
               "metadata":{"name":"cluster1","namespace":"default",
                           "annotations":{"kubesim.casskop/hold":"true"}},
               "spec":{"nodesPerRacks":3}})");
  w.until([](const cc_status& s) { return ongoing(s, "Initializing"); });
  CHECK(w.stays_quiet(1s));  // ten times the delay
  f.patch(R"({"metadata":{"annotations":{"kubesim.casskop/hold":null}}})");
  w.until([](const cc_status& s) { return done(s, 1); });

  // Held before a spec change: the region stays not-ready for the new spec.
  f.patch(R"({"metadata":{"annotations":{"kubesim.casskop/hold":"true"}}})");
  f.patch(R"({"spec":{"nodesPerRacks":2}})");
  w.until([](const cc_status& s) { return ongoing(s, "ScaleDown"); });
  CHECK(w.stays_quiet(1s));
  CHECK(status_of(f.get()).action_status == "Ongoing");
  f.patch(R"({"metadata":{"annotations":{"kubesim.casskop/hold":"false"}}})");
  w.until([](const cc_status& s) { return done(s, 2); });
}

TEST_CASE("casskop stand-in: the control API switches it, disabled leaves status untouched") {
  casskop_sim f(std::vector<std::string>{});  // no --simulate-casskop
  auto info = f.sim.cluster_info("k1");
  REQUIRE(info.status == 200);
  CHECK_FALSE(js::get_bool(info.json(), {"casskop", "enabled"}, true));
  CHECK(js::get_int(info.json(), {"casskop", "delayMs"}, 0) == 1000);

  f.create(cluster1);
  std::this_thread::sleep_for(500ms);  // proving an absence needs some time
  CHECK(js::find(f.get(), "status") == nullptr);

  // Bad values change nothing.
  CHECK(f.sim.control("k1", "casskop", "enabled=yes").status == 400);
  CHECK(f.sim.control("k1", "casskop", "enabled=true&delayMs=-1").status == 400);
  CHECK(f.sim.control("k1", "casskop", "enabled=true&delayMs=10x").status == 400);
  CHECK(f.sim.control("k1", "casskop", "delayMs=").status == 400);
  CHECK(f.sim.control("k1", "casskop", "enabled=true&flavor=v3").status == 400);
  CHECK(f.sim.control("k1", "casskop", "enabled=true&timeScale=0").status == 400);
  CHECK_FALSE(js::get_bool(f.sim.cluster_info("k1").json(), {"casskop", "enabled"}, true));
  CHECK(js::get_string(f.sim.cluster_info("k1").json(), {"casskop", "flavor"}) ==
        "observed-generation");

  auto on = f.sim.control("k1", "casskop", "enabled=true&delayMs=100");
  REQUIRE_MESSAGE(on.status == 200, on.body);
  CHECK(js::get_bool(on.json(), {"casskop", "enabled"}, false));
  CHECK(js::get_int(on.json(), {"casskop", "delayMs"}, 0) == 100);
  CHECK(eventually([&] { return done(status_of(f.get()), 1); }));

  REQUIRE(f.sim.control("k1", "casskop", "enabled=false").status == 200);
  CHECK(js::get_int(f.sim.cluster_info("k1").json(), {"casskop", "delayMs"}, 0) == 100);  // kept
  f.patch(R"({"spec":{"nodesPerRacks":4}})");
  std::this_thread::sleep_for(500ms);
  auto s = status_of(f.get());
  CHECK(s.generation == 2);
  CHECK(done(s, 1));  // untouched

  // Enabled again, it catches up with what changed meanwhile.
  REQUIRE(f.sim.control("k1", "casskop", "enabled=true").status == 200);
  CHECK(eventually([&] { return done(status_of(f.get()), 2); }));
}

TEST_CASE("casskop stand-in: the CRD deleted and created again") {
  casskop_sim f({"--simulate-casskop", "--casskop-delay-ms", "100"});
  f.create(cluster1);
  CHECK(eventually([&] { return done(status_of(f.get()), 1); }));
  auto del = f.sim.kubectl("k1", {"delete", "crd", "cassandraclusters.db.orange.com"});
  REQUIRE_MESSAGE(del.exit_code == 0, del.err);

  f.apply_crd(cassandracluster_crd_yaml());
  cc_watch w(f.k1, f.list_rv());
  f.create(cluster1);
  w.until([](const cc_status& s) { return ongoing(s, "Initializing"); });
  w.until([](const cc_status& s) { return done(s, 1); });
  CHECK(f.sim.process().running());
}

TEST_CASE("casskop stand-in keeps status.seedlist") {
  casskop_sim f;
  cc_watch w(f.k1, f.list_rv());
  f.create(cluster1);
  w.until([](const cc_status& s) { return done(s, 1); });
  f.patch(R"({"status":{"seedlist":["cluster1-dc1-rack1-0.cluster1.default"]}})",
          kObject + "/status");
  f.patch(R"({"spec":{"nodesPerRacks":4}})");
  auto last = w.until([](const cc_status& s) { return done(s, 2); });
  const js::Value* seeds = js::find_path(last, {"status", "seedlist"});
  REQUIRE(seeds != nullptr);
  REQUIRE(seeds->IsArray());
  REQUIRE(seeds->Size() == 1);
  CHECK(js::view((*seeds)[0]) == "cluster1-dc1-rack1-0.cluster1.default");
}

TEST_CASE("casskop stand-in names rack status entries from the topology") {
  casskop_sim f;
  cc_watch w(f.k1, f.list_rv());
  f.create(R"({"apiVersion":"db.orange.com/v2","kind":"CassandraCluster",
               "metadata":{"name":"cluster1","namespace":"default"},
               "spec":{"nodesPerRacks":1,"topology":{"dc":[
                 {"name":"dc1","rack":[{"name":"r1"},{"name":"r2"}]},{"name":"dc2"},
                 {"name":"dc3","nodesPerRacks":0,"rack":[{"name":"r1"}]}]}}})");
  auto first = w.until([](const cc_status& s) { return done(s, 1); });
  auto names = [](const js::Value& cc) {
    std::vector<std::string> out;
    if (const auto* racks = js::find_path(cc, {"status", "cassandraRackStatus"}))
      for (const auto& m : racks->GetObject()) out.emplace_back(js::view(m.name));
    return out;
  };
  CHECK(names(first) == std::vector<std::string>{"dc1-r1", "dc1-r2", "dc2-rack1", "dc3-r1"});

  // A rack that leaves the topology leaves the status (a DC at 0 nodes removed: the one removal
  // CassKop v2.1.0 does not refuse).
  f.patch(R"({"spec":{"topology":{"dc":[{"name":"dc1","rack":[{"name":"r1"},{"name":"r2"}]},
                                         {"name":"dc2"}]}}})");
  auto second = w.until([](const cc_status& s) { return done(s, 2); });
  CHECK(names(second) == std::vector<std::string>{"dc1-r1", "dc1-r2", "dc2-rack1"});
}

TEST_CASE("casskop stand-in without a status subresource compares the spec") {
  casskop_sim f({"--simulate-casskop", "--casskop-delay-ms", "200"},
                crd_without_status_subresource());
  // As in the original CRD, status is a plain field: a seedlist given at creation stays.
  f.create(R"({"apiVersion":"db.orange.com/v2","kind":"CassandraCluster",
               "metadata":{"name":"cluster1","namespace":"default"},
               "spec":{"nodesPerRacks":3},"status":{"seedlist":["seed-0"]}})");
  // Every status write bumps the generation here; observedGeneration names the generation the
  // Done write itself produced.
  auto ready = [&] {
    auto s = status_of(f.get());
    return s.phase == "Running" && s.action_status == "Done" && s.observed == s.generation;
  };
  CHECK(eventually(ready));
  auto before = f.get();
  f.patch(R"({"spec":{"nodesPerRacks":5}})");
  CHECK(eventually([&] { return ongoing(status_of(f.get()), "ScaleUp"); }));
  CHECK(eventually(ready));
  auto after = f.get();
  CHECK(status_of(after).action == "ScaleUp");
  CHECK(status_of(after).generation > status_of(before).generation);
  CHECK(js::view(*js::find_path(after, {"status", "seedlist"})->Begin()) == "seed-0");
  // Settled: our own writes are not taken for spec changes.
  auto rv = js::get_string(after, {"metadata", "resourceVersion"});
  std::this_thread::sleep_for(600ms);
  CHECK(js::get_string(f.get(), {"metadata", "resourceVersion"}) == rv);
}

// ---- the default flavor: CassKop v2.1.0 as it is ----

namespace {

std::string v21_crd() {
  return read_file(std::string(TESTS_DIR) + "/fixtures/casskop-v2.1.0/cassandraclusters-crd.yaml");
}

const std::vector<std::string> v21_args = {"--simulate-casskop", "--casskop-delay-ms", "150",
                                           "--casskop-time-scale", "0.01"};

bool running_done(const cc_status& s) {
  return s.phase == "Running" && s.action_status == "Done";
}

// CassKop's record says it reconciled the spec the object has now.
bool casskop_reconciled(const js::Value& cc) {
  auto record = js::get_string(cc, {"metadata", "annotations",
                                    "cassandraclusters.db.orange.com/last-applied-configuration"});
  if (record.empty()) return false;
  auto d = js::parse(record);
  const js::Value* spec = js::find(d, "spec");
  const js::Value* now = js::find(cc, "spec");
  return spec && now && *spec == *now;
}

}  // namespace

TEST_CASE(
    "casskop stand-in v2.1.0 with CassKop's own CRD: defaults, racks in order, Running and Done, "
    "plain updates") {
  casskop_sim f(v21_args, v21_crd(), "v2.1.0");
  cc_watch w(f.k1, f.list_rv());
  f.create(R"({"apiVersion":"db.orange.com/v2","kind":"CassandraCluster",
               "metadata":{"name":"cluster1","namespace":"default"},
               "spec":{"nodesPerRacks":1,"topology":{"dc":[{"name":"dc1","rack":[{"name":"r1"},{"name":"r2"}]}]}},
               "status":{"seedlist":["given-0.example"]}})");
  // SetDefaults first (no last-applied record yet), then its full passes.
  auto init = w.until([](const cc_status& s) { return s.phase == "Initializing"; });
  CHECK(js::get_int(init, {"spec", "maxPodUnavailable"}, 0) == 1);
  CHECK(js::view(*js::find_path(init, {"status", "seedlist"})->Begin()) == "given-0.example");
  auto last = w.until([](const cc_status& s) { return running_done(s); }, 15s);
  CHECK(status_of(last).action == "Initializing");
  CHECK(status_of(last).observed == -1);  // the original reports no observedGeneration
  CHECK(js::get_string(last, {"spec", "cassandraImage"}) ==
        "cassandra:3.11.10");             // CheckDefaults, written
  CHECK(status_of(last).generation > 2);  // its status writes bump the generation: no subresource
  CHECK(casskop_reconciled(last));
  // Rack r2 came up only after r1: never Running before it.
  for (const auto& json : w.seen_objects) {
    auto o = js::parse(json);
    if (js::get_string(o, {"status", "cassandraRackStatus", "dc1-r2", "phase"}) == "Running")
      CHECK(js::get_string(o, {"status", "cassandraRackStatus", "dc1-r1", "phase"}) == "Running");
  }
  for (const auto& s : w.seen) CHECK(s.observed == -1);
  CHECK(js::get_string(last, {"status", "cassandraRackStatus", "dc1-r2", "phase"}) == "Running");

  // A spec change: the write that records it already says the action is not Done.
  f.patch(R"({"spec":{"nodesPerRacks":2}})");
  auto reacted = w.until([](const cc_status& s) { return s.action == "ScaleUp"; });
  CHECK(casskop_reconciled(reacted));
  CHECK(status_of(reacted).action_status == "Ongoing");
  auto done = w.until([](const cc_status& s) { return running_done(s); }, 15s);
  CHECK(status_of(done).action == "ScaleUp");
}

TEST_CASE(
    "casskop stand-in v2.1.0 under a CRD with a status subresource: its status is dropped, it "
    "never starts") {
  casskop_sim f(v21_args, cassandracluster_crd_yaml(), "v2.1.0");
  f.create(cluster1);
  // SetDefaults' spec part lands; its status never does, so it keeps starting over.
  CHECK(eventually([&] { return js::get_int(f.get(), {"spec", "maxPodUnavailable"}, 0) == 1; }));
  std::this_thread::sleep_for(1s);  // many of its (scaled) requeues
  auto cc = f.get();
  CHECK(js::find(cc, "status") == nullptr);
  CHECK(js::get_string(cc, {"metadata", "annotations",
                            "cassandraclusters.db.orange.com/last-applied-configuration"})
            .empty());
}

TEST_CASE("casskop stand-in: the control API switches flavor and time scale") {
  casskop_sim f(v21_args, v21_crd(), "v2.1.0");
  auto info = f.sim.cluster_info("k1").json();
  CHECK(js::get_string(info, {"casskop", "flavor"}) == "v2.1.0");
  CHECK(js::get_int(info, {"casskop", "delayMs"}, 0) == 150);
  auto r = f.sim.control("k1", "casskop", "flavor=observed-generation&timeScale=2");
  REQUIRE_MESSAGE(r.status == 200, r.body);
  CHECK(js::get_string(r.json(), {"casskop", "flavor"}) == "observed-generation");
  CHECK(js::find_path(r.json(), {"casskop", "timeScale"})->GetDouble() == 2.0);
  f.create(cluster1);
  // Our conventions: observedGeneration, which the v2.1.0 CRD's status schema does not keep.
  CHECK(eventually([&] { return running_done(status_of(f.get())); }));
}

TEST_CASE(
    "casskop stand-in v2.1.0: a refused dataCapacity change is written back with "
    "CorrectCRDConfig, in one write, and nothing follows") {
  casskop_sim f(v21_args, v21_crd(), "v2.1.0");
  cc_watch w(f.k1, f.list_rv());
  f.create(R"({"apiVersion":"db.orange.com/v2","kind":"CassandraCluster",
               "metadata":{"name":"cluster1","namespace":"default"},
               "spec":{"nodesPerRacks":1,"dataCapacity":"1Gi",
                       "topology":{"dc":[{"name":"dc1","rack":[{"name":"r1"}]}]}}})");
  w.until([](const cc_status& s) { return running_done(s); }, 15s);
  const size_t events_before = w.seen.size();
  f.patch(R"({"spec":{"dataCapacity":"2Gi"}})");
  auto reverted = w.until([](const cc_status& s) { return s.action == "CorrectCRDConfig"; });
  CHECK(js::get_string(reverted, {"spec", "dataCapacity"}) == "1Gi");
  CHECK(status_of(reverted).phase == "Running");
  CHECK(status_of(reverted).action_status == "Done");
  CHECK(casskop_reconciled(reverted));  // its record recomputed from the corrected object
  // Our change, CassKop's one correcting write, at most its record catching up with the
  // generation (metadata only); then quiet.
  w.stays_quiet(300ms);  // lets the catch-up write through
  CHECK(w.stays_quiet(700ms));
  CHECK(w.seen.size() <= events_before + 3);
  CHECK(js::get_string(f.get(), {"spec", "dataCapacity"}) == "1Gi");

  // A refused topology change (a rack added to dc1): the topology is written back whole.
  f.patch(R"({"spec":{"topology":{"dc":[{"name":"dc1","rack":[{"name":"r1"},{"name":"r2"}]}]}}})");
  auto racks = [&] {
    auto cc = f.get();
    return js::find_path(cc, {"spec", "topology", "dc"})->Begin()->FindMember("rack")->value.Size();
  };
  CHECK(eventually([&] { return racks() == 1; }, 5s));
  CHECK(status_of(f.get()).action == "CorrectCRDConfig");
}

TEST_CASE(
    "casskop stand-in observed-generation: a refused change is written back, Done with "
    "CorrectCRDConfig for the generation that left") {
  casskop_sim f;
  cc_watch w(f.k1, f.list_rv());
  f.create(R"({"apiVersion":"db.orange.com/v2","kind":"CassandraCluster",
               "metadata":{"name":"cluster1","namespace":"default"},
               "spec":{"nodesPerRacks":1,"dataStorageClass":"ssd",
                       "topology":{"dc":[{"name":"dc1","rack":[{"name":"r1"}]}]}}})");
  w.until([](const cc_status& s) { return done(s, 1); });
  f.patch(R"({"spec":{"dataStorageClass":"hdd"}})");
  auto reverted = w.until([](const cc_status& s) {
    return s.action == "CorrectCRDConfig" && s.action_status == "Done";
  });
  CHECK(js::get_string(reverted, {"spec", "dataStorageClass"}) == "ssd");
  CHECK(status_of(reverted).observed == status_of(reverted).generation);
  CHECK(w.stays_quiet(700ms));
}
