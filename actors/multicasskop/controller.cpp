#include "actors/multicasskop/controller.h"

#include <optional>

#include <fmt/format.h>

#include "actors/multicasskop/config.h"
#include "actors/multicasskop/supervisor.h"
#include "actors/runtime/controller_ask.h"
#include "k8s/http/url_path.h"
#include "k8s/json/json.h"
#include "messages/atoms.h"

namespace mc {
namespace js = k8s::json;
using runtime::admin_reply;

namespace {

using k8s::http::split_path;

class multicasskop_controller : public runtime::controller {
 public:
  std::string name() const override { return "multicasskop"; }

  caf::actor start(const runtime::controller_context& ctx,
                   const runtime::host_config& config) override {
    system_ = &ctx.system;
    return spawn_supervisor(ctx.system,
                            {dynamic_cast<const operator_config&>(config), ctx.registry});
  }

  void reload(const caf::actor& root, const runtime::host_config& config) override {
    caf::anon_send(root, reload_atom::value, dynamic_cast<const operator_config&>(config));
  }

  std::string not_ready(const caf::actor& root) override {
    auto clusters = ask(root, clusters_atom::value);
    if (!clusters) return "the supervisor is not answering";
    auto d = js::parse(*clusters);
    std::string waiting;
    // Waiting: listing, or not heard of yet. An unreachable cluster (it has an error) does not
    // hold readiness back: the operator serves the others.
    for (const auto& c : d.GetArray())
      if (!js::get_bool(c, {"synced"}, false) && js::get_string(c, "error").empty())
        waiting += (waiting.empty() ? "" : ",") + std::string(js::get_string(c, "name"));
    return waiting.empty() ? "" : "first list not in yet: " + waiting;
  }

  bool serves(const std::string& path) const override {
    const auto parts = split_path(path);
    return path == "/actors" || path == "/clusters" ||
           (!parts.empty() && parts[0] == "multicasskops" && parts.size() <= 3 &&
            parts.size() != 2);
  }

  admin_reply route(const caf::actor& root, const std::string& path) override {
    const auto parts = split_path(path);
    if (path == "/actors") {
      auto s = ask(root, actors_atom::value);
      return s ? admin_reply{200, *s}
               : runtime::admin_error(503, "the supervisor is not answering");
    }
    if (parts.size() == 3) {
      auto s = ask(root, state_atom::value, parts[1], parts[2]);
      if (!s) return runtime::admin_error(503, "the supervisor is not answering");
      if (s->empty())
        return runtime::admin_error(404, "no MultiCasskop " + parts[1] + "/" + parts[2]);
      return {200, *s};
    }
    if (path == "/clusters") {
      auto s = ask(root, clusters_atom::value);
      return s ? admin_reply{200, *s}
               : runtime::admin_error(503, "the supervisor is not answering");
    }
    auto s = ask(root, state_atom::value);
    if (!s) return runtime::admin_error(503, "the supervisor is not answering");
    auto d = js::parse(*s);
    return {200, js::to_string(d["multicasskops"])};
  }

 private:
  template <class... Ts>
  std::optional<std::string> ask(const caf::actor& root, Ts... xs) {
    return runtime::ask_string(system_, root, xs...);
  }

  caf::actor_system* system_ = nullptr;
};

}  // namespace

std::unique_ptr<runtime::controller> make_multicasskop_controller() {
  return std::make_unique<multicasskop_controller>();
}

}  // namespace mc
