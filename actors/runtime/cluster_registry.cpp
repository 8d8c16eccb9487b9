#include "actors/runtime/cluster_registry.h"

#include "actors/runtime/client_metrics.h"
#include "k8s/base/log.h"
#include "k8s/base/metrics.h"

namespace runtime {
namespace js = k8s::json;
using namespace std::chrono_literals;

namespace {

k8s::metrics::family<k8s::metrics::gauge>& credentials_gauge() {
  static auto& g = k8s::metrics::default_registry().gauges(
      "operator_cluster_credentials_loaded",
      "1 when the cluster's credentials are loaded, 0 while they cannot be (retried with backoff)");
  return g;
}

// A client that exists before its credentials: every request fails at once with `why`.
k8s::connection_settings unavailable(const cluster_source& s, const std::string& why) {
  k8s::connection_settings c;
  c.origin = s.describe();
  c.unavailable = "credentials of cluster " + s.name + " not loaded: " + why;
  return c;
}

std::string load_error(const cluster_source& s) {
  try {
    connect_settings(s);
    return "";
  } catch (const std::exception& e) {
    return e.what();
  }
}

}  // namespace

std::shared_ptr<cluster_registry> cluster_registry::create(registry_options o) {
  return std::shared_ptr<cluster_registry>(new cluster_registry(std::move(o)));
}

cluster_registry::cluster_registry(registry_options o)
    : options_(std::move(o)), timers_(std::make_shared<k8s::timer_service>()) {}

cluster_registry::~cluster_registry() {
  for (auto& [name, e] : clusters_)
    if (e->pending) *e->pending = true;
}

std::function<void(const k8s::request_record&)> cluster_registry::observer(
    const std::string& name) {
  auto count = runtime::api_request_observer(options_.controller, name);
  std::weak_ptr<cluster_registry> weak = weak_from_this();
  return [weak, name, count](const k8s::request_record& r) {
    count(r);
    auto self = weak.lock();
    if (!self) return;
    bool refresh = false;
    {
      std::lock_guard lock(self->mutex_);
      auto it = self->clusters_.find(name);
      if (it == self->clusters_.end()) return;
      auto& e = *it->second;
      e.answered = r.code != 0 && r.code != 401 && r.code != 403;
      // A 401: the credentials were rotated under us. Read them again, at most once a second.
      const auto now = std::chrono::steady_clock::now();
      if (r.code == 401 && now - e.last_401_refresh > 1s) {
        e.last_401_refresh = now;
        refresh = true;
      }
    }
    // Not on this I/O thread: loading reads files.
    if (refresh)
      self->timers_->after(0ms, [weak, name] {
        if (auto s = weak.lock()) s->refresh(name, "the API server answered 401");
      });
  };
}

bool cluster_registry::load(const std::string& name, const cluster_source& source,
                            const std::string& why, std::string& error) {
  k8s::connection_settings settings;
  error.clear();
  try {
    settings = connect_settings(source);
  } catch (const std::exception& e) {
    error = e.what();
  }
  std::shared_ptr<k8s::client> client;
  bool changed = false;
  int attempts = 0;
  bool warn = false;
  std::chrono::milliseconds delay{0};
  {
    std::lock_guard lock(mutex_);
    auto it = clusters_.find(name);
    if (it == clusters_.end() || !(it->second->source == source))
      return false;  // removed or moved on
    auto& e = *it->second;
    client = e.client;
    if (e.pending) *e.pending = true;
    e.pending = nullptr;
    if (error.empty()) {
      // Reported loaded only once the client uses them (below): a caller that sees no error
      // must get a client that works.
      changed = !e.loaded || client->settings() != settings;
    } else if (e.loaded) {
      warn = e.reload_error != error;
      e.reload_error = error;
    } else {
      // Never loaded: keep failing fast with the new reason, and try again later.
      e.error = error;
      attempts = ++e.attempts;
      delay = e.retry.next_delay();
      std::weak_ptr<cluster_registry> weak = weak_from_this();
      e.pending = timers_->after(delay, [weak, name] {
        if (auto s = weak.lock()) s->refresh(name, "retry");
      });
      client->update_settings(unavailable(source, error));
    }
  }
  if (error.empty()) {
    // Not under our lock: dropping the old settings may wait for a thread that reports a
    // request to observer(), which takes it.
    if (changed) client->update_settings(std::move(settings));
    {
      std::lock_guard lock(mutex_);
      auto it = clusters_.find(name);
      if (it != clusters_.end() && it->second->source == source) {
        auto& e = *it->second;
        e.loaded = true;
        e.error.clear();
        e.attempts = 0;
        e.reload_error.clear();
        e.retry.reset();
      }
    }
    if (changed) {
      k8s::log::info("Cluster credentials loaded",
                     {{"kubernetes", name}, {"source", source.describe()}, {"reason", why}});
    }
    credentials_gauge().labels({{"cluster", name}}).set(1);
    return true;
  }
  if (attempts > 0) {
    credentials_gauge().labels({{"cluster", name}}).set(0);
    k8s::log::error("Cannot load the cluster's credentials; retrying",
                    {{"kubernetes", name},
                     {"source", source.describe()},
                     {"error", error},
                     {"attempt", std::to_string(attempts)},
                     {"retry_in_ms", std::to_string(delay.count())}});
  } else if (warn) {
    // Loaded before: the old ones keep working (a file being rewritten, a bad edit).
    k8s::log::warn(
        "Cannot read the cluster's credentials again; keeping the previous ones",
        {{"kubernetes", name}, {"source", source.describe()}, {"error", error}, {"reason", why}});
  }
  return false;
}

cluster_connection cluster_registry::connect(const cluster_source& source) {
  {
    std::lock_guard lock(mutex_);
    auto it = clusters_.find(source.name);
    if (it != clusters_.end() && it->second->source == source)
      return {source, it->second->client, it->second->error};
  }
  std::string error;
  update(source, error);
  std::lock_guard lock(mutex_);
  auto& e = *clusters_.at(source.name);
  return {e.source, e.client, e.error};
}

bool cluster_registry::update(const cluster_source& source, std::string& error) {
  {
    std::lock_guard lock(mutex_);
    auto& slot = clusters_[source.name];
    if (!slot) {
      slot = std::make_unique<entry>(options_.retry);
      slot->source = source;
      k8s::client_options o;
      o.on_request = observer(source.name);
      slot->client =
          std::make_shared<k8s::client>(unavailable(source, "not read yet"), std::move(o));
    } else if (!(slot->source == source)) {
      // A new source: loaded afresh; until it loads, the old credentials (if any) keep working.
      slot->source = source;
      slot->attempts = 0;
      slot->retry.reset();
    }
  }
  const bool ok = load(source.name, source, "configured", error);
  if (!ok && error.empty()) error = load_error(source);
  return ok;
}

std::shared_ptr<k8s::client> cluster_registry::client(const std::string& name) const {
  std::lock_guard lock(mutex_);
  auto it = clusters_.find(name);
  return it == clusters_.end() ? nullptr : it->second->client;
}

void cluster_registry::remove(const std::string& name) {
  std::lock_guard lock(mutex_);
  auto it = clusters_.find(name);
  if (it == clusters_.end()) return;
  if (it->second->pending) *it->second->pending = true;
  clusters_.erase(it);
  credentials_gauge().remove({{"cluster", name}});
}

void cluster_registry::refresh(const std::string& name, const std::string& why) {
  cluster_source source;
  {
    std::lock_guard lock(mutex_);
    auto it = clusters_.find(name);
    if (it == clusters_.end()) return;
    source = it->second->source;
  }
  std::string error;
  load(name, source, why, error);
}

void cluster_registry::refresh_all(const std::string& why) {
  std::vector<std::string> names;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [name, e] : clusters_) names.push_back(name);
  }
  for (const auto& n : names) refresh(n, why);
}

bool cluster_registry::readable(const std::string& name) const {
  std::lock_guard lock(mutex_);
  auto it = clusters_.find(name);
  return it != clusters_.end() && it->second->loaded && it->second->answered;
}

std::string cluster_registry::error(const std::string& name) const {
  std::lock_guard lock(mutex_);
  auto it = clusters_.find(name);
  return it == clusters_.end() ? "unknown cluster " + name : it->second->error;
}

std::string cluster_registry::json() const {
  js::Document d(rapidjson::kArrayType);
  auto& a = d.GetAllocator();
  std::lock_guard lock(mutex_);
  for (const auto& [name, e] : clusters_) {
    js::Value v(rapidjson::kObjectType);
    v.AddMember("name", js::string_value(name, a), a);
    v.AddMember("credentials", js::string_value(e->loaded ? "loaded" : "failing", a), a);
    v.AddMember("error", js::string_value(e->error, a), a);
    v.AddMember("attempts", e->attempts, a);
    v.AddMember("readable", e->loaded && e->answered, a);
    d.PushBack(v, a);
  }
  return js::to_string(d);
}

}  // namespace runtime
