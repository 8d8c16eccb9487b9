// multi-casskop end to end: the real binary, configured as a user would, against kubesim
// clusters (one per region) whose CassKop stand-in moves CassandraCluster status. Every claim is
// checked on what the clusters hold, read through the API as a user would.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fmt/format.h>

#include <filesystem>
#include <sstream>
#include <thread>

#include "tests/e2e/e2e_setup.h"

using namespace testsupport;
using namespace e2e;
using namespace std::chrono_literals;

namespace {

const std::string kSample = std::string(SOURCE_DIR) + "/deploy/samples/multi-casskop.yaml";

}  // namespace

// ---------------------------------------------------------------------------------------------

TEST_CASE(
    "two regions: region 2 is created only once region 1 is Running and Done, with either CRD") {
  const cc_crd crd = each_cassandracluster_crd(true);
  CAPTURE(std::string(to_string(crd)));
  world w({kC1, kC2}, 300, crd);
  w.casskop_delay(kC1, 1500);  // region 1 stays Ongoing long enough to watch region 2 wait
  operator_process op(w.sim, w.config());
  auto applied = w.kubectl({"apply", "-f", kSample});
  REQUIRE_MESSAGE(applied.exit_code == 0, applied.err);
  CHECK(applied.out == "multicasskop.db.orange.com/multi-casskop-e2e created\n");

  rollout_probe probe(w, {kC1, kC2});
  bool done = eventually([&] { return probe.sample(); }, 20s);
  REQUIRE_MESSAGE(done, w.explain("multi-casskop-e2e", op));
  CHECK_MESSAGE(probe.violations.empty(), probe.violations.front());
  CHECK(probe.held_back[0]);  // region 2 was seen absent while region 1 was Ongoing
  CHECK(probe.released_at[0] < probe.released_at[1]);

  REQUIRE_MESSAGE(eventually([&] { return mcc_ready(w.mcc("multi-casskop-e2e")); }, 10s),
                  w.explain("multi-casskop-e2e", op));
  auto m = w.mcc("multi-casskop-e2e");
  CHECK(condition(m, "Ready", "reason") == "AllRegionsReady");
  CHECK(condition(m, "Progressing") == "False");
  CHECK(condition(m, "Degraded") == "False");
  CHECK(region_field(m, kC1) == "Ready");
  CHECK(region_field(m, kC2) == "Ready");
  CHECK(js::get_string(m, {"status", "rollingRegion"}) == "");

  // Each region got base + its override (a merge patch), and the seed list of base.status.
  const std::vector<std::string> seeds = {
      "cassandra-e2e-dc1-rack1-0.my.zone.dns.net", "cassandra-e2e-dc1-rack1-1.my.zone.dns.net",
      "cassandra-e2e-dc2-rack4-0.my.zone.dns.net", "cassandra-e2e-dc2-rack4-1.my.zone.dns.net"};
  CHECK(strings_at(m, {"status", "seedlist"}) == seeds);
  auto c1 = w.cc(kC1), c2 = w.cc(kC2);
  REQUIRE(c1);
  REQUIRE(c2);
  CHECK(strings_at(*c1, {"status", "seedlist"}) == seeds);
  CHECK(strings_at(*c2, {"status", "seedlist"}) == seeds);
  CHECK(js::get_string(*c1, {"spec", "imagepullpolicy"}) == "Always");
  CHECK(js::get_string(*c2, {"spec", "imagepullpolicy"}) == "IfNotPresent");
  CHECK(js::get_string(*js::find_path(*c1, {"spec", "topology", "dc"})->Begin(), "name") == "dc1");
  CHECK(js::get_string(*js::find_path(*c2, {"spec", "topology", "dc"})->Begin(), "name") == "dc2");
  CHECK(js::get_string(*c1, {"metadata", "labels", "cluster"}) == "casskop");
  // CassKop v2.1.0 found its seed list in the first version (no local ring of its own), and
  // wrote its defaults into the spec as it does (we do not fight them).
  CHECK(js::get_string(*c1, {"spec", "bootstrapImage"}) ==
        "orangeopensource/cassandra-bootstrap:0.1.9");
  CHECK(op.count_log_lines({"msg=\"Update CassandraCluster\""}) == 0);

  CHECK(eventually([&] { return w.has_event("multi-casskop-e2e", "CassandraClusterCreated"); }, 10s));
  CHECK(eventually([&] { return w.has_event("multi-casskop-e2e", "RegionReady"); }, 10s));
  CHECK(op.count_log_lines({"msg=\"Create CassandraCluster\"", "kubernetes=" + kC1}) == 1);
  CHECK(op.count_log_lines({"msg=\"Create CassandraCluster\"", "kubernetes=" + kC2}) == 1);
  CHECK(op.stop() == 0);
  CHECK(op.current_log().find("Stopping multi-casskop") != std::string::npos);
}

