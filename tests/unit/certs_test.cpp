// kubesim's certificates and per-cluster files: chains verify (and only against their own CA),
// a real TLS handshake succeeds with IP verification and mTLS, and the written kubeconfig and
// serviceaccount folder have the expected content and file modes.
#include "tools/kubesim/certs.h"
#include "k8s/json/base64.h"
#include "tools/kubesim/cluster_files.h"
#include "k8s/api/openssl_handles.h"

#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <yaml-cpp/yaml.h>

namespace fs = std::filesystem;
using k8s::openssl::openssl_free;
using kubesim::pem_pair;
using k8s::openssl::pkey_ptr;
using k8s::openssl::x509_ptr;

namespace {

using store_ptr = std::unique_ptr<X509_STORE, openssl_free<X509_STORE_free>>;
using store_ctx_ptr = std::unique_ptr<X509_STORE_CTX, openssl_free<X509_STORE_CTX_free>>;
using ssl_ctx_ptr = std::unique_ptr<SSL_CTX, openssl_free<SSL_CTX_free>>;
using ssl_ptr = std::unique_ptr<SSL, openssl_free<SSL_free>>;

x509_ptr parse_cert(const std::string& pem) {
  x509_ptr cert = k8s::openssl::read_cert_pem(pem);
  REQUIRE(cert);
  return cert;
}

pkey_ptr parse_key(const std::string& pem) {
  pkey_ptr key = k8s::openssl::read_key_pem(pem);
  REQUIRE(key);
  return key;
}

// X509_verify_cert of `leaf` against a store holding only `ca`; returns the verify error code.
int verify(const pem_pair& ca, const pem_pair& leaf, int purpose) {
  x509_ptr ca_cert = parse_cert(ca.cert_pem), leaf_cert = parse_cert(leaf.cert_pem);
  store_ptr store(X509_STORE_new());
  REQUIRE(X509_STORE_add_cert(store.get(), ca_cert.get()) == 1);
  store_ctx_ptr ctx(X509_STORE_CTX_new());
  REQUIRE(X509_STORE_CTX_init(ctx.get(), store.get(), leaf_cert.get(), nullptr) == 1);
  REQUIRE(X509_STORE_CTX_set_purpose(ctx.get(), purpose) == 1);
  int ok = X509_verify_cert(ctx.get());
  int err = X509_STORE_CTX_get_error(ctx.get());
  CHECK((ok == 1) == (err == X509_V_OK));
  return err;
}

std::string subject_field(X509* cert, int nid) {
  char buf[256] = {};
  X509_NAME_get_text_by_NID(X509_get_subject_name(cert), nid, buf, sizeof buf);
  return buf;
}

// Days from now until the certificate expires.
int days_left(X509* cert) {
  int days = 0, secs = 0;
  REQUIRE(ASN1_TIME_diff(&days, &secs, nullptr, X509_get0_notAfter(cert)) == 1);
  return days;
}

// The CA and leaf certificates are shared: EC keys are fast, but there is no need to redo them.
const pem_pair& test_ca() {
  static const pem_pair ca = kubesim::make_ca("kubesim-test-ca");
  return ca;
}
const pem_pair& test_server() {
  static const pem_pair server =
      kubesim::make_server_cert(test_ca(), "kube-apiserver", {"127.0.0.1", "::1"}, {"localhost"});
  return server;
}
const pem_pair& test_client() {
  static const pem_pair client =
      kubesim::make_client_cert(test_ca(), "kubernetes-admin", {"system:masters"});
  return client;
}

// ---- TLS over an in-memory BIO pair: single-threaded, no sockets, bounded number of steps.

ssl_ctx_ptr server_ctx(const pem_pair& server, const pem_pair* client_ca) {
  ssl_ctx_ptr ctx(SSL_CTX_new(TLS_server_method()));
  REQUIRE(ctx);
  REQUIRE(SSL_CTX_use_certificate(ctx.get(), parse_cert(server.cert_pem).get()) == 1);
  REQUIRE(SSL_CTX_use_PrivateKey(ctx.get(), parse_key(server.key_pem).get()) == 1);
  REQUIRE(SSL_CTX_check_private_key(ctx.get()) == 1);
  if (client_ca) {
    REQUIRE(X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx.get()),
                                parse_cert(client_ca->cert_pem).get()) == 1);
    SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  }
  return ctx;
}

