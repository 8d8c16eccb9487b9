// RBAC in kubesim as on a v1.32 cluster: every request authorized by Roles, ClusterRoles and
// their bindings (system:masters exempt), ServiceAccount tokens from the token controller and
// TokenRequest, impersonation, and the self-subject reviews kubectl's `auth` commands use.
// Through the real kubectl, and raw HTTP where the exact status body matters.
#include <doctest/doctest.h>

#include "k8s/json/base64.h"
#include "k8s/json/json.h"
#include "tests/support/kubesim_fixture.h"
#include "tools/kubesim/rbac_authorizer.h"
#include "tools/kubesim/request_info.h"

using namespace testsupport;
using namespace std::chrono_literals;
namespace js = k8s::json;

namespace {

// A namespace `team` with the ServiceAccount `app` and its token Secret, as users write them.
const char* kSetup = R"(apiVersion: v1
kind: Namespace
metadata:
  name: team
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: app
  namespace: team
---
apiVersion: v1
kind: Secret
metadata:
  name: app-token
  namespace: team
  annotations:
    kubernetes.io/service-account.name: app
type: kubernetes.io/service-account-token
)";

const char* kRole = R"(apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: cm-reader
  namespace: team
rules:
  - apiGroups: [""]
    resources: [configmaps]
    verbs: [get, list, watch]
  - apiGroups: [""]
    resources: [secrets]
    resourceNames: [allowed]
    verbs: [get]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: app-reads
  namespace: team
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: Role
  name: cm-reader
subjects:
  - kind: ServiceAccount
    name: app
)";

struct team_fixture {
  kubesim_instance sim;
  std::string token;  // the ServiceAccount's, from its Secret

  team_fixture() {
    auto r = sim.kubectl("k1", {"apply", "-f", "-"}, kSetup);
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    // The token controller fills the Secret.
    REQUIRE(eventually([&] {
      auto s = sim.client("k1").get("/api/v1/namespaces/team/secrets/app-token");
      if (s.status != 200) return false;
      auto d = s.json();
      auto t = k8s::base64_decode(js::get_string(d, {"data", "token"}));
      if (!t || t->empty()) return false;
      token = *t;
      return true;
    }));
  }
  api_client as_app() const {
    return api_client({sim.url("k1"), token, sim.ca_pem("k1"), "", "", 10s});
  }
  run_result kubectl_as_app(std::vector<std::string> args) const {
    args.insert(args.begin(), {"--token", token});
    return sim.kubectl("k1", args);
  }
};

// kubectl create rolebinding|clusterrole|configmap send protobuf, which kubesim does not read:
// these objects are applied as YAML instead.
std::string binding_to_app(const std::string& name, const std::string& cluster_role) {
  return "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata:\n  name: " + name +
         "\n  namespace: team\nroleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: "
         "ClusterRole\n  name: " +
         cluster_role +
         "\nsubjects:\n  - kind: ServiceAccount\n    name: app\n    namespace: team\n";
}
std::string config_map(const std::string& name, const std::string& ns) {
  return R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":")" + name +
         R"(","namespace":")" + ns + R"("}})";
}

// The metav1.Status of a 403 the real server sends.
std::string forbidden_body(const std::string& message, const std::string& details) {
  return R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":")" +
         message + R"(","reason":"Forbidden","details":)" + details + R"(,"code":403})";
}

}  // namespace

