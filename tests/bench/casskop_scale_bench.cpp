// casskop scale benchmark (issue 13 item 7): one rack scaled FROM -> TO -> FROM nodes (3 -> 6 -> 3)
// against kubesim's simulated Cassandra nodes with every node timing at zero (the default of
// cassandra/speeds) and the probes 1000x faster (--probe-time-scale 0.001): the wall time, and per
// node added and removed, casskop's API writes (its /metrics) and the Jolokia calls its nodes
// received (kubesim's cassandra/pods jolokiaCalls), beside what CassKop v2.1.0's fixed waits
// (5 s requeue, 20 s before an action is checked, 120 s before a decommission is re-sent) cost
// for the same work, computed from its code, not run. Prints figures; exits 0 unless the setup
// breaks. A phase that does not end within --timeout-s is reported with casskop's status.
//
//   build/tests/casskop_scale_bench [--from 3] [--to 6] [--runs 1] [--timeout-s 120]
//                                   [--insecure-http] [--casskop-bin PATH] [--keep-logs]
#include <signal.h>

#include <csignal>
#include <optional>
#include <string>
#include <thread>

#include <fmt/format.h>

#include "k8s/json/json.h"
#include "k8s/json/yaml_json.h"
#include "tests/bench/bench_casskop.h"
#include "tests/bench/bench_http.h"
#include "tests/bench/bench_watch.h"

using namespace bench;
namespace js = k8s::json;

