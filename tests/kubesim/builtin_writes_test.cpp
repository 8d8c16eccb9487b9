// Writes of built-in kinds refused, defaulted and converted as a v1.32 kube-apiserver does
// (pkg/apis/*/validation, pkg/apis/*/v1/defaults.go, the Secret v1 conversion, the default
// admission plugins on Pods), through the real kubectl, raw HTTP where the Status body matters,
// and the official Python client. Messages are those the real server and kubectl print.
#include <doctest/doctest.h>

#include <string>

#include "k8s/json/json.h"
#include "tests/support/kubesim_fixture.h"

using namespace testsupport;
using namespace std::chrono_literals;
namespace js = k8s::json;

namespace {

std::string statefulset(const std::string& storage, const std::string& selector_app = "web",
                        const std::string& template_app = "web",
                        const std::string& image = "nginx:1.27") {
  return R"(apiVersion: apps/v1
kind: StatefulSet
metadata: {name: web, namespace: default}
spec:
  serviceName: web
  selector: {matchLabels: {app: )" +
         selector_app + R"(}}
  template:
    metadata: {labels: {app: )" +
         template_app + R"(}}
    spec:
      containers:
      - name: nginx
        image: )" +
         image + R"(
        ports: [{containerPort: 80, name: web}]
        volumeMounts: [{name: data, mountPath: /data}]
  volumeClaimTemplates:
  - metadata: {name: data}
    spec:
      accessModes: [ReadWriteOnce]
      resources: {requests: {storage: )" +
         storage + R"(}}
)";
}

const char* sts_forbidden =
    "The StatefulSet \"web\" is invalid: spec: Forbidden: updates to statefulset spec for fields "
    "other than 'replicas', 'ordinals', 'template', 'updateStrategy', "
    "'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden";

js::Document get_json(kubesim_instance& sim, const std::vector<std::string>& what) {
  std::vector<std::string> args = {"get"};
  args.insert(args.end(), what.begin(), what.end());
  args.insert(args.end(), {"-o", "json"});
  auto r = sim.kubectl("k1", args);
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  return js::parse(r.out);
}

std::string status_message(const http_reply& r) {
  return std::string(js::get_string(r.json(), "message"));
}

}  // namespace

TEST_CASE(
    "builtin writes: a StatefulSet's volumeClaimTemplates and selector are immutable, "
    "its template and replicas are not") {
  kubesim_instance sim;
  auto r = sim.kubectl("k1", {"apply", "-f", "-"}, statefulset("1Gi"));
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);

  r = sim.kubectl("k1", {"apply", "-f", "-"}, statefulset("2Gi"));
  CHECK(r.exit_code != 0);
  CHECK_MESSAGE(r.err.find(sts_forbidden) != std::string::npos, r.err);

  r = sim.kubectl("k1", {"apply", "-f", "-"}, statefulset("1Gi", "db", "db"));
  CHECK(r.exit_code != 0);
  CHECK_MESSAGE(r.err.find(sts_forbidden) != std::string::npos, r.err);

  // The stored object is unchanged, and a template change goes through.
  auto sts = get_json(sim, {"sts", "web"});
  CHECK(js::get_string(sts["spec"]["volumeClaimTemplates"][0]["spec"]["resources"]["requests"],
                       "storage") == "1Gi");
  r = sim.kubectl("k1", {"apply", "-f", "-"}, statefulset("1Gi", "web", "web", "nginx:1.28"));
  CHECK_MESSAGE(r.exit_code == 0, r.err);
  r = sim.kubectl("k1", {"patch", "sts", "web", "-p", R"({"spec":{"replicas":3}})"});
  CHECK_MESSAGE(r.exit_code == 0, r.err);
}

