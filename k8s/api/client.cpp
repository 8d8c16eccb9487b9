// REST verbs and watch streams on cpprestsdk. Every call returns at once; results arrive through
// task continuations on cpprest's thread pool. Continuations never block (no .get() on an
// unfinished task) and every chain ends in a task-based continuation that catches everything,
// because pplx terminates the process on an unobserved exception.
#include "k8s/api/client.h"

#include <cpprest/containerstream.h>
#include <cpprest/http_client.h>

#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <boost/asio/ssl.hpp>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <deque>
#include <functional>
#include <mutex>

#include "k8s/api/tls_explainer.h"
#include "k8s/api/token_source.h"

namespace k8s {
namespace {

namespace http = web::http;
namespace hc = web::http::client;

constexpr std::chrono::seconds watch_idle_margin{5};
constexpr int watch_timeout_when_unset =
    300;  // server default is 30-60 min; bookmarks come every minute
// A transport failure while sending a body at least this large may be the server refusing it
// (a lower limit than kube-apiserver's): its message says the size.
constexpr size_t large_body_bytes = 1024 * 1024;

// Process-wide, for the memory breakdown (client_buffers()).
std::atomic<int64_t> watch_unread_total{0};
std::atomic<int64_t> queued_body_total{0};
std::atomic<int64_t> tls_contexts_live{0};
std::atomic<int64_t> tls_connections_total{0};

// Tokens must never leak into messages; cpprest does not echo headers, but be certain.
std::string redact(std::string message, const std::string& token) {
  if (token.size() < 8) return message;
  for (size_t at; (at = message.find(token)) != std::string::npos;)
    message.replace(at, token.size(), "[redacted]");
  return message;
}

api_error redacted(api_error e, const std::string& token) {
  e.message = redact(std::move(e.message), token);
  e.reason = redact(std::move(e.reason), token);
  return e;
}

api_error cancelled_error() {
  return transport_error(error_kind::other, cancelled_message);
}

// Callbacks are user code on a cpprest thread: an escaping exception would terminate the process.
template <class F, class... Args>
void call_safely(const F& f, Args&&... args) {
  if (!f) return;
  try {
    f(std::forward<Args>(args)...);
  } catch (...) {
    // Callbacks must not throw; there is no one left to tell.
  }
}

// Applies the connection's TLS material; returns what is wrong with it, "" when usable.
std::string configure_tls(boost::asio::ssl::context& ctx, const connection_settings& s) {
  boost::system::error_code ec;
  if (!s.ca_pem.empty() && !s.insecure_skip_tls_verify) {
    // Trust exactly the given CAs, as kubectl does; cpprest preloads the system store.
    SSL_CTX_set_cert_store(ctx.native_handle(), X509_STORE_new());
    ctx.add_certificate_authority(boost::asio::buffer(s.ca_pem), ec);
    if (ec) return "the CA certificate of " + s.origin + " is not usable: " + ec.message();
  }
  if (!s.client_cert_pem.empty() || !s.client_key_pem.empty()) {
    if (s.client_cert_pem.empty() || s.client_key_pem.empty())
      return "the client certificate of " + s.origin + " needs both a certificate and a key";
    ctx.use_certificate_chain(boost::asio::buffer(s.client_cert_pem), ec);
    if (ec) return "the client certificate of " + s.origin + " is not usable: " + ec.message();
    ctx.use_private_key(boost::asio::buffer(s.client_key_pem), boost::asio::ssl::context::pem, ec);
    if (ec) return "the client key of " + s.origin + " is not usable: " + ec.message();
  }
  return "";
}

// One TLS context per settings generation, shared by every connection made with it. cpprest
// builds a fresh SSL context for each new connection (and loads the system CA store into it);
// the callback swaps that for this one (an OpenSSL reference), so a cluster's connections hold
// one context and one CA store between them instead of one each. Verification is unchanged:
// cpprest sets the verify mode, the verify callback and SNI on each connection, not on the
// context, and this context is set up as cpprest sets up its own.
struct shared_tls_context {
  boost::asio::ssl::context ctx{boost::asio::ssl::context::sslv23};
  shared_tls_context() { ++tls_contexts_live; }
  ~shared_tls_context() { --tls_contexts_live; }
  shared_tls_context(const shared_tls_context&) = delete;
  shared_tls_context& operator=(const shared_tls_context&) = delete;
};

// The context for `s` (https:// only), or why its TLS material is not usable.
std::string make_tls_context(const connection_settings& s,
                             std::shared_ptr<shared_tls_context>& out) {
  auto shared = std::make_shared<shared_tls_context>();
  // As cpprest does for each connection (http_client_asio.cpp, upgrade_to_ssl); the system store
  // is not loaded when configure_tls replaces it by the given CAs at once.
  if (s.ca_pem.empty() || s.insecure_skip_tls_verify) shared->ctx.set_default_verify_paths();
  shared->ctx.set_options(boost::asio::ssl::context::default_workarounds);
  std::string problem = configure_tls(shared->ctx, s);
  if (problem.empty()) out = std::move(shared);
  return problem;
}

std::shared_ptr<hc::http_client> make_http_client(const connection_settings& s,
                                                  std::chrono::milliseconds idle_timeout,
                                                  std::shared_ptr<shared_tls_context> tls) {
  hc::http_client_config cfg;
  cfg.set_timeout(idle_timeout);
  cfg.set_validate_certificates(!s.insecure_skip_tls_verify);
  if (tls)
    cfg.set_ssl_context_callback([tls](boost::asio::ssl::context& ctx) {
      SSL_CTX_up_ref(tls->ctx.native_handle());
      ctx = boost::asio::ssl::context(tls->ctx.native_handle());  // frees cpprest's own
      ++tls_connections_total;
    });
  return std::make_shared<hc::http_client>(s.server, cfg);
}

// Explanations of failed TLS handshakes are handed back on cpprest's pool, like every answer.
std::shared_ptr<tls_explainer> make_tls_explainer(const connection_settings& s) {
  tls_explainer::options o;
  o.post = [](std::function<void()> f) { pplx::create_task(std::move(f)); };
  return std::make_shared<tls_explainer>(s, std::move(o));
}

// One settings generation: the pooled client every ordinary request of that generation shares,
// the token source that authenticates them all, and what explains their TLS failures.
struct generation {
  connection_settings settings;
  std::string problem;  // non-empty: the settings are unusable and every request fails with it
  error_kind problem_kind = error_kind::other;
  std::shared_ptr<shared_tls_context> tls_context;  // https:// only; every connection's
  std::shared_ptr<hc::http_client> http;
  std::unique_ptr<token_source> tokens;  // thread-safe; re-reads a rotated token file
  std::shared_ptr<tls_explainer> tls;    // https:// only

