// Supervision: the multi-casskop supervisor runs in this process against kubesim, and the tests
// kill its children (an exit with a failure reason, as an exception would end them). A killed
// child must be restarted, with a new handle; a writer's writes in flight must not be lost (the
// state machine retries them), and the MultiCasskop must still converge.
#include <caf/all.hpp>

#include "actors/multicasskop/supervisor.h"
#include "actors/runtime/cluster_registry.h"
#include "actors/runtime/event_recorder.h"
#include "actors/runtime/writer.h"
#include "messages/atoms.h"
#include "tests/e2e/e2e_setup.h"

using namespace e2e;
using namespace std::chrono_literals;
using testsupport::eventually;

namespace {

// The supervisor of a world's clusters, in this process.
class in_process_operator {
 public:
  explicit in_process_operator(world& w) : system_(config()), self_(system_) {
    mc::operator_config c;
    c.namespace_name = kNs;
    c.origin = "supervision_test";
    for (const auto& name : w.clusters) {
      mc::cluster_source s;
      s.name = name;
      s.kubeconfig = w.sim.kubeconfig(name);
      c.clusters.push_back(s);
    }
    supervisor_ = mc::spawn_supervisor(system_, {c, runtime::cluster_registry::create()});
  }
  ~in_process_operator() {
    self_->send_exit(supervisor_, caf::exit_reason::user_shutdown);
    self_->wait_for(supervisor_);
  }

  // The child's handle (invalid when it has none right now).
  caf::actor child(const std::string& role, const std::string& cluster) {
    caf::actor out;
    self_->request(supervisor_, 5s, mc::actors_atom::value, role, cluster)
        .receive([&](caf::actor& a) { out = std::move(a); },
                 [&](caf::error& e) { FAIL("no answer: " << caf::to_string(e)); });
    return out;
  }
  js::Document actors() {
    std::string text;
    self_->request(supervisor_, 5s, mc::actors_atom::value)
        .receive([&](std::string& s) { text = std::move(s); },
                 [&](caf::error& e) { FAIL("no answer: " << caf::to_string(e)); });
    return js::parse(text);
  }
  // Writes in flight of that cluster's writer, -1 when it has no writer.
  int64_t in_flight(const std::string& cluster) {
    auto d = actors();
    for (const auto& a : d.GetArray())
      if (js::get_string(a, "role") == "writer" && js::get_string(a, "cluster") == cluster)
        return js::get_int(a, {"inFlight"}, -1);
    return -1;
  }
  // Ends a child as a crash would.
  void kill(const caf::actor& a) { self_->send_exit(a, caf::exit_reason::unhandled_exception); }

 private:
  static caf::actor_system_config& config() {
    static caf::actor_system_config cfg;
    cfg.set("scheduler.max-threads", 2);
    return cfg;
  }
  caf::actor_system system_;
  caf::scoped_actor self_;
  caf::actor supervisor_;
};

}  // namespace

TEST_CASE(
    "supervision: a writer killed with writes in flight is restarted and they are retried, and the "
    "MultiCasskop converges") {
  world w({kC1, kC2}, 100);
  in_process_operator op(w);
  // Slow writes in region 1, so the create is in flight when the writer dies.
  REQUIRE(w.sim.control(kC1, "latency", "ms=1500").status == 200);
  w.create_mcc(mcc_of("crash", "cassandra-e2e", true, {kC1, kC2}));
  REQUIRE(eventually([&] { return op.in_flight(kC1) > 0; }, 15s));
  auto before = op.child("writer", kC1);
  REQUIRE(before);
  op.kill(before);
  REQUIRE(w.sim.control(kC1, "latency", "ms=0").status == 200);

  // A new writer, not the dead one, and nothing waits on the dead one.
  REQUIRE(eventually(
      [&] {
        auto now = op.child("writer", kC1);
        return now && now != before;
      },
      10s));
  // The killed writes were retried: both regions get their CassandraCluster and go Ready.
  REQUIRE(eventually([&] { return mcc_ready(w.mcc("crash")); }, 30s));
  CHECK(w.cc(kC1).has_value());
  CHECK(w.cc(kC2).has_value());
  CHECK(eventually([&] { return op.in_flight(kC1) == 0 && op.in_flight(kC2) == 0; }, 10s));
}

