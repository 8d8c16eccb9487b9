// multi-casskop benchmark: region hand-off latency and a scale run. Prints figures; never fails
// on them (exit 0 unless the setup itself breaks).
//
//   build/tests/multicasskop_bench [--runs N] [--handoff-regions R] [--warmup N]
//                                  [--multicasskops N] [--regions R] [--clients C]
//                                  [--casskop-delay-ms D] [--timeout-s S] [--insecure-http]
//                                  [--casskop-flavor v2.1.0|observed-generation]
//                                  [--skip-handoff] [--skip-scale] [--operator-log FILE]
//                                  [--operator-env NAME=VALUE ...] [--hold-s S]
//
// Both parts start their own kubesim (from this build; HTTPS unless --insecure-http) and their
// own multi-casskop (this build's), and stop both at the end.
//
// Hand-off: kubesim runs WITHOUT its CassKop stand-in; the benchmark plays CassKop. For each run
// it creates a MultiCasskop, waits for region k's CassandraCluster (and its seed list) on a watch
// it holds open on every cluster, then writes what CassKop v2.1.0 writes once a cluster is up:
// status Running/Done and its last-applied-configuration record of the current spec, in the
// object (one merge patch; the CRD has no status subresource) and measures until region k+1's
// CassandraCluster shows up:
//   t0  just before the benchmark sends the status write,
//   ta  kubesim receives that write      (KUBESIM_TRACE line, read from kubesim's stderr pipe),
//   tl  the operator logs "Create CassandraCluster" for region k+1 (its stderr pipe),
//   tb  kubesim receives region k+1's create (KUBESIM_TRACE line),
//   tc  the ADDED event arrives on the benchmark's watch of cluster k+1.
// The hand-off figure is t0 -> tb (arrival at kubesim); t0 -> tc (watch) is printed too, and
// the pieces in between, so the benchmark's own share (t0 -> ta, tb -> tc) is visible.
//
// Scale: kubesim with the CassKop v2.1.0 stand-in on every cluster (a rack's pods ready after
// --casskop-delay-ms, its own 5 s requeue scaled to 1 s), N
// MultiCasskops over all regions created by C keep-alive clients; the time until every one
// reports Ready True (a watch on MultiCasskops, checked at the end with a paged list), and the
// operator's memory: VmRSS sampled every 50 ms, VmHWM at the end; kubesim's for reference.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <deque>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "k8s/json/json.h"
#include "k8s/json/yaml_json.h"
#include "tests/bench/bench_http.h"
#include "tests/bench/bench_proc.h"
#include "tests/bench/bench_watch.h"
#include "tests/support/kubesim_fixture.h"

using namespace bench;
namespace js = k8s::json;

namespace {

const std::string ns = "bench";
const time_point bench_start = clock_type::now();

std::string cluster_name(int i) {
  return fmt::format("k8s-cluster{}", i + 1);
}

std::vector<std::string> cluster_names(int regions) {
  std::vector<std::string> names;
  for (int i = 0; i < regions; ++i) names.push_back(cluster_name(i));
  return names;
}

// ---------------------------------------------------------------------------------------------
// Lines a child writes to a pipe, timestamped as they are read.

struct timed_line {
  time_point at;
  std::string text;
};

class line_collector {
 public:
  using filter = std::function<bool(const std::string&)>;
  // Reads `fd` until EOF. Lines for which `keep` is true are kept in memory (with their arrival
  // time), the others are written to `forward_fd` if >= 0; every line goes to `log` if open.
  line_collector(int fd, filter keep, int forward_fd, const std::string& log_file)
      : fd_(fd), keep_(std::move(keep)), forward_fd_(forward_fd) {
    if (!log_file.empty()) log_.open(log_file);
    thread_ = std::thread([this] { run(); });
  }
  ~line_collector() {
    if (thread_.joinable()) thread_.join();
    close(fd_);
  }
  void join() {
    if (thread_.joinable()) thread_.join();
  }
  // The first kept line at index >= from that matches pred; waits up to `timeout`.
  template <class P>
  std::optional<timed_line> find(P&& pred, std::chrono::milliseconds timeout,
                                 size_t* from = nullptr) {
    std::unique_lock lock(mutex_);
    auto deadline = clock_type::now() + timeout;
    size_t i = from ? *from : 0;
    for (;;) {
      for (; i < lines_.size(); ++i)
        if (pred(lines_[i])) {
          if (from) *from = i + 1;
          return lines_[i];
        }
      if (eof_ || cv_.wait_until(lock, deadline) == std::cv_status::timeout) {
        for (; i < lines_.size(); ++i)
          if (pred(lines_[i])) {
            if (from) *from = i + 1;
            return lines_[i];
          }
        return std::nullopt;
      }
    }
  }
  size_t size() {
    std::lock_guard lock(mutex_);
    return lines_.size();
  }
  size_t total() const { return total_; }

