#include "k8s/api/token_source.h"

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace k8s {
namespace {

// A token is a few kB; anything far larger is not a token file.
constexpr size_t max_token_size = 1024 * 1024;
// File times tick coarsely (a few ms), so two same-size writes within one tick look unchanged;
// re-reading now and then bounds how long such a change can go unseen.
constexpr auto forced_reread = std::chrono::seconds(60);

long long ns(const struct timespec& t) {
  return t.tv_sec * 1000000000LL + t.tv_nsec;
}

std::string trim(const std::string& s) {
  const char* ws = " \t\r\n\v\f";
  auto begin = s.find_first_not_of(ws);
  if (begin == std::string::npos) return "";
  return s.substr(begin, s.find_last_not_of(ws) - begin + 1);
}

}  // namespace

bool token_source::file_key::operator==(const file_key& o) const {
  return dev == o.dev && ino == o.ino && size == o.size && mtime_ns == o.mtime_ns &&
         ctime_ns == o.ctime_ns;
}

token_source::token_source(const connection_settings& settings)
    : path_(settings.token_file), token_(settings.token) {
  if (!path_.empty()) reload_locked();  // no other thread can see us yet
}

std::string token_source::current() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (path_.empty()) return token_;
  struct stat st {};
  bool changed = true;
  if (have_key_ && ::stat(path_.c_str(), &st) == 0) {
    file_key k{st.st_dev, st.st_ino, st.st_size, ns(st.st_mtim), ns(st.st_ctim)};
    changed = !(k == key_) || std::chrono::steady_clock::now() - last_read_ >= forced_reread;
  }
  if (changed) reload_locked();
  return token_;
}

std::string token_source::last_error() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return error_;
}

// Opens, fstats and reads the same descriptor, so the key recorded is that of the content read
// even if a rename lands in between. On any failure the key is dropped: the next call retries.
void token_source::reload_locked() {
  have_key_ = false;
  int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    error_ = "token file " + path_ + ": " + std::strerror(errno);
    return;
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    error_ = "token file " + path_ + ": not a regular file";
    return;
  }
  std::string content;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      error_ = "token file " + path_ + ": " + std::strerror(errno);
      ::close(fd);
      return;
    }
    if (n == 0) break;
    content.append(buf, static_cast<size_t>(n));
    if (content.size() > max_token_size) {
      error_ = "token file " + path_ + ": larger than " + std::to_string(max_token_size) + " bytes";
      ::close(fd);
      return;
    }
  }
  ::close(fd);
  std::string token = trim(content);
  if (token.empty()) {
    // Typically a writer that truncated and has not written yet.
    error_ = "token file " + path_ + " is empty";
    return;
  }
  token_ = std::move(token);
  error_.clear();
  key_ = {st.st_dev, st.st_ino, st.st_size, ns(st.st_mtim), ns(st.st_ctim)};
  have_key_ = true;
  last_read_ = std::chrono::steady_clock::now();
}

}  // namespace k8s
