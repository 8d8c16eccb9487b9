// The fault-injection control API, each fault checked by what a client observes on the wire.
// Every wait is bounded: lines are awaited with timeouts and conditions polled with eventually().
#include <doctest/doctest.h>

#include "k8s/json/yaml_json.h"
#include "tests/kubesim/raw_http.h"
#include "tests/support/kubesim_fixture.h"

using namespace testsupport;
using namespace std::chrono_literals;
namespace js = k8s::json;

namespace {

using steady = std::chrono::steady_clock;

constexpr const char* cms = "/api/v1/namespaces/default/configmaps";

std::string configmap(const std::string& name) {
  return R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":")" + name +
         R"(","namespace":"default"},"data":{"k":"v"}})";
}

// Creates a ConfigMap and returns its resourceVersion.
std::string create_cm(api_client& c, const std::string& name) {
  auto r = c.request("POST", cms, configmap(name));
  REQUIRE_MESSAGE(r.status == 201, r.body);
  return std::string(js::get_string(r.json(), {"metadata", "resourceVersion"}));
}

std::string list_rv(api_client& c) {
  auto r = c.get(cms);
  REQUIRE_MESSAGE(r.status == 200, r.body);
  return std::string(js::get_string(r.json(), {"metadata", "resourceVersion"}));
}

struct event {
  std::string type, name, rv;
  int code = 0;
  std::string reason;
};

event parse_event(const std::string& line) {
  auto d = js::parse(line);
  event e;
  e.type = js::get_string(d, "type");
  e.name = js::get_string(d, {"object", "metadata", "name"});
  e.rv = js::get_string(d, {"object", "metadata", "resourceVersion"});
  e.code = static_cast<int>(js::get_int(d, {"object", "code"}, 0));
  e.reason = js::get_string(d, {"object", "reason"});
  return e;
}

// Next non-BOOKMARK event of a raw watch; REQUIREs one within `timeout`.
event next_event(raw_watch& w, std::chrono::milliseconds timeout = 5s) {
  auto deadline = steady::now() + timeout;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - steady::now());
    auto line = w.next_line(std::max(left, 1ms));
    REQUIRE_MESSAGE(line.has_value(), "no watch event in time");
    auto e = parse_event(*line);
    if (e.type != "BOOKMARK") return e;
  }
}

// The next event is the ADDED of ConfigMap `name`; returns it.
event expect_added(raw_watch& w, const std::string& name) {
  auto e = next_event(w);
  CHECK(e.type == "ADDED");
  CHECK(e.name == name);
  return e;
}

raw_watch open_watch(const kubesim_instance& sim, const std::string& query,
                     const std::string& token = "") {
  return raw_watch(sim.url("k1"), std::string(cms) + "?watch=1" + query,
                   token.empty() ? sim.token("k1") : token, sim.ca_pem("k1"));
}

js::Document cluster_info(const kubesim_instance& sim) {
  auto r = sim.cluster_info("k1");
  REQUIRE_MESSAGE(r.status == 200, r.body);
  return r.json();
}

long long elapsed_ms(steady::time_point since) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - since).count();
}

}  // namespace

