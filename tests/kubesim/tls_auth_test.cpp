// TLS, authentication and the files kubesim writes, checked the way clients use them; plus the
// command-line contract (exit codes, signals, the "kubesim ready" line).
#include <doctest/doctest.h>

#include <signal.h>
#include <sys/stat.h>

#include <filesystem>
#include <map>
#include <sstream>

#include <openssl/evp.h>

#include "k8s/json/base64.h"
#include "k8s/json/yaml_json.h"
#include "tests/kubesim/raw_http.h"
#include "tests/support/kubesim_fixture.h"
#include "tools/kubesim/certs.h"

using namespace testsupport;
using namespace std::chrono_literals;
namespace js = k8s::json;

namespace {

using steady = std::chrono::steady_clock;

std::string base64_decode(std::string_view in) {
  auto out = k8s::base64_decode(in);
  REQUIRE(out);
  return *out;
}

js::Document load_yaml(const std::string& path) { return js::yaml_to_json(read_file(path)); }

// The entry named `name` of a kubeconfig list (clusters, users, contexts), or nullptr.
const js::Value* named(const js::Value& kubeconfig, const char* list, const std::string& name) {
  const js::Value* l = js::find(kubeconfig, list);
  if (!l || !l->IsArray()) return nullptr;
  for (const auto& e : l->GetArray())
    if (js::get_string(e, "name") == name) return &e;
  return nullptr;
}

// An anonymous request (system:anonymous) outside system:public-info-viewer's paths: RBAC's 403.
void check_anonymous_forbidden(const http_reply& r, const std::string& path) {
  CHECK(r.status == 403);
  CHECK(r.body ==
        R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"forbidden: User \"system:anonymous\" cannot get path \")" +
            path + R"(\"","reason":"Forbidden","details":{},"code":403})");
}

void check_unauthorized(const http_reply& r) {
  CHECK(r.status == 401);
  CHECK(r.body ==
        R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401})");
}

long long elapsed_ms(steady::time_point since) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - since).count();
}

}  // namespace

TEST_CASE("tls: only the cluster CA is trusted, then tokens and anonymous paths authenticate as on a real server") {
  kubesim_instance sim;
  const std::string url = sim.url("k1");
  CHECK(url.rfind("https://127.0.0.1:", 0) == 0);
  CHECK(sim.client("k1").get("/api").status == 200);

  // A client that trusts another CA refuses the serving certificate.
  auto other = kubesim::make_ca("some-other-ca");
  api_client distrustful({url, sim.token("k1"), other.cert_pem, "", "", 10s});
  std::string error;
  try {
    distrustful.get("/api");
  } catch (const std::runtime_error& e) {
    error = e.what();
  }
  CHECK_MESSAGE(!error.empty(), "the request succeeded although the CA is not trusted");
  CHECK_MESSAGE((error.find("handshake") != std::string::npos ||
                 error.find("certificate") != std::string::npos),
                error);
  CHECK_THROWS(raw_watch(url, "/version", "", other.cert_pem, 5s));

  api_client wrong({url, "wrong-token", sim.ca_pem("k1"), "", "", 10s});
  check_unauthorized(wrong.get("/api"));
  check_unauthorized(wrong.get("/api/v1/namespaces"));
  check_unauthorized(wrong.get("/version"));  // a bad token is an error, not anonymous
  check_unauthorized(wrong.get("/healthz"));

  auto anon = sim.anonymous_client("k1");
  // Anonymous requests are authenticated as system:anonymous, then refused by RBAC.
  check_anonymous_forbidden(anon.get("/api"), "/api");
  check_anonymous_forbidden(anon.get("/apis"), "/apis");
  auto list = anon.get("/api/v1/namespaces");
  CHECK(list.status == 403);
  CHECK(list.body.find(R"(namespaces is forbidden: User \"system:anonymous\" cannot list resource \"namespaces\" in API group \"\" at the cluster scope)") != std::string::npos);
  for (const char* p : {"/version", "/version/"}) {
    auto v = anon.get(p);
    CHECK_MESSAGE(v.status == 200, p);
    CHECK(js::get_string(v.json(), "gitVersion").substr(0, 6) == "v1.32.");
  }
  for (const char* p : {"/healthz", "/livez", "/readyz"}) {
    auto h = anon.get(p);
    CHECK_MESSAGE(h.status == 200, p);
    CHECK(h.body == "ok");
  }
  // Only Bearer is a token scheme; anything else is no credential at all (as bearertoken.go).
  CHECK(anon.request("GET", "/version", "", "", {{"Authorization", "Basic dXNlcjpwYXNz"}}).status == 200);
  check_anonymous_forbidden(anon.request("GET", "/api", "", "", {{"Authorization", "Basic dXNlcjpwYXNz"}}), "/api");
  // An empty bearer token is no credential either.
  CHECK(anon.request("GET", "/version", "", "", {{"Authorization", "Bearer "}}).status == 200);
  check_anonymous_forbidden(anon.request("GET", "/api", "", "", {{"Authorization", "Bearer "}}), "/api");
  // The scheme is case-insensitive.
  CHECK(anon.request("GET", "/api", "", "", {{"Authorization", "bearer " + sim.token("k1")}}).status == 200);
}

