#include "actors/multicasskop/logic/replay.h"

namespace mc {

std::vector<command> journal_replay::feed(const event& e) {
  if (std::holds_alternative<command_issued>(e.body)) {
    machine_->evolve(e);
    return {};
  }
  for (const auto& c : machine_->decide())  // not issued in the journal: an older journal
    machine_->evolve(event{e.seq, e.at_ms, issuance_of(c)});
  machine_->evolve(e);
  return machine_->decide();
}

}  // namespace mc