TEST_CASE(
    "supervision: a killed watcher is restarted and reports its cluster again, and the "
    "MultiCasskop "
    "converges") {
  world w({kC1, kC2}, 100);
  in_process_operator op(w);
  REQUIRE(eventually(
      [&] {
        auto d = op.actors();
        for (const auto& a : d.GetArray())
          if (js::get_string(a, "role") == "cluster-watcher" && js::get_string(a, "cluster") == kC2)
            return js::get_string(a, "state") == "connected";
        return false;
      },
      10s));
  auto before = op.child("cluster-watcher", kC2);
  REQUIRE(before);
  op.kill(before);
  // Region 2 is only Ready once its watcher sees its CassandraCluster Running: a watcher that
  // stayed dead would leave it waiting.
  w.create_mcc(mcc_of("blind", "cassandra-e2e", true, {kC1, kC2}));
  REQUIRE(eventually(
      [&] {
        auto now = op.child("cluster-watcher", kC2);
        return now && now != before;
      },
      10s));
  REQUIRE(eventually([&] { return mcc_ready(w.mcc("blind")); }, 30s));
  CHECK(w.cc(kC2).has_value());
}

TEST_CASE("supervision: a killed Event recorder is restarted and Events are recorded again") {
  world w({kC1}, 100);
  in_process_operator op(w);
  auto before = op.child("event-recorder", kC1);
  REQUIRE(before);
  op.kill(before);
  REQUIRE(eventually(
      [&] {
        auto now = op.child("event-recorder", kC1);
        return now && now != before;
      },
      10s));
  w.create_mcc(mcc_of("noisy", "cassandra-e2e", true, {kC1}));
  REQUIRE(eventually([&] { return mcc_ready(w.mcc("noisy")); }, 30s));
  CHECK(eventually([&] { return w.has_event("noisy", "RegionReady"); }, 10s));
}

TEST_CASE(
    "supervision: a CassandraCluster deleted while its cluster's watcher was dead is noticed by "
    "the new watcher, and made again") {
  world w({kC1}, 100);
  in_process_operator op(w);
  w.create_mcc(mcc_of("gap", "cassandra-e2e", true, {kC1}));
  REQUIRE(eventually([&] { return mcc_ready(w.mcc("gap")); }, 30s));
  const std::string first = uid(*w.cc(kC1));
  auto before = op.child("cluster-watcher", kC1);
  REQUIRE(before);
  op.kill(before);
  // Dead and not yet replaced (the restart waits at least 0.8 s): nobody watches.
  REQUIRE(eventually([&] { return !op.child("cluster-watcher", kC1); }, 5s));
  auto r = w.api(kC1).request("DELETE", kCCs + "/cassandra-e2e");
  REQUIRE_MESSAGE(r.status == 200, r.body);
  REQUIRE(eventually([&] { return !w.cc(kC1).has_value(); }, 5s));
  // The new watcher's first list lacks it: reported gone, so the state machine creates it again.
  CHECK(eventually(
      [&] {
        auto cc = w.cc(kC1);
        return cc && uid(*cc) != first;
      },
      20s));
}

TEST_CASE(
    "writer: writes to one object are carried out in the order they came, each answered with "
    "its id") {
  world w({kC1}, 100);
  mc::cluster_source source;
  source.name = kC1;
  source.kubeconfig = w.sim.kubeconfig(kC1);
  auto client = std::make_shared<k8s::client>(mc::connect_settings(source), k8s::client_options{});
  caf::actor_system_config cfg;
  caf::actor_system system{cfg};
  caf::scoped_actor self{system};
  auto writer = runtime::spawn_writer(system, {kC1, client, ""});
  const k8s::resource ccs{"db.orange.com", "v2", "cassandraclusters", "CassandraCluster", true};
  runtime::write_request create;
  create.id = 1;
  create.what = runtime::write_request::verb::create;
  create.resource = ccs;
  create.ns = kNs;
  create.name = "ordered";
  create.body =
      R"({"apiVersion":"db.orange.com/v2","kind":"CassandraCluster","metadata":{"name":"ordered","namespace":")" +
      kNs +
      R"("},"spec":{"cassandraImage":"cassandra:3.11.10","nodesPerRacks":1,"dataCapacity":"1Gi"}})";
  self->send(writer, create);
  // Sent before the create is answered: each would be a 404 if it overtook it, and the last
  // label would not be the last one written if they overtook each other.
  const int patches = 20;
  for (int i = 1; i <= patches; ++i) {
    runtime::write_request p;
    p.id = 1 + static_cast<uint64_t>(i);
    p.what = runtime::write_request::verb::patch;
    p.resource = ccs;
    p.ns = kNs;
    p.name = "ordered";
    p.body = R"({"metadata":{"labels":{"step":")" + std::to_string(i) + R"("}}})";
    self->send(writer, p);
  }
  std::vector<uint64_t> ids;
  for (int i = 0; i <= patches; ++i)
    self->receive(
        [&](runtime::write_result& r) {
          CHECK_MESSAGE(r.ok, r.error.describe());
          ids.push_back(r.id);
        },
        caf::after(std::chrono::seconds(10)) >> [&] { FAIL("no answer"); });
  std::vector<uint64_t> expected;
  for (uint64_t i = 1; i <= patches + 1; ++i) expected.push_back(i);
  CHECK(ids == expected);
  auto got = w.api(kC1).get(kCCs + "/ordered");
  REQUIRE(got.status == 200);
  CHECK(js::get_string(got.json(), {"metadata", "labels", "step"}) == std::to_string(patches));
  self->send_exit(writer, caf::exit_reason::user_shutdown);
}