 private:
  void run() {
    char buf[65536];
    std::string partial;
    for (;;) {
      ssize_t n = ::read(fd_, buf, sizeof buf);
      time_point at = clock_type::now();
      if (n <= 0) break;
      partial.append(buf, static_cast<size_t>(n));
      size_t start = 0, nl;
      std::vector<timed_line> kept;
      while ((nl = partial.find('\n', start)) != std::string::npos) {
        std::string line = partial.substr(start, nl - start);
        start = nl + 1;
        ++total_;
        if (log_) log_ << fmt::format("{:.3f} ", ms(bench_start, at)) << line << '\n';
        if (keep_(line)) {
          kept.push_back({at, std::move(line)});
        } else if (forward_fd_ >= 0) {
          line += '\n';
          ssize_t ignored = ::write(forward_fd_, line.data(), line.size());
          (void)ignored;
        }
      }
      partial.erase(0, start);
      if (!kept.empty()) {
        std::lock_guard lock(mutex_);
        for (auto& k : kept) lines_.push_back(std::move(k));
        cv_.notify_all();
      }
    }
    std::lock_guard lock(mutex_);
    eof_ = true;
    cv_.notify_all();
  }

  int fd_;
  filter keep_;
  int forward_fd_;
  std::ofstream log_;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<timed_line> lines_;
  std::atomic<size_t> total_{0};
  bool eof_ = false;
};

// kubesim (through the test fixture) with its stderr in a pipe, optionally with KUBESIM_TRACE:
// request lines ("kubesim CLUSTER METHOD TARGET ...") are kept with their arrival time.
class traced_kubesim {
 public:
  traced_kubesim(std::vector<std::string> clusters, std::vector<std::string> args, bool trace) {
    int p[2];
    if (pipe(p)) throw std::runtime_error("pipe failed");
    int original_stderr = dup(2);
    forward_fd_ = original_stderr;
    lines_ = std::make_unique<line_collector>(
        p[0], [](const std::string& l) { return l.rfind("kubesim k8s-", 0) == 0; }, forward_fd_,
        "");
    if (trace) setenv("KUBESIM_TRACE", "1", 1);
    dup2(p[1], 2);  // the child inherits fd 2: kubesim's stderr goes to the pipe
    try {
      sim_ = std::make_unique<testsupport::kubesim_instance>(clusters, args);
    } catch (...) {
      dup2(original_stderr, 2);
      close(p[1]);
      unsetenv("KUBESIM_TRACE");
      throw;
    }
    dup2(original_stderr, 2);
    close(p[1]);
    unsetenv("KUBESIM_TRACE");
  }
  ~traced_kubesim() {
    sim_.reset();  // SIGTERM: the pipe reaches EOF
    lines_->join();
    lines_.reset();
    close(forward_fd_);
  }
  testsupport::kubesim_instance& sim() { return *sim_; }
  line_collector& trace() { return *lines_; }
  pid_t pid() { return sim_->process().pid(); }

 private:
  int forward_fd_ = -1;
  std::unique_ptr<line_collector> lines_;
  std::unique_ptr<testsupport::kubesim_instance> sim_;
};

// ---------------------------------------------------------------------------------------------
// The operator process.

class operator_process {
 public:
  // Extra environment for the operator only (e.g. LD_PRELOAD of a heap profiler).
  static inline std::vector<std::string> extra_env;

  operator_process(const std::string& config_file, const std::string& log_file) {
    int p[2];
    if (pipe(p)) throw std::runtime_error("pipe failed");
    pid_ = fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      int devnull = open("/dev/null", O_RDONLY);
      dup2(devnull, 0);
      dup2(p[1], 1);
      dup2(p[1], 2);
      for (int fd = 3; fd < 1024; ++fd) close(fd);
      for (const auto& kv : extra_env) putenv(const_cast<char*>(kv.c_str()));
      execl(MULTICASSKOP_BIN, MULTICASSKOP_BIN, "--config", config_file.c_str(), nullptr);
      _exit(127);
    }
    close(p[1]);
    lines_ = std::make_unique<line_collector>(
        p[0],
        [](const std::string& l) {
          return l.find("msg=\"Create CassandraCluster\"") != std::string::npos ||
                 l.find("msg=\"Cluster reachable") != std::string::npos ||
                 l.find("level=error") != std::string::npos ||
                 l.find("level=warning") != std::string::npos;
        },
        -1, log_file);
  }
  ~operator_process() { stop(); }
  int stop() {
    if (reaped_) return exit_code_;
    kill(pid_, SIGTERM);
    auto deadline = clock_type::now() + std::chrono::seconds(15);
    int status = 0;
    while (clock_type::now() < deadline) {
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        reaped_ = true;
        exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (!reaped_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, &status, 0);
      reaped_ = true;
      exit_code_ = -1;
    }
    lines_->join();
    return exit_code_;
  }
  bool running() {
    if (reaped_) return false;
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      reaped_ = true;
      exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      return false;
    }
    return true;
  }
  pid_t pid() const { return pid_; }
  line_collector& log() { return *lines_; }

 private:
  pid_t pid_ = -1;
  bool reaped_ = false;
  int exit_code_ = -1;
  std::unique_ptr<line_collector> lines_;
};

// Waits until the operator has logged every region's cluster reachable.
void wait_until_reachable(operator_process& op, int regions) {
  for (int i = 0; i < regions; ++i) {
    std::string want = "kubernetes=" + cluster_name(i);
    if (!op.log().find(
            [&](const timed_line& l) {
              return l.text.find("Cluster reachable") != std::string::npos &&
                     l.text.find(want) != std::string::npos;
            },
            std::chrono::seconds(30)))
      throw std::runtime_error("the operator never reported " + cluster_name(i) + " reachable");
  }
}