TEST_CASE(
    "rbac: rules match verbs, groups, resources, subresources, names and paths as "
    "evaluation_helpers.go") {
  using kubesim::policy_rule;
  using kubesim::request_attributes_of;
  using kubesim::rule_allows;
  auto attrs = [](const char* method, const char* path, k8s::http::header_list q = {}) {
    return request_attributes_of(method, path, q);
  };
  policy_rule pods{{"get", "list"}, {""}, {"pods"}, {}, {}};
  CHECK(rule_allows(attrs("GET", "/api/v1/namespaces/a/pods/p"), pods));
  CHECK(rule_allows(attrs("GET", "/api/v1/namespaces/a/pods"), pods));
  CHECK_FALSE(rule_allows(attrs("GET", "/api/v1/namespaces/a/pods", {{"watch", "true"}}), pods));
  CHECK_FALSE(
      rule_allows(attrs("GET", "/api/v1/namespaces/a/pods/p/status"), pods));         // subresource
  CHECK_FALSE(rule_allows(attrs("GET", "/apis/apps/v1/namespaces/a/pods/p"), pods));  // other group
  policy_rule status{{"*"}, {"*"}, {"*/status"}, {}, {}};
  CHECK(rule_allows(attrs("PUT", "/apis/apps/v1/namespaces/a/deployments/d/status"), status));
  CHECK_FALSE(rule_allows(attrs("PUT", "/apis/apps/v1/namespaces/a/deployments/d"), status));
  policy_rule named{{"get", "update"}, {"coordination.k8s.io"}, {"leases"}, {"mine"}, {}};
  CHECK(rule_allows(attrs("PUT", "/apis/coordination.k8s.io/v1/namespaces/a/leases/mine"), named));
  CHECK_FALSE(
      rule_allows(attrs("PUT", "/apis/coordination.k8s.io/v1/namespaces/a/leases/other"), named));
  // A list narrowed to one name by a metadata.name field selector counts as that name.
  policy_rule list_named{{"list"}, {"coordination.k8s.io"}, {"leases"}, {"mine"}, {}};
  CHECK(rule_allows(attrs("GET", "/apis/coordination.k8s.io/v1/namespaces/a/leases",
                          {{"fieldSelector", "metadata.name=mine"}}),
                    list_named));
  CHECK_FALSE(
      rule_allows(attrs("GET", "/apis/coordination.k8s.io/v1/namespaces/a/leases"), list_named));
  policy_rule urls{{"get"}, {}, {}, {}, {"/healthz", "/apis/*"}};
  CHECK(rule_allows(attrs("GET", "/healthz"), urls));
  CHECK(rule_allows(attrs("GET", "/apis/apps"), urls));
  CHECK_FALSE(rule_allows(attrs("GET", "/api"), urls));
  CHECK_FALSE(rule_allows(attrs("POST", "/healthz"), urls));

  auto a = attrs("DELETE", "/api/v1/namespaces/a/configmaps");
  CHECK(a.verb == "deletecollection");
  a = attrs("GET", "/api/v1/namespaces/a");
  CHECK((a.resource == "namespaces" && a.name == "a" && a.ns == "a" && a.verb == "get"));
  a = attrs("PUT", "/api/v1/namespaces/a/finalize");
  CHECK((a.resource == "namespaces" && a.subresource == "finalize" && a.name == "a"));
  a = attrs("GET", "/api/v1/watch/namespaces/a/pods");
  CHECK((a.verb == "watch" && a.resource == "pods" && a.ns == "a"));
}

TEST_CASE(
    "rbac: a ServiceAccount's token does only what its Role allows, with the real 403 message") {
  team_fixture f;
  auto app = f.as_app();
  const std::string user = "system:serviceaccount:team:app";

  // No binding yet: a get by name, a list, a create and a cluster-scoped list are refused.
  auto r = app.get("/api/v1/namespaces/team/configmaps/x");
  CHECK(r.status == 403);
  CHECK(
      r.body ==
      forbidden_body("configmaps \\\"x\\\" is forbidden: User \\\"" + user +
                         "\\\" cannot get resource \\\"configmaps\\\" in API group \\\"\\\" in the "
                         "namespace \\\"team\\\"",
                     R"({"name":"x","kind":"configmaps"})"));
  r = app.get("/apis/apps/v1/namespaces/team/deployments");
  CHECK(r.body ==
        forbidden_body(
            "deployments.apps is forbidden: User \\\"" + user +
                "\\\" cannot list resource \\\"deployments\\\" in API group \\\"apps\\\" in the "
                "namespace \\\"team\\\"",
            R"({"group":"apps","kind":"deployments"})"));
  r = app.get("/api/v1/nodes");
  CHECK(
      r.body ==
      forbidden_body(
          "nodes is forbidden: User \\\"" + user +
              "\\\" cannot list resource \\\"nodes\\\" in API group \\\"\\\" at the cluster scope",
          R"({"kind":"nodes"})"));
  // Discovery and the public paths are every authenticated user's (system:discovery).
  CHECK(app.get("/api").status == 200);
  CHECK(app.get("/apis/apps/v1").status == 200);
  CHECK(app.get("/version").status == 200);
  auto k = f.kubectl_as_app({"get", "configmaps", "-n", "team"});
  CHECK(k.exit_code == 1);
  CHECK(k.err ==
        "Error from server (Forbidden): configmaps is forbidden: User \"" + user +
            "\" cannot list resource \"configmaps\" in API group \"\" in the namespace \"team\"\n");

  // A RoleBinding that refers to a Role not there yet: the reason names it.
  auto binding_only = std::string(kRole).substr(
      std::string(kRole).find("apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding"));
  REQUIRE(f.sim.kubectl("k1", {"apply", "-f", "-"}, binding_only).exit_code == 0);
  r = app.get("/api/v1/namespaces/team/configmaps/x");
  CHECK(
      r.body ==
      forbidden_body("configmaps \\\"x\\\" is forbidden: User \\\"" + user +
                         "\\\" cannot get resource \\\"configmaps\\\" in API group \\\"\\\" in the "
                         "namespace \\\"team\\\": RBAC: role.rbac.authorization.k8s.io "
                         "\\\"cm-reader\\\" not found",
                     R"({"name":"x","kind":"configmaps"})"));

  // With the Role: reads of configmaps, one named secret, nothing else.
  REQUIRE(f.sim.kubectl("k1", {"apply", "-f", "-"}, kRole).exit_code == 0);
  REQUIRE(f.sim.kubectl("k1", {"apply", "-f", "-"}, config_map("x", "team")).exit_code == 0);
  k = f.kubectl_as_app({"get", "configmaps", "-n", "team", "-o", "name"});
  CHECK_MESSAGE(k.exit_code == 0, k.err);
  CHECK(k.out.find("configmap/x\n") != std::string::npos);
  CHECK(app.get("/api/v1/namespaces/team/configmaps?watch=true&timeoutSeconds=1").status == 200);
  CHECK(app.get("/api/v1/namespaces/team/secrets/allowed").status == 404);  // allowed, not there
  CHECK(app.get("/api/v1/namespaces/team/secrets/other").status == 403);
  CHECK(app.get("/api/v1/namespaces/team/secrets").status == 403);
  CHECK(app.get("/api/v1/namespaces/default/configmaps").status == 403);  // another namespace
  k = f.kubectl_as_app({"delete", "configmap", "x", "-n", "team"});
  CHECK(k.exit_code == 1);
  CHECK(k.err.find("cannot delete resource \"configmaps\"") != std::string::npos);
  k = f.kubectl_as_app({"delete", "configmaps", "--all", "-n", "team"});
  CHECK(k.exit_code == 1);

  // The admin (system:masters) token and client certificate do everything.
  CHECK(f.sim.kubectl("k1", {"get", "clusterrolebindings"}).exit_code == 0);
  CHECK(f.sim.kubectl("k1", {"--context", "k1-cert", "get", "secrets", "-A"}).exit_code == 0);
}

