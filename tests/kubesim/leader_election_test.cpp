// Leader election on a Lease against kubesim, with short durations (lease 1 s, renew deadline
// 700 ms, retry 200 ms): one leader among candidates, takeover after a crash and after a release,
// a leader that cannot renew stops in time, a fresh Lease is never stolen, and the Lease looks as
// client-go writes it.
#include <doctest/doctest.h>

#include <atomic>
#include <future>
#include <regex>
#include <thread>

#include "k8s/api/client.h"
#include "k8s/api/connection.h"
#include "k8s/api/leader_election.h"
#include "k8s/base/timestamps.h"
#include "tests/support/kubesim_fixture.h"

using namespace testsupport;
using namespace std::chrono_literals;
namespace js = k8s::json;

namespace {

using steady = std::chrono::steady_clock;
const std::string lease_name = "multi-casskop-leader";

k8s::leader_election_options fast_options(const std::string& identity) {
  k8s::leader_election_options o;
  o.lease_namespace = "default";
  o.lease_name = lease_name;
  o.identity = identity;
  o.lease_duration = 1000ms;
  o.renew_deadline = 700ms;
  o.retry_period = 200ms;
  return o;
}

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(steady::now().time_since_epoch())
      .count();
}

// One operator replica: its own client, timers and elector, with what its callbacks saw.
struct replica {
  std::atomic<int> started{0};
  std::atomic<int> stopped{0};
  std::atomic<int64_t> started_ms{0};
  std::atomic<int64_t> started_unix_ms{0};  // wall clock, to compare with the Lease's times
  std::atomic<int64_t> stopped_ms{0};
  std::shared_ptr<k8s::client> client;
  std::shared_ptr<k8s::timer_service> timers = std::make_shared<k8s::timer_service>();
  std::shared_ptr<k8s::leader_elector> elector;

  replica(const kubesim_instance& sim, const std::string& identity) {
    k8s::client_options co;
    co.request_timeout = 500ms;  // shorter than the renew deadline, as a real deployment should be
    client = std::make_shared<k8s::client>(k8s::load_kubeconfig(sim.kubeconfig("k1")), co);
    k8s::leader_elector::callbacks cb;
    cb.on_started_leading = [this] {
      started_ms = now_ms();
      started_unix_ms = k8s::now_unix_ms();
      ++started;
    };
    cb.on_stopped_leading = [this] {
      stopped_ms = now_ms();
      ++stopped;
    };
    elector = k8s::leader_elector::create(client, timers, fast_options(identity), cb);
  }
  ~replica() { elector->stop(); }  // the callbacks capture this
  bool leads() const { return elector->is_leader(); }
};

// A replica started alone, once it leads.
std::unique_ptr<replica> sole_leader(const kubesim_instance& sim, const std::string& identity) {
  auto r = std::make_unique<replica>(sim, identity);
  r->elector->start();
  REQUIRE(eventually([&] { return r->leads(); }, 5s));
  return r;
}

// A candidate started while another leads: after `watching` it has seen renewals, and waits.
std::unique_ptr<replica> follower(const kubesim_instance& sim, const std::string& identity,
                                  std::chrono::milliseconds watching) {
  auto r = std::make_unique<replica>(sim, identity);
  r->elector->start();
  std::this_thread::sleep_for(watching);
  REQUIRE(!r->leads());
  return r;
}

// Calls release(); the future gets what its callback reports (or a broken promise if the
// elector drops the callback without calling it).
std::future<bool> release(replica& r) {
  auto reported = std::make_shared<std::promise<bool>>();
  r.elector->release([reported](bool ok) { reported->set_value(ok); });
  return reported->get_future();
}

k8s::result<k8s::object_ptr> get_lease(k8s::client& c) {
  auto p = std::make_shared<std::promise<k8s::result<k8s::object_ptr>>>();
  auto f = p->get_future();
  c.get(k8s::leases, "default", lease_name,
        [p](k8s::result<k8s::object_ptr> r) { p->set_value(std::move(r)); });
  REQUIRE(f.wait_for(10s) == std::future_status::ready);
  return f.get();
}