TEST_CASE("tls: the kubeconfig's NAME-cert context authenticates kubectl with a client certificate") {
  kubesim_instance sim;
  auto kc = load_yaml(sim.kubeconfig("k1"));
  const js::Value* ctx = named(kc, "contexts", "k1-cert");
  REQUIRE(ctx != nullptr);
  CHECK(js::get_string(*ctx, {"context", "user"}) == "k1-cert");
  CHECK(js::get_string(*ctx, {"context", "cluster"}) == "k1");
  const js::Value* user = named(kc, "users", "k1-cert");
  REQUIRE(user != nullptr);
  CHECK(js::find_path(*user, {"user", "token"}) == nullptr);
  const std::string cert = base64_decode(js::get_string(*user, {"user", "client-certificate-data"}));
  const std::string key = base64_decode(js::get_string(*user, {"user", "client-key-data"}));
  CHECK(cert.rfind("-----BEGIN CERTIFICATE-----", 0) == 0);

  auto r = sim.kubectl("k1", {"--context", "k1-cert", "get", "namespaces"});
  CHECK_MESSAGE(r.exit_code == 0, r.err);
  CHECK(r.out.find("kube-system") != std::string::npos);
  r = sim.kubectl("k1", {"--context", "k1-cert", "apply", "-f", "-"},
                  R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"by-cert"},"data":{"a":"b"}})");
  CHECK_MESSAGE(r.exit_code == 0, r.err);
  CHECK(r.out == "configmap/by-cert created\n");

  api_client mtls({sim.url("k1"), "", sim.ca_pem("k1"), cert, key, 10s});
  CHECK(mtls.get("/api/v1/namespaces").status == 200);
  // The x509 authenticator runs before the token one: a valid certificate wins over a bad token.
  api_client mtls_bad_token({sim.url("k1"), "wrong-token", sim.ca_pem("k1"), cert, key, 10s});
  CHECK(mtls_bad_token.get("/api/v1/namespaces").status == 200);
}

TEST_CASE("tls: a client certificate signed by another CA is not authenticated") {
  kubesim_instance sim;
  auto other = kubesim::make_ca("intruder-ca");
  auto cert = kubesim::make_client_cert(other, "intruder", {"system:masters"});
  api_client intruder({sim.url("k1"), "", sim.ca_pem("k1"), cert.cert_pem, cert.key_pem, 10s});
  check_unauthorized(intruder.get("/api"));
  check_unauthorized(intruder.get("/api/v1/namespaces"));
  // A certificate that fails verification is an authentication error, even where anonymous
  // requests are allowed (the anonymous authenticator only runs when nothing else errored).
  check_unauthorized(intruder.get("/version"));
  // With a valid token besides, the token authenticates the request.
  api_client with_token({sim.url("k1"), sim.token("k1"), sim.ca_pem("k1"), cert.cert_pem, cert.key_pem, 10s});
  CHECK(with_token.get("/api/v1/namespaces").status == 200);
}

