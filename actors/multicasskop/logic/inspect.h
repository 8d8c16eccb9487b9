// A JSON picture of the supervisor's state, for the admin endpoint and for tests.
#pragma once

#include <string>

#include "actors/multicasskop/logic/journal.h"
#include "actors/multicasskop/logic/state_machine.h"

namespace mc {

// Every cluster's health and every MultiCasskop's regions; with `only`, one MultiCasskop
// including its recent journal.
std::string inspect(const state_machine& sm, const journal& j, const mc_key* only = nullptr);
// Only the clusters' health, [{"name","reachable","synced","error"}]: what /readyz asks at every
// probe, without describing every MultiCasskop.
std::string inspect_clusters(const state_machine& sm);

}  // namespace mc