TEST_CASE("faults: unreachable refuses connections and ends watches, then reachable restores URL and state") {
  kubesim_instance sim;
  auto c = sim.client("k1");
  create_cm(c, "before");
  const std::string rv_before = list_rv(c);
  const std::string url_before = sim.url("k1");
  auto w = open_watch(sim, "&resourceVersion=" + rv_before);
  REQUIRE(w.status() == 200);

  auto r = sim.control("k1", "unreachable");
  REQUIRE_MESSAGE(r.status == 200, r.body);
  CHECK(js::get_bool(r.json(), {"reachable"}, true) == false);

  // The open watch ends (the connection is dropped, no clean end is promised).
  CHECK(w.wait_end(5s) != raw_watch::end_kind::open);
  // New requests cannot connect, with a fresh client or the one that was connected.
  CHECK_THROWS_AS(sim.client("k1").get("/api/v1/namespaces"), std::runtime_error);
  CHECK_THROWS_AS(c.get(cms), std::runtime_error);
  CHECK_THROWS(raw_watch(url_before, "/version", "", sim.ca_pem("k1"), 2s));
  CHECK(js::get_bool(cluster_info(sim), {"reachable"}, true) == false);

  r = sim.control("k1", "reachable");
  REQUIRE_MESSAGE(r.status == 200, r.body);
  CHECK(js::get_bool(r.json(), {"reachable"}, false) == true);
  CHECK(sim.url("k1") == url_before);
  auto again = sim.client("k1");
  auto g = again.get(std::string(cms) + "/before");
  CHECK_MESSAGE(g.status == 200, g.body);
  CHECK(list_rv(again) == rv_before);  // nothing happened meanwhile, nothing was lost
  auto rv_after = create_cm(again, "after");
  CHECK(std::stoull(rv_after) > std::stoull(rv_before));
  // A watch from the old resourceVersion still resumes: history survived too.
  auto w2 = open_watch(sim, "&resourceVersion=" + rv_before);
  expect_added(w2, "after");
}

TEST_CASE("faults: latency delays requests by at least its ms until set back to 0") {
  kubesim_instance sim;
  auto c = sim.client("k1");
  REQUIRE(c.get(cms).status == 200);  // connection established and warm
  auto r = sim.control("k1", "latency", "ms=300");
  REQUIRE_MESSAGE(r.status == 200, r.body);
  CHECK(js::get_int(r.json(), {"latencyMs"}, -1) == 300);
  for (int i = 0; i < 2; ++i) {
    auto start = steady::now();
    CHECK(c.get(cms).status == 200);
    CHECK(elapsed_ms(start) >= 300);
  }
  REQUIRE(sim.control("k1", "latency", "ms=0").status == 200);
  auto start = steady::now();
  CHECK(c.get(cms).status == 200);
  CHECK(elapsed_ms(start) < 300);
}

TEST_CASE("faults: errors inject 500 InternalError, 429 with Retry-After, a rate, and rate=0 restores") {
  kubesim_instance sim;
  auto c = sim.client("k1");

  REQUIRE(sim.control("k1", "errors", "rate=1&code=500").status == 200);
  auto r = c.get(cms);
  CHECK(r.status == 500);
  {
    auto d = r.json();
    CHECK(js::get_string(d, "kind") == "Status");
    CHECK(js::get_string(d, "status") == "Failure");
    CHECK(js::get_string(d, "reason") == "InternalError");
    CHECK(js::get_int(d, {"code"}, 0) == 500);
  }

  REQUIRE(sim.control("k1", "errors", "rate=1&code=429&retryAfter=2").status == 200);
  r = c.get(cms);
  CHECK(r.status == 429);
  CHECK(r.headers["retry-after"] == "2");
  // As the real server's overload filters answer: plain text, not a Status object.
  CHECK(r.headers["content-type"] == "text/plain; charset=utf-8");
  CHECK(r.body == "Too many requests, please try again later.\n");

  REQUIRE(sim.control("k1", "errors", "rate=0.5&code=500").status == 200);
  int failed = 0, other = 0;
  for (int i = 0; i < 200; ++i) {
    int s = c.get(cms).status;
    if (s == 500)
      ++failed;
    else if (s != 200)
      ++other;
  }
  CHECK(other == 0);
  CHECK(failed >= 60);   // 0.3 of 200
  CHECK(failed <= 140);  // 0.7 of 200

  REQUIRE(sim.control("k1", "errors", "rate=0").status == 200);
  for (int i = 0; i < 50; ++i) REQUIRE(c.get(cms).status == 200);
}

