// casskop's Jolokia client: sends one request of logic/jolokia_codec.h to a node's agent at
// http://<podIP>:8778/jolokia/ over cpprestsdk (the stack k8s/api uses), with a limit per call,
// and hands the raw answer (or the transport failure, classified) to a callback. Parsing stays
// in the codec, so callers (the node prober, pod operations) decide what an answer means.
// No CAF here: actors wrap the callback into a message to themselves.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "actors/casskop/logic/jolokia_codec.h"

namespace casskop {

struct jolokia_client_options {
  // Every READ and decommission (jolokia.timeoutSeconds).
  std::chrono::milliseconds timeout{10'000};
  // Blocking EXECs, request::long_running (jolokia.execTimeoutSeconds).
  std::chrono::milliseconds exec_timeout{3'600'000};
};

class jolokia_client {
 public:
  using callback = std::function<void(jolokia::http_reply)>;
  explicit jolokia_client(jolokia_client_options o = {});

  // POSTs `r` to the agent of the node at `host` (a pod IP); basic auth when `auth` is given.
  // `done` runs exactly once, on cpprest's thread pool, within the call's limit (plus the
  // connection's teardown): refused, timeout, transport, or the HTTP status and body. It must
  // not block (post a message and return). The password is never logged nor put in an error.
  void call(const std::string& host, const jolokia::request& r,
            const std::optional<jolokia::credentials>& auth, callback done) const;

  jolokia_client_options options() const;
  // New limits for the calls sent from now on (a configuration reload); calls under way keep
  // theirs. Thread-safe.
  void set_options(const jolokia_client_options& o);

 private:
  std::atomic<int64_t> timeout_ms_, exec_timeout_ms_;
};

}  // namespace casskop