  generation(connection_settings s, std::chrono::milliseconds request_timeout)
      : settings(std::move(s)) {
    if (!settings.unavailable.empty()) {
      problem = settings.unavailable;
      problem_kind = error_kind::unreachable;  // retried with backoff, like a cluster that is down
      return;
    }
    const std::string& url = settings.server;
    if (url.rfind("https://", 0) != 0 && url.rfind("http://", 0) != 0) {
      problem = "the server URL of " + settings.origin + " must start with https:// or http://";
      return;
    }
    try {
      if (url.rfind("https://", 0) == 0) {
        problem = make_tls_context(settings, tls_context);
        if (!problem.empty()) return;
        tls = make_tls_explainer(settings);
      }
      http = make_http_client(settings, request_timeout, tls_context);
      tokens = std::make_unique<token_source>(settings);
    } catch (const std::exception& e) {
      problem = "cannot use the connection settings of " + settings.origin + ": " + e.what();
    }
  }

  // The bearer token for the next request (a rotated token file is picked up here).
  std::string token() { return tokens->current(); }
};

struct reply {
  int status = 0;
  std::string body;
  std::string retry_after;
};

std::string header_value(const http::http_headers& h, const std::string& name) {
  auto it = h.find(name);
  return it == h.end() ? std::string() : it->second;
}

bool is_success(int status) {
  return status >= 200 && status < 300;
}

// What a failed cpprest task means for the caller.
api_error error_of(std::exception_ptr failure, const std::string& token) {
  try {
    std::rethrow_exception(failure);
  } catch (const http::http_exception& e) {
    std::string message = redact(e.what(), token);
    const auto& code = e.error_code();
    if (code == std::errc::timed_out || code.value() == ETIMEDOUT)
      return transport_error(error_kind::timeout, "no answer in time (" + message + ")");
    if (code == std::errc::operation_canceled) return cancelled_error();
    return transport_error(error_kind::unreachable, message);
  } catch (const pplx::task_canceled&) {
    return cancelled_error();
  } catch (const std::exception& e) {
    return transport_error(error_kind::other, redact(e.what(), token));
  } catch (...) {
    return transport_error(error_kind::other, "unknown failure");
  }
}

// cpprest's error code when `failure` is a failed TLS handshake, else nullopt. cpprest 2.10 says
// only "Error in SSL handshake" (http_client_asio.cpp, handle_handshake), whatever the cause.
std::optional<int> handshake_failure(std::exception_ptr failure) {
  try {
    std::rethrow_exception(failure);
  } catch (const http::http_exception& e) {
    if (std::string_view(e.what()).find("SSL handshake") != std::string_view::npos)
      return e.error_code().value();
  } catch (...) {
  }
  return std::nullopt;
}

// Hands `e` to `done`; a TLS handshake failure first gets `tls` to say why (later, on another
// thread: the diagnosis is a handshake of its own).
void explain_then(const std::shared_ptr<tls_explainer>& tls, std::optional<int> handshake_code,
                  api_error e, std::function<void(api_error)> done) {
  if (!tls || !handshake_code) return done(std::move(e));
  tls->explain(e.message, *handshake_code,
               [e, done = std::move(done)](std::string message) mutable {
                 e.message = std::move(message);
                 done(std::move(e));
               });
}

std::string body_size_note(size_t body_bytes) {
  std::string note = "the request body was " + readable_size(body_bytes);
  if (body_bytes >= 1024) note += " (" + std::to_string(body_bytes) + " bytes)";
  return note;
}

// A connection that broke while a large body was on its way may be a server refusing the body
// before reading it all (413, then close): say the size.
api_error with_body_size(api_error e, size_t body_bytes) {
  const bool transport =
      e.http_code == 0 && (e.kind == error_kind::unreachable || e.kind == error_kind::timeout);
  if (transport && body_bytes >= large_body_bytes)
    e.message += " (" + body_size_note(body_bytes) + ": the server may refuse bodies this large)";
  return e;
}

// Parses a 2xx body that must be one JSON object.
result<object_ptr> parse_object(const std::string& body, const std::string& what) {
  auto d = std::make_shared<json::Document>();
  d->Parse(body.data(), body.size());
  if (d->HasParseError())
    return transport_error(error_kind::decode,
                           "the answer to " + what +
                               " is not JSON: " + rapidjson::GetParseError_En(d->GetParseError()) +
                               " at offset " + std::to_string(d->GetErrorOffset()));
  if (!d->IsObject())
    return transport_error(error_kind::decode, "the answer to " + what + " is not a JSON object");
  return object_ptr(std::move(d));
}

result<object_ptr> object_from(const reply& r, const std::string& what) {
  if (!is_success(r.status)) return error_from_response(r.status, r.body, r.retry_after);
  return parse_object(r.body, what);
}

// A list's items arrive without kind/apiVersion from real API servers for built-in types: fill
// them in so every item stands alone like the result of a get.
void complete_item(json::Document& item, const resource& r, std::string_view list_kind) {
  auto& a = item.GetAllocator();
  if (!json::find(item, "apiVersion")) json::set_string(item, "apiVersion", r.api_version(), a);
  if (json::find(item, "kind")) return;
  std::string kind = r.kind;
  if (kind.empty() && list_kind.size() > 4 && list_kind.substr(list_kind.size() - 4) == "List")
    kind = std::string(list_kind.substr(0, list_kind.size() - 4));
  if (!kind.empty()) json::set_string(item, "kind", kind, a);
}

result<list_page> page_from(const reply& r, const resource& res, const std::string& what) {
  if (!is_success(r.status)) return error_from_response(r.status, r.body, r.retry_after);
  auto parsed = parse_object(r.body, what);
  if (!parsed) return parsed.error();
  const json::Document& list = *parsed.value();
  list_page page;
  page.resource_version = json::get_string(list, {"metadata", "resourceVersion"});
  page.continue_token = json::get_string(list, {"metadata", "continue"});
  const json::Value* items = json::find(list, "items");
  if (!items || items->IsNull()) return page;  // an empty list may say "items": null
  if (!items->IsArray())
    return transport_error(error_kind::decode, "the answer to " + what + " has no items array");
  auto list_kind = json::get_string(list, "kind");
  page.items.reserve(items->Size());
  for (const auto& item : items->GetArray()) {
    if (!item.IsObject())
      return transport_error(error_kind::decode, "an item of " + what + " is not a JSON object");
    // One Document per item: it must outlive the list without keeping the whole list alive.
    auto d = std::make_shared<json::Document>();
    d->CopyFrom(item, d->GetAllocator());
    complete_item(*d, res, list_kind);
    page.items.push_back(std::move(d));
  }
  return page;
}

// Query strings with values encoded by percent_encode (cpprest's encoder keeps '+', which the
// API server would read as a space).
class query {
 public:
  query& add(std::string_view key, std::string_view value) {
    text_ += text_.empty() ? '?' : '&';
    text_ += key;
    text_ += '=';
    text_ += percent_encode(value);
    return *this;
  }
  query& add_if(std::string_view key, std::string_view value) {
    return value.empty() ? *this : add(key, value);
  }
  const std::string& str() const { return text_; }

