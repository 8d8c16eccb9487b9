#include "k8s/api/tls_diagnosis.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <memory>
#include <optional>
#include <utility>

#include "k8s/api/openssl_handles.h"

namespace k8s {
namespace {

using steady = std::chrono::steady_clock;

using namespace k8s::openssl;

class socket_fd {
 public:
  explicit socket_fd(int fd = -1) : fd_(fd) {}
  ~socket_fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  socket_fd(socket_fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  socket_fd& operator=(socket_fd&& o) noexcept {
    std::swap(fd_, o.fd_);
    return *this;
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

// How long each wait lasts at most, so that `stop` is noticed quickly.
constexpr std::chrono::milliseconds wait_slice{100};

struct endpoint {
  std::string host;  // without the brackets of an IPv6 literal
  std::string port;
};

// host and port of "https://host[:port][/...]"; nullopt when the URL is not https://.
std::optional<endpoint> endpoint_of(std::string_view url) {
  constexpr std::string_view scheme = "https://";
  if (url.substr(0, scheme.size()) != scheme) return std::nullopt;
  url.remove_prefix(scheme.size());
  url = url.substr(0, url.find_first_of("/?#"));
  if (auto at = url.rfind('@'); at != std::string_view::npos) url.remove_prefix(at + 1);
  endpoint e{"", "443"};
  if (!url.empty() && url.front() == '[') {
    auto close = url.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    e.host = std::string(url.substr(1, close - 1));
    url.remove_prefix(close + 1);
    if (!url.empty() && url.front() == ':') e.port = std::string(url.substr(1));
  } else {
    auto colon = url.rfind(':');
    e.host = std::string(url.substr(0, colon));
    if (colon != std::string_view::npos) e.port = std::string(url.substr(colon + 1));
  }
  if (e.host.empty() || e.port.empty()) return std::nullopt;
  return e;
}

bool is_ip_literal(const std::string& host) {
  unsigned char buf[sizeof(in6_addr)];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

// Waits for `events` on `fd` until `deadline`, in slices that notice `stop`. False: timed out
// or stopped.
bool wait_for(int fd, short events, steady::time_point deadline, const std::atomic<bool>* stop) {
  for (;;) {
    if (stop && *stop) return false;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - steady::now());
    if (left <= std::chrono::milliseconds::zero()) return false;
    pollfd p{fd, events, 0};
    int n = ::poll(&p, 1, static_cast<int>(std::min(left, wait_slice).count()));
    if (n > 0) return true;
    if (n < 0 && errno != EINTR) return true;  // let the next call report the error
  }
}

// A connected non-blocking TCP socket to `e`, or why there is none (in `why`).
socket_fd connect_to(const endpoint& e, steady::time_point deadline, const std::atomic<bool>* stop,
                     std::string& why) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (int rc = getaddrinfo(e.host.c_str(), e.port.c_str(), &hints, &found); rc != 0) {
    why = "cannot resolve " + e.host + ": " + gai_strerror(rc);
    return socket_fd();
  }
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> addresses(found, &freeaddrinfo);
  why = "no address of " + e.host;
  for (const addrinfo* a = found; a; a = a->ai_next) {
    socket_fd fd(
        ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol));
    if (fd.get() < 0) continue;
    if (::connect(fd.get(), a->ai_addr, a->ai_addrlen) != 0 && errno != EINPROGRESS) {
      why = std::string("connect: ") + std::strerror(errno);
      continue;
    }
    if (!wait_for(fd.get(), POLLOUT, deadline, stop)) {
      why = "no TCP connection in time";
      return socket_fd();
    }
    int error = 0;
    socklen_t len = sizeof error;
    if (getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &error, &len) != 0) error = errno;
    if (error == 0) return fd;
    why = std::string("connect: ") + std::strerror(error);
  }
  return socket_fd();
}

// The text of OpenSSL's last queued error (reason only, e.g. "wrong version number").
std::string openssl_reason() {
  unsigned long code = ERR_peek_last_error();
  const char* reason = code ? ERR_reason_error_string(code) : nullptr;
  return reason ? reason : "";
}

// Adds every certificate in `pem` to `store`; the count added.
int add_certificates(X509_STORE* store, const std::string& pem) {
  if (pem.size() > INT_MAX) return 0;
  bio_ptr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  int added = 0;
  while (bio) {
    x509_ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    if (!cert) break;
    if (X509_STORE_add_cert(store, cert.get()) == 1) ++added;
  }
  ERR_clear_error();  // the end of the PEM text is queued as an error
  return added;
}

// The client certificate (and its chain) and key, as configure_tls in client.cpp applies them.
void use_client_certificate(SSL_CTX* ctx, const connection_settings& s) {
  if (s.client_cert_pem.empty() || s.client_key_pem.empty()) return;
  if (s.client_cert_pem.size() > INT_MAX || s.client_key_pem.size() > INT_MAX) return;
  bio_ptr certs(
      BIO_new_mem_buf(s.client_cert_pem.data(), static_cast<int>(s.client_cert_pem.size())));
  if (certs) {
    x509_ptr leaf(PEM_read_bio_X509(certs.get(), nullptr, nullptr, nullptr));
    if (leaf && SSL_CTX_use_certificate(ctx, leaf.get()) == 1) {
      while (X509* extra = PEM_read_bio_X509(certs.get(), nullptr, nullptr, nullptr))
        if (SSL_CTX_add_extra_chain_cert(ctx, extra) != 1) X509_free(extra);
    }
  }
  bio_ptr key_bio(
      BIO_new_mem_buf(s.client_key_pem.data(), static_cast<int>(s.client_key_pem.size())));
  if (key_bio) {
    pkey_ptr key(PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr));
    if (key) SSL_CTX_use_PrivateKey(ctx, key.get());
  }
  ERR_clear_error();
}

// The first certificate that failed verification, told by the verify callback.
struct first_failure {
  int code = X509_V_OK;
  std::time_t not_before = 0;
  std::time_t not_after = 0;
};

std::time_t time_of(const ASN1_TIME* t) {
  std::tm tm{};
  if (!t || ASN1_TIME_to_tm(t, &tm) != 1) return 0;
  return timegm(&tm);
}

// Verification runs to the first failure, which it records; the handshake goes on regardless
// (SSL_VERIFY_NONE) so that the server's certificate can be looked at afterwards.
int record_first_failure(int ok, X509_STORE_CTX* store) {
  if (ok) return 1;
  auto* ssl =
      static_cast<SSL*>(X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
  auto* failure = ssl ? static_cast<first_failure*>(SSL_get_app_data(ssl)) : nullptr;
  if (failure && failure->code == X509_V_OK) {
    failure->code = X509_STORE_CTX_get_error(store);
    if (X509* cert = X509_STORE_CTX_get_current_cert(store)) {
      failure->not_before = time_of(X509_get0_notBefore(cert));
      failure->not_after = time_of(X509_get0_notAfter(cert));
    }
  }
  return 0;
}

// A context that trusts what the client trusts: exactly the given CA, or the system's CAs.
ssl_ctx_ptr make_context(const connection_settings& s) {
  ssl_ctx_ptr ctx(SSL_CTX_new(TLS_client_method()));
  if (!ctx) return ctx;
  if (!s.insecure_skip_tls_verify) {
    if (!s.ca_pem.empty()) {
      X509_STORE* store = X509_STORE_new();
      add_certificates(store, s.ca_pem);
      SSL_CTX_set_cert_store(ctx.get(), store);  // takes ownership
    } else {
      SSL_CTX_set_default_verify_paths(ctx.get());
    }
  }
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_NONE, &record_first_failure);
  use_client_certificate(ctx.get(), s);
  return ctx;
}

// The server certificate's subjectAltName entries.
void alt_names(X509* cert, std::vector<std::string>& dns, std::vector<std::string>& ips) {
  names_ptr names(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)));
  if (!names) return;
  for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* n = sk_GENERAL_NAME_value(names.get(), i);
    if (n->type == GEN_DNS) {
      const ASN1_IA5STRING* v = n->d.dNSName;
      dns.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(v)),
                       ASN1_STRING_length(v));
    } else if (n->type == GEN_IPADD) {
      const ASN1_OCTET_STRING* v = n->d.iPAddress;
      char text[INET6_ADDRSTRLEN] = {};
      int family = ASN1_STRING_length(v) == 4 ? AF_INET : AF_INET6;
      if (ASN1_STRING_length(v) == 4 || ASN1_STRING_length(v) == 16)
        if (inet_ntop(family, ASN1_STRING_get0_data(v), text, sizeof text)) ips.emplace_back(text);
    }
  }
}

