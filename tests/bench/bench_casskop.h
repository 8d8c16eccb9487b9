// What the casskop benchmarks share: casskop's API requests from its /metrics (reads and writes
// by verb), starting casskop against a kubesim cluster and finding its admin port, and the
// command-line parsing (--name VALUE options and --switches). Used by casskop_bench.cpp and
// casskop_scale_bench.cpp.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <regex>
#include <stdexcept>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "tests/bench/bench_http.h"
#include "tests/support/kubesim_fixture.h"
#include "tests/support/operator_fixture.h"

namespace bench {

// casskop's API requests so far, by verb, from its /metrics.
inline std::map<std::string, double> api_requests(const std::string& admin_port) {
  target t;
  t.port = admin_port;
  connection c(t);
  auto r = c.send(http::verb::get, "/metrics");
  if (r.status != 200)
    throw std::runtime_error("casskop /metrics: HTTP " + std::to_string(r.status));
  std::map<std::string, double> by_verb;
  static const std::regex verb_re(R"re(verb="([a-z]+)")re");
  size_t at = 0;
  while (at < r.body.size()) {
    size_t end = r.body.find('\n', at);
    if (end == std::string::npos) end = r.body.size();
    std::string line = r.body.substr(at, end - at);
    at = end + 1;
    if (line.rfind("operator_api_requests_total{", 0) != 0 ||
        line.find("controller=\"casskop\"") == std::string::npos)
      continue;
    std::smatch m;
    if (!std::regex_search(line, m, verb_re)) continue;
    by_verb[m[1].str()] += std::atof(line.c_str() + line.rfind(' ') + 1);
  }
  return by_verb;
}

inline bool is_write(const std::string& verb) {
  return verb == "create" || verb == "update" || verb == "patch" || verb == "delete";
}

struct request_count {
  double reads = 0, writes = 0;
  std::string detail;  // "create 12, update 9, ..."
};

inline request_count requests_between(const std::map<std::string, double>& before,
                                      const std::map<std::string, double>& after) {
  request_count out;
  for (const auto& [verb, n] : after) {
    auto b = before.find(verb);
    double d = n - (b == before.end() ? 0 : b->second);
    if (d <= 0) continue;
    (is_write(verb) ? out.writes : out.reads) += d;
    out.detail += fmt::format("{}{} {:.0f}", out.detail.empty() ? "" : ", ", verb, d);
  }
  if (out.detail.empty()) out.detail = "none";
  return out;
}

// casskop started with a config for namespace `ns` of kubesim's cluster `cluster`, once it
// listens on its admin endpoint and has listed; throws with its log otherwise.
struct casskop_run {
  std::unique_ptr<testsupport::operator_process> process;
  std::string admin_port;
};
inline casskop_run start_casskop(const testsupport::kubesim_instance& sim,
                                 const std::string& cluster, const std::string& ns,
                                 const std::string& binary) {
  const std::string config = sim.state_dir() + "/casskop.yaml";
  testsupport::write_file(config, fmt::format("namespace: {}\nclusters:\n  - name: {}\n    "
                                              "kubeconfig: {}\nadmin: {{address: "
                                              "\"127.0.0.1:0\"}}\nlog: {{level: info}}\n",
                                              ns, cluster, sim.kubeconfig(cluster)));
  casskop_run run;
  run.process = std::make_unique<testsupport::operator_process>(
      testsupport::operator_process::binary{binary}, std::vector<std::string>{"--config", config});
  auto& op = *run.process;
  if (!op.wait_for_log("msg=\"Admin endpoint listening\"", std::chrono::seconds(20)))
    throw std::runtime_error("casskop did not start:\n" + op.log());
  static const std::regex re(R"re(msg="Admin endpoint listening" address="?[0-9.]+:([0-9]+))re");
  std::smatch m;
  std::string log = op.current_log();
  if (!std::regex_search(log, m, re)) throw std::runtime_error("no admin address in:\n" + log);
  run.admin_port = m[1].str();
  if (!op.wait_for_log("First lists in", std::chrono::seconds(20)))
    throw std::runtime_error("casskop never listed:\n" + op.log());
  return run;
}

// A command line of `--name VALUE` options (int or string) and `--name` switches, each bound to
// a field. parse() throws std::invalid_argument on an unknown option or a missing value.
class arguments {
 public:
  arguments& value(const std::string& name, int& field) {
    values_[name] = [&field](const std::string& v) { field = std::stoi(v); };
    return *this;
  }
  arguments& value(const std::string& name, std::string& field) {
    values_[name] = [&field](const std::string& v) { field = v; };
    return *this;
  }
  // A switch that sets `field` to `to`.
  arguments& flag(const std::string& name, bool& field, bool to = true) {
    flags_[name] = [&field, to] { field = to; };
    return *this;
  }
  void parse(int argc, char** argv) const {
    for (int i = 1; i < argc; ++i) {
      const std::string a = argv[i];
      if (auto f = flags_.find(a); f != flags_.end()) {
        f->second();
        continue;
      }
      auto v = values_.find(a);
      if (v == values_.end()) throw std::invalid_argument("unknown option " + a);
      if (i + 1 >= argc) throw std::invalid_argument(a + " needs a value");
      try {
        v->second(argv[++i]);
      } catch (const std::logic_error&) {
        throw std::invalid_argument(a + ": not a number: " + argv[i]);
      }
    }
  }

 private:
  std::map<std::string, std::function<void(const std::string&)>> values_;
  std::map<std::string, std::function<void()>> flags_;
};

}  // namespace bench