// ---------------------------------------------------------------------------------------------
// Where the operator's bytes go: its /metrics (watch cache sizes, the malloc heap, journal) and
// /actors (actor counts), read from its admin endpoint, beside VmRSS.

// Heap bytes per actor and per journal summary, measured once with heaptrack at 1000x4 (a deployer
// actor with its state, mailbox and the supervisor's entry for it; a summary string in its deque).
constexpr double bytes_per_actor = 3.8 * 1024;
constexpr double bytes_per_journal_summary = 120;

struct memory_view {
  bool ok = false;
  std::map<std::string, double> series;  // `name{labels}` -> value, for the families we read
  std::map<std::string, int> actors;     // role -> count
  proc_memory proc;
  long rss_kib = 0;
  double heap(const std::string& kind) const {
    auto it = series.find("process_heap_bytes{kind=\"" + kind + "\"}");
    return it == series.end() ? 0 : it->second;
  }
  // Sum of the series of a family whose name ends with `suffix`.
  double sum(const std::string& suffix) const {
    double t = 0;
    for (const auto& [k, v] : series) {
      std::string name = k.substr(0, k.find('{'));
      if (name.size() >= suffix.size() &&
          name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0)
        t += v;
    }
    return t;
  }
};

memory_view read_memory_view(pid_t pid, const std::string& admin_port) {
  memory_view m;
  m.proc = memory_of(pid);
  m.rss_kib = m.proc.rss_kib;
  try {
    target t;
    t.port = admin_port;
    connection c(t);
    auto r = c.send(http::verb::get, "/metrics");
    if (r.status != 200) return m;
    size_t at = 0;
    while (at < r.body.size()) {
      size_t end = r.body.find('\n', at);
      if (end == std::string::npos) end = r.body.size();
      std::string line = r.body.substr(at, end - at);
      at = end + 1;
      if (line.empty() || line[0] == '#') continue;
      if (line.rfind("operator_cache_", 0) != 0 && line.rfind("process_heap_bytes", 0) != 0 &&
          line.find("journal_events") == std::string::npos &&
          line.rfind("operator_watch_re", 0) != 0 &&
          line.rfind("operator_client_buffer_bytes", 0) != 0)
        continue;
      size_t sp = line.rfind(' ');
      if (sp == std::string::npos) continue;
      m.series[line.substr(0, sp)] = std::atof(line.c_str() + sp + 1);
    }
    auto a = c.send(http::verb::get, "/actors");
    if (a.status == 200) {
      auto d = js::parse(a.body);
      if (d.IsArray())
        for (const auto& v : d.GetArray()) ++m.actors[std::string(js::get_string(v, "role"))];
    }
    m.ok = true;
  } catch (const std::exception&) {
  }
  return m;
}

double mib(double bytes) {
  return bytes / (1024.0 * 1024.0);
}

void print_memory_view(const char* when, const memory_view& m) {
  if (!m.ok) {
    fmt::print("  memory breakdown {}: the admin endpoint did not answer\n", when);
    return;
  }
  const double in_use = m.heap("in_use"), held = m.heap("arena") + m.heap("mmap");
  fmt::print("  memory breakdown {} (VmRSS {:.1f} MiB):\n", when, m.rss_kib / 1024.0);
  fmt::print(
      "    malloc heap: {:.1f} MiB held (arenas {:.1f} + mmap {:.1f}): {:.1f} in use, {:.1f} free "
      "in malloc\n",
      mib(held), mib(m.heap("arena")), mib(m.heap("mmap")), mib(in_use), mib(m.heap("free")));
  fmt::print(
      "    outside the heap (code, libraries, stacks): {:.1f} MiB; VmRSS file-backed (code, "
      "libraries) {:.1f} MiB, anonymous {:.1f} MiB\n",
      std::max(0.0, m.rss_kib / 1024.0 - mib(held)), m.proc.file_kib / 1024.0,
      m.proc.anon_kib / 1024.0);
  double caches = 0;
  std::string per;
  for (const auto& [k, v] : m.series)
    if (k.rfind("operator_cache_bytes", 0) == 0) {
      caches += v;
      std::string objects =
          "operator_cache_objects" + k.substr(std::string("operator_cache_bytes").size());
      auto o = m.series.find(objects);
      auto label = [&](const char* name) {
        size_t p = k.find(std::string(name) + "=\"");
        if (p == std::string::npos) return std::string();
        p += std::string(name).size() + 2;
        return k.substr(p, k.find('"', p) - p);
      };
      per += fmt::format("      {} {}: {:.0f} objects, {:.2f} MiB\n", label("cluster"),
                         label("resource"), o == m.series.end() ? 0.0 : o->second, mib(v));
    }
  fmt::print("    watch caches (trimmed objects): {:.2f} MiB\n{}", mib(caches), per);
  // Each relist holds a whole list response and its parse at once: the usual cause of a burst.
  fmt::print("    watches so far: {:.0f} relists, {:.0f} restarts\n",
             m.sum("operator_watch_relists_total"), m.sum("operator_watch_restarts_total"));
  auto buffer = [&](const char* kind) {
    auto it = m.series.find(fmt::format("operator_client_buffer_bytes{{kind=\"{}\"}}", kind));
    return it == m.series.end() ? 0.0 : it->second;
  };
  const double unread = buffer("watch_unread"), queued = buffer("queued_request");
  fmt::print(
      "    client buffers: watch responses received, not yet decoded {:.2f} MiB; request bodies "
      "waiting for a connection {:.2f} MiB\n",
      mib(unread), mib(queued));
  const double journal = m.sum("journal_events");
  fmt::print("    journal in memory: {:.0f} summaries, ~{:.2f} MiB (~{:.0f} B each)\n", journal,
             mib(journal * bytes_per_journal_summary), bytes_per_journal_summary);
  int actors = 0;
  std::string roles;
  for (const auto& [role, n] : m.actors) {
    actors += n;
    roles += fmt::format("{}{} {}", roles.empty() ? "" : ", ", n, role);
  }
  fmt::print("    actors: {} ({}), ~{:.2f} MiB (~{:.1f} KiB each)\n", actors, roles,
             mib(actors * bytes_per_actor), bytes_per_actor / 1024);
  fmt::print(
      "    rest of the heap in use (state machine, mailboxes, client buffers, in-flight objects): "
      "{:.1f} MiB\n",
      std::max(0.0, mib(in_use - caches - unread - queued - journal * bytes_per_journal_summary -
                        actors * bytes_per_actor)));
}

