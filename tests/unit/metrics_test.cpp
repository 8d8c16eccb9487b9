// The Prometheus registry: exact text exposition for each metric type, escaping, value
// formatting, registration rules and exact totals under concurrent updates.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <thread>
#include <vector>

#include "actors/runtime/client_metrics.h"
#include "k8s/base/heap_metrics.h"
#include "k8s/base/metrics.h"
#include "k8s/watch/watcher.h"

namespace m = k8s::metrics;

TEST_CASE("metrics: counters render with HELP, TYPE and sorted labels") {
  m::registry r;
  auto& requests = r.counters("api_requests_total", "Requests sent to the API server.");
  // Labels given in any order render sorted by name; children sorted by their labels.
  auto& get_b = requests.labels({{"verb", "GET"}, {"cluster", "b"}});
  auto& get_a = requests.labels({{"cluster", "a"}, {"verb", "GET"}});
  get_a.inc();
  get_a.inc(4);
  get_b.inc();
  requests.labels({{"cluster", "a"}, {"verb", "PUT"}}).inc(2);
  // The same labels give the same child, whatever their order.
  CHECK(&requests.labels({{"verb", "GET"}, {"cluster", "a"}}) == &get_a);
  CHECK(get_a.value() == 5);
  CHECK(r.render() ==
        "# HELP api_requests_total Requests sent to the API server.\n"
        "# TYPE api_requests_total counter\n"
        "api_requests_total{cluster=\"a\",verb=\"GET\"} 5\n"
        "api_requests_total{cluster=\"a\",verb=\"PUT\"} 2\n"
        "api_requests_total{cluster=\"b\",verb=\"GET\"} 1\n");
}

TEST_CASE("metrics: gauges, unlabelled children and families sorted by name") {
  m::registry r;
  r.gauges("zz_queue_depth", "Items waiting.").labels({}).set(3);
  auto& temp = r.gauges("aa_temperature", "Degrees.").labels({{"room", "x"}});
  temp.set(21.5);
  temp.inc();
  temp.dec(0.25);
  auto& big = r.gauges("mm_big", "Large and odd values.");
  big.labels({{"v", "million"}}).set(1e6);
  big.labels({{"v", "tiny"}}).set(1e-7);
  big.labels({{"v", "neg"}}).set(-2);
  big.labels({{"v", "inf"}}).set(std::numeric_limits<double>::infinity());
  big.labels({{"v", "nan"}}).set(std::nan(""));
  r.counters("empty_total", "A family without children renders nothing.");
  CHECK(r.render() ==
        "# HELP aa_temperature Degrees.\n"
        "# TYPE aa_temperature gauge\n"
        "aa_temperature{room=\"x\"} 22.25\n"
        "# HELP mm_big Large and odd values.\n"
        "# TYPE mm_big gauge\n"
        "mm_big{v=\"inf\"} +Inf\n"
        "mm_big{v=\"million\"} 1000000\n"
        "mm_big{v=\"nan\"} NaN\n"
        "mm_big{v=\"neg\"} -2\n"
        "mm_big{v=\"tiny\"} 1e-07\n"
        "# HELP zz_queue_depth Items waiting.\n"
        "# TYPE zz_queue_depth gauge\n"
        "zz_queue_depth 3\n");
}

