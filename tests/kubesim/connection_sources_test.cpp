// The connection sources against the files a running kubesim writes: its kubeconfig (token and
// client-certificate contexts), its kubemcsa-style serviceaccount folder and that folder's
// `config`. The settings must match the files, and must actually authenticate.
#include <doctest/doctest.h>

#include <filesystem>

#include "k8s/api/connection.h"
#include "k8s/api/token_source.h"
#include "tests/support/kubesim_fixture.h"

using namespace testsupport;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

// GET /api with exactly what the settings say (token from the token source).
int api_status(const k8s::connection_settings& s) {
  k8s::token_source tokens(s);
  api_client c({s.server, tokens.current(), s.ca_pem, s.client_cert_pem, s.client_key_pem, 30s});
  return c.get("/api").status;
}

}  // namespace

TEST_CASE("connection sources: kubesim's kubeconfig, token and client-certificate contexts") {
  kubesim_instance sim;
  const std::string path = sim.kubeconfig("k1");

  auto s = k8s::load_kubeconfig(path);  // current-context: k1
  CHECK(s.server == sim.url("k1"));
  CHECK(s.ca_pem == sim.ca_pem("k1"));
  CHECK(s.token == sim.token("k1"));
  CHECK(s.token_file.empty());
  CHECK(s.client_cert_pem.empty());
  CHECK(s.namespace_name == "default");
  CHECK_FALSE(s.insecure_skip_tls_verify);
  CHECK(s.origin == "kubeconfig " + path + ", context \"k1\"");
  CHECK(s == k8s::load_kubeconfig(path, "k1"));
  CHECK(api_status(s) == 200);

  auto cert = k8s::load_kubeconfig(path, "k1-cert");
  CHECK(cert.server == s.server);
  CHECK(cert.ca_pem == s.ca_pem);
  CHECK(cert.token.empty());
  CHECK(cert.client_cert_pem.rfind("-----BEGIN CERTIFICATE-----", 0) == 0);
  CHECK(cert.client_key_pem.find("PRIVATE KEY-----") != std::string::npos);
  CHECK(cert.namespace_name == "default");
  CHECK(api_status(cert) == 200);

  std::string error;
  try {
    k8s::load_kubeconfig(path, "k2");
  } catch (const k8s::config_error& e) {
    error = e.what();
  }
  CHECK(error == "kubeconfig " + path + ": context \"k2\" not found (contexts: k1, k1-cert)");
}

TEST_CASE("connection sources: kubesim's serviceaccount folder and its config file") {
  kubesim_instance sim;
  const std::string dir = fs::path(sim.kubeconfig("k1")).parent_path() / "serviceaccount";

  auto folder = k8s::load_service_account_folder(dir);
  CHECK(folder.server == read_file(dir + "/server"));
  CHECK(folder.server == sim.url("k1"));
  CHECK(folder.ca_pem == read_file(dir + "/ca.crt"));
  CHECK(folder.namespace_name == read_file(dir + "/namespace"));
  CHECK(folder.token.empty());
  CHECK(folder.token_file == dir + "/token");
  CHECK(k8s::token_source(folder).current() == sim.token("k1"));
  CHECK(folder.origin == "service-account folder " + dir);
  CHECK(api_status(folder) == 200);

  // The folder's config is a token kubeconfig for the same cluster.
  auto config = k8s::load_kubeconfig(dir + "/config");
  CHECK(config.server == folder.server);
  CHECK(config.ca_pem == folder.ca_pem);
  CHECK(config.token == sim.token("k1"));
  CHECK(config.namespace_name == folder.namespace_name);
  CHECK(api_status(config) == 200);

  // Without `server` the folder falls back to its config, still following the token file.
  const std::string copy = sim.state_dir() + "/sa-copy";
  fs::copy(dir, copy);
  fs::remove(copy + "/server");
  auto from_config = k8s::load_service_account_folder(copy);
  CHECK(from_config.server == folder.server);
  CHECK(from_config.ca_pem == folder.ca_pem);
  CHECK(from_config.namespace_name == folder.namespace_name);
  CHECK(from_config.token.empty());
  CHECK(from_config.token_file == copy + "/token");
}

TEST_CASE("connection sources: a token rotated by kubesim is picked up from the token file") {
  kubesim_instance sim;
  const std::string dir = fs::path(sim.kubeconfig("k1")).parent_path() / "serviceaccount";
  auto s = k8s::load_service_account_folder(dir);
  k8s::token_source tokens(s);
  const std::string before = tokens.current();
  CHECK(before == sim.token("k1"));

  REQUIRE(sim.control("k1", "rotate-token").status == 200);
  const std::string after = sim.token("k1");
  REQUIRE(after != before);
  CHECK(tokens.current() == after);  // the file was replaced before the control call returned
  CHECK(tokens.last_error().empty());
  api_client c({s.server, tokens.current(), s.ca_pem, "", "", 30s});
  CHECK(c.get("/api").status == 200);
}