TEST_CASE("builtin writes: a StatefulSet whose selector does not match its template is refused") {
  kubesim_instance sim;
  auto r = sim.kubectl("k1", {"create", "-f", "-"}, statefulset("1Gi", "web", "other"));
  CHECK(r.exit_code != 0);
  CHECK_MESSAGE(r.err.find("The StatefulSet \"web\" is invalid: spec.template.metadata.labels: "
                           "Invalid value: map[string]string{\"app\":\"other\"}: `selector` does "
                           "not match template `labels`") != std::string::npos,
                r.err);
  CHECK(sim.kubectl("k1", {"get", "sts", "web"}).exit_code != 0);

  std::string dotted = statefulset("1Gi");
  dotted.replace(dotted.find("name: web,"), 10, "name: web.v1,");
  r = sim.kubectl("k1", {"create", "-f", "-"}, dotted);
  CHECK_MESSAGE(r.err.find("The StatefulSet \"web.v1\" is invalid: metadata.name: Invalid value: "
                           "\"web.v1\": must not contain dots") != std::string::npos,
                r.err);

  std::string never = statefulset("1Gi");
  never.replace(never.find("      containers:"), 0, "      restartPolicy: Never\n");
  r = sim.kubectl("k1", {"create", "-f", "-"}, never);
  CHECK_MESSAGE(
      r.err.find("The StatefulSet \"web\" is invalid: spec.template.spec.restartPolicy: "
                 "Unsupported value: \"Never\": supported values: \"Always\"") != std::string::npos,
      r.err);
}

TEST_CASE("builtin writes: a StatefulSet status write is checked as the real server does") {
  kubesim_instance sim;
  REQUIRE(sim.kubectl("k1", {"apply", "-f", "-"}, statefulset("1Gi")).exit_code == 0);
  auto c = sim.client("k1");
  const std::string status = "/apis/apps/v1/namespaces/default/statefulsets/web/status";
  auto r = c.request("PATCH", status, R"({"status":{"replicas":1,"readyReplicas":5}})",
                     "application/merge-patch+json");
  CHECK(r.status == 422);
  CHECK(status_message(r) ==
        "StatefulSet.apps \"web\" is invalid: status.readyReplicas: Invalid value: 5: cannot be "
        "greater than status.replicas");
  r = c.request("PATCH", status,
                R"({"status":{"replicas":2,"readyReplicas":2,"availableReplicas":1}})",
                "application/merge-patch+json");
  CHECK_MESSAGE(r.status == 200, r.body);
}

TEST_CASE("builtin writes: kubectl get sts -o json shows the server's defaults") {
  kubesim_instance sim;
  auto r = sim.kubectl("k1", {"apply", "-f", "-"}, statefulset("1Gi"));
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  auto sts = get_json(sim, {"sts", "web"});
  const js::Value& spec = sts["spec"];
  CHECK(js::get_int(spec, {"replicas"}, -1) == 1);
  CHECK(js::get_string(spec, "podManagementPolicy") == "OrderedReady");
  CHECK(js::get_int(spec, {"revisionHistoryLimit"}, -1) == 10);
  CHECK(js::get_string(spec, {"updateStrategy", "type"}) == "RollingUpdate");
  CHECK(js::get_int(spec, {"updateStrategy", "rollingUpdate", "partition"}, -1) == 0);
  CHECK(js::get_string(spec, {"persistentVolumeClaimRetentionPolicy", "whenDeleted"}) == "Retain");
  CHECK(js::get_string(spec, {"persistentVolumeClaimRetentionPolicy", "whenScaled"}) == "Retain");
  const js::Value& pod = spec["template"]["spec"];
  CHECK(js::get_string(pod, "restartPolicy") == "Always");
  CHECK(js::get_string(pod, "dnsPolicy") == "ClusterFirst");
  CHECK(js::get_string(pod, "schedulerName") == "default-scheduler");
  CHECK(js::get_int(pod, {"terminationGracePeriodSeconds"}, -1) == 30);
  CHECK(js::find(pod, "securityContext") != nullptr);
  const js::Value& c = pod["containers"][0];
  CHECK(js::get_string(c, "imagePullPolicy") == "IfNotPresent");
  CHECK(js::get_string(c, "terminationMessagePath") == "/dev/termination-log");
  CHECK(js::get_string(c, "terminationMessagePolicy") == "File");
  CHECK(js::get_string(c["ports"][0], "protocol") == "TCP");
  const js::Value& claim = spec["volumeClaimTemplates"][0];
  CHECK(js::get_string(claim, {"spec", "volumeMode"}) == "Filesystem");
  CHECK(js::get_string(claim, {"status", "phase"}) == "Pending");
  CHECK(js::get_int(sts, {"metadata", "generation"}, -1) == 1);

  // Applying the same manifest again changes nothing: kubectl sends volumeClaimTemplates again
  // (a list without merge key differs from the defaulted one), the server defaults it back.
  const std::string rv(js::get_string(sts["metadata"], "resourceVersion"));
  r = sim.kubectl("k1", {"apply", "-f", "-"}, statefulset("1Gi"));
  CHECK_MESSAGE(r.exit_code == 0, r.err);
  auto again = get_json(sim, {"sts", "web"});
  CHECK(js::get_string(again["metadata"], "resourceVersion") == rv);
  CHECK(js::get_int(again, {"metadata", "generation"}, -1) == 1);
}