k8s::lease_record read_lease(k8s::client& c) {
  auto r = get_lease(c);
  REQUIRE_MESSAGE(r.ok(), r.error().describe());
  return k8s::lease_record_of(*r.value());
}

k8s::result<k8s::object_ptr> write(k8s::client& c, const std::string& body, bool create) {
  auto p = std::make_shared<std::promise<k8s::result<k8s::object_ptr>>>();
  auto f = p->get_future();
  auto done = [p](k8s::result<k8s::object_ptr> r) { p->set_value(std::move(r)); };
  if (create)
    c.create(k8s::leases, "default", body, {}, done);
  else
    c.patch(k8s::leases, "default", lease_name, k8s::patch_kind::merge, body, {}, done);
  REQUIRE(f.wait_for(10s) == std::future_status::ready);
  return f.get();
}

bool is_micro_time(const std::string& s) {
  static const std::regex re(R"(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$)");
  return std::regex_match(s, re);
}

k8s::client test_client(const kubesim_instance& sim) {
  return k8s::client(k8s::load_kubeconfig(sim.kubeconfig("k1")));
}

}  // namespace

TEST_CASE(
    "leader election: of two candidates exactly one leads, and the Lease is as client-go writes "
    "it") {
  kubesim_instance sim;
  auto c = test_client(sim);
  auto a = std::make_unique<replica>(sim, "replica-a");
  auto b = std::make_unique<replica>(sim, "replica-b");
  a->elector->start();
  b->elector->start();
  REQUIRE(eventually([&] { return a->leads() || b->leads(); }, 5s));
  replica& leader = a->leads() ? *a : *b;
  replica& other = a->leads() ? *b : *a;
  // Over many renewals the leadership never moves and is never shared.
  auto until = steady::now() + 1500ms;
  while (steady::now() < until) {
    CHECK(leader.leads());
    CHECK(!other.leads());
    std::this_thread::sleep_for(20ms);
  }
  CHECK(leader.started == 1);
  CHECK(leader.stopped == 0);
  CHECK(other.started == 0);
  CHECK(other.elector->current_holder() == leader.elector->identity());

  auto first = read_lease(c);
  CHECK(first.holder_identity == leader.elector->identity());
  CHECK(first.lease_duration_seconds == 1);
  CHECK(first.lease_transitions == 0);
  CHECK_MESSAGE(is_micro_time(first.acquire_time), first.acquire_time);
  CHECK_MESSAGE(is_micro_time(first.renew_time), first.renew_time);
  CHECK(first.renew_time >= first.acquire_time);
  // Renewals move renewTime forward and keep acquireTime.
  std::this_thread::sleep_for(500ms);
  auto later = read_lease(c);
  CHECK(later.holder_identity == first.holder_identity);
  CHECK(later.acquire_time == first.acquire_time);
  CHECK(later.renew_time > first.renew_time);
  CHECK(later.lease_transitions == 0);
  auto obj = get_lease(c);
  REQUIRE(obj.ok());
  CHECK(js::get_string(*obj.value(), {"apiVersion"}) == "coordination.k8s.io/v1");
  CHECK(js::get_string(*obj.value(), {"kind"}) == "Lease");
}

TEST_CASE("leader election: a crashed leader is replaced after about the lease duration") {
  kubesim_instance sim;
  auto c = test_client(sim);
  auto a = sole_leader(sim, "replica-a");
  auto b = follower(sim, "replica-b", 600ms);
  const auto acquired_by_a = read_lease(c).acquire_time;

  // A crash: stop() without release(). No callback comes, the Lease is left as it is.
  const int64_t crash = now_ms();
  a->elector->stop();
  CHECK(!a->leads());
  const auto last_renewal = k8s::parse_rfc3339(read_lease(c).renew_time);
  REQUIRE(last_renewal);
  // is_leader() turns true just before the started-leading callback stamps the times: wait for
  // the stamp, not for the flag.
  REQUIRE(eventually([&] { return b->leads() && b->started_unix_ms > 0; }, 5s));
  const int64_t takeover = b->started_ms - crash;
  const int64_t after_renewal = b->started_unix_ms - k8s::unix_ms(*last_renewal);
  MESSAGE("takeover after a crash: " << takeover << " ms, " << after_renewal
                                     << " ms after the last renewal");
  // Safety: b never takes a Lease before a full duration has passed since the last renewal it
  // could have seen (MicroTime is truncated, hence the 1 ms). Liveness: it does not wait for
  // much more than that plus its next poll.
  CHECK(after_renewal >= 999);
  CHECK(takeover <= 2500);
  CHECK(a->stopped == 0);
  CHECK(a->started == 1);

  auto rec = read_lease(c);
  CHECK(rec.holder_identity == "replica-b");
  CHECK(rec.lease_transitions == 1);
  CHECK(rec.acquire_time != acquired_by_a);
  CHECK(rec.lease_duration_seconds == 1);
}