TEST_CASE("tls: --insecure-http serves http:// with a CA-less kubeconfig that kubectl uses") {
  kubesim_instance sim({"k1"}, {"--insecure-http"});
  CHECK(sim.url("k1").rfind("http://127.0.0.1:", 0) == 0);
  auto kc = load_yaml(sim.kubeconfig("k1"));
  const js::Value* cluster = named(kc, "clusters", "k1");
  REQUIRE(cluster != nullptr);
  CHECK(js::get_string(*cluster, {"cluster", "server"}) == sim.url("k1"));
  CHECK(js::find_path(*cluster, {"cluster", "certificate-authority-data"}) == nullptr);
  CHECK(js::find_path(*cluster, {"cluster", "certificate-authority"}) == nullptr);
  CHECK(named(kc, "users", "k1-cert") == nullptr);  // no TLS, no client certificates

  auto r = sim.kubectl("k1", {"get", "namespaces"});
  CHECK_MESSAGE(r.exit_code == 0, r.err);
  CHECK(r.out.find("default") != std::string::npos);
  r = sim.kubectl("k1", {"--kubeconfig", sim.state_dir() + "/state/k1/serviceaccount/config", "get", "ns"});
  CHECK_MESSAGE(r.exit_code == 0, r.err);

  // Like kube-apiserver's old insecure port: no authentication (kubectl sends none over http).
  CHECK(sim.client("k1").get("/api").status == 200);
  CHECK(sim.anonymous_client("k1").get("/api/v1/namespaces").status == 200);
  CHECK(sim.anonymous_client("k1").get("/version").status == 200);
}

TEST_CASE("tls: the serviceaccount folder is a consistent kubemcsa-style export") {
  kubesim_instance sim;
  const std::string sa = sim.state_dir() + "/state/k1/serviceaccount";
  auto r = run({"kubectl", "--kubeconfig", sa + "/config", "get", "ns"}, sim.kubectl_env(), 60s);
  CHECK_MESSAGE(r.exit_code == 0, r.err);
  CHECK(r.out.find("kube-system") != std::string::npos);

  auto cfg = load_yaml(sa + "/config");
  CHECK(js::get_string(cfg, "current-context") == "k1");
  REQUIRE(cfg["clusters"].Size() == 1);
  REQUIRE(cfg["users"].Size() == 1);  // token only: no NAME-cert user here
  REQUIRE(cfg["contexts"].Size() == 1);
  const auto& cluster = cfg["clusters"][0];
  const auto& user = cfg["users"][0];
  const auto& context = cfg["contexts"][0];

  const std::string server = read_file(sa + "/server");
  const std::string token = read_file(sa + "/token");
  const std::string ns = read_file(sa + "/namespace");
  const std::string ca = read_file(sa + "/ca.crt");
  CHECK(js::get_string(cluster, {"cluster", "server"}) == server);
  CHECK(base64_decode(js::get_string(cluster, {"cluster", "certificate-authority-data"})) == ca);
  CHECK(js::get_string(user, {"user", "token"}) == token);
  CHECK(js::get_string(context, {"context", "namespace"}) == ns);
  CHECK(js::get_string(context, {"context", "user"}) == js::get_string(user, "name"));
  CHECK(js::get_string(context, {"context", "cluster"}) == js::get_string(cluster, "name"));
  // Secret keys hold exact bytes: no trailing newline.
  CHECK(ns == "default");
  CHECK(token.find('\n') == std::string::npos);
  CHECK(server.find('\n') == std::string::npos);
  CHECK(ca.rfind("-----BEGIN CERTIFICATE-----", 0) == 0);
  // The same cluster as the main kubeconfig.
  auto kc = load_yaml(sim.kubeconfig("k1"));
  CHECK(js::get_string(*named(kc, "clusters", "k1"), {"cluster", "server"}) == server);
  CHECK(js::get_string(*named(kc, "users", "k1"), {"user", "token"}) == token);
  CHECK(read_file(sim.state_dir() + "/state/k1/ca.crt") == ca);
  // Secrets are private.
  for (const char* f : {"/token", "/config"}) {
    struct stat st {};
    REQUIRE(::stat((sa + f).c_str(), &st) == 0);
    CHECK_MESSAGE((st.st_mode & 0777) == 0600, f);
  }
  // The token works on its own, with the CA file.
  api_client c({server, token, ca, "", "", 10s});
  CHECK(c.get("/api/v1/namespaces/" + ns + "/configmaps").status == 200);
}