TEST_CASE("faults: close-watches ends streams cleanly, then a re-watch from the last resourceVersion misses nothing") {
  kubesim_instance sim;
  auto c = sim.client("k1");
  create_cm(c, "a");
  auto rv0 = list_rv(c);
  auto w = open_watch(sim, "&resourceVersion=" + rv0);
  REQUIRE(w.status() == 200);
  create_cm(c, "b");
  std::string last_rv = expect_added(w, "b").rv;
  CHECK(eventually([&] { return js::get_int(cluster_info(sim), {"openWatches"}, -1) == 1; }, 5s));

  auto r = sim.control("k1", "close-watches");
  REQUIRE_MESSAGE(r.status == 200, r.body);
  CHECK(w.wait_end(5s) == raw_watch::end_kind::clean);  // terminating chunk, not a reset
  CHECK(eventually([&] { return js::get_int(cluster_info(sim), {"openWatches"}, -1) == 0; }, 5s));

  // Changes while no watch is open.
  create_cm(c, "c");
  REQUIRE(c.request("PATCH", std::string(cms) + "/a", R"({"data":{"k":"changed"}})",
                    "application/merge-patch+json")
              .status == 200);
  REQUIRE(c.request("DELETE", std::string(cms) + "/b").status == 200);

  auto w2 = open_watch(sim, "&resourceVersion=" + last_rv);
  REQUIRE(w2.status() == 200);
  std::vector<std::pair<std::string, std::string>> seen;
  unsigned long long prev = std::stoull(last_rv);
  for (int i = 0; i < 3; ++i) {
    auto ev = next_event(w2);
    seen.emplace_back(ev.type, ev.name);
    CHECK(std::stoull(ev.rv) > prev);
    prev = std::stoull(ev.rv);
  }
  CHECK(seen == std::vector<std::pair<std::string, std::string>>{
                    {"ADDED", "c"}, {"MODIFIED", "a"}, {"DELETED", "b"}});
  CHECK_FALSE(w2.next_line(200ms).has_value());  // nothing more, nothing repeated
}

TEST_CASE("faults: expire-next-watch gives the next watch one 410 Expired event, then the one after works") {
  kubesim_instance sim;
  auto c = sim.client("k1");
  auto rv = create_cm(c, "a");
  REQUIRE(sim.control("k1", "expire-next-watch").status == 200);

  // Lists are not watches: unaffected.
  CHECK(c.get(cms).status == 200);

  auto w = open_watch(sim, "&resourceVersion=" + rv);
  CHECK(w.status() == 200);
  auto line = w.next_line(5s);
  REQUIRE(line.has_value());
  auto d = js::parse(*line);
  CHECK(js::get_string(d, "type") == "ERROR");
  CHECK(js::get_string(d, {"object", "kind"}) == "Status");
  CHECK(js::get_string(d, {"object", "status"}) == "Failure");
  CHECK(js::get_int(d, {"object", "code"}, 0) == 410);
  CHECK(js::get_string(d, {"object", "reason"}) == "Expired");
  CHECK(w.wait_end(5s) == raw_watch::end_kind::clean);
  CHECK_FALSE(w.next_line(10ms).has_value());  // exactly one event

  auto w2 = open_watch(sim, "&resourceVersion=" + rv);
  CHECK(w2.status() == 200);
  create_cm(c, "b");
  expect_added(w2, "b");
}

TEST_CASE("faults: compact makes a watch from an old resourceVersion 410, then the current one works") {
  kubesim_instance sim;
  auto c = sim.client("k1");
  auto rv_old = create_cm(c, "a");
  create_cm(c, "b");
  auto before = c.get(cms);
  auto rv_now = std::string(js::get_string(before.json(), {"metadata", "resourceVersion"}));
  REQUIRE(sim.control("k1", "compact").status == 200);

  auto old = open_watch(sim, "&resourceVersion=" + rv_old);
  CHECK(old.status() == 200);
  auto e = next_event(old);
  CHECK(e.type == "ERROR");
  CHECK(e.code == 410);
  CHECK(e.reason == "Expired");
  CHECK(old.wait_end(5s) == raw_watch::end_kind::clean);

  // Compaction keeps objects: the list is complete and at the same resourceVersion.
  auto l = c.get(cms);
  CHECK(js::get_string(l.json(), {"metadata", "resourceVersion"}) == rv_now);
  CHECK(l.json()["items"].Size() == before.json()["items"].Size());

  auto cur = open_watch(sim, "&resourceVersion=" + rv_now);
  CHECK(cur.status() == 200);
  create_cm(c, "c");
  expect_added(cur, "c");
}

