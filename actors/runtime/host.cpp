#include "actors/runtime/host.h"

#include <malloc.h>

#include <atomic>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <thread>
#include <utility>

#include <pplx/threadpool.h>
#include <caf/all.hpp>
#include <caf/logger.hpp>

#include "actors/runtime/admin_server.h"
#include "actors/runtime/cluster_registry.h"
#include "actors/runtime/leader_for_life_lock.h"
#include "k8s/api/client.h"
#include "k8s/api/leader_election.h"
#include "k8s/base/heap_metrics.h"
#include "k8s/base/log.h"
#include "k8s/base/metrics.h"
#include "k8s/base/resident_memory.h"
#include "k8s/base/signals.h"

namespace runtime {
namespace js = k8s::json;

void apply_logging(const host_config& c) {
  k8s::log::level l;
  if (k8s::log::parse_level(c.log_level, l)) k8s::log::set_level(l);
  k8s::log::set_format(c.log_format == "json" ? k8s::log::format::json : k8s::log::format::logfmt);
}

bool read_token_file(const std::string& path, std::string& token, std::string& error) {
  std::ifstream f(path);
  if (!f) {
    error = "admin token file " + path + " cannot be read";
    return false;
  }
  std::string line;
  std::getline(f, line);
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t'))
    line.pop_back();
  if (line.empty()) {
    error = "admin token file " + path + " is empty";
    return false;
  }
  token = std::move(line);
  error.clear();
  return true;
}

namespace {

// What tells us a file changed: what the path resolves to (the kubelet swaps a symlink to
// update a mounted ConfigMap or Secret), its size and its time.
std::string file_stamp(const std::string& path) {
  if (path.empty()) return "";
  std::error_code ec;
  auto p = std::filesystem::canonical(path, ec);
  if (ec) return "missing";
  auto t = std::filesystem::last_write_time(p, ec);
  auto size = std::filesystem::file_size(p, ec);
  return p.string() + "|" + std::to_string(t.time_since_epoch().count()) + "|" +
         std::to_string(size);
}

std::string reply_json(bool ready, const std::string& reason) {
  js::Document d(rapidjson::kObjectType);
  d.AddMember("ready", ready, d.GetAllocator());
  d.AddMember("reason", js::string_value(reason, d.GetAllocator()), d.GetAllocator());
  return js::to_string(d);
}

}  // namespace

struct host::impl {
  host_options options;
  std::vector<std::unique_ptr<controller>> controllers;

  std::mutex mutex;  // guards config, roots, token
  std::shared_ptr<host_config> config;
  std::vector<caf::actor> roots;  // one per controller while they run
  std::string token;
  std::atomic<bool> leading{false};

  std::unique_ptr<caf::actor_system> system;
  std::shared_ptr<cluster_registry> registry;
  std::unique_ptr<admin_server> admin;
  std::shared_ptr<k8s::leader_elector> elector;
  std::shared_ptr<leader_for_life_lock> life_lock;  // under `mutex`; while we try or hold it
  k8s::metrics::family<k8s::metrics::counter>* reloads = nullptr;

  impl(host_options o, std::shared_ptr<host_config> c)
      : options(std::move(o)), config(std::move(c)) {}

  const std::string& local() const { return config->clusters.front().name; }

  void start_controllers() {
    std::lock_guard lock(mutex);
    if (!roots.empty()) return;
    controller_context ctx{*system, registry};
    for (auto& c : controllers) {
      roots.push_back(c->start(ctx, *config));
      k8s::log::info("Controller started", {{"controller", c->name()}});
    }
    // With leader election this runs on a client or timer thread, outside CAF: spawn() left a
    // reference to the system's logger in that thread's storage, and ~actor_system waits for
    // the logger to be released, so the process would hang at exit. Drop it.
    caf::logger::set_current_actor_system(nullptr);
  }

  void stop_controllers() {
    std::lock_guard lock(mutex);
    for (size_t i = 0; i < roots.size(); ++i) {
      caf::anon_send_exit(roots[i], caf::exit_reason::user_shutdown);
      k8s::log::info("Controller stopped", {{"controller", controllers[i]->name()}});
    }
    roots.clear();
  }

  std::shared_ptr<leader_for_life_lock> current_life_lock() {
    std::lock_guard lock(mutex);
    return life_lock;
  }