TEST_CASE(
    "writer: an update replaces the whole object, and one made from a stale read is refused") {
  world w({kC1}, 100);
  mc::cluster_source source;
  source.name = kC1;
  source.kubeconfig = w.sim.kubeconfig(kC1);
  auto client = std::make_shared<k8s::client>(mc::connect_settings(source), k8s::client_options{});
  caf::actor_system_config cfg;
  caf::actor_system system{cfg};
  caf::scoped_actor self{system};
  auto writer = runtime::spawn_writer(system, {kC1, client, ""});
  const k8s::resource cms{"", "v1", "configmaps", "ConfigMap", true};
  const std::string path = "/api/v1/namespaces/" + kNs + "/configmaps/put";
  auto body = [&](const std::string& rv, const std::string& data) {
    return R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"put","namespace":")" + kNs +
           "\"" + (rv.empty() ? "" : R"(,"resourceVersion":")" + rv + "\"") + R"(},"data":)" +
           data + "}";
  };
  auto send = [&](runtime::write_request::verb verb, std::string b) {
    runtime::write_request r;
    r.id = 7;
    r.what = verb;
    r.resource = cms;
    r.ns = kNs;
    r.name = "put";
    r.body = std::move(b);
    self->send(writer, r);
    runtime::write_result out;
    self->receive([&](runtime::write_result& res) { out = std::move(res); },
                  caf::after(std::chrono::seconds(10)) >> [&] { FAIL("no answer"); });
    return out;
  };
  auto created = send(runtime::write_request::verb::create, body("", R"({"a":"1","b":"1"})"));
  REQUIRE_MESSAGE(created.ok, created.error.describe());
  const std::string rv1 = rv(*created.object);
  auto updated = send(runtime::write_request::verb::update, body(rv1, R"({"a":"2"})"));
  REQUIRE_MESSAGE(updated.ok, updated.error.describe());
  CHECK(updated.id == 7);
  // The whole object: "b", absent from the update, is gone (a merge patch would have kept it).
  auto got = w.api(kC1).get(path).json();
  CHECK(js::to_string(got["data"]) == R"({"a":"2"})");
  auto stale = send(runtime::write_request::verb::update, body(rv1, R"({"a":"3"})"));
  CHECK(!stale.ok);
  CHECK(stale.error.http_code == 409);
  CHECK(js::to_string(w.api(kC1).get(path).json()["data"]) == R"({"a":"2"})");
  self->send_exit(writer, caf::exit_reason::user_shutdown);
}

TEST_CASE(
    "event recorder: the Events a failed recorder had not written are recorded by the one that "
    "replaces it") {
  world w({kC1}, 100);
  mc::cluster_source source;
  source.name = kC1;
  source.kubeconfig = w.sim.kubeconfig(kC1);
  auto client = std::make_shared<k8s::client>(mc::connect_settings(source), k8s::client_options{});
  caf::actor_system_config cfg;
  caf::actor_system system{cfg};
  caf::scoped_actor self{system};
  runtime::event_recorder_settings rs;
  rs.controller = "test";
  rs.cluster = kC1;
  rs.client = client;
  rs.source = {"recorder-test", "example.com/detail"};
  rs.handover = std::make_shared<runtime::event_handover>();
  // Slow: the list of the object's Events that comes before its first one is still out when the
  // recorder dies, so the Event is only queued.
  REQUIRE(w.sim.control(kC1, "latency", "ms=1500").status == 200);
  auto first = runtime::spawn_event_recorder(system, rs);
  runtime::event_record e{{"ConfigMap", "v1", kNs, "subject", ""},
                          "Normal",
                          "Left",
                          "left behind by a failed recorder",
                          ""};
  self->send(first, e);
  // After the Event in its mailbox (same sender, same priority): it dies with the Event queued.
  caf::anon_send_exit(first, caf::exit_reason::unhandled_exception);
  self->wait_for(first);
  REQUIRE(w.sim.control(kC1, "latency", "ms=0").status == 200);
  auto second = runtime::spawn_event_recorder(system, rs);
  CHECK(eventually(
      [&] {
        auto r = w.api(kC1).get("/api/v1/namespaces/" + kNs + "/events");
        return r.status == 200 &&
               r.body.find("left behind by a failed recorder") != std::string::npos;
      },
      10s));
  self->send_exit(second, caf::exit_reason::user_shutdown);
}
