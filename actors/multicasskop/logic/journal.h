// The journal's codec: every event as one JSON line (full, for `multi-casskop replay`), one-line
// summaries of events and commands, and the short summaries per MultiCasskop kept in memory
// (bounded) for the admin endpoint. Pure: the file writer is actors/multicasskop/journal_file.h.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "messages/multicasskop/commands.h"
#include "messages/multicasskop/events.h"

namespace mc {

// One JSON line per event, with whole objects: decode_event(encode_event(e)) == e.
std::string encode_event(const event& e);
// Throws std::runtime_error naming what is wrong with the line.
event decode_event(std::string_view line);

// One-line JSON summaries, for logs, the admin endpoint and replay output.
std::string summarize_event(const event& e);
std::string summarize_command(const command& c);

// The last events of each MultiCasskop, as summaries, at most `per_multicasskop_limit` each.
class journal {
 public:
  explicit journal(size_t per_multicasskop_limit) : limit_(per_multicasskop_limit) {}

  void record(const event& e, const std::vector<mc_key>& concerned);
  const std::deque<std::string>* recent(const mc_key& key) const;
  void forget(const mc_key& key) { recent_.erase(key); }
  size_t size() const;  // summaries kept in memory

 private:
  size_t limit_;
  std::map<mc_key, std::deque<std::string>> recent_;
};

}  // namespace mc
