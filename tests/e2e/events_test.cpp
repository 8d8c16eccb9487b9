// Kubernetes Events under pressure, end to end with the real binary against kubesim: a region
// that flaps leaves a few Event objects whose counts grow, occurrences beyond the burst are
// dropped and counted on /metrics; a restart bumps the Events already recorded instead of
// recording them a second time; an Event object that went away is recorded anew.
#include <doctest/doctest.h>

#include <set>
#include <thread>
#include <tuple>

#include "tests/e2e/e2e_setup.h"

using namespace e2e;
using namespace testsupport;
using namespace std::chrono_literals;

namespace {

int64_t count_of(const js::Value& event) {
  return js::get_int(event, {"count"}, 1);
}
std::string reason_of(const js::Value& event) {
  return std::string(js::get_string(event, "reason"));
}
std::string name_of(const js::Value& event) {
  return std::string(js::get_string(event, {"metadata", "name"}));
}

// The Event objects on the MultiCasskop with `reason`.
std::vector<js::Document> events_with(world& w, const std::string& mcc, const std::string& reason) {
  std::vector<js::Document> out;
  for (auto& e : w.events(mcc))
    if (reason_of(e) == reason) out.push_back(std::move(e));
  return out;
}

// Every (type, reason, message) has one Event object.
void check_one_object_per_event(world& w, const std::string& mcc) {
  std::set<std::tuple<std::string, std::string, std::string>> seen;
  for (const auto& e : w.events(mcc)) {
    auto key = std::make_tuple(std::string(js::get_string(e, "type")), reason_of(e),
                               std::string(js::get_string(e, "message")));
    CHECK_MESSAGE(seen.insert(key).second, "a second Event object for "
                                               << reason_of(e) << ": "
                                               << js::get_string(e, "message"));
  }
}

// The MultiCasskop's Events, one line each. Also a failure message: no doctest assertion in
// here (see world::explain).
std::string summary(world& w, const std::string& mcc) {
  auto r = w.api(kC1).get("/api/v1/namespaces/" + kNs + "/events");
  if (r.status != 200)
    return "(cannot list Events: " + std::to_string(r.status) + " " + r.body + ")";
  try {
    std::string out;
    auto list = r.json();
    if (const js::Value* items = js::find(list, "items"); items && items->IsArray())
      for (const auto& e : items->GetArray())
        if (js::get_string(e, {"involvedObject", "name"}) == mcc)
          out += fmt::format("{} x{} ({}): {}\n", reason_of(e), count_of(e), name_of(e),
                             js::get_string(e, "message"));
    return out;
  } catch (const std::exception& e) {
    return std::string("(cannot read the Events: ") + e.what() + ")";
  }
}

// What CassKop would write: the CassandraCluster's phase, in the object (the CRD has no status
// subresource, as CassKop's own).
void set_cassandra_phase(world& w, const std::string& cluster, const std::string& phase) {
  auto r = w.api(cluster).request("PATCH", kCCs + "/cassandra-e2e",
                                  R"({"status":{"phase":")" + phase + R"("}})",
                                  "application/merge-patch+json");
  REQUIRE_MESSAGE(r.status == 200, r.body);
}

// Sets the phase and waits until the operator has decided on it (its status shows it).
void flip(world& w, const operator_process& op, const std::string& mcc, const std::string& phase) {
  set_cassandra_phase(w, kC1, phase);
  bool seen = eventually(
      [&] {
        auto m = w.mcc(mcc);
        return region_field(m, kC1, "cassandraPhase") == phase &&
               (region_field(m, kC1) == "Ready") == (phase == "Running");
      },
      10s);
  REQUIRE_MESSAGE(seen, "flip to " << phase << "\n" << w.explain(mcc, op));
}

// From here on the test is CassKop in the local cluster: the stand-in would put the status back.
void stop_casskop(world& w) {
  auto off = w.sim.control(kC1, "casskop", "enabled=false");
  REQUIRE_MESSAGE(off.status == 200, off.body);
}

double events_total(api_client& admin, const char* result) {
  auto r = admin.get("/metrics");
  REQUIRE_MESSAGE(r.status == 200, r.body);
  return metric(r.body, "operator_kubernetes_events_total", {{"result", result}}).value_or(-1);
}

}  // namespace

