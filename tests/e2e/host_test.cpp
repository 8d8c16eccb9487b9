// The runtime host's promises, end to end with real binaries against kubesim: probes open
// whatever the admin auth, the admin token file (refused when missing or empty, rotated while
// running), clusters' credentials (retried while they cannot be loaded, followed when the
// kubeconfig changes, reaching the running watchers), /readyz and the local cluster, the version,
// and a second operator (annotator, tests/operators/annotator.cpp) on the same host.
#include <doctest/doctest.h>

#include <signal.h>

#include <chrono>
#include <filesystem>
#include <sstream>
#include <thread>

#include "tests/e2e/e2e_setup.h"
#include "tests/support/process.h"

using namespace e2e;
using namespace testsupport;
using namespace std::chrono_literals;

namespace {

// A config for multi-casskop or the annotator: the local cluster through its kubeconfig, then
// `more` (YAML list items for other clusters), then `extra` (any keys).
std::string host_yaml(const kubesim_instance& sim, const std::string& more,
                      const std::string& extra) {
  std::ostringstream y;
  y << "namespace: " << kNs << "\nclusters:\n- name: " << kC1
    << "\n  kubeconfig: " << sim.kubeconfig(kC1) << "\n  context: " << kC1 << "\n"
    << more << "admin:\n  address: \"127.0.0.1:0\"\n"
    << extra;
  return y.str();
}

std::string secret_dir_item(const std::string& name, const std::string& dir) {
  return "- name: " + name + "\n  secretDir: " + dir + "\n";
}

void replace_file(const std::string& path, const std::string& content) {
  write_file(path + ".next", content);
  std::filesystem::rename(path + ".next", path);
}

double metric_or(const std::string& scrape, const std::string& name,
                 const std::vector<std::pair<std::string, std::string>>& labels,
                 double fallback = -1) {
  auto v = metric(scrape, name, labels);
  return v ? *v : fallback;
}

const js::Value* entry_named(const js::Value& array, const std::string& name) {
  if (array.IsArray())
    for (const auto& e : array.GetArray())
      if (js::get_string(e, "name") == name) return &e;
  return nullptr;
}

const std::string kLeaderElection =
    "leaderElection:\n  enabled: true\n  leaseDurationSeconds: 3\n  renewDeadlineSeconds: 2\n  "
    "retryPeriodSeconds: 1\n";

}  // namespace

