// kubectl exec against kubesim (issue 13 item 2): the pods/exec subresource over WebSocket
// (v5.channel.k8s.io, as kubectl v1.32 asks first), answered by the simulated Cassandra pods of
// --simulate-cassandra: `nodetool status` prints the ring, `cqlsh -e` runs a statement, exit
// codes come back through the error channel as kubectl reports them.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "k8s/json/json.h"
#include "tests/support/cassandra_node_yaml.h"
#include "tests/support/kubesim_fixture.h"
#include "tools/kubesim/pod_exec.h"

using namespace testsupport;
using namespace std::chrono_literals;
namespace js = k8s::json;

namespace {

// What kubectl itself writes on stderr when it picks the pod's default container.
const std::string kDefaulted =
    "Defaulted container \"cassandra\" out of: cassandra, bootstrap (init)\n";

int count_of(const std::string& text, const std::string& what) {
  int n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

std::string pod_ip(const kubesim_instance& sim, const std::string& pod) {
  auto r = sim.kubectl("k1", {"get", "pod", pod, "-o", "jsonpath={.status.podIP}"});
  return r.exit_code == 0 ? r.out : "";
}

void apply_yaml(const kubesim_instance& sim, const std::string& yaml) {
  auto r = sim.kubectl("k1", {"apply", "-f", "-"}, yaml);
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
}

run_result exec(const kubesim_instance& sim, const std::string& pod,
                const std::vector<std::string>& command) {
  std::vector<std::string> args{"exec", pod, "--"};
  args.insert(args.end(), command.begin(), command.end());
  return sim.kubectl("k1", args);
}

// Three Cassandra pods whose nodes are all UN in the ring (seen through kubectl exec itself).
void three_nodes_up(const kubesim_instance& sim) {
  apply_yaml(sim, service_yaml("") + statefulset_yaml("dc1", cluster_seeds("dc1", 3), 3));
  REQUIRE(eventually(
      [&] {
        auto r = exec(sim, pod_name("dc1", 0), {"nodetool", "status"});
        return r.exit_code == 0 && count_of(r.out, "\nUN  ") == 3;
      },
      60s));
}

}  // namespace

TEST_CASE("pod exec: kubectl exec nodetool status prints the ring of three Cassandra pods") {
  kubesim_instance sim{{"k1"}, {"--simulate-workloads", "--simulate-cassandra"}};
  three_nodes_up(sim);
  for (int i = 0; i < 3; ++i) {
    auto r = exec(sim, pod_name("dc1", i), {"nodetool", "status"});
    INFO(r.out, r.err);
    CHECK(r.exit_code == 0);
    CHECK(r.err == kDefaulted);
    CHECK(count_of(r.out, "Datacenter: dc1") == 1);
    CHECK(count_of(r.out, "\nUN  ") == 3);
    for (int j = 0; j < 3; ++j) {
      auto ip = pod_ip(sim, pod_name("dc1", j));
      REQUIRE(!ip.empty());
      CHECK(r.out.find("UN  " + ip) != std::string::npos);
    }
  }
  // The same text as the control API's, and with the host options nodetool users pass.
  auto control =
      sim.control("k1", "cassandra/nodetool-status", "namespace=default&pod=" + pod_name("dc1", 0));
  auto with_host = exec(sim, pod_name("dc1", 0), {"nodetool", "-h", "localhost", "status"});
  CHECK(with_host.exit_code == 0);
  CHECK(with_host.out == control.body);
}

TEST_CASE("pod exec: cqlsh -e alters a keyspace and a bad statement exits 2 with cqlsh's error") {
  kubesim_instance sim{{"k1"}, {"--simulate-workloads", "--simulate-cassandra"}};
  three_nodes_up(sim);
  const auto pod = pod_name("dc1", 1);
  auto ok = exec(sim, pod,
                 {"cqlsh", "-e",
                  "ALTER KEYSPACE system_auth WITH replication = {'class': "
                  "'NetworkTopologyStrategy', 'dc1': '3'}"});
  INFO(ok.out, ok.err);
  CHECK(ok.exit_code == 0);
  CHECK(ok.err == kDefaulted);

  auto bad = exec(sim, pod,
                  {"cqlsh", "-e",
                   "ALTER KEYSPACE nope WITH replication = {'class': 'SimpleStrategy', "
                   "'replication_factor': '1'}"});
  INFO(bad.out, bad.err);
  CHECK(bad.exit_code == 2);
  CHECK(bad.err.find("nope") != std::string::npos);
  // kubectl's own line for a NonZeroExitCode status.
  CHECK(bad.err.find("command terminated with exit code 2") != std::string::npos);
}

TEST_CASE("pod exec: commands kubesim does not simulate, other containers and unknown pods") {
  kubesim_instance sim{{"k1"}, {"--simulate-workloads", "--simulate-cassandra"}};
  three_nodes_up(sim);
  auto ls = exec(sim, pod_name("dc1", 0), {"ls", "-l", "/var/lib/cassandra"});
  INFO(ls.out, ls.err);
  CHECK(ls.exit_code == 126);
  CHECK(ls.err.find("kubesim: command not simulated: ls -l /var/lib/cassandra") !=
        std::string::npos);
  auto decommission = exec(sim, pod_name("dc1", 0), {"nodetool", "decommission"});
  CHECK(decommission.exit_code == 126);
  CHECK(decommission.err.find("command not simulated: nodetool decommission") != std::string::npos);

  // A pod that is no Cassandra node has no nodetool, as runc reports it.
  apply_yaml(sim, R"(apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: default
spec:
  containers:
  - name: nginx
    image: nginx:1.27
)");
  auto web = exec(sim, "web", {"nodetool", "status"});
  INFO(web.out, web.err);
  CHECK(web.exit_code == 126);
  CHECK(web.err.find("exec: \"nodetool\": executable file not found in $PATH") !=
        std::string::npos);

  // A container the pod does not have, and a pod that does not exist: errors before any stream.
  auto wrong = sim.kubectl("k1", {"exec", pod_name("dc1", 0), "-c", "sidecar", "--", "ls"});
  CHECK(wrong.exit_code == 1);
  CHECK(wrong.err.find("container sidecar is not valid for pod " + pod_name("dc1", 0)) !=
        std::string::npos);
  auto missing = exec(sim, "nope", {"nodetool", "status"});
  CHECK(missing.exit_code == 1);
  CHECK(missing.err.find("pods \"nope\" not found") != std::string::npos);
}

TEST_CASE("pod exec: without --simulate-cassandra no command runs") {
  kubesim_instance sim{{"k1"}, {"--simulate-workloads"}};
  apply_yaml(sim, R"(apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: default
spec:
  containers:
  - name: cassandra
    image: cassandra:3.11.10
)");
  auto r = exec(sim, "web", {"nodetool", "status"});
  INFO(r.out, r.err);
  CHECK(r.exit_code == 126);
  CHECK(r.err.find("executable file not found") != std::string::npos);
}

TEST_CASE("pod exec: RBAC needs create on pods/exec, also for the WebSocket GET") {
  kubesim_instance sim{{"k1"}, {"--simulate-workloads", "--simulate-cassandra"}};
  three_nodes_up(sim);
  // alice reads pods and may `get` pods/exec, which v1.32 no longer takes for an exec.
  apply_yaml(sim, R"(apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: exec
  namespace: default
rules:
- apiGroups: [""]
  resources: ["pods"]
  verbs: ["get", "list"]
- apiGroups: [""]
  resources: ["pods/exec"]
  verbs: ["get"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: exec
  namespace: default
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: Role
  name: exec
subjects:
- apiGroup: rbac.authorization.k8s.io
  kind: User
  name: alice
)");
  const auto pod = pod_name("dc1", 0);
  auto denied = sim.kubectl("k1", {"exec", "--as=alice", pod, "--", "nodetool", "status"});
  INFO(denied.out, denied.err);
  CHECK(denied.exit_code == 1);
  CHECK(denied.err.find("cannot create resource \"pods/exec\"") != std::string::npos);
  CHECK(denied.out.find("Datacenter") == std::string::npos);

  auto r = sim.kubectl("k1", {"patch", "role", "exec", "--type=json", "-p",
                              R"([{"op":"add","path":"/rules/1/verbs/-","value":"create"}])"});
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  REQUIRE(eventually([&] {
    return sim.kubectl("k1", {"exec", "--as=alice", pod, "--", "nodetool", "status"}).exit_code ==
           0;
  }));
}

TEST_CASE("pod exec: the channel messages and the Status of the error channel") {
  using namespace kubesim;
  CHECK(exec_subprotocol("v5.channel.k8s.io, v4.channel.k8s.io, v3.channel.k8s.io") ==
        "v5.channel.k8s.io");
  CHECK(exec_subprotocol("v4.channel.k8s.io,v3.channel.k8s.io") == "v4.channel.k8s.io");
  CHECK(exec_subprotocol("v4.base64.channel.k8s.io").empty());
  CHECK(exec_subprotocol("v4.channel.k8s.io, v5.channel.k8s.io") == "v4.channel.k8s.io");

  exec_options o;
  o.stdout_ = o.stderr_ = true;
  auto m = exec_messages(o, {"out\n", "err\n", 3});
  REQUIRE(m.size() == 4);
  CHECK(m[0] == std::string(1, '\x01'));  // streams open: empty message on stdout
  CHECK(m[1] == "\x01out\n");
  CHECK(m[2] ==
        "\x02"
        "err\n");
  CHECK(m[3][0] == '\x03');
  auto status = js::parse(m[3].substr(1));
  CHECK(js::get_string(status, "status") == "Failure");
  CHECK(js::get_string(status, "reason") == "NonZeroExitCode");
  const auto* causes = js::find_path(status, {"details", "causes"});
  REQUIRE((causes && causes->IsArray() && causes->Size() == 1));
  CHECK(js::get_string((*causes)[0], "reason") == "ExitCode");
  CHECK(js::get_string((*causes)[0], "message") == "3");
  auto success = js::parse(exec_messages(o, {"", "", 0}).back().substr(1));
  CHECK(js::get_string(success, "status") == "Success");
}
