// The client's error messages without a network: Go's x509 texts, the TLS failure message for each
// finding, sizes and the 413 kind; and the TLS explainer's caching, with a fake diagnosis.
#include "k8s/api/api_error.h"
#include "k8s/api/tls_diagnosis.h"
#include "k8s/api/tls_explainer.h"

#include <doctest/doctest.h>

#include <openssl/x509.h>

#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using finding = k8s::tls_diagnosis::finding;

namespace {

k8s::connection_settings settings() {
  k8s::connection_settings s;
  s.server = "https://10.0.0.1:6443";
  s.ca_pem = "-----BEGIN CERTIFICATE-----\n...";
  s.token = "secret-token-0123456789";
  s.origin = "kubeconfig /etc/kc, context \"a\"";
  return s;
}

// Waits for one explanation.
std::string explained(k8s::tls_explainer& x, const std::string& message, int code) {
  std::promise<std::string> p;
  auto f = p.get_future();
  x.explain(message, code, [&p](std::string m) { p.set_value(std::move(m)); });
  REQUIRE(f.wait_for(5s) == std::future_status::ready);
  return f.get();
}

}  // namespace

TEST_CASE("client errors: Go's x509 hostname texts") {
  CHECK(k8s::x509_hostname_error("127.0.0.1", {"other.example"}, {"127.0.0.2", "::1"}) ==
        "x509: certificate is valid for 127.0.0.2, ::1, not 127.0.0.1");
  CHECK(k8s::x509_hostname_error("127.0.0.1", {"other.example"}, {}) ==
        "x509: cannot validate certificate for 127.0.0.1 because it doesn't contain any IP SANs");
  CHECK(k8s::x509_hostname_error("api.example", {"a.example", "*.b.example"}, {"10.0.0.1"}) ==
        "x509: certificate is valid for a.example, *.b.example, not api.example");
  CHECK(k8s::x509_hostname_error("api.example", {}, {"10.0.0.1"}) ==
        "x509: certificate is not valid for any names, but wanted to match api.example");
  CHECK(k8s::x509_hostname_error("::1", {}, {"127.0.0.1"}) ==
        "x509: certificate is valid for 127.0.0.1, not ::1");
}

TEST_CASE("client errors: Go's x509 validity and verification texts") {
  const std::time_t not_before = 1714521600;  // 2024-05-01T00:00:00Z
  const std::time_t not_after = 1717200000;   // 2024-06-01T00:00:00Z
  CHECK(k8s::x509_validity_error(1717200001, not_before, not_after) ==
        "x509: certificate has expired or is not yet valid: current time 2024-06-01T00:00:01Z is "
        "after 2024-06-01T00:00:00Z");
  CHECK(k8s::x509_validity_error(1714521599, not_before, not_after) ==
        "x509: certificate has expired or is not yet valid: current time 2024-04-30T23:59:59Z is "
        "before 2024-05-01T00:00:00Z");
  CHECK(k8s::x509_verify_error(X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY) ==
        "x509: certificate signed by unknown authority (OpenSSL: unable to get local issuer "
        "certificate)");
  CHECK(k8s::x509_verify_error(X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT) ==
        "x509: certificate signed by unknown authority (OpenSSL: self-signed certificate)");
  CHECK(k8s::x509_verify_error(X509_V_ERR_INVALID_PURPOSE) ==
        "x509: certificate specifies an incompatible key usage (OpenSSL: unsuitable certificate "
        "purpose)");
}

