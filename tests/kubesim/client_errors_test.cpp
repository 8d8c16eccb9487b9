// k8s::client's errors say what is wrong, for real: a failed TLS handshake in kubectl's words
// (unknown authority, wrong host, expired, not TLS) with the server URL and the settings' source,
// and request bodies over the API server's limit refused before sending, with their size, as a
// server's 413 answer is. kubesim serves the real cluster; servers in this process (k8s::http)
// serve certificates kubesim does not have and answers it does not give.
#include <doctest/doctest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <atomic>
#include <future>
#include <thread>

#include "k8s/api/client.h"
#include "k8s/api/connection.h"
#include "k8s/http/http_server.h"
#include "k8s/api/openssl_handles.h"
#include "tests/support/kubesim_fixture.h"
#include "tools/kubesim/certs.h"

using namespace testsupport;
using namespace std::chrono_literals;

namespace {

using steady = std::chrono::steady_clock;

const k8s::resource configmaps{"", "v1", "configmaps", "ConfigMap", true};

// Runs `start` with a callback and waits for its result; fails the test after `timeout`.
template <class T, class F>
k8s::result<T> await(F&& start, std::chrono::milliseconds timeout = 15s) {
  auto p = std::make_shared<std::promise<k8s::result<T>>>();
  auto f = p->get_future();
  start([p](k8s::result<T> r) { p->set_value(std::move(r)); });
  REQUIRE_MESSAGE(f.wait_for(timeout) == std::future_status::ready, "no callback in time");
  return f.get();
}

k8s::api_error get_error(k8s::client& c, const std::string& name = "x") {
  auto r = await<k8s::object_ptr>([&](auto cb) { c.get(configmaps, "default", name, cb); });
  REQUIRE_MESSAGE(!r.ok(), "expected an error");
  return r.error();
}

k8s::result<k8s::object_ptr> create(k8s::client& c, const std::string& body) {
  return await<k8s::object_ptr>([&](auto cb) { c.create(configmaps, "default", body, {}, cb); });
}

// How a watch ended: the error it ended with.
k8s::api_error watch_error(k8s::client& c) {
  auto p = std::make_shared<std::promise<std::optional<k8s::api_error>>>();
  auto f = p->get_future();
  auto handle = c.watch(
      configmaps, "default", {}, [](std::string_view) {},
      [p](std::optional<k8s::api_error> e) { p->set_value(std::move(e)); });
  REQUIRE_MESSAGE(f.wait_for(15s) == std::future_status::ready, "the watch did not end");
  auto end = f.get();
  REQUIRE_MESSAGE(end.has_value(), "the watch ended cleanly");
  return *end;
}

// A ConfigMap whose JSON is exactly `bytes` long.
std::string configmap_of_size(const std::string& name, size_t bytes) {
  const std::string head = R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":")" + name +
                           R"("},"data":{"k":")";
  const std::string tail = R"("}})";
  REQUIRE(bytes > head.size() + tail.size());
  return head + std::string(bytes - head.size() - tail.size(), 'x') + tail;
}

std::string status_json(int code, const std::string& reason, const std::string& message) {
  return R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":")" +
         message + R"(","reason":")" + reason + R"(","code":)" + std::to_string(code) + "}";
}

// An HTTP(S) server in this process on 127.0.0.1 that gives every request `answer` and counts the
// requests it read (a body over `max_body` is answered 413 by k8s::http and not counted).
class local_server {
 public:
  local_server(std::optional<k8s::http::tls_config> tls, k8s::http::response answer,
               size_t max_body = 8 * 1024 * 1024) {
    k8s::http::listener_options o;
    o.tls = std::move(tls);
    o.max_body_bytes = max_body;
    listener_ = std::make_unique<k8s::http::listener>(
        io_, o, [this, answer](std::shared_ptr<k8s::http::exchange> ex) {
          ++requests_;
          ex->reply(answer);
        });
    listener_->open();
    thread_ = std::thread([this] {
      auto guard = boost::asio::make_work_guard(io_);
      io_.run();
    });
  }
  ~local_server() {
    listener_->close();
    io_.stop();
    thread_.join();
  }
  std::string url() const { return listener_->url(); }
  uint16_t port() const { return listener_->port(); }
  int requests() const { return requests_; }

 private:
  boost::asio::io_context io_;
  std::unique_ptr<k8s::http::listener> listener_;
  std::thread thread_;
  std::atomic<int> requests_{0};
};

const k8s::http::response not_found{
    404, "application/json", status_json(404, "NotFound", R"(configmaps \"x\" not found)"), {}};

// Settings for a local server, trusting `ca`.
k8s::connection_settings local_settings(const std::string& server, const std::string& ca_pem) {
  k8s::connection_settings s;
  s.server = server;
  s.ca_pem = ca_pem;
  s.token = "local-test-token-0123456789";
  s.origin = "test settings for " + server;
  return s;
}

