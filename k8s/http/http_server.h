// A small HTTP/1.1 server (Boost.Beast underneath) shared by kubesim and the operators' admin
// endpoints: keep-alive, TLS with optional client certificates, a request body cap (413),
// and chunked streaming responses for watches. Beast stays out of this header on purpose:
// it is slow to compile and only http_server.cpp needs it.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace boost::asio {
class io_context;
}

namespace k8s::http {

using header_list = std::vector<std::pair<std::string, std::string>>;

struct request {
  std::string method;  // upper case, e.g. "GET"
  std::string target;  // as sent: path and query
  std::string path;    // percent-decoded path without the query
  header_list query;   // decoded query parameters, in order
  header_list headers;
  std::string body;
  std::string client_cert_subject;      // CN of a verified client certificate, empty if none
  bool client_cert_unverified = false;  // a client certificate was sent but did not verify
  std::vector<std::string> client_cert_organizations;

  std::string_view header(std::string_view name) const;  // case-insensitive, "" if absent
  const std::string* query_param(std::string_view name) const;
};

struct response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  header_list headers;
};

// A chunked response body; every member is thread-safe.
class stream {
 public:
  virtual ~stream() = default;
  // Queues data for the client; returns false once the stream is closed (client gone,
  // server stopping, or the client too slow to keep up).
  virtual bool write(std::shared_ptr<const std::string> data) = 0;
  bool write(std::string data) {
    return write(std::make_shared<const std::string>(std::move(data)));
  }
  // Ends the body cleanly (terminating chunk) after what is queued.
  virtual void close() = 0;
  virtual bool closed() const = 0;
  // Called once when the stream ends for any reason. Set it before writing.
  virtual void on_close(std::function<void()> callback) = 0;
};

// One request in flight. Answer it exactly once, with reply() or start_stream(), from any thread.
class exchange {
 public:
  virtual ~exchange() = default;
  virtual const request& req() const = 0;
  virtual void reply(response r) = 0;
  virtual std::shared_ptr<stream> start_stream(int status, std::string content_type,
                                               header_list headers = {}) = 0;
  // Drops the connection without an answer (used to simulate a dead peer).
  virtual void abort() = 0;
  // Accepts the request's WebSocket upgrade (101) naming `subprotocol`, sends each of
  // `messages` as one binary message, then closes with 1000 (normal) and waits for the client's
  // close. Enough for a command without stdin (kubesim's pods/exec); the connection is not
  // reused afterwards.
  virtual void websocket_reply(std::string subprotocol, std::vector<std::string> messages) = 0;
};

using handler = std::function<void(std::shared_ptr<exchange>)>;

struct tls_config {
  std::string cert_pem;
  std::string key_pem;
  std::string client_ca_pem;  // if set, client certificates signed by it are accepted
};

struct listener_options {
  std::string address = "127.0.0.1";
  uint16_t port = 0;  // 0: pick a free port, read it back with listener::port()
  std::optional<tls_config> tls;
  size_t max_body_bytes = 3 * 1024 * 1024;             // kube-apiserver's request size limit
  size_t max_stream_backlog_bytes = 64 * 1024 * 1024;  // a slower client is disconnected
};

class listener {
 public:
  listener(boost::asio::io_context& io, listener_options options, handler h);
  ~listener();
  listener(const listener&) = delete;
  listener& operator=(const listener&) = delete;

  // Binds and starts accepting; throws std::runtime_error if the address is taken.
  void open();
  // Stops accepting and drops every open connection (clients see a reset or EOF).
  void close();
  bool is_open() const;
  uint16_t port() const;
  std::string url() const;  // e.g. https://127.0.0.1:40123
  // Ends every open chunked stream cleanly, as an API server restart of watches would.
  void end_all_streams();

  struct impl;  // defined in http_server.cpp

 private:
  std::shared_ptr<impl> impl_;
};

// Percent-decoding used for paths and query strings ('+' stays '+', as Go's PathUnescape).
std::string percent_decode(std::string_view s, bool plus_as_space = false);
header_list parse_query(std::string_view query);

}  // namespace k8s::http
