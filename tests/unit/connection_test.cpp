// Connection sources read from temporary files: every kubeconfig form, each error message (and
// that none carries a secret), the in-cluster service account with an injected environment, the
// kubemcsa folder, and the token source following rotations.
#include "k8s/json/base64.h"
#include "k8s/api/connection.h"
#include "k8s/api/token_source.h"

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>
#include <yaml-cpp/binary.h>

namespace fs = std::filesystem;
using k8s::config_error;
using k8s::connection_settings;

namespace {

// Distinctive secret values: no message may contain them, raw or base64-encoded.
const std::string kToken = "tok-SECRET-7f3a9c1d2e";
const std::string kToken2 = "tok-SECRET-rotated-0b8e";
const std::string kCa =
    "-----BEGIN CERTIFICATE-----\nCA-MATERIAL-1234\n-----END CERTIFICATE-----\n";
const std::string kCert =
    "-----BEGIN CERTIFICATE-----\nCLIENT-CERT-SECRET-5678\n-----END CERTIFICATE-----\n";
const std::string kKey =
    "-----BEGIN PRIVATE KEY-----\nKEY-SECRET-MATERIAL-9abc\n-----END PRIVATE KEY-----\n";

std::string b64(const std::string& s) {
  return k8s::base64_encode(s);
}

// A fresh folder removed at the end of the test.
struct temp_dir {
  fs::path path;
  temp_dir() {
    std::string tmpl = (fs::temp_directory_path() / "connection-test-XXXXXX").string();
    REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
    path = tmpl;
  }
  ~temp_dir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string file(const std::string& name) const { return (path / name).string(); }
  std::string write(const std::string& name, const std::string& content) const {
    fs::create_directories((path / name).parent_path());
    std::ofstream(path / name, std::ios::binary | std::ios::trunc) << content;
    return file(name);
  }
};

// Writes `content` to a temp file next to `path`, then renames it over `path` (as kubelet and
// kubesim do), so readers see either the old or the new file.
void replace_atomically(const std::string& path, const std::string& content) {
  const std::string tmp = path + ".tmp";
  std::ofstream(tmp, std::ios::binary | std::ios::trunc) << content;
  fs::rename(tmp, path);
}

void rewrite_in_place(const std::string& path, const std::string& content) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << content;
}

// A kubeconfig with clusters c1 (embedded CA) and c2 (CA file), users token-user and
// cert-user, contexts a (c1/token-user/ns-a, current) and b (c2/cert-user, no namespace).
std::string two_context_kubeconfig() {
  return R"(apiVersion: v1
kind: Config
clusters:
- name: c1
  cluster:
    server: https://10.0.0.1:6443/
    certificate-authority-data: )" +
         b64(kCa) + R"(
- name: c2
  cluster:
    server: "https://c2.example:443"
    certificate-authority: certs/ca.crt
users:
- name: token-user
  user:
    token: )" +
         kToken + R"(
- name: cert-user
  user:
    client-certificate-data: )" +
         b64(kCert) + R"(
    client-key-data: )" +
         b64(kKey) + R"(
contexts:
- name: a
  context: {cluster: c1, user: token-user, namespace: ns-a}
- name: b
  context:
    cluster: c2
    user: cert-user
current-context: a
)";
}

// One cluster, user and context "x", with the given extra lines under cluster: and user:.
std::string kubeconfig_with(const std::string& cluster_lines, const std::string& user_lines,
                            const std::string& context_lines = "") {
  return "clusters:\n- name: x\n  cluster:\n" + cluster_lines + "users:\n- name: x\n  user:\n" +
         user_lines + "contexts:\n- name: x\n  context:\n    cluster: x\n    user: x\n" +
         context_lines + "current-context: x\n";
}

connection_settings parse(const std::string& yaml, const std::string& base_dir = "/base",
                          const std::string& context = "") {
  return k8s::parse_kubeconfig(yaml, base_dir, context, "kubeconfig /x/config");
}

// The message of the config_error `f` throws ("" if it throws none), checked free of secrets.
template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const config_error& e) {
    const std::string what = e.what();
    for (const std::string& secret :
         {kToken, kToken2, std::string("SECRET"), std::string("KEY-SECRET-MATERIAL"), b64(kKey),
          b64(kCert), b64(kToken)})
      CHECK_MESSAGE(what.find(secret) == std::string::npos, "secret in message: " << what);
    return what;
  }
  return "";
}