// `pair`'s certificate with its validity moved into the past (ended a day ago), re-signed by `ca`.
kubesim::pem_pair expired_copy(const kubesim::pem_pair& pair, const kubesim::pem_pair& ca) {
  k8s::openssl::x509_ptr cert = k8s::openssl::read_cert_pem(pair.cert_pem);
  k8s::openssl::pkey_ptr ca_key = k8s::openssl::read_key_pem(ca.key_pem);
  REQUIRE(cert);
  REQUIRE(ca_key);
  REQUIRE(X509_gmtime_adj(X509_getm_notBefore(cert.get()), -30L * 24 * 3600));
  REQUIRE(X509_gmtime_adj(X509_getm_notAfter(cert.get()), -24L * 3600));
  REQUIRE(X509_sign(cert.get(), ca_key.get(), EVP_sha256()) > 0);
  k8s::openssl::bio_ptr out(BIO_new(BIO_s_mem()));
  REQUIRE(PEM_write_bio_X509(out.get(), cert.get()) == 1);
  char* data = nullptr;
  long len = BIO_get_mem_data(out.get(), &data);
  return {std::string(data, static_cast<size_t>(len)), pair.key_pem};
}

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("client errors: a wrong CA names the server, the unknown authority and the source") {
  kubesim_instance sim;
  auto s = k8s::load_kubeconfig(sim.kubeconfig("k1"));
  s.ca_pem = kubesim::make_ca("some-other-ca").cert_pem;
  k8s::client c(s);

  // kubesim sends its CA along with its certificate: OpenSSL finds a self-signed root it does
  // not trust.
  auto e = get_error(c);
  CHECK(e.kind == k8s::error_kind::unreachable);
  CHECK(e.retryable());
  CHECK(e.http_code == 0);
  const std::string expected =
      "TLS handshake with " + sim.url("k1") +
      " failed: x509: certificate signed by unknown authority (OpenSSL: self-signed "
      "certificate in certificate chain); check the CA of kubeconfig " +
      sim.kubeconfig("k1") + ", context \"k1\"";
  CHECK(e.message == expected);
  CHECK(e.describe() == "unreachable: " + expected);
  CHECK_FALSE(has(e.describe(), sim.token("k1")));

  // The next failure reuses the diagnosis; a watch is told the same.
  CHECK(get_error(c).message == expected);
  auto w = watch_error(c);
  CHECK(w.kind == k8s::error_kind::unreachable);
  CHECK(w.message == expected);

  // With the right CA again, requests work at once.
  c.update_settings(k8s::load_kubeconfig(sim.kubeconfig("k1")));
  CHECK(get_error(c, "none").kind == k8s::error_kind::not_found);
}

TEST_CASE("client errors: a certificate for other names says which names it is valid for") {
  auto ca = kubesim::make_ca("names-ca");
  auto cert = kubesim::make_server_cert(ca, "elsewhere", {"127.0.0.2"}, {"other.example"});
  local_server server(k8s::http::tls_config{cert.cert_pem, cert.key_pem, ""}, not_found);
  REQUIRE(server.url().rfind("https://127.0.0.1:", 0) == 0);

  auto s = local_settings(server.url(), ca.cert_pem);
  k8s::client by_ip(s);
  auto e = get_error(by_ip);
  CHECK(e.kind == k8s::error_kind::unreachable);
  CHECK(e.message == "TLS handshake with " + server.url() +
                         " failed: x509: certificate is valid for 127.0.0.2, not 127.0.0.1; check "
                         "the server URL of test settings for " +
                         server.url() + " against the names in the server's certificate");

  auto by_name = local_settings("https://localhost:" + std::to_string(server.port()), ca.cert_pem);
  k8s::client localhost(by_name);
  CHECK(has(get_error(localhost).message,
            "failed: x509: certificate is valid for other.example, not localhost; check the server "
            "URL of test settings for https://localhost:"));
  CHECK(server.requests() == 0);
}

TEST_CASE("client errors: a certificate without IP names reached by IP says so") {
  auto ca = kubesim::make_ca("dns-only-ca");
  auto cert = kubesim::make_server_cert(ca, "dns-only", {}, {"api.example"});
  local_server server(k8s::http::tls_config{cert.cert_pem, cert.key_pem, ""}, not_found);
  k8s::client c(local_settings(server.url(), ca.cert_pem));
  CHECK(has(get_error(c).message,
            " failed: x509: cannot validate certificate for 127.0.0.1 because it doesn't contain "
            "any IP SANs; check the server URL of "));
}

TEST_CASE("client errors: an expired server certificate is reported with its end") {
  auto ca = kubesim::make_ca("expiry-ca");
  auto cert = expired_copy(kubesim::make_server_cert(ca, "expired", {"127.0.0.1"}, {}), ca);
  local_server server(k8s::http::tls_config{cert.cert_pem, cert.key_pem, ""}, not_found);
  k8s::client c(local_settings(server.url(), ca.cert_pem));
  auto e = get_error(c);
  CHECK(e.kind == k8s::error_kind::unreachable);
  CHECK_MESSAGE(has(e.message, "TLS handshake with " + server.url() +
                                   " failed: x509: certificate has expired or is not yet valid: "
                                   "current time "),
                e.message);
  CHECK_MESSAGE(has(e.message, "Z is after "), e.message);
  CHECK(has(e.message,
            "; the server's certificate (or its CA) needs renewing, or this machine's "
            "clock is wrong (settings from test settings for "));
}

