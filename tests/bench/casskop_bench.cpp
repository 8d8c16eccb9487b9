// casskop benchmark: how long casskop takes to bring a CassandraCluster up and to roll a change
// through it, how much of that time is casskop's own, what CassKop v2.1.0's fixed waits would
// cost for the same work, and what 100 CassandraClusters cost in one namespace. Prints figures;
// never fails on them (exit 0 unless the setup itself breaks).
//
//   build/tests/casskop_bench [--dcs 3] [--racks 3] [--nodes 3] [--runs 3] [--pod-ready-delay-ms 5]
//                             [--clusters 100] [--small-dcs 1] [--small-racks 1] [--small-nodes 1]
//                             [--window-s 30] [--timeout-s 600] [--insecure-http]
//                             [--skip-single] [--skip-scale] [--casskop-bin PATH] [--keep-logs]
//
// Each part starts its own kubesim (this build's, HTTPS unless --insecure-http) with
// --simulate-workloads (its StatefulSet controller and kubelet stand-in: pods Ready
// --pod-ready-delay-ms after they start) and its own casskop, and stops both at the end.
//
// Single cluster (a, b, c): one CassandraCluster of DCS x RACKS racks x NODES nodes is created
// (a), then its cassandraImage changed (b); RUNS times, each with a new CassandraCluster. The
// benchmark holds its own watch on StatefulSets and CassandraClusters, every event timestamped
// on arrival, and measures per rack, in spec order:
//   - the operator's share: from the previous rack's StatefulSet at rest (observedGeneration,
//     replicas, readyReplicas, updatedReplicas, currentRevision == updateRevision) to casskop's
//     write of the next rack's StatefulSet (its creation, or its new image, on the same watch);
//     this includes two watch deliveries (kubesim -> casskop, kubesim -> benchmark) and the
//     write's round trip;
//   - the rack's own time: from that write to the StatefulSet at rest (kubesim's StatefulSet
//     controller and kubelet stand-in, not casskop);
//   - wall time from the create (patch) to status Running/Done on the watch, and the API
//     requests casskop made meanwhile (its /metrics, operator_api_requests_total).
// (c) is computed from CassKop v2.1.0's code with the rack times measured in (a) and (b).
//
// Scale (d): CLUSTERS CassandraClusters of SMALL-DCS x SMALL-RACKS x SMALL-NODES created at once
// in one namespace: the time until all are Running/Done, casskop's peak RSS (VmHWM) and its idle
// RSS once quiet, its CPU time, and the API requests per minute over a WINDOW-S window once
// everything is Running, split into reads and writes.
#include <signal.h>
#include <sys/types.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <csignal>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "k8s/json/json.h"
#include "k8s/json/yaml_json.h"
#include "tests/bench/bench_casskop.h"
#include "tests/bench/bench_http.h"
#include "tests/bench/bench_proc.h"
#include "tests/bench/bench_watch.h"
#include "tests/support/cassandra_objects.h"
#include "tests/support/kubesim_fixture.h"
#include "tests/support/operator_fixture.h"

using namespace bench;
namespace js = k8s::json;

