// A raw HTTP/1.1 client for the few kubesim tests that must see the wire: whether a chunked
// watch body ended with its terminating chunk (a clean end) or the connection just broke.
// OpenSSL directly, non-blocking reads with poll(), every wait bounded. Header-only on purpose.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <chrono>
#include <cstring>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>

namespace testsupport {

class raw_watch {
 public:
  enum class end_kind { open, clean, broken };

  // GET `path` on `base_url` (http://127.0.0.1:PORT or https://...), trusting `ca_pem`.
  raw_watch(const std::string& base_url, const std::string& path, const std::string& token,
            const std::string& ca_pem,
            std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    bool tls = base_url.rfind("https://", 0) == 0;
    std::string hostport = base_url.substr(tls ? 8 : 7);
    auto colon = hostport.rfind(':');
    std::string host = hostport.substr(0, colon);
    int port = std::stoi(hostport.substr(colon + 1));
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(static_cast<uint16_t>(port));
    ::inet_pton(AF_INET, host.c_str(), &sa.sin_addr);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0)
      throw std::runtime_error("connect failed: " + std::string(std::strerror(errno)));
    if (tls) {
      ctx_ = SSL_CTX_new(TLS_client_method());
      BIO* bio = BIO_new_mem_buf(ca_pem.data(), static_cast<int>(ca_pem.size()));
      X509* ca = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
      BIO_free(bio);
      if (!ca) throw std::runtime_error("bad CA PEM");
      X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx_), ca);
      X509_free(ca);
      SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
      ssl_ = SSL_new(ctx_);
      SSL_set_fd(ssl_, fd_);
      X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_), host.c_str());
      if (SSL_connect(ssl_) != 1) throw std::runtime_error("TLS handshake failed");
    }
    std::string req = "GET " + path + " HTTP/1.1\r\nHost: " + hostport +
                      "\r\nAccept: application/json\r\nUser-Agent: kubesim-tests-raw\r\n";
    if (!token.empty()) req += "Authorization: Bearer " + token + "\r\n";
    req += "\r\n";
    send_all(req);
    ::fcntl(fd_, F_SETFL, ::fcntl(fd_, F_GETFL) | O_NONBLOCK);
    auto deadline = clock::now() + timeout;
    size_t eoh;
    while ((eoh = raw_.find("\r\n\r\n")) == std::string::npos) {
      if (!read_more(deadline)) throw std::runtime_error("no response headers; got: " + raw_);
    }
    parse_headers(raw_.substr(0, eoh));
    raw_.erase(0, eoh + 4);
  }
  ~raw_watch() {
    if (ssl_) SSL_free(ssl_);
    if (ctx_) SSL_CTX_free(ctx_);
    if (fd_ >= 0) ::close(fd_);
  }
  raw_watch(const raw_watch&) = delete;
  raw_watch& operator=(const raw_watch&) = delete;

  int status() const { return status_; }
  std::string header(const std::string& lower_name) const {
    auto it = headers_.find(lower_name);
    return it == headers_.end() ? "" : it->second;
  }

  // The next body line (without '\n'), or nullopt on timeout or at the end of the body.
  std::optional<std::string> next_line(std::chrono::milliseconds timeout) {
    auto deadline = clock::now() + timeout;
    for (;;) {
      decode();
      auto nl = body_.find('\n');
      if (nl != std::string::npos) {
        std::string line = body_.substr(0, nl);
        body_.erase(0, nl + 1);
        return line;
      }
      if (end_ != end_kind::open) return std::nullopt;
      if (!read_more(deadline)) {
        decode();
        if (body_.find('\n') == std::string::npos && end_ == end_kind::open &&
            clock::now() >= deadline)
          return std::nullopt;
      }
    }
  }

  // Reads (and discards) until the body ends or `timeout` passes; returns how it ended.
  end_kind wait_end(std::chrono::milliseconds timeout) {
    auto deadline = clock::now() + timeout;
    while (end_ == end_kind::open) {
      decode();
      if (end_ != end_kind::open) break;
      if (!read_more(deadline) && clock::now() >= deadline) break;
    }
    return end_;
  }
  end_kind end() const { return end_; }

 private:
  using clock = std::chrono::steady_clock;

  void send_all(const std::string& s) {
    size_t off = 0;
    while (off < s.size()) {
      int n = ssl_ ? SSL_write(ssl_, s.data() + off, static_cast<int>(s.size() - off))
                   : static_cast<int>(::send(fd_, s.data() + off, s.size() - off, MSG_NOSIGNAL));
      if (n <= 0) throw std::runtime_error("send failed");
      off += static_cast<size_t>(n);
    }
  }

  // Appends what arrives before `deadline` to raw_; false on timeout, EOF or error (EOF and
  // errors end the body: broken unless the terminating chunk came first).
  bool read_more(clock::time_point deadline) {
    if (eof_) return false;
    char buf[16384];
    for (;;) {
      int n;
      if (ssl_) {
        n = SSL_read(ssl_, buf, sizeof buf);
        if (n <= 0) {
          int err = SSL_get_error(ssl_, n);
          if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) return on_eof();
          n = -1;
        }
      } else {
        n = static_cast<int>(::recv(fd_, buf, sizeof buf, 0));
        if (n == 0) return on_eof();
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return on_eof();
      }
      if (n > 0) {
        raw_.append(buf, static_cast<size_t>(n));
        return true;
      }
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now()).count();
      if (left <= 0) return false;
      pollfd p{fd_, POLLIN, 0};
      ::poll(&p, 1, static_cast<int>(left));
    }
  }
  bool on_eof() {
    eof_ = true;
    decode();
    if (end_ == end_kind::open) end_ = end_kind::broken;
    return false;
  }

  void parse_headers(const std::string& head) {
    auto first = head.find("\r\n");
    std::string status_line = head.substr(0, first);
    status_ = std::stoi(status_line.substr(9, 3));
    size_t pos = first == std::string::npos ? head.size() : first + 2;
    while (pos < head.size()) {
      auto e = head.find("\r\n", pos);
      if (e == std::string::npos) e = head.size();
      std::string line = head.substr(pos, e - pos);
      auto c = line.find(':');
      if (c != std::string::npos) {
        std::string k = line.substr(0, c);
        for (auto& ch : k) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        std::string v = line.substr(c + 1);
        while (!v.empty() && v.front() == ' ') v.erase(0, 1);
        headers_[k] = v;
      }
      pos = e + 2;
    }
    chunked_ = header("transfer-encoding") == "chunked";
  }

  // Moves complete chunks from raw_ to body_; the zero-size chunk marks a clean end.
  void decode() {
    if (!chunked_) {
      body_ += raw_;
      raw_.clear();
      return;
    }
    while (end_ == end_kind::open) {
      auto crlf = raw_.find("\r\n");
      if (crlf == std::string::npos) return;
      size_t size = std::stoul(raw_.substr(0, crlf), nullptr, 16);
      if (size == 0) {
        if (raw_.size() < crlf + 4) return;  // "0\r\n\r\n"
        raw_.erase(0, crlf + 4);
        end_ = end_kind::clean;
        return;
      }
      if (raw_.size() < crlf + 2 + size + 2) return;
      body_.append(raw_, crlf + 2, size);
      raw_.erase(0, crlf + 2 + size + 2);
    }
  }

  int fd_ = -1;
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  int status_ = 0;
  std::map<std::string, std::string> headers_;
  bool chunked_ = false;
  bool eof_ = false;
  std::string raw_;
  std::string body_;
  end_kind end_ = end_kind::open;
};

}  // namespace testsupport