TEST_CASE("client errors: the TLS failure message names the server, the cause and the source") {
  auto s = settings();
  const std::string head = "TLS handshake with https://10.0.0.1:6443 failed: ";
  const std::string cpprest = "Error in SSL handshake";
  CHECK(k8s::tls_failure_message(s, {finding::untrusted, "x509: unknown (OpenSSL: x)"}, cpprest) ==
        head + "x509: unknown (OpenSSL: x); check the CA of kubeconfig /etc/kc, context \"a\"");
  auto no_ca = s;
  no_ca.ca_pem.clear();
  CHECK(k8s::tls_failure_message(no_ca, {finding::untrusted, "x509: u"}, cpprest) ==
        head +
            "x509: u; check the CA of kubeconfig /etc/kc, context \"a\" (it names none: the "
            "system's CAs were used)");
  CHECK(k8s::tls_failure_message(s, {finding::wrong_host, "x509: valid for b, not a"}, cpprest) ==
        head +
            "x509: valid for b, not a; check the server URL of kubeconfig /etc/kc, context "
            "\"a\" against the names in the server's certificate");
  CHECK(k8s::tls_failure_message(s, {finding::expired, "x509: expired"}, cpprest) ==
        head +
            "x509: expired; the server's certificate (or its CA) needs renewing, or this "
            "machine's clock is wrong (settings from kubeconfig /etc/kc, context \"a\")");
  CHECK(k8s::tls_failure_message(s, {finding::not_tls, "tls: first record"}, cpprest) ==
        head +
            "tls: first record; check the scheme and port of the server URL of kubeconfig "
            "/etc/kc, context \"a\"");
  CHECK(k8s::tls_failure_message(s, {finding::client_cert_refused, "remote error"}, cpprest) ==
        head + "remote error; kubeconfig /etc/kc, context \"a\" gives no client certificate");
  CHECK(k8s::tls_failure_message(s, {finding::handshake_ok, ""}, cpprest) ==
        head +
            "Error in SSL handshake (a new handshake then succeeded: the failure did not last; "
            "settings from kubeconfig /etc/kc, context \"a\")");
  CHECK(k8s::tls_failure_message(s, {finding::no_answer, "no TLS answer in time"}, cpprest) ==
        head +
            "Error in SSL handshake (no diagnosis: no TLS answer in time; settings from "
            "kubeconfig /etc/kc, context \"a\")");
  auto nameless = s;
  nameless.origin.clear();
  CHECK(k8s::tls_failure_message(nameless, {finding::untrusted, "x509: u"}, cpprest) ==
        head + "x509: u; check the CA of the connection settings");
}

TEST_CASE("client errors: sizes, too large bodies and 413 answers") {
  CHECK(k8s::readable_size(10) == "10 bytes");
  CHECK(k8s::readable_size(512 * 1024) == "512 KiB");
  CHECK(k8s::readable_size(1536) == "1.5 KiB");
  CHECK(k8s::readable_size(3 * 1024 * 1024) == "3 MiB");
  CHECK(k8s::readable_size(3565158) == "3.4 MiB");
  CHECK(k8s::max_request_body_bytes == 3145728);

  auto e = k8s::body_too_large_error(4 * 1024 * 1024);
  CHECK(e.kind == k8s::error_kind::request_entity_too_large);
  CHECK(e.http_code == 0);
  CHECK_FALSE(e.retryable());
  CHECK(e.describe() ==
        "request_entity_too_large: request body of 4 MiB (4194304 bytes) is over the API "
        "server's limit of 3 MiB");

  // kube-apiserver's answer (apimachinery's NewRequestEntityTooLargeError).
  auto answer = k8s::error_from_response(
      413,
      R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Request entity too large: limit is 3145728","reason":"RequestEntityTooLarge","code":413})",
      "");
  CHECK(answer.kind == k8s::error_kind::request_entity_too_large);
  CHECK_FALSE(answer.retryable());
  CHECK(answer.describe() ==
        "RequestEntityTooLarge (413): Request entity too large: limit is 3145728");
  // A proxy's plain 413 page.
  auto proxy = k8s::error_from_response(413, "<html>413 Request Entity Too Large</html>", "");
  CHECK(proxy.kind == k8s::error_kind::request_entity_too_large);
  CHECK(std::string(k8s::to_string(proxy.kind)) == "request_entity_too_large");
}

