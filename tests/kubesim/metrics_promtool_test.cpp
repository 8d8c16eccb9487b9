// The registry's exposition checked by the real Prometheus parser and linter: `promtool check
// metrics` (Debian package prometheus) reads it on stdin and must find nothing to say.
#include <doctest/doctest.h>

#include <limits>

#include "k8s/base/metrics.h"
#include "tests/support/process.h"

using namespace std::chrono_literals;
namespace m = k8s::metrics;

namespace {

testsupport::run_result promtool_check(const std::string& exposition) {
  return testsupport::run({"promtool", "check", "metrics"}, {}, 30s, exposition);
}

}  // namespace

TEST_CASE("metrics: promtool check metrics accepts every metric type without a problem") {
  m::registry r;
  auto& requests =
      r.counters("multicasskop_api_requests_total", "API requests by cluster and verb.");
  requests.labels({{"cluster", "a"}, {"verb", "GET"}}).inc(3);
  requests.labels({{"verb", "PUT"}, {"cluster", "b"}}).inc();
  r.counters("multicasskop_reconciles_total", "Reconciles.").labels({}).inc(0);
  r.gauges("multicasskop_queue_length", "Items waiting.").labels({{"queue", "main"}}).set(4);
  auto& odd = r.gauges("multicasskop_odd_values", "Help with a \\ backslash\nand a new line.");
  odd.labels({{"kind", "escaped \\ \" \n done"}}).set(0.1);
  odd.labels({{"kind", "inf"}}).set(std::numeric_limits<double>::infinity());
  odd.labels({{"kind", "nan"}}).set(std::numeric_limits<double>::quiet_NaN());
  odd.labels({{"kind", "tiny"}}).set(1e-9);
  auto& latency = r.histograms("multicasskop_request_duration_seconds", "Request latency.",
                               {0.005, 0.05, 0.5, 5});
  for (double v : {0.001, 0.02, 0.02, 0.7, 30.0}) latency.labels({{"verb", "GET"}}).observe(v);
  latency.labels({{"verb", "PUT"}});
  r.histograms("multicasskop_object_size_bytes", "Object sizes.", {1024, 1e6})
      .labels({})
      .observe(5e5);
  r.gauge_callback("multicasskop_leader", "1 while this replica leads.", [] { return 1.0; });
  r.labeled_gauge_callback("multicasskop_cluster_up", "1 when the cluster answers.", [] {
    return std::vector<m::labeled_value>{{{{"cluster", "a"}}, 1}, {{{"cluster", "b"}}, 0}};
  });

  const std::string text = r.render();
  auto res = promtool_check(text);
  INFO("exposition:\n" << text << "\npromtool stdout:\n" << res.out << "\nstderr:\n" << res.err);
  REQUIRE(!res.timed_out);
  CHECK(res.exit_code == 0);
  CHECK(res.out.empty());
  CHECK(res.err.empty());
}

TEST_CASE("metrics: promtool check metrics does read what we give it") {
  // A counter without the _total suffix is a lint problem: exit 3 and a line saying so, which
  // shows that the silence above is a verdict and not promtool ignoring its input.
  m::registry r;
  r.counters("multicasskop_requests", "No suffix.").labels({}).inc();
  auto res = promtool_check(r.render());
  CHECK(res.exit_code == 3);
  CHECK((res.out + res.err).find("_total") != std::string::npos);
  // A broken exposition is a parse error.
  auto broken = promtool_check("# TYPE x_total counter\nx_total{a=\"b} 1\n");
  CHECK(broken.exit_code == 1);
}