std::string parse_error(const std::string& yaml, const std::string& context = "") {
  return error_of([&] { parse(yaml, "/base", context); });
}

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("kubeconfig: current-context with embedded CA, token and namespace") {
  auto s = parse(two_context_kubeconfig());
  CHECK(s.server == "https://10.0.0.1:6443");  // trailing slash dropped
  CHECK(s.ca_pem == kCa);
  CHECK(s.token == kToken);
  CHECK(s.token_file.empty());
  CHECK(s.client_cert_pem.empty());
  CHECK(s.client_key_pem.empty());
  CHECK(s.namespace_name == "ns-a");
  CHECK_FALSE(s.insecure_skip_tls_verify);
  CHECK(s.origin == "kubeconfig /x/config, context \"a\"");
  CHECK(s == parse(two_context_kubeconfig(), "/base", "a"));
}

TEST_CASE("kubeconfig: a named context wins over current-context, CA file relative to the file") {
  temp_dir d;
  d.write("certs/ca.crt", kCa);
  auto s = parse(two_context_kubeconfig(), d.path.string(), "b");
  CHECK(s.server == "https://c2.example:443");
  CHECK(s.ca_pem == kCa);
  CHECK(s.token.empty());
  CHECK(s.client_cert_pem == kCert);
  CHECK(s.client_key_pem == kKey);
  CHECK(s.namespace_name.empty());
  CHECK(s.origin == "kubeconfig /x/config, context \"b\"");
}

TEST_CASE("kubeconfig: load_kubeconfig resolves relative and absolute file paths") {
  temp_dir d;
  d.write("cfg/pki/ca.crt", kCa);
  d.write("cfg/pki/client.crt", kCert);
  const std::string key_path = d.write("elsewhere/client.key", kKey);
  d.write("cfg/token", kToken + "\n");
  const std::string path =
      d.write("cfg/config",
              kubeconfig_with("    server: https://h:1\n    certificate-authority: pki/ca.crt\n",
                              "    client-certificate: ./pki/client.crt\n"
                              "    client-key: " +
                                  key_path +
                                  "\n"
                                  "    tokenFile: token\n"));
  auto s = k8s::load_kubeconfig(path);
  CHECK(s.server == "https://h:1");
  CHECK(s.ca_pem == kCa);
  CHECK(s.client_cert_pem == kCert);
  CHECK(s.client_key_pem == kKey);
  CHECK(s.token.empty());  // the file is read by token_source, not here
  CHECK(s.token_file == d.file("cfg/token"));
  CHECK(s.origin == "kubeconfig " + path + ", context \"x\"");
  CHECK(k8s::token_source(s).current() == kToken);
}

TEST_CASE("kubeconfig: base64 data wins over a file path for the same field") {
  auto s = parse(
      kubeconfig_with("    server: https://h\n    certificate-authority-data: " + b64(kCa) +
                          "\n    certificate-authority: /does/not/exist\n",
                      "    client-certificate-data: " + b64(kCert) +
                          "\n    client-certificate: /nope\n    client-key-data: " + b64(kKey) +
                          "\n    client-key: /nope\n"));
  CHECK(s.ca_pem == kCa);
  CHECK(s.client_cert_pem == kCert);
  CHECK(s.client_key_pem == kKey);
}

TEST_CASE("kubeconfig: insecure-skip-tls-verify is honoured only when present and true") {
  const std::string user = "    token: t\n";
  CHECK_FALSE(parse(kubeconfig_with("    server: https://h\n", user)).insecure_skip_tls_verify);
  CHECK_FALSE(
      parse(kubeconfig_with("    server: https://h\n    insecure-skip-tls-verify: false\n", user))
          .insecure_skip_tls_verify);
  auto s =
      parse(kubeconfig_with("    server: https://h\n    insecure-skip-tls-verify: true\n", user));
  CHECK(s.insecure_skip_tls_verify);
  CHECK(s.ca_pem.empty());
  CHECK(s != parse(kubeconfig_with("    server: https://h\n", user)));
}