std::string write_operator_config(const std::string& dir, const testsupport::kubesim_instance& sim,
                                  int regions, const std::string& log_level) {
  std::string y = fmt::format("namespace: {}\nlog:\n  level: {}\nclusters:\n", ns, log_level);
  for (int i = 0; i < regions; ++i)
    y += fmt::format("- name: {}\n  kubeconfig: {}\n  context: {}\n", cluster_name(i),
                     sim.kubeconfig(cluster_name(i)), cluster_name(i));
  std::string path = dir + "/multi-casskop.yaml";
  testsupport::write_file(path, y);
  return path;
}

// ---------------------------------------------------------------------------------------------
// Objects.

// Installs both CRDs and the namespace in every cluster; returns where each cluster listens.
std::vector<target> install(const testsupport::kubesim_instance& sim,
                            const std::vector<std::string>& clusters) {
  std::vector<target> targets;
  for (const auto& cluster : clusters) {
    targets.push_back(target_of(sim, cluster));
    connection c(targets.back());
    for (const char* crd :
         {"db.orange.com_cassandraclusters.yaml", "db.orange.com_multicasskops.yaml"}) {
      auto doc =
          js::yaml_to_json(testsupport::read_file(std::string(REPO_DIR) + "/deploy/crds/" + crd));
      must(c.send(http::verb::post, "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
                  js::to_string(doc)),
           std::string("create CRD ") + crd);
    }
    must(c.send(http::verb::post, "/api/v1/namespaces",
                fmt::format(
                    R"({{"apiVersion":"v1","kind":"Namespace","metadata":{{"name":"{}"}}}})", ns)),
         "create namespace");
    for (const char* plural : {"cassandraclusters", "multicasskops"}) {
      auto deadline = clock_type::now() + std::chrono::seconds(10);
      while (c.send(http::verb::get,
                    fmt::format("/apis/db.orange.com/v2/namespaces/{}/{}?limit=1", ns, plural))
                 .status != 200) {
        if (clock_type::now() > deadline)
          throw std::runtime_error(std::string(plural) + " never served");
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    }
  }
  return targets;
}

std::string list_rv(connection& c, const std::string& plural) {
  auto r = must(c.send(http::verb::get,
                       fmt::format("/apis/db.orange.com/v2/namespaces/{}/{}?limit=1", ns, plural)),
                "list " + plural);
  auto d = js::parse(r.body);
  return std::string(js::get_string(d, {"metadata", "resourceVersion"}));
}

std::string watch_path(const std::string& plural, const std::string& rv) {
  return fmt::format("/apis/db.orange.com/v2/namespaces/{}/{}?watch=true&resourceVersion={}", ns,
                     plural, rv);
}

// A MultiCasskop like deploy/samples/multi-casskop.yaml: base CassandraCluster with a given
// seed list, one DC (two racks, two nodes each) per region.
std::string multicasskop(const std::string& name, const std::string& cc, int regions) {
  std::string seeds, overrides;
  for (int i = 0; i < regions; ++i) {
    seeds += fmt::format(
        R"({sep}"{cc}-dc{n}-rack1-0.my.zone.dns.net","{cc}-dc{n}-rack1-1.my.zone.dns.net")",
        fmt::arg("sep", i ? "," : ""), fmt::arg("cc", cc), fmt::arg("n", i + 1));
    overrides += fmt::format(
        R"({sep}"{cluster}":{{"spec":{{"pod":{{"annotations":{{"cni.projectcalico.org/ipv4pools":"[\"routable\"]"}}}},)"
        R"("topology":{{"dc":[{{"name":"dc{n}","nodesPerRacks":2,"config":{{"cassandra-yaml":{{"num_tokens":32}}}},)"
        R"("rack":[{{"name":"rack1"}},{{"name":"rack2"}}]}}]}}}}}})",
        fmt::arg("sep", i ? "," : ""), fmt::arg("cluster", cluster_name(i)), fmt::arg("n", i + 1));
  }
  return fmt::format(
      R"({{"apiVersion":"db.orange.com/v2","kind":"MultiCasskop","metadata":{{"name":"{name}","namespace":"{ns}"}},)"
      R"("spec":{{"deleteCassandraCluster":true,"base":{{"apiVersion":"db.orange.com/v2","kind":"CassandraCluster",)"
      R"("metadata":{{"name":"{cc}","namespace":"{ns}","labels":{{"cluster":"casskop"}}}},)"
      R"("spec":{{"cassandraImage":"cassandra:3.11.10","bootstrapImage":"orangeopensource/cassandra-bootstrap:0.1.9",)"
      R"("configBuilderImage":"datastax/cass-config-builder:1.0.4","imagepullpolicy":"Always",)"
      R"("service":{{"annotations":{{"external-dns.alpha.kubernetes.io/hostname":"my.zone.dns.net."}}}},)"
      R"("dataCapacity":"20Gi","dataStorageClass":"local-storage","hardAntiAffinity":true,"deletePVC":true,)"
      R"("autoPilot":true,"autoUpdateSeedList":false,"maxPodUnavailable":1,"nodesPerRacks":1,"runAsUser":999,)"
      R"("fsGroup":1,"resources":{{"requests":{{"cpu":"1","memory":"4Gi"}},"limits":{{"cpu":"2","memory":"4Gi"}}}}}},)"
      R"("status":{{"seedlist":[{seeds}]}}}},"override":{{{overrides}}}}}}})",
      fmt::arg("name", name), fmt::arg("ns", ns), fmt::arg("cc", cc), fmt::arg("seeds", seeds),
      fmt::arg("overrides", overrides));
}