ssl_ctx_ptr client_ctx(const pem_pair& trusted_ca, const pem_pair* client_cert) {
  ssl_ctx_ptr ctx(SSL_CTX_new(TLS_client_method()));
  REQUIRE(ctx);
  REQUIRE(X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx.get()),
                              parse_cert(trusted_ca.cert_pem).get()) == 1);
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  if (client_cert) {
    REQUIRE(SSL_CTX_use_certificate(ctx.get(), parse_cert(client_cert->cert_pem).get()) == 1);
    REQUIRE(SSL_CTX_use_PrivateKey(ctx.get(), parse_key(client_cert->key_pem).get()) == 1);
  }
  return ctx;
}

struct handshake_result {
  bool ok = false;
  long client_verify = X509_V_OK;
  std::string echoed;
};

// Connects a client that expects the peer to be `expected_ip`, then echoes one message.
handshake_result handshake(SSL_CTX* server, SSL_CTX* client, const char* expected_ip) {
  ssl_ptr s(SSL_new(server)), c(SSL_new(client));
  REQUIRE(s);
  REQUIRE(c);
  BIO *s_bio = nullptr, *c_bio = nullptr;
  REQUIRE(BIO_new_bio_pair(&s_bio, 0, &c_bio, 0) == 1);
  SSL_set_bio(s.get(), s_bio, s_bio);  // each SSL now owns its end
  SSL_set_bio(c.get(), c_bio, c_bio);
  SSL_set_accept_state(s.get());
  SSL_set_connect_state(c.get());
  REQUIRE(X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c.get()), expected_ip) == 1);

  handshake_result r;
  auto retryable = [](SSL* ssl, int rc) {
    int e = SSL_get_error(ssl, rc);
    return e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE;
  };
  bool c_done = false, s_done = false;
  for (int step = 0; step < 50 && !(c_done && s_done); ++step) {
    if (!c_done) {
      int rc = SSL_do_handshake(c.get());
      if (rc == 1)
        c_done = true;
      else if (!retryable(c.get(), rc))
        break;
    }
    if (!s_done) {
      int rc = SSL_do_handshake(s.get());
      if (rc == 1)
        s_done = true;
      else if (!retryable(s.get(), rc))
        break;
    }
  }
  r.client_verify = SSL_get_verify_result(c.get());
  ERR_clear_error();  // failed handshakes leave errors that must not leak into other tests
  if (!(c_done && s_done)) return r;

  const std::string msg = "ping";
  char buf[64] = {};
  REQUIRE(SSL_write(c.get(), msg.data(), (int)msg.size()) == (int)msg.size());
  int n = SSL_read(s.get(), buf, sizeof buf);
  REQUIRE(n == (int)msg.size());
  REQUIRE(SSL_write(s.get(), buf, n) == n);
  n = SSL_read(c.get(), buf, sizeof buf);
  REQUIRE(n > 0);
  r.echoed.assign(buf, n);
  r.ok = true;
  return r;
}

// ---- Files.