TEST_CASE("kubeconfig: token and tokenFile together keep both, the file wins at use") {
  temp_dir d;
  d.write("t", kToken2);
  auto s = parse(kubeconfig_with("    server: http://h:8080\n",
                                 "    token: " + kToken + "\n    tokenFile: t\n"),
                 d.path.string());
  CHECK(s.server == "http://h:8080");
  CHECK(s.token == kToken);
  CHECK(s.token_file == d.file("t"));
  CHECK(k8s::token_source(s).current() == kToken2);
}

TEST_CASE("kubeconfig: a context without a user connects anonymously") {
  auto s = parse(
      "clusters: [{name: c, cluster: {server: 'https://h'}}]\n"
      "contexts: [{name: x, context: {cluster: c}}]\ncurrent-context: x\n");
  CHECK(s.server == "https://h");
  CHECK(s.token.empty());
  CHECK(s.token_file.empty());
  CHECK(s.client_cert_pem.empty());
}

TEST_CASE("kubeconfig errors name the file, the context and the field") {
  const std::string cfg = two_context_kubeconfig();
  CHECK(parse_error(cfg, "foo") ==
        "kubeconfig /x/config: context \"foo\" not found (contexts: a, b)");
  CHECK(parse_error("clusters: []\ncontexts: [{name: a}, {name: b}]\n") ==
        "kubeconfig /x/config: no context given and current-context is not set (contexts: a, b)");
  CHECK(parse_error("current-context: q\n") ==
        "kubeconfig /x/config: context \"q\" not found (contexts: none)");
  CHECK(parse_error("contexts: [{name: a, context: {user: u}}]\ncurrent-context: a\n") ==
        "kubeconfig /x/config: context \"a\" names no cluster");
  CHECK(parse_error("clusters: [{name: z}]\ncontexts: [{name: a, context: {cluster: c}}]\n"
                    "current-context: a\n") ==
        "kubeconfig /x/config: cluster \"c\" not found (clusters: z)");
  CHECK(parse_error(kubeconfig_with("    certificate-authority-data: " + b64(kCa) + "\n",
                                    "    token: t\n")) ==
        "kubeconfig /x/config: cluster \"x\" has no server");
  CHECK(parse_error(kubeconfig_with("    server: h:443\n", "")) ==
        "kubeconfig /x/config: cluster \"x\": server must be an https:// or http:// URL");
  CHECK(parse_error("clusters: [{name: c, cluster: {server: 'https://h'}}]\n"
                    "contexts: [{name: a, context: {cluster: c, user: nobody}}]\n"
                    "users: [{name: u1}, {name: u2}]\ncurrent-context: a\n") ==
        "kubeconfig /x/config: user \"nobody\" not found (users: u1, u2)");
  CHECK(parse_error(kubeconfig_with(
            "    server: https://h\n    certificate-authority-data: '%%%not base64'\n", "")) ==
        "kubeconfig /x/config: cluster \"x\": certificate-authority-data is not valid base64");
  CHECK(parse_error(kubeconfig_with("    server: https://h\n    certificate-authority-data: QUJD\n",
                                    "    client-certificate-data: " + b64(kCert) +
                                        "\n    client-key-data: " + b64(kKey).substr(0, 10) +
                                        "\n")) ==
        "kubeconfig /x/config: user \"x\": client-key-data is not valid base64");
  // Bytes >= 0x80 crashed YAML::DecodeBase64 (fuzzer finding); '=' only as final padding.
  for (const std::string& bad : {std::string("QUJD\xff\xffRA=="), std::string("QU=JRA=="),
                                 std::string("QUJDRA"), std::string("QUJDR===")})
    CHECK(parse_error(kubeconfig_with(
              "    server: https://h\n    certificate-authority-data: \"" + bad + "\"\n", "")) ==
          "kubeconfig /x/config: cluster \"x\": certificate-authority-data is not valid base64");
  CHECK(
      parse(
          kubeconfig_with(
              "    server: https://h\n    certificate-authority-data: |\n      QUJD\n      RA==\n",
              ""))
          .ca_pem == "ABCD");
  CHECK(parse_error(
            kubeconfig_with("    server: https://h\n    certificate-authority: ca.pem\n", "")) ==
        "kubeconfig /x/config: cluster \"x\": cannot read certificate-authority /base/ca.pem: No "
        "such file or directory");
  CHECK(
      parse_error(kubeconfig_with("    server: https://h\n", "    tokenFile: /no/such/token\n")) ==
      "kubeconfig /x/config: user \"x\": tokenFile /no/such/token does not exist or is not a "
      "regular file");
  CHECK(parse_error(kubeconfig_with("    server: https://h\n",
                                    "    client-certificate-data: " + b64(kCert) + "\n")) ==
        "kubeconfig /x/config: user \"x\": client-certificate without client-key");
  CHECK(parse_error(kubeconfig_with("    server: https://h\n",
                                    "    client-key-data: " + b64(kKey) + "\n")) ==
        "kubeconfig /x/config: user \"x\": client-key without client-certificate");
  CHECK(parse_error("contexts: [{name: a}, {name: a}]\ncurrent-context: a\n") ==
        "kubeconfig /x/config: duplicate context \"a\" in contexts");
  CHECK(parse_error(
            kubeconfig_with("    server: https://h\n    insecure-skip-tls-verify: maybe\n", "")) ==
        "kubeconfig /x/config: cluster \"x\": insecure-skip-tls-verify must be true or false");
  CHECK(parse_error(kubeconfig_with("    server: {url: x}\n", "")) ==
        "kubeconfig /x/config: cluster \"x\": server must be a string");
  CHECK(parse_error(kubeconfig_with("    server: https://h\n    proxy-url: http://p\n", "")) ==
        "kubeconfig /x/config: cluster \"x\": proxy-url is not supported");
  CHECK(parse_error("contexts: {a: b}\n") == "kubeconfig /x/config: contexts must be a list");
  CHECK(parse_error("current-context: [a]\n") ==
        "kubeconfig /x/config: current-context must be a string");
  CHECK(parse_error("- just\n- a list\n") ==
        "kubeconfig /x/config: not a kubeconfig (the top level is not a mapping)");
  CHECK(parse_error("") ==
        "kubeconfig /x/config: not a kubeconfig (the top level is not a mapping)");
  CHECK(contains(parse_error("clusters: [ {name: c\n"), "kubeconfig /x/config: not valid YAML: "));
  CHECK(parse_error("contexts: [{name: a, context: [1, 2]}]\ncurrent-context: a\n") ==
        "kubeconfig /x/config: context \"a\": context must be a mapping");
}

