// multi-casskop where users run it: above CassKop v2.1.0 (kubesim's default stand-in), with the
// API server pruning and validating as a real one, taking over from the original Multi-CassKop,
// through restarts, and deletions raced by faults (seeded, with an independent watch recorder).
#include <doctest/doctest.h>

#include <fmt/format.h>

#include <atomic>
#include <filesystem>
#include <mutex>
#include <random>
#include <thread>

#include "tests/e2e/e2e_setup.h"

using namespace testsupport;
using namespace e2e;
using namespace std::chrono_literals;

namespace {

// The spec a CassandraCluster has, as a user compares it (key order aside).
js::Document spec_of(const js::Value& cc) {
  js::Document d;
  if (const js::Value* s = js::find(cc, "spec")) d.CopyFrom(*s, d.GetAllocator());
  return d;
}

// Every CassandraCluster event of every cluster, and the MultiCasskop events of the local one, as
// an independent watcher sees them (its own connections, not the operator's).
class watch_recorder {
 public:
  struct entry {
    std::string cluster, kind, type, name, owner, phase, status;
    bool reconciled = false;  // CassKop's record holds the spec the object had then
    bool deleting = false;
    std::chrono::steady_clock::time_point at;
  };

  watch_recorder(world& w) {
    for (const auto& c : w.clusters) {
      start(w, c, kCCs, "CassandraCluster");
      if (c == w.clusters.front()) start(w, c, kMCCs, "MultiCasskop");
    }
  }
  ~watch_recorder() {
    stop_ = true;
    for (auto& t : threads_) t.join();
  }
  std::vector<entry> entries() {
    std::lock_guard lock(mutex_);
    return entries_;
  }

 private:
  void start(world& w, const std::string& cluster, const std::string& path,
             const std::string& kind) {
    auto list = w.api(cluster).get(path);
    REQUIRE(list.status == 200);
    const std::string rv(js::get_string(list.json(), {"metadata", "resourceVersion"}));
    auto stream = std::shared_ptr<line_stream>(
        w.api(cluster).stream(path + "?watch=true&resourceVersion=" + rv));
    REQUIRE(stream->status() == 200);
    threads_.emplace_back([this, stream, cluster, kind] {
      while (!stop_) {
        auto line = stream->next(100ms);
        if (!line) {
          if (stream->ended()) return;
          continue;
        }
        auto e = js::parse(*line);
        const js::Value* o = js::find(e, "object");
        if (!o || js::get_string(e, "type") == "BOOKMARK") continue;
        entry x{cluster,
                kind,
                std::string(js::get_string(e, "type")),
                std::string(js::get_string(*o, {"metadata", "name"})),
                std::string(js::get_string(
                    *o, {"metadata", "annotations", "multicasskop.db.orange.com/owner"})),
                std::string(js::get_string(*o, {"status", "phase"})),
                std::string(js::get_string(*o, {"status", "lastClusterActionStatus"})),
                casskop_reconciled(*o),
                js::find_path(*o, {"metadata", "deletionTimestamp"}) != nullptr,
                std::chrono::steady_clock::now()};
        std::lock_guard lock(mutex_);
        entries_.push_back(std::move(x));
      }
      stream->cancel();
    });
  }

  std::atomic<bool> stop_{false};
  std::mutex mutex_;
  std::vector<entry> entries_;
  std::vector<std::thread> threads_;
};

// The CassandraClusters owned by `mcc` (our owner annotation) in every cluster, as listed now.
std::vector<std::string> owned_now(world& w, const std::string& mcc) {
  std::vector<std::string> out;
  for (const auto& c : w.clusters) {
    auto r = w.api(c).get(kCCs);
    REQUIRE(r.status == 200);
    auto d = r.json();
    for (const auto& cc : js::find(d, "items")->GetArray())
      if (js::get_string(cc, {"metadata", "annotations", "multicasskop.db.orange.com/owner"}) ==
          kNs + "/" + mcc)
        out.push_back(c + "/" + std::string(js::get_string(cc, {"metadata", "name"})));
  }
  return out;
}

}  // namespace