TEST_CASE(
    "rbac: a ServiceAccount token is refused (401) once its Secret or its ServiceAccount is "
    "deleted") {
  team_fixture f;
  CHECK(f.as_app().get("/api").status == 200);
  REQUIRE(f.sim.kubectl("k1", {"delete", "secret", "app-token", "-n", "team"}).exit_code == 0);
  CHECK(f.as_app().get("/api").status == 401);

  // A new Secret gets a new token; deleting the ServiceAccount revokes it and deletes the Secret.
  REQUIRE(f.sim.kubectl("k1", {"apply", "-f", "-"}, kSetup).exit_code == 0);
  std::string token;
  REQUIRE(eventually([&] {
    auto t = f.sim.kubectl(
        "k1", {"get", "secret", "app-token", "-n", "team", "-o", "jsonpath={.data.token}"});
    token = t.out;
    return t.exit_code == 0 && !token.empty();
  }));
  auto secret = f.sim.kubectl("k1", {"get", "secret", "app-token", "-n", "team", "-o", "json"});
  auto d = js::parse(secret.out);
  CHECK(k8s::base64_decode(js::get_string(d, {"data", "namespace"})) ==
        std::optional<std::string>("team"));
  CHECK(k8s::base64_decode(js::get_string(d, {"data", "ca.crt"})) ==
        std::optional<std::string>(f.sim.ca_pem("k1")));
  CHECK_FALSE(
      js::get_string(d, {"metadata", "annotations", "kubernetes.io/service-account.uid"}).empty());
  api_client again({f.sim.url("k1"), *k8s::base64_decode(token), f.sim.ca_pem("k1"), "", "", 10s});
  CHECK(again.get("/api").status == 200);
  REQUIRE(f.sim.kubectl("k1", {"delete", "serviceaccount", "app", "-n", "team"}).exit_code == 0);
  CHECK(again.get("/api").status == 401);
  CHECK(eventually([&] {
    return f.sim.client("k1").get("/api/v1/namespaces/team/secrets/app-token").status == 404;
  }));
}

