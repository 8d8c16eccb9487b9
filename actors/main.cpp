// multi-casskop: creates one CassandraCluster per region from each MultiCasskop, one region after
// the other.
//
//   multi-casskop --config FILE
//   multi-casskop -l LOCAL [-r REMOTE ...]     (the original operator's flags; WATCH_NAMESPACE)
//   multi-casskop replay JOURNAL [--legacy-settle-seconds N]   (JOURNAL and its rotated files)
#include <malloc.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <thread>
#include <iostream>

#include <boost/program_options.hpp>
#include <caf/logger.hpp>
#include <pplx/threadpool.h>

#include "actors/config.h"
#include "actors/multicasskop/logic/journal.h"
#include "actors/multicasskop/logic/state_machine.h"
#include "actors/supervisor.h"
#include "actors/admin_server.h"
#include "actors/cluster_registry.h"
#include "k8s/api/leader_election.h"
#include "k8s/base/log.h"
#include "k8s/base/heap_metrics.h"
#include "k8s/base/metrics.h"
#include "k8s/base/signals.h"
#include "messages/atoms.h"

namespace po = boost::program_options;

namespace {

// Re-runs a journal through the state machine and prints each event and the decisions it led
// to: an incident replayed offline, deterministically. `path` and its rotated files (PATH.n ...
// PATH.1, PATH: oldest first) are read in order. A file that starts with a snapshot (after a
// rotation) is rebuilt from it when it is the first one read; further on, the state is already
// built and its snapshot is skipped.
int replay(const std::string& path, int64_t settle_seconds, int64_t grace_seconds) {
  auto files = mc::journal_files(path);
  if (files.empty()) {
    std::cerr << "multi-casskop replay: cannot read " << path << "\n";
    return 1;
  }
  mc::machine_options o;
  o.legacy_settle_ms = settle_seconds * 1000;
  o.start_grace_ms = grace_seconds * 1000;
  auto sm = std::make_unique<mc::state_machine>(o);
  bool fresh = true;  // nothing applied since the state machine was made
  uint64_t last_seq = 0;
  for (const auto& file : files) {
    std::ifstream in(file);
    if (!in) {
      std::cerr << "multi-casskop replay: cannot read " << file << "\n";
      return 1;
    }
    if (files.size() > 1) std::cout << "# file " << file << "\n";
    std::string line;
    for (size_t n = 1; std::getline(in, line); ++n) {
      if (line.empty()) continue;
      mc::event e;
      try {
        e = mc::decode_event(line);
      } catch (const std::exception& ex) {
        std::cerr << "multi-casskop replay: " << file << ":" << n << ": " << ex.what() << "\n";
        return 1;
      }
      if (e.snapshot && !fresh) continue;  // the state it restates is already built
      if (!e.snapshot && e.seq <= last_seq) {
        // The journal is appended to across restarts: a new run starts from an empty state.
        std::cout << "# restart: a new run of the operator begins here\n";
        sm = std::make_unique<mc::state_machine>(o);
      }
      if (!e.snapshot) {
        last_seq = e.seq;
        fresh = false;
      }
      std::cout << (e.snapshot ? "# snapshot " : "") << mc::summarize_event(e) << "\n";
      for (const auto& c : sm->apply(e)) std::cout << "  -> " << mc::summarize_command(c) << "\n";
    }
  }
  return 0;
}

void apply_logging(const mc::operator_config& c) {
  k8s::log::level l;
  if (k8s::log::parse_level(c.log_level, l)) k8s::log::set_level(l);
  k8s::log::set_format(c.log_format == "json" ? k8s::log::format::json : k8s::log::format::logfmt);
}

std::string read_token_file(const std::string& path) {
  if (path.empty()) return "";
  std::ifstream f(path);
  std::string token;
  std::getline(f, token);
  return token;
}

// Runs the operator until SIGTERM/SIGINT. SIGHUP, or a change of the config file on disk (a
// mounted ConfigMap), reloads the configuration; an invalid new file is refused and the old one
// keeps running. With leader election, the supervisor (and so every watcher and deployer)
// lives exactly while this replica holds the Lease: losing it stops all writes at once, and a
// new leader rebuilds its state from the clusters as after a restart.
int run(mc::operator_config config, const std::string& config_file) {
  // Memory: one malloc arena per thread (cpprest alone runs dozens) fragments the heap of many
  // small long-lived objects; two arenas keep it compact. Four cpprest threads are plenty for
  // the requests we make.
  mallopt(M_ARENA_MAX, 2);
  crossplat::threadpool::initialize_with_threads(4);
  k8s::register_heap_metrics();
  auto& reloads = k8s::metrics::default_registry().counters(
      "multicasskop_config_reloads_total", "Configuration reloads, by result (ok, failed)");
  reloads.labels({{"result", "ok"}});
  reloads.labels({{"result", "failed"}});
  caf::actor_system_config cfg;
  cfg.set("scheduler.max-threads", 2);
  caf::actor_system system{cfg};
  auto registry = std::make_shared<mc::cluster_registry>();

  std::mutex mutex;  // guards config, supervisor
  caf::actor supervisor;
  std::atomic<bool> leading{!config.leader_election};
  auto config_json = [&] {
    std::lock_guard lock(mutex);
    return mc::config_json(config);
  };
  mc::admin_server admin(system, {config.admin_address, read_token_file(config.admin_token_file), config_json,
                                  config.leader_election ? std::function<bool()>([&] { return leading.load(); })
                                                         : std::function<bool()>()});
  try {
    admin.start();
  } catch (const std::exception& e) {
    k8s::log::error("Cannot start the admin endpoint", {{"address", config.admin_address}, {"error", e.what()}});
    return 1;
  }
  k8s::log::info("Admin endpoint listening", {{"address", admin.address()}});

  auto start_supervisor = [&] {
    std::lock_guard lock(mutex);
    supervisor = mc::spawn_supervisor(system, {config, registry});
    // With leader election this runs on a client or timer thread, outside CAF: spawn() left a
    // reference to the system's logger in that thread's storage, and ~actor_system waits for
    // the logger to be released, so the process would hang at exit. Drop it.
    caf::logger::set_current_actor_system(nullptr);
    admin.set_supervisor(supervisor);
  };
  auto stop_supervisor = [&] {
    std::lock_guard lock(mutex);
    if (supervisor) caf::anon_send_exit(supervisor, caf::exit_reason::user_shutdown);
    supervisor = nullptr;
    admin.set_supervisor(nullptr);
  };

  std::shared_ptr<k8s::leader_elector> elector;
  std::shared_ptr<k8s::client> local_client;
  if (config.leader_election) {
    const auto& local = registry->connect(config.clusters.front());
    local_client = local.client;
    if (!local_client)
      // Not a crash loop: stay up, say why; a restart with a readable source makes it act.
      k8s::log::error("Cannot elect a leader without access to the local cluster; standing by",
                      {{"kubernetes", config.clusters.front().name}, {"error", local.error}});
  }
  if (!config.leader_election) {
    start_supervisor();
  } else if (local_client) {
    k8s::leader_election_options lo;
    lo.lease_namespace = config.namespace_name;
    lo.lease_name = config.lease_name;
    lo.identity = k8s::default_identity();
    lo.lease_duration = std::chrono::milliseconds(config.lease_duration_ms);
    lo.renew_deadline = std::chrono::milliseconds(config.renew_deadline_ms);
    lo.retry_period = std::chrono::milliseconds(config.retry_period_ms);
    k8s::leader_elector::callbacks cb;
    // By value: `lo` is gone when these run.
    cb.on_started_leading = [&, identity = lo.identity] {
      k8s::log::info("Leading: starting the supervisor", {{"identity", identity}});
      leading = true;
      start_supervisor();
    };
    cb.on_stopped_leading = [&, identity = lo.identity] {
      k8s::log::warn("Lost the lease: stopping all writes", {{"identity", identity}});
      leading = false;
      stop_supervisor();
    };
    cb.on_new_leader = [](const std::string& holder) {
      k8s::log::info("Leader elected", {{"leader", holder}});
    };
    elector = k8s::leader_elector::create(local_client, registry->timers(), lo, cb);
    elector->start();
  }

  auto reload = [&](const char* why) {
    if (config_file.empty()) return;
    try {
      auto next = mc::load_config_file(config_file);
      std::lock_guard lock(mutex);
      if (next.clusters.front().name != config.clusters.front().name || next.namespace_name != config.namespace_name)
        throw mc::config_invalid("the local cluster and the namespace cannot change without a restart");
      apply_logging(next);
      config = next;
      if (supervisor) caf::anon_send(supervisor, mc::reload_atom::value, next);
      reloads.labels({{"result", "ok"}}).inc();
      k8s::log::info("Configuration reloaded", {{"reason", why}, {"config", config.origin}});
    } catch (const std::exception& e) {
      reloads.labels({{"result", "failed"}}).inc();
      k8s::log::error("Configuration reload refused; the previous configuration keeps running",
                      {{"reason", why}, {"error", e.what()}});
    }
  };
  // The kubelet updates a mounted ConfigMap by swapping a symlink: watch what the path resolves
  // to, its size and its time, once a second.
  std::atomic<bool> stopping{false};
  std::thread file_watch([&] {
    auto stamp = [&] {
      std::error_code ec;
      auto p = std::filesystem::canonical(config_file, ec);
      auto t = std::filesystem::last_write_time(p, ec);
      auto size = std::filesystem::file_size(p, ec);
      return p.string() + "|" + std::to_string(t.time_since_epoch().count()) + "|" + std::to_string(size);
    };
    if (config_file.empty()) return;
    std::string last = stamp();
    while (!stopping) {
      std::this_thread::sleep_for(std::chrono::seconds(1));
      std::string now = stamp();
      if (now != last) {
        last = now;
        reload("the file changed");
      }
    }
  });

  for (;;) {
    int sig = k8s::wait_for_termination_or_hangup();
    if (sig == SIGHUP) {
      reload("SIGHUP");
      continue;
    }
    k8s::log::info("Stopping multi-casskop", {{"signal", std::to_string(sig)}});
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
  stop_supervisor();
  admin.stop();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 2 && std::string(argv[1]) == "replay") {
    po::options_description desc("multi-casskop replay JOURNAL");
    std::string file;
    int64_t settle = 60, grace = 60;
    desc.add_options()("help,h", "show this help")("journal", po::value(&file)->required(), "journal file")(
        "legacy-settle-seconds", po::value(&settle)->default_value(60), "as readiness.legacySettleSeconds")(
        "deletion-start-grace-seconds", po::value(&grace)->default_value(60), "as deletion.startGraceSeconds");
    po::positional_options_description pos;
    pos.add("journal", 1);
    po::variables_map vm;
    try {
      po::store(po::command_line_parser(argc - 1, argv + 1).options(desc).positional(pos).run(), vm);
      if (vm.count("help")) {
        std::cout << desc << "\n";
        return 0;
      }
      po::notify(vm);
    } catch (const po::error& e) {
      std::cerr << "multi-casskop replay: " << e.what() << "\n" << desc << "\n";
      return 2;
    }
    return replay(file, settle, grace);
  }

  po::options_description desc("multi-casskop: Cassandra across Kubernetes clusters, one region after the other");
  std::string config_file, local;
  std::vector<std::string> remotes;
  desc.add_options()("help,h", "show this help")("config,c", po::value(&config_file),
                                                 "the configuration file (YAML)")(
      "local,l", po::value(&local), "original flags: the local cluster's name")(
      "remote,r", po::value(&remotes), "original flags: a remote cluster's name (repeat)");
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, desc), vm);
    if (vm.count("help")) {
      std::cout << desc << "\n  multi-casskop replay JOURNAL   re-run a journal and print the decisions\n";
      return 0;
    }
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "multi-casskop: " << e.what() << "\n" << desc << "\n";
    return 2;
  }
  mc::operator_config config;
  try {
    if (!config_file.empty())
      config = mc::load_config_file(config_file);
    else if (!local.empty())
      config = mc::from_legacy_flags(
          local, remotes, [](const char* k) { return std::getenv(k); },
          std::getenv("SERVICEACCOUNT_IMPORTS_DIR")
              ? std::getenv("SERVICEACCOUNT_IMPORTS_DIR")
              : "/var/run/secrets/admiralty.io/serviceaccountimports");
    else
      throw mc::config_invalid("give --config FILE (or the original -l LOCAL -r REMOTE flags)");
  } catch (const std::exception& e) {
    std::cerr << "multi-casskop: " << e.what() << "\n";
    return 2;
  }
  apply_logging(config);

  k8s::block_termination_signals();

  k8s::log::info("Starting multi-casskop", {{"namespace", config.namespace_name}, {"config", config.origin}});
  const int rc = run(config, config_file);
  // Everything of ours has stopped, but a cpprest thread may still finish a request, or start
  // one that was queued, while the exit handlers clean OpenSSL up under it: a crash at exit
  // (seen after a leader handed over during shutdown). Leave without running them.
  std::fflush(nullptr);
  std::_Exit(rc);
}
