#include "actors/casskop/jolokia_client.h"

#include <cerrno>

#include <cpprest/http_client.h>

#include "k8s/json/base64.h"

namespace casskop {
namespace hc = web::http::client;
namespace http = web::http;

namespace {

jolokia::http_reply transport_failure(jolokia::failure kind, std::string message) {
  jolokia::http_reply r;
  r.transport.kind = kind;
  r.transport.message = std::move(message);
  return r;
}

// What a failed cpprest task means: the agent is down (refused, reset), silent (timeout), or
// the network failed otherwise. cpprest's messages never hold the Authorization header.
jolokia::http_reply failure_of(std::exception_ptr failure, std::chrono::milliseconds limit) {
  try {
    std::rethrow_exception(failure);
  } catch (const http::http_exception& e) {
    const auto& code = e.error_code();
    if (code == std::errc::timed_out || code.value() == ETIMEDOUT)
      return transport_failure(jolokia::failure::timeout,
                               "no answer in " + std::to_string(limit.count() / 1000) + " s");
    // Nobody at the address: refused, reset, or (as some sandboxes answer for a closed loopback
    // port, and a deleted pod's IP does) no route to the host.
    if (code.value() == ECONNREFUSED || code.value() == ECONNRESET ||
        code.value() == EHOSTUNREACH || code.value() == ECONNABORTED)
      return transport_failure(jolokia::failure::refused, e.what());
    return transport_failure(
        jolokia::failure::transport,
        std::string(e.what()) + " (" + code.message() + ", " + std::to_string(code.value()) + ")");
  } catch (const std::exception& e) {
    return transport_failure(jolokia::failure::transport, e.what());
  } catch (...) {
    return transport_failure(jolokia::failure::transport, "unknown failure");
  }
}

void call_safely(const jolokia_client::callback& done, jolokia::http_reply r) {
  try {
    done(std::move(r));
  } catch (...) {
    // A callback that throws must not take cpprest's pool thread down; callers post messages.
  }
}

}  // namespace

jolokia_client::jolokia_client(jolokia_client_options o)
    : timeout_ms_(o.timeout.count()), exec_timeout_ms_(o.exec_timeout.count()) {}

jolokia_client_options jolokia_client::options() const {
  jolokia_client_options o;
  o.timeout = std::chrono::milliseconds(timeout_ms_.load());
  o.exec_timeout = std::chrono::milliseconds(exec_timeout_ms_.load());
  return o;
}

void jolokia_client::set_options(const jolokia_client_options& o) {
  timeout_ms_ = o.timeout.count();
  exec_timeout_ms_ = o.exec_timeout.count();
}

void jolokia_client::call(const std::string& host, const jolokia::request& r,
                          const std::optional<jolokia::credentials>& auth, callback done) const {
  const auto limit =
      std::chrono::milliseconds(r.long_running ? exec_timeout_ms_.load() : timeout_ms_.load());
  std::shared_ptr<hc::http_client> client;
  try {
    hc::http_client_config cfg;
    // cpprest's timeout is an idle one: a blocking EXEC sends nothing until it is done, so its
    // whole duration must fit in it; a hanging agent (accepts, never answers) hits it.
    cfg.set_timeout(limit);
    // One client per call: nodes are few, calls are seconds apart, and a pod's IP may change
    // between two calls; nothing is pooled across pods.
    client = std::make_shared<hc::http_client>(jolokia::url(host), cfg);
  } catch (const std::exception& e) {
    call_safely(done, transport_failure(jolokia::failure::transport,
                                        "bad address " + host + ": " + e.what()));
    return;
  }
  http::http_request req(http::methods::POST);
  req.set_request_uri("");
  req.set_body(r.body, "application/json");
  if (auth)
    req.headers().add(http::header_names::authorization,
                      "Basic " + k8s::base64_encode(auth->user + ":" + auth->password));
  client->request(req)
      .then([](http::http_response resp) {
        const int status = resp.status_code();
        return resp.extract_utf8string(true).then([status](std::string body) {
          jolokia::http_reply out;
          out.status = status;
          out.body = std::move(body);
          return out;
        });
      })
      .then([client, done, limit](pplx::task<jolokia::http_reply> t) {
        jolokia::http_reply out;
        try {
          out = t.get();
        } catch (...) {
          out = failure_of(std::current_exception(), limit);
        }
        call_safely(done, std::move(out));
      });
}

}  // namespace casskop
