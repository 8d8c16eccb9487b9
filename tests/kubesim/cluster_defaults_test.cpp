// What every real cluster holds without anyone asking, seen through the real kubectl: each
// namespace's label, default ServiceAccount and kube-root-ca.crt, the kubernetes Service on
// the range's first address, and a ClusterIP allocator that never hands that address out.
#include <doctest/doctest.h>

#include "tests/support/kubesim_fixture.h"

using namespace testsupport;
using namespace std::chrono_literals;

namespace {

const char* namespace_yaml = R"(apiVersion: v1
kind: Namespace
metadata:
  name: team-a
)";

std::string service_yaml(const std::string& name, const std::string& cluster_ip = "") {
  return "apiVersion: v1\nkind: Service\nmetadata:\n  name: " + name +
         "\n  namespace: team-a\nspec:\n" +
         (cluster_ip.empty() ? "" : "  clusterIP: " + cluster_ip + "\n") +
         "  ports:\n  - port: 9042\n";
}

}  // namespace

TEST_CASE(
    "cluster defaults: a new namespace is labelled and gets its default ServiceAccount and "
    "kube-root-ca.crt") {
  kubesim_instance sim;
  auto r = sim.kubectl("k1", {"apply", "-f", "-"}, namespace_yaml);
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  auto label = [&] {
    return sim
        .kubectl("k1", {"get", "ns", "team-a", "-o",
                        "jsonpath={.metadata.labels.kubernetes\\.io/metadata\\.name}"})
        .out;
  };
  CHECK(label() == "team-a");
  // The label is the server's: a client that changes it gets it back.
  r = sim.kubectl("k1",
                  {"label", "ns", "team-a", "--overwrite", "kubernetes.io/metadata.name=other"});
  CHECK_MESSAGE(r.exit_code == 0, r.err);
  CHECK(label() == "team-a");

  REQUIRE(eventually(
      [&] {
        return sim.kubectl("k1", {"get", "sa", "default", "-n", "team-a"}).exit_code == 0;
      },
      5s));
  auto ca = [&] {
    return sim
        .kubectl("k1", {"get", "cm", "kube-root-ca.crt", "-n", "team-a", "-o",
                        "jsonpath={.data.ca\\.crt}"})
        .out;
  };
  REQUIRE(eventually([&] { return !ca().empty(); }, 5s));
  CHECK(ca() + "\n" == sim.ca_pem("k1") + "\n");

  // The controllers put back what is deleted or changed.
  r = sim.kubectl("k1", {"delete", "sa", "default", "-n", "team-a"});
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  CHECK(eventually(
      [&] {
        return sim.kubectl("k1", {"get", "sa", "default", "-n", "team-a"}).exit_code == 0;
      },
      5s));
  r = sim.kubectl("k1", {"patch", "cm", "kube-root-ca.crt", "-n", "team-a", "--type=merge", "-p",
                         R"({"data":{"ca.crt":"not a CA"}})"});
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  CHECK(eventually([&] { return ca() + "\n" == sim.ca_pem("k1") + "\n"; }, 5s));

  // The system namespaces have theirs too.
  CHECK(eventually(
      [&] {
        return sim.kubectl("k1", {"get", "cm", "kube-root-ca.crt", "-n", "kube-system"})
                   .exit_code == 0;
      },
      5s));
}

TEST_CASE("cluster defaults: the kubernetes Service holds 10.96.0.1, which no other Service gets") {
  kubesim_instance sim;
  auto r = sim.kubectl(
      "k1", {"get", "svc", "kubernetes", "-n", "default", "-o",
             "jsonpath={.spec.clusterIP} {.spec.ports[0].port} {.metadata.labels.component}"});
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  CHECK(r.out == "10.96.0.1 443 apiserver");
  // Its Endpoints name the API server's address, as `kubectl get endpoints` shows them.
  auto ep = sim.kubectl("k1", {"get", "endpoints", "kubernetes", "-n", "default"});
  REQUIRE_MESSAGE(ep.exit_code == 0, ep.err);
  CHECK(ep.out.find("127.0.0.1:6443") != std::string::npos);

  REQUIRE(sim.kubectl("k1", {"apply", "-f", "-"}, namespace_yaml).exit_code == 0);
  r = sim.kubectl("k1", {"apply", "-f", "-"}, service_yaml("cassandra"));
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  auto ip = sim.kubectl("k1", {"get", "svc", "cassandra", "-n", "team-a", "-o",
                               "jsonpath={.spec.clusterIP},{.spec.clusterIPs[0]}"})
                .out;
  const auto comma = ip.find(',');
  REQUIRE(comma != std::string::npos);
  CHECK(ip.substr(0, comma) == ip.substr(comma + 1));
  CHECK(ip.substr(0, 6) == "10.96.");
  CHECK(ip.substr(0, comma) != "10.96.0.1");

  // An address in use is refused as the real allocator refuses it; a free one is granted.
  r = sim.kubectl("k1", {"apply", "-f", "-"}, service_yaml("taken", "10.96.0.1"));
  CHECK(r.exit_code != 0);
  CHECK_MESSAGE(r.err.find("failed to allocate IP 10.96.0.1: provided IP is already allocated") !=
                    std::string::npos,
                r.err);
  r = sim.kubectl("k1", {"apply", "-f", "-"}, service_yaml("chosen", "10.96.200.7"));
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  // Freed with its Service, then free for the next one.
  REQUIRE(sim.kubectl("k1", {"delete", "svc", "chosen", "-n", "team-a"}).exit_code == 0);
  r = sim.kubectl("k1", {"apply", "-f", "-"}, service_yaml("again", "10.96.200.7"));
  CHECK_MESSAGE(r.exit_code == 0, r.err);
  // Headless stays headless.
  r = sim.kubectl("k1", {"apply", "-f", "-"}, service_yaml("headless", "None"));
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  CHECK(sim.kubectl("k1",
                    {"get", "svc", "headless", "-n", "team-a", "-o", "jsonpath={.spec.clusterIP}"})
            .out == "None");
}
