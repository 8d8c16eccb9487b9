// The journal file: every event as a JSON line (actors/multicasskop/logic/journal.h encodes
// them), for `multi-casskop replay`. Once it would grow past max_bytes it is renamed PATH.1
// (PATH.1 to PATH.2 and so on; PATH.<max_files-1> is dropped) and a new PATH begins with a
// snapshot of the world.
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "messages/multicasskop/events.h"

namespace mc {

struct journal_file_options {
  std::string path;  // "" = no file
  uint64_t max_bytes = 32ull << 20;
  int max_files = 4;  // PATH and up to max_files-1 older ones
};

// What the state machine knows now, as the events that would rebuild it (see event::snapshot).
using snapshot_source = std::function<std::vector<event_body>()>;

// The journal files of `path`, oldest first: PATH.<n> ... PATH.1, PATH (those that exist).
std::vector<std::string> journal_files(const std::string& path);

class journal_file {
 public:
  journal_file() = default;
  ~journal_file();
  journal_file(const journal_file&) = delete;
  journal_file& operator=(const journal_file&) = delete;

  // Appends every event to o.path (JSON lines), rotating as said above; an empty path stops.
  // Throws on an unwritable path.
  void open(const journal_file_options& o, snapshot_source snapshot = {});
  void record(const event& e);

 private:
  void write_line(const std::string& line);
  void rotate(const event& next);

  journal_file_options options_;
  snapshot_source snapshot_;
  std::FILE* file_ = nullptr;
  uint64_t written_ = 0;  // bytes in the current file
};

}  // namespace mc