 private:
  std::string text_;
};

query write_query(const write_options& o) {
  query q;
  q.add_if("fieldManager", o.field_manager);
  if (o.dry_run) q.add("dryRun", "All");
  return q;
}

const char* patch_content_type(patch_kind k) {
  switch (k) {
    case patch_kind::merge:
      return "application/merge-patch+json";
    case patch_kind::json:
      return "application/json-patch+json";
    case patch_kind::apply:
      return "application/apply-patch+yaml";
  }
  return "application/merge-patch+json";
}

std::string delete_options_json(const delete_options& o) {
  json::Document d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  json::set_string(d, "kind", "DeleteOptions", a);
  json::set_string(d, "apiVersion", "v1", a);
  if (!o.propagation.empty()) json::set_string(d, "propagationPolicy", o.propagation, a);
  if (o.grace_period_seconds)
    json::set_member(d, "gracePeriodSeconds", json::Value(*o.grace_period_seconds), a);
  if (!o.precondition_uid.empty() || !o.precondition_resource_version.empty()) {
    auto& pre = json::ensure_object(d, "preconditions", a);
    if (!o.precondition_uid.empty()) json::set_string(pre, "uid", o.precondition_uid, a);
    if (!o.precondition_resource_version.empty())
      json::set_string(pre, "resourceVersion", o.precondition_resource_version, a);
  }
  return json::to_string(d);
}

// The HTTP method of a Kubernetes verb.
std::string method_of(std::string_view verb) {
  if (verb == "get" || verb == "list" || verb == "watch") return "GET";
  if (verb == "create") return "POST";
  if (verb == "update") return "PUT";
  if (verb == "patch") return "PATCH";
  if (verb == "delete") return "DELETE";
  throw std::logic_error("unknown verb " + std::string(verb));
}

http::http_request make_request(const std::string& method, const std::string& target,
                                const std::string& token, const std::string& user_agent) {
  http::http_request req(method);
  req.set_request_uri(target);
  req.headers().add(http::header_names::accept, "application/json");
  if (!user_agent.empty()) req.headers().add(http::header_names::user_agent, user_agent);
  if (!token.empty()) req.headers().add(http::header_names::authorization, "Bearer " + token);
  return req;
}

// One open watch: its own http_client (idle timeout just above the server's timeoutSeconds) and
// an async read loop. The body is read in blocks of whatever has arrived (not with read_line,
// which takes the body buffer's lock once per byte) and split into lines here; reads follow one
// another, so lines are delivered in order.
class watch_stream final : public stream_handle, public std::enable_shared_from_this<watch_stream> {
 public:
  watch_stream(std::function<void(std::string_view)> on_line,
               std::function<void(std::optional<api_error>)> on_end, std::function<void()> on_open,
               std::string token)
      : on_line_(std::move(on_line)),
        on_end_(std::move(on_end)),
        on_open_(std::move(on_open)),
        token_(std::move(token)) {}