namespace {

const std::string ns = "bench";
const std::string old_image = "cassandra:3.11.10";
const std::string new_image = "cassandra:3.11.11";

struct options {
  int dcs = 3, racks = 3, nodes = 3, runs = 3, pod_ready_ms = 5;
  int clusters = 100, small_dcs = 1, small_racks = 1, small_nodes = 1;
  int window_s = 30, timeout_s = 600;
  bool tls = true, single = true, scale = true, keep_logs = false;
  std::string casskop_bin = CASSKOP_BIN;
};

std::string sts_path() {
  return "/apis/apps/v1/namespaces/" + ns + "/statefulsets";
}
std::string cc_path() {
  return "/apis/db.orange.com/v2/namespaces/" + ns + "/cassandraclusters";
}

// The racks of a topology in spec order, as `<dc>-<rack>`.
std::vector<std::string> dc_racks(int dcs, int racks) {
  std::vector<std::string> out;
  for (int d = 1; d <= dcs; ++d)
    for (int r = 1; r <= racks; ++r) out.push_back(fmt::format("dc{}-rack{}", d, r));
  return out;
}

std::string cc_json(const std::string& name, int dcs, int racks, int nodes) {
  const std::string topology = testsupport::topology_dcs_json(dcs, racks);
  return fmt::format(
      R"({{"apiVersion":"db.orange.com/v2","kind":"CassandraCluster","metadata":{{"name":"{}","namespace":"{}"}},)"
      R"("spec":{{"nodesPerRacks":{},"cassandraImage":"{}","dataCapacity":"1Gi",)"
      R"("topology":{{"dc":{}}}}}}})",
      name, ns, nodes, old_image, topology);
}

// ---------------------------------------------------------------------------------------------
// What the benchmark's watches saw.

struct sts_seen {
  time_point at;
  std::string type, image;
  int64_t generation = 0, observed = 0, spec_replicas = 0, replicas = 0, ready = 0, updated = 0;
  bool same_revision = false;
  // At rest for its current generation: every pod there, Ready and on the update revision.
  bool at_rest() const {
    return observed >= generation && replicas == spec_replicas && ready == spec_replicas &&
           updated == spec_replicas && same_revision;
  }
};

struct cc_seen {
  time_point at;
  std::string phase, action, action_status;
  bool done(const std::string& want_action) const {
    return phase == "Running" && action_status == "Done" &&
           (want_action.empty() || action == want_action);
  }
};

// Both watches, their events kept per object name in arrival order.
class recorder {
 public:
  recorder(watch_hub& hub, size_t sts_watch, size_t cc_watch)
      : hub_(hub), sts_(sts_watch), cc_(cc_watch) {}

  // Takes every event that has arrived; false if none did.
  bool pump() {
    bool any = false;
    auto all = [](const watch_event&) { return true; };
    while (auto e = hub_.wait(sts_, all, std::chrono::milliseconds(0))) {
      any = true;
      const js::Value& o = *e->object;
      sts_seen s;
      s.at = e->at;
      s.type = e->type;
      s.image = testsupport::cassandra_image(o);
      s.generation = js::get_int(o, {"metadata", "generation"}, 0);
      s.observed = js::get_int(o, {"status", "observedGeneration"}, 0);
      s.spec_replicas = js::get_int(o, {"spec", "replicas"}, 1);
      s.replicas = js::get_int(o, {"status", "replicas"}, 0);
      s.ready = js::get_int(o, {"status", "readyReplicas"}, 0);
      s.updated = js::get_int(o, {"status", "updatedReplicas"}, 0);
      auto cur = js::get_string(o, {"status", "currentRevision"});
      s.same_revision = !cur.empty() && cur == js::get_string(o, {"status", "updateRevision"});
      sts[e->name()].push_back(std::move(s));
    }
    while (auto e = hub_.wait(cc_, all, std::chrono::milliseconds(0))) {
      any = true;
      const js::Value& o = *e->object;
      cc_seen c{e->at, std::string(js::get_string(o, {"status", "phase"})),
                std::string(js::get_string(o, {"status", "lastClusterAction"})),
                std::string(js::get_string(o, {"status", "lastClusterActionStatus"}))};
      cc[e->name()].push_back(std::move(c));
    }
    if (hub_.ended(sts_) || hub_.ended(cc_)) throw std::runtime_error("a watch ended");
    return any;
  }