TEST_CASE(
    "builtin writes: a Service's clusterIP may not change, ports and IP families are defaulted") {
  kubesim_instance sim;
  const std::string svc = R"(apiVersion: v1
kind: Service
metadata: {name: svc, namespace: default}
spec:
  selector: {app: web}
  ports: [{port: 80}]
)";
  auto r = sim.kubectl("k1", {"apply", "-f", "-"}, svc);
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  auto s = get_json(sim, {"svc", "svc"});
  const js::Value& spec = s["spec"];
  CHECK(js::get_int(spec["ports"][0], {"targetPort"}, -1) == 80);
  CHECK(js::get_string(spec["ports"][0], "protocol") == "TCP");
  CHECK(js::get_string(spec, "ipFamilyPolicy") == "SingleStack");
  CHECK(js::to_string(spec["ipFamilies"]) == R"(["IPv4"])");
  CHECK(js::get_string(spec, "internalTrafficPolicy") == "Cluster");
  const std::string ip(js::get_string(spec, "clusterIP"));
  CHECK(js::to_string(spec["clusterIPs"]) == "[\"" + ip + "\"]");

  std::string moved = svc;
  moved.replace(moved.find("  ports:"), 0, "  clusterIP: 10.96.200.200\n");
  r = sim.kubectl("k1", {"apply", "-f", "-"}, moved);
  CHECK(r.exit_code != 0);
  CHECK_MESSAGE(
      r.err.find("The Service \"svc\" is invalid: spec.clusterIPs[0]: Invalid value: "
                 "[]string{\"10.96.200.200\"}: may not change once set") != std::string::npos,
      r.err);
  // A replace without the clusterIP keeps the allocated one.
  r = sim.kubectl("k1", {"replace", "-f", "-"}, svc);
  CHECK_MESSAGE(r.exit_code == 0, r.err);
  CHECK(js::get_string(get_json(sim, {"svc", "svc"})["spec"], "clusterIP") == ip);

  r = sim.kubectl("k1", {"create", "-f", "-"},
                  "apiVersion: v1\nkind: Service\nmetadata: {name: bad}\nspec: {type: Funny, "
                  "ports: [{port: 80, protocol: HTTP}]}\n");
  CHECK_MESSAGE(r.err.find("The Service \"bad\" is invalid: \n"
                           "* spec.ports[0].protocol: Unsupported value: \"HTTP\": supported "
                           "values: \"SCTP\", \"TCP\", \"UDP\"\n"
                           "* spec.type: Unsupported value: \"Funny\": supported values: "
                           "\"ClusterIP\", \"ExternalName\", \"LoadBalancer\", \"NodePort\"") !=
                    std::string::npos,
                r.err);
}

TEST_CASE(
    "builtin writes: Secret type is immutable, stringData becomes data, immutable data stays") {
  kubesim_instance sim;
  auto r = sim.kubectl("k1", {"apply", "-f", "-"},
                       "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData: {user: "
                       "admin}\n");
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  auto s = get_json(sim, {"secret", "s"});
  CHECK(js::get_string(s, {"data", "user"}) == "YWRtaW4=");
  CHECK(js::find(s, "stringData") == nullptr);
  CHECK(js::get_string(s, "type") == "Opaque");

  r = sim.kubectl("k1", {"apply", "-f", "-"},
                  "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ntype: kubernetes.io/tls\n"
                  "data: {tls.crt: YQ==, tls.key: YQ==}\n");
  CHECK(r.exit_code != 0);
  CHECK_MESSAGE(r.err.find("The Secret \"s\" is invalid: type: Invalid value: "
                           "\"kubernetes.io/tls\": field is immutable") != std::string::npos,
                r.err);

  const std::string cm = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\nimmutable: true\n";
  r = sim.kubectl("k1", {"apply", "-f", "-"}, cm + "data: {a: one}\n");
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  r = sim.kubectl("k1", {"apply", "-f", "-"}, cm + "data: {a: two}\n");
  CHECK(r.exit_code != 0);
  CHECK_MESSAGE(r.err.find("The ConfigMap \"cm\" is invalid: data: Forbidden: field is immutable "
                           "when `immutable` is set") != std::string::npos,
                r.err);
  CHECK(js::get_string(get_json(sim, {"cm", "cm"}), {"data", "a"}) == "one");
}