TEST_CASE(
    "events: a flapping region leaves a few Event objects with growing counts, the rest rate "
    "limited and counted") {
  world w({kC1}, 100);
  operator_process op(w.sim, w.config());
  auto admin = admin_client(admin_address(op));
  w.create_mcc(mcc_of("flappy", "cassandra-e2e", true, {kC1}));
  REQUIRE_MESSAGE(
      eventually([&] { return mcc_ready(w.mcc("flappy")) && w.has_event("flappy", "RegionReady"); },
                 15s),
      w.explain("flappy", op));
  stop_casskop(w);
  const int flips = 40;
  for (int i = 0; i < flips; ++i) {
    CAPTURE(i);
    flip(w, op, "flappy", i % 2 == 1 ? "Running" : "Pending");
  }

  // Created, Ready, then NotReady and Ready again 20 times each: 42 occurrences, 25 let through.
  const double occurrences = 2 + flips;
  std::string scrape;
  auto result = [&](const char* r) {
    return metric(scrape, "operator_kubernetes_events_total", {{"result", r}}).value_or(-1);
  };
  bool settled = eventually(
      [&] {
        auto r = admin.get("/metrics");
        scrape = r.status == 200 ? r.body : "";
        return result("created") + result("updated") + result("dropped") + result("failed") >=
               occurrences;
      },
      10s);
  REQUIRE_MESSAGE(settled, scrape);
  CHECK(result("failed") == 0);
  CHECK(result("created") == 3);  // CassandraClusterCreated, RegionReady, RegionNotReady
  CHECK(result("updated") == 22);
  CHECK(result("dropped") == occurrences - 25);

  INFO(summary(w, "flappy"));
  auto all = w.events("flappy");
  CHECK(all.size() <= 25);
  CHECK(all.size() == 3);
  check_one_object_per_event(w, "flappy");
  const std::string mcc_uid = uid(w.mcc("flappy"));
  for (const auto& e : all) CHECK(js::get_string(e, {"involvedObject", "uid"}) == mcc_uid);
  for (const char* reason : {"RegionReady", "RegionNotReady"}) {
    CAPTURE(reason);
    auto objects = events_with(w, "flappy", reason);
    REQUIRE(objects.size() == 1);
    CHECK(count_of(objects[0]) > 1);
    CHECK(count_of(objects[0]) <= flips / 2 + 1);
  }
  REQUIRE(events_with(w, "flappy", "RegionNotReady").size() == 1);
  CHECK(js::get_string(events_with(w, "flappy", "RegionNotReady")[0], "type") == "Warning");
  // Every occurrence is still a log line, dropped ones included.
  CHECK(op.count_log_lines({"reason=RegionNotReady", "multicasskop=flappy"}) == flips / 2);

  // As a user sees it.
  auto described = w.kubectl({"describe", "multicasskop", "flappy", "-n", kNs});
  REQUIRE_MESSAGE(described.exit_code == 0, described.err);
  CHECK(described.out.find("RegionNotReady") != std::string::npos);
  CHECK(op.stop() == 0);
}