TEST_CASE("client errors: https to a plain HTTP port says the server does not speak TLS") {
  local_server server(std::nullopt, not_found);
  REQUIRE(server.url().rfind("http://", 0) == 0);
  const std::string https = "https://127.0.0.1:" + std::to_string(server.port());
  k8s::client c(local_settings(https, kubesim::make_ca("any-ca").cert_pem));
  auto e = get_error(c);
  CHECK(e.kind == k8s::error_kind::unreachable);
  CHECK_MESSAGE(has(e.message, "TLS handshake with " + https +
                                   " failed: tls: first record does not look like a TLS handshake "
                                   "(OpenSSL: "),
                e.message);
  CHECK(has(e.message, "; check the scheme and port of the server URL of test settings for "));
}

TEST_CASE("client errors: a 4 MiB create is refused before sending, with its size") {
  kubesim_instance sim;
  std::atomic<int> requests{0};
  k8s::client_options o;
  o.on_request = [&](const k8s::request_record&) { ++requests; };
  k8s::client c(k8s::load_kubeconfig(sim.kubeconfig("k1")), o);

  const auto start = steady::now();
  auto r = create(c, configmap_of_size("huge", 4 * 1024 * 1024));
  REQUIRE(!r.ok());
  CHECK(steady::now() - start < 1s);
  const auto& e = r.error();
  CHECK(e.kind == k8s::error_kind::request_entity_too_large);
  CHECK(e.http_code == 0);
  CHECK_FALSE(e.retryable());
  CHECK(e.describe() ==
        "request_entity_too_large: request body of 4 MiB (4194304 bytes) is over the API "
        "server's limit of 3 MiB");
  CHECK(requests == 0);  // nothing left: the hook is told of every request that did

  auto after = await<k8s::object_ptr>([&](auto cb) { c.get(configmaps, "default", "huge", cb); });
  REQUIRE(!after.ok());
  CHECK(after.error().kind == k8s::error_kind::not_found);
  CHECK(requests == 1);
}

TEST_CASE("client errors: a body of exactly 3 MiB is sent, one byte more is not") {
  local_server server(std::nullopt, not_found);
  k8s::client c(local_settings(server.url(), ""));
  auto at_limit = create(c, configmap_of_size("at-limit", k8s::max_request_body_bytes));
  REQUIRE(!at_limit.ok());
  CHECK(at_limit.error().kind == k8s::error_kind::not_found);  // the server's answer
  CHECK(server.requests() == 1);
  auto over = create(c, configmap_of_size("over", k8s::max_request_body_bytes + 1));
  REQUIRE(!over.ok());
  CHECK(over.error().kind == k8s::error_kind::request_entity_too_large);
  CHECK(over.error().message ==
        "request body of 3.0 MiB (3145729 bytes) is over the API server's limit of 3 MiB");
  CHECK(server.requests() == 1);
}

TEST_CASE("client errors: a 413 answer is request_entity_too_large with the body's size") {
  const k8s::http::response too_large{
      413,
      "application/json",
      status_json(413, "RequestEntityTooLarge", "Request entity too large: limit is 3145728"),
      {}};
  local_server server(std::nullopt, too_large);
  k8s::client c(local_settings(server.url(), ""));
  auto r = create(c, configmap_of_size("small", 2000));
  REQUIRE(!r.ok());
  const auto& e = r.error();
  CHECK(e.kind == k8s::error_kind::request_entity_too_large);
  CHECK(e.http_code == 413);
  CHECK_FALSE(e.retryable());
  CHECK(e.describe() ==
        "RequestEntityTooLarge (413): Request entity too large: limit is 3145728 (the request "
        "body was 2.0 KiB (2000 bytes))");
}

TEST_CASE(
    "client errors: a server with a lower body limit gets an answer or an error with the size") {
  // k8s::http answers 413 as soon as it reads the Content-Length, then closes: the client either
  // reads that answer or fails while still writing the body.
  local_server server(std::nullopt, not_found, 1024 * 1024);
  k8s::client c(local_settings(server.url(), ""));
  auto r = create(c, configmap_of_size("big", 2 * 1024 * 1024));
  REQUIRE(!r.ok());
  const auto& e = r.error();
  CAPTURE(e.describe());
  CHECK((e.kind == k8s::error_kind::request_entity_too_large ||
         e.kind == k8s::error_kind::unreachable));
  CHECK(has(e.message, "the request body was 2 MiB (2097152 bytes)"));
  if (e.kind == k8s::error_kind::unreachable)
    CHECK(has(e.message, ": the server may refuse bodies this large)"));
  CHECK(server.requests() == 0);
}