TEST_CASE(
    "builtin writes: a PersistentVolumeClaim's spec is immutable except a bound claim's requests") {
  kubesim_instance sim;
  auto pvc = [](const std::string& storage, const std::string& mode) {
    return "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: data, namespace: "
           "default}\nspec:\n  accessModes: [" +
           mode + "]\n  resources: {requests: {storage: " + storage + "}}\n";
  };
  auto r = sim.kubectl("k1", {"apply", "-f", "-"}, pvc("1Gi", "ReadWriteOnce"));
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  CHECK(js::get_string(get_json(sim, {"pvc", "data"}), {"spec", "volumeMode"}) == "Filesystem");
  const char* immutable =
      "The PersistentVolumeClaim \"data\" is invalid: spec: Forbidden: spec is immutable after "
      "creation except resources.requests for bound claims";
  r = sim.kubectl("k1", {"apply", "-f", "-"}, pvc("1Gi", "ReadWriteMany"));
  CHECK(r.exit_code != 0);
  CHECK_MESSAGE(r.err.find(immutable) != std::string::npos, r.err);
  // Still Pending: not even the request may change.
  r = sim.kubectl("k1", {"apply", "-f", "-"}, pvc("2Gi", "ReadWriteOnce"));
  CHECK_MESSAGE(r.err.find(immutable) != std::string::npos, r.err);
  // Bound: the request may grow, not shrink.
  auto c = sim.client("k1");
  auto st = c.request("PATCH", "/api/v1/namespaces/default/persistentvolumeclaims/data/status",
                      R"({"status":{"phase":"Bound"}})", "application/merge-patch+json");
  REQUIRE_MESSAGE(st.status == 200, st.body);
  r = sim.kubectl("k1", {"apply", "-f", "-"}, pvc("2Gi", "ReadWriteOnce"));
  CHECK_MESSAGE(r.exit_code == 0, r.err);
  r = sim.kubectl("k1", {"apply", "-f", "-"}, pvc("1Gi", "ReadWriteOnce"));
  CHECK_MESSAGE(r.err.find("The PersistentVolumeClaim \"data\" is invalid: "
                           "spec.resources.requests.storage: Forbidden: field can not be less "
                           "than previous value") != std::string::npos,
                r.err);

  r = sim.kubectl(
      "k1", {"create", "-f", "-"},
      "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: empty}\nspec: {}\n");
  CHECK_MESSAGE(
      r.err.find("The PersistentVolumeClaim \"empty\" is invalid: \n"
                 "* spec.accessModes: Required value: at least 1 access mode is "
                 "required\n* spec.resources[storage]: Required value") != std::string::npos,
      r.err);
}

