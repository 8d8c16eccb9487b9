// The admin HTTP endpoint: health and readiness probes, Prometheus metrics, the configuration
// (secrets redacted) and whatever routes the controllers serve. 127.0.0.1 unless configured
// otherwise. An optional bearer token guards every route but the probes (/healthz, /readyz),
// which the kubelet calls without one; the token can be replaced while running.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "actors/runtime/controller.h"

namespace runtime {

struct admin_settings {
  std::string address;  // host:port
  std::string token;    // "" = no authentication
  std::function<std::string()> config_json;
  std::function<admin_reply()> readyz;
  // The controllers' routes: whether a path is one of theirs, and its answer.
  std::function<bool(const std::string& path)> serves;
  std::function<admin_reply(const std::string& path)> route;
};

class admin_server {
 public:
  explicit admin_server(admin_settings s);
  ~admin_server();
  // Binds; throws std::runtime_error naming the address when it cannot.
  void start();
  void stop();
  // host:port it listens on (the real port when the configured one was 0).
  std::string address() const;
  // A rotated token: the old one is refused from now on.
  void set_token(std::string token);

  struct impl;

 private:
  std::unique_ptr<impl> impl_;
};

}  // namespace runtime