namespace {

const std::string ns = "bench";
const std::string cc_name = "scale";

struct options {
  int from = 3, to = 6, runs = 1, timeout_s = 120;
  bool tls = true, keep_logs = false;
  std::string casskop_bin = CASSKOP_BIN;
};

std::string cc_path() {
  return "/apis/db.orange.com/v2/namespaces/" + ns + "/cassandraclusters";
}

struct scale_world {
  explicit scale_world(const options& o) {
    std::vector<std::string> args = {"--simulate-workloads", "--simulate-cassandra",
                                     "--probe-time-scale", "0.001"};
    if (!o.tls) args.push_back("--insecure-http");
    sim = std::make_unique<testsupport::kubesim_instance>(std::vector<std::string>{"k1"}, args);
    api = std::make_unique<connection>(target_of(*sim, "k1"));
    auto crd = js::yaml_to_json(testsupport::read_file(
        std::string(REPO_DIR) + "/deploy/crds/db.orange.com_cassandraclusters.yaml"));
    must(api->send(http::verb::post, "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
                   js::to_string(crd)),
         "create the CassandraCluster CRD");
    must(api->send(http::verb::post, "/api/v1/namespaces",
                   R"({"apiVersion":"v1","kind":"Namespace","metadata":{"name":")" + ns + R"("}})"),
         "create the namespace");
    auto deadline = clock_type::now() + std::chrono::seconds(10);
    while (api->send(http::verb::get, cc_path() + "?limit=1").status != 200) {
      if (clock_type::now() > deadline) throw std::runtime_error("cassandraclusters never served");
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    casskop = start_casskop(*sim, "k1", ns, o.casskop_bin);
    keep_logs = o.keep_logs;
  }
  ~scale_world() {
    if (!casskop.process) return;
    if (keep_logs) {
      std::string kept = fmt::format("/tmp/casskop_scale_bench-{}.log", casskop.process->pid());
      testsupport::write_file(kept, casskop.process->log());
      fmt::print("  casskop log kept in {}\n", kept);
    }
    casskop.process->stop();
  }

  // Every node of the rack's StatefulSet there and Ready, `n` PVCs, and the CassandraCluster
  // Running with `action` Done.
  bool at(int n, const std::string& action) {
    auto sts = api->send(http::verb::get, "/apis/apps/v1/namespaces/" + ns + "/statefulsets/" +
                                              cc_name + "-dc1-rack1");
    auto cc = api->send(http::verb::get, cc_path() + "/" + cc_name);
    auto pvcs = api->send(http::verb::get, "/api/v1/namespaces/" + ns + "/persistentvolumeclaims");
    if (sts.status != 200 || cc.status != 200 || pvcs.status != 200) return false;
    auto s = js::parse(sts.body), c = js::parse(cc.body), p = js::parse(pvcs.body);
    return js::get_int(s, {"spec", "replicas"}, -1) == n &&
           js::get_int(s, {"status", "replicas"}, -1) == n &&
           js::get_int(s, {"status", "readyReplicas"}, -1) == n &&
           js::get_string(c, {"status", "phase"}) == "Running" &&
           js::get_string(c, {"status", "lastClusterAction"}) == action &&
           js::get_string(c, {"status", "lastClusterActionStatus"}) == "Done" &&
           p["items"].Size() == static_cast<size_t>(n);
  }
  // Jolokia requests every simulated node received so far.
  int64_t jolokia_calls() {
    auto r = sim->control("k1", "cassandra/pods");
    if (r.status != 200) throw std::runtime_error("cassandra/pods: " + r.body);
    auto d = r.json();
    int64_t n = 0;
    for (const auto& p : d.GetArray()) n += js::get_int(p, {"jolokiaCalls"}, 0);
    return n;
  }
  std::string status() {
    auto cc = api->send(http::verb::get, cc_path() + "/" + cc_name);
    auto d = js::parse(cc.body);
    const js::Value* st = js::find(d, "status");
    return st ? js::to_string(*st) : cc.body;
  }

  std::unique_ptr<testsupport::kubesim_instance> sim;
  std::unique_ptr<connection> api;
  casskop_run casskop;
  bool keep_logs = false;
};

struct phase_result {
  bool done = false;
  double wall_s = 0;
  request_count requests;
  int64_t jolokia = 0;
};

// nodesPerRacks set to `n`; waits until the rack is there with `action` Done.
phase_result scale_to(scale_world& w, int n, const std::string& action, int timeout_s) {
  phase_result r;
  auto before = api_requests(w.casskop.admin_port);
  const int64_t calls = w.jolokia_calls();
  const time_point t0 = clock_type::now();
  must(w.api->send(http::verb::patch, cc_path() + "/" + cc_name,
                   fmt::format(R"({{"spec":{{"nodesPerRacks":{}}}}})", n),
                   "application/merge-patch+json"),
       "scale to " + std::to_string(n));
  const auto deadline = t0 + std::chrono::seconds(timeout_s);
  while (!(r.done = w.at(n, action)) && clock_type::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  r.wall_s = ms(t0, clock_type::now()) / 1000.0;
  r.requests = requests_between(before, api_requests(w.casskop.admin_port));
  r.jolokia = w.jolokia_calls() - calls;
  return r;
}

void print_phase(const char* what, const phase_result& r, int nodes, scale_world& w) {
  if (!r.done) {
    fmt::print("  {}: NOT DONE within {:.0f} s; CassandraCluster status: {}\n", what, r.wall_s,
               w.status());
    return;
  }
  fmt::print(
      "  {}: {:.2f} s ({:.2f} s per node); casskop API writes {:.0f} ({:.1f} per node: {}), "
      "reads {:.0f}; Jolokia calls {} ({:.1f} per node)\n",
      what, r.wall_s, r.wall_s / nodes, r.requests.writes, r.requests.writes / nodes,
      r.requests.detail, r.requests.reads, r.jolokia, double(r.jolokia) / nodes);
}

void run(const options& o) {
  const int delta = o.to - o.from;
  for (int run = 1; run <= o.runs; ++run) {
    scale_world w(o);
    fmt::print(
        "run {}: kubesim (--simulate-cassandra, node timings 0, probes x0.001, {}), casskop pid "
        "{}\n",
        run, o.tls ? "HTTPS" : "HTTP", w.casskop.process->pid());
    must(
        w.api->send(
            http::verb::post, cc_path(),
            fmt::format(
                R"({{"apiVersion":"db.orange.com/v2","kind":"CassandraCluster","metadata":{{"name":"{}","namespace":"{}"}},)"
                R"("spec":{{"nodesPerRacks":{},"cassandraImage":"cassandra:3.11.10","dataCapacity":"1Gi",)"
                R"("deletePVC":true,"topology":{{"dc":[{{"name":"dc1","rack":[{{"name":"rack1"}}]}}]}}}}}})",
                cc_name, ns, o.from)),
        "create the CassandraCluster");
    const time_point t0 = clock_type::now();
    const auto deadline = t0 + std::chrono::seconds(o.timeout_s);
    bool up = false;
    while (!(up = w.at(o.from, "Initializing")) && clock_type::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    if (!up)
      throw std::runtime_error("the first " + std::to_string(o.from) +
                               " nodes never came up: " + w.status());
    fmt::print("  created with {} nodes in {:.2f} s\n", o.from, ms(t0, clock_type::now()) / 1000.0);
    phase_result grow = scale_to(w, o.to, "ScaleUp", o.timeout_s);
    print_phase(fmt::format("{} -> {} (ScaleUp)", o.from, o.to).c_str(), grow, delta, w);
    if (!grow.done) continue;
    phase_result shrink = scale_to(w, o.from, "ScaleDown", o.timeout_s);
    print_phase(fmt::format("{} -> {} (ScaleDown)", o.to, o.from).c_str(), shrink, delta, w);
  }
  // Computed from v2.1.0's code (reference §4), not run: the same work at its fixed pace. Every
  // action's end is checked no sooner than DefaultDelayWait (20 s) after it started
  // (needToWaitDelayBeforeCheck, cassandra_status.go:73 and 154-175), on the 5 s requeue grid
  // (cassandracluster_controller.go:71).
  fmt::print(
      "CassKop v2.1.0's fixed waits for the same work (computed from its code, not run):\n"
      "  per node added: one ScaleUp action (replicas + 1), its end checked no sooner than 20 s "
      "after it started, on its 5 s requeue grid: 20-25 s, so {} -> {}: {}-{} s\n"
      "  per node removed: one ScaleDown action (decommission sent, DECOMMISSIONED seen and "
      "replicas - 1, PVC deleted: 3 passes of the 5 s requeue), its end checked no sooner than "
      "20 s after it started: 20-25 s, so {} -> {}: {}-{} s; 120 s more for each re-send when a "
      "node stays NORMAL\n",
      o.from, o.to, delta * 20, delta * 25, o.to, o.from, delta * 20, delta * 25);
}

}  // namespace

int main(int argc, char** argv) {
  options o;
  try {
    arguments()
        .value("--from", o.from)
        .value("--to", o.to)
        .value("--runs", o.runs)
        .value("--timeout-s", o.timeout_s)
        .value("--casskop-bin", o.casskop_bin)
        .flag("--insecure-http", o.tls, false)
        .flag("--keep-logs", o.keep_logs)
        .parse(argc, argv);
  } catch (const std::exception& e) {
    fmt::print(stderr,
               "casskop_scale_bench: {}\nusage: casskop_scale_bench [--from N] [--to N] [--runs N] "
               "[--timeout-s S] [--insecure-http] [--casskop-bin PATH] [--keep-logs]\n",
               e.what());
    return 2;
  }
  if (o.from < 1 || o.to <= o.from || o.runs < 1 || o.timeout_s < 1) {
    fmt::print(stderr,
               "casskop_scale_bench: need 1 <= --from < --to, --runs and --timeout-s >= 1\n");
    return 2;
  }
  std::signal(SIGPIPE, SIG_IGN);
  try {
    run(o);
  } catch (const std::exception& e) {
    fmt::print(stderr, "casskop_scale_bench: {}\n", e.what());
    return 1;
  }
  return 0;
}
