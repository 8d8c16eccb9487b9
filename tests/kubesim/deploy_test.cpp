// The deployment of deploy/: the kustomize base (multi-casskop in its local cluster) and the
// region2 overlay (a remote region) render with the real kubectl, hold exactly the expected
// objects with least-privilege RBAC, and install into kubesim; the operator accepts the config
// they ship; the README's manual export of a remote service account makes a secret the operator
// can use as its secretDir. The Dockerfile cannot be built here (no Docker daemon); its runtime
// stage is checked against the shared libraries the binary loads.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "k8s/json/base64.h"
#include "k8s/json/yaml_json.h"
#include "tests/support/kubesim_fixture.h"
#include "tests/support/operator_fixture.h"

using namespace testsupport;
namespace fs = std::filesystem;
namespace js = k8s::json;

namespace {

const std::string repo_root = TESTS_DIR "/..";
const std::string base_dir = repo_root + "/deploy/kustomize/base";
const std::string region2_dir = repo_root + "/deploy/kustomize/overlays/region2";
const std::string watched = "cassandra-e2e";
const std::string admiralty_dir = "/var/run/secrets/admiralty.io/serviceaccountimports/";

std::string str(const js::Value* v) {
  return v && v->IsString() ? std::string(js::view(*v)) : "";
}

std::vector<std::string> strings(const js::Value* v) {
  std::vector<std::string> out;
  if (v && v->IsArray())
    for (const auto& e : v->GetArray())
      out.push_back(e.IsString() ? std::string(js::view(e)) : js::to_string(e));
  return out;
}

// The objects of a `kubectl kustomize` output, by "Kind/name".
struct rendered {
  std::vector<js::Document> objects;

  std::set<std::string> ids() const {
    std::set<std::string> out;
    for (const auto& o : objects)
      out.insert(std::string(js::get_string(o, "kind")) + "/" +
                 std::string(js::get_string(o, {"metadata", "name"})));
    return out;
  }
  const js::Value& get(const std::string& kind, const std::string& name) const {
    for (const auto& o : objects)
      if (js::get_string(o, "kind") == kind && js::get_string(o, {"metadata", "name"}) == name)
        return o;
    FAIL("no " << kind << "/" << name << " in the output");
    throw std::logic_error("unreachable");
  }
};

rendered kustomize(const std::string& dir) {
  auto r = run({"kubectl", "kustomize", dir}, {}, std::chrono::seconds(60));
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  rendered out;
  std::vector<YAML::Node> docs;
  REQUIRE_NOTHROW(docs = YAML::LoadAll(r.out));
  for (const auto& doc : docs) {
    if (doc.IsNull()) continue;
    js::Document d;
    js::Value v = js::yaml_node_to_json(doc, d.GetAllocator());
    static_cast<js::Value&>(d).Swap(v);
    REQUIRE(d.IsObject());
    out.objects.push_back(std::move(d));
  }
  return out;
}

// A Role's rules as "group/resource" (plus "[names]" when limited to names) -> verbs; also
// checks that nothing is a wildcard and that no rule is about non-resource URLs.
std::map<std::string, std::set<std::string>> rules_of(const js::Value& role) {
  std::map<std::string, std::set<std::string>> out;
  const auto* rules = js::find(role, "rules");
  REQUIRE(rules);
  REQUIRE(rules->IsArray());
  for (const auto& rule : rules->GetArray()) {
    CHECK(js::find(rule, "nonResourceURLs") == nullptr);
    auto groups = strings(js::find(rule, "apiGroups"));
    auto resources = strings(js::find(rule, "resources"));
    auto verbs = strings(js::find(rule, "verbs"));
    auto names = strings(js::find(rule, "resourceNames"));
    for (const auto* list : {&groups, &resources, &verbs, &names})
      for (const auto& s : *list) {
        CAPTURE(s);
        CHECK(s.find('*') == std::string::npos);
      }
    std::string suffix;
    for (const auto& n : names) suffix += (suffix.empty() ? "[" : ",") + n;
    if (!suffix.empty()) suffix += "]";
    for (const auto& g : groups)
      for (const auto& r : resources) out[g + "/" + r + suffix].insert(verbs.begin(), verbs.end());
  }
  return out;
}

using verbs = std::set<std::string>;

// The verbs multi-casskop uses on CassandraClusters, in every region.
const std::map<std::string, verbs> cassandracluster_rules = {
    {"db.orange.com/cassandraclusters",
     {"get", "list", "watch", "create", "patch", "update", "delete"}},
    {"db.orange.com/cassandraclusters/status", {"get", "patch", "update"}},
};

// A TCP port nobody listens on now (for the admin endpoint of an operator under test).
int free_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  socklen_t len = sizeof a;
  REQUIRE(getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0);
  close(fd);
  return ntohs(a.sin_port);
}

