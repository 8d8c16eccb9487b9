// Why a TLS handshake with a cluster fails, in the words kubectl would use. cpprest reports every
// handshake failure as "Error in SSL handshake"; this performs one handshake of its own with
// OpenSSL, configured as the client configures its connections (exactly the given CA, the client
// certificate, the host of the server URL), and reads what went wrong: the X.509 verification
// result, the host check of the server's certificate, or the handshake's own error.
// It never sends a request, so no token is ever involved.
#pragma once

#include <atomic>
#include <chrono>
#include <ctime>
#include <string>
#include <string_view>
#include <vector>

#include "k8s/api/connection.h"

namespace k8s {

struct tls_diagnosis {
  enum class finding {
    no_answer,            // no connection, or no TLS answer in time: nothing learnt
    not_tls,              // the server answered, but not with TLS (an http:// port?)
    client_cert_refused,  // the server refused or required a client certificate
    handshake_refused,    // the server ended the handshake for another reason
    untrusted,            // the server's chain does not lead to the trusted CA
    expired,              // a certificate of the chain is outside its validity period
    wrong_host,           // the certificate is not for the host of the server URL
    handshake_ok,         // this handshake succeeded: the failure was passing
  };
  finding found = finding::no_answer;
  // kubectl's words with OpenSSL's in parentheses, e.g. "x509: certificate signed by unknown
  // authority (OpenSSL: unable to get local issuer certificate)"; for no_answer, why not.
  std::string detail;
};

// One TCP connection and TLS handshake with `s.server`, given up after `timeout` (the name
// lookup is not bounded by it) or soon after `stop` becomes true. Blocking: never call it on a
// thread that must stay responsive. Only for https:// URLs.
tls_diagnosis diagnose_tls(const connection_settings& s,
                           std::chrono::milliseconds timeout = std::chrono::seconds(3),
                           const std::atomic<bool>* stop = nullptr);

// The error message for a handshake that failed with `transport_message` (cpprest's text), e.g.
// "TLS handshake with https://10.0.0.1:6443 failed: x509: certificate signed by unknown authority
// (OpenSSL: ...); check the CA of kubeconfig /x, context \"a\"".
std::string tls_failure_message(const connection_settings& s, const tls_diagnosis& d,
                                std::string_view transport_message);

// Go's crypto/x509 texts, from what the certificate says (pure, for tests).
// HostnameError: "x509: certificate is valid for a, b, not c" and its variants.
std::string x509_hostname_error(std::string_view host, const std::vector<std::string>& dns_names,
                                const std::vector<std::string>& ip_addresses);
// CertificateInvalidError{Expired}: "x509: certificate has expired or is not yet valid: current
// time 2024-05-01T10:00:00Z is after 2024-04-30T00:00:00Z".
std::string x509_validity_error(std::time_t now, std::time_t not_before, std::time_t not_after);
// An OpenSSL verification error (X509_V_ERR_*) other than the validity period, e.g.
// "x509: certificate signed by unknown authority (OpenSSL: self-signed certificate)".
std::string x509_verify_error(long verify_code);

}  // namespace k8s
