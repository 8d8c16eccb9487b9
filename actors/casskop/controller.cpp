#include "actors/casskop/controller.h"

#include <optional>

#include "actors/casskop/config.h"
#include "actors/casskop/reconciler.h"
#include "actors/runtime/controller_ask.h"
#include "k8s/json/json.h"
#include "messages/casskop/atoms.h"

namespace casskop {
namespace js = k8s::json;
using runtime::admin_reply;

namespace {

class casskop_controller : public runtime::controller {
 public:
  std::string name() const override { return "casskop"; }

  caf::actor start(const runtime::controller_context& ctx,
                   const runtime::host_config& config) override {
    system_ = &ctx.system;
    return spawn_reconciler(ctx.system,
                            {dynamic_cast<const casskop_config&>(config), ctx.registry});
  }

  void reload(const caf::actor& root, const runtime::host_config& config) override {
    caf::anon_send(root, reload_atom::value, dynamic_cast<const casskop_config&>(config));
  }

  std::string not_ready(const caf::actor& root) override {
    auto why = ask(root, ready_atom::value);
    if (!why) return "the reconciler is not answering";
    return *why;
  }

  bool serves(const std::string& path) const override {
    return path == "/actors" || path == "/cassandraclusters";
  }

  admin_reply route(const caf::actor& root, const std::string& path) override {
    auto s = path == "/actors" ? ask(root, actors_atom::value) : ask(root, clusters_atom::value);
    return s ? admin_reply{200, *s} : runtime::admin_error(503, "the reconciler is not answering");
  }

 private:
  template <class... Ts>
  std::optional<std::string> ask(const caf::actor& root, Ts... xs) {
    return runtime::ask_string(system_, root, xs...);
  }

  caf::actor_system* system_ = nullptr;
};

}  // namespace

std::unique_ptr<runtime::controller> make_casskop_controller() {
  return std::make_unique<casskop_controller>();
}

}  // namespace casskop