// The config.yaml of the rendered ConfigMap, as text.
std::string config_text(const rendered& r) {
  return str(js::find_path(r.get("ConfigMap", "multi-casskop-config"), {"data", "config.yaml"}));
}

// The first ```sh block of README.md that contains `marker`, without the indentation of its
// fence (a block inside a list item is indented; what a reader copies is not).
std::string readme_block(const std::string& marker) {
  const std::string readme = read_file(repo_root + "/README.md");
  size_t at = 0;
  while ((at = readme.find("```sh\n", at)) != std::string::npos) {
    const size_t line_start = readme.rfind('\n', at) + 1;  // npos + 1 == 0
    const size_t indent = at - line_start;
    const size_t start = at + 6;
    const size_t end = readme.find("```", start);
    if (end == std::string::npos) break;
    const std::string block = readme.substr(start, end - start);
    if (block.find(marker) != std::string::npos) {
      std::string out;
      std::istringstream lines(block);
      for (std::string line; std::getline(lines, line);)
        out += line.substr(std::min({indent, line.size(), line.find_first_not_of(' ')})) + "\n";
      return out;
    }
    at = end + 3;
  }
  FAIL("README.md has no sh block with " << marker);
  return "";
}

void copy_tree(const std::string& from, const std::string& to) {
  fs::create_directories(to);
  fs::copy(from, to, fs::copy_options::recursive);
}

}  // namespace

TEST_CASE("deploy: the kustomize base renders every object, in the watched namespace") {
  auto base = kustomize(base_dir);
  CHECK(base.ids() == std::set<std::string>{
                          "CustomResourceDefinition/cassandraclusters.db.orange.com",
                          "CustomResourceDefinition/multicasskops.db.orange.com",
                          "ServiceAccount/multi-casskop",
                          "Role/multi-casskop",
                          "RoleBinding/multi-casskop",
                          "ConfigMap/multi-casskop-config",
                          "Deployment/multi-casskop",
                          "PodDisruptionBudget/multi-casskop",
                      });
  for (const auto& o : base.objects) {
    const std::string kind(js::get_string(o, "kind"));
    CAPTURE(kind);
    if (kind == "CustomResourceDefinition")
      CHECK(js::find_path(o, {"metadata", "namespace"}) == nullptr);
    else
      CHECK(js::get_string(o, {"metadata", "namespace"}) == watched);
    // Least privilege: nothing cluster-wide besides the CRDs themselves.
    CHECK(kind != "ClusterRole");
    CHECK(kind != "ClusterRoleBinding");
    CHECK(kind != "Namespace");
  }
  // The CRDs are those of deploy/crds, unchanged (one source for both).
  for (const char* file :
       {"db.orange.com_cassandraclusters.yaml", "db.orange.com_multicasskops.yaml"}) {
    CAPTURE(file);
    auto crd = js::yaml_to_json(read_file(repo_root + "/deploy/crds/" + file));
    const auto& out = base.get("CustomResourceDefinition",
                               std::string(js::get_string(crd, {"metadata", "name"})));
    CHECK(*js::find(out, "spec") == *js::find(crd, "spec"));
  }
}

TEST_CASE(
    "deploy: the base's Role grants only what multi-casskop uses, to its own ServiceAccount") {
  auto base = kustomize(base_dir);
  auto rules = rules_of(base.get("Role", "multi-casskop"));
  std::map<std::string, verbs> expected = {
      {"db.orange.com/multicasskops", {"get", "list", "watch", "patch", "update"}},
      {"db.orange.com/multicasskops/status", {"get", "patch", "update"}},
      {"/events", {"create", "patch", "list"}},
      // Leader election: create/list/watch cannot be limited to a name, the rest is.
      {"coordination.k8s.io/leases", {"create", "list", "watch"}},
      {"coordination.k8s.io/leases[multi-casskop]", {"get", "update", "patch"}},
  };
  expected.insert(cassandracluster_rules.begin(), cassandracluster_rules.end());
  CHECK(rules == expected);

  const auto& binding = base.get("RoleBinding", "multi-casskop");
  CHECK(js::get_string(binding, {"roleRef", "apiGroup"}) == "rbac.authorization.k8s.io");
  CHECK(js::get_string(binding, {"roleRef", "kind"}) == "Role");
  CHECK(js::get_string(binding, {"roleRef", "name"}) == "multi-casskop");
  const auto* subjects = js::find(binding, "subjects");
  REQUIRE(subjects);
  REQUIRE(subjects->Size() == 1);
  CHECK(js::get_string((*subjects)[0], "kind") == "ServiceAccount");
  CHECK(js::get_string((*subjects)[0], "name") == "multi-casskop");
  CHECK(js::get_string((*subjects)[0], "namespace") == watched);
}

