// The connections to every configured cluster, shared by its watcher and its deployers.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "actors/config.h"
#include "k8s/api/client.h"
#include "k8s/base/timer_service.h"

namespace mc {

struct cluster_connection {
  cluster_source source;
  std::shared_ptr<k8s::client> client;  // null when the source could not be read
  std::string error;                    // why not
};

class cluster_registry {
 public:
  cluster_registry() : timers_(std::make_shared<k8s::timer_service>()) {}
  // Reads the source and builds a client; a bad source is kept with its error, not thrown.
  const cluster_connection& connect(const cluster_source& source);
  // A changed source for a known cluster: its client moves to the new settings (new requests
  // use them, open watches keep going); true when it could be read.
  bool update(const cluster_source& source, std::string& error);
  std::shared_ptr<k8s::client> client(const std::string& name) const;
  std::shared_ptr<k8s::timer_service> timers() const { return timers_; }
  void remove(const std::string& name);

 private:
  mutable std::mutex mutex_;
  std::map<std::string, cluster_connection> clusters_;
  std::shared_ptr<k8s::timer_service> timers_;
};

}  // namespace mc