  void cancel() override {
    if (cancelled_.exchange(true)) return;
    cts_.cancel();  // thread-safe; the pending request or read fails within milliseconds
  }

  // `observe`: told once of the answer's status (0: none came), unless cancelled first. `tls`
  // explains a failed handshake.
  void start(std::shared_ptr<hc::http_client> http, http::http_request req,
             std::function<void(const request_record&)> observe,
             std::shared_ptr<tls_explainer> tls) {
    http_ = std::move(http);
    tls_ = std::move(tls);
    auto self = shared_from_this();
    const auto sent = std::chrono::steady_clock::now();
    http_->request(req, cts_.get_token())
        .then([self, observe, sent](pplx::task<http::http_response> t) {
          http::http_response resp;
          auto tell = [&](int code) {
            if (observe && !self->cancelled_)
              call_safely(observe,
                          request_record{"watch", code, std::chrono::steady_clock::now() - sent});
          };
          try {
            resp = t.get();
          } catch (...) {
            tell(0);
            return explain_then(self->tls_, handshake_failure(std::current_exception()),
                                error_of(std::current_exception(), self->token_),
                                [self](api_error e) { self->finish(std::move(e)); });
          }
          tell(resp.status_code());
          if (!is_success(resp.status_code())) return self->finish_with_status(resp);
          self->body_ = resp.body();
          if (self->on_open_ && !self->cancelled_) {
            try {
              self->on_open_();
            } catch (...) {
              // a consumer's failure must not end the stream
            }
          }
          self->read_next();
        });
  }