TEST_CASE(
    "deploy: kustomize/casskop renders casskop with exactly the verbs it uses, probes on 8081") {
  auto k = kustomize(repo_root + "/deploy/kustomize/casskop");
  CHECK(k.ids() == std::set<std::string>{"ConfigMap/casskop-config",
                                         "CustomResourceDefinition/cassandraclusters.db.orange.com",
                                         "Deployment/casskop", "Role/casskop",
                                         "RoleBinding/casskop", "ServiceAccount/casskop"});
  std::map<std::string, verbs> expected = {
      {"db.orange.com/cassandraclusters", {"list", "watch", "update"}},
      {"apps/statefulsets", {"list", "watch", "create", "update", "delete"}},  // ActionDeleteDC
      {"/services", {"list", "watch", "create", "delete"}},
      {"policy/poddisruptionbudgets", {"list", "watch", "create", "patch"}},
      {"/persistentvolumeclaims", {"get", "list", "watch", "delete"}},  // remove waits for it
      {"/events", {"create", "patch", "list"}},
      {"coordination.k8s.io/leases", {"create", "list", "watch"}},
      {"coordination.k8s.io/leases[casskop]", {"get", "update", "patch"}},
      {"/configmaps", {"create"}},
      {"/configmaps[casskop-lock]", {"get", "update", "delete"}},
      // the Cassandra pods: asked over Jolokia, labelled (pod operations), deleted (remove)
      {"/pods", {"get", "list", "watch", "patch", "delete"}},
      {"/secrets", {"get"}},  // spec.imageJolokiaSecret
  };
  CHECK(rules_of(k.get("Role", "casskop")) == expected);
  const auto& d = k.get("Deployment", "casskop");
  const js::Value& c = (*js::find_path(d, {"spec", "template", "spec", "containers"}))[0];
  CHECK(strings(js::find(c, "command")) == std::vector<std::string>{"/usr/local/bin/casskop"});
  CHECK(strings(js::find(c, "args")) ==
        std::vector<std::string>{"--config", "/etc/casskop/config.yaml"});
  CHECK(js::get_string(c, {"livenessProbe", "httpGet", "path"}) == "/healthz");
  CHECK(js::get_string(c, {"readinessProbe", "httpGet", "path"}) == "/readyz");
  CHECK(js::get_int((*js::find(c, "ports"))[0], {"containerPort"}, 0) == 8081);
  const std::string config =
      str(js::find_path(k.get("ConfigMap", "casskop-config"), {"data", "config.yaml"}));
  CHECK(config.find("address: 0.0.0.0:8081") != std::string::npos);
  CHECK(config.find("leaseName: casskop") != std::string::npos);
  CHECK(config.find("goCasskopLock: true") != std::string::npos);
  CHECK(config.find("timeoutSeconds: 10") != std::string::npos);  // jolokia
  CHECK(config.substr(config.rfind("namespace: ")) == "namespace: " + watched);
}

