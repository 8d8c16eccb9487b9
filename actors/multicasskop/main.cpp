// multi-casskop: creates one CassandraCluster per region from each MultiCasskop, one region after
// the other.
//
//   multi-casskop --config FILE
//   multi-casskop -l LOCAL [-r REMOTE ...]     (the original operator's flags; WATCH_NAMESPACE)
//   multi-casskop replay JOURNAL [--legacy-settle-seconds N]   (JOURNAL and its rotated files)
//   multi-casskop --version
//
// One controller (controller.h) on the runtime host (runtime/host.h), which owns leader
// election, the configuration's reload, signals, the admin endpoint and the credentials.
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>

#include <boost/program_options.hpp>

#include "actors/multicasskop/config.h"
#include "actors/multicasskop/controller.h"
#include "actors/multicasskop/journal_file.h"
#include "actors/multicasskop/logic/journal.h"
#include "actors/multicasskop/logic/replay.h"
#include "actors/multicasskop/logic/state_machine.h"
#include "actors/runtime/host.h"
#include "actors/runtime/version.h"
#include "k8s/api/openssl_lifetime.h"

namespace po = boost::program_options;

namespace {

// Re-runs a journal through the state machine and prints each event and the decisions it led
// to: an incident replayed offline, deterministically. `path` and its rotated files (PATH.n ...
// PATH.1, PATH: oldest first) are read in order. A file that starts with a snapshot (after a
// rotation) is rebuilt from it when it is the first one read; further on, the state is already
// built and its snapshot is skipped. The journal's command_issued events are folded as they come;
// a journal written before they were journaled has the decisions issued right after each event,
// as the operator did.
int replay(const std::string& path, int64_t settle_seconds, int64_t grace_seconds) {
  auto files = mc::journal_files(path);
  if (files.empty()) {
    std::cerr << "multi-casskop replay: cannot read " << path << "\n";
    return 1;
  }
  mc::machine_options o;
  o.legacy_settle_ms = settle_seconds * 1000;
  o.start_grace_ms = grace_seconds * 1000;
  mc::journal_replay sm(o);
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
        sm.restart();
      }
      if (!e.snapshot) {
        last_seq = e.seq;
        fresh = false;
      }
      if (std::holds_alternative<mc::command_issued>(e.body)) {
        sm.feed(e);  // the decision it issues was printed with its event
        continue;
      }
      std::cout << (e.snapshot ? "# snapshot " : "") << mc::summarize_event(e) << "\n";
      for (const auto& c : sm.feed(e)) std::cout << "  -> " << mc::summarize_command(c) << "\n";
    }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  k8s::openssl::keep_until_exit();
  if (argc >= 2 && std::string(argv[1]) == "replay") {
    po::options_description desc("multi-casskop replay JOURNAL");
    std::string file;
    int64_t settle = 60, grace = 60;
    desc.add_options()("help,h", "show this help")("journal", po::value(&file)->required(),
                                                   "journal file")(
        "legacy-settle-seconds", po::value(&settle)->default_value(60),
        "as readiness.legacySettleSeconds")("deletion-start-grace-seconds",
                                            po::value(&grace)->default_value(60),
                                            "as deletion.startGraceSeconds");
    po::positional_options_description pos;
    pos.add("journal", 1);
    po::variables_map vm;
    try {
      po::store(po::command_line_parser(argc - 1, argv + 1).options(desc).positional(pos).run(),
                vm);
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

  po::options_description desc(
      "multi-casskop: Cassandra across Kubernetes clusters, one region after the other");
  std::string config_file, local;
  std::vector<std::string> remotes;
  desc.add_options()("help,h", "show this help")("version", "print the version")(
      "config,c", po::value(&config_file), "the configuration file (YAML)")(
      "local,l", po::value(&local), "original flags: the local cluster's name")(
      "remote,r", po::value(&remotes), "original flags: a remote cluster's name (repeat)");
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, desc), vm);
    if (vm.count("help")) {
      std::cout << desc
                << "\n  multi-casskop replay JOURNAL   re-run a journal and print the decisions\n";
      return 0;
    }
    if (vm.count("version")) {
      std::cout << "multi-casskop " << OPERATOR_VERSION << "\n";
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
  runtime::apply_logging(config);

  runtime::host_options ho;
  ho.program = "multi-casskop";
  ho.version = OPERATOR_VERSION;
  ho.config_file = config_file;
  ho.load = [](const std::string& path) -> std::shared_ptr<runtime::host_config> {
    return std::make_shared<mc::operator_config>(mc::load_config_file(path));
  };
  ho.config_json = [](const runtime::host_config& c) {
    return mc::config_json(dynamic_cast<const mc::operator_config&>(c));
  };
  runtime::host host(std::move(ho), std::make_shared<mc::operator_config>(std::move(config)));
  host.add(mc::make_multicasskop_controller());
  const int rc = host.run();
  // Everything of ours has stopped, but a cpprest thread may still finish a request, or start
  // one that was queued, while the exit handlers clean OpenSSL up under it: a crash at exit
  // (seen after a leader handed over during shutdown). Leave without running them.
  std::fflush(nullptr);
  std::_Exit(rc);
}