TEST_CASE(
    "compat: taking over from the original Multi-CassKop recreates nothing, restarts no region, "
    "pushes no spec") {
  const cc_crd crd = each_cassandracluster_crd();
  CAPTURE(std::string(to_string(crd)));
  world w({kC1, kC2}, 200, crd);
  // What the original left: its MultiCasskop (with its finalizer) and, in each region, the
  // CassandraCluster it created (base + override merged its way, status.seedlist, no owner).
  auto mcc = js::parse(mcc_json(mcc_of("legacy", "cassandra-e2e", true, {kC1, kC2})));
  {
    auto& a = mcc.GetAllocator();
    js::Value finalizers(rapidjson::kArrayType);
    finalizers.PushBack(js::string_value("kubernetes.io/multi-casskop", a), a);
    js::set_member(mcc["metadata"], "finalizers", std::move(finalizers), a);
  }
  {
    auto r = w.api(kC1).request("POST", kMCCs, js::to_string(mcc));
    REQUIRE_MESSAGE(r.status == 201, r.body);
  }
  for (auto [cluster, dc] : {std::pair{kC1, "dc1"}, std::pair{kC2, "dc2"}}) {
    auto r = w.api(cluster).request(
        "POST", kCCs,
        fmt::format(R"({{"apiVersion":"db.orange.com/v2","kind":"CassandraCluster",
                       "metadata":{{"name":"cassandra-e2e","namespace":"{}","labels":{{"cluster":"casskop"}}}},
                       "spec":{{"cassandraImage":"cassandra:3.11.10","nodesPerRacks":1,"dataCapacity":"1Gi",
                                "topology":{{"dc":[{{"name":"{}","rack":[{{"name":"rack1"}}]}}]}}}},
                       "status":{{"seedlist":["cassandra-e2e-dc1-rack1-0.my.zone"]}}}})",
                    kNs, dc));
    REQUIRE_MESSAGE(r.status == 201, r.body);
  }
  REQUIRE(eventually([&] { return cc_ready(w.cc(kC1)) && cc_ready(w.cc(kC2)); }, 15s));
  const auto before1 = *w.cc(kC1), before2 = *w.cc(kC2);
  watch_recorder recorder(w);

  // The Go operator is stopped; ours starts on the same objects.
  operator_process op(w.sim, w.config());
  REQUIRE_MESSAGE(eventually(
                      [&] {
                        return condition(w.mcc("legacy"), "Degraded", "reason") ==
                               "ForeignCassandraCluster";
                      },
                      15s),
                  w.explain("legacy", op));
  // One annotation on the MultiCasskop takes them over.
  auto annotated =
      w.kubectl({"annotate", "mcc", "legacy", "-n", kNs, "multicasskop.db.orange.com/adopt=true"});
  REQUIRE_MESSAGE(annotated.exit_code == 0, annotated.err);
  REQUIRE_MESSAGE(eventually([&] { return mcc_ready(w.mcc("legacy")); }, 15s),
                  w.explain("legacy", op));

  for (const auto& [cluster, before] : {std::pair{kC1, &before1}, std::pair{kC2, &before2}}) {
    auto now = w.cc(cluster);
    REQUIRE(now);
    CHECK(uid(*now) == uid(*before));
    CHECK(spec_of(*now) == spec_of(*before));  // no spec pushed
    CHECK(js::get_string(*now, {"metadata", "annotations", "multicasskop.db.orange.com/owner"}) ==
          kNs + "/legacy");
  }
  CHECK(op.count_log_lines({"msg=\"Create CassandraCluster\""}) == 0);
  // No region restarted: CassKop never saw a change to act on.
  for (const auto& e : recorder.entries())
    if (e.kind == "CassandraCluster")
      CHECK_MESSAGE(e.status == "Done", e.cluster, " went ", e.status);

  // From now on, what the user changes rolls region by region.
  w.patch_mcc("legacy", R"({"spec":{"base":{"spec":{"nodesPerRacks":2}}}})");
  REQUIRE_MESSAGE(eventually(
                      [&] {
                        auto c2 = w.cc(kC2);
                        return c2 && nodes(*c2) == 2 && mcc_ready(w.mcc("legacy"));
                      },
                      20s),
                  w.explain("legacy", op));
  CHECK(op.stop() == 0);
}