TEST_CASE(
    "deploy: the base's Deployment runs two hardened replicas with probes, config and remote "
    "secrets") {
  auto base = kustomize(base_dir);
  const auto& d = base.get("Deployment", "multi-casskop");
  CHECK(js::get_string(d, "apiVersion") == "apps/v1");
  CHECK(js::get_int(d, {"spec", "replicas"}, 0) == 2);  // leader election
  const auto* selector = js::find_path(d, {"spec", "selector", "matchLabels"});
  const auto* labels = js::find_path(d, {"spec", "template", "metadata", "labels"});
  REQUIRE(selector);
  REQUIRE(labels);
  for (const auto& m : selector->GetObject())
    CHECK(js::get_string(*labels, js::view(m.name)) == js::view(m.value));
  CHECK(*js::find_path(base.get("PodDisruptionBudget", "multi-casskop"),
                       {"spec", "selector", "matchLabels"}) == *selector);

  const auto& pod = *js::find_path(d, {"spec", "template", "spec"});
  CHECK(js::get_string(pod, "serviceAccountName") == "multi-casskop");
  CHECK(js::get_bool(pod, {"securityContext", "runAsNonRoot"}, false));
  CHECK(js::get_int(pod, {"securityContext", "runAsUser"}, 0) == 1000);  // the image's user
  CHECK(js::find(pod, "hostNetwork") == nullptr);
  const auto* containers = js::find(pod, "containers");
  REQUIRE(containers);
  REQUIRE(containers->Size() == 1);
  const auto& c = (*containers)[0];
  CHECK(js::get_string(c, "image") == "multi-casskop:latest");
  CHECK(strings(js::find(c, "args")) ==
        std::vector<std::string>{"--config", "/etc/multi-casskop/config.yaml"});

  // Hardened.
  CHECK(js::get_bool(c, {"securityContext", "runAsNonRoot"}, false));
  CHECK(js::get_bool(c, {"securityContext", "readOnlyRootFilesystem"}, false));
  CHECK(!js::get_bool(c, {"securityContext", "allowPrivilegeEscalation"}, true));
  CHECK(!js::get_bool(c, {"securityContext", "privileged"}, false));
  CHECK(strings(js::find_path(c, {"securityContext", "capabilities", "drop"})) ==
        std::vector<std::string>{"ALL"});
  CHECK(js::find_path(c, {"securityContext", "capabilities", "add"}) == nullptr);
  CHECK(js::get_string(c, {"resources", "requests", "cpu"}) == "10m");
  CHECK(js::get_string(c, {"resources", "requests", "memory"}) == "32Mi");
  CHECK(js::get_string(c, {"resources", "limits", "cpu"}) == "500m");
  CHECK(js::get_string(c, {"resources", "limits", "memory"}) == "128Mi");

  // POD_NAME from the downward API (the leader-election identity).
  bool pod_name = false;
  for (const auto& e : js::find(c, "env")->GetArray())
    if (js::get_string(e, "name") == "POD_NAME")
      pod_name = js::get_string(e, {"valueFrom", "fieldRef", "fieldPath"}) == "metadata.name";
  CHECK(pod_name);

  // Probes on the admin port, which is the port of admin.address in the config.
  std::map<std::string, int64_t> ports;
  for (const auto& p : js::find(c, "ports")->GetArray())
    ports[std::string(js::get_string(p, "name"))] = js::get_int(p, {"containerPort"}, 0);
  CHECK(ports == std::map<std::string, int64_t>{{"admin", 8090}});
  for (auto [probe, path] :
       {std::pair{"livenessProbe", "/healthz"}, std::pair{"readinessProbe", "/readyz"}}) {
    CAPTURE(probe);
    CHECK(js::get_string(c, {probe, "httpGet", "path"}) == path);
    const auto* port = js::find_path(c, {probe, "httpGet", "port"});
    REQUIRE(port);
    CHECK((port->IsString() ? ports[std::string(js::view(*port))] : port->GetInt64()) == 8090);
  }
  auto config = js::yaml_to_json(config_text(base));
  CHECK(js::get_string(config, {"admin", "address"}) == "0.0.0.0:8090");

  // Volumes: the ConfigMap as a folder (no subPath: the kubelet updates it in place for the
  // reload), one secret per remote cluster where the config's secretDir says, nothing else.
  std::map<std::string, std::string> mounts;  // volume -> path
  for (const auto& m : js::find(c, "volumeMounts")->GetArray()) {
    CHECK(js::find(m, "subPath") == nullptr);
    mounts[std::string(js::get_string(m, "name"))] = js::get_string(m, "mountPath");
  }
  std::map<std::string, std::string> secret_mounts, config_mounts;  // secret/configmap -> path
  for (const auto& v : js::find(pod, "volumes")->GetArray()) {
    const std::string name(js::get_string(v, "name"));
    CAPTURE(name);
    REQUIRE(mounts.count(name));
    if (const auto* s = js::find(v, "secret"))
      secret_mounts[std::string(js::get_string(*s, "secretName"))] = mounts[name];
    else if (const auto* cm = js::find(v, "configMap"))
      config_mounts[std::string(js::get_string(*cm, "name"))] = mounts[name];
    else
      CHECK(js::find(v, "emptyDir") != nullptr);
    CHECK(js::find(v, "hostPath") == nullptr);
  }
  CHECK(config_mounts ==
        std::map<std::string, std::string>{{"multi-casskop-config", "/etc/multi-casskop"}});
  std::map<std::string, std::string> remotes;  // cluster -> secretDir
  const auto* clusters = js::find(config, "clusters");
  REQUIRE(clusters);
  for (const auto& cl : clusters->GetArray())
    if (const auto* dir = js::find(cl, "secretDir"))
      remotes[std::string(js::get_string(cl, "name"))] = str(dir);
  CHECK(remotes ==
        std::map<std::string, std::string>{{"k8s-cluster2", admiralty_dir + "k8s-cluster2"}});
  CHECK(secret_mounts == remotes);  // secret named as the cluster (`kubemcsa export --as NAME`)
}

