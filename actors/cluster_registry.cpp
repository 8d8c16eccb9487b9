#include "actors/cluster_registry.h"

#include "actors/runtime/client_metrics.h"

namespace mc {
namespace {

// Every client reports its requests to the operator's metrics, by cluster.
k8s::client_options client_options_for(const std::string& cluster) {
  k8s::client_options o;
  o.on_request = runtime::api_request_observer("multicasskop", cluster);
  return o;
}

}  // namespace

const cluster_connection& cluster_registry::connect(const cluster_source& source) {
  cluster_connection c;
  c.source = source;
  try {
    c.client =
        std::make_shared<k8s::client>(connect_settings(source), client_options_for(source.name));
  } catch (const k8s::config_error& e) {
    c.error = e.what();
  } catch (const std::exception& e) {
    c.error = std::string("cannot connect: ") + e.what();
  }
  std::lock_guard lock(mutex_);
  return clusters_[source.name] = std::move(c);
}

std::shared_ptr<k8s::client> cluster_registry::client(const std::string& name) const {
  std::lock_guard lock(mutex_);
  auto it = clusters_.find(name);
  return it == clusters_.end() ? nullptr : it->second.client;
}

bool cluster_registry::update(const cluster_source& source, std::string& error) {
  k8s::connection_settings settings;
  try {
    settings = connect_settings(source);
  } catch (const std::exception& e) {
    error = e.what();
    return false;
  }
  std::lock_guard lock(mutex_);
  auto& c = clusters_[source.name];
  c.source = source;
  c.error.clear();
  if (c.client)
    c.client->update_settings(std::move(settings));
  else
    c.client = std::make_shared<k8s::client>(std::move(settings), client_options_for(source.name));
  return true;
}

void cluster_registry::remove(const std::string& name) {
  std::lock_guard lock(mutex_);
  clusters_.erase(name);
}

}  // namespace mc