TEST_CASE("leader election: release hands the Lease over within about the retry period") {
  kubesim_instance sim;
  auto c = test_client(sim);
  auto a = sole_leader(sim, "replica-a");
  auto b = follower(sim, "replica-b", 500ms);

  const int64_t start = now_ms();
  auto f = release(*a);
  // Leadership ends at once, before the Lease is even written.
  CHECK(!a->leads());
  CHECK(a->stopped == 1);
  REQUIRE(f.wait_for(5s) == std::future_status::ready);
  CHECK(f.get());
  REQUIRE(eventually([&] { return b->leads(); }, 5s));
  const int64_t takeover = b->started_ms - start;
  MESSAGE("takeover after a release: " << takeover << " ms");
  CHECK(takeover <= 700);  // retry 200 ms + up to 20 % jitter, far below the 1 s lease

  auto rec = read_lease(c);
  CHECK(rec.holder_identity == "replica-b");
  CHECK(rec.lease_transitions == 1);
  CHECK(rec.lease_duration_seconds == 1);
  // The released elector campaigns no more; a second release has nothing to give up.
  std::this_thread::sleep_for(500ms);
  CHECK(!a->leads());
  CHECK(a->started == 1);
  auto g = release(*a);
  REQUIRE(g.wait_for(1s) == std::future_status::ready);
  CHECK(!g.get());
}

TEST_CASE("leader election: the Lease a release writes is empty with a 1 s duration") {
  kubesim_instance sim;
  auto c = test_client(sim);
  auto a = sole_leader(sim, "replica-a");
  auto f = release(*a);
  REQUIRE(f.wait_for(5s) == std::future_status::ready);
  CHECK(f.get());
  auto rec = read_lease(c);
  CHECK(rec.holder_identity == "");
  CHECK(rec.lease_duration_seconds == 1);
  CHECK(rec.lease_transitions == 0);
  CHECK(is_micro_time(rec.renew_time));
  // And a newcomer takes it at its first look: an empty holder is free.
  auto b = std::make_unique<replica>(sim, "replica-b");
  const int64_t start = now_ms();
  b->elector->start();
  REQUIRE(eventually([&] { return b->leads(); }, 5s));
  CHECK(b->started_ms - start <= 500);
  CHECK(read_lease(c).lease_transitions == 1);
}

TEST_CASE("leader election: a leader that cannot renew stops leading within the renew deadline") {
  kubesim_instance sim;
  auto c = test_client(sim);
  auto a = sole_leader(sim, "replica-a");
  std::this_thread::sleep_for(300ms);

  REQUIRE(sim.control("k1", "unreachable").status == 200);
  const int64_t cut = now_ms();
  REQUIRE(eventually([&] { return a->stopped == 1; }, 5s));
  const int64_t stopped_after = a->stopped_ms - cut;
  MESSAGE("stopped leading " << stopped_after << " ms after the cluster became unreachable");
  // The last renewal succeeded before the cut: it stops by then + 700 ms, well before the 1 s
  // lease could look expired to anyone else.
  CHECK(stopped_after <= 900);
  CHECK(!a->leads());

  // Back online: the Lease still names it, nobody took it, so it leads again without counting
  // a transition (client-go's rule for a holder that is itself).
  REQUIRE(sim.control("k1", "reachable").status == 200);
  REQUIRE(eventually([&] { return a->leads(); }, 5s));
  CHECK(a->started == 2);
  auto rec = read_lease(c);
  CHECK(rec.holder_identity == "replica-a");
  CHECK(rec.lease_transitions == 0);
}

