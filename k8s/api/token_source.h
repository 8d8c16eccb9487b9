// The bearer token for a connection, following rotations: a token file (the kubelet's projected
// service-account token, a kubemcsa secret mount) is replaced while we run, and every request
// must use the current content.
#pragma once

#include <chrono>
#include <mutex>
#include <string>

#include <sys/types.h>

#include "k8s/api/connection.h"

namespace k8s {

class token_source {
 public:
  explicit token_source(const connection_settings& settings);

  // The token to send now. With a token file it is re-read whenever the file's identity, size or
  // times change (one stat per call, about 0.6 us: cheap next to a request, and a rotation is
  // seen at once); a missing, unreadable or empty file keeps the last good token (the settings'
  // static token before the first good read). Never throws. Thread-safe.
  std::string current();

  // Why the last read of the token file failed, "" after a good read; names the path, never the
  // token. For callers to log.
  std::string last_error() const;

 private:
  // What tells us the file changed. ctime catches in-place rewrites that keep size and mtime.
  struct file_key {
    dev_t dev = 0;
    ino_t ino = 0;
    off_t size = -1;
    long long mtime_ns = 0;
    long long ctime_ns = 0;
    bool operator==(const file_key& o) const;
  };

  void reload_locked();

  const std::string path_;
  mutable std::mutex mutex_;
  std::string token_;
  std::string error_;
  bool have_key_ = false;
  file_key key_;
  std::chrono::steady_clock::time_point last_read_{};
};

}  // namespace k8s
