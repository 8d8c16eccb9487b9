// The actor messages: one atom per intent (CAF 0.17 atoms are at most 10 characters). Include
// only in actor code: it pulls in CAF.
#pragma once

#include <caf/all.hpp>

#include "messages/multicasskop/commands.h"
#include "messages/multicasskop/events.h"

namespace mc {

using event_atom = caf::atom_constant<caf::atom("event")>;        // (event_atom, event_body)
using state_atom = caf::atom_constant<caf::atom("state")>;        // ask for a JSON picture
using changes_atom = caf::atom_constant<caf::atom("changes")>;    // watch changes are waiting
using clusters_atom = caf::atom_constant<caf::atom("clusters")>;  // ask for the clusters
using stop_atom = caf::atom_constant<caf::atom("stop")>;
using actors_atom = caf::atom_constant<caf::atom("actors")>;  // ask for the actors as JSON
using reload_atom = caf::atom_constant<caf::atom("reload")>;  // (reload_atom, the new config)

}  // namespace mc

// Local messages only: these types never cross a process boundary, so CAF need not
// serialize them.
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(mc::event_body)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(mc::command)