// Does the certificate name `host`? The same rules as the client's (RFC 2818) check.
bool names_host(X509* cert, const std::string& host) {
  if (is_ip_literal(host)) return X509_check_ip_asc(cert, host.c_str(), 0) == 1;
  return X509_check_host(cert, host.c_str(), host.size(), 0, nullptr) == 1;
}

// The server's certificate judged in Go's order: the leaf's validity period, then the host, then
// the chain (crypto/x509 Certificate.Verify).
tls_diagnosis judge_certificate(SSL* ssl, const std::string& host, const first_failure& failure) {
  x509_ptr leaf(SSL_get1_peer_certificate(ssl));
  if (!leaf) return {tls_diagnosis::finding::untrusted, "the server sent no certificate"};
  const std::time_t now = std::time(nullptr);
  const std::time_t not_before = time_of(X509_get0_notBefore(leaf.get()));
  const std::time_t not_after = time_of(X509_get0_notAfter(leaf.get()));
  if (now < not_before || now > not_after)
    return {tls_diagnosis::finding::expired, x509_validity_error(now, not_before, not_after)};
  if (!names_host(leaf.get(), host)) {
    std::vector<std::string> dns, ips;
    alt_names(leaf.get(), dns, ips);
    return {tls_diagnosis::finding::wrong_host, x509_hostname_error(host, dns, ips)};
  }
  const long verified = SSL_get_verify_result(ssl);
  if (verified == X509_V_ERR_CERT_HAS_EXPIRED || verified == X509_V_ERR_CERT_NOT_YET_VALID)
    return {tls_diagnosis::finding::expired,
            x509_validity_error(now, failure.not_before, failure.not_after) +
                " (OpenSSL: " + X509_verify_cert_error_string(verified) + ")"};
  if (verified != X509_V_OK)
    return {tls_diagnosis::finding::untrusted, x509_verify_error(verified)};
  return {tls_diagnosis::finding::handshake_ok, ""};
}