TEST_CASE(
    "compat: a restart mid-update, with the status as the API server keeps it, releases no region "
    "early") {
  const cc_crd crd = each_cassandracluster_crd();
  CAPTURE(std::string(to_string(crd)));
  world w({kC1, kC2}, 200, crd);
  operator_process op(w.sim, w.config());
  w.create_mcc(mcc_of("midway", "cassandra-e2e", true, {kC1, kC2}));
  REQUIRE_MESSAGE(eventually([&] { return mcc_ready(w.mcc("midway")); }, 15s),
                  w.explain("midway", op));
  // Everything the operator reads back is declared in the CRD: the server kept all of it.
  auto m = w.mcc("midway");
  REQUIRE(region_entry(m, kC1));
  CHECK(js::get_int(*region_entry(m, kC1), {"writtenGeneration"}, 0) > 0);

  // Region 1's CassKop is slow; the update is written to it, then the operator is killed.
  w.casskop_delay(kC1, 2500);
  w.patch_mcc("midway", R"({"spec":{"base":{"spec":{"nodesPerRacks":2}}}})");
  REQUIRE(eventually(
      [&] {
        auto c = w.cc(kC1);
        return c && nodes(*c) == 2;
      },
      10s));
  op.kill9();
  op.start();
  rollout_probe probe(w, {kC1, kC2});
  probe.released = [](const js::Value& cc) { return nodes(cc) == 2; };
  REQUIRE_MESSAGE(eventually([&] { return probe.sample(); }, 20s), w.explain("midway", op));
  CHECK_MESSAGE(probe.violations.empty(), probe.violations.front());
  CHECK(probe.held_back[0]);
  REQUIRE_MESSAGE(eventually([&] { return mcc_ready(w.mcc("midway")); }, 10s),
                  w.explain("midway", op));
}

TEST_CASE("compat: a restart of a Ready MultiCasskop writes nothing and records no Event") {
  world w({kC1, kC2}, 150);
  operator_process op(w.sim, w.config());
  w.create_mcc(mcc_of("steady", "cassandra-e2e", true, {kC1, kC2}));
  REQUIRE_MESSAGE(eventually([&] { return mcc_ready(w.mcc("steady")); }, 15s),
                  w.explain("steady", op));
  // Settled: CassKop's own follow-up writes are done.
  REQUIRE(eventually(
      [&] {
        const auto a = rv(w.mcc("steady"));
        std::this_thread::sleep_for(300ms);
        return rv(w.mcc("steady")) == a;
      },
      10s));
  const auto before = w.mcc("steady");
  const auto events_before = w.events("steady").size();
  watch_recorder recorder(w);
  op.kill9();
  op.start();
  REQUIRE(op.wait_for_log("msg=\"Cluster reachable, watching\" kubernetes=" + kC2, 15s));
  REQUIRE(op.wait_for_log("msg=\"Cluster reachable, watching\" kubernetes=" + kC1, 15s));
  std::this_thread::sleep_for(1s);  // an absence: nothing written for a while after the lists
  CHECK(rv(w.mcc("steady")) == rv(before));
  for (const auto& e : recorder.entries())
    CHECK_MESSAGE(e.kind != "MultiCasskop", "MultiCasskop written: ", e.type);
  CHECK(w.events("steady").size() == events_before);
  CHECK(op.current_log().find("reason=RegionReady") == std::string::npos);
  CHECK(op.current_log().find("msg=\"Create CassandraCluster\"") == std::string::npos);
}