  // Starts taking the configuration's leader-for-life lock (marked with `lease` when we hold
  // one); the controllers start once it is ours (and, with a Lease, while we still hold that).
  // False when there is no lock to take: none configured, or no POD_NAME to own it (said in the
  // log, as operator-sdk's leader.Become skips the lock when not running in a cluster).
  bool start_life_lock(const std::string& lease) {
    leader_for_life_options o;
    {
      std::lock_guard lock(mutex);
      o.lock_namespace = config->life_lock_namespace;
      o.lock_name = config->life_lock_name;
      o.pod_name = config->life_lock_pod;
    }
    o.lease = lease;
    if (o.lock_name.empty()) return false;
    if (o.pod_name.empty()) {
      k8s::log::info("No leader lock taken: POD_NAME is not set (not running in a pod)",
                     {{"lock", o.lock_namespace + "/" + o.lock_name}});
      return false;
    }
    const bool with_lease = !lease.empty();
    auto l = leader_for_life_lock::create(registry->client(local()), registry->timers(),
                                          std::move(o), [this, with_lease] {
                                            if (with_lease && !(elector && elector->is_leader()))
                                              return;
                                            leading = true;
                                            start_controllers();
                                          });
    {
      std::lock_guard lock(mutex);
      life_lock = l;
    }
    l->start();
    return true;
  }

  // Never called with `mutex` held: stop() waits for a running callback, which takes it.
  void stop_life_lock() {
    std::shared_ptr<leader_for_life_lock> l;
    {
      std::lock_guard lock(mutex);
      l = std::exchange(life_lock, nullptr);
    }
    if (l) l->stop();
  }

  admin_reply readyz() {
    const bool lead = leading.load();
    if (lead) {
      std::vector<std::pair<controller*, caf::actor>> running;
      {
        std::lock_guard lock(mutex);
        for (size_t i = 0; i < roots.size(); ++i)
          running.emplace_back(controllers[i].get(), roots[i]);
      }
      for (auto& [c, root] : running)
        if (auto why = c->not_ready(root); !why.empty()) return {503, reply_json(false, why)};
    }
    // A replica that cannot read the local cluster can neither lead nor take over.
    std::string name;
    {
      std::lock_guard lock(mutex);
      name = local();
    }
    if (!registry->readable(name)) {
      auto error = registry->error(name);
      return {503,
              reply_json(false, "cannot read the local cluster " + name + ": " +
                                    (error.empty() ? "no answer from its API server yet" : error))};
    }
    if (!lead) {
      // Waiting for the leader-for-life lock: a standby, and why.
      if (auto l = current_life_lock(); l && !l->held()) {
        js::Document d(rapidjson::kObjectType);
        auto& a = d.GetAllocator();
        d.AddMember("ready", true, a);
        d.AddMember("leader", false, a);
        d.AddMember("standby", js::string_value(l->waiting_reason(), a), a);
        return {200, js::to_string(d)};
      }
      return {200, R"({"ready":true,"leader":false})"};
    }
    std::lock_guard lock(mutex);
    return {200, config->leader_election ? R"({"ready":true,"leader":true})"
                                         : R"({"ready":true,"leader":null})"};
  }

  bool serves(const std::string& path) {
    if (path == "/credentials") return true;
    for (auto& c : controllers)
      if (c->serves(path)) return true;
    return false;
  }

  admin_reply route(const std::string& path) {
    if (path == "/credentials") return {200, registry->json()};
    if (!leading)
      return {503, R"({"error":"this replica is not the leader: ask the leader for its state"})"};
    std::vector<std::pair<controller*, caf::actor>> running;
    {
      std::lock_guard lock(mutex);
      for (size_t i = 0; i < roots.size(); ++i)
        running.emplace_back(controllers[i].get(), roots[i]);
    }
    for (auto& [c, root] : running)
      if (c->serves(path)) return c->route(root, path);
    return {503, R"({"error":"the controllers are not running"})"};
  }

  // The admin token file, read again: a rotated token replaces the old one at once; a file
  // that went missing or empty keeps the old one (and says so).
  void reload_token(const std::string& why) {
    std::string path;
    {
      std::lock_guard lock(mutex);
      path = config->admin_token_file;
    }
    if (path.empty()) return;
    std::string next, error;
    if (!read_token_file(path, next, error)) {
      k8s::log::error("Cannot read the admin token file again; the previous token stays valid",
                      {{"error", error}, {"reason", why}});
      return;
    }
    std::lock_guard lock(mutex);
    if (next == token) return;
    token = next;
    admin->set_token(next);
    k8s::log::info("Admin token reloaded", {{"file", path}, {"reason", why}});
  }

