// casskop as a controller of the runtime host: starts the reconciler (reconciler.h) with the
// configuration, hands it reloads, and answers the admin routes /actors and /cassandraclusters
// from its state.
#pragma once

#include <memory>

#include "actors/runtime/controller.h"

namespace casskop {

std::unique_ptr<runtime::controller> make_casskop_controller();

}  // namespace casskop
