// casskop's actor messages: one atom per intent (CAF 0.17 atoms are at most 10 characters).
// Include only in actor code: it pulls in CAF.
#pragma once

#include <caf/all.hpp>

namespace casskop {

using changes_atom = caf::atom_constant<caf::atom("changes")>;  // watch changes are waiting
using retry_atom = caf::atom_constant<caf::atom("retry")>;      // (retry_atom, cluster name)
using clusters_atom = caf::atom_constant<caf::atom("ccs")>;     // ask: /cassandraclusters JSON
using ready_atom = caf::atom_constant<caf::atom("ready")>;      // ask: "" when ready, else why
using actors_atom = caf::atom_constant<caf::atom("actors")>;    // ask: the children as JSON
using reload_atom = caf::atom_constant<caf::atom("reload")>;    // (reload_atom, the new config)
using health_atom = caf::atom_constant<caf::atom("health")>;    // (health_atom, synced, error)
using respawn_atom = caf::atom_constant<caf::atom("respawn")>;  // (respawn_atom, role)
// (probe_atom, cluster name, generation): ask the cluster's nodes over Jolokia (a generation
// superseded by a later request is ignored).
using probe_atom = caf::atom_constant<caf::atom("probe")>;

}  // namespace casskop

// Pod operations (actors/casskop/pod_operations_runner.h).
namespace casskop {
using pod_op_start_atom = caf::atom_constant<caf::atom("popstart")>;  // run/resume a job
using pod_op_done_atom = caf::atom_constant<caf::atom("popdone")>;    // a job ended
using pod_op_step_atom = caf::atom_constant<caf::atom("popstep")>;    // runner: an answer came
using pod_op_tick_atom = caf::atom_constant<caf::atom("poptick")>;    // runner: a pause ended
}  // namespace casskop