  void reload(const std::string& why) {
    if (options.config_file.empty()) return;
    try {
      auto next = options.load(options.config_file);
      std::string next_token;
      if (!next->admin_token_file.empty()) {
        std::string error;
        if (!read_token_file(next->admin_token_file, next_token, error))
          throw config_invalid(error);
      }
      std::vector<std::string> removed;
      {
        std::lock_guard lock(mutex);
        if (next->clusters.front().name != config->clusters.front().name ||
            next->namespace_name != config->namespace_name)
          throw config_invalid(
              "the local cluster and the namespace cannot change without a restart");
        apply_logging(*next);
        for (const auto& s : config->clusters) {
          bool kept = false;
          for (const auto& n : next->clusters) kept = kept || n.name == s.name;
          if (!kept) removed.push_back(s.name);
        }
        config = next;
        if (token != next_token) {
          token = next_token;
          admin->set_token(next_token);
        }
      }
      // New and changed clusters first, so the controllers find them ready.
      for (const auto& s : next->clusters) {
        std::string error;
        registry->update(s, error);
      }
      {
        std::lock_guard lock(mutex);
        for (size_t i = 0; i < roots.size(); ++i) controllers[i]->reload(roots[i], *next);
      }
      for (const auto& name : removed) registry->remove(name);
      reloads->labels({{"result", "ok"}}).inc();
      k8s::log::info("Configuration reloaded", {{"reason", why}, {"config", next->origin}});
    } catch (const std::exception& e) {
      reloads->labels({{"result", "failed"}}).inc();
      k8s::log::error("Configuration reload refused; the previous configuration keeps running",
                      {{"reason", why}, {"error", e.what()}});
    }
  }

  void start_leader_election() {
    k8s::leader_election_options lo;
    {
      std::lock_guard lock(mutex);
      lo.lease_namespace = config->namespace_name;
      lo.lease_name = config->lease_name;
      lo.lease_duration = std::chrono::milliseconds(config->lease_duration_ms);
      lo.renew_deadline = std::chrono::milliseconds(config->renew_deadline_ms);
      lo.retry_period = std::chrono::milliseconds(config->retry_period_ms);
    }
    lo.identity = k8s::default_identity();
    k8s::leader_elector::callbacks cb;
    // By value: `lo` is gone when these run.
    cb.on_started_leading = [this, identity = lo.identity, lease = lo.lease_name] {
      if (start_life_lock(lease)) {
        k8s::log::info("Leading: taking the leader lock before starting the controllers",
                       {{"identity", identity}});
        return;
      }
      k8s::log::info("Leading: starting the controllers", {{"identity", identity}});
      leading = true;
      start_controllers();
    };
    cb.on_stopped_leading = [this, identity = lo.identity] {
      k8s::log::warn("Lost the lease: stopping all writes", {{"identity", identity}});
      stop_life_lock();
      leading = false;
      stop_controllers();
    };
    cb.on_new_leader = [](const std::string& holder) {
      k8s::log::info("Leader elected", {{"leader", holder}});
    };
    // The local cluster's client exists even when its credentials do not yet: the elector
    // retries, and starts competing once they load.
    elector = k8s::leader_elector::create(registry->client(local()), registry->timers(), lo, cb);
    elector->start();
  }