TEST_CASE(
    "compat: renaming the base is refused with a condition, and the new name follows once the old "
    "one is gone") {
  world w({kC1}, 150);
  operator_process op(w.sim, w.config());
  w.create_mcc(mcc_of("renamed", "cassandra-old", true, {kC1}));
  REQUIRE_MESSAGE(eventually([&] { return mcc_ready(w.mcc("renamed")); }, 15s),
                  w.explain("renamed", op));
  w.patch_mcc("renamed", R"({"spec":{"base":{"metadata":{"name":"cassandra-new"}}}})");
  REQUIRE_MESSAGE(
      eventually([&] { return condition(w.mcc("renamed"), "Degraded", "reason") == "BaseRenamed"; },
                 10s),
      w.explain("renamed", op));
  auto m = w.mcc("renamed");
  CHECK(condition(m, "Ready") == "False");
  CHECK(condition(m, "Degraded", "message")
            .find("delete CassandraCluster " + kNs + "/cassandra-old") != std::string::npos);
  CHECK_FALSE(w.cc(kC1, "cassandra-new").has_value());
  CHECK(eventually([&] { return w.has_event("renamed", "BaseRenamed"); }, 10s));
  auto del = w.kubectl({"delete", "cassc", "cassandra-old", "-n", kNs});
  REQUIRE_MESSAGE(del.exit_code == 0, del.err);
  REQUIRE_MESSAGE(
      eventually(
          [&] { return cc_ready(w.cc(kC1, "cassandra-new")) && mcc_ready(w.mcc("renamed")); }, 15s),
      w.explain("renamed", op));
}

