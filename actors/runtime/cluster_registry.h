// The connections to every configured cluster, shared by all the actors that use a cluster.
// Each configured cluster has exactly one k8s::client, handed out at once and never replaced:
// until its credentials load, its requests fail at once (unreachable, with the load error), and
// it switches in place when credentials load or change. So a watcher or writer spawned before
// the credentials existed starts working at its next retry, without being respawned.
//
// Credentials are read again: on refresh() (the host calls it on its file watch and on SIGHUP),
// after a 401 from the API server, and, while they cannot be loaded, with backoff. Each cluster's
// state is logged and exported (operator_cluster_credentials_loaded{cluster}).
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "actors/runtime/config.h"
#include "k8s/api/client.h"
#include "k8s/base/backoff.h"
#include "k8s/base/timer_service.h"

namespace runtime {

struct cluster_connection {
  cluster_source source;
  std::shared_ptr<k8s::client> client;  // never null
  std::string error;                    // why the credentials are not loaded; "" when they are
};

struct registry_options {
  // The `controller` label of its clients' request metrics: the controllers sharing them.
  std::string controller;
  // Retries of credentials that cannot be loaded.
  k8s::backoff_policy retry{std::chrono::milliseconds(500), std::chrono::milliseconds(15000), 2.0,
                            0.2, std::chrono::milliseconds(120000)};
};

class cluster_registry : public std::enable_shared_from_this<cluster_registry> {
 public:
  static std::shared_ptr<cluster_registry> create(registry_options o = {});
  ~cluster_registry();

  // The cluster's connection; the first call for a name reads the source and makes the client
  // (a bad source is kept with its error, and retried), later calls return the same client
  // (after an update() when the source differs).
  cluster_connection connect(const cluster_source& source);
  // A changed source for a known cluster (or a new one): its client moves to the new settings
  // (new requests use them, open watches keep going); false with `error` when they cannot be
  // read, and the old ones keep working.
  bool update(const cluster_source& source, std::string& error);
  std::shared_ptr<k8s::client> client(const std::string& name) const;
  std::shared_ptr<k8s::timer_service> timers() const { return timers_; }
  void remove(const std::string& name);

  // Reads every cluster's credentials again; a client whose settings changed switches to them.
  void refresh_all(const std::string& why);
  void refresh(const std::string& name, const std::string& why);

  // Credentials loaded, and the last request answered by the API server (not 401/403, not a
  // transport failure). False for an unknown cluster.
  bool readable(const std::string& name) const;
  // "" when the cluster's credentials are loaded.
  std::string error(const std::string& name) const;
  // [{"name","credentials":"loaded"|"failing","error","attempts","readable"}] in name order.
  std::string json() const;

 private:
  struct entry {
    cluster_source source;
    std::shared_ptr<k8s::client> client;
    std::string error;
    bool loaded = false;
    bool answered = false;     // the last request got an answer it could read
    int attempts = 0;          // failed loads in a row
    std::string reload_error;  // last failure to read loaded credentials again (logged once)
    k8s::backoff retry;
    k8s::timer_service::cancel_flag pending;
    std::chrono::steady_clock::time_point last_401_refresh{};
    explicit entry(const k8s::backoff_policy& p) : retry(p) {}
  };

  explicit cluster_registry(registry_options o);
  std::function<void(const k8s::request_record&)> observer(const std::string& name);
  // Loads `source` and applies it to the entry; schedules a retry when it cannot be loaded.
  bool load(const std::string& name, const cluster_source& source, const std::string& why,
            std::string& error);

  registry_options options_;
  mutable std::mutex mutex_;
  std::map<std::string, std::unique_ptr<entry>> clusters_;
  std::shared_ptr<k8s::timer_service> timers_;
};

}  // namespace runtime
