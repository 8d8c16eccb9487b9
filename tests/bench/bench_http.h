// What the benchmarks share to drive kubesim over raw HTTP/1.1 with Boost.Beast, so that the load
// generator stays cheaper than the server: where a cluster listens, a plain or TLS stream to it,
// keep-alive request connections, and streaming GETs (watches) whose bytes are read as they come.
// Header-only: each benchmark is a single file.
#pragma once

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <utility>

#include <fmt/format.h>

#include "tests/support/kubesim_fixture.h"

namespace bench {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using clock_type = std::chrono::steady_clock;
using time_point = clock_type::time_point;

inline double ms(time_point a, time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

inline double seconds_since(clock_type::time_point t) {
  return std::chrono::duration<double>(clock_type::now() - t).count();
}

// Where one simulated cluster listens, and its credentials.
struct target {
  std::string host = "127.0.0.1";
  std::string port;
  std::string token;  // bearer token; empty: no Authorization header
  std::string ca;     // PEM of its CA, with tls
  bool tls = false;
};

inline target target_of(const testsupport::kubesim_instance& sim, const std::string& cluster) {
  target t;
  std::string url = sim.url(cluster);
  t.tls = url.rfind("https", 0) == 0;
  t.port = url.substr(url.rfind(':') + 1);
  t.token = sim.token(cluster);
  t.ca = t.tls ? sim.ca_pem(cluster) : "";
  return t;
}

// A connected stream to a target: TLS (handshake done with `ctx`) or plain TCP, Nagle off so a
// request leaves at once.
class client_stream {
 public:
  client_stream(net::io_context& io, ssl::context& ctx, const target& t) : t_(t) {
    tcp::resolver resolver(io);
    auto eps = resolver.resolve(t.host, t.port);
    if (t.tls) {
      tls_.emplace(io, ctx);
      net::connect(beast::get_lowest_layer(*tls_), eps);
      beast::get_lowest_layer(*tls_).set_option(tcp::no_delay(true));
      tls_->handshake(ssl::stream_base::client);
    } else {
      plain_.emplace(io);
      net::connect(*plain_, eps);
      plain_->set_option(tcp::no_delay(true));
    }
  }

  // Writes `req` and reads its response into `res`.
  template <class Request, class Response>
  void exchange(const Request& req, beast::flat_buffer& buf, Response& res) {
    with([&](auto& s) {
      http::write(s, req);
      http::read(s, buf, res);
    });
  }

  // Sends GET `path` as raw bytes; the response is then read with async_read_some.
  void send_get(const std::string& path) {
    std::string req = fmt::format("GET {} HTTP/1.1\r\nHost: {}\r\n", path, t_.host);
    if (!t_.token.empty()) req += fmt::format("Authorization: Bearer {}\r\n", t_.token);
    req += "Accept: application/json\r\n\r\n";
    with([&](auto& s) { net::write(s, net::buffer(req)); });
  }

  template <class Handler>
  void async_read_some(net::mutable_buffer buf, Handler&& handler) {
    with([&](auto& s) { s.async_read_some(buf, std::forward<Handler>(handler)); });
  }

 private:
  template <class F>
  void with(F&& f) {
    if (tls_)
      f(*tls_);
    else
      f(*plain_);
  }

  target t_;
  std::optional<tcp::socket> plain_;
  std::optional<beast::ssl_stream<tcp::socket>> tls_;
};

struct reply {
  int status = 0;
  std::string body;
};

// One keep-alive connection for requests, with its own I/O context: one per client thread.
class connection {
 public:
  explicit connection(const target& t) : t_(t), ctx_(verifying_context(t)), stream_(io_, ctx_, t) {}

  reply send(http::verb method, const std::string& path, const std::string& body = "",
             const std::string& content_type = "application/json") {
    http::request<http::string_body> req{method, path, 11};
    req.set(http::field::host, t_.host);
    if (!t_.token.empty()) req.set(http::field::authorization, "Bearer " + t_.token);
    req.set(http::field::accept, "application/json");
    if (!body.empty()) req.set(http::field::content_type, content_type);
    req.keep_alive(true);
    req.body() = body;
    req.prepare_payload();
    http::response<http::string_body> res;
    res.body().reserve(4096);
    stream_.exchange(req, buf_, res);
    return {static_cast<int>(res.result_int()), std::move(res.body())};
  }

 private:
  static ssl::context verifying_context(const target& t) {
    ssl::context ctx(ssl::context::tls_client);
    if (t.tls) {
      ctx.add_certificate_authority(net::buffer(t.ca));
      ctx.set_verify_mode(ssl::verify_peer);
    }
    return ctx;
  }

  target t_;
  net::io_context io_;
  ssl::context ctx_;
  client_stream stream_;
  beast::flat_buffer buf_;
};

}  // namespace bench