TEST_CASE(
    "compat: refused credentials are AccessDenied with the server's words, an oversized "
    "MultiCasskop is TooLarge") {
  world w({kC1, kC2}, 150);
  const std::string dir = make_temp_dir("mc-denied");
  // Region 2 through a kubeconfig whose token the API server does not know.
  std::string kubeconfig = read_file(w.sim.kubeconfig(kC2));
  const std::string token = w.sim.token(kC2);
  kubeconfig.replace(kubeconfig.find(token), token.size(), "not-the-token");
  write_file(dir + "/kubeconfig", kubeconfig);
  auto cfg = w.config();
  cfg.kubeconfig_of[kC2] = dir + "/kubeconfig";
  cfg.extra_yaml = "limits:\n  maxMultiCasskopSpecKilobytes: 2\n";
  operator_process op(w.sim, cfg);
  w.create_mcc(mcc_of("denied", "cassandra-e2e", true, {kC1, kC2}));
  REQUIRE_MESSAGE(
      eventually([&] { return region_field(w.mcc("denied"), kC2) == "AccessDenied"; }, 15s),
      w.explain("denied", op));
  auto m = w.mcc("denied");
  CHECK(condition(m, "Degraded", "reason") == "RegionAccessDenied");
  CHECK(region_field(m, kC2, "message").find("Unauthorized (401)") != std::string::npos);
  CHECK(eventually([&] { return w.has_event("denied", "RegionAccessDenied"); }, 10s));
  CHECK_FALSE(w.has_event("denied", "RegionUnreachable"));
  CHECK(op.log().find("not-the-token") == std::string::npos);

  auto big = js::parse(mcc_json(mcc_of("oversized", "cassandra-big", true, {kC1})));
  js::set_string(big["spec"]["base"]["spec"], "configMapName", std::string(4000, 'x'),
                 big.GetAllocator());
  {
    auto r = w.api(kC1).request("POST", kMCCs, js::to_string(big));
    REQUIRE_MESSAGE(r.status == 201, r.body);
  }
  REQUIRE_MESSAGE(
      eventually([&] { return condition(w.mcc("oversized"), "Degraded", "reason") == "TooLarge"; },
                 10s),
      w.explain("oversized", op));
  CHECK(condition(w.mcc("oversized"), "Degraded", "message")
            .find("over the operator's limit of 2 KiB") != std::string::npos);
  CHECK_FALSE(w.cc(kC1, "cassandra-big").has_value());
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

// Seeded: E2E_SEED=<n> replays one run. Bounded: a few iterations of a few seconds each.
TEST_CASE(
    "compat: randomized deletions raced by kill -9, slow regions and 500s leave nothing behind") {
  const unsigned seed = std::getenv("E2E_SEED")
                            ? static_cast<unsigned>(std::stoul(std::getenv("E2E_SEED")))
                            : static_cast<unsigned>(std::random_device{}());
  MESSAGE("seed ", seed, " (E2E_SEED=", seed, " replays this run)");
  CAPTURE(seed);
  std::mt19937 rng(seed);
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  world w({kC1, kC2, kC3}, 1000);
  operator_process op(w.sim, w.config());
  watch_recorder recorder(w);
  const auto started = std::chrono::steady_clock::now();
  for (int round = 1; round <= 3; ++round) {
    CAPTURE(round);
    const std::string name = "race" + std::to_string(round);
    w.create_mcc(mcc_of(name, "cassandra-" + name, true, {kC1, kC2, kC3}));
    const auto& slow =
        w.clusters[static_cast<size_t>(pick(1, 2))];  // a remote region answers slowly
    REQUIRE(w.sim.control(slow, "latency", "ms=" + std::to_string(pick(100, 600))).status == 200);
    if (pick(0, 1))
      REQUIRE(
          w.sim.control(w.clusters[static_cast<size_t>(pick(0, 2))], "errors", "rate=0.2&code=500")
              .status == 200);
    // Things happen for a while: a spec change, kill -9, then the deletion, at random moments
    // (often during a hand-off to the slow region).
    const int deletion_at = pick(0, 3000);
    for (int t = 0; t < deletion_at; t += 250) {
      std::this_thread::sleep_for(250ms);
      if (pick(0, 7) == 0)  // the test's own writes meet the injected 500s too: retried
        REQUIRE(eventually([&] {
          return w.api(kC1)
                     .request("PATCH", kMCCs + "/" + name, R"({"spec":{"base":{"spec":{"nodesPerRacks":2}}}})",
                              "application/merge-patch+json")
                     .status == 200;
        }));
      if (pick(0, 9) == 0) op.restart();
    }
    REQUIRE(eventually([&] { return w.api(kC1).request("DELETE", kMCCs + "/" + name).status == 200; }));
    if (pick(0, 2) == 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(pick(0, 500)));
      op.restart();  // killed in the middle of the deletion
    }
    for (const auto& c : w.clusters) REQUIRE(w.sim.control(c, "reset").status == 200);
    if (!op.running()) op.start();
    REQUIRE_MESSAGE(eventually([&] { return !w.mcc_if(name).has_value(); }, 40s),
                    w.explain(name, op));
    CHECK_MESSAGE(owned_now(w, name).empty(), "left behind: ", owned_now(w, name).front());
  }
  // What an independent watcher saw: every CassandraCluster that appeared is gone again, and
  // none of a MultiCasskop appeared in a region before the region before it had been Ready.
  std::this_thread::sleep_for(500ms);
  auto entries = recorder.entries();
  std::map<std::string, bool> alive;
  std::map<std::string, std::chrono::steady_clock::time_point> first_ready;  // by cluster/name
  for (const auto& e : entries) {
    if (e.kind != "CassandraCluster") continue;
    const std::string key = e.cluster + "/" + e.name;
    alive[key] = e.type != "DELETED";
    if (e.phase == "Running" && e.status == "Done" && e.reconciled && !first_ready.count(key))
      first_ready[key] = e.at;
  }
  for (const auto& [key, is_alive] : alive) {
    std::string history;
    for (const auto& e : entries)
      if (e.kind == "CassandraCluster" && e.cluster + "/" + e.name == key)
        history += fmt::format("  {} {} deleting={} phase={}/{} +{} ms\n", e.type, e.owner, e.deleting, e.phase,
                               e.status, std::chrono::duration_cast<std::chrono::milliseconds>(e.at - started).count());
    CHECK_MESSAGE(!is_alive, key, " still exists; what the recorder saw:\n", history, "operator log:\n", op.log());
  }
  for (const auto& e : entries) {
    if (e.kind != "CassandraCluster" || e.type != "ADDED") continue;
    const auto idx =
        std::find(w.clusters.begin(), w.clusters.end(), e.cluster) - w.clusters.begin();
    if (idx == 0) continue;
    const std::string before = w.clusters[static_cast<size_t>(idx - 1)] + "/" + e.name;
    auto ready = first_ready.find(before);
    // The recorder's watches are separate connections: allow them 300 ms of skew (a region's
    // pods take 1 s to get ready).
    CHECK_MESSAGE((ready != first_ready.end() && ready->second <= e.at + 300ms), e.cluster, "/",
                  e.name, " created before ", before, " was Ready");
  }
  CHECK(op.running());
}