TEST_CASE(
    "rbac: kubectl auth can-i, can-i --list, --as impersonation, auth whoami and create token") {
  team_fixture f;
  REQUIRE(f.sim.kubectl("k1", {"apply", "-f", "-"}, kRole).exit_code == 0);
  const std::string sa = "system:serviceaccount:team:app";

  // The admin can; the ServiceAccount, asked through impersonation, only what its Role says.
  auto r = f.sim.kubectl("k1", {"auth", "can-i", "create", "configmaps", "-n", "team"});
  CHECK(r.out == "yes\n");
  r = f.sim.kubectl("k1", {"auth", "can-i", "list", "configmaps", "-n", "team", "--as", sa});
  CHECK_MESSAGE(r.out == "yes\n", r.err);
  r = f.sim.kubectl("k1", {"auth", "can-i", "create", "configmaps", "-n", "team", "--as", sa});
  CHECK(r.out == "no\n");
  CHECK(r.exit_code == 1);
  r = f.kubectl_as_app({"auth", "can-i", "get", "secrets/allowed", "-n", "team"});
  CHECK(r.out == "yes\n");
  r = f.kubectl_as_app({"auth", "can-i", "get", "secrets", "-n", "team"});
  CHECK(r.out == "no\n");
  r = f.kubectl_as_app({"auth", "can-i", "--list", "-n", "team"});
  CHECK_MESSAGE(r.exit_code == 0, r.err);
  CHECK(r.out.find("configmaps ") != std::string::npos);
  CHECK(r.out.find("[allowed]") != std::string::npos);
  CHECK(r.out.find("selfsubjectaccessreviews.authorization.k8s.io") != std::string::npos);

  // Impersonating needs the impersonate verb: the ServiceAccount may not.
  r = f.kubectl_as_app({"get", "configmaps", "-n", "team", "--as", "someone"});
  CHECK(r.exit_code == 1);
  CHECK_MESSAGE(
      r.err.find(
          "users \"someone\" is forbidden: User \"" + sa +
          "\" cannot impersonate resource \"users\" in API group \"\" at the cluster scope") !=
          std::string::npos,
      r.err);
  // Requests made as the ServiceAccount are authorized as it.
  r = f.sim.kubectl("k1", {"get", "secrets", "-n", "team", "--as", sa});
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("User \"" + sa + "\" cannot list resource \"secrets\"") != std::string::npos);
  r = f.sim.kubectl("k1",
                    {"get", "configmaps", "-n", "team", "--as", "jane", "--as-group", "readers"});
  CHECK(r.err.find("User \"jane\" cannot list") != std::string::npos);

  // whoami, for the admin, a ServiceAccount and an impersonated user.
  r = f.kubectl_as_app({"auth", "whoami", "-o", "json"});
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  auto who = js::parse(r.out);
  CHECK(js::get_string(who, {"status", "userInfo", "username"}) == sa);
  CHECK(js::to_string(*js::find_path(who, {"status", "userInfo", "groups"})) ==
        R"(["system:serviceaccounts","system:serviceaccounts:team","system:authenticated"])");
  r = f.sim.kubectl("k1",
                    {"auth", "whoami", "--as", "jane", "--as-group", "readers", "-o", "json"});
  who = js::parse(r.out);
  CHECK(js::get_string(who, {"status", "userInfo", "username"}) == "jane");
  CHECK(js::to_string(*js::find_path(who, {"status", "userInfo", "groups"})) ==
        R"(["readers","system:authenticated"])");
  r = f.sim.kubectl("k1", {"auth", "whoami", "-o", "jsonpath={.status.userInfo.groups}"});
  CHECK(r.out.find("system:masters") != std::string::npos);

  // kubectl create token: a TokenRequest token authenticates as the ServiceAccount.
  r = f.sim.kubectl("k1", {"create", "token", "app", "-n", "team", "--duration", "1h"});
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  std::string bound = r.out.substr(0, r.out.find('\n'));
  api_client with_bound({f.sim.url("k1"), bound, f.sim.ca_pem("k1"), "", "", 10s});
  CHECK(with_bound.get("/api/v1/namespaces/team/configmaps").status == 200);
  CHECK(with_bound.get("/api/v1/namespaces/team/secrets").status == 403);
  r = f.sim.kubectl("k1", {"create", "token", "nobody", "-n", "team"});
  CHECK(r.err == "error: failed to create token: serviceaccounts \"nobody\" not found\n");
}