TEST_CASE(
    "events: after a restart nothing is recorded again, and the next occurrence bumps the Event "
    "already there") {
  world w({kC1, kC2}, 100);
  operator_process op(w.sim, w.config());
  w.create_mcc(mcc_of("again", "cassandra-e2e", true, {kC1, kC2}));
  REQUIRE_MESSAGE(eventually(
                      [&] {
                        return mcc_ready(w.mcc("again")) &&
                               events_with(w, "again", "RegionReady").size() == 2 &&
                               events_with(w, "again", "CassandraClusterCreated").size() == 2;
                      },
                      15s),
                  w.explain("again", op) << "\n"
                                         << summary(w, "again"));
  std::set<std::string> before;
  for (const auto& e : w.events("again")) {
    before.insert(name_of(e));
    CHECK(count_of(e) == 1);
  }

  // A new process: its state says the regions are Ready, as the status it wrote says. Nothing
  // to record: the same Event objects, each still counted once.
  op.restart();
  REQUIRE(op.wait_for_log("msg=\"Cluster reachable, watching\" kubernetes=" + kC2, 15s));
  REQUIRE(op.wait_for_log("msg=\"Cluster reachable, watching\" kubernetes=" + kC1, 15s));
  stop_casskop(w);
  std::this_thread::sleep_for(500ms);  // an absence
  for (const auto& e : w.events("again")) CHECK(count_of(e) == 1);
  // Region 1 flaps: RegionNotReady is new; RegionReady again bumps the object the previous
  // process recorded (found by listing the MultiCasskop's Events first), not a second one.
  flip(w, op, "again", "Pending");
  flip(w, op, "again", "Running");
  bool bumped = eventually(
      [&] {
        for (const auto& e : events_with(w, "again", "RegionReady"))
          if (count_of(e) == 2) return true;
        return false;
      },
      10s);
  REQUIRE_MESSAGE(bumped, w.explain("again", op) << "\n" << summary(w, "again"));
  INFO(summary(w, "again"));
  std::set<std::string> after;
  for (const auto& e : w.events("again"))
    if (js::get_string(e, "reason") != "RegionNotReady") after.insert(name_of(e));
  CHECK(after == before);
  CHECK(events_with(w, "again", "RegionNotReady").size() == 1);
  check_one_object_per_event(w, "again");
  for (const auto& e : events_with(w, "again", "CassandraClusterCreated")) CHECK(count_of(e) == 1);
  CHECK(op.count_log_lines({"Cannot list the MultiCasskop's Events"}) == 0);
  CHECK(op.stop() == 0);
}

TEST_CASE("events: an Event object deleted meanwhile, as expired ones are, is recorded anew") {
  world w({kC1}, 100);
  operator_process op(w.sim, w.config());
  auto admin = admin_client(admin_address(op));
  w.create_mcc(mcc_of("expiring", "cassandra-e2e", true, {kC1}));
  REQUIRE_MESSAGE(
      eventually(
          [&] { return mcc_ready(w.mcc("expiring")) && w.has_event("expiring", "RegionReady"); },
          15s),
      w.explain("expiring", op));
  stop_casskop(w);
  flip(w, op, "expiring", "Pending");
  flip(w, op, "expiring", "Running");
  auto ready_count = [&] {
    auto ready = events_with(w, "expiring", "RegionReady");
    return ready.size() == 1 ? count_of(ready[0]) : -1;
  };
  REQUIRE_MESSAGE(eventually([&] { return ready_count() == 2; }, 10s), summary(w, "expiring"));
  const std::string expired = name_of(events_with(w, "expiring", "RegionReady")[0]);
  auto r = w.api(kC1).request("DELETE", "/api/v1/namespaces/" + kNs + "/events/" + expired);
  REQUIRE_MESSAGE(r.status == 200, r.body);

  flip(w, op, "expiring", "Pending");
  flip(w, op, "expiring", "Running");
  // The bump found nothing: a new object, counting from one.
  REQUIRE_MESSAGE(eventually([&] { return ready_count() == 1; }, 10s), summary(w, "expiring"));
  INFO(summary(w, "expiring"));
  CHECK(name_of(events_with(w, "expiring", "RegionReady")[0]) != expired);
  REQUIRE(events_with(w, "expiring", "RegionNotReady").size() == 1);
  CHECK(count_of(events_with(w, "expiring", "RegionNotReady")[0]) == 2);
  check_one_object_per_event(w, "expiring");
  // Created, Ready, NotReady, Ready anew; NotReady and Ready bumped once each.
  CHECK(eventually([&] { return events_total(admin, "created") == 4; }, 5s));
  CHECK(events_total(admin, "updated") == 2);
  CHECK(events_total(admin, "failed") == 0);
  CHECK(events_total(admin, "dropped") == 0);
  CHECK(op.stop() == 0);
}