bool contains(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

// What a failed SSL_connect means, from OpenSSL's reason text.
tls_diagnosis judge_handshake_error(int ssl_error) {
  std::string reason = openssl_reason();
  if (ssl_error == SSL_ERROR_SYSCALL || (reason.empty() && ssl_error != SSL_ERROR_SSL) ||
      contains(reason, "unexpected eof"))
    return {tls_diagnosis::finding::handshake_refused,
            "the server closed the connection during the handshake" +
                (reason.empty() ? std::string() : " (OpenSSL: " + reason + ")")};
  if (contains(reason, "wrong version number") || contains(reason, "packet length too long") ||
      contains(reason, "record layer failure"))
    return {tls_diagnosis::finding::not_tls,
            "tls: first record does not look like a TLS handshake (OpenSSL: " + reason + ")"};
  if (auto alert = reason.find("alert "); alert != std::string::npos) {
    // "sslv3 alert bad certificate" is Go's "remote error: tls: bad certificate".
    std::string what = reason.substr(alert + 6);
    bool about_certificate =
        contains(what, "certificate") || what == "unknown ca" || what == "access denied";
    return {about_certificate ? tls_diagnosis::finding::client_cert_refused
                              : tls_diagnosis::finding::handshake_refused,
            "remote error: tls: " + what + " (OpenSSL: " + reason + ")"};
  }
  return {tls_diagnosis::finding::handshake_refused,
          "tls: handshake failed (OpenSSL: " + (reason.empty() ? "no reason given" : reason) + ")"};
}

// Runs SSL_connect on the non-blocking socket until it completes, fails, or time is up.
tls_diagnosis handshake(SSL* ssl, int fd, const std::string& host, steady::time_point deadline,
                        const std::atomic<bool>* stop, const first_failure& failure,
                        bool check_certificate) {
  for (;;) {
    ERR_clear_error();
    int rc = SSL_connect(ssl);
    if (rc == 1) {
      if (!check_certificate) return {tls_diagnosis::finding::handshake_ok, ""};
      return judge_certificate(ssl, host, failure);
    }
    int error = SSL_get_error(ssl, rc);
    if (error != SSL_ERROR_WANT_READ && error != SSL_ERROR_WANT_WRITE)
      return judge_handshake_error(error);
    if (!wait_for(fd, error == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline, stop))
      return {tls_diagnosis::finding::no_answer, "no TLS answer in time"};
  }
}

std::string rfc3339(std::time_t t) {
  std::tm tm{};
  gmtime_r(&t, &tm);
  char text[32] = {};
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : ", ") + i;
  return out;
}

}  // namespace