  // For settings that cannot even start a request: ends the stream later, on another thread.
  void fail(api_error e) {
    auto self = shared_from_this();
    pplx::create_task([self, e = std::move(e)] { self->finish(e); });
  }

 private:
  void finish_with_status(http::http_response resp) {
    auto self = shared_from_this();
    int status = resp.status_code();
    std::string retry_after = header_value(resp.headers(), "Retry-After");
    resp.extract_utf8string(true).then([self, status, retry_after](pplx::task<std::string> t) {
      std::string body;
      try {
        body = t.get();
      } catch (...) {
        // The code alone still gives the kind.
      }
      self->finish(error_from_response(status, body, retry_after));
    });
  }

  // Reads what has arrived (at least one byte, at most read_block) after the bytes kept from
  // the last read, then hands over every complete line.
  void read_next() {
    if (cancelled_) return finish(cancelled_error());
    auto self = shared_from_this();
    auto buf = body_.streambuf();
    const size_t avail = buf.in_avail();
    set_unread(static_cast<int64_t>(avail));
    const size_t want = std::clamp<size_t>(avail, 1, read_block);
    const size_t kept = pending_.size();
    pending_.resize(kept + want);
    buf.getn(reinterpret_cast<uint8_t*>(&pending_[kept]), want)
        .then([self, kept](pplx::task<size_t> t) {
          size_t n = 0;
          try {
            n = t.get();
          } catch (...) {
            return self->finish(error_of(std::current_exception(), self->token_));
          }
          self->pending_.resize(kept + n);
          if (self->cancelled_) return self->finish(cancelled_error());
          if (n == 0) {  // end of the body: a last line without a newline still counts
            if (!self->deliver_line(0, self->pending_.size())) return;
            return self->finish(std::nullopt);
          }
          // Lines end at \n (a \r before it is dropped); only the new bytes can hold one.
          size_t start = 0;
          for (size_t at = kept; (at = self->pending_.find('\n', at)) != std::string::npos; ++at) {
            if (self->cancelled_) return self->finish(cancelled_error());
            if (!self->deliver_line(start, at)) return;
            start = at + 1;
          }
          self->pending_.erase(0, start);
          // A burst grew the buffer to a whole read block: a quiet watch gives it back.
          if (self->pending_.empty() && self->pending_.capacity() > read_block / 4)
            std::string().swap(self->pending_);
          self->read_next();
        });
  }

  // Delivers pending_[start, end) without a trailing \r, unless empty. False when the stream
  // ended because the handler failed.
  bool deliver_line(size_t start, size_t end) {
    if (end > start && pending_[end - 1] == '\r') --end;
    if (end == start) return true;
    try {
      on_line_(std::string_view(pending_.data() + start, end - start));
      return true;
    } catch (const std::exception& e) {
      cts_.cancel();
      finish(
          transport_error(error_kind::other, std::string("the line handler failed: ") + e.what()));
    } catch (...) {
      cts_.cancel();
      finish(transport_error(error_kind::other, "the line handler failed"));
    }
    return false;
  }

  // Runs on_end once. Only the request/read chain calls it, one step after the other.
  void finish(std::optional<api_error> why) {
    if (ended_.exchange(true)) return;
    set_unread(0);
    if (cancelled_) why = cancelled_error();
    if (why) why = redacted(std::move(*why), token_);
    auto on_end = std::move(on_end_);
    on_line_ = nullptr;
    body_ = concurrency::streams::istream();
    http_.reset();
    tls_.reset();
    call_safely(on_end, std::move(why));
  }

