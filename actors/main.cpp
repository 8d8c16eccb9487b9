// multi-casskop: creates one CassandraCluster per region from each MultiCasskop, one region after
// the other.
//
//   multi-casskop --config FILE
//   multi-casskop -l LOCAL [-r REMOTE ...]     (the original operator's flags; WATCH_NAMESPACE)
//   multi-casskop replay JOURNAL [--legacy-settle-seconds N]
#include <fstream>
#include <iostream>

#include <boost/program_options.hpp>

#include "actors/config.h"
#include "actors/multicasskop/journal.h"
#include "actors/multicasskop/state_machine.h"
#include "actors/supervisor.h"
#include "k8s/log.h"
#include "k8s/signals.h"
#include "messages/atoms.h"

namespace po = boost::program_options;

namespace {

// Re-runs a journal through the state machine and prints each event and the decisions it led
// to: an incident replayed offline, deterministically.
int replay(const std::string& path, int64_t settle_seconds) {
  std::ifstream in(path);
  if (!in) {
    std::cerr << "multi-casskop replay: cannot read " << path << "\n";
    return 1;
  }
  mc::machine_options o;
  o.legacy_settle_ms = settle_seconds * 1000;
  mc::state_machine sm(o);
  std::string line;
  size_t n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.empty()) continue;
    mc::event e;
    try {
      e = mc::decode_event(line);
    } catch (const std::exception& ex) {
      std::cerr << "multi-casskop replay: " << path << ":" << n << ": " << ex.what() << "\n";
      return 1;
    }
    std::cout << mc::summarize_event(e) << "\n";
    for (const auto& c : sm.apply(e)) std::cout << "  -> " << mc::summarize_command(c) << "\n";
  }
  return 0;
}

void apply_logging(const mc::operator_config& c) {
  k8s::log::level l;
  if (k8s::log::parse_level(c.log_level, l)) k8s::log::set_level(l);
  k8s::log::set_format(c.log_format == "json" ? k8s::log::format::json : k8s::log::format::logfmt);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 2 && std::string(argv[1]) == "replay") {
    po::options_description desc("multi-casskop replay JOURNAL");
    std::string file;
    int64_t settle = 60;
    desc.add_options()("help,h", "show this help")("journal", po::value(&file)->required(), "journal file")(
        "legacy-settle-seconds", po::value(&settle)->default_value(60), "as readiness.legacySettleSeconds");
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
    return replay(file, settle);
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
      config = mc::from_legacy_flags(local, remotes, [](const char* k) { return std::getenv(k); });
    else
      throw mc::config_invalid("give --config FILE (or the original -l LOCAL -r REMOTE flags)");
  } catch (const std::exception& e) {
    std::cerr << "multi-casskop: " << e.what() << "\n";
    return 2;
  }
  apply_logging(config);

  k8s::block_termination_signals();

  k8s::log::info("Starting multi-casskop", {{"namespace", config.namespace_name}, {"config", config.origin}});
  {
    caf::actor_system_config cfg;
    cfg.set("scheduler.max-threads", 2);
    caf::actor_system system{cfg};
    auto registry = std::make_shared<mc::cluster_registry>();
    auto sup = mc::spawn_supervisor(system, {config, registry});
    int sig = k8s::wait_for_termination();
    k8s::log::info("Stopping multi-casskop", {{"signal", std::to_string(sig)}});
    caf::anon_send_exit(sup, caf::exit_reason::user_shutdown);
  }
  return 0;
}