TEST_CASE(
    "host: the probes answer without the admin token, every other route wants it, and a rotated "
    "token file replaces the old token") {
  world w({kC1}, 100);
  const std::string dir = make_temp_dir("host-token");
  const std::string token_file = dir + "/admin-token";
  const std::string t1 = "host-token-one-Vb3xQ", t2 = "host-token-two-Lm8pZ",
                    t3 = "host-token-three-Ty6wD";
  write_file(token_file, t1 + "\n");
  write_file(dir + "/config.yaml", host_yaml(w.sim, "", "  tokenFile: " + token_file + "\n"));
  operator_process op({"--config", dir + "/config.yaml"});
  const std::string address = admin_address(op);
  // The kubelet calls the probes without a token.
  CHECK(admin_client(address).get("/healthz").status == 200);
  REQUIRE_MESSAGE(
      eventually([&] { return admin_client(address).get("/readyz").status == 200; }, 10s),
      admin_client(address).get("/readyz").body);
  for (const std::string path : {"/metrics", "/config", "/actors", "/clusters", "/credentials"}) {
    CAPTURE(path);
    CHECK(admin_client(address).get(path).status == 401);
    CHECK(admin_client(address, t1).get(path).status == 200);
  }

  // The file is replaced (a rotated Secret): the new token works, the old one no longer does.
  replace_file(token_file, t2 + "\n");
  REQUIRE_MESSAGE(
      eventually([&] { return admin_client(address, t2).get("/metrics").status == 200; }, 5s),
      op.log());
  CHECK(admin_client(address, t1).get("/metrics").status == 401);
  CHECK(op.wait_for_log("msg=\"Admin token reloaded\""));

  // Emptied by mistake: the token in use stays, and that is said.
  replace_file(token_file, "");
  REQUIRE(op.wait_for_log(
      "msg=\"Cannot read the admin token file again; the previous token stays valid\"", 5s));
  CHECK(admin_client(address, t2).get("/metrics").status == 200);

  // SIGHUP reads it too.
  replace_file(token_file, t3 + "\n");
  REQUIRE(kill(op.pid(), SIGHUP) == 0);
  REQUIRE_MESSAGE(
      eventually([&] { return admin_client(address, t3).get("/metrics").status == 200; }, 5s),
      op.log());
  CHECK(admin_client(address, t2).get("/metrics").status == 401);
  CHECK(op.stop() == 0);
  for (const auto& t : {t1, t2, t3}) CHECK(op.log().find(t) == std::string::npos);
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

TEST_CASE("host: a configured admin token file that is missing or empty refuses to start") {
  kubesim_instance sim({kC1});
  const std::string dir = make_temp_dir("host-token-missing");
  for (bool exists : {false, true}) {
    CAPTURE(exists);
    const std::string token_file = dir + "/admin-token";
    if (exists) write_file(token_file, "\n");
    write_file(dir + "/config.yaml", host_yaml(sim, "", "  tokenFile: " + token_file + "\n"));
    auto r = run({MULTICASSKOP_BIN, "--config", dir + "/config.yaml"}, {}, 10s);
    CHECK_FALSE(r.timed_out);
    CHECK(r.exit_code != 0);
    const std::string out = r.out + r.err;
    CHECK_MESSAGE(
        out.find("the configured admin token file is missing or empty") != std::string::npos, out);
    CHECK_MESSAGE(
        out.find(token_file + (exists ? " is empty" : " cannot be read")) != std::string::npos,
        out);
    CHECK(out.find("Admin endpoint listening") == std::string::npos);
  }
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

TEST_CASE(
    "host: credentials that cannot be loaded at start are retried, reported per cluster, and reach "
    "the running watcher once they load") {
  world w({kC1, kC2, kC3}, 100);
  const std::string dir = make_temp_dir("host-creds");
  // Region 2: a service-account folder not mounted yet. Region 3: a kubeconfig without its context
  // yet.
  const std::string folder = dir + "/cluster2-sa";
  const std::string kubeconfig3 = dir + "/cluster3.kubeconfig";
  write_file(kubeconfig3, read_file(w.sim.kubeconfig(kC1)));  // only kC1's context
  write_file(dir + "/config.yaml",
             host_yaml(w.sim,
                       secret_dir_item(kC2, folder) + "- name: " + kC3 +
                           "\n  kubeconfig: " + kubeconfig3 + "\n  context: " + kC3 + "\n",
                       "readiness: {legacySettleSeconds: 5}\n"));
  operator_process op({"--config", dir + "/config.yaml"});
  auto admin = admin_client(admin_address(op));
  for (const auto& c : {kC2, kC3}) {
    CAPTURE(c);
    // Logged, retried (attempt 2 and later), exported, and shown.
    REQUIRE_MESSAGE(
        op.wait_for_log("msg=\"Cannot load the cluster's credentials; retrying\" kubernetes=" + c,
                        5s),
        op.log());
  }
  REQUIRE_MESSAGE(
      eventually(
          [&] {
            return op.count_log_lines({"Cannot load the cluster's credentials", "attempt=2"}) >= 2;
          },
          5s),
      op.log());
  auto scrape = admin.get("/metrics").body;
  CHECK(metric_or(scrape, "operator_cluster_credentials_loaded", {{"cluster", kC1}}) == 1);
  CHECK(metric_or(scrape, "operator_cluster_credentials_loaded", {{"cluster", kC2}}) == 0);
  CHECK(metric_or(scrape, "operator_cluster_credentials_loaded", {{"cluster", kC3}}) == 0);
  {
    auto d = admin.get("/credentials").json();
    const js::Value* c2 = entry_named(d, kC2);
    REQUIRE(c2);
    CHECK(js::get_string(*c2, "credentials") == "failing");
    CHECK(std::string(js::get_string(*c2, "error")).find(folder) != std::string::npos);
    const js::Value* c3 = entry_named(d, kC3);
    REQUIRE(c3);
    CHECK(std::string(js::get_string(*c3, "error")).find(kC3) != std::string::npos);
  }
  REQUIRE_MESSAGE(eventually(
                      [&] {
                        auto d = admin.get("/clusters").json();
                        const js::Value* c2 = entry_named(d, kC2);
                        return c2 && std::string(js::get_string(*c2, "error")).find("not loaded") !=
                                         std::string::npos;
                      },
                      10s),
                  admin.get("/clusters").body);
  // The other clusters are served meanwhile.
  CHECK(eventually([&] { return admin.get("/readyz").status == 200; }, 10s));

  // The folder is mounted and the kubeconfig gains the context: both load, and the watchers
  // spawned at start (never respawned) start watching with them.
  std::filesystem::copy(w.sim.state_dir() + "/state/" + kC2 + "/serviceaccount", dir + "/staging",
                        std::filesystem::copy_options::recursive);
  std::filesystem::rename(dir + "/staging", folder);
  replace_file(kubeconfig3, read_file(w.sim.kubeconfig(kC3)));
  for (const auto& c : {kC2, kC3}) {
    CAPTURE(c);
    REQUIRE_MESSAGE(op.wait_for_log("msg=\"Cluster credentials loaded\" kubernetes=" + c, 20s),
                    op.log());
    REQUIRE_MESSAGE(op.wait_for_log("msg=\"Cluster reachable, watching\" kubernetes=" + c, 40s),
                    op.log());
    CHECK(op.count_log_lines({"Configuring client for a remote cluster", "kubernetes=" + c}) == 1);
  }
  w.create_mcc(mcc_of("late", "cassandra-e2e", true, {kC1, kC2, kC3}));
  REQUIRE_MESSAGE(eventually([&] { return mcc_ready(w.mcc("late")) && cc_ready(w.cc(kC3)); }, 30s),
                  w.explain("late", op));
  scrape = admin.get("/metrics").body;
  CHECK(metric_or(scrape, "operator_cluster_credentials_loaded", {{"cluster", kC2}}) == 1);
  CHECK(metric_or(scrape, "operator_cluster_credentials_loaded", {{"cluster", kC3}}) == 1);
  CHECK(op.stop() == 0);
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

TEST_CASE(
    "host: a kubeconfig rewritten with a new token is followed without a configuration change, and "
    "the watch stays") {
  world w({kC1, kC2}, 100);
  const std::string dir = make_temp_dir("host-kubeconfig");
  write_file(dir + "/config.yaml",
             host_yaml(w.sim,
                       "- name: " + kC2 + "\n  kubeconfig: " + w.sim.kubeconfig(kC2) +
                           "\n  context: " + kC2 + "\n",
                       "readiness: {legacySettleSeconds: 5}\n"));
  operator_process op({"--config", dir + "/config.yaml"});
  auto admin = admin_client(admin_address(op));
  REQUIRE_MESSAGE(op.wait_for_log("msg=\"Cluster reachable, watching\" kubernetes=" + kC2, 10s),
                  op.log());
  const std::string old_token = w.sim.token(kC2);
  // kubesim rewrites the cluster's kubeconfig with the new token; the old one is refused.
  REQUIRE(w.sim.control(kC2, "rotate-token", "keepOld=false").status == 200);
  w.refresh_client(kC2);
  REQUIRE(w.sim.token(kC2) != old_token);
  // The start-up load logged the line once; the rotation logs it again.
  REQUIRE_MESSAGE(eventually(
                      [&] {
                        return op.count_log_lines({"msg=\"Cluster credentials loaded\"",
                                                   "kubernetes=" + kC2}) >= 2;
                      },
                      5s),
                  op.log());
  w.create_mcc(mcc_of("rotated", "cassandra-e2e", true, {kC1, kC2}));
  REQUIRE_MESSAGE(
      eventually([&] { return mcc_ready(w.mcc("rotated")) && cc_ready(w.cc(kC2)); }, 20s),
      w.explain("rotated", op));
  CHECK(op.count_log_lines({"Configuring client for a remote cluster", "kubernetes=" + kC2}) == 1);
  CHECK(op.count_log_lines({"Configuration reloaded"}) == 0);
  CHECK(op.log().find(w.sim.token(kC2)) == std::string::npos);
  CHECK(op.log().find(old_token) == std::string::npos);
  CHECK(op.stop() == 0);
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

TEST_CASE(
    "host: /readyz is 503 while this replica cannot read the local cluster, and a standby that can "
    "read it is ready") {
  world w({kC1, kC2}, 100);
  const std::string dir = make_temp_dir("host-readyz");
  write_file(dir + "/config.yaml", host_yaml(w.sim,
                                             secret_dir_item(kC2, w.sim.state_dir() + "/state/" +
                                                                      kC2 + "/serviceaccount"),
                                             kLeaderElection));
  operator_process a({"--config", dir + "/config.yaml"}, {{"POD_NAME", "mc-alpha"}});
  operator_process b({"--config", dir + "/config.yaml"}, {{"POD_NAME", "mc-beta"}});
  auto admin_a = admin_client(admin_address(a)), admin_b = admin_client(admin_address(b));
  auto leader_of = [](api_client& c) {
    auto r = c.get("/readyz");
    if (r.status != 200) return std::string("?");
    const js::Value* l = js::find(r.json(), "leader");
    return std::string(l && l->IsBool() ? (l->GetBool() ? "true" : "false") : "?");
  };
  REQUIRE_MESSAGE(eventually(
                      [&] {
                        auto la = leader_of(admin_a), lb = leader_of(admin_b);
                        return (la == "true" && lb == "false") || (la == "false" && lb == "true");
                      },
                      15s),
                  a.log() << "\n"
                          << b.log());

  // The local cluster goes away: neither can read it, neither is ready.
  w.set_reachable(kC1, false);
  for (auto* c : {&admin_a, &admin_b}) {
    REQUIRE_MESSAGE(eventually([&] { return c->get("/readyz").status == 503; }, 10s),
                    c->get("/readyz").body);
    auto r = c->get("/readyz");
    CHECK_MESSAGE(std::string(js::get_string(r.json(), "reason"))
                          .find("cannot read the local cluster " + kC1) != std::string::npos,
                  r.body);
    CHECK(c->get("/healthz").status == 200);  // alive: no restart for it
  }
  // Back: one leads, the other is a ready standby again.
  w.set_reachable(kC1, true);
  REQUIRE_MESSAGE(eventually(
                      [&] {
                        auto la = leader_of(admin_a), lb = leader_of(admin_b);
                        return (la == "true" && lb == "false") || (la == "false" && lb == "true");
                      },
                      20s),
                  a.log() << "\n"
                          << b.log());
  CHECK(a.stop() == 0);
  CHECK(b.stop() == 0);
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

TEST_CASE("host: --version, the version in the start log line, and operator_build_info") {
  auto v = run({MULTICASSKOP_BIN, "--version"}, {}, 10s);
  REQUIRE(v.exit_code == 0);
  REQUIRE(v.out.rfind("multi-casskop ", 0) == 0);
  std::string version = v.out.substr(std::string("multi-casskop ").size());
  while (!version.empty() && version.back() == '\n') version.pop_back();
  CHECK_FALSE(version.empty());
  CHECK(version != "unknown");

  world w({kC1}, 100);
  const std::string dir = make_temp_dir("host-version");
  write_file(dir + "/config.yaml", host_yaml(w.sim, "", ""));
  operator_process op({"--config", dir + "/config.yaml"});
  auto admin = admin_client(admin_address(op));
  CHECK_MESSAGE(op.count_log_lines({"msg=\"Starting multi-casskop\"", "version=" + version}) +
                        op.count_log_lines(
                            {"msg=\"Starting multi-casskop\"", "version=\"" + version + "\""}) ==
                    1,
                op.log());
  auto scrape = admin.get("/metrics").body;
  CHECK(metric_or(scrape, "operator_build_info",
                  {{"version", version}, {"controller", "multicasskop"}}) == 1);
  CHECK(metric_or(scrape, "operator_config_reloads_total", {{"result", "ok"}}) == 0);
  CHECK(op.stop() == 0);
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

TEST_CASE(
    "host: another controller (annotator) runs on it: led by leader election, reloaded, probed and "
    "measured") {
  world w({kC1}, 100);
  auto create_cm = [&](const std::string& name) {
    auto r = w.api(kC1).request(
        "POST", "/api/v1/namespaces/" + kNs + "/configmaps",
        R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":")" + name + R"("}})");
    REQUIRE_MESSAGE(r.status == 201, r.body);
  };
  auto annotation = [&](const std::string& name) {
    auto r = w.api(kC1).get("/api/v1/namespaces/" + kNs + "/configmaps/" + name);
    return r.status == 200 ? std::string(js::get_string(
                                 r.json(), {"metadata", "annotations", "annotator.test/seen"}))
                           : std::string();
  };
  create_cm("first");
  const std::string dir = make_temp_dir("host-annotator");
  const std::string config = dir + "/config.yaml";
  write_file(config, host_yaml(w.sim, "", kLeaderElection + "annotate: {value: one}\n"));
  operator_process a(operator_process::binary{ANNOTATOR_BIN}, {"--config", config},
                     {{"POD_NAME", "an-alpha"}});
  operator_process b(operator_process::binary{ANNOTATOR_BIN}, {"--config", config},
                     {{"POD_NAME", "an-beta"}});
  auto admin_a = admin_client(admin_address(a)), admin_b = admin_client(admin_address(b));
  REQUIRE_MESSAGE(eventually([&] { return annotation("first") == "one"; }, 15s), a.log()
                                                                                     << "\n"
                                                                                     << b.log());
  REQUIRE_MESSAGE(eventually(
                      [&] {
                        return a.count_log_lines({"Leading: starting the controllers"}) +
                                   b.count_log_lines({"Leading: starting the controllers"}) ==
                               1;
                      },
                      5s),
                  a.log() << "\n"
                          << b.log());
  const bool a_leads = a.count_log_lines({"Leading: starting the controllers"}) == 1;
  operator_process& leader = a_leads ? a : b;
  operator_process& standby = a_leads ? b : a;
  api_client& leader_admin = a_leads ? admin_a : admin_b;
  api_client& standby_admin = a_leads ? admin_b : admin_a;

  // Probes, metrics and the controller's own route, as for multi-casskop.
  REQUIRE_MESSAGE(eventually([&] { return leader_admin.get("/readyz").status == 200; }, 10s),
                  leader_admin.get("/readyz").body);
  // The standby is ready once it has read the local cluster (its first Lease read may come
  // after the leader's first list on a loaded machine).
  CHECK_MESSAGE(eventually([&] { return standby_admin.get("/readyz").status == 200; }, 10s),
                standby_admin.get("/readyz").body);
  CHECK(leader_admin.get("/healthz").status == 200);
  CHECK(leader_admin.get("/annotator").status == 200);
  CHECK(standby_admin.get("/annotator").status == 503);
  CHECK(leader_admin.get("/actors").status == 404);  // multi-casskop's route, not this binary's
  auto scrape = leader_admin.get("/metrics").body;
  CHECK(metric(scrape, "operator_build_info", {{"controller", "annotator"}}).value_or(0) == 1);
  CHECK_FALSE(metric(scrape, "operator_build_info", {{"controller", "multicasskop"}}).has_value());
  CHECK(metric_or(scrape, "operator_cluster_credentials_loaded", {{"cluster", kC1}}) == 1);

  // A reload reaches the running controller: every ConfigMap gets the new value.
  replace_file(config, host_yaml(w.sim, "", kLeaderElection + "annotate: {value: two}\n"));
  REQUIRE_MESSAGE(eventually([&] { return annotation("first") == "two"; }, 10s), leader.log());
  CHECK(eventually(
      [&] {
        return metric_or(leader_admin.get("/metrics").body, "operator_config_reloads_total",
                         {{"result", "ok"}}) == 1;
      },
      5s));

  // The leader stops (releasing the Lease): the standby starts the controller and carries on.
  CHECK(leader.stop() == 0);
  REQUIRE_MESSAGE(standby.wait_for_log("msg=\"Leading: starting the controllers\"", 10s),
                  standby.log());
  create_cm("second");
  REQUIRE_MESSAGE(eventually([&] { return annotation("second") == "two"; }, 10s), standby.log());

  // The Lease cannot be renewed: the controller stops; a ConfigMap made meanwhile stays as it is.
  w.set_reachable(kC1, false);
  REQUIRE_MESSAGE(standby.wait_for_log("msg=\"Lost the lease: stopping all writes\"", 10s),
                  standby.log());
  CHECK(standby.wait_for_log("msg=\"Controller stopped\" controller=annotator", 5s));
  CHECK(standby_admin.get("/annotator").status == 503);
  CHECK(standby.stop() == 0);
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}
