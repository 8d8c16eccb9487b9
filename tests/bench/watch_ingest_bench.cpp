// Watch ingest benchmark: how fast a watch stream gets into the client's picture, compared with
// RapidJSON parsing the same bytes and with the real kubectl reading the same stream. Prints
// figures; never fails on them.
//
//   build/tests/watch_ingest_bench [--objects N] [--repeat R] [--tls]
//
// It starts its own kubesim (HTTP, or HTTPS with --tls), creates N ConfigMaps (default 20,000,
// lines of ~800 bytes), then replays their N ADDED events from history (resourceVersion taken
// before the creates) to:
//   (a) ingest: k8s::client::watch + decode_watch_line + list_watch_state + object_store::apply,
//       exactly what k8s::watcher does per line (one lock per line included), until the store
//       holds all N objects;
//   (b) raw parse: rapidjson::Document::Parse over every captured line, in memory;
//   (c) kubectl: `kubectl get --raw '<collection>?watch=1&resourceVersion=RV'` with a fresh
//       KUBECACHEDIR, timed from start until the last event's line is printed (process start-up
//       included, shown separately). --raw copies the bytes without decoding them; kubectl
//       cannot start a decoded watch at an old resourceVersion, so (c') `kubectl get configmaps
//       -w -o name` shows what decoding costs it: it lists the same N objects, prints every name.
// Each is run R times (default 3) and the best run is kept (the machine is shared). Breakdown
// rows (transport alone, decode alone, decode + store in memory) show where the time goes.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "k8s/api/client.h"
#include "k8s/api/connection.h"
#include "k8s/watch/list_watch.h"
#include "k8s/watch/object_store.h"
#include "k8s/watch/watch_event.h"
#include "tests/bench/bench_http.h"
#include "tests/support/kubesim_fixture.h"

using namespace bench;

