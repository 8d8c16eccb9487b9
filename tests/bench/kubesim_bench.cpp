// kubesim benchmark: write throughput and watch fan-out. Prints figures; never fails on them.
//
//   build/tests/kubesim_bench [--writes N] [--clients C] [--events E] [--tls]
//
// It starts its own kubesim (from this build) on 127.0.0.1, drives it with raw keep-alive
// HTTP/1.1 connections (Boost.Beast, so the load generator is cheaper than the server), and
// stops it at the end.
#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "tests/bench/bench_http.h"
#include "tests/support/kubesim_fixture.h"

using namespace bench;

namespace {

std::string configmap(const std::string& name, int i) {
  return fmt::format(
      R"({{"apiVersion":"v1","kind":"ConfigMap","metadata":{{"name":"{}","labels":{{"bench":"yes"}}}},"data":{{"i":"{}"}}}})",
      name, i);
}

// A StatefulSet as casskop writes one: the kind whose decoding, defaults, validation and
// managedFields cost kubesim the most.
std::string statefulset(const std::string& name) {
  return fmt::format(
      R"({{"apiVersion":"apps/v1","kind":"StatefulSet","metadata":{{"name":"{0}","labels":{{"app":"{0}"}}}},)"
      R"("spec":{{"replicas":3,"serviceName":"{0}","selector":{{"matchLabels":{{"app":"{0}"}}}},)"
      R"("template":{{"metadata":{{"labels":{{"app":"{0}"}}}},"spec":{{"containers":[{{"name":"cassandra",)"
      R"("image":"cassandra:3.11","ports":[{{"name":"cql","containerPort":9042}},{{"name":"jmx","containerPort":7199}}],)"
      R"("env":[{{"name":"CASSANDRA_CLUSTER_NAME","value":"{0}"}},{{"name":"POD_IP","valueFrom":{{"fieldRef":{{"fieldPath":"status.podIP"}}}}}}],)"
      R"("resources":{{"requests":{{"cpu":"1","memory":"2Gi"}},"limits":{{"cpu":"1","memory":"2Gi"}}}},)"
      R"("readinessProbe":{{"exec":{{"command":["/ready-probe.sh"]}},"initialDelaySeconds":30}},)"
      R"("volumeMounts":[{{"name":"data","mountPath":"/var/lib/cassandra"}}]}}]}}}},)"
      R"("volumeClaimTemplates":[{{"metadata":{{"name":"data"}},"spec":{{"accessModes":["ReadWriteOnce"],)"
      R"("resources":{{"requests":{{"storage":"10Gi"}}}}}}}}]}}}})",
      name);
}

enum class write_kind { configmap_create, configmap_patch, statefulset_create };

double run_writes(const target& t, int clients, int writes, const std::string& prefix,
                  write_kind kind) {
  std::atomic<int> next{0}, failures{0};
  auto start = clock_type::now();
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&] {
      connection conn(t);
      for (int i; (i = next++) < writes;) {
        std::string name = fmt::format("{}-{}", prefix, i);
        reply r;
        if (kind == write_kind::configmap_patch)
          r = conn.send(http::verb::patch, "/api/v1/namespaces/default/configmaps/" + name,
                        fmt::format(R"({{"data":{{"i":"patched-{}"}}}})", i),
                        "application/merge-patch+json");
        else if (kind == write_kind::configmap_create)
          r = conn.send(http::verb::post, "/api/v1/namespaces/default/configmaps",
                        configmap(name, i));
        else
          r = conn.send(http::verb::post, "/apis/apps/v1/namespaces/default/statefulsets",
                        statefulset(name));
        if (r.status != 200 && r.status != 201) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  double secs = seconds_since(start);
  if (failures) fmt::print("  ({} failed requests)\n", failures.load());
  return writes / secs;
}

// Watchers read raw bytes and count event lines ("}\n" never appears inside JSON).
class watch_counter {
 public:
  watch_counter(net::io_context& io, ssl::context& ctx, const target& t, const std::string& rv)
      : stream_(io, ctx, t) {
    stream_.send_get("/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=" + rv);
  }
  void start(std::atomic<long>& total) { read(total); }

 private:
  void read(std::atomic<long>& total) {
    auto handler = [this, &total](beast::error_code ec, size_t n) {
      if (ec) return;
      long lines = 0;
      for (size_t i = 0; i < n; ++i) {
        if (buf_[i] == '\n' && last_ == '}') ++lines;
        last_ = buf_[i];
      }
      total += lines;
      read(total);
    };
    stream_.async_read_some(net::buffer(buf_), handler);
  }
  client_stream stream_;
  std::array<char, 65536> buf_{};
  char last_ = 0;
};

// Live: watchers are open while the writes happen; bounded by the write rate for 1 watcher.
// Replay: the events are already in history and each watcher catches up from an old RV,
// which measures delivery alone.
void run_fanout(const target& t, int watchers, int events, const std::string& prefix, bool replay) {
  testsupport::api_client probe({(t.tls ? "https://" : "http://") + t.host + ":" + t.port, t.token,
                                 t.ca, "", "", std::chrono::seconds(30)});
  auto list = probe.get("/api/v1/namespaces/default/configmaps?limit=1").json();
  std::string rv(k8s::json::get_string(list, {"metadata", "resourceVersion"}));

  if (replay) run_writes(t, 4, events, prefix, write_kind::configmap_create);

  net::io_context io;
  ssl::context ctx(ssl::context::tls_client);
  if (t.tls) ctx.add_certificate_authority(net::buffer(t.ca));
  std::atomic<long> delivered{0};
  std::vector<std::unique_ptr<watch_counter>> ws;
  auto start = clock_type::now();
  for (int i = 0; i < watchers; ++i) ws.push_back(std::make_unique<watch_counter>(io, ctx, t, rv));
  for (auto& w : ws) w->start(delivered);
  std::thread reader([&] { io.run(); });
  if (!replay) {
    start = clock_type::now();
    run_writes(t, 4, events, prefix, write_kind::configmap_create);
  }
  long expected = static_cast<long>(watchers) * events;
  auto deadline = clock_type::now() + std::chrono::seconds(120);
  while (delivered < expected && clock_type::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  double secs = seconds_since(start);
  io.stop();
  reader.join();
  fmt::print("watch {} to {:>3} watcher(s):   {:>9.0f} events/s delivered ({} of {} in {:.2f} s)\n",
             replay ? "replay" : "live  ", watchers, delivered / secs, delivered.load(), expected,
             secs);
}

}  // namespace

int main(int argc, char** argv) {
  int writes = 20000, clients = 4, events = 2000;
  bool tls = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&] { return i + 1 < argc ? std::stoi(argv[++i]) : 0; };
    if (a == "--writes")
      writes = next();
    else if (a == "--clients")
      clients = next();
    else if (a == "--events")
      events = next();
    else if (a == "--tls")
      tls = true;
    else {
      fmt::print(stderr, "usage: kubesim_bench [--writes N] [--clients C] [--events E] [--tls]\n");
      return 2;
    }
  }
  std::vector<std::string> args = {"--history", "200000"};
  if (!tls) args.push_back("--insecure-http");
  testsupport::kubesim_instance sim({"k1"}, args);
  target t = target_of(sim, "k1");
  fmt::print("kubesim benchmark: {} on 127.0.0.1, {} hardware threads\n", tls ? "HTTPS" : "HTTP",
             std::thread::hardware_concurrency());
  fmt::print("writes (create ConfigMap, {} clients): {:>9.0f} writes/s\n", clients,
             run_writes(t, clients, writes, "w", write_kind::configmap_create));
  fmt::print("writes (merge patch, {} clients):      {:>9.0f} writes/s\n", clients,
             run_writes(t, clients, writes, "w", write_kind::configmap_patch));
  fmt::print("writes (create StatefulSet, {} clients): {:>7.0f} writes/s\n", clients,
             run_writes(t, clients, writes / 4, "s", write_kind::statefulset_create));
  run_fanout(t, 1, events * 10, "l1", false);
  run_fanout(t, 100, events, "l100", false);
  run_fanout(t, 1, events * 10, "r1", true);
  run_fanout(t, 100, events, "r100", true);
  return 0;
}
