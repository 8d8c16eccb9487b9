// multi-casskop with the least privilege deploy/kustomize gives it, under kubesim's RBAC: the
// local region reached as the ServiceAccount multi-casskop of the base (with a TokenRequest
// token, as a pod's projected token), the remote one as multi-casskop-remote of the region2
// overlay (its token Secret filled by the token controller, mounted as kubemcsa exports it).
#include <doctest/doctest.h>

#include <filesystem>

#include "k8s/json/base64.h"
#include "tests/e2e/e2e_setup.h"

using namespace testsupport;
using namespace e2e;
using namespace std::chrono_literals;

namespace {

const std::string kBase = std::string(SOURCE_DIR) + "/deploy/kustomize/base";
const std::string kRegion2 = std::string(SOURCE_DIR) + "/deploy/kustomize/overlays/region2";

std::string token_kubeconfig(const std::string& name, const std::string& server,
                             const std::string& ca_pem, const std::string& token) {
  return fmt::format(
      R"({{"apiVersion":"v1","kind":"Config","clusters":[{{"name":"{0}","cluster":{{"server":"{1}","certificate-authority-data":"{2}"}}}}],)"
      R"("users":[{{"name":"{0}","user":{{"token":"{3}"}}}}],"contexts":[{{"name":"{0}","context":{{"cluster":"{0}","user":"{0}","namespace":"{4}"}}}}],)"
      R"("current-context":"{0}"}})",
      name, server, k8s::base64_encode(ca_pem), token, kNs);
}

}  // namespace

TEST_CASE(
    "rbac: the Roles of deploy/kustomize are enough for multi-casskop in both regions, with no "
    "403") {
  world w({kC1, kC2});
  auto applied = w.sim.kubectl(kC1, {"apply", "-k", kBase});
  REQUIRE_MESSAGE(applied.exit_code == 0, applied.err);
  applied = w.sim.kubectl(kC2, {"apply", "-k", kRegion2});
  REQUIRE_MESSAGE(applied.exit_code == 0, applied.err);

  const std::string dir = make_temp_dir("e2e-rbac");
  // Region 1: the base's ServiceAccount, with a TokenRequest token.
  auto token =
      w.sim.kubectl(kC1, {"create", "token", "multi-casskop", "-n", kNs, "--duration", "1h"});
  REQUIRE_MESSAGE(token.exit_code == 0, token.err);
  const std::string local_token = token.out.substr(0, token.out.find('\n'));
  write_file(dir + "/local-kubeconfig",
             token_kubeconfig(kC1, w.sim.url(kC1), w.sim.ca_pem(kC1), local_token));

  // Region 2: the overlay's token Secret, once the token controller has filled it, as files.
  js::Document secret;
  REQUIRE(eventually([&] {
    auto r = w.api(kC2).get("/api/v1/namespaces/" + kNs + "/secrets/multi-casskop-remote-token");
    if (r.status != 200) return false;
    secret = r.json();
    return !js::get_string(secret, {"data", "token"}).empty();
  }));
  const std::string remote = dir + "/k8s-cluster2";
  std::filesystem::create_directories(remote);
  for (const char* key : {"token", "ca.crt", "namespace"})
    write_file(remote + "/" + key, *k8s::base64_decode(js::get_string(secret, {"data", key})));
  write_file(remote + "/server", w.sim.url(kC2));
  // The identities are the ServiceAccounts, not the admin.
  auto who = w.sim.kubectl(kC2, {"--token", read_file(remote + "/token"), "auth", "whoami", "-o",
                                 "jsonpath={.status.userInfo.username}"});
  CHECK(who.out == "system:serviceaccount:" + kNs + ":multi-casskop-remote");

  write_file(dir + "/config.yaml",
             "namespace: " + kNs +
                 "\nclusters:\n"
                 "  - name: " +
                 kC1 + "\n    kubeconfig: " + dir +
                 "/local-kubeconfig\n"
                 "  - name: " +
                 kC2 + "\n    secretDir: " + remote +
                 "\n"
                 "leaderElection:\n  enabled: true\n  leaseName: multi-casskop\n"
                 "readiness:\n  legacySettleSeconds: 5\n"
                 "deletion:\n  startGraceSeconds: 3\n"
                 "admin:\n  address: \"127.0.0.1:0\"\n");
  operator_process op({"--config", dir + "/config.yaml"}, {{"POD_NAME", "multi-casskop-0"}});

  w.create_mcc(mcc_of("rbac", "cassandra-e2e", true, {kC1, kC2}));
  rollout_probe probe(w, {kC1, kC2});
  REQUIRE_MESSAGE(eventually([&] { return probe.sample(); }, 30s), w.explain("rbac", op));
  CHECK_MESSAGE(probe.violations.empty(), probe.violations.front());
  CHECK(probe.released_at[0] < probe.released_at[1]);
  REQUIRE_MESSAGE(eventually([&] { return mcc_ready(w.mcc("rbac")); }, 15s), w.explain("rbac", op));
  CHECK(cc_ready(w.cc(kC1)));
  CHECK(cc_ready(w.cc(kC2)));
  // It led through the Lease its Role names.
  CHECK(w.api(kC1)
            .get("/apis/coordination.k8s.io/v1/namespaces/" + kNs + "/leases/multi-casskop")
            .status == 200);

  // Deleting the MultiCasskop deletes both CassandraClusters, then lets the MultiCasskop go.
  auto del = w.kubectl({"delete", "multicasskop", "rbac", "-n", kNs, "--wait=false"});
  REQUIRE_MESSAGE(del.exit_code == 0, del.err);
  REQUIRE_MESSAGE(eventually([&] { return !w.mcc_if("rbac") && !w.cc(kC1) && !w.cc(kC2); }, 30s),
                  w.explain("rbac", op));

  const std::string log = op.log();
  // A 403 reads "... is forbidden: User ..." wherever the operator logs it ("403" alone could be
  // part of a resourceVersion).
  CHECK_MESSAGE(log.find("orbidden") == std::string::npos, log);
  CHECK(op.stop() == 0);
  std::filesystem::remove_all(dir);
}