TEST_CASE("builtin writes: Pods need containers and valid enums, and only images change") {
  kubesim_instance sim;
  auto r = sim.kubectl("k1", {"create", "-f", "-"},
                       "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: []}\n");
  CHECK(r.exit_code != 0);
  CHECK_MESSAGE(
      r.err.find("The Pod \"p\" is invalid: spec.containers: Required value") != std::string::npos,
      r.err);
  auto pod = [](const std::string& image, const std::string& extra) {
    return "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: default}\nspec:\n" + extra +
           "  containers:\n  - name: main\n    image: " + image + "\n";
  };
  r = sim.kubectl("k1", {"create", "-f", "-"}, pod("busybox", "  restartPolicy: Sometimes\n"));
  CHECK_MESSAGE(r.err.find("The Pod \"p\" is invalid: spec.restartPolicy: Unsupported value: "
                           "\"Sometimes\": supported values: \"Always\", \"OnFailure\", "
                           "\"Never\"") != std::string::npos,
                r.err);

  r = sim.kubectl("k1", {"apply", "-f", "-"}, pod("busybox", ""));
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  auto p = get_json(sim, {"pod", "p"});
  const js::Value& spec = p["spec"];
  CHECK(js::get_string(spec["containers"][0], "imagePullPolicy") == "Always");
  CHECK(js::get_string(spec, "serviceAccountName") == "default");
  CHECK(js::get_bool(spec, {"enableServiceLinks"}, false));
  CHECK(js::get_int(spec, {"priority"}, -1) == 0);
  CHECK(spec["tolerations"].Size() == 2);
  CHECK(std::string(js::get_string(spec["volumes"][0], "name")).rfind("kube-api-access-", 0) == 0);
  CHECK(js::get_string(spec["containers"][0]["volumeMounts"][0], "mountPath") ==
        "/var/run/secrets/kubernetes.io/serviceaccount");

  r = sim.kubectl("k1", {"apply", "-f", "-"}, pod("busybox:1.36", ""));
  CHECK_MESSAGE(r.exit_code == 0, r.err);
  r = sim.kubectl("k1", {"apply", "-f", "-"}, pod("busybox:1.36", "  hostname: other\n"));
  CHECK(r.exit_code != 0);
  CHECK_MESSAGE(
      r.err.find("The Pod \"p\" is invalid: spec: Forbidden: pod updates may not change fields "
                 "other than `spec.containers[*].image`,`spec.initContainers[*].image`,"
                 "`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing "
                 "tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if "
                 "it was previously negative)") != std::string::npos,
      r.err);
  CHECK(js::get_string(get_json(sim, {"pod", "p"})["spec"]["containers"][0], "image") ==
        "busybox:1.36");
}

TEST_CASE("builtin writes: a Pod's limits become its requests and give its QoS class") {
  kubesim_instance sim;
  auto r = sim.kubectl("k1", {"apply", "-f", "-"},
                       "apiVersion: v1\nkind: Pod\nmetadata: {name: q, namespace: default}\nspec:\n"
                       "  containers:\n  - name: main\n    image: busybox:1.36\n"
                       "    resources: {limits: {cpu: 100m, memory: 64Mi}}\n");
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  auto p = get_json(sim, {"pod", "q"});
  CHECK(js::to_string(p["spec"]["containers"][0]["resources"]["requests"]) ==
        R"({"cpu":"100m","memory":"64Mi"})");
  CHECK(js::get_string(p, {"status", "qosClass"}) == "Guaranteed");
}

TEST_CASE("builtin writes: a Deployment is defaulted and its selector is immutable") {
  kubesim_instance sim;
  auto deploy = [](const std::string& app) {
    return "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d, namespace: default}\n"
           "spec:\n  selector: {matchLabels: {app: " +
           app + "}}\n  template:\n    metadata: {labels: {app: " + app +
           "}}\n    spec: {containers: [{name: c, image: nginx}]}\n";
  };
  auto r = sim.kubectl("k1", {"apply", "-f", "-"}, deploy("x"));
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  auto d = get_json(sim, {"deploy", "d"});
  CHECK(js::get_string(d["spec"], {"strategy", "rollingUpdate", "maxSurge"}) == "25%");
  CHECK(js::get_int(d["spec"], {"progressDeadlineSeconds"}, -1) == 600);
  r = sim.kubectl("k1", {"apply", "-f", "-"}, deploy("z"));
  CHECK(r.exit_code != 0);
  CHECK_MESSAGE(r.err.find("The Deployment \"d\" is invalid: spec.selector: Invalid value: "
                           "v1.LabelSelector{MatchLabels:map[string]string{\"app\":\"z\"}, "
                           "MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is "
                           "immutable") != std::string::npos,
                r.err);
}