TEST_CASE(
    "deploy: the base's config names the local and the remote region and the kustomization's "
    "namespace") {
  auto base = kustomize(base_dir);
  const std::string text = config_text(base);
  auto config = js::yaml_to_json(text);
  CHECK(js::get_string(config, "namespace") == watched);
  const auto* clusters = js::find(config, "clusters");
  REQUIRE(clusters);
  REQUIRE(clusters->Size() == 2);
  CHECK(js::to_string((*clusters)[0]) == R"({"name":"k8s-cluster1","inCluster":true})");
  CHECK(
      js::to_string((*clusters)[1]) ==
      R"({"name":"k8s-cluster2","secretDir":"/var/run/secrets/admiralty.io/serviceaccountimports/k8s-cluster2"})");

  // Another namespace in the kustomization moves every object, the RoleBinding's subject and the
  // operator's watched namespace (the `replacements` of the base), and nothing else.
  const std::string dir = make_temp_dir("deploy-namespace");
  copy_tree(repo_root + "/deploy/crds", dir + "/deploy/crds");
  copy_tree(base_dir, dir + "/deploy/kustomize/base");
  const std::string kfile = dir + "/deploy/kustomize/base/kustomization.yaml";
  const std::string k = read_file(kfile);
  const std::string moved = std::regex_replace(k, std::regex("\nnamespace: cassandra-e2e\n"),
                                               "\nnamespace: cassandra-eu\n");
  REQUIRE(moved != k);
  write_file(kfile, moved);
  auto other = kustomize(dir + "/deploy/kustomize/base");
  fs::remove_all(dir);
  CHECK(other.ids() == base.ids());
  for (const auto& o : other.objects)
    if (js::get_string(o, "kind") != "CustomResourceDefinition")
      CHECK(js::get_string(o, {"metadata", "namespace"}) == "cassandra-eu");
  CHECK(js::get_string(*js::find(other.get("RoleBinding", "multi-casskop"), "subjects")->Begin(),
                       "namespace") == "cassandra-eu");
  const std::string other_text = config_text(other);
  CHECK(js::get_string(js::yaml_to_json(other_text), "namespace") == "cassandra-eu");
  CHECK(std::regex_replace(other_text, std::regex("cassandra-eu"), "cassandra-e2e") == text);
}

TEST_CASE("deploy: multi-casskop starts with the config of the base") {
  auto base = kustomize(base_dir);
  std::string text = config_text(base);
  // Everything as rendered but the admin address: not 0.0.0.0 on a shared machine.
  const std::string port = std::to_string(free_port());
  text = std::regex_replace(text, std::regex("0\\.0\\.0\\.0:8090"), "127.0.0.1:" + port);
  REQUIRE(text.find("127.0.0.1:" + port) != std::string::npos);
  const std::string dir = make_temp_dir("deploy-config");
  write_file(dir + "/config.yaml", text);
  {
    operator_process op({"--config", dir + "/config.yaml"});
    // The config is accepted. Leader election needs the local cluster, whose in-cluster
    // source cannot be read outside a pod: that is reported and retried, and it keeps running,
    // standing by (not ready: it cannot read the local cluster).
    CHECK(op.wait_for_log(
        "msg=\"Cannot load the cluster's credentials; retrying\" kubernetes=k8s-cluster1"));
    CHECK(op.log().find("msg=\"Starting multi-casskop\" namespace=cassandra-e2e") !=
          std::string::npos);
    CHECK(op.running());  // a refused config ends it at once, with exit code 2
    CHECK(op.stop() == 0);
  }
  fs::remove_all(dir);
}