tls_diagnosis diagnose_tls(const connection_settings& s, std::chrono::milliseconds timeout,
                           const std::atomic<bool>* stop) {
  const auto deadline = steady::now() + timeout;
  auto where = endpoint_of(s.server);
  if (!where) return {tls_diagnosis::finding::no_answer, "the server URL is not an https:// URL"};
  std::string why;
  socket_fd fd = connect_to(*where, deadline, stop, why);
  if (fd.get() < 0) return {tls_diagnosis::finding::no_answer, why};

  ssl_ctx_ptr ctx = make_context(s);
  ssl_ptr ssl(ctx ? SSL_new(ctx.get()) : nullptr);
  if (!ssl || SSL_set_fd(ssl.get(), fd.get()) != 1)
    return {tls_diagnosis::finding::no_answer, "OpenSSL could not start: " + openssl_reason()};
  first_failure failure;
  SSL_set_app_data(ssl.get(), &failure);
  // SNI names only (RFC 6066): an IP literal is not sent.
  if (!is_ip_literal(where->host)) SSL_set_tlsext_host_name(ssl.get(), where->host.c_str());
  tls_diagnosis d = handshake(ssl.get(), fd.get(), where->host, deadline, stop, failure,
                              !s.insecure_skip_tls_verify);
  if (d.found == tls_diagnosis::finding::handshake_ok) SSL_shutdown(ssl.get());  // one try only
  ERR_clear_error();  // leave this thread's OpenSSL error queue as it was
  return d;
}

std::string tls_failure_message(const connection_settings& s, const tls_diagnosis& d,
                                std::string_view transport_message) {
  using finding = tls_diagnosis::finding;
  const std::string source = s.origin.empty() ? "the connection settings" : s.origin;
  const std::string head = "TLS handshake with " + s.server + " failed: ";
  switch (d.found) {
    case finding::untrusted:
      return head + d.detail + "; check the CA of " + source +
             (s.ca_pem.empty() ? " (it names none: the system's CAs were used)" : "");
    case finding::expired:
      return head + d.detail +
             "; the server's certificate (or its CA) needs renewing, or this machine's clock is "
             "wrong (settings from " +
             source + ")";
    case finding::wrong_host:
      return head + d.detail + "; check the server URL of " + source +
             " against the names in the server's certificate";
    case finding::not_tls:
      return head + d.detail + "; check the scheme and port of the server URL of " + source;
    case finding::client_cert_refused:
      return head + d.detail +
             (s.client_cert_pem.empty() ? "; " + source + " gives no client certificate"
                                        : "; check the client certificate of " + source);
    case finding::handshake_refused:
      return head + d.detail + " (settings from " + source + ")";
    case finding::handshake_ok:
      return head + std::string(transport_message) +
             " (a new handshake then succeeded: the failure did not last; settings from " + source +
             ")";
    case finding::no_answer:
      break;
  }
  return head + std::string(transport_message) + " (no diagnosis: " + d.detail +
         "; settings from " + source + ")";
}

std::string x509_hostname_error(std::string_view host, const std::vector<std::string>& dns_names,
                                const std::vector<std::string>& ip_addresses) {
  std::string h(host);
  std::string valid;
  if (is_ip_literal(h)) {
    if (ip_addresses.empty())
      return "x509: cannot validate certificate for " + h +
             " because it doesn't contain any IP SANs";
    valid = joined(ip_addresses);
  } else {
    valid = joined(dns_names);
  }
  if (valid.empty())
    return "x509: certificate is not valid for any names, but wanted to match " + h;
  return "x509: certificate is valid for " + valid + ", not " + h;
}

std::string x509_validity_error(std::time_t now, std::time_t not_before, std::time_t not_after) {
  const std::string prefix =
      "x509: certificate has expired or is not yet valid: current time " + rfc3339(now);
  if (now < not_before) return prefix + " is before " + rfc3339(not_before);
  return prefix + " is after " + rfc3339(not_after);
}

std::string x509_verify_error(long verify_code) {
  const std::string openssl =
      std::string(" (OpenSSL: ") + X509_verify_cert_error_string(verify_code) + ")";
  switch (verify_code) {
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_CERT_UNTRUSTED:
    case X509_V_ERR_CERT_SIGNATURE_FAILURE:
      return "x509: certificate signed by unknown authority" + openssl;
    case X509_V_ERR_INVALID_CA:
      return "x509: a certificate of the chain is not a CA" + openssl;
    case X509_V_ERR_INVALID_PURPOSE:
      return "x509: certificate specifies an incompatible key usage" + openssl;
    default:
      return "x509: certificate verification failed" + openssl;
  }
}

}  // namespace k8s
