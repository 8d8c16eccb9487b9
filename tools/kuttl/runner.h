// Runs kuttl test folders against a cluster: per test a namespace (fresh, or the one given),
// steps in index order (deletions, commands, objects created or merge-patched, then asserts and
// errors polled, asserts also watched, until the timeout), the first failing step ends the test.
// Prints a plain report.
#pragma once

#include <chrono>
#include <ostream>
#include <string>
#include <vector>

#include "tools/kuttl/cluster.h"
#include "tools/kuttl/test_case.h"

namespace kuttl {

struct run_options {
  std::string namespace_name;   // "" = a fresh kuttl-test-<words> per test, deleted at its end
  bool skip_delete = false;     // keep the namespace (and what is in it) at the end
  int timeout_seconds = 30;     // asserts and commands, unless the step says otherwise
  int max_timeout_seconds = 0;  // > 0: caps every timeout, the steps' own too (bounded CI runs)
  std::string kubeconfig;       // KUBECONFIG for the commands
  // How often asserts and errors are polled; kuttl's is 1 s. Asserts are also evaluated at every
  // watch event of their kinds (assert_watch.h), so short-lived states pass regardless.
  std::chrono::milliseconds poll_interval{1000};
};

struct step_report {
  std::string step;  // "01-scaleUp"
  bool ok = false;
  std::string failure;
  double seconds = 0;
};

struct test_report {
  std::string test;
  std::string namespace_name;
  bool ok = false;
  std::string failure;  // when it failed outside a step (loading, namespace)
  std::vector<step_report> steps;
  double seconds = 0;
};

test_report run_test(cluster& c, const std::string& dir, const std::string& name,
                     const run_options& o, std::ostream& log);

}  // namespace kuttl