TEST_CASE(
    "deploy: the region2 overlay renders the CassandraCluster CRD and a least-privilege remote "
    "account") {
  auto r2 = kustomize(region2_dir);
  CHECK(r2.ids() == std::set<std::string>{
                        "CustomResourceDefinition/cassandraclusters.db.orange.com",
                        "ServiceAccount/multi-casskop-remote",
                        "Secret/multi-casskop-remote-token",
                        "Role/multi-casskop-remote",
                        "RoleBinding/multi-casskop-remote",
                    });
  for (const auto& o : r2.objects)
    if (js::get_string(o, "kind") != "CustomResourceDefinition")
      CHECK(js::get_string(o, {"metadata", "namespace"}) == watched);
  // The same verbs on CassandraClusters as in the local region, nothing else.
  CHECK(rules_of(r2.get("Role", "multi-casskop-remote")) == cassandracluster_rules);
  const auto& binding = r2.get("RoleBinding", "multi-casskop-remote");
  CHECK(js::get_string(binding, {"roleRef", "kind"}) == "Role");
  CHECK(js::get_string(binding, {"roleRef", "name"}) == "multi-casskop-remote");
  CHECK(js::to_string(*js::find(binding, "subjects")) ==
        R"([{"kind":"ServiceAccount","name":"multi-casskop-remote","namespace":"cassandra-e2e"}])");
  // `kubemcsa export` exports the first secret the ServiceAccount lists: its token secret.
  const auto& sa = r2.get("ServiceAccount", "multi-casskop-remote");
  CHECK(js::to_string(*js::find(sa, "secrets")) == R"([{"name":"multi-casskop-remote-token"}])");
  const auto& token = r2.get("Secret", "multi-casskop-remote-token");
  CHECK(js::get_string(token, "type") == "kubernetes.io/service-account-token");
  CHECK(js::get_string(token, {"metadata", "annotations", "kubernetes.io/service-account.name"}) ==
        "multi-casskop-remote");
}