TEST_CASE("metrics: histograms render cumulative buckets, +Inf, _sum and _count") {
  m::registry r;
  auto& latency = r.histograms("request_duration_seconds", "Request latency.", {0.25, 0.5, 1});
  auto& get = latency.labels({{"verb", "GET"}});
  get.observe(0.0625);
  get.observe(0.25);  // upper bounds are inclusive
  get.observe(0.375);
  get.observe(7);
  latency.labels({{"verb", "PUT"}});  // a child with no observation yet
  auto& plain = r.histograms("sizes_bytes", "Sizes.", {1024, 1048576});
  plain.labels({}).observe(2000);
  CHECK(r.render() ==
        "# HELP request_duration_seconds Request latency.\n"
        "# TYPE request_duration_seconds histogram\n"
        "request_duration_seconds_bucket{verb=\"GET\",le=\"0.25\"} 2\n"
        "request_duration_seconds_bucket{verb=\"GET\",le=\"0.5\"} 3\n"
        "request_duration_seconds_bucket{verb=\"GET\",le=\"1\"} 3\n"
        "request_duration_seconds_bucket{verb=\"GET\",le=\"+Inf\"} 4\n"
        "request_duration_seconds_sum{verb=\"GET\"} 7.6875\n"
        "request_duration_seconds_count{verb=\"GET\"} 4\n"
        "request_duration_seconds_bucket{verb=\"PUT\",le=\"0.25\"} 0\n"
        "request_duration_seconds_bucket{verb=\"PUT\",le=\"0.5\"} 0\n"
        "request_duration_seconds_bucket{verb=\"PUT\",le=\"1\"} 0\n"
        "request_duration_seconds_bucket{verb=\"PUT\",le=\"+Inf\"} 0\n"
        "request_duration_seconds_sum{verb=\"PUT\"} 0\n"
        "request_duration_seconds_count{verb=\"PUT\"} 0\n"
        "# HELP sizes_bytes Sizes.\n"
        "# TYPE sizes_bytes histogram\n"
        "sizes_bytes_bucket{le=\"1024\"} 0\n"
        "sizes_bytes_bucket{le=\"1048576\"} 1\n"
        "sizes_bytes_bucket{le=\"+Inf\"} 1\n"
        "sizes_bytes_sum 2000\n"
        "sizes_bytes_count 1\n");
  auto s = get.read();
  CHECK(s.cumulative == std::vector<uint64_t>{2, 3, 3, 4});
  CHECK(s.count == 4);
}

TEST_CASE("metrics: label values and help text are escaped") {
  CHECK(m::escape_label_value("a\\b\"c\nd") == "a\\\\b\\\"c\\nd");
  CHECK(m::escape_help("x\\y\nz \"q\"") == "x\\\\y\\nz \"q\"");  // quotes stay in HELP
  m::registry r;
  r.counters("odd_total", "Line one\nline \\two\\.")
      .labels({{"path", "C:\\dir \"x\"\nnext"}})
      .inc();
  CHECK(r.render() ==
        "# HELP odd_total Line one\\nline \\\\two\\\\.\n"
        "# TYPE odd_total counter\n"
        "odd_total{path=\"C:\\\\dir \\\"x\\\"\\nnext\"} 1\n");
}

TEST_CASE("metrics: value formatting is the shortest exact text") {
  CHECK(m::format_value(0) == "0");
  CHECK(m::format_value(-0.0) == "0");
  CHECK(m::format_value(42) == "42");
  CHECK(m::format_value(0.1) == "0.1");
  CHECK(m::format_value(2.5) == "2.5");
  CHECK(m::format_value(1e15) == "1e+15");
  CHECK(m::format_value(1.0 / 3) == "0.3333333333333333");
  CHECK(m::format_value(-std::numeric_limits<double>::infinity()) == "-Inf");
}

TEST_CASE("metrics: gauge callbacks are read at render time and can be removed") {
  m::registry r;
  double value = 1;
  r.gauge_callback("open_watches", "Watches open now.", [&] { return value; });
  r.labeled_gauge_callback("cluster_up", "1 when the cluster answers.", [] {
    return std::vector<m::labeled_value>{{{{"cluster", "b"}}, 0}, {{{"cluster", "a"}}, 1}};
  });
  value = 7;
  CHECK(r.render() ==
        "# HELP cluster_up 1 when the cluster answers.\n"
        "# TYPE cluster_up gauge\n"
        "cluster_up{cluster=\"a\"} 1\n"
        "cluster_up{cluster=\"b\"} 0\n"
        "# HELP open_watches Watches open now.\n"
        "# TYPE open_watches gauge\n"
        "open_watches 7\n");
  CHECK_THROWS_AS(r.gauge_callback("open_watches", "again", [] { return 0.0; }),
                  std::invalid_argument);
  r.remove_callback("open_watches");
  r.remove_callback("cluster_up");
  CHECK(r.render().empty());
  // A throwing callback drops its family only.
  r.gauge_callback("broken", "Throws.", []() -> double { throw std::runtime_error("boom"); });
  r.gauges("fine", "Still here.").labels({}).set(1);
  CHECK(r.render() == "# HELP fine Still here.\n# TYPE fine gauge\nfine 1\n");
}