  int run();
};

int host::impl::run() {
  k8s::block_termination_signals();
  // A token file that is configured but missing or empty would leave the endpoint open or
  // closed by accident: refuse to start, and say which.
  if (!config->admin_token_file.empty()) {
    std::string error;
    if (!read_token_file(config->admin_token_file, token, error)) {
      k8s::log::error("Cannot start: the configured admin token file is missing or empty",
                      {{"error", error}});
      return 1;
    }
  }
  k8s::log::info("Starting " + options.program, {{"namespace", config->namespace_name},
                                                 {"config", config->origin},
                                                 {"version", options.version}});
  // Memory: one malloc arena per thread (cpprest alone runs dozens) fragments the heap of many
  // small long-lived objects; two arenas keep it compact. Four cpprest threads are plenty for
  // the requests we make.
  mallopt(M_ARENA_MAX, 2);
  crossplat::threadpool::initialize_with_threads(4);
  k8s::register_heap_metrics();
  k8s::metrics::default_registry().labeled_gauge_callback(
      "operator_client_buffer_bytes",
      "Bytes the Kubernetes clients hold: watch_unread (received, not yet decoded), "
      "queued_request (request bodies waiting for a connection)",
      [] {
        const k8s::client_buffer_usage u = k8s::client_buffers();
        return std::vector<k8s::metrics::labeled_value>{
            {{{"kind", "watch_unread"}}, static_cast<double>(u.watch_unread_bytes)},
            {{{"kind", "queued_request"}}, static_cast<double>(u.queued_request_bytes)},
        };
      });
  auto& metrics = k8s::metrics::default_registry();
  reloads = &metrics.counters("operator_config_reloads_total",
                              "Configuration reloads, by result (ok, failed)");
  reloads->labels({{"result", "ok"}});
  reloads->labels({{"result", "failed"}});
  auto& build = metrics.gauges("operator_build_info",
                               "1, labelled with the version and each controller the binary runs");
  for (auto& c : controllers)
    build.labels({{"version", options.version}, {"controller", c->name()}}).set(1);

  caf::actor_system_config cfg;
  cfg.set("scheduler.max-threads", 2);
  system = std::make_unique<caf::actor_system>(cfg);
  registry_options ro;
  for (auto& c : controllers) ro.controller += (ro.controller.empty() ? "" : ",") + c->name();
  registry = cluster_registry::create(ro);
  for (const auto& s : config->clusters) registry->connect(s);  // starts retrying the bad ones

  admin_settings as;
  as.address = config->admin_address;
  as.token = token;
  as.config_json = [this] {
    std::lock_guard lock(mutex);
    return options.config_json(*config);
  };
  as.readyz = [this] { return readyz(); };
  as.serves = [this](const std::string& p) { return serves(p); };
  as.route = [this](const std::string& p) { return route(p); };
  admin = std::make_unique<admin_server>(std::move(as));
  try {
    admin->start();
  } catch (const std::exception& e) {
    k8s::log::error("Cannot start the admin endpoint",
                    {{"address", config->admin_address}, {"error", e.what()}});
    return 1;
  }
  k8s::log::info("Admin endpoint listening", {{"address", admin->address()}});

  if (config->leader_election) {
    start_leader_election();
  } else if (!start_life_lock("")) {
    leading = true;
    start_controllers();
  }

  // Once a second: the configuration file, the admin token file, and every cluster's
  // credentials (a kubeconfig or secret folder rewritten in place, a mounted Secret swapped).
  std::atomic<bool> stopping{false};
  std::thread file_watch([&] {
    std::string token_file;
    {
      std::lock_guard lock(mutex);
      token_file = config->admin_token_file;
    }
    std::string last_config = file_stamp(options.config_file), last_token = file_stamp(token_file);
    k8s::release_schedule release;
    while (!stopping) {
      std::this_thread::sleep_for(std::chrono::seconds(1));
      if (stopping) break;
      // Memory held and not used back to the kernel: all of it once quiet after some work
      // (start-up, a burst of changes), the heap's free pages now and then while busy.
      switch (release.on_tick(k8s::process_cpu_time())) {
        case k8s::release_schedule::action::none:
          break;
        case k8s::release_schedule::action::trim_heap:
          k8s::trim_heap();
          break;
        case k8s::release_schedule::action::release_all: {
          const k8s::released_memory r = k8s::release_unused_memory();
          k8s::log::debug("Released unused memory", {{"code_bytes", std::to_string(r.code_bytes)},
                                                     {"heap_bytes", std::to_string(r.heap_bytes)}});
          break;
        }
      }
      if (!options.config_file.empty()) {
        std::string now = file_stamp(options.config_file);
        if (now != last_config) {
          last_config = now;
          reload("the file changed");
        }
      }
      {
        std::lock_guard lock(mutex);
        if (config->admin_token_file != token_file) {
          token_file = config->admin_token_file;
          last_token = file_stamp(token_file);
        }
      }
      if (std::string now = file_stamp(token_file); now != last_token) {
        last_token = now;
        reload_token("the file changed");
      }
      registry->refresh_all("the file changed");
    }
  });

  for (;;) {
    int sig = k8s::wait_for_termination_or_hangup();
    if (sig == SIGHUP) {
      reload("SIGHUP");
      reload_token("SIGHUP");
      registry->refresh_all("SIGHUP");
      continue;
    }
    k8s::log::info("Stopping " + options.program, {{"signal", std::to_string(sig)}});
    break;
  }
  stopping = true;
  file_watch.join();
  if (elector) {
    std::promise<void> released;
    elector->release([&](bool) { released.set_value(); });
    released.get_future().wait_for(std::chrono::seconds(3));
    elector->stop();
  }
  stop_life_lock();  // a lock we hold stays ours: the garbage collector removes it with the Pod
  stop_controllers();
  admin->stop();
  return 0;
}

host::host(host_options options, std::shared_ptr<host_config> config)
    : impl_(std::make_unique<impl>(std::move(options), std::move(config))) {}

host::~host() = default;

void host::add(std::unique_ptr<controller> c) {
  impl_->controllers.push_back(std::move(c));
}

int host::run() {
  return impl_->run();
}

}  // namespace runtime
