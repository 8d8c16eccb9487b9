// Operating multi-casskop, end to end with the real binary against kubesim: the admin endpoint
// (routes, shapes, token on all but the probes, no secret in /config), a live Prometheus scrape checked by promtool,
// live configuration reload (a cluster added, removed, given new credentials; an invalid file
// refused, on change and on SIGHUP), Kubernetes Events (one per change), and leader election
// between two processes (a takeover after kill -9, a leader that cannot renew stops writing).
#include <doctest/doctest.h>

#include <signal.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <regex>
#include <sstream>
#include <thread>

#include "tests/e2e/e2e_setup.h"

using namespace e2e;
using namespace testsupport;
using namespace std::chrono_literals;

namespace {

// ---- configuration files written as a user would ----

struct source {
  std::string name;
  std::string kubeconfig, context;  // or
  std::string secret_dir;
};
source via_kubeconfig(const kubesim_instance& sim, const std::string& c) { return {c, sim.kubeconfig(c), c, ""}; }
source via_secret_dir(const kubesim_instance& sim, const std::string& c) {
  return {c, "", "", sim.state_dir() + "/state/" + c + "/serviceaccount"};
}

struct config_def {
  std::vector<source> clusters;
  std::string admin_token_file;
  bool leader_election = false;
  std::string log_level = "info";
  std::string extra;  // appended as is
};

config_def config_of(std::vector<source> clusters, std::string admin_token_file = "", bool leader_election = false) {
  config_def d;
  d.clusters = std::move(clusters);
  d.admin_token_file = std::move(admin_token_file);
  d.leader_election = leader_election;
  return d;
}

std::string config_yaml(const config_def& d) {
  std::ostringstream y;
  y << "namespace: " << kNs << "\nclusters:\n";
  for (const auto& s : d.clusters) {
    y << "- name: " << s.name << "\n";
    if (!s.secret_dir.empty())
      y << "  secretDir: " << s.secret_dir << "\n";
    else
      y << "  kubeconfig: " << s.kubeconfig << "\n  context: " << s.context << "\n";
  }
  y << "log: {level: " << d.log_level << "}\nreadiness: {legacySettleSeconds: 5}\n";
  y << "admin:\n  address: \"127.0.0.1:0\"\n";
  if (!d.admin_token_file.empty()) y << "  tokenFile: " << d.admin_token_file << "\n";
  // Whole seconds only: the shortest the configuration allows (lease > renew > 1.2 x retry).
  if (d.leader_election)
    y << "leaderElection:\n  enabled: true\n  leaseName: multi-casskop\n  leaseDurationSeconds: 3\n"
         "  renewDeadlineSeconds: 2\n  retryPeriodSeconds: 1\n";
  y << d.extra;
  return y.str();
}

// As the kubelet updates a mounted ConfigMap: the new content appears at once, never half
// written (a half-written file would be a refused reload, which some tests count).
void replace_file(const std::string& path, const std::string& content) {
  write_file(path + ".next", content);
  std::filesystem::rename(path + ".next", path);
}

// ---- kubesim's control API (GET, which the fixture does not offer) ----

js::Document sim_cluster(const kubesim_instance& sim, const std::string& cluster) {
  api_client ctl({read_file(sim.state_dir() + "/state/control/url"), read_file(sim.state_dir() + "/state/control/token"),
                  "", "", "", 10s});
  auto r = ctl.get("/clusters/" + cluster);
  REQUIRE_MESSAGE(r.status == 200, r.body);
  return r.json();
}
int64_t open_watches(const kubesim_instance& sim, const std::string& cluster) {
  return js::get_int(sim_cluster(sim, cluster), {"openWatches"}, -1);
}

// The Lease's holder in the local cluster ("" when there is none).
std::string lease_holder(world& w) {
  auto r = w.api(kC1).get("/apis/coordination.k8s.io/v1/namespaces/" + kNs + "/leases/multi-casskop");
  if (r.status == 404) return "";
  REQUIRE_MESSAGE(r.status == 200, r.body);
  return std::string(js::get_string(r.json(), {"spec", "holderIdentity"}));
}

// Events on the MultiCasskop with `reason` whose message names `region` ("" = any).
size_t count_events(world& w, const std::string& mcc, const std::string& reason, const std::string& region = "") {
  size_t n = 0;
  for (const auto& e : w.events(mcc))
    if (js::get_string(e, "reason") == reason &&
        (region.empty() || std::string(js::get_string(e, "message")).find("region " + region) != std::string::npos))
      ++n;
  return n;
}

std::string joined(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

std::vector<std::string> names_of(const js::Value& array) {
  std::vector<std::string> out;
  if (array.IsArray())
    for (const auto& e : array.GetArray()) out.emplace_back(js::get_string(e, "name"));
  return out;
}

}  // namespace

// ---------------------------------------------------------------------------------------------

TEST_CASE("operations: every admin route answers with its JSON shape behind the bearer token (the probes without it), 404, 405, and /config holds no secret") {
  world w({kC1, kC2}, 100);
  const std::string dir = make_temp_dir("mc-admin");
  const std::string token = "e2e-admin-Qx7vT2mK9pLw";
  write_file(dir + "/admin-token", token + "\n");
  const std::string config = dir + "/config.yaml";
  // The local cluster through its kubeconfig (token and client key inside), the remote one
  // through its service-account folder (a token file).
  write_file(config, config_yaml(config_of({via_kubeconfig(w.sim, kC1), via_secret_dir(w.sim, kC2)}, dir + "/admin-token")));
  operator_process op({"--config", config});
  const std::string address = admin_address(op);
  auto admin = admin_client(address, token);

  w.create_mcc(mcc_of("shown", "cassandra-e2e", true, {kC1, kC2}));
  REQUIRE_MESSAGE(eventually([&] { return mcc_ready(w.mcc("shown")); }, 15s), w.explain("shown", op));

  // Authentication: every route wants the token but the probes, which the kubelet calls
  // without one (and which answer the same with any token).
  for (const std::string& path : std::vector<std::string>{"/metrics", "/config", "/actors"}) {
    CAPTURE(path);
    CHECK(admin_client(address).get(path).status == 401);
    CHECK(admin_client(address, "not-" + token).get(path).status == 401);
    CHECK(admin.get(path).status == 200);
  }
  for (const std::string& path : std::vector<std::string>{"/healthz", "/readyz"}) {
    CAPTURE(path);
    CHECK(admin_client(address).get(path).status == 200);
    CHECK(admin_client(address, "not-" + token).get(path).status == 200);
    CHECK(admin.get(path).status == 200);
  }

  auto healthz = admin.get("/healthz");
  CHECK(healthz.headers["content-type"] == "application/json");
  CHECK(js::get_string(healthz.json(), "status") == "ok");

  // Ready after the first lists; no leader election: leader is null.
  auto readyz = admin.get("/readyz");
  REQUIRE_MESSAGE(readyz.status == 200, readyz.body);
  {
    auto d = readyz.json();
    CHECK(js::get_bool(d, {"ready"}, false));
    REQUIRE(js::find(d, "leader") != nullptr);
    CHECK(js::find(d, "leader")->IsNull());
  }

  auto metrics = admin.get("/metrics");
  CHECK(metrics.headers["content-type"].rfind("text/plain", 0) == 0);
  CHECK(metric(metrics.body, "multicasskop_multicasskops") == 1.0);

  // /actors: the supervisor and, per cluster, one watcher (connected) and one writer, and the
  // local cluster's Event recorder.
  auto actors = admin.get("/actors");
  REQUIRE_MESSAGE(actors.status == 200, actors.body);
  {
    auto d = actors.json();
    REQUIRE(d.IsArray());
    int supervisors = 0;
    std::vector<std::string> watchers, writers, recorders;
    for (const auto& a : d.GetArray()) {
      CHECK(js::find(a, "id") != nullptr);
      CHECK(js::find(a, "id")->IsUint64());
      std::string role(js::get_string(a, "role"));
      if (role == "supervisor") {
        ++supervisors;
        CHECK(js::get_int(a, {"events"}, 0) > 0);
        CHECK(js::get_int(a, {"multicasskops"}, 0) == 1);
      } else if (role == "cluster-watcher") {
        watchers.emplace_back(js::get_string(a, "cluster"));
        CHECK(js::get_string(a, "state") == "connected");
        CHECK(js::get_string(a, "lastError") == "");
      } else if (role == "writer") {
        // (A status write may still be answering: idle or writing, with its count.)
        CHECK(js::get_int(a, {"inFlight"}, -1) >= 0);
        writers.emplace_back(js::get_string(a, "cluster"));
      } else if (role == "event-recorder") {
        recorders.emplace_back(js::get_string(a, "cluster"));
      } else {
        FAIL("unknown role " << role);
      }
    }
    CHECK(supervisors == 1);
    CHECK(watchers == std::vector<std::string>{kC1, kC2});
    CHECK(writers == std::vector<std::string>{kC1, kC2});
    CHECK(recorders == std::vector<std::string>{kC1});
  }

  // /clusters: in the configured order, reachable, first list in.
  auto clusters = admin.get("/clusters");
  REQUIRE_MESSAGE(clusters.status == 200, clusters.body);
  {
    auto d = clusters.json();
    REQUIRE(d.IsArray());
    CHECK(names_of(d) == std::vector<std::string>{kC1, kC2});
    for (const auto& c : d.GetArray()) {
      CHECK(js::get_bool(c, {"reachable"}, false));
      CHECK(js::get_bool(c, {"synced"}, false));
      CHECK(js::get_string(c, "error") == "");
    }
  }

  // /multicasskops: each with its regions, without the journal.
  auto all = admin.get("/multicasskops");
  REQUIRE_MESSAGE(all.status == 200, all.body);
  {
    auto d = all.json();
    REQUIRE(d.IsArray());
    REQUIRE(d.Size() == 1);
    const auto& m = d[0u];
    CHECK(js::get_string(m, "namespace") == kNs);
    CHECK(js::get_string(m, "name") == "shown");
    CHECK(js::get_int(m, {"generation"}, 0) == 1);
    CHECK_FALSE(js::get_bool(m, {"deleting"}, true));
    CHECK(js::get_string(m, "rollingRegion") == "");
    CHECK(js::find(m, "journal") == nullptr);
    const js::Value* regions = js::find(m, "regions");
    REQUIRE(regions != nullptr);
    CHECK(names_of(*regions) == std::vector<std::string>{kC1, kC2});
    for (const auto& r : regions->GetArray()) {
      CHECK(js::get_string(r, "phase") == "Ready");
      CHECK_FALSE(js::get_bool(r, {"writeInFlight"}, true));
      CHECK_FALSE(js::get_bool(r, {"backingOff"}, true));
      CHECK(js::get_int(r, {"failures"}, -1) == 0);
    }
  }

  // /multicasskops/{ns}/{name}: the same, with the journal of recent events.
  auto one = admin.get("/multicasskops/" + kNs + "/shown");
  REQUIRE_MESSAGE(one.status == 200, one.body);
  {
    auto d = one.json();
    CHECK(js::get_string(d, "name") == "shown");
    const js::Value* journal = js::find(d, "journal");
    REQUIRE(journal != nullptr);
    REQUIRE(journal->IsArray());
    CHECK(journal->Size() > 0);
    bool seen = false, write = false;
    for (const auto& e : journal->GetArray()) {
      CHECK(js::get_int(e, {"seq"}, 0) > 0);
      if (js::get_string(e, "type") == "multicasskop_seen") seen = true;
      if (js::get_string(e, "type") == "write_done") write = true;
    }
    CHECK(seen);
    CHECK(write);
  }

  // Unknown routes and MultiCasskops: 404 with a JSON error. Anything but GET: 405.
  for (const std::string& path : std::vector<std::string>{"/nope", "/multicasskops/" + kNs, "/multicasskops/" + kNs + "/absent",
                                                         "/multicasskops/" + kNs + "/shown/more", "/"}) {
    CAPTURE(path);
    auto r = admin.get(path);
    CHECK(r.status == 404);
    CHECK(std::string(js::get_string(r.json(), "error")) != "");
  }
  for (const std::string& method : std::vector<std::string>{"POST", "PUT", "DELETE", "PATCH"}) {
    CAPTURE(method);
    auto r = admin.request(method, "/config", "{}");
    CHECK(r.status == 405);
    CHECK(r.headers["allow"] == "GET");
  }
  CHECK(admin.request("POST", "/nope", "{}").status == 405);

  // /config: the configuration, the token file's content and every credential left out.
  auto cfg = admin.get("/config");
  REQUIRE_MESSAGE(cfg.status == 200, cfg.body);
  {
    auto d = cfg.json();
    CHECK(js::get_string(d, "namespace") == kNs);
    CHECK(std::string(js::get_string(d, "origin")).find(config) != std::string::npos);
    CHECK(js::get_string(d, "adminTokenFile") == "(set, redacted)");
    CHECK(js::get_string(d, "adminAddress") == "127.0.0.1:0");
    CHECK_FALSE(js::get_bool(d, {"leaderElection"}, true));
    const js::Value* cs = js::find(d, "clusters");
    REQUIRE(cs != nullptr);
    CHECK(names_of(*cs) == std::vector<std::string>{kC1, kC2});
    CHECK(js::get_string((*cs)[0u], "source") == "kubeconfig " + w.sim.kubeconfig(kC1) + " (context " + kC1 + ")");
    CHECK(js::get_string((*cs)[1], "source") == "service-account folder " + via_secret_dir(w.sim, kC2).secret_dir);
  }
  // The secrets: the admin token, both clusters' tokens, the kubeconfig's client key and cert.
  std::vector<std::pair<std::string, std::string>> secrets = {
      {"admin token", token}, {"token of " + kC1, w.sim.token(kC1)}, {"token of " + kC2, w.sim.token(kC2)}};
  {
    auto kc = js::yaml_to_json(read_file(w.sim.kubeconfig(kC1)));
    for (const auto& u : js::find(kc, "users")->GetArray())
      for (const char* key : {"token", "client-key-data", "client-certificate-data"})
        if (auto v = js::get_string(u, {"user", key}); !v.empty()) secrets.emplace_back(key, std::string(v));
  }
  REQUIRE(secrets.size() >= 5);
  for (const std::string& path :
       std::vector<std::string>{"/config", "/actors", "/clusters", "/multicasskops", "/multicasskops/" + kNs + "/shown"}) {
    std::string body = admin.get(path).body;
    for (const auto& [what, value] : secrets) {
      CAPTURE(path);
      CAPTURE(what);
      REQUIRE(value.size() >= 16);
      CHECK(body.find(value) == std::string::npos);
    }
    CHECK(body.find("PRIVATE KEY") == std::string::npos);
  }
  CHECK(op.log().find(token) == std::string::npos);
  CHECK(op.stop() == 0);
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

TEST_CASE("operations: promtool accepts a live scrape taken after a rollout, and it has the operator's series") {
  world w({kC1, kC2}, 100);
  operator_process op(w.sim, w.config());
  auto admin = admin_client(admin_address(op));
  w.create_mcc(mcc_of("scraped", "cassandra-e2e", true, {kC1, kC2}));
  REQUIRE_MESSAGE(eventually([&] { return mcc_ready(w.mcc("scraped")); }, 15s), w.explain("scraped", op));

  std::string text;
  auto region_ready = [&](const std::string& region) {
    return metric(
        text, "multicasskop_region_phase",
        {{"namespace", kNs}, {"multicasskop", "scraped"}, {"region", region}, {"phase", "Ready"}});
  };
  bool complete = eventually(
      [&] {
        auto r = admin.get("/metrics");
        if (r.status != 200) return false;
        text = r.body;
        return region_ready(kC1) == 1.0 && region_ready(kC2) == 1.0;
      },
      10s);
  REQUIRE_MESSAGE(complete, text);

  auto res = run({"promtool", "check", "metrics"}, {}, 30s, text);
  INFO("scrape:\n" << text << "\npromtool stdout:\n" << res.out << "\nstderr:\n" << res.err);
  REQUIRE(!res.timed_out);
  CHECK(res.exit_code == 0);
  CHECK(res.out.empty());
  CHECK(res.err.empty());

  CHECK(metric(text, "multicasskop_events_total", {{"type", "multicasskop_seen"}}) >= 1.0);
  CHECK(metric(text, "multicasskop_events_total", {{"type", "cassandracluster_seen"}}) >= 2.0);
  CHECK(metric(text, "multicasskop_commands_total", {{"kind", "create"}}) == 2.0);
  CHECK(metric(text, "multicasskop_decision_duration_seconds_bucket", {{"le", "+Inf"}}) >= 1.0);
  CHECK(metric(text, "multicasskop_decision_duration_seconds_count") >= 1.0);
  CHECK(metric(text, "multicasskop_cluster_reachable", {{"cluster", kC1}}) == 1.0);
  CHECK(metric(text, "multicasskop_cluster_reachable", {{"cluster", kC2}}) == 1.0);
  CHECK(metric(text, "operator_config_reloads_total", {{"result", "ok"}}) == 0.0);
  CHECK(metric(text, "operator_config_reloads_total", {{"result", "failed"}}) == 0.0);
  CHECK(metric(text, "multicasskop_multicasskops") == 1.0);
  CHECK(text.find("# TYPE multicasskop_decision_duration_seconds histogram") != std::string::npos);
  // One phase series per region: the Creating one it went through is gone.
  CHECK_FALSE(metric(text, "multicasskop_region_phase",
                     {{"multicasskop", "scraped"}, {"phase", "Creating"}}));
  // The API requests each cluster saw: lists and watches everywhere; region 2 had one create,
  // region 1 its CassandraCluster's and the Events'.
  for (const auto& c : {kC1, kC2}) {
    CAPTURE(c);
    CHECK(metric(text, "operator_api_requests_total",
                 {{"cluster", c}, {"verb", "list"}, {"code", "200"}}) >= 1.0);
    CHECK(metric(text, "operator_api_requests_total",
                 {{"cluster", c}, {"verb", "watch"}, {"code", "200"}}) >= 1.0);
  }
  CHECK(metric(text, "operator_api_requests_total",
               {{"controller", "multicasskop"}, {"cluster", kC2}, {"verb", "create"}, {"code", "201"}}) == 1.0);
  CHECK(metric(text, "operator_api_request_duration_seconds_count",
               {{"cluster", kC2}, {"verb", "create"}}) == 1.0);
  CHECK(metric(text, "operator_api_request_duration_seconds_bucket",
               {{"cluster", kC2}, {"verb", "create"}, {"le", "60"}}) == 1.0);
  CHECK(metric(text, "operator_api_requests_total",
               {{"cluster", kC1}, {"verb", "create"}, {"code", "201"}}) >= 2.0);
  // Status and finalizer writes go to the local cluster's MultiCasskop.
  CHECK(metric(text, "operator_api_requests_total",
               {{"cluster", kC1}, {"verb", "patch"}, {"code", "200"}}) >= 2.0);
  CHECK(op.stop() == 0);
}

TEST_CASE("operations: watch restarts, relists and failed API requests are counted per cluster") {
  world w({kC1, kC2}, 100);
  operator_process op(w.sim, w.config());
  auto admin = admin_client(admin_address(op));
  REQUIRE(eventually([&] { return open_watches(w.sim, kC2) >= 1; }, 10s));
  std::string text;
  auto scrape_until = [&](auto done) {
    return eventually(
        [&] {
          text = admin.get("/metrics").body;
          return done();
        },
        10s);
  };
  const std::vector<std::pair<std::string, std::string>> cc2 = {{"cluster", kC2},
                                                                {"resource", "cassandraclusters"}};
  auto restarts = [&] {
    return metric(text, "operator_watch_restarts_total", cc2).value_or(-1);
  };
  auto relists = [&] { return metric(text, "operator_watch_relists_total", cc2).value_or(-1); };
  REQUIRE_MESSAGE(scrape_until([&] { return restarts() == 0 && relists() == 0; }), text);

  // The server ends the watch: the watcher resumes from its resource version.
  REQUIRE(w.sim.control(kC2, "close-watches").status == 200);
  REQUIRE_MESSAGE(scrape_until([&] { return restarts() == 1; }), text);
  CHECK(relists() == 0);
  // The resumed watch must be open before the next fault, or that fault would hit the request.
  REQUIRE(eventually([&] { return open_watches(w.sim, kC2) >= 1; }, 10s));

  // The next resume is refused with 410 Gone: a full list follows.
  REQUIRE(w.sim.control(kC2, "expire-next-watch").status == 200);
  REQUIRE(w.sim.control(kC2, "close-watches").status == 200);
  REQUIRE_MESSAGE(scrape_until([&] { return relists() == 1; }), text);
  // (The 410 comes as an ERROR event on an accepted watch, as from a real API server.)
  CHECK(restarts() == 2);
  // The other cluster's watches were not touched.
  CHECK(metric(text, "operator_watch_restarts_total",
               {{"cluster", kC1}, {"resource", "cassandraclusters"}}) == 0.0);

  // Unreachable: requests that get no answer are counted as <error>.
  REQUIRE(w.sim.control(kC2, "unreachable").status == 200);
  REQUIRE_MESSAGE(scrape_until([&] {
                    return metric(text, "operator_api_requests_total",
                                  {{"cluster", kC2}, {"code", "<error>"}})
                               .value_or(0) >= 1.0;
                  }),
                  text);
  REQUIRE(w.sim.control(kC2, "reachable").status == 200);
  REQUIRE_MESSAGE(
      scrape_until([&] {
        return metric(text, "multicasskop_cluster_reachable", {{"cluster", kC2}}) == 1.0;
      }),
      text);
  auto res = run({"promtool", "check", "metrics"}, {}, 30s, text);
  CHECK_MESSAGE(res.exit_code == 0, res.out << res.err);
  CHECK(op.stop() == 0);
}

TEST_CASE("operations: reload from the file adds a cluster in its configured position and detaches a removed one") {
  world w({kC1, kC2, kC3}, 100);
  const std::string dir = make_temp_dir("mc-reload");
  const std::string config = dir + "/config.yaml";
  const source s1 = via_kubeconfig(w.sim, kC1), s2 = via_secret_dir(w.sim, kC2), s3 = via_secret_dir(w.sim, kC3);
  write_file(config, config_yaml(config_of({s1, s3})));
  operator_process op({"--config", config});
  auto admin = admin_client(admin_address(op));

  // Region 2 is not configured yet: regions 1 and 3 are deployed, region 2 is an unknown name.
  w.create_mcc(mcc_of("grow", "cassandra-e2e", true, {kC1, kC2, kC3}));
  // One that never deploys to region 3: removing that cluster must not concern it.
  w.create_mcc(mcc_of("small", "cassandra-small", true, {kC1}));
  REQUIRE_MESSAGE(eventually(
                      [&] {
                        auto m = w.mcc("grow");
                        return region_field(m, kC1) == "Ready" && region_field(m, kC3) == "Ready" &&
                               condition(m, "Ready", "reason") == "UnknownRegion" &&
                               condition(m, "Degraded", "reason") == "UnknownRegion";
                      },
                      15s),
                  w.explain("grow", op));
  CHECK_FALSE(w.cc(kC2).has_value());
  const std::string uid3 = uid(*w.cc(kC3));

  // Added in the middle: watched, deployed, and listed in its place.
  replace_file(config, config_yaml(config_of({s1, s2, s3})));
  REQUIRE_MESSAGE(op.wait_for_log("msg=\"Cluster added by a configuration reload\" kubernetes=" + kC2, 5s), op.log());
  REQUIRE_MESSAGE(eventually(
                      [&] {
                        auto m = w.mcc("grow");
                        return mcc_ready(m) && cc_ready(w.cc(kC2)) && condition(m, "Degraded") == "False";
                      },
                      15s),
                  w.explain("grow", op));
  auto m = w.mcc("grow");
  CHECK(names_of(*js::find_path(m, {"status", "regions"})) == std::vector<std::string>{kC1, kC2, kC3});
  CHECK(condition(m, "Ready", "message") == "3 of 3 regions Ready");
  CHECK(js::get_string(*js::find_path(*w.cc(kC2), {"spec", "topology", "dc"})->Begin(), "name") == "dc2");
  CHECK(uid(*w.cc(kC3)) == uid3);
  CHECK(op.count_log_lines({"msg=\"Update CassandraCluster\"", "kubernetes=" + kC3}) == 0);
  CHECK(names_of(admin.get("/clusters").json()) == std::vector<std::string>{kC1, kC2, kC3});
  CHECK(open_watches(w.sim, kC2) >= 1);

  // Removed: its watcher stops, its region is Detached, its CassandraCluster left alone.
  const auto cc3 = *w.cc(kC3);
  replace_file(config, config_yaml(config_of({s1, s2})));
  REQUIRE_MESSAGE(op.wait_for_log("Cluster removed by a configuration reload", 5s), op.log());
  CHECK(op.count_log_lines({"msg=\"Cluster removed by a configuration reload", "kubernetes=" + kC3}) == 1);
  REQUIRE_MESSAGE(eventually(
                      [&] {
                        auto m = w.mcc("grow");
                        return region_field(m, kC3) == "Detached" && condition(m, "Degraded") == "True" &&
                               condition(m, "Degraded", "reason") == "RegionDetached";
                      },
                      10s),
                  w.explain("grow", op));
  CHECK(eventually([&] { return open_watches(w.sim, kC3) == 0; }, 5s));
  m = w.mcc("grow");
  CHECK(condition(m, "Degraded", "message").find(kC3) != std::string::npos);
  CHECK(count_events(w, "grow", "UnknownRegion") == 1);  // region 2's, before it was added
  {
    auto small = w.mcc("small");
    CHECK(mcc_ready(small));
    CHECK(condition(small, "Degraded") == "False");
    CHECK(region_field(small, kC3) != "Detached");
  }
  CHECK(region_field(m, kC1) == "Ready");
  CHECK(region_field(m, kC2) == "Ready");
  auto still = w.cc(kC3);
  REQUIRE(still);
  CHECK(uid(*still) == uid(cc3));
  CHECK(rv(*still) == rv(cc3));
  CHECK(names_of(admin.get("/clusters").json()) == std::vector<std::string>{kC1, kC2});
  {
    auto d = admin.get("/actors").json();
    for (const auto& a : d.GetArray())
      if (js::get_string(a, "role") == "cluster-watcher") CHECK(js::get_string(a, "cluster") != kC3);
  }
  auto text = admin.get("/metrics").body;
  // The removed cluster is no longer reported; its region stays, as Detached.
  CHECK_FALSE(metric(text, "multicasskop_cluster_reachable", {{"cluster", kC3}}));
  CHECK_FALSE(metric(text, "operator_api_requests_total", {{"cluster", kC3}}));
  CHECK(metric(text, "multicasskop_region_phase",
               {{"multicasskop", "grow"}, {"region", kC3}, {"phase", "Detached"}}) == 1.0);
  CHECK(metric(text, "operator_config_reloads_total", {{"result", "ok"}}) == 2.0);
  CHECK(metric(text, "operator_config_reloads_total", {{"result", "failed"}}) == 0.0);
  CHECK(op.count_log_lines({"Configuration reload refused"}) == 0);
  CHECK(op.count_log_lines({"msg=\"Delete CassandraCluster\""}) == 0);
  CHECK(op.stop() == 0);
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

TEST_CASE("operations: reload moves a cluster to new credentials without dropping its watch") {
  world w({kC1, kC2}, 100);
  const std::string dir = make_temp_dir("mc-creds");
  // Region 2 first through a copy of its kubeconfig: a token that only this file holds.
  const std::string old_kubeconfig = dir + "/k8s-cluster2.kubeconfig";
  write_file(old_kubeconfig, read_file(w.sim.kubeconfig(kC2)));
  const std::string config = dir + "/config.yaml";
  write_file(config, config_yaml(config_of({via_kubeconfig(w.sim, kC1), {kC2, old_kubeconfig, kC2, ""}})));
  operator_process op({"--config", config});
  auto admin = admin_client(admin_address(op));
  const std::string watching2 = "msg=\"Cluster reachable, watching\" kubernetes=" + kC2;
  REQUIRE_MESSAGE(op.wait_for_log(watching2, 10s), op.log());
  REQUIRE(eventually([&] { return open_watches(w.sim, kC2) >= 1; }, 5s));
  const std::string old_token = w.sim.token(kC2);

  // The old token stops working; the service-account folder holds the new one.
  REQUIRE(w.sim.control(kC2, "rotate-token", "keepOld=false").status == 200);
  w.refresh_client(kC2);
  REQUIRE(w.sim.token(kC2) != old_token);
  CHECK(api_client({w.sim.url(kC2), old_token, w.sim.ca_pem(kC2), "", "", 10s}).get(kCCs).status == 401);
  replace_file(config, config_yaml(config_of({via_kubeconfig(w.sim, kC1), via_secret_dir(w.sim, kC2)})));
  REQUIRE_MESSAGE(op.wait_for_log("msg=\"Cluster credentials changed by a configuration reload\" kubernetes=" + kC2, 5s),
                  op.log());

  // Writes to region 2 now need the new token: a rollout there proves the client moved.
  w.create_mcc(mcc_of("rotated", "cassandra-e2e", true, {kC1, kC2}));
  bool watch_kept = true;
  REQUIRE_MESSAGE(eventually(
                      [&] {
                        if (open_watches(w.sim, kC2) < 1) watch_kept = false;
                        return mcc_ready(w.mcc("rotated")) && cc_ready(w.cc(kC2));
                      },
                      15s),
                  w.explain("rotated", op));
  CHECK(watch_kept);
  CHECK(open_watches(w.sim, kC2) >= 1);
  // The watcher neither restarted nor lost the cluster.
  CHECK(op.count_log_lines({"msg=\"Cluster reachable, watching\"", "kubernetes=" + kC2}) == 1);
  CHECK(op.count_log_lines({"Cluster unreachable", "kubernetes=" + kC2}) == 0);
  CHECK(op.count_log_lines({"Cannot read the new credentials"}) == 0);
  CHECK(op.count_log_lines({"Configuring client for a remote cluster", "kubernetes=" + kC2}) == 1);
  CHECK(js::get_string(admin.get("/config").json()["clusters"][1], "source") ==
        "service-account folder " + via_secret_dir(w.sim, kC2).secret_dir);
  CHECK(op.log().find(w.sim.token(kC2)) == std::string::npos);
  CHECK(op.log().find(old_token) == std::string::npos);
  CHECK(op.stop() == 0);
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

TEST_CASE("operations: /readyz answers 503 until every reachable cluster's first list is in") {
  world w({kC1, kC2}, 100);
  // Every answer from region 2 takes 3 s: its first list is slow to come.
  REQUIRE(w.sim.control(kC2, "latency", "ms=3000").status == 200);
  operator_process op(w.sim, w.config());
  auto admin = admin_client(admin_address(op));
  auto early = admin.get("/readyz");
  CHECK(early.status == 503);
  auto d = early.json();
  CHECK_FALSE(js::get_bool(d, {"ready"}, true));
  CHECK_MESSAGE(std::string(js::get_string(d, "reason")).find(kC2) != std::string::npos,
                early.body);
  CHECK(admin.get("/healthz").status == 200);  // alive all along: no restart for a slow cluster
  REQUIRE(w.sim.control(kC2, "latency", "ms=0").status == 200);
  REQUIRE_MESSAGE(eventually([&] { return admin.get("/readyz").status == 200; }, 15s),
                  admin.get("/readyz").body);

  // An unreachable cluster does not hold readiness back: the others are served.
  REQUIRE(w.sim.control(kC2, "unreachable").status == 200);
  REQUIRE_MESSAGE(op.wait_for_log("msg=\"Cluster unreachable, retrying\" kubernetes=" + kC2, 15s),
                  op.log());
  auto still = admin.get("/readyz");
  CHECK_MESSAGE(still.status == 200, still.body);
  CHECK(op.stop() == 0);
}

TEST_CASE("operations: a reload changes the log level without a restart") {
  world w({kC1, kC2}, 100);
  const std::string dir = make_temp_dir("mc-loglevel");
  const std::string config = dir + "/config.yaml";
  config_def def = config_of({via_kubeconfig(w.sim, kC1), via_kubeconfig(w.sim, kC2)});
  write_file(config, config_yaml(def));
  operator_process op({"--config", config});
  admin_address(op);
  const std::string status_write = "msg=\"Update MultiCasskop status\"";
  w.create_mcc(mcc_of("quiet", "cassandra-e2e", true, {kC1, kC2}));
  REQUIRE_MESSAGE(eventually([&] { return mcc_ready(w.mcc("quiet")); }, 15s),
                  w.explain("quiet", op));
  CHECK(op.count_log_lines({"level=debug"}) == 0);

  def.log_level = "debug";
  replace_file(config, config_yaml(def));
  REQUIRE_MESSAGE(op.wait_for_log("msg=\"Configuration reloaded\"", 5s), op.log());
  w.create_mcc(mcc_of("chatty", "cassandra-chatty", true, {kC1, kC2}));
  REQUIRE_MESSAGE(eventually([&] { return mcc_ready(w.mcc("chatty")); }, 15s),
                  w.explain("chatty", op));
  CHECK(op.count_log_lines({"level=debug", status_write, "multicasskop=chatty"}) >= 1);

  def.log_level = "info";
  replace_file(config, config_yaml(def));
  REQUIRE(
      eventually([&] { return op.count_log_lines({"msg=\"Configuration reloaded\""}) == 2; }, 5s));
  const int debug_lines = op.count_log_lines({"level=debug"});
  w.create_mcc(mcc_of("hushed", "cassandra-hushed", true, {kC1, kC2}));
  REQUIRE_MESSAGE(eventually([&] { return mcc_ready(w.mcc("hushed")); }, 15s),
                  w.explain("hushed", op));
  CHECK(op.count_log_lines({"level=debug"}) == debug_lines);
  CHECK(op.count_log_lines({"Create CassandraCluster", "cluster=cassandra-hushed"}) ==
        2);  // info still logged
  CHECK(op.stop() == 0);
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

TEST_CASE("operations: an invalid file is refused, on change and on SIGHUP, and the old configuration keeps running") {
  world w({kC1, kC2}, 100);
  operator_process op(w.sim, w.config());
  auto admin = admin_client(admin_address(op));
  REQUIRE_MESSAGE(op.wait_for_log("msg=\"Cluster reachable, watching\" kubernetes=" + kC2, 10s), op.log());
  const std::string good = read_file(op.config_path());
  const auto reloads = [&](const std::string& result) {
    return metric(admin.get("/metrics").body, "operator_config_reloads_total", {{"result", result}});
  };
  REQUIRE(reloads("failed") == 0.0);

  // A mistake in the file: refused, said in the log and counted.
  replace_file(op.config_path(), good + "clusterz: []\n");
  REQUIRE_MESSAGE(op.wait_for_log("Configuration reload refused", 5s), op.log());
  CHECK(op.count_log_lines({"level=error", "msg=\"Configuration reload refused; the previous configuration keeps running\"",
                            "reason=\"the file changed\"", "unknown field \\\"clusterz\\\""}) == 1);
  CHECK(eventually([&] { return reloads("failed") == 1.0; }, 2s));

  // SIGHUP reloads too, with nothing changed on disk: refused again.
  REQUIRE(op.pid() > 0);
  REQUIRE(kill(op.pid(), SIGHUP) == 0);
  REQUIRE_MESSAGE(eventually([&] { return op.count_log_lines({"Configuration reload refused", "reason=SIGHUP"}) == 1; }, 5s),
                  op.log());
  CHECK(eventually([&] { return reloads("failed") == 2.0; }, 2s));
  CHECK(reloads("ok") == 0.0);
  CHECK(op.running());

  // The old configuration is still the one in force: a new MultiCasskop rolls out to both.
  CHECK(js::get_string(admin.get("/config").json(), "origin") == "config " + op.config_path());
  CHECK(names_of(admin.get("/clusters").json()) == std::vector<std::string>{kC1, kC2});
  w.create_mcc(mcc_of("after", "cassandra-e2e", true, {kC1, kC2}));
  REQUIRE_MESSAGE(eventually([&] { return mcc_ready(w.mcc("after")) && cc_ready(w.cc(kC2)); }, 15s),
                  w.explain("after", op));
  CHECK(condition(w.mcc("after"), "Degraded") == "False");

  // Fixed: the next reload goes through (on SIGHUP as well).
  replace_file(op.config_path(), good);
  REQUIRE(kill(op.pid(), SIGHUP) == 0);
  REQUIRE_MESSAGE(op.wait_for_log("msg=\"Configuration reloaded\"", 5s), op.log());
  CHECK(eventually([&] { return reloads("ok") >= 1.0; }, 2s));
  CHECK(reloads("failed") == 2.0);
  CHECK(op.stop() == 0);
}

TEST_CASE("operations: Events are recorded once per change: created and Ready once per region, one UnknownRegion however often re-read") {
  world w({kC1, kC2}, 100);
  operator_process op(w.sim, w.config());
  auto admin = admin_client(admin_address(op));
  w.create_mcc(mcc_of("told", "cassandra-e2e", true, {kC1, kC2}));
  w.create_mcc(mcc_of("typo", "cassandra-typo", true, {kC1, "k8s-typo"}));
  REQUIRE_MESSAGE(eventually([&] { return mcc_ready(w.mcc("told")); }, 15s), w.explain("told", op));

  REQUIRE_MESSAGE(eventually(
                      [&] {
                        return count_events(w, "told", "CassandraClusterCreated") == 2 &&
                               count_events(w, "told", "RegionReady") == 2;
                      },
                      5s),
                  joined(w.event_reasons("told")));
  const std::string told_uid = uid(w.mcc("told"));
  for (const auto& region : {kC1, kC2}) {
    CAPTURE(region);
    CHECK(count_events(w, "told", "CassandraClusterCreated", region) == 1);
    CHECK(count_events(w, "told", "RegionReady", region) == 1);
  }
  for (const auto& e : w.events("told")) {
    CHECK(js::get_string(e, "type") == "Normal");
    CHECK(js::get_string(e, {"involvedObject", "apiVersion"}) == "db.orange.com/v2");
    CHECK(js::get_string(e, {"involvedObject", "namespace"}) == kNs);
    CHECK(js::get_string(e, {"involvedObject", "uid"}) == told_uid);
    CHECK(js::get_string(e, {"source", "component"}) == "multi-casskop");
  }
  // Region 1's events came before region 2's create (in the order the API server stored them).
  {
    auto events = w.events("told");
    std::sort(events.begin(), events.end(),
              [](const js::Document& x, const js::Document& y) { return std::stoll(rv(x)) < std::stoll(rv(y)); });
    std::vector<std::string> reasons;
    for (const auto& e : events) reasons.emplace_back(js::get_string(e, "reason"));
    CAPTURE(joined(reasons));
    auto first_ready = std::find(reasons.begin(), reasons.end(), "RegionReady");
    auto created = std::find(reasons.begin(), reasons.end(), "CassandraClusterCreated");
    REQUIRE(created != reasons.end());
    CHECK(created < first_ready);
    CHECK(std::find(std::next(created), reasons.end(), "CassandraClusterCreated") > first_ready);
  }

  // The override naming no cluster: one Warning, however many times the object is read again.
  REQUIRE_MESSAGE(eventually([&] { return count_events(w, "typo", "UnknownRegion") == 1; }, 10s),
                  w.explain("typo", op));
  std::string last_rv;
  for (int i = 1; i <= 5; ++i) {
    auto r = w.api(kC1).request("PATCH", kMCCs + "/typo", fmt::format(R"({{"metadata":{{"labels":{{"touch":"{}"}}}}}})", i),
                                "application/merge-patch+json");
    REQUIRE_MESSAGE(r.status == 200, r.body);
    last_rv = rv(r.json());
  }
  // The operator has read the last touch (its journal names that resourceVersion) ...
  REQUIRE_MESSAGE(eventually(
                      [&] {
                        return admin.get("/multicasskops/" + kNs + "/typo").body.find("/typo@" + last_rv + "\"") !=
                               std::string::npos;
                      },
                      5s),
                  admin.get("/multicasskops/" + kNs + "/typo").body);
  // ... and an Event it would have recorded for it has time to land: proving an absence.
  std::this_thread::sleep_for(500ms);
  CHECK(count_events(w, "typo", "UnknownRegion") == 1);
  for (const auto& e : w.events("typo"))
    if (js::get_string(e, "reason") == "UnknownRegion") {
      CHECK(js::get_string(e, "type") == "Warning");
      CHECK(std::string(js::get_string(e, "message")).find("k8s-typo") != std::string::npos);
    }
  CHECK(count_events(w, "typo", "CassandraClusterCreated") == 1);
  CHECK(count_events(w, "told", "CassandraClusterCreated") == 2);
  CHECK(count_events(w, "told", "RegionReady") == 2);
  CHECK(op.stop() == 0);
}

TEST_CASE("operations: leader election: one replica leads, and after kill -9 mid-rollout the other takes over and finishes, nothing created twice") {
  world w({kC1, kC2}, 100);
  w.casskop_delay(kC1, 4000);  // region 1 stays Ongoing across the takeover
  const std::string dir = make_temp_dir("mc-leader");
  const std::string config = dir + "/config.yaml";
  write_file(config, config_yaml(config_of({via_kubeconfig(w.sim, kC1), via_secret_dir(w.sim, kC2)}, "", true)));
  operator_process a({"--config", config}, {{"POD_NAME", "mc-alpha"}});
  operator_process b({"--config", config}, {{"POD_NAME", "mc-beta"}});
  auto admin_a = admin_client(admin_address(a)), admin_b = admin_client(admin_address(b));

  // Exactly one leads; the Lease names it; the other is ready as a standby.
  auto leader_field = [](api_client& c) -> std::string {
    auto r = c.get("/readyz");
    if (r.status != 200) return "?";
    auto d = r.json();
    const js::Value* l = js::find(d, "leader");
    return !l ? "?" : l->IsBool() ? (l->GetBool() ? "true" : "false") : "null";
  };
  std::string la, lb;
  REQUIRE_MESSAGE(eventually(
                      [&] {
                        la = leader_field(admin_a);
                        lb = leader_field(admin_b);
                        return (la == "true" && lb == "false") || (la == "false" && lb == "true");
                      },
                      10s),
                  "a: " << la << " b: " << lb << "\n" << a.log() << "\n" << b.log());
  operator_process& leader = la == "true" ? a : b;
  operator_process& standby = la == "true" ? b : a;
  api_client& leader_admin = la == "true" ? admin_a : admin_b;
  api_client& standby_admin = la == "true" ? admin_b : admin_a;
  const std::string leader_name = la == "true" ? "mc-alpha" : "mc-beta";
  const std::string standby_name = la == "true" ? "mc-beta" : "mc-alpha";
  CHECK(lease_holder(w) == leader_name);
  CHECK(leader_admin.get("/actors").status == 200);
  CHECK(standby_admin.get("/actors").status == 503);
  CHECK(standby.count_log_lines({"Leading: starting the controllers"}) == 0);

  // The rollout starts; the leader dies right after region 1's create.
  w.create_mcc(mcc_of("ha", "cassandra-e2e", true, {kC1, kC2}));
  rollout_probe probe(w, {kC1, kC2});
  REQUIRE(eventually([&] { probe.sample(); return w.cc(kC1).has_value(); }, 10s));
  leader.kill9();
  const auto killed = std::chrono::steady_clock::now();
  const std::string uid1 = uid(*w.cc(kC1));
  CHECK_FALSE(cc_ready(w.cc(kC1)));

  // The standby takes over once the Lease expires (3 s after it last saw it renewed, plus up
  // to one retry period), then finishes the rollout in order.
  REQUIRE_MESSAGE(eventually([&] { probe.sample(); return leader_field(standby_admin) == "true"; }, 8s), standby.log());
  const auto took_over = std::chrono::steady_clock::now() - killed;
  CHECK(took_over < 6s);  // 3 s + a jittered retry period (1.2 s at most) + reading the Lease
  CHECK(took_over > 1s);  // not before the dead leader's Lease expired
  CHECK(lease_holder(w) == standby_name);
  bool done = eventually([&] { return probe.sample(); }, 15s);
  REQUIRE_MESSAGE(done, w.explain("ha", standby));
  CHECK_MESSAGE(probe.violations.empty(), probe.violations.front());
  CHECK(probe.held_back[0]);
  REQUIRE_MESSAGE(eventually([&] { return mcc_ready(w.mcc("ha")); }, 10s), w.explain("ha", standby));

  // Nothing created twice: region 1 is the same object, each region created by one replica.
  CHECK(uid(*w.cc(kC1)) == uid1);
  CHECK(leader.count_log_lines({"msg=\"Update CassandraCluster\""}) == 0);
  CHECK(standby.count_log_lines({"msg=\"Update CassandraCluster\""}) == 0);
  CHECK(leader.count_log_lines({"msg=\"Create CassandraCluster\"", "kubernetes=" + kC1}) == 1);
  CHECK(leader.count_log_lines({"msg=\"Create CassandraCluster\"", "kubernetes=" + kC2}) == 0);
  CHECK(standby.count_log_lines({"msg=\"Create CassandraCluster\"", "kubernetes=" + kC1}) == 0);
  CHECK(standby.count_log_lines({"msg=\"Create CassandraCluster\"", "kubernetes=" + kC2}) == 1);
  CHECK(standby.count_log_lines({"Leading: starting the controllers", "identity=" + standby_name}) == 1);
  // SIGTERM: the leader releases the Lease and exits cleanly.
  CHECK_MESSAGE(standby.stop() == 0, standby.current_log());
  CHECK(standby.count_log_lines({"leader election: released the lease", "identity=" + standby_name}) == 1);
  CHECK(eventually([&] { return lease_holder(w).empty(); }, 2s));
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

TEST_CASE("operations: leader election: a leader that cannot renew its Lease stops writing at once") {
  world w({kC1, kC2}, 100);
  const std::string dir = make_temp_dir("mc-lease-lost");
  const std::string config = dir + "/config.yaml";
  write_file(config, config_yaml(config_of({via_kubeconfig(w.sim, kC1), via_secret_dir(w.sim, kC2)}, "", true)));
  operator_process a({"--config", config}, {{"POD_NAME", "mc-alpha"}});
  operator_process b({"--config", config}, {{"POD_NAME", "mc-beta"}});
  auto admin_a = admin_client(admin_address(a)), admin_b = admin_client(admin_address(b));
  w.create_mcc(mcc_of("steady", "cassandra-e2e", true, {kC1, kC2}));
  REQUIRE_MESSAGE(eventually([&] { return mcc_ready(w.mcc("steady")) && !lease_holder(w).empty(); }, 15s),
                  a.log() << "\n" << b.log());
  const bool a_leads = lease_holder(w) == "mc-alpha";
  operator_process& leader = a_leads ? a : b;
  operator_process& standby = a_leads ? b : a;
  api_client& leader_admin = a_leads ? admin_a : admin_b;
  const std::string uid2 = uid(*w.cc(kC2));

  // The local cluster (where the Lease lives) goes away for both replicas.
  w.set_reachable(kC1, false);
  const auto cut = std::chrono::steady_clock::now();
  REQUIRE_MESSAGE(leader.wait_for_log("msg=\"Lost the lease: stopping all writes\"", 5s), leader.log());
  const auto lost_after = std::chrono::steady_clock::now() - cut;
  CHECK(lost_after < 3500ms);  // the renew deadline (2 s) and a retry
  CHECK(standby.count_log_lines({"Lost the lease"}) == 0);
  // It cannot read the local cluster any more: not ready (nor leading) until it can again.
  auto ready = leader_admin.get("/readyz");
  CHECK(ready.status == 503);
  CHECK_MESSAGE(std::string(js::get_string(ready.json(), "reason")).find("cannot read the local cluster") != std::string::npos,
                ready.body);
  CHECK(leader_admin.get("/actors").status == 503);

  // Region 2 is still reachable: its CassandraCluster disappears, and no replica recreates it
  // while none holds the Lease (proving an absence takes a while).
  auto del = w.api(kC2).request("DELETE", kCCs + "/cassandra-e2e");
  REQUIRE_MESSAGE((del.status == 200 || del.status == 202), del.body);
  REQUIRE(eventually([&] { return !w.cc(kC2).has_value(); }, 5s));
  std::this_thread::sleep_for(1500ms);
  CHECK_FALSE(w.cc(kC2).has_value());
  const size_t creates2 = a.count_log_lines({"msg=\"Create CassandraCluster\"", "kubernetes=" + kC2}) +
                          b.count_log_lines({"msg=\"Create CassandraCluster\"", "kubernetes=" + kC2});
  CHECK(creates2 == 1);

  // Back: a replica leads again, rebuilds its state from the clusters and recreates it.
  w.set_reachable(kC1, true);
  REQUIRE_MESSAGE(eventually([&] { return cc_ready(w.cc(kC2)) && mcc_ready(w.mcc("steady")); }, 15s),
                  w.explain("steady", leader) << "\n" << standby.log());
  CHECK(uid(*w.cc(kC2)) != uid2);
  const size_t recreated = a.count_log_lines({"msg=\"Create CassandraCluster\"", "kubernetes=" + kC2}) +
                           b.count_log_lines({"msg=\"Create CassandraCluster\"", "kubernetes=" + kC2});
  CHECK(recreated == 2);  // once at first, once by the new leader
  CHECK_MESSAGE(a.stop() == 0, a.current_log());
  CHECK_MESSAGE(b.stop() == 0, b.current_log());
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}
