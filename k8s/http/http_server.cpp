#include "k8s/http/http_server.h"

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include <deque>
#include <mutex>
#include <set>
#include <stdexcept>

#include <fmt/format.h>

namespace k8s::http {
namespace {

namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace websocket = beast::websocket;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;

constexpr auto idle_timeout = std::chrono::minutes(5);
constexpr size_t max_chunk_bytes = 64 * 1024;  // a stream chunk, unless one piece is larger

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  }
  return true;
}

std::string status_body(int code, std::string_view reason, std::string_view message) {
  return fmt::format(
      R"({{"kind":"Status","apiVersion":"v1","metadata":{{}},"status":"Failure","message":"{}","reason":"{}","code":{}}})",
      message, reason, code);
}

}  // namespace

std::string_view request::header(std::string_view name) const {
  for (const auto& [k, v] : headers)
    if (iequals(k, name)) return v;
  return {};
}

const std::string* request::query_param(std::string_view name) const {
  for (const auto& [k, v] : query)
    if (k == name) return &v;
  return nullptr;
}

std::string percent_decode(std::string_view s, bool plus_as_space) {
  std::string out;
  out.reserve(s.size());
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2])));
      i += 2;
    } else if (plus_as_space && s[i] == '+') {
      out.push_back(' ');
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

header_list parse_query(std::string_view query) {
  header_list out;
  while (!query.empty()) {
    auto amp = query.find('&');
    auto part = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (part.empty()) continue;
    auto eq = part.find('=');
    if (eq == std::string_view::npos) {
      out.emplace_back(percent_decode(part, true), "");
    } else {
      out.emplace_back(percent_decode(part.substr(0, eq), true),
                       percent_decode(part.substr(eq + 1), true));
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Sessions. One per connection, all work on the connection's strand. A session reads one
// request, hands an exchange to the handler, and reads the next one only after the answer is
// written (no pipelining, like Go's server).

class session_base;

struct listener::impl : std::enable_shared_from_this<listener::impl> {
  net::io_context& io;
  listener_options options;
  handler on_request;
  std::optional<ssl::context> tls;
  mutable std::mutex mutex;
  std::optional<tcp::acceptor> acceptor;
  uint16_t bound_port = 0;
  std::set<std::weak_ptr<session_base>, std::owner_less<std::weak_ptr<session_base>>> sessions;

  impl(net::io_context& io, listener_options o, handler h)
      : io(io), options(std::move(o)), on_request(std::move(h)) {}
  void accept_next();
  void forget(const std::weak_ptr<session_base>& s) {
    std::lock_guard lock(mutex);
    sessions.erase(s);
  }
};

class session_base : public std::enable_shared_from_this<session_base> {
 public:
  virtual ~session_base() = default;
  virtual void start() = 0;
  virtual void shutdown() = 0;     // drop the connection now
  virtual void end_streams() = 0;  // finish an open chunked stream cleanly
};

template <class Stream>
class session;

template <class Stream>
class session_exchange;

template <class Stream>
class session_stream : public stream {
 public:
  explicit session_stream(std::shared_ptr<session<Stream>> s) : session_(std::move(s)) {}
  bool write(std::shared_ptr<const std::string> data) override;
  void close() override;
  bool closed() const override {
    std::lock_guard lock(mutex_);
    return closed_;
  }
  void on_close(std::function<void()> cb) override {
    std::lock_guard lock(mutex_);
    on_close_ = std::move(cb);
  }

  // Called by the session on its strand.
  void mark_closed() {
    std::function<void()> cb;
    {
      std::lock_guard lock(mutex_);
      if (closed_) return;
      closed_ = true;
      cb = std::move(on_close_);
    }
    if (cb) cb();
  }

 private:
  friend class session<Stream>;
  mutable std::mutex mutex_;
  bool closed_ = false;
  bool close_requested_ = false;
  size_t backlog_bytes_ = 0;
  std::deque<std::shared_ptr<const std::string>> pending_;
  std::function<void()> on_close_;
  std::shared_ptr<session<Stream>> session_;
};

template <class Stream>
class session : public session_base {
 public:
  session(std::shared_ptr<listener::impl> owner, Stream&& s)
      : owner_(std::move(owner)), stream_(std::move(s)) {}

  void start() override {
    auto self = shared();
    net::dispatch(stream_.get_executor(), [self] { self->begin(); });
  }

  void shutdown() override {
    auto self = shared();
    net::post(stream_.get_executor(), [self] { self->drop(); });
  }

  void end_streams() override {
    auto self = shared();
    net::post(stream_.get_executor(), [self] {
      if (self->stream_body_) self->stream_body_->close();
    });
  }

  // --- used by session_exchange / session_stream (any thread) ---
  void post_reply(response r) {
    auto self = shared();
    net::post(stream_.get_executor(),
              [self, r = std::move(r)]() mutable { self->write_reply(std::move(r)); });
  }
  void post_abort() {
    auto self = shared();
    net::post(stream_.get_executor(), [self] { self->drop(); });
  }
  void post_stream_start(std::shared_ptr<session_stream<Stream>> body, int status,
                         std::string content_type, header_list headers) {
    auto self = shared();
    net::post(stream_.get_executor(),
              [self, body, status, ct = std::move(content_type), h = std::move(headers)]() mutable {
                self->write_stream_header(std::move(body), status, std::move(ct), std::move(h));
              });
  }
  void post_flush() {
    auto self = shared();
    net::post(stream_.get_executor(), [self] { self->flush_stream(); });
  }
  size_t max_backlog() const { return owner_->options.max_stream_backlog_bytes; }
  void post_websocket(std::string subprotocol, std::vector<std::string> messages) {
    auto self = shared();
    net::post(stream_.get_executor(),
              [self, sp = std::move(subprotocol), m = std::move(messages)]() mutable {
                self->upgrade_websocket(std::move(sp), std::move(m));
              });
  }

 private:
  std::shared_ptr<session> shared() {
    return std::static_pointer_cast<session>(shared_from_this());
  }
  auto& lowest() { return beast::get_lowest_layer(stream_); }

  void begin();
  void read_request() {
    parser_.emplace();
    parser_->body_limit(owner_->options.max_body_bytes);
    lowest().expires_after(idle_timeout);
    auto self = shared();
    bhttp::async_read(stream_, buffer_, *parser_,
                      [self](beast::error_code ec, size_t) { self->on_read(ec); });
  }

  void on_read(beast::error_code ec) {
    if (dropped_) return;
    if (ec == bhttp::error::end_of_stream || ec == net::error::eof ||
        ec == net::error::operation_aborted || ec == beast::error::timeout ||
        ec == net::error::connection_reset) {
      return drop();
    }
    if (ec == bhttp::error::body_limit) {
      keep_alive_ = false;
      return write_reply({413,
                          "application/json",
                          status_body(413, "RequestEntityTooLarge",
                                      fmt::format("Request entity too large: limit is {}",
                                                  owner_->options.max_body_bytes)),
                          {}});
    }
    if (ec) {
      keep_alive_ = false;
      return write_reply({400, "text/plain; charset=utf-8", "400 Bad Request", {}});
    }
    auto msg = parser_->release();
    keep_alive_ = msg.keep_alive();
    auto req = std::make_shared<request>();
    req->method = std::string(msg.method_string());
    req->target = std::string(msg.target());
    auto q = req->target.find('?');
    req->path = percent_decode(std::string_view(req->target).substr(0, q));
    if (q != std::string::npos)
      req->query = parse_query(std::string_view(req->target).substr(q + 1));
    for (const auto& field : msg) {
      req->headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    }
    if (websocket::is_upgrade(msg))
      upgrade_header_.emplace(msg.base());
    else
      upgrade_header_.reset();
    req->body = std::move(msg.body());
    req->client_cert_subject = client_cn_;
    req->client_cert_organizations = client_orgs_;
    req->client_cert_unverified = client_cert_unverified_;
    lowest().expires_never();
    in_flight_ = true;
    auto ex = std::make_shared<session_exchange<Stream>>(shared(), std::move(req));
    try {
      owner_->on_request(ex);
    } catch (const std::exception& e) {
      ex->reply({500, "application/json", status_body(500, "InternalError", e.what()), {}});
    }
  }

  void write_reply(response r) {
    if (dropped_) return;
    in_flight_ = false;
    auto res = std::make_shared<bhttp::response<bhttp::string_body>>();
    res->version(11);
    res->result(static_cast<unsigned>(r.status));
    res->set(bhttp::field::content_type, r.content_type);
    for (auto& [k, v] : r.headers) res->set(k, v);
    res->body() = std::move(r.body);
    res->keep_alive(keep_alive_);
    res->prepare_payload();
    auto self = shared();
    lowest().expires_after(idle_timeout);
    bhttp::async_write(stream_, *res, [self, res](beast::error_code ec, size_t) {
      if (ec || !self->keep_alive_) return self->drop();
      self->read_request();
    });
  }

  // The connection leaves HTTP: its stream moves into a WebSocket that lives until the close
  // handshake ends (the session forgets it, as after a drop, but the socket stays open).
  void upgrade_websocket(std::string subprotocol, std::vector<std::string> messages) {
    if (dropped_) return;
    if (!upgrade_header_)
      return write_reply({400,
                          "application/json",
                          status_body(400, "BadRequest", "Upgrade request required"),
                          {}});
    dropped_ = true;
    in_flight_ = false;
    owner_->forget(weak_from_this());
    struct ws_exchange {
      websocket::stream<Stream> ws;
      bhttp::request<bhttp::empty_body> upgrade;  // kept while the accept runs
      std::vector<std::string> messages;
      size_t next = 0;
      explicit ws_exchange(Stream&& s) : ws(std::move(s)) {}
      static void write_next(std::shared_ptr<ws_exchange> x) {
        if (x->next == x->messages.size()) {
          x->ws.async_close(websocket::close_code::normal, [x](beast::error_code) {});
          return;
        }
        auto& m = x->messages[x->next++];
        x->ws.async_write(net::buffer(m), [x](beast::error_code ec, size_t) {
          if (!ec) write_next(x);
        });
      }
    };
    auto x = std::make_shared<ws_exchange>(std::move(stream_));
    x->messages = std::move(messages);
    x->ws.binary(true);
    x->ws.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
    x->ws.set_option(websocket::stream_base::decorator(
        [sp = std::move(subprotocol)](websocket::response_type& res) {
          if (!sp.empty()) res.set(bhttp::field::sec_websocket_protocol, sp);
        }));
    x->upgrade = bhttp::request<bhttp::empty_body>(std::move(*upgrade_header_));
    upgrade_header_.reset();
    x->ws.async_accept(x->upgrade, [x](beast::error_code ec) {
      if (!ec) ws_exchange::write_next(x);
    });
  }

  void write_stream_header(std::shared_ptr<session_stream<Stream>> body, int status,
                           std::string content_type, header_list headers) {
    if (dropped_) return body->mark_closed();
    in_flight_ = false;
    stream_body_ = body;
    auto res = std::make_shared<bhttp::response<bhttp::empty_body>>();
    res->version(11);
    res->result(static_cast<unsigned>(status));
    res->set(bhttp::field::content_type, content_type);
    for (auto& [k, v] : headers) res->set(k, v);
    res->chunked(true);
    // After a stream the connection is closed rather than reused: the read that detects a
    // vanished client would otherwise race with reading the next request.
    res->keep_alive(false);
    auto sr = std::make_shared<bhttp::response_serializer<bhttp::empty_body>>(*res);
    auto self = shared();
    writing_ = true;
    bhttp::async_write_header(stream_, *sr, [self, res, sr](beast::error_code ec, size_t) {
      self->writing_ = false;
      if (ec) return self->drop();
      self->watch_for_disconnect();
      self->flush_stream();
    });
  }

  // While streaming, the client has nothing to send; a read completing with an error means
  // it went away, which we must notice even if no event is written for a long time.
  void watch_for_disconnect() {
    auto self = shared();
    stream_.async_read_some(net::buffer(discard_), [self](beast::error_code ec, size_t) {
      if (ec) return self->drop();
      self->watch_for_disconnect();
    });
  }

  void flush_stream() {
    if (dropped_ || writing_ || !stream_body_) return;
    auto& body = *stream_body_;
    std::vector<std::shared_ptr<const std::string>> batch;
    bool finish = false;
    {
      std::lock_guard lock(body.mutex_);
      // One chunk holds what is queued up to max_chunk_bytes (at least one piece), as an API
      // server's watch writes each event as it comes (Go's chunked writer: one chunk per event,
      // small ones coalesced). A client reads a whole chunk before handing any of it on
      // (cpprest does): chunks of the whole backlog made it hold hundreds of MiB.
      size_t bytes = 0;
      while (!body.pending_.empty() &&
             (batch.empty() || bytes + body.pending_.front()->size() <= max_chunk_bytes)) {
        bytes += body.pending_.front()->size();
        batch.push_back(std::move(body.pending_.front()));
        body.pending_.pop_front();
      }
      for (auto& b : batch) body.backlog_bytes_ -= b->size();
      finish = body.pending_.empty() && body.close_requested_;
    }
    if (batch.empty() && !finish) return;
    size_t total = 0;
    for (auto& b : batch) total += b->size();
    auto frame = std::make_shared<std::string>();
    auto buffers = std::make_shared<std::vector<net::const_buffer>>();
    std::string head = total ? fmt::format("{:x}\r\n", total) : std::string();
    std::string tail = std::string(total ? "\r\n" : "") + (finish ? "0\r\n\r\n" : "");
    auto pieces =
        std::make_shared<std::pair<std::string, std::string>>(std::move(head), std::move(tail));
    buffers->emplace_back(net::buffer(pieces->first));
    for (auto& b : batch) buffers->emplace_back(net::buffer(*b));
    buffers->emplace_back(net::buffer(pieces->second));
    auto keep = std::make_shared<std::vector<std::shared_ptr<const std::string>>>(std::move(batch));
    writing_ = true;
    auto self = shared();
    net::async_write(stream_, *buffers,
                     [self, buffers, pieces, keep, finish](beast::error_code ec, size_t) {
                       self->writing_ = false;
                       if (ec) return self->drop();
                       if (finish) return self->finish_stream();
                       self->flush_stream();
                     });
  }

  void finish_stream() {
    auto body = std::move(stream_body_);
    if (body) body->mark_closed();
    graceful_close();
  }

  void graceful_close();

  void drop() {
    if (dropped_) return;
    dropped_ = true;
    if (stream_body_) std::exchange(stream_body_, nullptr)->mark_closed();
    beast::error_code ignored;
    lowest().socket().shutdown(tcp::socket::shutdown_both, ignored);
    lowest().socket().close(ignored);
    owner_->forget(weak_from_this());
  }

  std::shared_ptr<listener::impl> owner_;
  Stream stream_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::optional<bhttp::request_header<>> upgrade_header_;  // the last request's, for a WebSocket
  std::shared_ptr<session_stream<Stream>> stream_body_;
  std::array<char, 512> discard_{};
  std::string client_cn_;
  std::vector<std::string> client_orgs_;
  bool client_cert_unverified_ = false;
  bool keep_alive_ = true;
  bool writing_ = false;
  bool dropped_ = false;
  bool in_flight_ = false;
};

template <class Stream>
class session_exchange : public exchange {
 public:
  session_exchange(std::shared_ptr<session<Stream>> s, std::shared_ptr<request> r)
      : session_(std::move(s)), req_(std::move(r)) {}
  ~session_exchange() override {
    // A handler that forgot to answer must not leave the client hanging.
    if (!answered_.test_and_set())
      session_->post_reply({500,
                            "application/json",
                            status_body(500, "InternalError", "request was not answered"),
                            {}});
  }
  const request& req() const override { return *req_; }
  void reply(response r) override {
    if (answered_.test_and_set()) return;
    session_->post_reply(std::move(r));
  }
  std::shared_ptr<stream> start_stream(int status, std::string content_type,
                                       header_list headers) override {
    auto body = std::make_shared<session_stream<Stream>>(session_);
    if (answered_.test_and_set()) {
      body->mark_closed();
      return body;
    }
    session_->post_stream_start(body, status, std::move(content_type), std::move(headers));
    return body;
  }
  void abort() override {
    if (answered_.test_and_set()) return;
    session_->post_abort();
  }
  void websocket_reply(std::string subprotocol, std::vector<std::string> messages) override {
    if (answered_.test_and_set()) return;
    session_->post_websocket(std::move(subprotocol), std::move(messages));
  }

 private:
  std::shared_ptr<session<Stream>> session_;
  std::shared_ptr<request> req_;
  std::atomic_flag answered_ = ATOMIC_FLAG_INIT;
};

template <class Stream>
bool session_stream<Stream>::write(std::shared_ptr<const std::string> data) {
  {
    std::lock_guard lock(mutex_);
    if (closed_ || close_requested_) return false;
    backlog_bytes_ += data->size();
    pending_.push_back(std::move(data));
    if (backlog_bytes_ > session_->max_backlog()) {
      // Like the API server with a full watch channel: give up on this slow client.
      pending_.clear();
      backlog_bytes_ = 0;
      session_->post_abort();
      return false;
    }
  }
  session_->post_flush();
  return true;
}

template <class Stream>
void session_stream<Stream>::close() {
  {
    std::lock_guard lock(mutex_);
    if (closed_ || close_requested_) return;
    close_requested_ = true;
  }
  session_->post_flush();
}

// --- plain TCP ---
template <>
void session<beast::tcp_stream>::begin() {
  read_request();
}
template <>
void session<beast::tcp_stream>::graceful_close() {
  beast::error_code ignored;
  stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
  drop();
}

// --- TLS ---
using tls_stream = beast::ssl_stream<beast::tcp_stream>;

template <>
void session<tls_stream>::begin() {
  lowest().expires_after(std::chrono::seconds(30));
  auto self = shared();
  stream_.async_handshake(ssl::stream_base::server, [self](beast::error_code ec) {
    if (ec) return self->drop();
    if (X509* cert = SSL_get_peer_certificate(self->stream_.native_handle())) {
      if (SSL_get_verify_result(self->stream_.native_handle()) == X509_V_OK) {
        X509_NAME* subject = X509_get_subject_name(cert);
        for (int i = -1; (i = X509_NAME_get_index_by_NID(subject, NID_commonName, i)) >= 0;) {
          auto* d = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, i));
          self->client_cn_.assign(reinterpret_cast<const char*>(ASN1_STRING_get0_data(d)),
                                  ASN1_STRING_length(d));
        }
        for (int i = -1; (i = X509_NAME_get_index_by_NID(subject, NID_organizationName, i)) >= 0;) {
          auto* d = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, i));
          self->client_orgs_.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(d)),
                                          ASN1_STRING_length(d));
        }
      } else {
        self->client_cert_unverified_ = true;
      }
      X509_free(cert);
    }
    self->read_request();
  });
}
template <>
void session<tls_stream>::graceful_close() {
  // A TLS close_notify is polite but a client may never answer it; do not wait for one.
  drop();
}

