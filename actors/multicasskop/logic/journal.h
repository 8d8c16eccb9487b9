// The journal's codec: every event as one JSON line (full, for `multi-casskop replay`), one-line
// summaries of events and commands, and the short summaries per MultiCasskop kept in memory
// (bounded) for the admin endpoint. Pure: the file writer is actors/multicasskop/journal_file.h.
#pragma once

#include <cstdint>
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
// Kept for thousands of MultiCasskops: each one's summaries are one block of text, a line each
// (a summary is one-line JSON), not a string and a deque node apiece.
class journal {
 public:
  explicit journal(size_t per_multicasskop_limit) : limit_(per_multicasskop_limit) {}

  void record(const event& e, const std::vector<mc_key>& concerned);
  // Oldest first; valid until the next record() or forget().
  std::vector<std::string_view> recent(const mc_key& key) const;
  void forget(const mc_key& key);
  size_t size() const { return size_; }  // summaries kept in memory
  size_t memory_bytes() const;  // what they take (containers and text, malloc overhead aside)

 private:
  size_t limit_;
  struct summaries {
    std::string text;  // each ending with '\n'
    size_t lines = 0;
  };
  std::map<mc_key, summaries> recent_;
  size_t size_ = 0;
};

}  // namespace mc