struct temp_dir {
  fs::path path;
  temp_dir() {
    std::string tmpl = (fs::temp_directory_path() / "kubesim_certs_test_XXXXXX").string();
    REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
    path = tmpl;
  }
  ~temp_dir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  REQUIRE(in);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

unsigned mode_of(const fs::path& p) {
  struct stat st {};
  REQUIRE(::stat(p.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

std::string decode(const YAML::Node& n) {
  auto bytes = k8s::base64_decode(n.as<std::string>());
  REQUIRE(bytes);
  return *bytes;
}

kubesim::cluster_access test_access(std::string name) {
  kubesim::cluster_access a;
  a.name = std::move(name);
  a.server_url = "https://127.0.0.1:6443";
  a.ca_pem = test_ca().cert_pem;
  a.token = kubesim::random_token();
  a.namespace_name = "casskop";
  return a;
}

}  // namespace

TEST_CASE("make_ca: self-signed P-256 CA with the CA extensions") {
  x509_ptr ca = parse_cert(test_ca().cert_pem);
  CHECK(subject_field(ca.get(), NID_commonName) == "kubesim-test-ca");
  CHECK(X509_check_issued(ca.get(), ca.get()) == X509_V_OK);
  CHECK(X509_check_ca(ca.get()) == 1);
  CHECK((X509_get_extension_flags(ca.get()) & EXFLAG_CA) != 0);
  CHECK(X509_get_key_usage(ca.get()) == (KU_KEY_CERT_SIGN | KU_CRL_SIGN));
  CHECK(X509_get0_subject_key_id(ca.get()) != nullptr);
  CHECK(X509_get_signature_nid(ca.get()) == NID_ecdsa_with_SHA256);
  CHECK(EVP_PKEY_get_bits(X509_get0_pubkey(ca.get())) == 256);
  CHECK(days_left(ca.get()) >= 3649);
  CHECK(test_ca().key_pem.find("BEGIN PRIVATE KEY") != std::string::npos);
  // Two CAs must differ in key and serial.
  pem_pair other = kubesim::make_ca("kubesim-test-ca");
  x509_ptr other_cert = parse_cert(other.cert_pem);
  CHECK(ASN1_INTEGER_cmp(X509_get0_serialNumber(ca.get()),
                         X509_get0_serialNumber(other_cert.get())) != 0);
  CHECK(other.key_pem != test_ca().key_pem);
}

TEST_CASE("make_server_cert: verifies against its CA, carries the SANs and serverAuth") {
  CHECK(verify(test_ca(), test_server(), X509_PURPOSE_SSL_SERVER) == X509_V_OK);
  x509_ptr cert = parse_cert(test_server().cert_pem);
  CHECK(X509_check_ip_asc(cert.get(), "127.0.0.1", 0) == 1);
  CHECK(X509_check_ip_asc(cert.get(), "::1", 0) == 1);
  CHECK(X509_check_host(cert.get(), "localhost", 0, 0, nullptr) == 1);
  CHECK(X509_check_ip_asc(cert.get(), "10.0.0.1", 0) != 1);
  CHECK(X509_check_host(cert.get(), "example.com", 0, 0, nullptr) != 1);
  CHECK((X509_get_extended_key_usage(cert.get()) & XKU_SSL_SERVER) != 0);
  CHECK((X509_get_extended_key_usage(cert.get()) & XKU_SSL_CLIENT) == 0);
  CHECK(X509_check_ca(cert.get()) == 0);
  CHECK(X509_get_key_usage(cert.get()) == (KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT));
  CHECK(X509_get0_authority_key_id(cert.get()) != nullptr);
  int days = days_left(cert.get());
  CHECK(days >= 700);
  CHECK(days <= 731);
}

TEST_CASE("make_client_cert: clientAuth with O and CN as Kubernetes reads them") {
  CHECK(verify(test_ca(), test_client(), X509_PURPOSE_SSL_CLIENT) == X509_V_OK);
  x509_ptr cert = parse_cert(test_client().cert_pem);
  CHECK(subject_field(cert.get(), NID_commonName) == "kubernetes-admin");
  CHECK(subject_field(cert.get(), NID_organizationName) == "system:masters");
  CHECK((X509_get_extended_key_usage(cert.get()) & XKU_SSL_CLIENT) != 0);
  CHECK((X509_get_extended_key_usage(cert.get()) & XKU_SSL_SERVER) == 0);
  // Several groups, and names longer than RFC 5280's 64 characters, as service accounts need.
  const std::string long_cn =
      "system:serviceaccount:some-long-namespace-name:some-long-account-name";
  pem_pair multi = kubesim::make_client_cert(test_ca(), long_cn, {"g1", "g2"});
  x509_ptr multi_cert = parse_cert(multi.cert_pem);
  CHECK(subject_field(multi_cert.get(), NID_commonName) == long_cn);
  X509_NAME* name = X509_get_subject_name(multi_cert.get());
  CHECK(X509_NAME_get_index_by_NID(name, NID_organizationName, -1) >= 0);
  CHECK(X509_NAME_entry_count(name) == 3);
}

TEST_CASE("certificates do not verify against another CA") {
  pem_pair other = kubesim::make_ca("other-ca");
  int err = verify(other, test_server(), X509_PURPOSE_SSL_SERVER);
  CHECK(err != X509_V_OK);
  CHECK(err == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);
  CHECK(verify(other, test_client(), X509_PURPOSE_SSL_CLIENT) != X509_V_OK);
}

TEST_CASE("bad inputs throw std::runtime_error") {
  CHECK_THROWS_AS(kubesim::make_server_cert(test_ca(), "x", {"not-an-ip"}, {}), std::runtime_error);
  pem_pair mixed{test_ca().cert_pem, kubesim::make_ca("other").key_pem};
  CHECK_THROWS_AS(kubesim::make_server_cert(mixed, "x", {"127.0.0.1"}, {}), std::runtime_error);
  CHECK_THROWS_AS(kubesim::make_client_cert(pem_pair{"junk", "junk"}, "x", {}), std::runtime_error);
  CHECK_THROWS_AS(kubesim::random_token(0), std::runtime_error);
}

TEST_CASE("random_token: hex of the requested length, different each time") {
  std::string a = kubesim::random_token(), b = kubesim::random_token();
  CHECK(a.size() == 64);
  CHECK(a != b);
  CHECK(a.find_first_not_of("0123456789abcdef") == std::string::npos);
  CHECK(kubesim::random_token(16).size() == 32);
}

TEST_CASE("TLS handshake: server cert works for 127.0.0.1, and for mTLS with the client cert") {
  ssl_ctx_ptr srv = server_ctx(test_server(), nullptr);
  ssl_ctx_ptr cli = client_ctx(test_ca(), nullptr);
  handshake_result ok = handshake(srv.get(), cli.get(), "127.0.0.1");
  CHECK(ok.ok);
  CHECK(ok.echoed == "ping");

  SUBCASE("wrong IP is rejected") {
    handshake_result r = handshake(srv.get(), cli.get(), "10.1.2.3");
    CHECK_FALSE(r.ok);
    CHECK(r.client_verify == X509_V_ERR_IP_ADDRESS_MISMATCH);
  }
  SUBCASE("a client trusting another CA is rejected") {
    ssl_ctx_ptr stranger = client_ctx(kubesim::make_ca("other-ca"), nullptr);
    handshake_result r = handshake(srv.get(), stranger.get(), "127.0.0.1");
    CHECK_FALSE(r.ok);
    CHECK(r.client_verify == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);
  }
  SUBCASE("mTLS: the client certificate is accepted, and required") {
    ssl_ctx_ptr mtls_srv = server_ctx(test_server(), &test_ca());
    ssl_ctx_ptr mtls_cli = client_ctx(test_ca(), &test_client());
    handshake_result r = handshake(mtls_srv.get(), mtls_cli.get(), "127.0.0.1");
    CHECK(r.ok);
    CHECK(r.echoed == "ping");
    CHECK_FALSE(handshake(mtls_srv.get(), cli.get(), "127.0.0.1").ok);
  }
}

TEST_CASE("write_cluster_files: kubeconfig, ca.crt and the serviceaccount folder") {
  temp_dir dir;
  kubesim::cluster_access a = test_access("cluster1");
  a.client_cert_pem = test_client().cert_pem;
  a.client_key_pem = test_client().key_pem;
  kubesim::write_cluster_files(dir.path, a);
  const fs::path base = dir.path / "cluster1";

  YAML::Node kc = YAML::LoadFile((base / "kubeconfig").string());
  CHECK(kc["apiVersion"].as<std::string>() == "v1");
  CHECK(kc["kind"].as<std::string>() == "Config");
  CHECK(kc["current-context"].as<std::string>() == "cluster1");
  REQUIRE(kc["clusters"].size() == 1);
  CHECK(kc["clusters"][0]["name"].as<std::string>() == "cluster1");
  CHECK(kc["clusters"][0]["cluster"]["server"].as<std::string>() == "https://127.0.0.1:6443");
  CHECK(decode(kc["clusters"][0]["cluster"]["certificate-authority-data"]) == a.ca_pem);

  REQUIRE(kc["users"].size() == 2);
  CHECK(kc["users"][0]["name"].as<std::string>() == "cluster1");
  CHECK(kc["users"][0]["user"]["token"].as<std::string>() == a.token);
  CHECK(kc["users"][1]["name"].as<std::string>() == "cluster1-cert");
  CHECK(decode(kc["users"][1]["user"]["client-certificate-data"]) == a.client_cert_pem);
  CHECK(decode(kc["users"][1]["user"]["client-key-data"]) == a.client_key_pem);
  CHECK_FALSE(kc["users"][1]["user"]["token"]);

  REQUIRE(kc["contexts"].size() == 2);
  const YAML::Node ctx = kc["contexts"][0];
  CHECK(ctx["name"].as<std::string>() == "cluster1");
  CHECK(ctx["context"]["cluster"].as<std::string>() == "cluster1");
  CHECK(ctx["context"]["user"].as<std::string>() == "cluster1");
  CHECK(ctx["context"]["namespace"].as<std::string>() == "casskop");
  CHECK(kc["contexts"][1]["name"].as<std::string>() == "cluster1-cert");
  CHECK(kc["contexts"][1]["context"]["user"].as<std::string>() == "cluster1-cert");
  CHECK(kc["contexts"][1]["context"]["cluster"].as<std::string>() == "cluster1");

  CHECK(slurp(base / "ca.crt") == a.ca_pem);

  const fs::path sa = base / "serviceaccount";
  int files = 0;
  for (const auto& entry : fs::directory_iterator(sa)) {
    (void)entry;
    ++files;
  }
  CHECK(files == 5);  // also proves no temp files are left behind
  CHECK(slurp(sa / "server") == "https://127.0.0.1:6443");
  CHECK(slurp(sa / "ca.crt") == a.ca_pem);
  CHECK(slurp(sa / "namespace") == "casskop");
  CHECK(slurp(sa / "token") == a.token);
  YAML::Node sa_kc = YAML::LoadFile((sa / "config").string());
  CHECK(sa_kc["current-context"].as<std::string>() == "cluster1");
  REQUIRE(sa_kc["users"].size() == 1);
  CHECK(sa_kc["users"][0]["name"].as<std::string>() == "cluster1");
  CHECK(sa_kc["users"][0]["user"]["token"].as<std::string>() == a.token);
  CHECK(sa_kc["clusters"][0]["name"].as<std::string>() == "cluster1");
  CHECK(decode(sa_kc["clusters"][0]["cluster"]["certificate-authority-data"]) == a.ca_pem);
  REQUIRE(sa_kc["contexts"].size() == 1);
  CHECK(sa_kc["contexts"][0]["name"].as<std::string>() == "cluster1");

  CHECK(mode_of(base / "kubeconfig") == 0600);
  CHECK(mode_of(sa / "token") == 0600);
  CHECK(mode_of(sa / "config") == 0600);
  CHECK(mode_of(base / "ca.crt") == 0644);
  CHECK(mode_of(sa / "server") == 0644);
}

TEST_CASE("write_cluster_files: http server, YAML-ambiguous names, rewrite, bad input") {
  temp_dir dir;
  kubesim::cluster_access a = test_access("123");  // would read back as an int if unquoted
  a.server_url = "http://127.0.0.1:8080";
  a.ca_pem.clear();
  a.namespace_name = "true";
  kubesim::write_cluster_files(dir.path, a);
  YAML::Node kc = YAML::LoadFile((dir.path / "123" / "kubeconfig").string());
  CHECK(kc["current-context"].as<std::string>() == "123");
  CHECK(kc["clusters"][0]["cluster"]["server"].as<std::string>() == "http://127.0.0.1:8080");
  CHECK_FALSE(kc["clusters"][0]["cluster"]["certificate-authority-data"]);
  CHECK(kc["users"].size() == 1);
  CHECK(kc["contexts"][0]["context"]["namespace"].as<std::string>() == "true");
  CHECK(kc["contexts"][0]["context"]["namespace"].Tag() == "!");  // quoted: a string

  // Writing again (e.g. a restart with a new token) replaces the files in place.
  a.token = kubesim::random_token();
  kubesim::write_cluster_files(dir.path, a);
  CHECK(slurp(dir.path / "123" / "serviceaccount" / "token") == a.token);

  kubesim::cluster_access bad = test_access("../escape");
  CHECK_THROWS_AS(kubesim::write_cluster_files(dir.path, bad), std::invalid_argument);
  bad = test_access("c");
  bad.ca_pem.clear();
  CHECK_THROWS_AS(kubesim::write_cluster_files(dir.path, bad), std::invalid_argument);
  bad = test_access("c");
  bad.server_url = "127.0.0.1:6443";
  CHECK_THROWS_AS(kubesim::write_cluster_files(dir.path, bad), std::invalid_argument);
  bad = test_access("c");
  bad.client_cert_pem = test_client().cert_pem;
  CHECK_THROWS_AS(kubesim::write_cluster_files(dir.path, bad), std::invalid_argument);
  bad = test_access("c");
  bad.token.clear();
  CHECK_THROWS_AS(kubesim::write_cluster_files(dir.path, bad), std::invalid_argument);
  CHECK_FALSE(fs::exists(dir.path / "c"));
}

TEST_CASE("write_secret_file: atomic replace with mode 0600") {
  temp_dir dir;
  const fs::path p = dir.path / "sub" / "token";
  kubesim::write_secret_file(p, "first");
  CHECK(slurp(p) == "first");
  CHECK(mode_of(p) == 0600);
  // A reader holding the old file keeps the old content: rename swaps inodes.
  std::ifstream old_reader(p);
  ::chmod(p.c_str(), 0644);  // the new file gets 0600 regardless of the old one's mode
  kubesim::write_secret_file(p, "second");
  CHECK(slurp(p) == "second");
  CHECK(mode_of(p) == 0600);
  std::string old_content;
  old_reader >> old_content;
  CHECK(old_content == "first");
  int files = 0;
  for (const auto& entry : fs::directory_iterator(p.parent_path())) {
    (void)entry;
    ++files;
  }
  CHECK(files == 1);
}
