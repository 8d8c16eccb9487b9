// Turns the client's "Error in SSL handshake" into why, for one settings generation. A diagnosis
// is a blocking handshake (tls_diagnosis.h), so it runs on a thread of its own, never on
// cpprest's pool and never under a lock; one runs per distinct failure and its message is reused
// for a while, so a cluster failing every request costs one handshake a minute, not one each.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "k8s/api/connection.h"
#include "k8s/api/tls_diagnosis.h"

namespace k8s {

class tls_explainer {
 public:
  using diagnose_fn =
      std::function<tls_diagnosis(const connection_settings&, const std::atomic<bool>& stop)>;
  struct options {
    std::chrono::milliseconds timeout{3000};     // of one diagnostic handshake
    std::chrono::seconds reuse{60};              // a finding about the certificate or the server
    std::chrono::seconds reuse_inconclusive{5};  // no answer, or the handshake then succeeded
    diagnose_fn diagnose;                        // default: diagnose_tls
    // Runs each `done`; default: on the explainer's thread. The client posts to its I/O pool.
    std::function<void(std::function<void()>)> post;
  };

  // Tokens are dropped from `s`: a diagnosis has no use for them.
  explicit tls_explainer(connection_settings s, options o);
  explicit tls_explainer(connection_settings s) : tls_explainer(std::move(s), options{}) {}
  // Stops the thread (a diagnosis in progress gives up within ~0.1 s); explanations still
  // pending complete without a diagnosis.
  ~tls_explainer();
  tls_explainer(const tls_explainer&) = delete;
  tls_explainer& operator=(const tls_explainer&) = delete;

  // `done` gets the message for a handshake that failed with `transport_message` (and
  // `transport_code`, which together tell distinct failures apart), once, through `post`.
  void explain(const std::string& transport_message, int transport_code,
               std::function<void(std::string message)> done);

  size_t diagnoses_run() const;  // for tests

  struct state;

 private:
  std::shared_ptr<state> state_;
};

}  // namespace k8s
