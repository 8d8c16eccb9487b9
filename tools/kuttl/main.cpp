// kuttl-runner: runs kuttl (kudobuilder/kuttl) test folders against a cluster, as
// `kubectl kuttl test` does, for the parts kuttl's tests of CassKop use.
//   kuttl-runner [test] [--config kuttl-test.yaml] [--test NAME]... [--namespace NS]
//                [--kubeconfig FILE] [--context NAME] [--timeout S] [--skip-delete] [DIR...]
#include <boost/program_options.hpp>

#include <fmt/format.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "k8s/api/connection.h"
#include "tools/kuttl/runner.h"

namespace po = boost::program_options;
namespace fs = std::filesystem;

namespace {

std::string default_kubeconfig() {
  if (const char* k = std::getenv("KUBECONFIG"); k && *k) {
    std::string s(k);
    return s.substr(0, s.find(':'));  // the first file of a list
  }
  if (const char* h = std::getenv("HOME")) return std::string(h) + "/.kube/config";
  return "";
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path + ": cannot read it");
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

int main(int argc, char** argv) {
  std::string config, ns, kubeconfig, context;
  std::vector<std::string> tests, dirs;
  int timeout = -1;
  int poll_ms = 1000;
  int max_timeout = 0;
  bool skip_delete = false;
  po::options_description desc("kuttl-runner: runs kuttl test folders against a cluster");
  desc.add_options()("help,h", "show this help")(
      "config", po::value(&config), "the TestSuite file (default: ./kuttl-test.yaml if present)")(
      "test", po::value(&tests), "run only the test folder with this name (repeatable)")(
      "namespace", po::value(&ns),
      "run every test in this namespace (created if missing) instead of a fresh one per test")(
      "kubeconfig", po::value(&kubeconfig),
      "kubeconfig file (default: $KUBECONFIG, ~/.kube/config)")(
      "context", po::value(&context), "kubeconfig context (default: its current-context)")(
      "timeout", po::value(&timeout), "seconds for asserts and commands (overrides the suite's)")(
      "skip-delete", po::bool_switch(&skip_delete), "keep the test namespaces at the end")(
      "poll-interval-ms", po::value(&poll_ms)->default_value(1000),
      "how often asserts are checked again (kuttl: 1000)")(
      "max-timeout", po::value(&max_timeout),
      "cap on every timeout, TestAssert's and commands' own too, in seconds (not kuttl's)");
  po::options_description hidden;
  hidden.add_options()("dirs", po::value(&dirs));
  po::options_description all;
  all.add(desc).add(hidden);
  po::positional_options_description pos;
  pos.add("dirs", -1);
  try {
    po::variables_map vm;
    po::store(po::command_line_parser(argc, argv).options(all).positional(pos).run(), vm);
    po::notify(vm);
    if (vm.count("help")) {
      std::cout << desc << "\n";
      return 0;
    }
  } catch (const po::error& e) {
    std::cerr << "kuttl-runner: " << e.what() << "\n" << desc << "\n";
    return 2;
  }
  if (!dirs.empty() && dirs.front() == "test") dirs.erase(dirs.begin());  // `kuttl test ...`

  kuttl::suite suite;
  fs::path suite_dir = fs::current_path();
  try {
    if (config.empty() && fs::exists("kuttl-test.yaml")) config = "kuttl-test.yaml";
    if (!config.empty()) {
      suite = kuttl::parse_suite(read_text(config), config);
      suite_dir = fs::absolute(config).parent_path();
    }
  } catch (const std::exception& e) {
    std::cerr << "kuttl-runner: " << e.what() << "\n";
    return 2;
  }
  std::vector<fs::path> test_dirs;
  if (!dirs.empty()) {
    for (const auto& d : dirs) test_dirs.push_back(fs::absolute(d));
  } else {
    for (const auto& d : suite.test_dirs) test_dirs.push_back(fs::absolute(suite_dir / d));
  }
  if (test_dirs.empty()) {
    std::cerr << "kuttl-runner: no test directory (give one, or a TestSuite with testDirs)\n";
    return 2;
  }

  kuttl::run_options o;
  o.namespace_name = ns.empty() ? suite.namespace_name : ns;
  o.skip_delete = skip_delete || suite.skip_delete;
  o.timeout_seconds = timeout >= 0 ? timeout : suite.timeout_seconds;
  if (poll_ms < 10) {
    std::cerr << "kuttl-runner: --poll-interval-ms must be at least 10\n";
    return 2;
  }
  o.poll_interval = std::chrono::milliseconds(poll_ms);
  o.max_timeout_seconds = max_timeout;
  o.kubeconfig = fs::absolute(kubeconfig.empty() ? default_kubeconfig() : kubeconfig).string();

  std::unique_ptr<kuttl::cluster> cluster;
  try {
    cluster = std::make_unique<kuttl::cluster>(k8s::load_kubeconfig(o.kubeconfig, context));
  } catch (const std::exception& e) {
    std::cerr << "kuttl-runner: " << e.what() << "\n";
    return 2;
  }

  // Every sub-folder of a test directory is a test, in name order.
  std::vector<std::pair<std::string, fs::path>> cases;
  for (const auto& d : test_dirs) {
    if (!fs::is_directory(d)) {
      std::cerr << "kuttl-runner: " << d.string() << " is not a directory\n";
      return 2;
    }
    std::vector<fs::path> subs;
    for (const auto& e : fs::directory_iterator(d))
      if (e.is_directory()) subs.push_back(e.path());
    std::sort(subs.begin(), subs.end());
    for (const auto& s : subs) {
      const std::string name = s.filename().string();
      if (tests.empty() || std::find(tests.begin(), tests.end(), name) != tests.end())
        cases.emplace_back(name, s);
    }
  }
  for (const auto& t : tests)
    if (std::none_of(cases.begin(), cases.end(), [&](const auto& c) { return c.first == t; })) {
      std::cerr << "kuttl-runner: no test folder named " << t << "\n";
      return 2;
    }

  std::vector<kuttl::test_report> reports;
  for (const auto& [name, path] : cases)
    reports.push_back(kuttl::run_test(*cluster, path.string(), name, o, std::cout));

  int failed = 0;
  std::cout << "\nsummary:\n";
  for (const auto& r : reports) {
    std::string where = r.failure;
    if (!r.ok && where.empty() && !r.steps.empty()) where = "step " + r.steps.back().step;
    std::cout << fmt::format("  {:<12} {:<7} {:7.1f}s{}\n", r.test, r.ok ? "passed" : "FAILED",
                             r.seconds, r.ok ? "" : "  at " + where);
    failed += r.ok ? 0 : 1;
  }
  std::cout << fmt::format("{} passed, {} failed\n", reports.size() - failed, failed);
  return failed == 0 ? 0 : 1;
}