TEST_CASE("three regions: created in order 1, 2, 3, and a cluster without override entry is left alone") {
  // k8s-idle is configured (between regions 2 and 3) but the MultiCasskop has no entry for it.
  world w({kC1, kC2, "k8s-idle", kC3}, 700);
  operator_process op(w.sim, w.config());
  w.create_mcc(mcc_of("three", "cassandra-e2e", true, {kC1, kC2, kC3}));

  rollout_probe probe(w, {kC1, kC2, kC3});
  REQUIRE_MESSAGE(eventually([&] { return probe.sample(); }, 25s), w.explain("three", op));
  CHECK_MESSAGE(probe.violations.empty(), probe.violations.front());
  CHECK(probe.held_back[0]);
  CHECK(probe.held_back[1]);
  CHECK(probe.released_at[0] < probe.released_at[1]);
  CHECK(probe.released_at[1] < probe.released_at[2]);

  REQUIRE_MESSAGE(eventually([&] { return mcc_ready(w.mcc("three")); }, 10s), w.explain("three", op));
  auto m = w.mcc("three");
  CHECK(condition(m, "Ready", "message") == "3 of 3 regions Ready");
  CHECK(region_field(m, "k8s-idle") == "NotDeployed");
  CHECK_FALSE(w.cc("k8s-idle").has_value());
  auto created = op.count_log_lines({"msg=\"Create CassandraCluster\""});
  CHECK(created == 3);
  CHECK(op.count_log_lines({"msg=\"Create CassandraCluster\"", "kubernetes=k8s-idle"}) == 0);
}

TEST_CASE(
    "update roll: a base.spec change reaches region 2 only once region 1 is Ready for it, with "
    "either CRD") {
  const cc_crd crd = each_cassandracluster_crd();
  CAPTURE(std::string(to_string(crd)));
  world w({kC1, kC2}, 300, crd);
  operator_process op(w.sim, w.config());
  w.create_mcc(mcc_of("roll", "cassandra-e2e", true, {kC1, kC2}));
  REQUIRE_MESSAGE(eventually([&] { return mcc_ready(w.mcc("roll")); }, 15s), w.explain("roll", op));
  auto before1 = w.cc(kC1), before2 = w.cc(kC2);
  REQUIRE(before1);
  REQUIRE(before2);

  w.casskop_delay(kC1, 1500);
  w.patch_mcc("roll", R"({"spec":{"base":{"spec":{"nodesPerRacks":2}}}})");
  rollout_probe probe(w, {kC1, kC2});
  probe.released = [](const js::Value& cc) { return nodes(cc) == 2; };
  bool saw_rolling_region1 = false;
  bool done = eventually(
      [&] {
        auto m = w.mcc("roll");
        if (js::get_string(m, {"status", "rollingRegion"}) == kC1 && condition(m, "Progressing") == "True")
          saw_rolling_region1 = true;
        return probe.sample();
      },
      20s);
  REQUIRE_MESSAGE(done, w.explain("roll", op));
  CHECK_MESSAGE(probe.violations.empty(), probe.violations.front());
  CHECK(probe.held_back[0]);  // region 2 kept the old spec while region 1 rolled
  CHECK(saw_rolling_region1);

  REQUIRE_MESSAGE(eventually([&] { return mcc_ready(w.mcc("roll")); }, 10s), w.explain("roll", op));
  auto m = w.mcc("roll");
  CHECK(js::get_int(m, {"status", "observedGeneration"}, 0) == 2);
  auto after1 = w.cc(kC1), after2 = w.cc(kC2);
  // Updated in place, once each.
  CHECK(uid(*after1) == uid(*before1));
  CHECK(uid(*after2) == uid(*before2));
  CHECK(op.count_log_lines({"msg=\"Update CassandraCluster\"", "kubernetes=" + kC1}) == 1);
  CHECK(op.count_log_lines({"msg=\"Update CassandraCluster\"", "kubernetes=" + kC2}) == 1);
  CHECK(js::get_string(*after1, {"status", "lastClusterAction"}) == "ScaleUp");
  CHECK(js::get_string(*after2, {"status", "lastClusterAction"}) == "ScaleUp");
  CHECK(eventually([&] { return w.has_event("roll", "CassandraClusterUpdated"); }, 10s));
}