TEST_CASE("kubeconfig: unsupported authentication methods say which user and method") {
  const std::string server = "    server: https://h\n";
  CHECK(parse_error(
            kubeconfig_with(server, "    exec:\n      command: aws\n      apiVersion: v1\n")) ==
        "kubeconfig /x/config: user \"x\": exec credential plugins is not supported");
  CHECK(parse_error(kubeconfig_with(server, "    auth-provider:\n      name: gcp\n")) ==
        "kubeconfig /x/config: user \"x\": auth-provider plugins is not supported");
  CHECK(
      parse_error(kubeconfig_with(server, "    username: admin\n    password: " + kToken + "\n")) ==
      "kubeconfig /x/config: user \"x\": basic authentication (username/password) is not "
      "supported");
  CHECK(parse_error(kubeconfig_with(server, "    password: " + kToken + "\n")) ==
        "kubeconfig /x/config: user \"x\": basic authentication (username/password) is not "
        "supported");
  CHECK(parse_error(kubeconfig_with(server, "    token: " + kToken + "\n    as: someone\n")) ==
        "kubeconfig /x/config: user \"x\": impersonation (as) is not supported");
}

TEST_CASE("kubeconfig: no error message carries a token, key or certificate") {
  // Broken files full of secrets; error_of() checks every message for them.
  const std::vector<std::string> broken = {
      "users: [{name: u, user: {token: " + kToken + "\n",  // unterminated flow
      "users:\n- name: u\n  user:\n    token: " + kToken + "\n   bad: indent\n",
      kubeconfig_with("    server: https://h\n", "    token: {" + kToken + ": 1}\n"),
      kubeconfig_with("    server: https://h\n",
                      "    client-key-data: " + b64(kKey) +
                          "!!\n    client-certificate-data: " + b64(kCert) + "\n"),
      kubeconfig_with("    server: " + kToken + "\n", "    token: " + kToken + "\n"),
      kubeconfig_with("    server: https://h\n    certificate-authority-data: " + kToken + "\n",
                      ""),
      "\"" + kToken + "\": [\n",
      "key: \"" + kKey + "\n",
  };
  for (const auto& yaml : broken) {
    const std::string msg = parse_error(yaml);
    CHECK_MESSAGE(!msg.empty(), yaml);
  }
}