TEST_CASE("client errors: the TLS explainer diagnoses once per distinct failure and reuses it") {
  std::mutex m;
  std::vector<std::string> tokens_seen;
  int runs = 0;
  k8s::tls_explainer::options o;
  o.diagnose = [&](const k8s::connection_settings& s, const std::atomic<bool>&) {
    std::lock_guard lock(m);
    tokens_seen.push_back(s.token + s.token_file);
    ++runs;
    return k8s::tls_diagnosis{finding::untrusted, "x509: certificate signed by unknown authority"};
  };
  k8s::tls_explainer x(settings(), o);
  const std::string first = explained(x, "Error in SSL handshake", 1);
  CHECK(first ==
        "TLS handshake with https://10.0.0.1:6443 failed: x509: certificate signed by unknown "
        "authority; check the CA of kubeconfig /etc/kc, context \"a\"");
  CHECK(explained(x, "Error in SSL handshake", 1) == first);
  CHECK(x.diagnoses_run() == 1);
  explained(x, "Error in SSL handshake", 2);  // another failure: diagnosed anew
  CHECK(x.diagnoses_run() == 2);
  std::lock_guard lock(m);
  CHECK(runs == 2);
  for (const auto& t : tokens_seen) CHECK(t.empty());  // a diagnosis never sees a token
}

TEST_CASE("client errors: concurrent failures share one diagnosis, stale ones are redone") {
  std::mutex m;
  std::condition_variable cv;
  bool release = false;
  k8s::tls_explainer::options o;
  o.reuse = 0s;  // every finding is stale at once
  o.diagnose = [&](const k8s::connection_settings&, const std::atomic<bool>&) {
    std::unique_lock lock(m);
    cv.wait_for(lock, 5s, [&] { return release; });
    return k8s::tls_diagnosis{finding::wrong_host, "x509: certificate is valid for b, not a"};
  };
  k8s::tls_explainer x(settings(), o);
  std::vector<std::future<std::string>> waiting;
  std::vector<std::shared_ptr<std::promise<std::string>>> promises;
  for (int i = 0; i < 5; ++i) {
    auto p = std::make_shared<std::promise<std::string>>();
    waiting.push_back(p->get_future());
    x.explain("Error in SSL handshake", 1, [p](std::string message) { p->set_value(message); });
    promises.push_back(p);
  }
  {
    std::lock_guard lock(m);
    release = true;
  }
  cv.notify_all();
  for (auto& w : waiting) {
    REQUIRE(w.wait_for(5s) == std::future_status::ready);
    CHECK(w.get().find("x509: certificate is valid for b, not a") != std::string::npos);
  }
  CHECK(x.diagnoses_run() == 1);
  explained(x, "Error in SSL handshake", 1);
  CHECK(x.diagnoses_run() == 2);
}

TEST_CASE("client errors: a closing TLS explainer still answers every pending explanation") {
  std::atomic<bool> started{false};
  k8s::tls_explainer::options o;
  o.diagnose = [&](const k8s::connection_settings&, const std::atomic<bool>& stop) {
    started = true;
    while (!stop) std::this_thread::sleep_for(5ms);  // a diagnosis that gives up when told
    return k8s::tls_diagnosis{finding::no_answer, "stopped"};
  };
  std::promise<std::string> a, b;
  auto fa = a.get_future(), fb = b.get_future();
  {
    k8s::tls_explainer x(settings(), o);
    x.explain("Error in SSL handshake", 1, [&a](std::string m) { a.set_value(std::move(m)); });
    x.explain("Error in SSL handshake", 7, [&b](std::string m) { b.set_value(std::move(m)); });
    while (!started) std::this_thread::sleep_for(1ms);
  }  // joins the thread
  REQUIRE(fa.wait_for(0s) == std::future_status::ready);
  REQUIRE(fb.wait_for(0s) == std::future_status::ready);
  const std::string closed =
      "TLS handshake with https://10.0.0.1:6443 failed: Error in SSL handshake (no diagnosis: "
      "the client was closed; settings from kubeconfig /etc/kc, context \"a\")";
  CHECK(fa.get() == closed);
  CHECK(fb.get() == closed);
}