TEST_CASE(
    "deploy: kubectl apply -k installs both regions in kubesim, the README's export works, the "
    "sample applies") {
  kubesim_instance sim({"cluster1", "cluster2"});
  auto kubectl = [&](const std::string& cluster, const std::vector<std::string>& args,
                     const std::string& in = "") {
    auto r = sim.kubectl(cluster, args, in);
    CHECK_MESSAGE(r.exit_code == 0, r.err);
    return r.out;
  };
  const std::string ns_manifest =
      R"({"apiVersion":"v1","kind":"Namespace","metadata":{"name":"cassandra-e2e"}})";
  const std::vector<std::string> in_ns = {"-n", watched};
  auto names = [&](const std::string& cluster, std::vector<std::string> what) {
    what.insert(what.begin(), "get");
    what.insert(what.end(), {"-n", watched, "-o", "name"});
    return kubectl(cluster, what);
  };

  // Local region: the namespace, then the base.
  kubectl("cluster1", {"apply", "-f", "-"}, ns_manifest);
  CHECK(kubectl("cluster1", {"apply", "-k", base_dir}) ==
        "customresourcedefinition.apiextensions.k8s.io/cassandraclusters.db.orange.com created\n"
        "customresourcedefinition.apiextensions.k8s.io/multicasskops.db.orange.com created\n"
        "serviceaccount/multi-casskop created\n"
        "role.rbac.authorization.k8s.io/multi-casskop created\n"
        "rolebinding.rbac.authorization.k8s.io/multi-casskop created\n"
        "configmap/multi-casskop-config created\n"
        "deployment.apps/multi-casskop created\n"
        "poddisruptionbudget.policy/multi-casskop created\n");
  CHECK(kubectl("cluster1",
                {"wait", "--for=condition=Established", "crd/cassandraclusters.db.orange.com",
                 "crd/multicasskops.db.orange.com", "--timeout=20s"})
            .find("multicasskops.db.orange.com condition met") != std::string::npos);
  CHECK(names("cluster1", {"serviceaccount/multi-casskop", "role/multi-casskop",
                           "rolebinding/multi-casskop", "configmap/multi-casskop-config",
                           "deployment/multi-casskop", "poddisruptionbudget/multi-casskop"}) ==
        "serviceaccount/multi-casskop\nrole.rbac.authorization.k8s.io/multi-casskop\n"
        "rolebinding.rbac.authorization.k8s.io/multi-casskop\nconfigmap/multi-casskop-config\n"
        "deployment.apps/multi-casskop\npoddisruptionbudget.policy/multi-casskop\n");
  CHECK(kubectl("cluster1", {"get", "deployment", "multi-casskop", "-n", watched, "-o",
                             "jsonpath={.spec.replicas}|{.spec.template.spec.containers[0].image}|"
                             "{.spec.template.spec.serviceAccountName}"}) ==
        "2|multi-casskop:latest|multi-casskop");
  CHECK(kubectl("cluster1", {"get", "configmap", "multi-casskop-config", "-n", watched, "-o",
                             "jsonpath={.data.config\\.yaml}"})
            .find("\nnamespace: cassandra-e2e") != std::string::npos);
  // Applying again changes nothing. (kubectl always sends a PodDisruptionBudget's selector, whose
  // patch strategy is "replace", so that one says "configured", as against a real API server.)
  auto again = kubectl("cluster1", {"apply", "-k", base_dir});
  CHECK(again.find("created") == std::string::npos);
  CHECK(again.find("deployment.apps/multi-casskop unchanged") != std::string::npos);
  CHECK(kubectl("cluster1", {"get", "deployment", "multi-casskop", "-n", watched, "-o",
                             "jsonpath={.metadata.generation}"}) == "1");

  // The sample MultiCasskop of the original documentation applies unchanged.
  CHECK(kubectl("cluster1", {"apply", "-f", repo_root + "/deploy/samples/multi-casskop.yaml"}) ==
        "multicasskop.db.orange.com/multi-casskop-e2e created\n");
  CHECK(kubectl("cluster1", {"get", "mcc", "-n", watched, "-o", "name"}) ==
        "multicasskop.db.orange.com/multi-casskop-e2e\n");

  // Remote region: the namespace, then the overlay.
  kubectl("cluster2", {"apply", "-f", "-"}, ns_manifest);
  CHECK(kubectl("cluster2", {"apply", "-k", region2_dir}) ==
        "customresourcedefinition.apiextensions.k8s.io/cassandraclusters.db.orange.com created\n"
        "serviceaccount/multi-casskop-remote created\n"
        "role.rbac.authorization.k8s.io/multi-casskop-remote created\n"
        "rolebinding.rbac.authorization.k8s.io/multi-casskop-remote created\n"
        "secret/multi-casskop-remote-token created\n");
  CHECK(names("cluster2",
              {"serviceaccount/multi-casskop-remote", "role/multi-casskop-remote",
               "rolebinding/multi-casskop-remote", "secret/multi-casskop-remote-token"}) ==
        "serviceaccount/multi-casskop-remote\nrole.rbac.authorization.k8s.io/multi-casskop-remote\n"
        "rolebinding.rbac.authorization.k8s.io/multi-casskop-remote\nsecret/"
        "multi-casskop-remote-token\n");
  CHECK(kubectl("cluster2", {"get", "crd", "-o", "name"}) ==
        "customresourcedefinition.apiextensions.k8s.io/cassandraclusters.db.orange.com\n");
  kubectl("cluster2", {"wait", "--for=condition=Established", "crd/cassandraclusters.db.orange.com",
                       "--timeout=20s"});

  // The token controller fills the token Secret (token, ca.crt, namespace), as Kubernetes does.
  CHECK(eventually([&] {
    return !sim.kubectl("cluster2", {"get", "secret", "multi-casskop-remote-token", "-n", watched,
                                     "-o", "jsonpath={.data.token}"})
                .out.empty();
  }));

  // The README's commands for users without kubemcsa, verbatim, with contexts cluster1 and
  // cluster2.
  const std::string work = make_temp_dir("deploy-export");
  write_file(work + "/kubeconfig", merged_kubeconfig(sim, {"cluster1", "cluster2"}));
  auto env = sim.kubectl_env();
  env["KUBECONFIG"] = work + "/kubeconfig";
  env["TMPDIR"] = work;
  auto script = run({"bash", "-euo", "pipefail", "-c", readme_block("--from-file=config")}, env);
  CHECK_MESSAGE(script.exit_code == 0, script.err);
  CHECK(script.out == "secret/k8s-cluster2 created\n");

  // What the kubelet mounts at /var/run/secrets/admiralty.io/serviceaccountimports/k8s-cluster2.
  auto secret = js::parse(
      kubectl("cluster1", {"get", "secret", "k8s-cluster2", "-n", watched, "-o", "json"}));
  const auto* data = js::find(secret, "data");
  REQUIRE(data);
  const std::string mount = work + "/k8s-cluster2";
  fs::create_directories(mount);
  std::set<std::string> keys;
  for (const auto& m : data->GetObject()) {
    keys.insert(m.name.GetString());
    auto bytes = k8s::base64_decode(js::view(m.value));
    REQUIRE(bytes);
    write_file(mount + "/" + m.name.GetString(), *bytes);
  }
  CHECK(keys == std::set<std::string>{"ca.crt", "config", "namespace", "server", "token"});
  CHECK(read_file(mount + "/server") == sim.url("cluster2"));
  CHECK(read_file(mount + "/namespace") == watched);
  CHECK(js::get_string(js::yaml_to_json(read_file(mount + "/config")), "current-context") ==
        "k8s-cluster2");

  // multi-casskop reaches region 2 through that folder, as its secretDir.
  write_file(work + "/config.yaml",
             "namespace: cassandra-e2e\nclusters:\n"
             "  - name: k8s-cluster1\n    kubeconfig: " +
                 sim.kubeconfig("cluster1") +
                 "\n"
                 "  - name: k8s-cluster2\n    secretDir: " +
                 mount +
                 "\n"
                 "admin:\n  address: 127.0.0.1:" +
                 std::to_string(free_port()) + "\n");
  {
    operator_process op({"--config", work + "/config.yaml"});
    CHECK(op.wait_for_log("msg=\"Cluster reachable, watching\" kubernetes=k8s-cluster2",
                          std::chrono::seconds(20)));
    CHECK(op.wait_for_log("msg=\"Cluster reachable, watching\" kubernetes=k8s-cluster1",
                          std::chrono::seconds(20)));
    CHECK(op.log().find("Cannot configure cluster access") == std::string::npos);
    CHECK(op.stop() == 0);
  }
  fs::remove_all(work);
}