TEST_CASE("kubeconfig: load_kubeconfig names a missing file") {
  CHECK(error_of([] { k8s::load_kubeconfig("/no/such/dir/config"); }) ==
        "cannot read kubeconfig /no/such/dir/config: No such file or directory");
  temp_dir d;
  CHECK(error_of([&] { k8s::load_kubeconfig(d.path.string()); }) ==
        "cannot read kubeconfig " + d.path.string() + ": not a regular file");
}

namespace {

std::function<const char*(const char*)> fake_env(std::map<std::string, std::string> vars) {
  auto shared = std::make_shared<std::map<std::string, std::string>>(std::move(vars));
  return [shared](const char* name) -> const char* {
    auto it = shared->find(name);
    return it == shared->end() ? nullptr : it->second.c_str();
  };
}

void write_service_account(const temp_dir& d) {
  d.write("sa/ca.crt", kCa);
  d.write("sa/token", kToken);
  d.write("sa/namespace", "team-a\n");
}

}  // namespace

TEST_CASE("in-cluster: server from the environment, CA, namespace and a token file") {
  temp_dir d;
  write_service_account(d);
  auto s = k8s::load_in_cluster(d.file("sa"), fake_env({{"KUBERNETES_SERVICE_HOST", "10.96.0.1"},
                                                        {"KUBERNETES_SERVICE_PORT", "443"}}));
  CHECK(s.server == "https://10.96.0.1:443");
  CHECK(s.ca_pem == kCa);
  CHECK(s.token.empty());
  CHECK(s.token_file == d.file("sa") + "/token");
  CHECK(s.namespace_name == "team-a");
  CHECK_FALSE(s.insecure_skip_tls_verify);
  CHECK(s.origin == "in-cluster service account " + d.file("sa"));
  CHECK(k8s::token_source(s).current() == kToken);
}

TEST_CASE("in-cluster: an IPv6 host is put in brackets") {
  temp_dir d;
  write_service_account(d);
  auto s = k8s::load_in_cluster(d.file("sa"), fake_env({{"KUBERNETES_SERVICE_HOST", "fd00::1"},
                                                        {"KUBERNETES_SERVICE_PORT", "6443"}}));
  CHECK(s.server == "https://[fd00::1]:6443");
}

TEST_CASE("in-cluster: outside a cluster, or with files missing, the error says so") {
  temp_dir d;
  write_service_account(d);
  const std::string not_in_cluster =
      "not running in a Kubernetes cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT "
      "must both be set";
  CHECK(error_of([&] { k8s::load_in_cluster(d.file("sa"), fake_env({})); }) == not_in_cluster);
  CHECK(error_of([&] {
          k8s::load_in_cluster(d.file("sa"), fake_env({{"KUBERNETES_SERVICE_HOST", "10.0.0.1"}}));
        }) == not_in_cluster);
  const auto env = fake_env({{"KUBERNETES_SERVICE_HOST", "h"}, {"KUBERNETES_SERVICE_PORT", "1"}});
  fs::remove(d.file("sa/token"));
  CHECK(error_of([&] { k8s::load_in_cluster(d.file("sa"), env); }) ==
        "in-cluster service account " + d.file("sa") + ": token file " + d.file("sa") +
            "/token is missing or unreadable");
  fs::remove(d.file("sa/ca.crt"));
  CHECK(error_of([&] { k8s::load_in_cluster(d.file("sa"), env); }) ==
        "in-cluster service account " + d.file("sa") + ": cannot read ca.crt " + d.file("sa") +
            "/ca.crt: No such file or directory");
}