TEST_CASE(
    "deletion: deleteCassandraCluster true removes every region's CassandraCluster, false keeps "
    "them, with either CRD") {
  const cc_crd crd = each_cassandracluster_crd();
  CAPTURE(std::string(to_string(crd)));
  world w({kC1, kC2}, 300, crd);
  operator_process op(w.sim, w.config());
  w.create_mcc(mcc_of("drop", "cassandra-drop", true, {kC1, kC2}));
  w.create_mcc(mcc_of("keep", "cassandra-keep", false, {kC1, kC2}));
  REQUIRE_MESSAGE(eventually([&] { return mcc_ready(w.mcc("drop")) && mcc_ready(w.mcc("keep")); }, 20s),
                  w.explain("drop", op) << "\n" << w.explain("keep", op));
  auto finalizers = [&](const std::string& name) { return strings_at(w.mcc(name), {"metadata", "finalizers"}); };
  CHECK(finalizers("drop") == std::vector<std::string>{"kubernetes.io/multi-casskop"});
  CHECK(finalizers("keep").empty());

  auto del = w.kubectl({"delete", "mcc", "drop", "-n", kNs, "--wait=false"});
  REQUIRE_MESSAGE(del.exit_code == 0, del.err);
  // The MultiCasskop goes only after every CassandraCluster is gone.
  std::vector<std::string> early;
  bool gone = eventually(
      [&] {
        bool mcc_gone = !w.mcc_if("drop").has_value();
        bool c1 = w.cc(kC1, "cassandra-drop").has_value(), c2 = w.cc(kC2, "cassandra-drop").has_value();
        if (mcc_gone && (c1 || c2)) early.push_back(fmt::format("MultiCasskop gone, CassandraClusters {} {}", c1, c2));
        return mcc_gone && !c1 && !c2;
      },
      20s);
  REQUIRE_MESSAGE(gone, w.explain("drop", op));
  CHECK_MESSAGE(early.empty(), early.front());
  CHECK_MESSAGE(op.count_log_lines({"msg=\"Delete CassandraCluster\"", "cluster=cassandra-drop"}) == 2, op.log());

  del = w.kubectl({"delete", "mcc", "keep", "-n", kNs, "--timeout=20s"});
  REQUIRE_MESSAGE(del.exit_code == 0, del.err);
  CHECK(del.out == "multicasskop.db.orange.com \"keep\" deleted\n");
  CHECK_FALSE(w.mcc_if("keep").has_value());
  // Proving an absence takes a while: nothing is deleted within a second (many decisions later).
  std::this_thread::sleep_for(1s);
  CHECK(cc_ready(w.cc(kC1, "cassandra-keep")));
  CHECK(cc_ready(w.cc(kC2, "cassandra-keep")));
  CHECK(op.count_log_lines({"msg=\"Delete CassandraCluster\"", "cluster=cassandra-keep"}) == 0);
  CHECK(op.running());
}

TEST_CASE("a region unreachable at start is reported, and deployed once it comes back") {
  world w;
  w.set_reachable(kC2, false);
  operator_process op(w.sim, w.config());
  w.create_mcc(mcc_of("reach", "cassandra-e2e", true, {kC1, kC2}));

  bool reported = eventually(
      [&] {
        auto m = w.mcc("reach");
        return cc_ready(w.cc(kC1)) && region_field(m, kC1) == "Ready" && region_field(m, kC2) == "Unreachable" &&
               condition(m, "Degraded") == "True" && condition(m, "Degraded", "reason") == "RegionUnreachable";
      },
      15s);
  REQUIRE_MESSAGE(reported, w.explain("reach", op));
  auto m = w.mcc("reach");
  CHECK(condition(m, "Ready") == "False");
  REQUIRE(region_entry(m, kC2) != nullptr);
  CHECK_FALSE(js::get_bool(*region_entry(m, kC2), {"reachable"}, true));
  CHECK(js::get_bool(*region_entry(m, kC1), {"reachable"}, false));
  CHECK(eventually([&] { return w.has_event("reach", "RegionUnreachable"); }, 10s));
  CHECK(op.running());
  CHECK(op.count_log_lines({"level=warning", "msg=\"Cluster unreachable, retrying\"", "kubernetes=" + kC2}) >= 1);

  w.set_reachable(kC2, true);
  REQUIRE_MESSAGE(eventually([&] { return cc_ready(w.cc(kC2)) && mcc_ready(w.mcc("reach")); }, 40s),
                  w.explain("reach", op));
  m = w.mcc("reach");
  CHECK(condition(m, "Degraded") == "False");
  CHECK(region_field(m, kC2) == "Ready");
  CHECK(op.running());
}

