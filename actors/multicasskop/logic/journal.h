// The supervisor's journal: every event as a JSON line (full, for `multi-casskop replay`), and
// a short summary per MultiCasskop kept in memory (bounded) for the admin endpoint.
#pragma once

#include <cstdint>
#include <cstdio>
#include <deque>
#include <functional>
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

// The journal file: once it would grow past max_bytes it is renamed PATH.1 (PATH.1 to PATH.2 and
// so on; PATH.<max_files-1> is dropped) and a new PATH begins with a snapshot of the world.
struct journal_file_options {
  std::string path;  // "" = no file
  uint64_t max_bytes = 32ull << 20;
  int max_files = 4;  // PATH and up to max_files-1 older ones
};

// What the state machine knows now, as the events that would rebuild it (see event::snapshot).
using snapshot_source = std::function<std::vector<event_body>()>;

// The journal files of `path`, oldest first: PATH.<n> ... PATH.1, PATH (those that exist).
std::vector<std::string> journal_files(const std::string& path);

class journal {
 public:
  explicit journal(size_t per_multicasskop_limit) : limit_(per_multicasskop_limit) {}
  ~journal();
  journal(const journal&) = delete;
  journal& operator=(const journal&) = delete;

  // Appends every event to o.path (JSON lines), rotating as said above; an empty path stops.
  // Throws on an unwritable path.
  void open_file(const journal_file_options& o, snapshot_source snapshot = {});
  void record(const event& e, const std::vector<mc_key>& concerned);
  const std::deque<std::string>* recent(const mc_key& key) const;
  void forget(const mc_key& key) { recent_.erase(key); }
  size_t size() const;  // summaries kept in memory

 private:
  void write_line(const std::string& line);
  void rotate(const event& next);

  size_t limit_;
  std::map<mc_key, std::deque<std::string>> recent_;
  journal_file_options file_options_;
  snapshot_source snapshot_;
  std::FILE* file_ = nullptr;
  uint64_t written_ = 0;  // bytes in the current file
};

}  // namespace mc