TEST_CASE("service-account folder: server, ca.crt, namespace and token files") {
  temp_dir d;
  write_service_account(d);
  d.write("sa/server", "https://api.remote:6443/\n");
  auto s = k8s::load_service_account_folder(d.file("sa"));
  CHECK(s.server == "https://api.remote:6443");
  CHECK(s.ca_pem == kCa);
  CHECK(s.token.empty());
  CHECK(s.token_file == d.file("sa") + "/token");
  CHECK(s.namespace_name == "team-a");
  CHECK(s.origin == "service-account folder " + d.file("sa"));
  CHECK(k8s::token_source(s).current() == kToken);
}

TEST_CASE("service-account folder: without a server file its config is used") {
  temp_dir d;
  write_service_account(d);
  d.write("sa/config",
          kubeconfig_with("    server: https://from-config:6443\n    certificate-authority-data: " +
                              b64(kCa) + "\n",
                          "    token: " + kToken + "\n"));
  auto s = k8s::load_service_account_folder(d.file("sa"));
  CHECK(s.server == "https://from-config:6443");
  CHECK(s.ca_pem == kCa);
  // Same token as the token file: follow the file, so rotations are picked up.
  CHECK(s.token.empty());
  CHECK(s.token_file == d.file("sa") + "/token");
  CHECK(s.namespace_name == "team-a");  // the context names none: the folder's namespace
  CHECK(s.origin == "service-account folder " + d.file("sa") + " (kubeconfig " + d.file("sa") +
                        "/config, context \"x\")");

  // A config with another token keeps its own static token.
  d.write("sa/config", kubeconfig_with("    server: https://from-config:6443\n",
                                       "    token: " + kToken2 + "\n", "    namespace: own\n"));
  s = k8s::load_service_account_folder(d.file("sa"));
  CHECK(s.token == kToken2);
  CHECK(s.token_file.empty());
  CHECK(s.namespace_name == "own");
  CHECK(s.ca_pem == kCa);  // the config has none: the folder's ca.crt
}

TEST_CASE("service-account folder: errors name the folder and the file") {
  temp_dir d;
  CHECK(error_of([&] { k8s::load_service_account_folder(d.file("missing")); }) ==
        "service-account folder " + d.file("missing") + ": not a folder");
  write_service_account(d);
  CHECK(error_of([&] { k8s::load_service_account_folder(d.file("sa")); }) ==
        "service-account folder " + d.file("sa") + ": has neither a server file nor a config file");
  d.write("sa/server", "api.remote:6443");
  CHECK(error_of([&] { k8s::load_service_account_folder(d.file("sa")); }) ==
        "service-account folder " + d.file("sa") + ": server must be an https:// or http:// URL");
  d.write("sa/server", "https://api.remote:6443");
  fs::remove(d.file("sa/token"));
  CHECK(error_of([&] { k8s::load_service_account_folder(d.file("sa")); }) ==
        "service-account folder " + d.file("sa") + ": token file " + d.file("sa") +
            "/token is missing or unreadable");
}

TEST_CASE("token_source: a static token without a token file") {
  connection_settings s;
  s.token = kToken;
  k8s::token_source ts(s);
  CHECK(ts.current() == kToken);
  CHECK(ts.last_error().empty());
}

TEST_CASE("token_source: a rotation by atomic rename is seen on the next call") {
  temp_dir d;
  connection_settings s;
  s.token_file = d.write("token", kToken + "\n");
  k8s::token_source ts(s);
  CHECK(ts.current() == kToken);
  replace_atomically(s.token_file, "  " + kToken2 + "\r\n");
  CHECK(ts.current() == kToken2);  // whitespace trimmed
  replace_atomically(s.token_file, kToken);
  CHECK(ts.current() == kToken);
  CHECK(ts.last_error().empty());
}

TEST_CASE("token_source: an in-place rewrite is seen") {
  temp_dir d;
  connection_settings s;
  s.token_file = d.write("token", kToken);
  k8s::token_source ts(s);
  CHECK(ts.current() == kToken);
  rewrite_in_place(s.token_file, kToken2);  // another size
  CHECK(ts.current() == kToken2);
  // Same size: only the file times change. They tick coarsely, so let one tick pass first.
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  std::string same_size = kToken2;
  same_size.back() = same_size.back() == 'x' ? 'y' : 'x';
  rewrite_in_place(s.token_file, same_size);
  CHECK(ts.current() == same_size);
}