TEST_CASE("a region unreachable during a rollout: other MultiCasskops keep working, it catches up later") {
  world w;
  operator_process op(w.sim, w.config());
  w.create_mcc(mcc_of("first", "cassandra-e2e", true, {kC1, kC2}));
  REQUIRE_MESSAGE(eventually([&] { return mcc_ready(w.mcc("first")); }, 15s), w.explain("first", op));

  w.casskop_delay(kC1, 1500);
  w.patch_mcc("first", R"({"spec":{"base":{"spec":{"nodesPerRacks":3}}}})");
  // Region 1 is rolling; then region 2's cluster goes away.
  REQUIRE(eventually([&] { auto c = w.cc(kC1); return c && nodes(*c) == 3 && !cc_ready(*c); }, 10s));
  w.set_reachable(kC2, false);
  w.casskop_delay(kC1, 300);

  w.create_mcc(mcc_of("second", "cassandra-second", true, {kC1}));
  REQUIRE_MESSAGE(eventually([&] { return mcc_ready(w.mcc("second")); }, 15s), w.explain("second", op));
  CHECK(cc_ready(w.cc(kC1, "cassandra-second")));
  // The first one finished region 1 and reports region 2 unreachable.
  bool reported = eventually(
      [&] {
        auto m = w.mcc("first");
        return cc_ready(w.cc(kC1)) && region_field(m, kC2) == "Unreachable" &&
               condition(m, "Degraded", "reason") == "RegionUnreachable";
      },
      15s);
  REQUIRE_MESSAGE(reported, w.explain("first", op));
  CHECK(condition(w.mcc("first"), "Ready") == "False");
  CHECK(op.running());

  w.set_reachable(kC2, true);
  REQUIRE_MESSAGE(eventually(
                      [&] {
                        auto c2 = w.cc(kC2);
                        return c2 && nodes(*c2) == 3 && cc_ready(*c2) && mcc_ready(w.mcc("first"));
                      },
                      40s),
                  w.explain("first", op));
  CHECK(condition(w.mcc("first"), "Degraded") == "False");
  CHECK(mcc_ready(w.mcc("second")));
}