// ---------------------------------------------------------------------------------------------

void listener::impl::accept_next() {
  std::lock_guard lock(mutex);
  if (!acceptor) return;
  auto self = shared_from_this();
  acceptor->async_accept(net::make_strand(io), [self](beast::error_code ec, tcp::socket sock) {
    if (ec == net::error::operation_aborted) return;
    if (!ec) {
      sock.set_option(tcp::no_delay(true), ec);
      std::shared_ptr<session_base> s;
      if (self->tls) {
        s = std::make_shared<session<tls_stream>>(
            self, tls_stream(beast::tcp_stream(std::move(sock)), *self->tls));
      } else {
        s = std::make_shared<session<beast::tcp_stream>>(self, beast::tcp_stream(std::move(sock)));
      }
      {
        std::lock_guard lock(self->mutex);
        if (!self->acceptor) return;  // closed meanwhile
        self->sessions.insert(s);
      }
      s->start();
    }
    self->accept_next();
  });
}

listener::listener(net::io_context& io, listener_options options, handler h)
    : impl_(std::make_shared<impl>(io, std::move(options), std::move(h))) {
  if (impl_->options.tls) {
    auto& t = *impl_->options.tls;
    impl_->tls.emplace(ssl::context::tls_server);
    auto& ctx = *impl_->tls;
    ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                    ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
    ctx.use_certificate_chain(net::buffer(t.cert_pem));
    ctx.use_private_key(net::buffer(t.key_pem), ssl::context::pem);
    if (!t.client_ca_pem.empty()) {
      ctx.add_certificate_authority(net::buffer(t.client_ca_pem));
      // Ask for a certificate but let token users in without one.
      ctx.set_verify_mode(ssl::verify_peer);
      ctx.set_verify_callback([](bool, ssl::verify_context&) { return true; });
    }
  }
}