TEST_CASE("metrics: registration returns the same family and rejects mistakes") {
  m::registry r;
  auto& a = r.counters("x_total", "X.");
  CHECK(&r.counters("x_total", "X.") == &a);
  CHECK_THROWS_AS(r.gauges("x_total", "X."), std::invalid_argument);
  CHECK_THROWS_AS(r.counters("x_total", "Other help."), std::invalid_argument);
  auto& h = r.histograms("h_seconds", "H.", {1, 2, std::numeric_limits<double>::infinity()});
  CHECK(h.bounds() == std::vector<double>{1, 2});  // a trailing +Inf is implied
  CHECK(&r.histograms("h_seconds", "H.", {1, 2}) == &h);
  CHECK_THROWS_AS(r.histograms("h_seconds", "H.", {1, 3}), std::invalid_argument);
  CHECK_THROWS_AS(r.histograms("h2_seconds", "H.", {2, 1}), std::invalid_argument);
  CHECK_THROWS_AS(r.histograms("h3_seconds", "H.", {1, 1}), std::invalid_argument);
  CHECK_THROWS_AS(h.labels({{"le", "x"}}), std::invalid_argument);
  CHECK_THROWS_AS(r.counters("bad-name", "B."), std::invalid_argument);
  CHECK_THROWS_AS(r.counters("9lives", "B."), std::invalid_argument);
  CHECK_NOTHROW(r.counters("ns:sub_total", "Colons are allowed in metric names."));
  CHECK_THROWS_AS(a.labels({{"bad:label", "v"}}), std::invalid_argument);
  CHECK_THROWS_AS(a.labels({{"__reserved", "v"}}), std::invalid_argument);
  CHECK_THROWS_AS(a.labels({{"k", "v"}, {"k", "w"}}), std::invalid_argument);
  a.labels({{"k", "v"}});
  CHECK_THROWS_AS(a.labels({{"other", "v"}}), std::invalid_argument);  // same names per family
  CHECK_THROWS_AS(a.labels({}), std::invalid_argument);
}

TEST_CASE("metrics: concurrent updates from many threads give exact totals") {
  m::registry r;
  auto& requests = r.counters("ops_total", "Operations.");
  auto& level = r.gauges("level", "Level.").labels({});
  auto& latency = r.histograms("op_seconds", "Latency.", {0.5, 1.5});
  constexpr int threads = 8;
  constexpr int per_thread = 50000;
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      // Half the threads share one child, found concurrently; the others get their own.
      auto& mine = requests.labels({{"worker", t % 2 ? "shared" : std::to_string(t)}});
      auto& h = latency.labels({});
      for (int i = 0; i < per_thread; ++i) {
        mine.inc();
        level.inc(1);
        level.dec(0.5);
        h.observe(i % 2);  // 0 and 1: exact in binary, so the sum is exact too
      }
    });
  }
  std::string during;
  for (int i = 0; i < 20; ++i) during = r.render();  // rendering concurrently is safe
  for (auto& w : workers) w.join();
  CHECK(!during.empty());
  CHECK(requests.labels({{"worker", "shared"}}).value() == uint64_t(threads / 2 * per_thread));
  CHECK(requests.labels({{"worker", "0"}}).value() == uint64_t(per_thread));
  CHECK(level.value() == threads * per_thread * 0.5);
  auto s = latency.labels({}).read();
  CHECK(s.count == uint64_t(threads * per_thread));
  CHECK(s.cumulative[0] == uint64_t(threads * per_thread / 2));
  CHECK(s.cumulative[1] == uint64_t(threads * per_thread));
  CHECK(s.sum == threads * per_thread / 2.0);
}