TEST_CASE(
    "kill -9 during a rollout: nothing created twice, no region released early, the rollout "
    "completes, with either CRD") {
  const cc_crd crd = each_cassandracluster_crd();
  CAPTURE(std::string(to_string(crd)));
  world w({kC1, kC2}, 300, crd);
  w.casskop_delay(kC1, 3000);  // time to put the hold annotation on region 1
  operator_process op(w.sim, w.config());
  w.create_mcc(mcc_of("crash", "cassandra-e2e", true, {kC1, kC2}));
  auto restarted_and_synced = [&] {
    op.restart();
    REQUIRE_MESSAGE(op.wait_for_log("msg=\"Cluster reachable, watching\" kubernetes=" + kC1, 15s), op.log());
    REQUIRE_MESSAGE(op.wait_for_log("msg=\"Cluster reachable, watching\" kubernetes=" + kC2, 15s), op.log());
  };

  // 1. Right after region 1's create.
  REQUIRE(eventually([&] { return w.cc(kC1).has_value(); }, 10s));
  op.kill9();
  const std::string uid1 = uid(*w.cc(kC1));
  // CassKop is slow on region 1: held Ongoing while the operator is down and restarted.
  {
    auto r = w.api(kC1).request("PATCH", kCCs + "/cassandra-e2e",
                                R"({"metadata":{"annotations":{"kubesim.casskop/hold":"true"}}})",
                                "application/merge-patch+json");
    REQUIRE_MESSAGE(r.status == 200, r.body);
  }
  restarted_and_synced();
  // 2. While region 1 is Ongoing: the restarted operator must not release region 2.
  REQUIRE_MESSAGE(eventually([&] { return region_field(w.mcc("crash"), kC1) == "Creating"; }, 10s),
                  w.explain("crash", op));
  op.kill9();
  restarted_and_synced();
  std::this_thread::sleep_for(1s);  // an absence: region 2 stays unreleased for a while
  CHECK_FALSE(w.cc(kC2).has_value());
  auto c1 = w.cc(kC1);
  REQUIRE(c1);
  CHECK(uid(*c1) == uid1);
  CHECK(js::get_string(*c1, {"status", "lastClusterActionStatus"}) == "Ongoing");
  CHECK(region_field(w.mcc("crash"), kC2) == "Waiting");

  // 3. Release region 1; kill right after region 2's create.
  {
    auto r = w.api(kC1).request("PATCH", kCCs + "/cassandra-e2e",
                                R"({"metadata":{"annotations":{"kubesim.casskop/hold":null}}})",
                                "application/merge-patch+json");
    REQUIRE_MESSAGE(r.status == 200, r.body);
  }
  REQUIRE_MESSAGE(eventually([&] { return w.cc(kC2).has_value(); }, 15s), w.explain("crash", op));
  op.kill9();
  CHECK(cc_ready(w.cc(kC1)));  // region 2 came after region 1 was Ready
  const std::string uid2 = uid(*w.cc(kC2));
  // A slow remote cluster at start-up: region 2 must wait for its first list, not create blind.
  REQUIRE(w.sim.control(kC2, "latency", "ms=400").status == 200);
  restarted_and_synced();
  REQUIRE(w.sim.control(kC2, "latency", "ms=0").status == 200);
  REQUIRE_MESSAGE(eventually([&] { return mcc_ready(w.mcc("crash")); }, 15s), w.explain("crash", op));

  CHECK(uid(*w.cc(kC1)) == uid1);
  CHECK(uid(*w.cc(kC2)) == uid2);
  // One create decision per region over the four runs, and no spec written again.
  CHECK(op.starts() == 4);
  CHECK(op.count_log_lines({"msg=\"Create CassandraCluster\"", "kubernetes=" + kC1}) == 1);
  CHECK(op.count_log_lines({"msg=\"Create CassandraCluster\"", "kubernetes=" + kC2}) == 1);
  CHECK(op.count_log_lines({"msg=\"Update CassandraCluster\""}) == 0);
  CHECK(op.stop() == 0);
}