TEST_CASE("cli: missing --cluster exits 2 with a message, then --help exits 0") {
  const std::string dir = make_temp_dir("kubesim-cli");
  auto r = run({KUBESIM_BIN, "--state-dir", dir + "/state"}, {}, 30s);
  CHECK(r.exit_code == 2);
  CHECK_MESSAGE(r.err.find("--cluster") != std::string::npos, r.err);

  r = run({KUBESIM_BIN}, {}, 30s);
  CHECK(r.exit_code == 2);
  CHECK(!r.err.empty());

  r = run({KUBESIM_BIN, "--state-dir", dir + "/state", "--cluster", "a/b"}, {}, 30s);
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("invalid cluster name") != std::string::npos);

  r = run({KUBESIM_BIN, "--state-dir", dir + "/state", "--cluster", "k1", "--no-such-option"}, {}, 30s);
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("no-such-option") != std::string::npos);

  r = run({KUBESIM_BIN, "--help"}, {}, 30s);
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("--cluster") != std::string::npos);
  CHECK(r.out.find("--state-dir") != std::string::npos);
  CHECK(r.out.find("--insecure-http") != std::string::npos);
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

TEST_CASE("cli: SIGTERM and SIGINT stop kubesim with exit 0 in under 5 s, open watches or not") {
  for (int sig : {SIGTERM, SIGINT}) {
    CAPTURE(sig);
    kubesim_instance sim({"k1", "k2"});
    // An open watch and a kept-alive connection must not hold the shutdown up.
    auto c = sim.client("k1");
    REQUIRE(c.get("/api/v1/namespaces").status == 200);
    raw_watch w(sim.url("k1"), "/api/v1/configmaps?watch=1", sim.token("k1"), sim.ca_pem("k1"));
    REQUIRE(w.status() == 200);
    auto start = steady::now();
    REQUIRE(::kill(sim.process().pid(), sig) == 0);
    CHECK(eventually([&] { return !sim.process().running(); }, 5s));
    CHECK(elapsed_ms(start) < 5000);
    CHECK(sim.process().terminate(1s) == 0);  // already reaped: its exit code
    CHECK(w.wait_end(2s) != raw_watch::end_kind::open);
  }
}

TEST_CASE("cli: 'kubesim ready' is printed only once every listener accepts connections") {
  for (int round = 0; round < 3; ++round) {
    CAPTURE(round);
    kubesim_instance sim({"k1", "k2", "k3"});  // returns right after the ready line
    // Connect at once to every URL printed before the line, without retrying.
    std::map<std::string, std::string> urls;
    std::string control;
    std::istringstream out(sim.process().output());
    for (std::string line; std::getline(out, line);) {
      std::istringstream words(line);
      std::string what, name, url;
      words >> what;
      if (what == "cluster" && (words >> name >> url)) urls[name] = url;
      if (what == "control") words >> control;
    }
    REQUIRE(urls.size() == 3);
    REQUIRE(!control.empty());
    for (const auto& [name, url] : urls) {
      CAPTURE(name);
      raw_watch h(url, "/healthz", "", read_file(sim.state_dir() + "/state/" + name + "/ca.crt"));
      CHECK(h.status() == 200);
      CHECK(url == sim.url(name));
      auto kc = load_yaml(sim.kubeconfig(name));
      CHECK(js::get_string(*named(kc, "clusters", name), {"cluster", "server"}) == url);
    }
    CHECK(read_file(sim.state_dir() + "/state/control/url") == control);
    api_client ctl({control, read_file(sim.state_dir() + "/state/control/token"), "", "", "", 5s});
    CHECK(ctl.get("/clusters").status == 200);
  }
}
