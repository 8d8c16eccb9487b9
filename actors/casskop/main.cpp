// casskop: the CassandraCluster operator, one dc-rack at a time.
//
//   casskop --config FILE
//   casskop                  (the original's environment: WATCH_NAMESPACE, KUBECONFIG or the
//                             pod's service account, POD_NAME, OPERATOR_NAME, LOG_LEVEL)
//   casskop --version
//
// One controller (controller.h) on the runtime host (runtime/host.h), which owns leader
// election, the configuration's reload, signals, the admin endpoint and the credentials.
#include <cstdio>
#include <cstdlib>
#include <iostream>

#include <boost/program_options.hpp>

#include "actors/casskop/config.h"
#include "actors/casskop/controller.h"
#include "actors/runtime/host.h"
#include "actors/runtime/version.h"
#include "k8s/api/openssl_lifetime.h"

namespace po = boost::program_options;

int main(int argc, char** argv) {
  k8s::openssl::keep_until_exit();
  po::options_description desc("casskop: Cassandra clusters on Kubernetes, one rack at a time");
  std::string config_file;
  desc.add_options()("help,h", "show this help")("version", "print the version")(
      "config,c", po::value(&config_file),
      "the configuration file (YAML); without it, the original CassKop's environment "
      "(WATCH_NAMESPACE, KUBECONFIG or in-cluster, POD_NAME, OPERATOR_NAME)");
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, desc), vm);
    if (vm.count("help")) {
      std::cout << desc << "\n";
      return 0;
    }
    if (vm.count("version")) {
      std::cout << "casskop " << OPERATOR_VERSION << "\n";
      return 0;
    }
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "casskop: " << e.what() << "\n" << desc << "\n";
    return 2;
  }
  casskop::casskop_config config;
  try {
    config = config_file.empty()
                 ? casskop::from_environment([](const char* k) { return std::getenv(k); })
                 : casskop::load_config_file(config_file);
    if (!config_file.empty())
      casskop::set_pod_name(config, [](const char* k) { return std::getenv(k); });
  } catch (const std::exception& e) {
    std::cerr << "casskop: " << e.what() << "\n";
    return 2;
  }
  runtime::apply_logging(config);

  runtime::host_options ho;
  ho.program = "casskop";
  ho.version = OPERATOR_VERSION;
  ho.config_file = config_file;
  ho.load = [](const std::string& path) -> std::shared_ptr<runtime::host_config> {
    auto c = std::make_shared<casskop::casskop_config>(casskop::load_config_file(path));
    casskop::set_pod_name(*c, [](const char* k) { return std::getenv(k); });
    return c;
  };
  ho.config_json = [](const runtime::host_config& c) {
    return casskop::config_json(dynamic_cast<const casskop::casskop_config&>(c));
  };
  runtime::host host(std::move(ho), std::make_shared<casskop::casskop_config>(std::move(config)));
  host.add(casskop::make_casskop_controller());
  const int rc = host.run();
  // As multi-casskop: leave without the exit handlers (a cpprest thread may still be finishing
  // a request while OpenSSL is cleaned up under it).
  std::fflush(nullptr);
  std::_Exit(rc);
}