  // This stream's part of watch_unread_total, as of its last read.
  void set_unread(int64_t bytes) {
    watch_unread_total += bytes - unread_;
    unread_ = bytes;
  }

  std::function<void(std::string_view)> on_line_;
  std::function<void(std::optional<api_error>)> on_end_;
  std::function<void()> on_open_;
  std::string token_;
  std::shared_ptr<hc::http_client> http_;
  std::shared_ptr<tls_explainer> tls_;
  pplx::cancellation_token_source cts_;
  concurrency::streams::istream body_;
  static constexpr size_t read_block = 64 * 1024;
  std::string pending_;  // read, not yet delivered (a partial line); only the read loop uses it
  int64_t unread_ = 0;   // received, not yet read (in_avail() at the last read)
  std::atomic<bool> cancelled_{false};
  std::atomic<bool> ended_{false};
};

}  // namespace

struct client::impl {
  // Bounds the ordinary requests in flight (client_options::max_in_flight); the rest wait in
  // order and start as earlier ones finish.
  struct request_gate {
    std::mutex mutex;
    size_t limit;
    size_t in_flight = 0;
    std::deque<std::function<void()>> waiting;
    explicit request_gate(size_t l) : limit(std::max<size_t>(l, 1)) {}
    void enter(std::function<void()> start) {
      {
        std::lock_guard lock(mutex);
        if (in_flight >= limit) {
          waiting.push_back(std::move(start));
          return;
        }
        ++in_flight;
      }
      start();
    }
    void leave() {
      std::function<void()> next;
      {
        std::lock_guard lock(mutex);
        if (waiting.empty()) {
          --in_flight;
          return;
        }
        next = std::move(waiting.front());
        waiting.pop_front();
      }
      next();  // takes over the slot
    }
  };

  client_options options;
  mutable std::mutex mutex;  // guards current and watches; never held while calling out
  std::shared_ptr<generation> current;
  std::vector<std::weak_ptr<watch_stream>> watches;
  std::shared_ptr<request_gate> gate;

  impl(connection_settings s, client_options o)
      : options(std::move(o)), gate(std::make_shared<request_gate>(options.max_in_flight)) {
    current = std::make_shared<generation>(std::move(s), options.request_timeout);
  }

  std::shared_ptr<generation> snapshot() const {
    std::lock_guard lock(mutex);
    return current;
  }

  // The token for the next request of generation `g`, or why there is none.
  static result<std::string> token_for(generation& g) {
    if (!g.problem.empty()) return transport_error(g.problem_kind, g.problem);
    try {
      return g.token();
    } catch (const std::exception& e) {
      return transport_error(error_kind::other, e.what());
    }
  }

  // Sends one ordinary request and hands the raw reply (or the transport failure) to `done`.
  void send(const char* verb, const std::string& target, std::string body,
            const std::string& content_type, std::function<void(result<reply>)> done) {
    const std::string method = method_of(verb);
    const size_t body_bytes = content_type.empty() ? 0 : body.size();
    if (body_bytes > max_request_body_bytes) {
      // The API server would answer 413, possibly only after we sent it all: do not send it.
      pplx::create_task([done, e = body_too_large_error(body_bytes)] { call_safely(done, e); });
      return;
    }
    auto g = snapshot();
    auto token = token_for(*g);
    if (!token) {
      pplx::create_task([done, e = token.error()] { call_safely(done, e); });
      return;
    }
    std::string secret = token.value();
    queued_body_total += static_cast<int64_t>(body_bytes);
    // The cpprest request (its URI, headers and body stream: a few KiB) is built once a slot is
    // free: a burst queues thousands of writes here, each keeping only its target and body.
    gate->enter([gate = gate, http = g->http, tls = g->tls, method, target, body = std::move(body),
                 content_type, user_agent = options.user_agent, done = std::move(done), secret,
                 verb, body_bytes, observe = options.on_request]() mutable {
      queued_body_total -= static_cast<int64_t>(body_bytes);
      auto req = std::make_shared<http::http_request>();
      try {
        *req = make_request(method, target, secret, user_agent);
        if (!content_type.empty()) req->set_body(std::move(body), content_type);
      } catch (...) {
        auto e = redacted(error_of(std::current_exception(), secret), secret);
        pplx::create_task([gate, done, e] {
          gate->leave();
          call_safely(done, e);
        });
        return;
      }
      const auto sent = std::chrono::steady_clock::now();
      try {
        http->request(*req)
            .then([](http::http_response resp) {
              int status = resp.status_code();
              std::string retry_after = header_value(resp.headers(), "Retry-After");
              return resp.extract_utf8string(true).then([status, retry_after](std::string text) {
                return reply{status, std::move(text), retry_after};
              });
            })
            .then([gate, http, tls, done, secret, verb, body_bytes, observe,
                   sent](pplx::task<reply> t) {
              std::optional<int> handshake_code;
              auto outcome = [&]() -> result<reply> {
                try {
                  reply r = t.get();
                  // Error bodies become messages; objects are data and stay untouched.
                  if (!is_success(r.status)) r.body = redact(std::move(r.body), secret);
                  return r;
                } catch (...) {
                  handshake_code = handshake_failure(std::current_exception());
                  auto e = redacted(error_of(std::current_exception(), secret), secret);
                  return handshake_code ? e : with_body_size(std::move(e), body_bytes);
                }
              }();
              if (observe)
                call_safely(observe, request_record{verb, outcome ? outcome.value().status : 0,
                                                    std::chrono::steady_clock::now() - sent});
              gate->leave();
              if (outcome) return call_safely(done, std::move(outcome));
              explain_then(tls, handshake_code, outcome.error(),
                           [done](api_error e) { call_safely(done, std::move(e)); });
            });
      } catch (...) {
        auto e = redacted(error_of(std::current_exception(), secret), secret);
        pplx::create_task([gate, done, e] {
          gate->leave();
          call_safely(done, e);
        });
      }
    });
  }