TEST_CASE("bad inputs are reported in status and as Events, never a crash") {
  world w;
  // A CassandraCluster someone else made, Ready before the operator starts.
  {
    auto r = w.api(kC1).request("POST", kCCs,
                                R"({"apiVersion":"db.orange.com/v2","kind":"CassandraCluster",
                                    "metadata":{"name":"cassandra-foreign","namespace":")" + kNs + R"("},
                                    "spec":{"nodesPerRacks":1}})");
    REQUIRE_MESSAGE(r.status == 201, r.body);
  }
  REQUIRE(eventually([&] { return cc_ready(w.cc(kC1, "cassandra-foreign")); }, 10s));
  const auto foreign_before = *w.cc(kC1, "cassandra-foreign");

  operator_process op(w.sim, w.config());
  w.create_mcc(mcc_of("unknown", "cassandra-unknown", true, {kC1, "k8s-nowhere", kC2}));
  w.create_mcc(mcc_of("invalid", "cassandra-invalid", true, {kC1, kC2}, "Bad_Name"));
  w.create_mcc(mcc_of("foreign", "cassandra-foreign", true, {kC1, kC2}));

  // An override naming no configured cluster: reported, the other regions still deployed, and
  // never Ready (`kubectl wait --for=condition=Ready` must not pass with a region missing).
  REQUIRE_MESSAGE(eventually(
                      [&] {
                        auto m = w.mcc("unknown");
                        return region_field(m, kC2) == "Ready" &&
                               condition(m, "Degraded", "reason") == "UnknownRegion";
                      },
                      20s),
                  w.explain("unknown", op));
  auto unknown = w.mcc("unknown");
  CHECK(condition(unknown, "Degraded") == "True");
  CHECK(condition(unknown, "Ready") == "False");
  CHECK(condition(unknown, "Ready", "reason") == "UnknownRegion");
  auto waited =
      w.kubectl({"wait", "--for=condition=Ready", "mcc/unknown", "-n", kNs, "--timeout=1s"});
  CHECK(waited.exit_code != 0);
  CHECK(condition(unknown, "Degraded", "message").find("k8s-nowhere") != std::string::npos);
  CHECK(cc_ready(w.cc(kC1, "cassandra-unknown")));
  CHECK(cc_ready(w.cc(kC2, "cassandra-unknown")));
  CHECK(eventually([&] { return w.has_event("unknown", "UnknownRegion"); }, 10s));

  // An invalid base: nothing created.
  REQUIRE_MESSAGE(eventually(
                      [&] {
                        auto m = w.mcc("invalid");
                        return condition(m, "Ready", "reason") == "InvalidSpec" &&
                               condition(m, "Degraded", "reason") == "InvalidBase";
                      },
                      10s),
                  w.explain("invalid", op));
  auto invalid = w.mcc("invalid");
  CHECK(condition(invalid, "Ready") == "False");
  CHECK(condition(invalid, "Degraded", "message").find("Bad_Name") != std::string::npos);
  for (const auto& c : w.clusters) {
    auto list = w.api(c).get(kCCs);
    REQUIRE(list.status == 200);
    auto d = list.json();
    for (const auto& cc : js::find(d, "items")->GetArray())
      CHECK(js::get_string(cc, {"metadata", "annotations", "multicasskop.db.orange.com/owner"}) != kNs + "/invalid");
  }
  CHECK(op.count_log_lines({"msg=\"Create CassandraCluster\"", "cluster=Bad_Name"}) == 0);
  // Seen as a user would: kubectl get events.
  auto events = w.kubectl({"get", "events", "-n", kNs, "-o", "json"});
  REQUIRE_MESSAGE(events.exit_code == 0, events.err);
  bool invalid_event = false;
  {
    auto d = js::parse(events.out);
    for (const auto& e : js::find(d, "items")->GetArray())
      if (js::get_string(e, {"involvedObject", "name"}) == "invalid" && js::get_string(e, "reason") == "InvalidBase" &&
          js::get_string(e, "type") == "Warning")
        invalid_event = true;
  }
  CHECK(invalid_event);

  // A CassandraCluster that exists and is not ours: reported, left untouched, no region 2.
  REQUIRE_MESSAGE(eventually(
                      [&] {
                        auto m = w.mcc("foreign");
                        return region_field(m, kC1) == "Error" &&
                               condition(m, "Degraded", "reason") == "ForeignCassandraCluster";
                      },
                      10s),
                  w.explain("foreign", op));
  CHECK(eventually([&] { return w.has_event("foreign", "ForeignCassandraCluster"); }, 10s));
  CHECK(condition(w.mcc("foreign"), "Ready") == "False");
  CHECK(region_field(w.mcc("foreign"), kC2) == "Waiting");
  // Untouched by the operator: no field of it is managed by multi-casskop, and it is not being
  // deleted. (Its resourceVersion is no measure: the CassKop stand-in writes it on its passes.)
  const auto foreign_now = *w.cc(kC1, "cassandra-foreign");
  CHECK(js::get_string(foreign_now, {"metadata", "uid"}) ==
        js::get_string(foreign_before, {"metadata", "uid"}));
  CHECK(js::find_path(foreign_now, {"metadata", "deletionTimestamp"}) == nullptr);
  if (const js::Value* managers = js::find_path(foreign_now, {"metadata", "managedFields"}))
    for (const auto& m : managers->GetArray())
      CHECK(js::get_string(m, "manager") != "multi-casskop");
  CHECK_FALSE(w.cc(kC2, "cassandra-foreign").has_value());
  CHECK(op.running());
  CHECK(op.stop() == 0);
}

