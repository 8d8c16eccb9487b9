#include "actors/multicasskop/journal_file.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include "actors/multicasskop/logic/journal.h"

namespace mc {

journal_file::~journal_file() {
  if (file_) std::fclose(file_);
}

std::vector<std::string> journal_files(const std::string& path) {
  std::vector<std::string> out;
  std::error_code ec;
  for (int i = 1; std::filesystem::exists(path + "." + std::to_string(i), ec); ++i)
    out.insert(out.begin(), path + "." + std::to_string(i));
  if (std::filesystem::exists(path, ec)) out.push_back(path);
  return out;
}

void journal_file::open(const journal_file_options& o, snapshot_source snapshot) {
  if (file_) std::fclose(file_);
  file_ = nullptr;
  options_ = o;
  snapshot_ = std::move(snapshot);
  if (o.path.empty()) return;
  file_ = std::fopen(o.path.c_str(), "a");
  if (!file_)
    throw std::runtime_error("cannot open journal file " + o.path + ": " + std::strerror(errno));
  std::error_code ec;
  written_ = std::filesystem::file_size(o.path, ec);
  if (ec) written_ = 0;
}

void journal_file::write_line(const std::string& line) {
  std::fwrite(line.data(), 1, line.size(), file_);
  written_ += line.size();
}

// PATH becomes PATH.1 (older ones move up, the oldest beyond max_files goes), and the new PATH
// starts with the world as the state machine knows it before `next`.
void journal_file::rotate(const event& next) {
  namespace fs = std::filesystem;
  std::fclose(file_);
  file_ = nullptr;
  const std::string& path = options_.path;
  std::error_code ec;
  const int keep = std::max(1, options_.max_files);
  fs::remove(path + "." + std::to_string(keep - 1), ec);
  for (int i = keep - 2; i >= 1; --i)
    fs::rename(path + "." + std::to_string(i), path + "." + std::to_string(i + 1), ec);
  if (keep > 1)
    fs::rename(path, path + ".1", ec);
  else
    fs::remove(path, ec);
  file_ = std::fopen(path.c_str(), "w");
  written_ = 0;
  if (!file_) return;  // a full or read-only disk: the journal stops, the operator goes on
  if (snapshot_)
    for (auto& body : snapshot_())
      write_line(encode_event(event{0, next.at_ms, std::move(body), true}) + '\n');
}

void journal_file::record(const event& e) {
  if (!file_) return;
  const std::string line = encode_event(e) + '\n';
  if (written_ > 0 && written_ + line.size() > options_.max_bytes) rotate(e);
  if (file_) {
    write_line(line);
    std::fflush(file_);
  }
}

}  // namespace mc