TEST_CASE("builtin writes: a PodDisruptionBudget takes minAvailable or maxUnavailable, not both") {
  kubesim_instance sim;
  const std::string pdb =
      "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: pdb, namespace: "
      "default}\nspec:\n  selector: {matchLabels: {app: web}}\n";
  auto r =
      sim.kubectl("k1", {"create", "-f", "-"}, pdb + "  minAvailable: 1\n  maxUnavailable: 1\n");
  CHECK(r.exit_code != 0);
  CHECK_MESSAGE(r.err.find("The PodDisruptionBudget \"pdb\" is invalid: spec: Invalid value: ") !=
                    std::string::npos,
                r.err);
  CHECK(r.err.find("minAvailable and maxUnavailable cannot be both set") != std::string::npos);
  r = sim.kubectl("k1", {"create", "-f", "-"}, pdb + "  maxUnavailable: 120%\n");
  CHECK_MESSAGE(r.err.find("The PodDisruptionBudget \"pdb\" is invalid: spec.maxUnavailable: "
                           "Invalid value: intstr.IntOrString{Type:1, IntVal:0, StrVal:\"120%\"}: "
                           "must not be greater than 100%") != std::string::npos,
                r.err);
  r = sim.kubectl("k1", {"create", "-f", "-"}, pdb + "  maxUnavailable: 1\n");
  CHECK_MESSAGE(r.exit_code == 0, r.err);
}

TEST_CASE("builtin writes: dryRun values other than All are refused and nothing is stored") {
  kubesim_instance sim;
  auto c = sim.client("k1");
  const std::string cms = "/api/v1/namespaces/default/configmaps";
  const std::string body = R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cm"}})";
  auto r = c.request("POST", cms + "?dryRun=Foo", body);
  CHECK(r.status == 422);
  CHECK(status_message(r) ==
        "CreateOptions.meta.k8s.io \"\" is invalid: dryRun: Unsupported value: []string{\"Foo\"}: "
        "supported values: \"All\"");
  CHECK(c.get(cms + "/cm").status == 404);

  REQUIRE(c.request("POST", cms, body).status == 201);
  r = c.request("PATCH", cms + "/cm?dryRun=All&dryRun=Bar", R"({"data":{"a":"b"}})",
                "application/merge-patch+json");
  CHECK(r.status == 422);
  CHECK(status_message(r) ==
        "PatchOptions.meta.k8s.io \"\" is invalid: dryRun: Unsupported value: []string{\"All\", "
        "\"Bar\"}: supported values: \"All\"");
  r = c.request("DELETE", cms + "/cm?dryRun=Foo");
  CHECK(r.status == 422);
  CHECK(status_message(r).rfind("DeleteOptions.meta.k8s.io \"\" is invalid: dryRun:", 0) == 0);
  auto stored = c.get(cms + "/cm");
  CHECK(stored.status == 200);
  CHECK(js::find(stored.json(), "data") == nullptr);
  // dryRun=All still works.
  CHECK(c.request("DELETE", cms + "/cm?dryRun=All").status == 200);
  CHECK(c.get(cms + "/cm").status == 200);
}

TEST_CASE(
    "builtin writes: the Python client gets the 422 of a StatefulSet volumeClaimTemplates change") {
  {
    auto probe = run({"/usr/bin/python3", "-c", "import kubernetes"}, {}, 30s);
    REQUIRE_MESSAGE(probe.exit_code == 0, probe.err);
  }
  kubesim_instance sim;
  REQUIRE(sim.kubectl("k1", {"apply", "-f", "-"}, statefulset("1Gi")).exit_code == 0);
  const char* script = R"(
import sys, json
from kubernetes import client, config
from kubernetes.client.rest import ApiException
config.load_kube_config(config_file=sys.argv[1])
apps = client.AppsV1Api()
sts = apps.read_namespaced_stateful_set("web", "default")
sts.spec.volume_claim_templates[0].spec.resources.requests["storage"] = "5Gi"
try:
    apps.replace_namespaced_stateful_set("web", "default", sts)
    print("accepted")
except ApiException as e:
    body = json.loads(e.body)
    print(e.status, body["reason"], body["details"]["causes"][0]["field"])
    print(body["message"])
)";
  auto r = run({"/usr/bin/python3", "-c", script, sim.kubeconfig("k1")},
               {{"HOME", sim.state_dir()}, {"PYTHONDONTWRITEBYTECODE", "1"}}, 60s);
  INFO(r.out << r.err);
  CHECK(r.out.find("422 Invalid spec\n") != std::string::npos);
  CHECK(r.out.find("StatefulSet.apps \"web\" is invalid: spec: Forbidden: updates to statefulset "
                   "spec for fields other than") != std::string::npos);
}