namespace {
const char* unauthorized_body =
    R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401})";

std::string kubeconfig_token(const std::string& path) {
  auto d = js::yaml_to_json(read_file(path));
  return std::string(js::get_string(d["users"][0], {"user", "token"}));
}

api_client with_token(const kubesim_instance& sim, const std::string& token) {
  return api_client({sim.url("k1"), token, sim.ca_pem("k1"), "", "", 10s});
}
}  // namespace

TEST_CASE("faults: rotate-token revokes the old token (exact 401 body), then the files carry the new one") {
  kubesim_instance sim;
  const std::string old_token = sim.token("k1");
  auto old_client = with_token(sim, old_token);
  auto w = open_watch(sim, "&resourceVersion=" + list_rv(old_client), old_token);  // before rotation
  REQUIRE(w.status() == 200);

  auto r = sim.control("k1", "rotate-token");
  REQUIRE_MESSAGE(r.status == 200, r.body);

  auto denied = with_token(sim, old_token).get(cms);
  CHECK(denied.status == 401);
  CHECK(denied.body == unauthorized_body);
  CHECK(denied.headers["content-type"] == "application/json");

  const std::string new_token = sim.token("k1");
  CHECK(new_token != old_token);
  CHECK(kubeconfig_token(sim.kubeconfig("k1")) == new_token);
  CHECK(kubeconfig_token(sim.state_dir() + "/state/k1/serviceaccount/config") == new_token);
  auto ok = with_token(sim, new_token);
  CHECK(ok.get(cms).status == 200);
  auto k = sim.kubectl("k1", {"get", "configmaps"});
  CHECK_MESSAGE(k.exit_code == 0, k.err);

  // Authentication happens when a request starts: the established watch goes on.
  create_cm(ok, "after-rotation");
  expect_added(w, "after-rotation");
}

TEST_CASE("faults: rotate-token keepOld=true accepts both tokens, then an old-token watch keeps receiving") {
  kubesim_instance sim;
  const std::string old_token = sim.token("k1");
  auto old_client = with_token(sim, old_token);
  auto w = open_watch(sim, "&resourceVersion=" + list_rv(old_client), old_token);
  REQUIRE(w.status() == 200);
  REQUIRE(sim.control("k1", "rotate-token", "keepOld=true").status == 200);
  const std::string new_token = sim.token("k1");
  CHECK(new_token != old_token);
  CHECK(kubeconfig_token(sim.kubeconfig("k1")) == new_token);
  CHECK(with_token(sim, old_token).get(cms).status == 200);
  CHECK(with_token(sim, new_token).get(cms).status == 200);
  auto c = with_token(sim, old_token);
  create_cm(c, "x");
  expect_added(w, "x");

  // A second rotation keeps only the previous token: the first one is now revoked.
  REQUIRE(sim.control("k1", "rotate-token", "keepOld=true").status == 200);
  CHECK(with_token(sim, old_token).get(cms).status == 401);
  CHECK(with_token(sim, new_token).get(cms).status == 200);
  CHECK(with_token(sim, sim.token("k1")).get(cms).status == 200);
}

