#include "actors/admin_server.h"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <mutex>
#include <thread>

#include <fmt/format.h>

#include "k8s/http/http_server.h"
#include "k8s/json/json.h"
#include "k8s/base/metrics.h"
#include "messages/atoms.h"

namespace mc {
namespace js = k8s::json;
using k8s::http::response;

namespace {

response json_reply(int status, std::string body) { return {status, "application/json", std::move(body), {}}; }

response error_reply(int status, const std::string& message) {
  js::Document d(rapidjson::kObjectType);
  d.AddMember("error", js::string_value(message, d.GetAllocator()), d.GetAllocator());
  return json_reply(status, js::to_string(d));
}

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> parts;
  size_t i = 0;
  while (i < path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    if (j > i) parts.push_back(path.substr(i, j - i));
    i = j + 1;
  }
  return parts;
}

}  // namespace

struct admin_server::impl {
  caf::actor_system& sys;
  admin_settings settings;
  boost::asio::io_context io;
  std::unique_ptr<k8s::http::listener> listener;
  std::thread thread;
  mutable std::mutex mutex;
  caf::actor supervisor;

  impl(caf::actor_system& s, admin_settings a) : sys(s), settings(std::move(a)) {}

  caf::actor current() const {
    std::lock_guard lock(mutex);
    return supervisor;
  }

  // Asks the supervisor; "" when there is none or it does not answer in time.
  template <class... Ts>
  std::optional<std::string> ask(Ts... xs) {
    caf::actor sup = current();
    if (!sup) return std::nullopt;
    caf::scoped_actor self{sys};
    std::optional<std::string> out;
    self->request(sup, std::chrono::seconds(2), xs...)
        .receive([&](const std::string& s) { out = s; }, [&](caf::error&) {});
    return out;
  }

  response handle(const k8s::http::request& r);
};

response admin_server::impl::handle(const k8s::http::request& r) {
  if (!settings.token.empty() && r.header("Authorization") != "Bearer " + settings.token)
    return error_reply(401, "missing or wrong bearer token");
  if (r.method != "GET") return {405, "application/json", R"({"error":"only GET is served"})", {{"Allow", "GET"}}};
  const auto parts = split_path(r.path);
  const bool leading = !settings.leading || settings.leading();
  if (r.path == "/healthz") return json_reply(200, R"({"status":"ok"})");
  if (r.path == "/metrics")
    return {200, k8s::metrics::content_type, k8s::metrics::default_registry().render(), {}};
  if (r.path == "/config") return json_reply(200, settings.config_json());
  if (r.path == "/readyz") {
    // A standby replica is ready too (it takes over at once when needed); say which it is.
    if (!leading) return json_reply(200, R"({"ready":true,"leader":false})");
    auto state = ask(state_atom::value);
    if (!state) return json_reply(503, R"({"ready":false,"reason":"the supervisor is not answering"})");
    auto d = js::parse(*state);
    std::string waiting;
    // Waiting: listing, or not heard of yet. An unreachable cluster (it has an error) does not
    // hold readiness back: the operator serves the others.
    for (const auto& c : d["clusters"].GetArray())
      if (!js::get_bool(c, {"synced"}, false) && js::get_string(c, "error").empty())
        waiting += (waiting.empty() ? "" : ",") + std::string(js::get_string(c, "name"));
    if (!waiting.empty())
      return json_reply(503, fmt::format(R"({{"ready":false,"reason":"first list not in yet: {}"}})", waiting));
    return json_reply(200, fmt::format(R"({{"ready":true,"leader":{}}})", settings.leading ? "true" : "null"));
  }
  const bool known = r.path == "/actors" || r.path == "/clusters" ||
                     (!parts.empty() && parts[0] == "multicasskops" && parts.size() <= 3 && parts.size() != 2);
  if (!known) return error_reply(404, "no such route: " + r.path);
  if (!leading) return error_reply(503, "this replica is not the leader: ask the leader for its state");
  if (r.path == "/actors") {
    auto s = ask(actors_atom::value);
    return s ? json_reply(200, *s) : error_reply(503, "the supervisor is not answering");
  }
  if (parts.size() == 3) {
    auto s = ask(state_atom::value, parts[1], parts[2]);
    if (!s) return error_reply(503, "the supervisor is not answering");
    if (s->empty()) return error_reply(404, "no MultiCasskop " + parts[1] + "/" + parts[2]);
    return json_reply(200, *s);
  }
  auto s = ask(state_atom::value);
  if (!s) return error_reply(503, "the supervisor is not answering");
  auto d = js::parse(*s);
  return json_reply(200, js::to_string(d[r.path == "/clusters" ? "clusters" : "multicasskops"]));
}

admin_server::admin_server(caf::actor_system& sys, admin_settings s)
    : impl_(std::make_unique<impl>(sys, std::move(s))) {}

admin_server::~admin_server() { stop(); }

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

void admin_server::set_supervisor(const caf::actor& supervisor) {
  std::lock_guard lock(impl_->mutex);
  impl_->supervisor = supervisor;
}

}  // namespace mc