bool has_seedlist(const js::Value& cc) {
  const js::Value* s = js::find_path(cc, {"status", "seedlist"});
  return s && s->IsArray() && !s->Empty();
}

// ---------------------------------------------------------------------------------------------
// Figures.

// Warnings and errors the operator logged (kept by its line collector), summarized.
void print_operator_problems(operator_process& op) {
  size_t n = 0;
  std::string first;
  size_t from = 0;
  while (auto l = op.log().find(
             [](const timed_line& t) {
               return t.text.find("level=error") != std::string::npos ||
                      t.text.find("level=warning") != std::string::npos;
             },
             std::chrono::milliseconds(0), &from)) {
    if (n++ == 0) first = l->text;
  }
  if (n)
    fmt::print("  operator logged {} warning/error line(s), first: {}\n", n, first.substr(0, 300));
}

// ---------------------------------------------------------------------------------------------
// Hand-off latency.

void run_handoff(int runs, int warmup, int regions, bool tls, int gap_ms,
                 const std::string& log_file) {
  const std::vector<std::string> clusters = cluster_names(regions);
  std::vector<std::string> args = {"--history", "100000"};
  if (!tls) args.push_back("--insecure-http");
  traced_kubesim ks(clusters, args, true);
  auto& sim = ks.sim();
  const std::vector<target> targets = install(sim, clusters);

  watch_hub hub;
  std::vector<size_t> watches;
  std::vector<std::unique_ptr<connection>> conns;
  for (int i = 0; i < regions; ++i) {
    conns.push_back(std::make_unique<connection>(targets[i]));
    watches.push_back(hub.open(
        targets[i], watch_path("cassandraclusters", list_rv(*conns[i], "cassandraclusters"))));
  }

  operator_process op(write_operator_config(sim.state_dir(), sim, regions, "info"), log_file);
  wait_until_reachable(op, regions);

  fmt::print(
      "hand-off latency: {} regions, {} runs (+{} warm-up), {}, CassKop played by the benchmark\n",
      regions, runs, warmup, tls ? "HTTPS" : "HTTP");
  stats total_kubesim, total_watch, bench_send, op_decide, op_send, kubesim_to_watch, op_total,
      write_rtt;
  size_t trace_from = 0, log_from = 0;
  int missing = 0;
  const auto timeout = std::chrono::seconds(10);
  for (int run = 0; run < warmup + runs; ++run) {
    const bool counted = run >= warmup;
    std::string name = fmt::format("mc-{}", run), cc = fmt::format("cc-{}", run);
    must(conns[0]->send(http::verb::post,
                        fmt::format("/apis/db.orange.com/v2/namespaces/{}/multicasskops", ns),
                        multicasskop(name, cc, regions)),
         "create MultiCasskop");
    for (int k = 0; k + 1 < regions; ++k) {
      // Region k's CassandraCluster, with the seed list the operator writes after creating it.
      auto ready_to_set = hub.wait(
          watches[k],
          [&](const watch_event& e) { return e.name() == cc && has_seedlist(*e.object); }, timeout);
      if (!ready_to_set)
        throw std::runtime_error(fmt::format("{} never appeared in {}", cc, clusters[k]));
      js::Document record(rapidjson::kObjectType);
      record.AddMember("spec", js::Value((*ready_to_set->object)["spec"], record.GetAllocator()),
                       record.GetAllocator());
      js::Document patch_doc = js::parse(
          R"({"metadata":{"annotations":{}},"status":{"phase":"Running","lastClusterAction":"Initializing","lastClusterActionStatus":"Done"}})");
      js::set_string(patch_doc["metadata"]["annotations"],
                     "cassandraclusters.db.orange.com/last-applied-configuration",
                     js::to_string(record), patch_doc.GetAllocator());
      std::string patch = js::to_string(patch_doc);
      std::string path =
          fmt::format("/apis/db.orange.com/v2/namespaces/{}/cassandraclusters/{}", ns, cc);
      time_point t0 = clock_type::now();
      must(conns[k]->send(http::verb::patch, path, patch, "application/merge-patch+json"),
           "status write");
      time_point t_reply = clock_type::now();
      auto created = hub.wait(
          watches[k + 1], [&](const watch_event& e) { return e.type == "ADDED" && e.name() == cc; },
          timeout);
      if (!created)
        throw std::runtime_error(fmt::format("{} never created in {}", cc, clusters[k + 1]));
      time_point tc = created->at;
      // kubesim's trace: our status write, then the create in region k+1.
      std::string patch_line = fmt::format("kubesim {} PATCH {} ", clusters[k], path);
      auto ta =
          ks.trace().find([&](const timed_line& l) { return l.text.rfind(patch_line, 0) == 0; },
                          timeout, &trace_from);
      std::string create_line =
          fmt::format("kubesim {} POST /apis/db.orange.com/v2/namespaces/{}/cassandraclusters",
                      clusters[k + 1], ns);
      size_t after_patch = trace_from;
      auto tb =
          ks.trace().find([&](const timed_line& l) { return l.text.rfind(create_line, 0) == 0; },
                          timeout, &after_patch);
      std::string log_key = fmt::format("cluster={} kubernetes={} ", cc, clusters[k + 1]);
      auto tl = op.log().find(
          [&](const timed_line& l) {
            return l.text.find("Create CassandraCluster") != std::string::npos &&
                   l.text.find(log_key) != std::string::npos;
          },
          timeout, &log_from);
      if (!ta || !tb || !tl) {
        ++missing;
        continue;
      }
      trace_from = after_patch;
      if (!counted) continue;
      total_kubesim.add(ms(t0, tb->at));
      total_watch.add(ms(t0, tc));
      write_rtt.add(ms(t0, t_reply));
      bench_send.add(ms(t0, ta->at));
      op_total.add(ms(ta->at, tb->at));
      op_decide.add(ms(ta->at, tl->at));
      op_send.add(ms(tl->at, tb->at));
      kubesim_to_watch.add(ms(tb->at, tc));
    }
    if (gap_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(gap_ms));
  }
  fmt::print(
      "  hand-off = from t0 (just before the benchmark sends region k's status write) to region "
      "k+1's\n"
      "  create; {} hand-offs measured\n",
      total_kubesim.v.size());
  print_stats("HAND-OFF t0 -> create arrives at kubesim", total_kubesim);
  print_stats("hand-off t0 -> ADDED on the benchmark's watch", total_watch);
  fmt::print("  of which:\n");
  print_stats("benchmark: t0 -> status write at kubesim", bench_send);
  print_stats("operator+kubesim: status write -> create (ta->tb)", op_total);
  print_stats("  status write -> operator logs Create", op_decide);
  print_stats("  operator logs Create -> create at kubesim", op_send);
  print_stats("kubesim+benchmark: create -> ADDED on watch", kubesim_to_watch);
  print_stats("(benchmark's status write round trip)", write_rtt);
  if (missing) fmt::print("  ({} hand-offs without a trace or log line, left out)\n", missing);
  fmt::print("  operator: VmHWM {:.1f} MiB, CPU {:.2f} s\n", memory_of(op.pid()).hwm_kib / 1024.0,
             cpu_seconds(op.pid()));
  print_operator_problems(op);
  int code = op.stop();
  if (code != 0) fmt::print("  (the operator exited with {})\n", code);
}