namespace {

const k8s::resource configmaps{"", "v1", "configmaps", "ConfigMap", true};
constexpr const char* ns = "default";

// A ConfigMap shaped like a small application config: labels, an annotation, six data keys.
std::string configmap(int i) {
  return fmt::format(
      R"({{"apiVersion":"v1","kind":"ConfigMap","metadata":{{"name":"ingest-{:06d}","labels":{{"app.kubernetes.io/name":"cassandra","app.kubernetes.io/instance":"cassandra-e2e","shard":"{}"}},"annotations":{{"bench.example.com/source":"watch_ingest_bench"}}}},"data":{{"cluster_name":"cassandra-e2e","dc":"dc{}","rack":"rack{}","seeds":"cassandra-e2e-dc1-rack1-0.cassandra-e2e.ns.svc,cassandra-e2e-dc1-rack1-1.cassandra-e2e.ns.svc","jvm.options":"-Xms1024M -Xmx1024M -XX:+UseG1GC -XX:MaxGCPauseMillis=200 -Dindex={}","cassandra.yaml":"num_tokens: 16\nconcurrent_reads: 32\nconcurrent_writes: 32\n"}}}})",
      i, i % 16, i % 3 + 1, i % 4 + 1, i);
}

// The creates go over keep-alive Beast connections: the load generator stays cheap.
int create_all(const target& t, int n) {
  std::atomic<int> next{0}, failures{0};
  std::vector<std::thread> threads;
  for (int c = 0; c < 4; ++c) {
    threads.emplace_back([&] {
      connection conn(t);
      const std::string path = fmt::format("/api/v1/namespaces/{}/configmaps", ns);
      for (int i; (i = next++) < n;) {
        int code = conn.send(http::verb::post, path, configmap(i)).status;
        if (code != 201 && code != 200) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  return failures;
}

// Waits until `done` or the deadline; false on timeout.
struct latch {
  std::mutex m;
  std::condition_variable cv;
  bool done = false;
  std::optional<k8s::api_error> error;
  void set() {
    std::lock_guard lock(m);
    done = true;
    cv.notify_all();
  }
  bool wait(std::chrono::seconds timeout) {
    std::unique_lock lock(m);
    return cv.wait_for(lock, timeout, [&] { return done; });
  }
};

k8s::watch_options replay_from(const std::string& rv) {
  k8s::watch_options o;
  o.resource_version = rv;
  o.allow_bookmarks = false;
  o.timeout_seconds = 600;
  return o;
}

// Runs one watch from `rv`, handing each line to `on_line` until it returns true (done).
// Returns the seconds from the request to done, or a negative value on failure.
double timed_watch(k8s::client& c, const std::string& rv,
                   const std::function<bool(std::string_view)>& on_line) {
  auto l = std::make_shared<latch>();
  auto finished = std::make_shared<std::atomic<bool>>(false);
  auto start = clock_type::now();
  auto stream = c.watch(
      configmaps, ns, replay_from(rv),
      [l, finished, &on_line](std::string_view line) {
        if (finished->load()) return;
        if (on_line(line)) {
          finished->store(true);
          l->set();
        }
      },
      [l](std::optional<k8s::api_error> e) {
        if (e && e->message != k8s::cancelled_message) {
          std::lock_guard lock(l->m);
          l->error = e;
        }
        l->set();
      });
  bool ok = l->wait(std::chrono::seconds(300));
  double secs = seconds_since(start);
  stream->cancel();
  {
    std::lock_guard lock(l->m);
    if (l->error) fmt::print("  watch ended: {}\n", l->error->describe());
  }
  // Let the end callback (which holds `l` only) run before the next run starts a new watch.
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  return ok && finished->load() ? secs : -1;
}

// What k8s::watcher does with one line (watcher::on_line + deliver), without the callbacks.
struct ingest_consumer {
  std::recursive_mutex mutex;
  k8s::list_watch_state state;
  k8s::object_store store;
  size_t events = 0, garbled = 0, changes_applied = 0;

  explicit ingest_consumer(const std::string& rv) {
    // The state the watcher is in after listing an empty collection at `rv`: watching from rv.
    std::vector<k8s::watch_change> changes;
    state.start();
    k8s::list_page empty;
    empty.resource_version = rv;
    state.on_list_page(empty, changes);
    state.on_watch_opened();
    for (auto& c : changes) store.apply(c);
  }
  void on_line(std::string_view line) {
    std::lock_guard lock(mutex);
    k8s::watch_event e;
    std::string why;
    std::vector<k8s::watch_change> changes;
    if (!k8s::decode_watch_line(line, e, why)) {
      ++garbled;
      state.on_garbled_line(why);
    } else {
      state.on_watch_event(e, changes);
    }
    for (const auto& c : changes) {
      k8s::store_delta d = store.apply(c);
      changes_applied += d.upserted.size() + d.removed.size();
    }
    ++events;
  }
};

struct best_of {
  double best = -1;
  std::vector<double> all;
  void add(double v) {
    all.push_back(v);
    if (v > best) best = v;
  }
  std::string runs() const {
    std::string s;
    for (double v : all) s += fmt::format("{}{:.0f}", s.empty() ? "" : ", ", v);
    return s;
  }
};

void row(const char* what, const best_of& b, const char* note = "") {
  fmt::print("  {:<44} {:>9.0f} events/s   (runs: {}){}\n", what, b.best, b.runs(), note);
}

}  // namespace

int main(int argc, char** argv) {
  int n = 20000, repeat = 3;
  bool tls = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&] { return i + 1 < argc ? std::stoi(argv[++i]) : 0; };
    if (a == "--objects")
      n = next();
    else if (a == "--repeat")
      repeat = next();
    else if (a == "--tls")
      tls = true;
    else {
      fmt::print(stderr, "usage: watch_ingest_bench [--objects N] [--repeat R] [--tls]\n");
      return 2;
    }
  }
  if (n < 1 || repeat < 1) {
    fmt::print(stderr, "watch_ingest_bench: --objects and --repeat must be positive\n");
    return 2;
  }
  std::vector<std::string> args = {"--history", std::to_string(std::max(200000, 2 * n))};
  if (!tls) args.push_back("--insecure-http");
  testsupport::kubesim_instance sim({"k1"}, args);
  const std::string url = sim.url("k1");
  const std::string token = tls ? sim.token("k1") : "";
  const std::string ca = tls ? sim.ca_pem("k1") : "";
  fmt::print(
      "watch ingest benchmark: {} on 127.0.0.1, {} ConfigMaps, best of {}, {} hardware threads\n",
      tls ? "HTTPS" : "HTTP", n, repeat, std::thread::hardware_concurrency());

  testsupport::api_client probe({url, token, ca, "", "", std::chrono::seconds(30)});
  const std::string collection = fmt::format("/api/v1/namespaces/{}/configmaps", ns);
  auto before = probe.get(collection + "?limit=1").json();
  const std::string rv(k8s::json::get_string(before, {"metadata", "resourceVersion"}));

  auto t0 = clock_type::now();
  int failures = create_all(target_of(sim, "k1"), n);
  fmt::print("created {} ConfigMaps in {:.2f} s{}\n", n, seconds_since(t0),
             failures ? fmt::format(" ({} failed)", failures) : "");
  if (failures) return 1;

  k8s::client client(k8s::load_kubeconfig(sim.kubeconfig("k1")));

  // Capture the stream once (this also is the transport-only figure: lines counted, copied).
  std::vector<std::string> lines;
  lines.reserve(n);
  best_of transport;
  for (int r = 0; r < repeat; ++r) {
    lines.clear();
    double secs = timed_watch(client, rv, [&](std::string_view line) {
      lines.emplace_back(line);
      return lines.size() >= static_cast<size_t>(n);
    });
    if (secs < 0) {
      fmt::print("capture failed: {} of {} lines\n", lines.size(), n);
      return 1;
    }
    transport.add(n / secs);
  }
  size_t bytes = 0;
  for (auto& l : lines) bytes += l.size() + 1;
  fmt::print("stream: {} events, {:.1f} MB, {:.0f} bytes per line on average\n\n", lines.size(),
             bytes / 1e6, static_cast<double>(bytes) / lines.size());

  // (a) the full path into the client's picture.
  best_of ingest;
  for (int r = 0; r < repeat; ++r) {
    ingest_consumer consumer(rv);
    double secs = timed_watch(client, rv, [&](std::string_view line) {
      consumer.on_line(line);
      return consumer.store.size() >= static_cast<size_t>(n);
    });
    if (secs < 0 || consumer.garbled || consumer.store.stale_events()) {
      fmt::print("ingest failed: {} objects, {} garbled lines, {} stale events\n",
                 consumer.store.size(), consumer.garbled, consumer.store.stale_events());
      return 1;
    }
    ingest.add(n / secs);
  }

  // (b) RapidJSON alone on the same bytes, in memory.
  best_of raw;
  for (int r = 0; r < std::max(repeat, 5); ++r) {
    auto start = clock_type::now();
    size_t errors = 0;
    for (const auto& l : lines) {
      k8s::json::Document d;
      d.Parse(l.data(), l.size());
      errors += d.HasParseError();
    }
    raw.add(lines.size() / seconds_since(start));
    if (errors) fmt::print("  {} lines did not parse\n", errors);
  }
  // Breakdown: decode_watch_line alone, then decode + list_watch_state + store, in memory.
  best_of decode_only, in_memory;
  for (int r = 0; r < std::max(repeat, 5); ++r) {
    auto start = clock_type::now();
    for (const auto& l : lines) {
      k8s::watch_event e;
      std::string why;
      k8s::decode_watch_line(l, e, why);
    }
    decode_only.add(lines.size() / seconds_since(start));
    ingest_consumer consumer(rv);
    start = clock_type::now();
    for (const auto& l : lines) consumer.on_line(l);
    in_memory.add(lines.size() / seconds_since(start));
  }

  // (c) kubectl reading the same stream; every run with a fresh discovery/HTTP cache.
  best_of kubectl, kubectl_streaming;
  double kubectl_startup = -1;
  const std::string watch_url = collection + "?watch=1&resourceVersion=" + rv;
  for (int r = 0; r < repeat; ++r) {
    std::string cache = testsupport::make_temp_dir("kubecache");
    auto env = sim.kubectl_env();
    env["KUBECACHEDIR"] = cache;
    auto start = clock_type::now();
    testsupport::child kc(sim.kubectl_argv("k1", {"get", "--raw", watch_url}), env);
    bool first = kc.wait_for_line(lines.front(), std::chrono::seconds(60));
    double to_first = seconds_since(start);
    bool last = first && kc.wait_for_line(lines.back(), std::chrono::seconds(300));
    double secs = seconds_since(start);
    kc.kill_now();
    std::error_code ec;
    std::filesystem::remove_all(cache, ec);
    if (!last) {
      fmt::print("kubectl did not print all {} events\n", n);
      return 1;
    }
    kubectl.add(n / secs);
    kubectl_streaming.add((n - 1) / std::max(secs - to_first, 1e-6));
    if (kubectl_startup < 0 || to_first < kubectl_startup) kubectl_startup = to_first;
  }

  // (c') kubectl decoding the same objects: `kubectl get configmaps -w -o name` lists them
  // (kubectl has no way to start a watch at an old resourceVersion) and prints each name.
  best_of kubectl_get;
  for (int r = 0; r < repeat; ++r) {
    std::string cache = testsupport::make_temp_dir("kubecache");
    auto env = sim.kubectl_env();
    env["KUBECACHEDIR"] = cache;
    auto start = clock_type::now();
    testsupport::child kc(
        sim.kubectl_argv("k1", {"get", "configmaps", "-n", ns, "-w", "-o", "name"}), env);
    size_t scanned = 0, printed = 0;
    auto deadline = start + std::chrono::seconds(300);
    while (printed < static_cast<size_t>(n) && clock_type::now() < deadline && kc.running()) {
      kc.drain(std::chrono::milliseconds(2));
      for (const std::string& out = kc.output(); scanned < out.size(); ++scanned)
        printed += out[scanned] == '\n';
    }
    double secs = seconds_since(start);
    kc.kill_now();
    std::error_code ec;
    std::filesystem::remove_all(cache, ec);
    if (printed < static_cast<size_t>(n)) {
      fmt::print("kubectl get -w printed {} of {} names\n", printed, n);
      return 1;
    }
    kubectl_get.add(n / secs);
  }

  fmt::print("results (events per second, best run):\n");
  row("(a) ingest: client watch -> decode -> store", ingest);
  row("(b) raw RapidJSON Document::Parse, in memory", raw);
  row("(c) kubectl get --raw (watch), same stream", kubectl,
      fmt::format("; first line after {:.0f} ms", kubectl_startup * 1000).c_str());
  row("    the same, first line to last only", kubectl_streaming, "; without start-up");
  row("(c') kubectl get configmaps -w -o name", kubectl_get, "; lists the N objects, decoded");
  fmt::print("breakdown:\n");
  row("client watch, lines copied, no decode", transport);
  row("decode_watch_line alone, in memory", decode_only);
  row("decode + list_watch_state + store, in memory", in_memory);
  fmt::print("ratios:\n");
  fmt::print("  ingest / raw parse: {:5.1f} %   (target >= 50 %)\n",
             100.0 * ingest.best / raw.best);
  fmt::print("  ingest / kubectl:   {:5.2f} x   (target >= 5 x)\n", ingest.best / kubectl.best);
  fmt::print(
      "    vs kubectl --raw without its start-up: {:.2f} x; vs kubectl get -w -o name: {:.1f} x\n",
      ingest.best / kubectl_streaming.best, ingest.best / kubectl_get.best);
  return 0;
}