// The Dockerfile cannot be built here, but its runtime stage can be checked against the binary:
// every shared library `ldd` resolves must come from a Debian package that the stage installs,
// directly or as a dependency apt pulls in (what is in bookworm-slim already is among those).
TEST_CASE("deploy: the image's runtime packages provide every shared library the binary loads") {
  const std::string dockerfile = read_file(repo_root + "/deploy/Dockerfile");
  const auto runtime_stage = dockerfile.rfind("FROM debian:bookworm-slim");
  REQUIRE(runtime_stage != std::string::npos);
  // The packages of the runtime stage's `apt-get install` (up to the `&&` that ends it).
  std::vector<std::string> packages;
  {
    const auto install = dockerfile.find("--no-install-recommends", runtime_stage);
    REQUIRE(install != std::string::npos);
    std::istringstream words(dockerfile.substr(install, dockerfile.find("&&", install) - install));
    std::string w;
    words >> w;  // the option itself
    while (words >> w)
      if (w != "\\") packages.push_back(w);
  }
  REQUIRE(std::find(packages.begin(), packages.end(), "libcpprest2.10") != packages.end());

  std::vector<std::string> closure_cmd = {"apt-cache",       "depends",       "--recurse",
                                          "--no-recommends", "--no-suggests", "--no-conflicts",
                                          "--no-breaks",     "--no-replaces", "--no-enhances"};
  closure_cmd.insert(closure_cmd.end(), packages.begin(), packages.end());
  auto closure_run = run(closure_cmd);
  REQUIRE_MESSAGE(closure_run.exit_code == 0, closure_run.err);
  std::set<std::string> installed;
  {
    std::istringstream lines(closure_run.out);
    for (std::string line; std::getline(lines, line);)
      if (!line.empty() && line[0] != ' ' && line[0] != '<') installed.insert(line);
  }

  auto ldd = run({"ldd", MULTICASSKOP_BIN});
  REQUIRE_MESSAGE(ldd.exit_code == 0, ldd.err);
  static const std::regex resolved(R"(=> (/\S+) \(0x)");
  std::set<std::string> libraries;
  for (std::sregex_iterator it(ldd.out.begin(), ldd.out.end(), resolved), end; it != end; ++it)
    libraries.insert((*it)[1].str());
  REQUIRE(libraries.size() >= 8);
  for (const auto& lib : libraries) {
    CAPTURE(lib);
    // Debian 12 has merged /usr: dpkg knows each file under one of its two names.
    auto owner = run({"dpkg", "-S", lib});
    if (owner.exit_code != 0) owner = run({"dpkg", "-S", "/usr" + lib});
    REQUIRE_MESSAGE(owner.exit_code == 0, owner.err);
    const std::string package = owner.out.substr(0, owner.out.find_first_of(":"));
    CAPTURE(package);
    CHECK(installed.count(package) == 1);
  }
}