// ---------------------------------------------------------------------------------------------
// Scale run.

void run_scale(int count, int regions, int clients, int delay_ms, int timeout_s, bool tls,
               const std::string& log_file, int hold_s, const std::string& flavor) {
  const std::vector<std::string> clusters = cluster_names(regions);
  std::vector<std::string> args = {"--history",
                                   "1000000",
                                   "--simulate-casskop",
                                   "--casskop-delay-ms",
                                   std::to_string(delay_ms),
                                   "--casskop-time-scale",
                                   "0.2",
                                   "--casskop-flavor",
                                   flavor};
  if (!tls) args.push_back("--insecure-http");
  traced_kubesim ks(clusters, args, false);
  auto& sim = ks.sim();
  const std::vector<target> targets = install(sim, clusters);
  connection c1(targets[0]);

  const std::string admin_port = "8090";  // the operator's default admin address, 127.0.0.1:8090
  operator_process op(write_operator_config(sim.state_dir(), sim, regions, "info"), log_file);
  wait_until_reachable(op, regions);
  // Idle: connected, watching, nothing to do, once start-up is over (the operator gives back
  // what start-up alone used when it goes quiet, within about 2 s).
  std::this_thread::sleep_for(std::chrono::seconds(4));
  proc_memory idle = memory_of(op.pid());
  memory_view idle_view = read_memory_view(op.pid(), admin_port);
  fmt::print(
      "scale run: {} MultiCasskops over {} regions, CassKop stand-in {} with delay {} ms, {} "
      "creating clients, {}\n",
      count, regions, flavor, delay_ms, clients, tls ? "HTTPS" : "HTTP");
  fmt::print("  operator idle (connected, watching): VmRSS {:.1f} MiB\n", idle.rss_kib / 1024.0);
  print_memory_view("idle", idle_view);

  // Ready MultiCasskops, from a watch held from before the first create. Only status writes
  // that can say Ready True are parsed.
  watch_hub hub;
  size_t w = hub.open(
      targets[0], watch_path("multicasskops", list_rv(c1, "multicasskops")),
      [](std::string_view line) { return line.find("AllRegionsReady") != std::string_view::npos; });
  rss_sampler op_rss(op.pid(), std::chrono::milliseconds(50));
  rss_sampler sim_rss(ks.pid(), std::chrono::milliseconds(50));
  double op_cpu0 = cpu_seconds(op.pid()), sim_cpu0 = cpu_seconds(ks.pid());

  std::vector<time_point> created_at(static_cast<size_t>(count));
  std::atomic<int> next{0}, failures{0};
  time_point start = clock_type::now();
  std::vector<std::thread> creators;
  for (int c = 0; c < clients; ++c)
    creators.emplace_back([&] {
      connection conn(targets[0]);
      for (int i; (i = next++) < count;) {
        created_at[static_cast<size_t>(i)] = clock_type::now();
        auto r = conn.send(http::verb::post,
                           fmt::format("/apis/db.orange.com/v2/namespaces/{}/multicasskops", ns),
                           multicasskop(fmt::format("mc-{}", i), fmt::format("cc-{}", i), regions));
        if (r.status != 201) ++failures;
      }
    });
  for (auto& t : creators) t.join();
  double create_secs = seconds_since(start);
  fmt::print("  created {} MultiCasskops in {:.2f} s ({:.0f}/s){}\n", count, create_secs,
             count / create_secs, failures ? fmt::format(", {} failed", failures.load()) : "");

  std::map<std::string, time_point> ready_at;
  stats per_mc;
  auto deadline = start + std::chrono::seconds(timeout_s);
  auto next_progress = clock_type::now() + std::chrono::seconds(10);
  time_point half{}, ninety{};
  // The breakdown at the largest RSS seen, read every second while converging.
  memory_view peak_view;
  auto next_view = clock_type::now();
  while (static_cast<int>(ready_at.size()) < count && clock_type::now() < deadline) {
    if (clock_type::now() >= next_view) {
      next_view += std::chrono::seconds(1);
      if (long rss = memory_of(op.pid()).rss_kib; rss > peak_view.rss_kib) {
        memory_view v = read_memory_view(op.pid(), admin_port);
        if (v.ok) peak_view = std::move(v);
      }
    }
    auto e = hub.wait(
        w,
        [](const watch_event& ev) {
          const js::Value* conds = js::find_path(*ev.object, {"status", "conditions"});
          if (!conds || !conds->IsArray()) return false;
          for (const auto& c : conds->GetArray())
            if (js::get_string(c, "type") == "Ready") return js::get_string(c, "status") == "True";
          return false;
        },
        std::chrono::milliseconds(500));
    if (e) {
      std::string name = e->name();
      if (ready_at.emplace(name, e->at).second) {
        int i = std::atoi(name.c_str() + 3);
        if (i >= 0 && i < count) per_mc.add(ms(created_at[static_cast<size_t>(i)], e->at));
        if (static_cast<int>(ready_at.size()) == (count + 1) / 2) half = e->at;
        if (static_cast<int>(ready_at.size()) == (count * 9 + 9) / 10) ninety = e->at;
      }
    }
    if (hub.ended(w)) {
      fmt::print("  (the MultiCasskop watch ended early)\n");
      break;
    }
    if (clock_type::now() > next_progress) {
      fmt::print(stderr, "  ... {} of {} Ready after {:.0f} s, operator VmRSS {:.1f} MiB\n",
                 ready_at.size(), count, seconds_since(start),
                 memory_of(op.pid()).rss_kib / 1024.0);
      next_progress += std::chrono::seconds(10);
    }
  }
  time_point end = clock_type::now();
  if (!ready_at.empty()) {
    end = start;
    for (auto& [n, t] : ready_at) end = std::max(end, t);
  }
  long op_max_rss = op_rss.finish(), sim_max_rss = sim_rss.finish();
  memory_view done_view = read_memory_view(op.pid(), admin_port);
  proc_memory op_mem = memory_of(op.pid()), sim_mem = memory_of(ks.pid());
  double op_cpu = cpu_seconds(op.pid()) - op_cpu0, sim_cpu = cpu_seconds(ks.pid()) - sim_cpu0;

  // Check with a paged list, as a client would.
  int listed = 0, listed_ready = 0, pages = 0;
  std::string cont;
  do {
    std::string path =
        fmt::format("/apis/db.orange.com/v2/namespaces/{}/multicasskops?limit=200", ns);
    if (!cont.empty()) path += "&continue=" + cont;
    auto d = js::parse(must(c1.send(http::verb::get, path), "list MultiCasskops").body);
    ++pages;
    if (const js::Value* items = js::find(d, "items"); items && items->IsArray())
      for (const auto& it : items->GetArray()) {
        ++listed;
        if (const js::Value* conds = js::find_path(it, {"status", "conditions"});
            conds && conds->IsArray())
          for (const auto& c : conds->GetArray())
            if (js::get_string(c, "type") == "Ready" && js::get_string(c, "status") == "True")
              ++listed_ready;
      }
    cont = std::string(js::get_string(d, {"metadata", "continue"}));
  } while (!cont.empty());

  bool all = static_cast<int>(ready_at.size()) == count;
  fmt::print("  CONVERGED: {} of {} Ready True {} {:.2f} s after the first create{}\n",
             ready_at.size(), count, all ? "in" : "(TIMED OUT) after", ms(start, end) / 1000.0,
             all ? "" : fmt::format(" (timeout {} s)", timeout_s));
  if (half != time_point{})
    fmt::print("  50% Ready at {:.2f} s, 90% at {:.2f} s\n", ms(start, half) / 1000.0,
               ninety != time_point{} ? ms(start, ninety) / 1000.0 : 0.0);
  print_stats("per MultiCasskop: create -> Ready True", per_mc);
  fmt::print("  minimum possible per MultiCasskop: {} regions x {} ms CassKop delay = {} ms\n",
             regions, delay_ms, regions * delay_ms);
  fmt::print("  paged list (limit 200, {} pages): {} MultiCasskops, {} Ready True\n", pages, listed,
             listed_ready);
  fmt::print(
      "  OPERATOR PEAK RSS: VmHWM {:.1f} MiB (sampled VmRSS max {:.1f} MiB, now {:.1f} MiB; idle "
      "{:.1f} MiB)\n",
      op_mem.hwm_kib / 1024.0, op_max_rss / 1024.0, op_mem.rss_kib / 1024.0, idle.rss_kib / 1024.0);
  fmt::print("  operator CPU during the run: {:.2f} s\n", op_cpu);
  print_memory_view("at the largest RSS read while converging", peak_view);
  print_memory_view("once all Ready", done_view);
  fmt::print("  kubesim (reference): VmHWM {:.1f} MiB (sampled max {:.1f} MiB), CPU {:.2f} s\n",
             sim_mem.hwm_kib / 1024.0, sim_max_rss / 1024.0, sim_cpu);
  print_operator_problems(op);
  if (hold_s > 0) {
    fmt::print("  holding kubesim (pid {}) and the operator (pid {}) for {} s\n", ks.pid(),
               op.pid(), hold_s);
    std::fflush(stdout);
    std::this_thread::sleep_for(std::chrono::seconds(hold_s));
  }
  int code = op.stop();
  if (code != 0) fmt::print("  (the operator exited with {})\n", code);
}

}  // namespace

