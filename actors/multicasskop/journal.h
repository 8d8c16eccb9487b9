// The supervisor's journal: every event as a JSON line (full, for `multi-casskop replay`), and
// a short summary per MultiCasskop kept in memory (bounded) for the admin endpoint.
#pragma once

#include <cstdio>
#include <deque>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "messages/commands.h"
#include "messages/events.h"

namespace mc {

// One JSON line per event, with whole objects: decode_event(encode_event(e)) == e.
std::string encode_event(const event& e);
// Throws std::runtime_error naming what is wrong with the line.
event decode_event(std::string_view line);

// One-line JSON summaries, for logs, the admin endpoint and replay output.
std::string summarize_event(const event& e);
std::string summarize_command(const command& c);

class journal {
 public:
  explicit journal(size_t per_multicasskop_limit) : limit_(per_multicasskop_limit) {}
  ~journal();
  journal(const journal&) = delete;
  journal& operator=(const journal&) = delete;

  // Appends every event to `path` (JSON lines); "" stops. Throws on an unwritable path.
  void open_file(const std::string& path);
  void record(const event& e, const std::vector<mc_key>& concerned);
  const std::deque<std::string>* recent(const mc_key& key) const;
  void forget(const mc_key& key) { recent_.erase(key); }
  size_t size() const;  // summaries kept in memory

 private:
  size_t limit_;
  std::map<mc_key, std::deque<std::string>> recent_;
  std::FILE* file_ = nullptr;
};

}  // namespace mc
