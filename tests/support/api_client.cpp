#include "tests/support/api_client.h"

#include <cpprest/http_client.h>
#include <cpprest/containerstream.h>
#include <boost/asio/ssl.hpp>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

namespace testsupport {
namespace {

namespace http = web::http;
namespace client = web::http::client;

client::http_client make_client(const client_options& o, std::chrono::seconds timeout) {
  client::http_client_config cfg;
  cfg.set_timeout(timeout);
  if (o.base_url.rfind("https", 0) == 0) {
    cfg.set_validate_certificates(!o.ca_pem.empty());
    auto ca = o.ca_pem, cert = o.client_cert_pem, key = o.client_key_pem;
    cfg.set_ssl_context_callback([ca, cert, key](boost::asio::ssl::context& ctx) {
      if (!ca.empty()) ctx.add_certificate_authority(boost::asio::buffer(ca));
      if (!cert.empty()) {
        ctx.use_certificate_chain(boost::asio::buffer(cert));
        ctx.use_private_key(boost::asio::buffer(key), boost::asio::ssl::context::pem);
      }
    });
  }
  return client::http_client(o.base_url, cfg);
}

http::http_request make_request(const client_options& o, const std::string& method,
                                const std::string& path,
                                const std::map<std::string, std::string>& headers) {
  http::http_request req(method);
  req.set_request_uri(path);
  if (!o.token.empty()) req.headers().add(http::header_names::authorization, "Bearer " + o.token);
  for (const auto& [k, v] : headers) req.headers().add(k, v);
  return req;
}

class cpprest_line_stream : public line_stream {
 public:
  cpprest_line_stream(client::http_client c, http::http_request req)
      : client_(std::move(c)) {
    auto resp = client_.request(req, cts_.get_token()).get();
    status_ = resp.status_code();
    body_ = resp.body();
    reader_ = std::thread([this] { read_loop(); });
  }
  ~cpprest_line_stream() override {
    cancel();
    if (reader_.joinable()) reader_.join();
  }
  int status() const override { return status_; }
  std::optional<std::string> next(std::chrono::milliseconds timeout) override {
    std::unique_lock lock(mutex_);
    cv_.wait_for(lock, timeout, [&] { return !lines_.empty() || ended_; });
    if (lines_.empty()) return std::nullopt;
    auto l = std::move(lines_.front());
    lines_.pop_front();
    return l;
  }
  bool ended() const override {
    std::lock_guard lock(mutex_);
    return ended_ && lines_.empty();
  }
  void cancel() override { cts_.cancel(); }

 private:
  void read_loop() {
    try {
      for (;;) {
        concurrency::streams::container_buffer<std::string> line;
        size_t n = body_.read_line(line).get();
        if (n == 0 && body_.is_eof()) break;
        std::lock_guard lock(mutex_);
        lines_.push_back(std::move(line.collection()));
        cv_.notify_all();
      }
    } catch (...) {
      // cancelled or the connection broke: both end the stream
    }
    std::lock_guard lock(mutex_);
    ended_ = true;
    cv_.notify_all();
  }

  client::http_client client_;
  pplx::cancellation_token_source cts_;
  concurrency::streams::istream body_;
  int status_ = 0;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<std::string> lines_;
  bool ended_ = false;
  std::thread reader_;
};

}  // namespace

struct api_client::impl {
  client_options options;
  client::http_client http;
  explicit impl(client_options o) : options(std::move(o)), http(make_client(options, options.timeout)) {}
};

api_client::api_client(client_options o) : impl_(std::make_unique<impl>(std::move(o))) {}
api_client::~api_client() = default;

http_reply api_client::request(const std::string& method, const std::string& path,
                               const std::string& body, const std::string& content_type,
                               const std::map<std::string, std::string>& headers) {
  auto req = make_request(impl_->options, method, path, headers);
  if (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH")
    req.set_body(body, content_type);
  try {
    auto resp = impl_->http.request(req).get();
    http_reply r;
    r.status = resp.status_code();
    r.body = resp.extract_utf8string(true).get();
    for (const auto& [k, v] : resp.headers()) {
      std::string key = k;
      for (auto& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      r.headers[key] = v;
    }
    return r;
  } catch (const std::exception& e) {
    throw std::runtime_error(std::string("request failed: ") + e.what());
  }
}

std::unique_ptr<line_stream> api_client::stream(const std::string& path,
                                                const std::map<std::string, std::string>& headers) {
  try {
    // Watches get their own client with a long idle timeout: cpprest's timeout is per read.
    return std::make_unique<cpprest_line_stream>(make_client(impl_->options, std::chrono::seconds(600)),
                                                 make_request(impl_->options, "GET", path, headers));
  } catch (const std::exception& e) {
    throw std::runtime_error(std::string("stream failed: ") + e.what());
  }
}

}  // namespace testsupport
