// A small synchronous HTTP client for tests, on cpprestsdk (the project's HTTP client library):
// plain requests with full control over method, headers and body, and line-by-line watches.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "k8s/json/json.h"

namespace testsupport {

struct http_reply {
  int status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // lower-case names
  k8s::json::Document json() const { return k8s::json::parse(body); }
};

struct client_options {
  std::string base_url;
  std::string token;          // Bearer token; empty: none
  std::string ca_pem;         // trusted CA; empty with https: verification off
  std::string client_cert_pem, client_key_pem;
  std::chrono::seconds timeout{30};
};

// Lines of a streaming response, read on a background thread.
class line_stream {
 public:
  virtual ~line_stream() = default;
  virtual int status() const = 0;
  // The next line, or nullopt when none arrives within `timeout` or the stream ended.
  virtual std::optional<std::string> next(std::chrono::milliseconds timeout) = 0;
  virtual bool ended() const = 0;  // the server finished the body (or the connection broke)
  virtual void cancel() = 0;
};

class api_client {
 public:
  explicit api_client(client_options o);
  ~api_client();
  http_reply request(const std::string& method, const std::string& path, const std::string& body = "",
                     const std::string& content_type = "application/json",
                     const std::map<std::string, std::string>& headers = {});
  http_reply get(const std::string& path) { return request("GET", path); }
  // Throws std::runtime_error with cpprest's message if the connection or TLS fails.
  std::unique_ptr<line_stream> stream(const std::string& path,
                                      const std::map<std::string, std::string>& headers = {});

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace testsupport