  template <class T, class Convert>
  void send_for(const char* verb, const std::string& target, std::string body,
                const std::string& content_type, callback<T> done, Convert convert) {
    std::string what = method_of(verb) + " " + target;
    const size_t body_bytes = content_type.empty() ? 0 : body.size();
    send(verb, target, std::move(body), content_type,
         [done = std::move(done), convert = std::move(convert), what, body_bytes](result<reply> r) {
           if (!r) return done(r.error());
           result<T> converted = convert(r.value(), what);
           if (!converted && converted.error().http_code == 413) {
             // The server's limit may be lower than kube-apiserver's: say what was sent.
             api_error e = converted.error();
             e.message += " (" + body_size_note(body_bytes) + ")";
             return done(std::move(e));
           }
           done(std::move(converted));
         });
  }

  void send_object(const char* verb, const std::string& target, std::string body,
                   const std::string& content_type, callback<object_ptr> done) {
    send_for<object_ptr>(
        verb, target, std::move(body), content_type, std::move(done),
        [](const reply& r, const std::string& what) { return object_from(r, what); });
  }
};

client_buffer_usage client_buffers() {
  return {static_cast<size_t>(std::max<int64_t>(0, watch_unread_total.load())),
          static_cast<size_t>(std::max<int64_t>(0, queued_body_total.load()))};
}

tls_context_usage tls_contexts() {
  return {static_cast<size_t>(std::max<int64_t>(0, tls_contexts_live.load())),
          static_cast<size_t>(std::max<int64_t>(0, tls_connections_total.load()))};
}

client::client(connection_settings settings, client_options options)
    : impl_(std::make_shared<impl>(std::move(settings), std::move(options))) {}

client::~client() {
  std::vector<std::weak_ptr<watch_stream>> watches;
  {
    std::lock_guard lock(impl_->mutex);
    watches.swap(impl_->watches);
  }
  for (auto& w : watches)
    if (auto s = w.lock()) s->cancel();
}

void client::update_settings(connection_settings settings) {
  auto next = std::make_shared<generation>(std::move(settings), impl_->options.request_timeout);
  std::shared_ptr<generation> previous;
  {
    std::lock_guard lock(impl_->mutex);
    previous = std::exchange(impl_->current, std::move(next));
  }
  // Requests in flight keep the generation they started with. The last owner of `previous` may
  // wait for its TLS explainer's thread: never under the lock.
}

connection_settings client::settings() const {
  return impl_->snapshot()->settings;
}

void client::get(const resource& r, const std::string& ns, const std::string& name,
                 callback<object_ptr> done, const std::string& subresource) {
  impl_->send_object("get", r.item_path(ns, name, subresource), "", "", std::move(done));
}

void client::get_path(const std::string& path, callback<object_ptr> done) {
  impl_->send_object("get", path, "", "", std::move(done));
}

void client::list(const resource& r, const std::string& ns, const list_options& o,
                  callback<list_page> done) {
  query q;
  q.add_if("labelSelector", o.label_selector);
  q.add_if("fieldSelector", o.field_selector);
  if (o.limit > 0) q.add("limit", std::to_string(o.limit));
  q.add_if("continue", o.continue_token);
  q.add_if("resourceVersion", o.resource_version);
  q.add_if("resourceVersionMatch", o.resource_version_match);
  impl_->send_for<list_page>(
      "list", r.collection_path(ns) + q.str(), "", "", std::move(done),
      [r](const reply& rep, const std::string& what) { return page_from(rep, r, what); });
}

void client::create(const resource& r, const std::string& ns, std::string body_json,
                    const write_options& o, callback<object_ptr> done) {
  impl_->send_object("create", r.collection_path(ns) + write_query(o).str(), std::move(body_json),
                     "application/json", std::move(done));
}

void client::replace(const resource& r, const std::string& ns, const std::string& name,
                     std::string body_json, const write_options& o, callback<object_ptr> done,
                     const std::string& subresource) {
  impl_->send_object("update", r.item_path(ns, name, subresource) + write_query(o).str(),
                     std::move(body_json), "application/json", std::move(done));
}

void client::patch(const resource& r, const std::string& ns, const std::string& name,
                   patch_kind kind, std::string body, const write_options& o,
                   callback<object_ptr> done, const std::string& subresource) {
  write_options wo = o;
  // Server-side apply requires a field manager; name ourselves when the caller did not.
  if (kind == patch_kind::apply && wo.field_manager.empty())
    wo.field_manager = impl_->options.user_agent;
  query q = write_query(wo);
  if (kind == patch_kind::apply && o.force) q.add("force", "true");  // refused for other kinds
  impl_->send_object("patch", r.item_path(ns, name, subresource) + q.str(), std::move(body),
                     patch_content_type(kind), std::move(done));
}

void client::remove(const resource& r, const std::string& ns, const std::string& name,
                    const delete_options& o, callback<object_ptr> done) {
  impl_->send_for<object_ptr>("delete", r.item_path(ns, name), delete_options_json(o),
                              "application/json", std::move(done),
                              [](const reply& rep, const std::string& what) -> result<object_ptr> {
                                auto obj = object_from(rep, what);
                                // An immediate delete answers with a Status of Success, not with
                                // the object.
                                if (obj && json::get_string(*obj.value(), "kind") == "Status")
                                  return object_ptr();
                                return obj;
                              });
}

std::shared_ptr<stream_handle> client::watch(const resource& r, const std::string& ns,
                                             const watch_options& o,
                                             std::function<void(std::string_view line)> on_line,
                                             std::function<void(std::optional<api_error>)> on_end,
                                             std::function<void()> on_open) {
  auto g = impl_->snapshot();
  auto token = impl::token_for(*g);
  auto stream =
      std::make_shared<watch_stream>(std::move(on_line), std::move(on_end), std::move(on_open),
                                     token ? token.value() : std::string());
  {
    std::lock_guard lock(impl_->mutex);
    auto& ws = impl_->watches;
    ws.erase(std::remove_if(ws.begin(), ws.end(), [](auto& w) { return w.expired(); }), ws.end());
    ws.push_back(stream);
  }
  if (!token) {
    stream->fail(token.error());
    return stream;
  }
  query q;
  q.add("watch", "1");
  if (o.allow_bookmarks) q.add("allowWatchBookmarks", "true");
  q.add_if("labelSelector", o.label_selector);
  q.add_if("fieldSelector", o.field_selector);
  q.add_if("resourceVersion", o.resource_version);
  int server_timeout = o.timeout_seconds > 0 ? o.timeout_seconds : watch_timeout_when_unset;
  if (o.timeout_seconds > 0) q.add("timeoutSeconds", std::to_string(o.timeout_seconds));
  try {
    // cpprest's timeout is an idle timeout: a server silent past its own timeoutSeconds plus a
    // margin means the connection is dead.
    auto http = make_http_client(
        g->settings, std::chrono::seconds(server_timeout) + watch_idle_margin, g->tls_context);
    stream->start(std::move(http),
                  make_request("GET", r.collection_path(ns) + q.str(), token.value(),
                               impl_->options.user_agent),
                  impl_->options.on_request, g->tls);
  } catch (...) {
    stream->fail(error_of(std::current_exception(), token.value()));
  }
  return stream;
}

}  // namespace k8s