  // Pumps until `cond` holds or `timeout` passes; false on timeout.
  template <class F>
  bool until(F&& cond, std::chrono::seconds timeout) {
    auto deadline = clock_type::now() + timeout;
    for (;;) {
      pump();
      if (cond()) return true;
      if (clock_type::now() > deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }

  // The first time, at or after `from`, that CassandraCluster `name` was Running/Done with
  // `action` (any when empty).
  std::optional<time_point> cc_done(const std::string& name, time_point from,
                                    const std::string& action) const {
    auto it = cc.find(name);
    if (it == cc.end()) return std::nullopt;
    for (const auto& c : it->second)
      if (c.at >= from && c.done(action)) return c.at;
    return std::nullopt;
  }

  std::map<std::string, std::vector<sts_seen>> sts;
  std::map<std::string, std::vector<cc_seen>> cc;

 private:
  watch_hub& hub_;
  size_t sts_, cc_;
};

// ---------------------------------------------------------------------------------------------
// kubesim and casskop.

class world {
 public:
  world(const options& o, const char* what) : opt_(o) {
    std::vector<std::string> args = {"--simulate-workloads", "--pod-ready-delay-ms",
                                     std::to_string(o.pod_ready_ms)};
    if (!o.tls) args.push_back("--insecure-http");
    sim_ = std::make_unique<testsupport::kubesim_instance>(std::vector<std::string>{"k1"}, args);
    t_ = target_of(*sim_, "k1");
    conn_ = std::make_unique<connection>(t_);
    install();
    // The benchmark's watches, from before casskop's first write.
    sts_watch_ = hub_.open(t_, sts_path() + "?watch=true&resourceVersion=" + list_rv(sts_path()));
    cc_watch_ = hub_.open(t_, cc_path() + "?watch=true&resourceVersion=" + list_rv(cc_path()));
    rec_ = std::make_unique<recorder>(hub_, sts_watch_, cc_watch_);
    auto run = start_casskop(*sim_, "k1", ns, o.casskop_bin);
    op_ = std::move(run.process);
    admin_port_ = run.admin_port;
    fmt::print(
        "{}: kubesim (--simulate-workloads, pods Ready {} ms after they start, {}), casskop "
        "pid {} ({})\n",
        what, o.pod_ready_ms, o.tls ? "HTTPS" : "HTTP", op_->pid(), o.casskop_bin);
  }
  ~world() {
    if (!op_) return;
    if (opt_.keep_logs) {
      std::string kept = fmt::format("/tmp/casskop_bench-{}.log", op_->pid());
      testsupport::write_file(kept, op_->log());
      fmt::print("  casskop log kept in {}\n", kept);
    }
    op_->stop();
  }

  connection& api() { return *conn_; }
  const target& where() const { return t_; }
  recorder& rec() { return *rec_; }
  testsupport::operator_process& op() { return *op_; }
  pid_t pid() const { return op_->pid(); }
  pid_t kubesim_pid() { return sim_->process().pid(); }
  std::map<std::string, double> requests() const { return api_requests(admin_port_); }
  // What the watches last saw of `cc` and its racks, what casskop says it waits for, and the
  // end of its log: for a phase that never ends.
  std::string diagnose(const std::string& cc, const std::vector<std::string>& racks) {
    std::string out;
    for (const auto& r : racks) {
      auto it = rec_->sts.find(cc + "-" + r);
      if (it == rec_->sts.end() || it->second.empty()) {
        out += fmt::format("  {}: no StatefulSet seen\n", r);
        continue;
      }
      const sts_seen& e = it->second.back();
      out += fmt::format(
          "  {}: {} events, last {} generation {} observed {} replicas {}/{} ready {} updated {} "
          "same revision {} image {}\n",
          r, it->second.size(), e.type, e.generation, e.observed, e.replicas, e.spec_replicas,
          e.ready, e.updated, e.same_revision, e.image);
    }
    if (auto it = rec_->cc.find(cc); it != rec_->cc.end() && !it->second.empty())
      out += fmt::format("  CassandraCluster: {} events, last phase {} action {} {}\n",
                         it->second.size(), it->second.back().phase, it->second.back().action,
                         it->second.back().action_status);
    try {
      target t;
      t.port = admin_port_;
      connection c(t);
      out += "  casskop /cassandraclusters: " + c.send(http::verb::get, "/cassandraclusters").body +
             "\n";
    } catch (const std::exception& e) {
      out += std::string("  casskop /cassandraclusters: ") + e.what() + "\n";
    }
    std::string log = op_->current_log();
    out += "casskop log (end):\n" + log.substr(log.size() > 8000 ? log.size() - 8000 : 0);
    return out;
  }
  // Warnings and errors casskop logged.
  void print_problems() const {
    size_t n = op_->count_log_lines({"level=error"}) + op_->count_log_lines({"level=warning"});
    if (n) fmt::print("  casskop logged {} warning/error line(s)\n", n);
  }

 private:
  void install() {
    auto crd = js::yaml_to_json(testsupport::read_file(
        std::string(REPO_DIR) + "/deploy/crds/db.orange.com_cassandraclusters.yaml"));
    must(conn_->send(http::verb::post, "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
                     js::to_string(crd)),
         "create the CassandraCluster CRD");
    must(conn_->send(
             http::verb::post, "/api/v1/namespaces",
             fmt::format(R"({{"apiVersion":"v1","kind":"Namespace","metadata":{{"name":"{}"}}}})",
                         ns)),
         "create the namespace");
    auto deadline = clock_type::now() + std::chrono::seconds(10);
    while (conn_->send(http::verb::get, cc_path() + "?limit=1").status != 200) {
      if (clock_type::now() > deadline) throw std::runtime_error("cassandraclusters never served");
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  std::string list_rv(const std::string& path) {
    auto d = js::parse(must(conn_->send(http::verb::get, path + "?limit=1"), "list " + path).body);
    return std::string(js::get_string(d, {"metadata", "resourceVersion"}));
  }

  options opt_;
  std::unique_ptr<testsupport::kubesim_instance> sim_;
  target t_;
  std::unique_ptr<connection> conn_;
  watch_hub hub_;
  size_t sts_watch_ = 0, cc_watch_ = 0;
  std::unique_ptr<recorder> rec_;
  std::unique_ptr<testsupport::operator_process> op_;
  std::string admin_port_;
};

// ---------------------------------------------------------------------------------------------
// One cluster: creation, then an image change rolled through every rack.

// What one phase (creation or roll) of one run measured.
struct phase_run {
  double wall_ms = 0;
  request_count requests;
  std::vector<double> gaps_ms;  // operator's share, racks 2..N: previous at rest -> this write
  double first_ms = 0;          // the create/patch -> the first rack's write
  double last_ms = 0;           // the last rack at rest -> Running/Done on the watch
  std::vector<double> rack_ms;  // per rack: its write -> at rest (the StatefulSet controller)
  bool in_order = true;         // never a write before the previous rack was at rest
};

struct rack_times {
  time_point write, rest;
};

// Per rack, when casskop wrote it (created it, or first gave it `image`) at or after `from`,
// and when it was next at rest with that write.
std::optional<rack_times> rack_timeline(const std::vector<sts_seen>& events, time_point from,
                                        const std::string& image, bool creation) {
  std::optional<rack_times> out;
  int64_t written_generation = 0;
  for (const auto& e : events) {
    if (e.at < from) continue;
    if (!out) {
      bool written = creation ? e.type == "ADDED" : e.image == image;
      if (!written) continue;
      out = rack_times{e.at, {}};
      written_generation = e.generation;
    }
    if (e.image == image && e.generation >= written_generation && e.at_rest()) {
      out->rest = e.at;
      return out;
    }
  }
  return std::nullopt;
}

phase_run measure_phase(world& w, const std::string& cc, const std::vector<std::string>& racks,
                        time_point start, const std::map<std::string, double>& requests_before,
                        bool creation, int timeout_s) {
  const std::string action = creation ? "Initializing" : "UpdateDockerImage";
  const std::string image = creation ? old_image : new_image;
  auto& rec = w.rec();
  std::vector<rack_times> times;
  std::optional<time_point> done;
  bool ok = rec.until(
      [&] {
        times.clear();
        for (const auto& r : racks) {
          auto it = rec.sts.find(cc + "-" + r);
          if (it == rec.sts.end()) return false;
          auto t = rack_timeline(it->second, start, image, creation);
          if (!t) return false;
          times.push_back(*t);
        }
        // Any time since the start: the benchmark's two watches are separate streams, so
        // casskop's Running/Done may arrive before the last rack's events do. Only the end of
        // this phase says Running/Done with this action (the phase is Running only once every
        // rack is).
        done = rec.cc_done(cc, start, action);
        return done.has_value();
      },
      std::chrono::seconds(timeout_s));
  if (!ok)
    throw std::runtime_error(fmt::format("{} of {} not done after {} s\n{}",
                                         creation ? "creation" : "image roll", cc, timeout_s,
                                         w.diagnose(cc, racks)));
  // casskop's last writes (the status) are answered before the watch brings them: let the
  // metrics settle on what this phase did.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  phase_run p;
  p.requests = requests_between(requests_before, w.requests());
  p.wall_ms = ms(start, std::max(*done, times.back().rest));
  p.first_ms = ms(start, times.front().write);
  p.last_ms = ms(times.back().rest, *done);
  for (size_t k = 0; k < times.size(); ++k) {
    p.rack_ms.push_back(ms(times[k].write, times[k].rest));
    if (k == 0) continue;
    double gap = ms(times[k - 1].rest, times[k].write);
    if (gap < 0) p.in_order = false;
    p.gaps_ms.push_back(gap);
  }
  return p;
}

// CassKop v2.1.0 for the same work, computed from its code (tag v2.1.0-release) and the rack
// times measured here (the same StatefulSet controller would take as long):
//  - it watches only CassandraClusters (cassandracluster_controller.go:37-40) and every pass
//    ends with RequeueAfter 5 s (:71, :136): a rack becoming ready is noticed on the next 5 s
//    pass at the earliest;
//  - creation: the pass that creates a rack's StatefulSet (statefulset.go:209-210) changes no
//    status, so no update wakes a pass (cassandra_status.go:38-64) and the next one comes 5 s
//    later; it sets the rack Running once its last pod is Ready (cassandra_status.go:426-480)
//    and creates the next rack in that same pass (reconcile.go:441-570).
//    Per rack: 5 s x ceil(R / 5 s), R = the rack's time to Ready (at least one 5 s pass);
//  - an action (image change): the pass that starts it sets startTime and updates the
//    StatefulSet (statefulset.go:276-293), then UpdateStatefulSet blocks that pass in wait.Poll
//    (1 s interval, first check after 1 s: statefulset.go:39-41, 98-116); its status update
//    wakes a pass at once and passes follow every 5 s; the action is not even looked at before
//    startTime + 20 s (needToWaitDelayBeforeCheck, cassandra_status.go:158-176;
//    DefaultDelayWait = 2 x DefaultResyncPeriod = 20 s, api/v2/cassandracluster_types.go:36-38);
//    then it ends when currentRevision == updateRevision (cassandra_status.go:407-416) and the
//    next rack starts in that pass. Per rack: 1 s + 5 s x max(4, ceil((R - 1 s) / 5 s)), i.e.
//    21 s whenever the rack rolls in under 21 s.
double v21_creation_rack_s(double rack_s) {
  return 5.0 * std::max(1.0, std::ceil(rack_s / 5.0));
}
double v21_action_rack_s(double rack_s) {
  return 1.0 + 5.0 * std::max(4.0, std::ceil((rack_s - 1.0) / 5.0));
}

struct phase_summary {
  stats wall, gaps, first, last, rack, writes, reads, v21_wall, v21_gaps;
  std::string detail;
  bool in_order = true;
  void add(const phase_run& p, bool creation) {
    wall.add(p.wall_ms);
    for (double g : p.gaps_ms) gaps.add(g);
    first.add(p.first_ms);
    last.add(p.last_ms);
    writes.add(p.requests.writes);
    reads.add(p.requests.reads);
    detail = p.requests.detail;
    in_order = in_order && p.in_order;
    double v21 = 0;
    for (size_t k = 0; k < p.rack_ms.size(); ++k) {
      rack.add(p.rack_ms[k]);
      double r = p.rack_ms[k] / 1000.0;
      double per = creation ? v21_creation_rack_s(r) : v21_action_rack_s(r);
      v21 += per;
      if (k + 1 < p.rack_ms.size()) v21_gaps.add((per - r) * 1000.0);
    }
    v21_wall.add(v21 * 1000.0);
  }
};

std::string spread_s(const stats& s) {
  auto sorted = s.v;
  std::sort(sorted.begin(), sorted.end());
  if (sorted.empty()) return "-";
  if (sorted.front() == sorted.back()) return fmt::format("{:.2f} s", sorted.front() / 1000.0);
  return fmt::format("{:.2f} s (runs: {:.2f}-{:.2f})", s.pct(50) / 1000.0, sorted.front() / 1000.0,
                     sorted.back() / 1000.0);
}

void print_phase(const char* title, const phase_summary& s, int racks, bool creation) {
  fmt::print("{}\n", title);
  fmt::print("  wall time (median of runs)               casskop {:<28} v2.1.0 {}\n",
             spread_s(s.wall), spread_s(s.v21_wall));
  fmt::print("  operator's share per rack (racks 2..{}, {} samples):\n", racks, s.gaps.v.size());
  fmt::print(
      "    casskop: previous rack at rest -> this rack's write: p50 {:.1f}  p99 {:.1f}  max "
      "{:.1f} ms\n",
      s.gaps.pct(50), s.gaps.pct(99), s.gaps.max());
  fmt::print("    v2.1.0 (computed): p50 {:.0f}  p99 {:.0f}  max {:.0f} ms\n", s.v21_gaps.pct(50),
             s.v21_gaps.pct(99), s.v21_gaps.max());
  fmt::print(
      "  {} -> first rack's write: p50 {:.1f} ms; last rack at rest -> Running/Done on the "
      "watch: p50 {:.1f} ms\n",
      creation ? "create" : "patch", s.first.pct(50), s.last.pct(50));
  fmt::print(
      "  a rack's own time, write -> at rest (kubesim's StatefulSet controller): p50 {:.1f}  "
      "max {:.1f} ms\n",
      s.rack.pct(50), s.rack.max());
  fmt::print(
      "  API requests by casskop per run: writes {:.0f} (max {:.0f}), reads {:.0f}; last run: "
      "{}\n",
      s.writes.pct(50), s.writes.max(), s.reads.pct(50), s.detail);
  if (!s.in_order) fmt::print("  !! a rack was written before the previous one was at rest\n");
}

void run_single(const options& o) {
  world w(o, fmt::format("one CassandraCluster of {} DC x {} racks x {} nodes, {} runs", o.dcs,
                         o.racks, o.nodes, o.runs)
                 .c_str());
  const auto racks = dc_racks(o.dcs, o.racks);
  phase_summary create, roll;
  for (int run = 1; run <= o.runs; ++run) {
    const std::string cc = fmt::format("bench{}", run);
    auto before = w.requests();
    time_point t0 = clock_type::now();
    must(w.api().send(http::verb::post, cc_path(), cc_json(cc, o.dcs, o.racks, o.nodes)),
         "create " + cc);
    phase_run a = measure_phase(w, cc, racks, t0, before, true, o.timeout_s);
    create.add(a, true);

    before = w.requests();
    t0 = clock_type::now();
    must(w.api().send(http::verb::patch, cc_path() + "/" + cc,
                      fmt::format(R"({{"spec":{{"cassandraImage":"{}"}}}})", new_image),
                      "application/merge-patch+json"),
         "patch " + cc);
    phase_run b = measure_phase(w, cc, racks, t0, before, false, o.timeout_s);
    roll.add(b, false);
    fmt::print(
        "  run {}: creation {:.2f} s ({:.0f} writes, {:.0f} reads), image roll {:.2f} s ({:.0f} "
        "writes, {:.0f} reads)\n",
        run, a.wall_ms / 1000.0, a.requests.writes, a.requests.reads, b.wall_ms / 1000.0,
        b.requests.writes, b.requests.reads);
  }
  const int n = static_cast<int>(racks.size());
  print_phase(fmt::format("(a) creation to Running, {} racks of {} nodes:", n, o.nodes).c_str(),
              create, n, true);
  print_phase(fmt::format("(b) image change rolled through {} racks:", n).c_str(), roll, n, false);
  fmt::print(
      "(c) CassKop v2.1.0's fixed waits for the same work (computed from its code and the rack "
      "times above, not run):\n"
      "  creation: a rack is seen Ready only on its 5 s requeue pass: per rack 5 s x ceil(R / 5 s)"
      " = {} x 5 s = {} s when racks are Ready within 5 s\n"
      "  image roll: per rack 1 s (UpdateStatefulSet's wait.Poll) + 5 s x max(4, ceil((R - 1 s) / "
      "5 s)),"
      " the 20 s DefaultDelayWait\n"
      "  on the 5 s requeue grid: {} x 21 s = {} s when racks roll within 21 s (at least {} x 20 s "
      "= "
      "{} s whatever the grid)\n",
      n, n * 5, n, n * 21, n, n * 20);
  w.print_problems();
}

// ---------------------------------------------------------------------------------------------
// Many clusters in one namespace.

void run_scale(const options& o) {
  world w(o, fmt::format("{} CassandraClusters of {} DC x {} racks x {} nodes in one namespace",
                         o.clusters, o.small_dcs, o.small_racks, o.small_nodes)
                 .c_str());
  // Idle before: connected, watching, nothing to do (the host gives back start-up memory once
  // quiet, within about 2 s).
  std::this_thread::sleep_for(std::chrono::seconds(4));
  proc_memory empty = memory_of(w.pid());
  double cpu0 = cpu_seconds(w.pid());
  auto before = w.requests();
  rss_sampler sampler(w.pid(), std::chrono::milliseconds(50));

  time_point t0 = clock_type::now();
  for (int i = 0; i < o.clusters; ++i)
    must(
        w.api().send(http::verb::post, cc_path(),
                     cc_json(fmt::format("small{}", i), o.small_dcs, o.small_racks, o.small_nodes)),
        "create a CassandraCluster");
  double create_s = ms(t0, clock_type::now()) / 1000.0;
  auto& rec = w.rec();
  std::vector<time_point> done(static_cast<size_t>(o.clusters));
  int n_done = 0;
  bool ok = rec.until(
      [&] {
        n_done = 0;
        for (int i = 0; i < o.clusters; ++i) {
          if (done[static_cast<size_t>(i)] != time_point{}) {
            ++n_done;
            continue;
          }
          if (auto d = rec.cc_done(fmt::format("small{}", i), t0, "Initializing")) {
            done[static_cast<size_t>(i)] = *d;
            ++n_done;
          }
        }
        return n_done == o.clusters;
      },
      std::chrono::seconds(o.timeout_s));
  time_point end = t0;
  stats per_cluster;
  for (const auto& d : done)
    if (d != time_point{}) {
      end = std::max(end, d);
      per_cluster.add(ms(t0, d));
    }
  double cpu_converge = cpu_seconds(w.pid()) - cpu0;
  // Quiet: no request for 2 s in a row, then 3 s more for the host to give memory back.
  auto converge_requests = w.requests();
  for (int quiet = 0, rounds = 0; quiet < 2 && rounds < 60; ++rounds) {
    std::this_thread::sleep_for(std::chrono::seconds(1));
    auto now = w.requests();
    quiet = now == converge_requests ? quiet + 1 : 0;
    converge_requests = now;
  }
  std::this_thread::sleep_for(std::chrono::seconds(3));
  long sampled_peak = sampler.finish();
  proc_memory idle = memory_of(w.pid());
  request_count converging = requests_between(before, converge_requests);

  // Once everything is Running: requests over a bounded window.
  auto window_start = w.requests();
  double cpu_w0 = cpu_seconds(w.pid());
  std::this_thread::sleep_for(std::chrono::seconds(o.window_s));
  request_count at_rest = requests_between(window_start, w.requests());
  double cpu_window = cpu_seconds(w.pid()) - cpu_w0;
  proc_memory after = memory_of(w.pid());

  fmt::print("(d) {} CassandraClusters ({} DC x {} racks x {} nodes) created in {:.2f} s\n",
             o.clusters, o.small_dcs, o.small_racks, o.small_nodes, create_s);
  fmt::print("  all Running/Done: {} of {} in {:.2f} s after the first create{}\n", n_done,
             o.clusters, ms(t0, end) / 1000.0, ok ? "" : " (TIMED OUT)");
  fmt::print("  per cluster create -> Running/Done: p50 {:.0f}  p99 {:.0f}  max {:.0f} ms\n",
             per_cluster.pct(50), per_cluster.pct(99), per_cluster.max());
  fmt::print(
      "  casskop CPU while converging: {:.2f} s; API requests: writes {:.0f}, reads {:.0f} "
      "({:.1f} writes per cluster): {}\n",
      cpu_converge, converging.writes, converging.reads,
      converging.writes / std::max(1, o.clusters), converging.detail);
  fmt::print(
      "  casskop RSS: peak {:.1f} MiB (VmHWM, or the 50 ms samples' max {:.1f} if higher); idle "
      "once quiet {:.1f} MiB (before any cluster {:.1f} MiB; after the window {:.1f} MiB)\n",
      std::max(idle.hwm_kib, sampled_peak) / 1024.0, sampled_peak / 1024.0, idle.rss_kib / 1024.0,
      empty.rss_kib / 1024.0, after.rss_kib / 1024.0);
  fmt::print(
      "  at rest, over {} s: {:.1f} reads/min, {:.1f} writes/min ({}); casskop CPU {:.3f} s\n",
      o.window_s, at_rest.reads * 60.0 / o.window_s, at_rest.writes * 60.0 / o.window_s,
      at_rest.detail, cpu_window);
  fmt::print(
      "  (v2.1.0 for comparison, computed: each cluster needs at least one 5 s requeue pass per "
      "rack to be Running, and at rest it runs {} passes/min (one per cluster every 5 s) "
      "forever)\n",
      o.clusters * 12);
  w.print_problems();
}

}  // namespace

int main(int argc, char** argv) {
  options o;
  try {
    arguments()
        .value("--dcs", o.dcs)
        .value("--racks", o.racks)
        .value("--nodes", o.nodes)
        .value("--runs", o.runs)
        .value("--pod-ready-delay-ms", o.pod_ready_ms)
        .value("--clusters", o.clusters)
        .value("--small-dcs", o.small_dcs)
        .value("--small-racks", o.small_racks)
        .value("--small-nodes", o.small_nodes)
        .value("--window-s", o.window_s)
        .value("--timeout-s", o.timeout_s)
        .value("--casskop-bin", o.casskop_bin)
        .flag("--insecure-http", o.tls, false)
        .flag("--skip-single", o.single, false)
        .flag("--skip-scale", o.scale, false)
        .flag("--keep-logs", o.keep_logs)
        .parse(argc, argv);
  } catch (const std::exception& e) {
    fmt::print(stderr,
               "casskop_bench: {}\nusage: casskop_bench [--dcs N] [--racks N] [--nodes N] "
               "[--runs N] [--pod-ready-delay-ms MS]\n"
               "         [--clusters N] [--small-dcs N] [--small-racks N] [--small-nodes N] "
               "[--window-s S] [--timeout-s S]\n"
               "         [--insecure-http] [--skip-single] [--skip-scale] [--casskop-bin PATH] "
               "[--keep-logs]\n",
               e.what());
    return 2;
  }
  if (o.dcs < 1 || o.racks < 1 || o.nodes < 1 || o.runs < 1 || o.clusters < 1 || o.small_dcs < 1 ||
      o.small_racks < 1 || o.small_nodes < 1 || o.window_s < 1) {
    fmt::print(stderr, "casskop_bench: sizes, runs and the window must be >= 1\n");
    return 2;
  }
  std::signal(SIGPIPE, SIG_IGN);
  fmt::print("casskop benchmark: {} hardware threads\n", std::thread::hardware_concurrency());
  try {
    if (o.single) run_single(o);
    if (o.scale) run_scale(o);
  } catch (const std::exception& e) {
    fmt::print(stderr, "casskop_bench: {}\n", e.what());
    return 1;
  }
  return 0;
}