TEST_CASE(
    "rbac: the default roles: view gathers what aggregate-to-view ClusterRoles grant, a "
    "RoleBinding to edit") {
  team_fixture f;
  // The aggregation controller fills view, edit and admin from the system:aggregate-to-* roles.
  auto view_has = [&](const std::string& text) {
    auto r = f.sim.kubectl("k1", {"get", "clusterrole", "view", "-o", "json"});
    return r.exit_code == 0 && r.out.find(text) != std::string::npos;
  };
  CHECK(eventually([&] { return view_has("\"configmaps\""); }));
  REQUIRE(f.sim
              .kubectl("k1", {"apply", "-f", "-"}, R"(apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: cassandra-viewer
  labels:
    rbac.authorization.k8s.io/aggregate-to-view: "true"
rules:
  - apiGroups: [db.orange.com]
    resources: [cassandraclusters]
    verbs: [get, list, watch]
)")
              .exit_code == 0);
  CHECK(eventually([&] { return view_has("\"cassandraclusters\""); }));
  // ... and edit and admin, which aggregate view's labels in turn.
  CHECK(eventually([&] {
    auto r = f.sim.kubectl("k1", {"get", "clusterrole", "admin", "-o", "json"});
    return r.out.find("\"cassandraclusters\"") != std::string::npos &&
           r.out.find("\"rolebindings\"") != std::string::npos;
  }));

  // A RoleBinding to the ClusterRole edit lets the ServiceAccount write configmaps in its
  // namespace.
  REQUIRE(f.sim.kubectl("k1", {"apply", "-f", "-"}, binding_to_app("app-edit", "edit")).exit_code ==
          0);
  auto r = f.sim.kubectl("k1", {"--token", f.token, "apply", "-f", "-"},
                         config_map("made-by-app", "team"));
  CHECK_MESSAGE(r.exit_code == 0, r.err);
  CHECK(f.sim
            .kubectl("k1", {"--token", f.token, "apply", "-f", "-"},
                     config_map("elsewhere", "default"))
            .exit_code == 1);
  CHECK(f.kubectl_as_app({"get", "namespaces"}).exit_code == 1);
}

TEST_CASE(
    "rbac: a user cannot grant through a Role or a binding what it does not hold, unless it may "
    "escalate or bind") {
  team_fixture f;
  // The ServiceAccount is admin of its namespace: it may write Roles and RoleBindings there.
  REQUIRE(
      f.sim.kubectl("k1", {"apply", "-f", "-"}, binding_to_app("app-admin", "admin")).exit_code ==
      0);
  REQUIRE(eventually([&] {
    return f.kubectl_as_app({"auth", "can-i", "create", "roles", "-n", "team"}).out == "yes\n";
  }));
  auto role = [](const std::string& name, const std::string& resource) {
    return "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata:\n  name: " + name +
           "\n  namespace: team\nrules:\n  - apiGroups: [\"\"]\n    resources: [" + resource +
           "]\n    verbs: [get]\n";
  };
  auto as_app = [&](const std::string& yaml) {
    return f.sim.kubectl("k1", {"--token", f.token, "apply", "-f", "-"}, yaml);
  };
  auto r = as_app(role("held", "secrets"));
  CHECK_MESSAGE(r.exit_code == 0, r.err);
  r = as_app(role("too-much", "nodes"));
  CHECK(r.exit_code == 1);
  CHECK_MESSAGE(
      r.err.find("roles.rbac.authorization.k8s.io \"too-much\" is forbidden: user "
                 "\"system:serviceaccount:team:app\" "
                 "(groups=[\"system:serviceaccounts\" \"system:serviceaccounts:team\" "
                 "\"system:authenticated\"]) "
                 "is attempting to grant RBAC permissions not currently held:\n"
                 "{APIGroups:[\"\"], Resources:[\"nodes\"], Verbs:[\"get\"]}") != std::string::npos,
      r.err);
  // Binding cluster-admin is granting all of it.
  r = as_app(binding_to_app("grab", "cluster-admin"));
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("rolebindings.rbac.authorization.k8s.io \"grab\" is forbidden") !=
        std::string::npos);
  // Binding a role it holds entirely is fine; `bind` on a role lifts the check for that role.
  r = as_app(binding_to_app("view-too", "view"));
  CHECK_MESSAGE(r.exit_code == 0, r.err);
  REQUIRE(f.sim
              .kubectl("k1", {"apply", "-f", "-"}, R"(apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: bind-nodes-reader
rules:
  - apiGroups: [rbac.authorization.k8s.io]
    resources: [clusterroles]
    resourceNames: [nodes-reader]
    verbs: [bind]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: nodes-reader
rules:
  - apiGroups: [""]
    resources: [nodes]
    verbs: [get]
)")
              .exit_code == 0);
  r = as_app(binding_to_app("nodes", "nodes-reader"));
  CHECK(r.exit_code == 1);  // not yet allowed to bind it
  REQUIRE(
      f.sim.kubectl("k1", {"apply", "-f", "-"}, binding_to_app("app-may-bind", "bind-nodes-reader"))
          .exit_code == 0);
  r = as_app(binding_to_app("nodes", "nodes-reader"));
  CHECK_MESSAGE(r.exit_code == 0, r.err);
}
