// The runtime's cluster registry against kubesim: one client per cluster, handed out before
// its credentials exist, failing fast until they load, then switched in place; credentials
// re-read after a 401 (without any file watch: the registry alone).
#include <doctest/doctest.h>

#include <chrono>
#include <filesystem>

#include "actors/runtime/cluster_registry.h"
#include "tests/support/await_result.h"
#include "tests/support/kubesim_fixture.h"
#include "tests/support/process.h"

using namespace testsupport;
using namespace std::chrono_literals;

namespace {

const k8s::resource configmaps{"", "v1", "configmaps", "ConfigMap", true};

k8s::result<k8s::list_page> list(k8s::client& c) {
  return await<k8s::list_page>([&](auto cb) { c.list(configmaps, "default", {}, cb); });
}

}  // namespace

TEST_CASE(
    "cluster registry: a cluster whose kubeconfig is missing gets a client at once, failing fast, "
    "that works once the file appears") {
  kubesim_instance sim({"k1"});
  const std::string dir = make_temp_dir("registry-missing");
  runtime::cluster_source s;
  s.name = "k1";
  s.kubeconfig = dir + "/kubeconfig";
  auto registry = runtime::cluster_registry::create();
  auto conn = registry->connect(s);
  REQUIRE(conn.client);
  CHECK(conn.error.find(s.kubeconfig) != std::string::npos);
  CHECK_FALSE(registry->readable("k1"));
  const auto started = std::chrono::steady_clock::now();
  auto r = list(*conn.client);
  REQUIRE_FALSE(r);
  CHECK(std::chrono::steady_clock::now() - started < 1s);  // unsent
  CHECK(r.error().kind == k8s::error_kind::unreachable);
  CHECK_MESSAGE(r.error().message.find("credentials of cluster k1 not loaded") != std::string::npos,
                r.error().message);

  // The file appears, whole (renamed into place, as the kubelet updates mounted files; a plain
  // write can be read half-written by the retry, which then loads a truncated token): the
  // registry's own retry loads it into the same client.
  write_file(s.kubeconfig + ".tmp", read_file(sim.kubeconfig("k1")));
  std::filesystem::rename(s.kubeconfig + ".tmp", s.kubeconfig);
  REQUIRE(eventually([&] { return registry->error("k1").empty(); }, 10s));
  CHECK(registry->client("k1") == conn.client);
  CHECK(registry->connect(s).client == conn.client);
  CHECK(list(*conn.client).ok());
  CHECK(registry->readable("k1"));
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

TEST_CASE(
    "cluster registry: after a 401 the credentials are read again, and the same client works with "
    "the new token") {
  kubesim_instance sim({"k1"});
  runtime::cluster_source s;
  s.name = "k1";
  s.kubeconfig = sim.kubeconfig("k1");  // kubesim rewrites it when it rotates the token
  auto registry = runtime::cluster_registry::create();
  auto c = registry->connect(s).client;
  REQUIRE(list(*c).ok());
  REQUIRE(sim.control("k1", "rotate-token", "keepOld=false").status == 200);
  // The first request after the rotation is refused, which makes the registry read the file.
  auto refused = list(*c);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().kind == k8s::error_kind::unauthorized);
  CHECK_FALSE(registry->readable("k1"));
  CHECK(eventually([&] { return list(*c).ok(); }, 5s));
  CHECK(registry->readable("k1"));
}