int main(int argc, char** argv) {
  int runs = 200, warmup = 10, handoff_regions = 2, count = 1000, regions = 4, clients = 4,
      delay_ms = 100, timeout_s = 600, gap_ms = 10, hold_s = 0;
  bool tls = true, handoff = true, scale = true;
  std::string op_log, flavor = "v2.1.0";
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&] {
      if (i + 1 >= argc) throw std::invalid_argument(a + " needs a value");
      return std::stoi(argv[++i]);
    };
    try {
      if (a == "--runs")
        runs = next();
      else if (a == "--warmup")
        warmup = next();
      else if (a == "--handoff-regions")
        handoff_regions = next();
      else if (a == "--multicasskops")
        count = next();
      else if (a == "--regions")
        regions = next();
      else if (a == "--clients")
        clients = next();
      else if (a == "--casskop-delay-ms")
        delay_ms = next();
      else if (a == "--timeout-s")
        timeout_s = next();
      else if (a == "--gap-ms")
        gap_ms = next();
      else if (a == "--hold-s")
        hold_s = next();
      else if (a == "--insecure-http")
        tls = false;
      else if (a == "--skip-handoff")
        handoff = false;
      else if (a == "--skip-scale")
        scale = false;
      else if (a == "--casskop-flavor" && i + 1 < argc)
        flavor = argv[++i];
      else if (a == "--operator-log")
        op_log = i + 1 < argc ? argv[++i] : "";
      else if (a == "--operator-env" && i + 1 < argc)
        operator_process::extra_env.push_back(argv[++i]);
      else
        throw std::invalid_argument("unknown option " + a);
    } catch (const std::exception& e) {
      fmt::print(stderr,
                 "multicasskop_bench: {}\nusage: multicasskop_bench [--runs N] [--warmup N] "
                 "[--handoff-regions R] "
                 "[--gap-ms MS]\n         [--multicasskops N] [--regions R] [--clients C] "
                 "[--casskop-delay-ms D] "
                 "[--timeout-s S]\n         [--casskop-flavor v2.1.0|observed-generation] "
                 "[--insecure-http] [--skip-handoff] [--skip-scale] [--operator-log FILE]\n"
                 "         [--operator-env NAME=VALUE ...] [--hold-s S]\n",
                 e.what());
      return 2;
    }
  }
  if (handoff_regions < 2 || regions < 1 || count < 1 || clients < 1) {
    fmt::print(stderr, "multicasskop_bench: --handoff-regions must be >= 2, counts >= 1\n");
    return 2;
  }
  std::signal(SIGPIPE, SIG_IGN);
  js::parse(
      multicasskop("mc-check", "cc-check", std::max(regions, handoff_regions)));  // well-formed
  fmt::print("multi-casskop benchmark: {} hardware threads\n", std::thread::hardware_concurrency());
  try {
    if (handoff)
      run_handoff(runs, warmup, handoff_regions, tls, gap_ms,
                  op_log.empty() ? "" : op_log + ".handoff");
    if (scale)
      run_scale(count, regions, clients, delay_ms, timeout_s, tls,
                op_log.empty() ? "" : op_log + ".scale", hold_s, flavor);
  } catch (const std::exception& e) {
    fmt::print(stderr, "multicasskop_bench: {}\n", e.what());
    return 1;
  }
  return 0;
}