TEST_CASE("replay: the journal of a rollout re-runs to the same create decisions") {
  world w;
  auto cfg = w.config();
  const std::string dir = make_temp_dir("mc-journal");
  cfg.journal_file = dir + "/journal.jsonl";
  operator_process op(w.sim, cfg);
  w.create_mcc(mcc_of("replayed", "cassandra-e2e", true, {kC1, kC2}));
  REQUIRE_MESSAGE(eventually([&] { return mcc_ready(w.mcc("replayed")); }, 15s), w.explain("replayed", op));
  REQUIRE(op.stop() == 0);

  auto r = run({MULTICASSKOP_BIN, "replay", cfg.journal_file, "--legacy-settle-seconds", "5"}, {}, 30s);
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  std::vector<std::string> creates;
  std::istringstream lines(r.out);
  for (std::string l; std::getline(lines, l);)
    if (l.find("\"command\":\"create\"") != std::string::npos) creates.push_back(l);
  REQUIRE_MESSAGE(creates.size() == 2, r.out);
  CHECK(creates[0].find("\"cluster\":\"" + kC1 + "\"") != std::string::npos);
  CHECK(creates[1].find("\"cluster\":\"" + kC2 + "\"") != std::string::npos);
  CHECK(creates[0].find(kNs + "/cassandra-e2e") != std::string::npos);
  // The live run decided the same: one create per region, in the same order.
  auto log = op.log();
  auto live1 = log.find("msg=\"Create CassandraCluster\" cluster=cassandra-e2e kubernetes=" + kC1);
  auto live2 = log.find("msg=\"Create CassandraCluster\" cluster=cassandra-e2e kubernetes=" + kC2);
  REQUIRE(live1 != std::string::npos);
  REQUIRE(live2 != std::string::npos);
  CHECK(live1 < live2);
  // Every write the live run issued is journaled (command_issued), and the replay decides the
  // same writes with the same ids, in the same order.
  auto id_of = [](const std::string& line) {
    auto at = line.find("\"id\":");
    return at == std::string::npos ? std::string()
                                   : line.substr(at + 5, line.find_first_of(",}", at) - at - 5);
  };
  std::vector<std::string> issued, replayed;
  std::istringstream journal(read_file(cfg.journal_file));
  for (std::string l; std::getline(journal, l);)
    if (l.find("\"type\":\"command_issued\"") != std::string::npos &&
        l.find("\"kind\":\"timer\"") == std::string::npos &&
        l.find("\"kind\":\"event\"") == std::string::npos)
      issued.push_back(id_of(l));
  std::istringstream out(r.out);
  for (std::string l; std::getline(out, l);)
    if (l.rfind("  -> ", 0) == 0 && !id_of(l).empty()) replayed.push_back(id_of(l));
  CHECK(issued.size() >= 2);
  CHECK(replayed == issued);
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

TEST_CASE(
    "the original flags: -l and -r with WATCH_NAMESPACE, a KUBECONFIG and an Admiralty import "
    "folder") {
  world w({kC1, kC2, kC3});
  const std::string dir = make_temp_dir("mc-flags");
  write_file(dir + "/kubeconfig", merged_kubeconfig(w.sim, {kC1, kC2}));
  // k8s-cluster3 comes from its Admiralty import (<imports>/k8s-cluster3/config), k8s-cluster2
  // from the context of $KUBECONFIG as it has no import. The imports folder is the test's own
  // (SERVICEACCOUNT_IMPORTS_DIR), not /var/run/secrets/admiralty.io/serviceaccountimports.
  std::filesystem::create_directories(dir + "/imports/" + kC3);
  write_file(dir + "/imports/" + kC3 + "/config", read_file(w.sim.kubeconfig(kC3)));
  // ADMIN_ADDRESS: a free port, as tests run side by side (the default is 127.0.0.1:8090).
  operator_process op({"-l", kC1, "-r", kC2, "-r", kC3},
                      {{"WATCH_NAMESPACE", kNs},
                       {"KUBECONFIG", dir + "/kubeconfig"},
                       {"ADMIN_ADDRESS", "127.0.0.1:0"},
                       {"SERVICEACCOUNT_IMPORTS_DIR", dir + "/imports"}});
  auto applied = w.kubectl({"apply", "-f", kSample});
  REQUIRE_MESSAGE(applied.exit_code == 0, applied.err);
  REQUIRE_MESSAGE(eventually([&] { return mcc_ready(w.mcc("multi-casskop-e2e")); }, 20s),
                  w.explain("multi-casskop-e2e", op));
  CHECK(cc_ready(w.cc(kC1)));
  CHECK(cc_ready(w.cc(kC2)));
  CHECK(op.count_log_lines(
            {"msg=\"Configuring client for a remote cluster\"", "kubernetes=" + kC2,
             "source=\"kubeconfig " + dir + "/kubeconfig (context " + kC2 + ")\""}) == 1);
  CHECK(op.count_log_lines({"msg=\"Configuring client for a remote cluster\"", "kubernetes=" + kC3,
                            "source=\"service-account folder " + dir + "/imports/" + kC3 + "\""}) ==
        1);
  CHECK(region_field(w.mcc("multi-casskop-e2e"), kC3) ==
        "NotDeployed");  // the sample has no entry for it
  CHECK(op.stop() == 0);
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}
