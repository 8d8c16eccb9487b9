// A change CassKop v2.1.0 refuses (CorrectCRDConfig: it writes the old values back), end to end
// with kubesim's stand-in: the MultiCasskop reports region 1 Degraded with the reason, region 2
// never gets the change, region 1 is not written again and again, and setting the old value back
// brings both regions Ready.
#include <doctest/doctest.h>

#include <thread>

#include "tests/e2e/e2e_setup.h"

using namespace testsupport;
using namespace e2e;
using namespace std::chrono_literals;

namespace {

std::string capacity(const std::optional<js::Document>& cc) {
  return cc ? std::string(js::get_string(*cc, {"spec", "dataCapacity"})) : "";
}

}  // namespace

TEST_CASE(
    "refused change: region 1 reverts a dataCapacity change, the MultiCasskop says so, region 2 "
    "never gets it, and reverting the MultiCasskop brings both Ready") {
  std::string flavor = "v2.1.0";
  SUBCASE("CassKop v2.1.0") {}
  SUBCASE("a CassKop reporting observedGeneration") {
    flavor = "observed-generation";
  }
  CAPTURE(flavor);
  world w({kC1, kC2}, 100);
  for (const auto& c : w.clusters) {
    auto r = w.sim.control(c, "casskop", "flavor=" + flavor);
    REQUIRE_MESSAGE(r.status == 200, r.body);
  }
  operator_process op(w.sim, w.config());
  mcc_def d = mcc_of("multi", "cassandra-e2e", true, {kC1, kC2});
  w.create_mcc(d);
  REQUIRE_MESSAGE(eventually([&] { return mcc_ready(w.mcc("multi")); }, 20s),
                  w.explain("multi", op));
  REQUIRE(capacity(w.cc(kC1)) == "1Gi");
  const auto c2_before = w.cc(kC2);
  REQUIRE(c2_before);
  const size_t writes_before =
      op.count_log_lines({"msg=\"Update CassandraCluster\"", "kubernetes=" + kC1});

  w.patch_mcc("multi", R"({"spec":{"base":{"spec":{"dataCapacity":"2Gi"}}}})");
  // Region 2 is watched all along: it must never hold 2Gi.
  bool region2_changed = false;
  auto degraded = [&] {
    if (capacity(w.cc(kC2)) != "1Gi") region2_changed = true;
    auto m = w.mcc("multi");
    return region_field(m, kC1) == "Degraded" && condition(m, "Degraded") == "True";
  };
  REQUIRE_MESSAGE(eventually(degraded, 15s), w.explain("multi", op));
  auto m = w.mcc("multi");
  CHECK(region_field(m, kC1, "reason") == "ChangeRefused");
  CHECK(region_field(m, kC1, "message").find("spec.dataCapacity: 2Gi written, 1Gi found") !=
        std::string::npos);
  CHECK(condition(m, "Degraded", "reason") == "ChangeRefused");
  CHECK(condition(m, "Degraded", "message").find("region " + kC1) != std::string::npos);
  CHECK(condition(m, "Ready") == "False");
  CHECK(condition(m, "Progressing", "reason") == "ChangeRefused");
  CHECK(region_field(m, kC2) == "Waiting");
  auto c1 = w.cc(kC1);
  REQUIRE(c1);
  CHECK(capacity(c1) == "1Gi");  // CassKop wrote it back
  CHECK(js::get_string(*c1, {"status", "lastClusterAction"}) == "CorrectCRDConfig");
  CHECK(eventually([&] { return w.has_event("multi", "ChangeRefused"); }, 10s));
  auto admin = admin_client(admin_address(op));
  CHECK(eventually(
      [&] {
        return metric(admin.get("/metrics").body, "multicasskop_region_phase",
                      {{"multicasskop", "multi"}, {"region", kC1}, {"phase", "Degraded"}}) == 1.0;
      },
      5s));

  // Time passes (CassKop passes every 50 ms here, its refused-change requeue is 300 ms): no
  // write war, region 2 untouched.
  const size_t writes_when_degraded =
      op.count_log_lines({"msg=\"Update CassandraCluster\"", "kubernetes=" + kC1});
  for (int i = 0; i < 30; ++i) {
    if (capacity(w.cc(kC2)) != "1Gi") region2_changed = true;
    std::this_thread::sleep_for(100ms);
  }
  CHECK_FALSE(region2_changed);
  const size_t writes_refused =
      op.count_log_lines({"msg=\"Update CassandraCluster\"", "kubernetes=" + kC1}) - writes_before;
  // The change itself (a second try only after a conflict with CassKop's own write), then
  // nothing while it stays refused.
  CHECK(writes_refused >= 1);
  CHECK(writes_refused <= 2);
  CHECK(op.count_log_lines({"msg=\"Update CassandraCluster\"", "kubernetes=" + kC1}) ==
        writes_when_degraded);
  auto c2 = w.cc(kC2);
  REQUIRE(c2);
  CHECK(rv(*c2) == rv(*c2_before));  // not written at all
  size_t refused_events = 0;
  for (const auto& r : w.event_reasons("multi")) refused_events += r == "ChangeRefused";
  CHECK(refused_events == 1);
  CHECK(region_field(w.mcc("multi"), kC1) == "Degraded");

  // The user sets the old value back: both regions Ready, nothing refused.
  w.patch_mcc("multi", R"({"spec":{"base":{"spec":{"dataCapacity":"1Gi"}}}})");
  REQUIRE_MESSAGE(eventually([&] { return mcc_ready(w.mcc("multi")); }, 15s),
                  w.explain("multi", op));
  m = w.mcc("multi");
  CHECK(region_field(m, kC1) == "Ready");
  CHECK(region_field(m, kC2) == "Ready");
  CHECK(condition(m, "Degraded") == "False");
  CHECK(capacity(w.cc(kC1)) == "1Gi");
  CHECK(capacity(w.cc(kC2)) == "1Gi");
  CHECK(metric(admin.get("/metrics").body, "multicasskop_region_phase",
               {{"multicasskop", "multi"}, {"region", kC1}, {"phase", "Ready"}}) == 1.0);
  CHECK(op.stop() == 0);
}
