// The official Kubernetes Python client (Debian's python3-kubernetes 22.6 under /usr/bin/python3,
// not whatever python3 is on PATH) against kubesim: tests/kubesim/python/client_check.py.
#include <doctest/doctest.h>

#include "tests/support/kubesim_fixture.h"

using namespace testsupport;
using namespace std::chrono_literals;

TEST_CASE("python: the official kubernetes client drives CRDs, custom objects, watches and 410s") {
  {
    auto probe = run({"/usr/bin/python3", "-c", "import kubernetes"}, {}, 30s);
    INFO("/usr/bin/python3 with the kubernetes package (Debian python3-kubernetes) is needed: ", probe.err);
    REQUIRE(probe.exit_code == 0);
  }

  kubesim_instance sim;
  const std::string state = sim.state_dir() + "/state";
  const std::string script = std::string(TESTS_DIR) + "/kubesim/python/client_check.py";
  auto r = run({"/usr/bin/python3", script, sim.kubeconfig("k1"), read_file(state + "/control/url"),
                read_file(state + "/control/token"), "k1"},
               {{"HOME", sim.state_dir()}, {"PYTHONDONTWRITEBYTECODE", "1"}}, 90s);
  INFO("stdout:\n" << r.out << "\nstderr:\n" << r.err);
  CHECK_FALSE(r.timed_out);
  CHECK(r.exit_code == 0);
  for (const char* check : {"load_kube_config", "version", "crd-established", "create", "create-conflict",
                            "list", "patch", "patch_status", "replace-stale-409", "replace", "watch",
                            "delete", "watch-410-after-compact"}) {
    CHECK_MESSAGE(r.out.find(std::string("ok ") + check + "\n") != std::string::npos, check);
  }
  CHECK(r.out.find("all checks passed\n") != std::string::npos);
}
