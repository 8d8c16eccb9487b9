#include "actors/runtime/admin_server.h"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <mutex>
#include <thread>

#include "k8s/base/metrics.h"
#include "k8s/http/http_server.h"
#include "k8s/json/json.h"

namespace runtime {
namespace js = k8s::json;
using k8s::http::response;

namespace {

response json_reply(int status, std::string body) {
  return {status, "application/json", std::move(body), {}};
}

response error_reply(int status, const std::string& message) {
  js::Document d(rapidjson::kObjectType);
  d.AddMember("error", js::string_value(message, d.GetAllocator()), d.GetAllocator());
  return json_reply(status, js::to_string(d));
}

}  // namespace

struct admin_server::impl {
  admin_settings settings;
  boost::asio::io_context io;
  std::unique_ptr<k8s::http::listener> listener;
  std::thread thread;
  mutable std::mutex mutex;  // guards settings.token

  explicit impl(admin_settings a) : settings(std::move(a)) {}

  bool authorized(const k8s::http::request& r) const {
    std::lock_guard lock(mutex);
    return settings.token.empty() || r.header("Authorization") == "Bearer " + settings.token;
  }

  response handle(const k8s::http::request& r);
};

response admin_server::impl::handle(const k8s::http::request& r) {
  // The probes carry no secret and the kubelet sends no token: open whatever the auth.
  const bool probe = r.path == "/healthz" || r.path == "/readyz";
  if (!probe && !authorized(r)) return error_reply(401, "missing or wrong bearer token");
  if (r.method != "GET")
    return {405, "application/json", R"({"error":"only GET is served"})", {{"Allow", "GET"}}};
  if (r.path == "/healthz") return json_reply(200, R"({"status":"ok"})");
  if (r.path == "/readyz") {
    auto a = settings.readyz();
    return json_reply(a.status, std::move(a.json));
  }
  if (r.path == "/metrics")
    return {200, k8s::metrics::content_type, k8s::metrics::default_registry().render(), {}};
  if (r.path == "/config") return json_reply(200, settings.config_json());
  if (!settings.serves || !settings.serves(r.path))
    return error_reply(404, "no such route: " + r.path);
  auto a = settings.route(r.path);
  return json_reply(a.status, std::move(a.json));
}

admin_server::admin_server(admin_settings s) : impl_(std::make_unique<impl>(std::move(s))) {}

admin_server::~admin_server() {
  stop();
}

void admin_server::start() {
  auto colon = impl_->settings.address.rfind(':');
  if (colon == std::string::npos)
    throw std::runtime_error("admin.address \"" + impl_->settings.address + "\" must be host:port");
  k8s::http::listener_options o;
  o.address = impl_->settings.address.substr(0, colon);
  try {
    o.port = static_cast<uint16_t>(std::stoul(impl_->settings.address.substr(colon + 1)));
  } catch (const std::exception&) {
    throw std::runtime_error("admin.address \"" + impl_->settings.address + "\" has no valid port");
  }
  o.max_body_bytes = 64 * 1024;
  impl* self = impl_.get();
  impl_->listener = std::make_unique<k8s::http::listener>(
      impl_->io, o, [self](std::shared_ptr<k8s::http::exchange> ex) {
        try {
          ex->reply(self->handle(ex->req()));
        } catch (const std::exception& e) {
          ex->reply(error_reply(500, e.what()));
        }
      });
  impl_->listener->open();
  impl_->thread = std::thread([self] {
    auto guard = boost::asio::make_work_guard(self->io);
    self->io.run();
  });
}

void admin_server::stop() {
  if (!impl_->thread.joinable()) return;
  impl_->listener->close();
  impl_->io.stop();
  impl_->thread.join();
}

std::string admin_server::address() const {
  auto url = impl_->listener ? impl_->listener->url() : std::string();
  auto scheme = url.find("://");
  return scheme == std::string::npos ? url : url.substr(scheme + 3);
}

void admin_server::set_token(std::string token) {
  std::lock_guard lock(impl_->mutex);
  impl_->settings.token = std::move(token);
}

}  // namespace runtime