listener::~listener() {
  close();
}

void listener::open() {
  {
    std::lock_guard lock(impl_->mutex);
    if (impl_->acceptor) return;
    tcp::endpoint ep(net::ip::make_address(impl_->options.address),
                     impl_->bound_port ? impl_->bound_port : impl_->options.port);
    tcp::acceptor a(impl_->io);
    try {
      a.open(ep.protocol());
      a.set_option(net::socket_base::reuse_address(true));
      a.bind(ep);
      a.listen(net::socket_base::max_listen_connections);
    } catch (const boost::system::system_error& e) {
      throw std::runtime_error(
          fmt::format("cannot listen on {}:{}: {}", ep.address().to_string(), ep.port(), e.what()));
    }
    impl_->bound_port = a.local_endpoint().port();
    impl_->acceptor.emplace(std::move(a));
  }
  impl_->accept_next();
}

void listener::close() {
  std::vector<std::shared_ptr<session_base>> live;
  {
    std::lock_guard lock(impl_->mutex);
    if (impl_->acceptor) {
      beast::error_code ignored;
      impl_->acceptor->close(ignored);
      impl_->acceptor.reset();
    }
    for (auto& w : impl_->sessions)
      if (auto s = w.lock()) live.push_back(std::move(s));
    impl_->sessions.clear();
  }
  for (auto& s : live) s->shutdown();
}

bool listener::is_open() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->acceptor.has_value();
}

uint16_t listener::port() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->bound_port;
}

std::string listener::url() const {
  return fmt::format("{}://{}:{}", impl_->options.tls ? "https" : "http", impl_->options.address,
                     port());
}

void listener::end_all_streams() {
  std::vector<std::shared_ptr<session_base>> live;
  {
    std::lock_guard lock(impl_->mutex);
    for (auto& w : impl_->sessions)
      if (auto s = w.lock()) live.push_back(std::move(s));
  }
  for (auto& s : live) s->end_streams();
}

}  // namespace k8s::http
