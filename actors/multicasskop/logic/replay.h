// Re-running a journal through the state machine, as `multi-casskop replay` does: the decisions
// each event led to. Pure: the caller reads the lines.
#pragma once

#include <memory>
#include <vector>

#include "actors/multicasskop/logic/state_machine.h"

namespace mc {

class journal_replay {
 public:
  explicit journal_replay(machine_options o = {}) : options_(o), machine_(new state_machine(o)) {}

  // The commands decided after `e`: what the operator issued then. A command_issued is folded
  // and decides nothing. A journal written before issuance was journaled has each decision
  // issued before the next event, as the operator did.
  std::vector<command> feed(const event& e);
  // A new run of the operator begins: an empty state.
  void restart() { machine_ = std::make_unique<state_machine>(options_); }
  const state_machine& machine() const { return *machine_; }

 private:
  machine_options options_;
  std::unique_ptr<state_machine> machine_;
};

}  // namespace mc