TEST_CASE("token_source: keeps the last good token while the file is missing or empty") {
  temp_dir d;
  connection_settings s;
  s.token_file = d.write("token", kToken);
  k8s::token_source ts(s);
  CHECK(ts.current() == kToken);
  fs::remove(s.token_file);
  CHECK(ts.current() == kToken);
  CHECK(ts.last_error() == "token file " + s.token_file + ": No such file or directory");
  rewrite_in_place(s.token_file, "\n");
  CHECK(ts.current() == kToken);
  CHECK(ts.last_error() == "token file " + s.token_file + " is empty");
  rewrite_in_place(s.token_file, kToken2);
  CHECK(ts.current() == kToken2);
  CHECK(ts.last_error().empty());
}

TEST_CASE("token_source: the static token stands in until the file is first read") {
  temp_dir d;
  connection_settings s;
  s.token = kToken;
  s.token_file = d.file("token");
  k8s::token_source ts(s);
  CHECK(ts.current() == kToken);
  CHECK(contains(ts.last_error(), "No such file or directory"));
  CHECK_FALSE(contains(ts.last_error(), kToken));
  d.write("token", kToken2);
  CHECK(ts.current() == kToken2);
}

TEST_CASE("token_source: concurrent readers during rotations only see whole tokens") {
  temp_dir d;
  connection_settings s;
  s.token_file = d.write("token", kToken);
  k8s::token_source ts(s);
  std::atomic<bool> stop{false};
  std::atomic<int> bad{0};
  std::vector<std::thread> readers;
  for (int i = 0; i < 3; ++i)
    readers.emplace_back([&] {
      while (!stop) {
        auto t = ts.current();
        if (t != kToken && t != kToken2) ++bad;
      }
    });
  for (int i = 0; i < 200; ++i) replace_atomically(s.token_file, i % 2 ? kToken : kToken2);
  stop = true;
  for (auto& r : readers) r.join();
  CHECK(bad == 0);
  CHECK(ts.current() == kToken);
}

TEST_CASE("connection_settings: equality compares every field") {
  connection_settings a;
  a.server = "https://h";
  CHECK(a == a);
  auto differs = [&](auto mutate) {
    connection_settings b = a;
    mutate(b);
    return a != b;
  };
  CHECK(differs([](connection_settings& b) { b.server = "x"; }));
  CHECK(differs([](connection_settings& b) { b.ca_pem = "x"; }));
  CHECK(differs([](connection_settings& b) { b.insecure_skip_tls_verify = true; }));
  CHECK(differs([](connection_settings& b) { b.token = "x"; }));
  CHECK(differs([](connection_settings& b) { b.token_file = "x"; }));
  CHECK(differs([](connection_settings& b) { b.client_cert_pem = "x"; }));
  CHECK(differs([](connection_settings& b) { b.client_key_pem = "x"; }));
  CHECK(differs([](connection_settings& b) { b.namespace_name = "x"; }));
  CHECK(differs([](connection_settings& b) { b.origin = "x"; }));
}

TEST_CASE("base64: strict decoding of standard and URL-safe forms") {
  CHECK(k8s::base64_encode("hello") == "aGVsbG8=");
  CHECK(k8s::base64_encode("hello", true) == "aGVsbG8");
  CHECK(k8s::base64_decode("aGVsbG8=") == std::optional<std::string>("hello"));
  CHECK(k8s::base64_decode("aGVs\nbG8=") == std::optional<std::string>("hello"));
  CHECK(k8s::base64_decode("aGVsbG8", true) == std::optional<std::string>("hello"));
  CHECK(k8s::base64_decode("-_8", true) == std::optional<std::string>("\xfb\xff"));
  CHECK_FALSE(k8s::base64_decode("aGVsbG8"));      // missing padding
  CHECK_FALSE(k8s::base64_decode("aG=VsbG8"));     // padding inside
  CHECK_FALSE(k8s::base64_decode("aGVs\xc3\xa9G8="));  // bytes >= 0x80
  CHECK_FALSE(k8s::base64_decode("aGVsbG8=", true));  // padding in URL form
  CHECK_FALSE(k8s::base64_decode("a", true));
  CHECK(k8s::base64_decode("") == std::optional<std::string>(""));
}
