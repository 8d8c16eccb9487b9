// multi-casskop as a controller of the runtime host: starts the supervisor (supervisor.h) with
// the configuration, hands it reloads, and answers the admin routes /actors, /clusters,
// /multicasskops and /multicasskops/NS/NAME from its state.
#pragma once

#include <memory>

#include "actors/runtime/controller.h"

namespace mc {

std::unique_ptr<runtime::controller> make_multicasskop_controller();

}  // namespace mc