TEST_CASE("faults: the control API checks its token, the cluster name and the parameters") {
  kubesim_instance sim;
  const std::string control_url = read_file(sim.state_dir() + "/state/control/url");
  const std::string control_token = read_file(sim.state_dir() + "/state/control/token");
  CHECK(control_url.rfind("http://127.0.0.1:", 0) == 0);

  api_client none({control_url, "", "", "", "", 10s});
  CHECK(none.request("POST", "/clusters/k1/unreachable").status == 401);
  CHECK(none.get("/clusters").status == 401);
  api_client wrong({control_url, "not-the-token", "", "", "", 10s});
  CHECK(wrong.request("POST", "/clusters/k1/unreachable").status == 401);
  CHECK(wrong.get("/clusters/k1").status == 401);
  CHECK(sim.client("k1").get(cms).status == 200);  // nothing was applied

  api_client ok({control_url, control_token, "", "", "", 10s});
  auto all = ok.get("/clusters");
  REQUIRE(all.status == 200);
  auto list = all.json();
  REQUIRE(list.IsArray());
  REQUIRE(list.Size() == 1);
  CHECK(js::get_string(list[0], "name") == "k1");
  CHECK(js::get_string(list[0], "url") == sim.url("k1"));
  CHECK(ok.get("/clusters/nope").status == 404);

  CHECK(sim.control("nope", "unreachable").status == 404);
  CHECK(sim.control("k1", "no-such-fault").status == 404);
  CHECK(sim.control("k1", "errors", "rate=1&code=418").status == 400);
  CHECK(sim.control("k1", "errors", "rate=2").status == 400);
  CHECK(sim.control("k1", "errors", "rate=-0.1").status == 400);
  CHECK(sim.control("k1", "errors", "rate=nan").status == 400);
  CHECK(sim.control("k1", "errors", "rate=0.5x").status == 400);
  CHECK(sim.control("k1", "latency", "ms=abc").status == 400);
  CHECK(sim.control("k1", "latency", "ms=10abc").status == 400);
  CHECK(sim.control("k1", "latency", "ms=-5").status == 400);
  CHECK(sim.control("k1", "errors", "rate=1&retryAfter=x").status == 400);
  CHECK(sim.control("k1", "workloads", "readyDelayMs=5").status == 409);  // no --simulate-workloads
  // None of the refused requests changed anything.
  auto info = cluster_info(sim);
  CHECK(js::get_int(info, {"latencyMs"}, -1) == 0);
  CHECK(js::get_int(info, {"errorCode"}, -1) == 500);
  CHECK(info["errorRate"].GetDouble() == 0.0);
  CHECK(sim.client("k1").get(cms).status == 200);

  // reset clears every fault at once.
  REQUIRE(sim.control("k1", "latency", "ms=50").status == 200);
  REQUIRE(sim.control("k1", "errors", "rate=1").status == 200);
  REQUIRE(sim.control("k1", "unreachable").status == 200);
  auto reset = sim.control("k1", "reset");
  REQUIRE(reset.status == 200);
  CHECK(js::get_bool(reset.json(), {"reachable"}, false));
  CHECK(js::get_int(reset.json(), {"latencyMs"}, -1) == 0);
  CHECK(sim.client("k1").get(cms).status == 200);
}

TEST_CASE("faults: kubectl works again after unreachable then reachable") {
  kubesim_instance sim;
  REQUIRE(sim.kubectl("k1", {"get", "namespaces"}).exit_code == 0);  // discovery cached
  REQUIRE(sim.control("k1", "unreachable").status == 200);
  auto down = sim.kubectl("k1", {"get", "namespaces", "--request-timeout=5s"}, "", 30s);
  CHECK(down.exit_code != 0);
  CHECK_MESSAGE(down.err.find("refused") != std::string::npos, down.err);
  REQUIRE(sim.control("k1", "reachable").status == 200);
  auto up = sim.kubectl("k1", {"get", "namespaces"});
  CHECK_MESSAGE(up.exit_code == 0, up.err);
  CHECK(up.out.find("default") != std::string::npos);
  auto apply = sim.kubectl("k1", {"apply", "-f", "-"}, configmap("back"));
  CHECK_MESSAGE(apply.exit_code == 0, apply.err);
  CHECK(apply.out == "configmap/back created\n");
}