TEST_CASE("metrics: children can be dropped exactly or by a subset of their labels") {
  m::registry r;
  auto& g = r.gauges("phase", "phase of a region");
  g.labels({{"mc", "a"}, {"region", "r1"}, {"phase", "Ready"}}).set(1);
  g.labels({{"mc", "a"}, {"region", "r2"}, {"phase", "Creating"}}).set(1);
  g.labels({{"mc", "ab"}, {"region", "r1"}, {"phase", "Ready"}}).set(1);
  g.labels({{"mc", "b\",mc=\"a"}, {"region", "r1"}, {"phase", "Ready"}}).set(1);

  CHECK(g.remove({{"mc", "a"}, {"region", "r2"}, {"phase", "Creating"}}));
  CHECK_FALSE(g.remove({{"mc", "a"}, {"region", "r2"}, {"phase", "Creating"}}));
  std::string text = r.render();
  CHECK(text.find("Creating") == std::string::npos);
  CHECK(text.find(R"(phase{mc="a",phase="Ready",region="r1"} 1)") != std::string::npos);

  // "a" matches neither "ab" nor a value that merely contains mc="a".
  CHECK(g.remove_matching({{"mc", "a"}}) == 1);
  text = r.render();
  CHECK(text.find(R"(mc="a",)") == std::string::npos);
  CHECK(text.find(R"(mc="ab")") != std::string::npos);
  CHECK(text.find(R"(mc="b\",mc=\"a")") != std::string::npos);
  CHECK(g.remove_matching({{"region", "r1"}, {"phase", "Ready"}}) == 2);
  CHECK(r.render().empty());
  // Emptied, the family takes children again.
  g.labels({{"mc", "c"}, {"region", "r3"}, {"phase", "Ready"}}).set(1);
  CHECK(r.render().find(R"(mc="c")") != std::string::npos);
}

TEST_CASE(
    "runtime metrics: API requests, watch restarts and Events are counted under their controller "
    "with generic names") {
  auto a = runtime::api_request_observer("ctl-a", "c1");
  auto b = runtime::api_request_observer("ctl-b", "c1");
  a({"get", 200, std::chrono::milliseconds(3)});
  a({"get", 200, std::chrono::milliseconds(3)});
  b({"get", 0, std::chrono::milliseconds(3)});
  auto& requests = runtime::metrics().api_requests;
  CHECK(requests
            .labels({{"controller", "ctl-a"}, {"cluster", "c1"}, {"verb", "get"}, {"code", "200"}})
            .value() == 2);
  CHECK(requests
            .labels(
                {{"controller", "ctl-b"}, {"cluster", "c1"}, {"verb", "get"}, {"code", "<error>"}})
            .value() == 1);
  auto watch = runtime::watch_restart_observer("ctl-a", "c1", "pods");
  k8s::watcher_status s;
  s.rewatches = 3;
  s.relists = 1;
  watch(s);
  watch(s);  // running totals: the same report counts once
  CHECK(
      runtime::metrics()
          .watch_restarts.labels({{"controller", "ctl-a"}, {"cluster", "c1"}, {"resource", "pods"}})
          .value() == 3);
  runtime::event_counts("ctl-a").created.inc();
  const std::string text = m::default_registry().render();
  CHECK(text.find("operator_api_requests_total{cluster=\"c1\",code=\"200\",controller=\"ctl-a\","
                  "verb=\"get\"} 2") != std::string::npos);
  CHECK(text.find("operator_watch_relists_total{cluster=\"c1\",controller=\"ctl-a\",resource="
                  "\"pods\"} 1") != std::string::npos);
  CHECK(text.find("operator_kubernetes_events_total{controller=\"ctl-a\",result=\"created\"} 1") !=
        std::string::npos);
  CHECK(text.find("multicasskop_api") == std::string::npos);
  // A cluster removed from one controller loses its series there only.
  runtime::forget_cluster_metrics("ctl-a", "c1");
  const std::string after = m::default_registry().render();
  CHECK(after.find("controller=\"ctl-a\",verb") == std::string::npos);
  CHECK(after.find("controller=\"ctl-b\"") != std::string::npos);
}

TEST_CASE("memory metrics: malloc heap by kind, and a labelled watcher's cache series") {
  k8s::metrics::registry r;
  k8s::register_heap_metrics(r);
  std::vector<char*> blocks;
  for (int i = 0; i < 64; ++i) blocks.push_back(new char[1024]);
  const std::string heap = r.render();
  for (char* b : blocks) delete[] b;
  for (const char* kind : {"arena", "mmap", "in_use", "free"})
    CHECK(heap.find(std::string("process_heap_bytes{kind=\"") + kind + "\"} ") !=
          std::string::npos);
  CHECK(heap.find("process_heap_bytes{kind=\"in_use\"} 0\n") ==
        std::string::npos);  // 64 KiB at least

  const std::string series =
      R"(operator_cache_objects{cluster="c1",controller="test",resource="things"} 0)";
  const std::string bytes =
      R"(operator_cache_bytes{cluster="c1",controller="test",resource="things"} 0)";
  {
    k8s::watcher_options o;
    o.what.version = "v1";
    o.what.plural = "things";
    o.metric_labels = {{"controller", "test"}, {"cluster", "c1"}};
    auto w = k8s::watcher::create(nullptr, nullptr, o, nullptr);  // never started: an empty cache
    const std::string text = k8s::metrics::default_registry().render();
    CHECK(text.find(series) != std::string::npos);
    CHECK(text.find(bytes) != std::string::npos);
  }
  CHECK(k8s::metrics::default_registry().render().find(series) ==
        std::string::npos);  // gone with it
}