TEST_CASE(
    "leader election: a fresh Lease held by another is never stolen, whatever its clock says") {
  kubesim_instance sim;
  auto c = test_client(sim);
  // renewTime far in the past: judging expiry by comparing clocks would take it at once.
  auto created = write(c,
                       R"({"apiVersion":"coordination.k8s.io/v1","kind":"Lease",)"
                       R"("metadata":{"name":")" +
                           lease_name +
                           R"(","namespace":"default"},)"
                           R"("spec":{"holderIdentity":"someone-else","leaseDurationSeconds":2,)"
                           R"("acquireTime":"2000-01-01T00:00:00.000000Z",)"
                           R"("renewTime":"2000-01-01T00:00:00.000000Z","leaseTransitions":5}})",
                       true);
  REQUIRE_MESSAGE(created.ok(), created.error().describe());
  auto a = std::make_unique<replica>(sim, "replica-a");
  a->elector->start();
  // The other holder renews every 500 ms (its renewTime strings are all old): each change
  // restarts the 2 s a candidate must wait.
  int64_t last_renewal = 0;
  for (int i = 1; i <= 6; ++i) {
    std::this_thread::sleep_for(500ms);
    CHECK(!a->leads());
    char t[64];
    std::snprintf(t, sizeof t, "2000-01-01T00:00:%02d.000000Z", i);
    auto r = write(c, std::string(R"({"spec":{"renewTime":")") + t + "\"}}", false);
    REQUIRE_MESSAGE(r.ok(), r.error().describe());
    last_renewal = now_ms();
  }
  CHECK(!a->leads());
  CHECK(a->started == 0);
  CHECK(read_lease(c).holder_identity == "someone-else");
  CHECK(a->elector->current_holder() == "someone-else");

  // Renewals stop: about 2 s after the last one a candidate may take over.
  REQUIRE(eventually([&] { return a->leads(); }, 6s));
  const int64_t waited = a->started_ms - last_renewal;
  MESSAGE("took an abandoned Lease " << waited << " ms after its last renewal");
  CHECK(waited >= 1800);
  CHECK(waited <= 3500);
  auto rec = read_lease(c);
  CHECK(rec.holder_identity == "replica-a");
  CHECK(rec.lease_transitions == 6);
  CHECK(rec.lease_duration_seconds == 1);
  CHECK(rec.acquire_time > "2000");
}

TEST_CASE("leader election: options are checked and stop() silences everything") {
  kubesim_instance sim;
  auto c = std::make_shared<k8s::client>(k8s::load_kubeconfig(sim.kubeconfig("k1")));
  auto timers = std::make_shared<k8s::timer_service>();
  auto bad = fast_options("x");
  bad.renew_deadline = 1000ms;  // not below the lease duration
  CHECK_THROWS_AS(k8s::leader_elector::create(c, timers, bad, {}), std::invalid_argument);
  bad = fast_options("x");
  bad.retry_period = 600ms;  // 1.2 * retry is not below the renew deadline
  CHECK_THROWS_AS(k8s::leader_elector::create(c, timers, bad, {}), std::invalid_argument);
  bad = fast_options("");
  auto defaulted = k8s::leader_elector::create(c, timers, bad, {});
  CHECK(!defaulted->identity().empty());

  auto a = sole_leader(sim, "replica-a");
  a->elector->stop();
  CHECK(!a->leads());
  // No request is sent and no callback runs once stop() has returned (a renewal already in
  // flight may still land: let it).
  std::this_thread::sleep_for(200ms);
  const auto before = read_lease(*c).renew_time;
  std::this_thread::sleep_for(600ms);
  CHECK(read_lease(*c).renew_time == before);
  CHECK(a->stopped == 0);
  CHECK(a->started == 1);
  // Not release(*a): a dropped callback must not count, so the promise outlives it.
  std::promise<bool> never;
  a->elector->release([&](bool ok) { never.set_value(ok); });  // after stop(): no callback
  CHECK(never.get_future().wait_for(300ms) == std::future_status::timeout);
}
