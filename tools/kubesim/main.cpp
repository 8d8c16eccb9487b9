// kubesim --state-dir DIR --cluster NAME [--cluster NAME ...] [--insecure-http]
//         [--simulate-workloads [--simulate-cassandra]]
//         [--simulate-casskop [--casskop-flavor F] ...]
#include <malloc.h>

#include <iostream>

#include <boost/program_options.hpp>

#include "k8s/api/openssl_lifetime.h"
#include "k8s/base/signals.h"
#include "tools/kubesim/builtin_schema.h"
#include "tools/kubesim/simulator.h"

namespace po = boost::program_options;

int main(int argc, char** argv) {
  k8s::openssl::keep_until_exit();
  // The store only grows while a test writes: without padding, glibc grows each thread's arena a
  // few pages per allocation that misses, and that growth was a quarter of a write's cost.
  mallopt(M_TOP_PAD, 64 << 20);
  kubesim::simulator_options o;
  std::string state_dir;
  po::options_description desc("kubesim: a multi-cluster Kubernetes API emulator");
  desc.add_options()("help,h", "show this help")(
      "state-dir", po::value(&state_dir)->required(),
      "folder for the per-cluster kubeconfig and service-account files")(
      "cluster", po::value(&o.clusters)->required(), "a cluster name (repeat for more clusters)")(
      "insecure-http", po::bool_switch(&o.insecure_http),
      "serve plain HTTP instead of HTTPS, without authentication (kubectl sends no "
      "credentials over HTTP), as the old --insecure-port")(
      "simulate-workloads", po::bool_switch(&o.simulate_workloads),
      "run a StatefulSet controller and kubelet stand-in")(
      "pod-ready-delay-ms", po::value(&o.pod_ready_delay_ms)->default_value(1000),
      "with --simulate-workloads: how long a pod takes to become Ready")(
      "simulate-cassandra", po::bool_switch(&o.simulate_cassandra),
      "with --simulate-workloads: pods running a `cassandra` container are simulated Cassandra "
      "nodes (a 127.x pod IP, Jolokia on <podIP>:8778, Ready by the readiness probe)")(
      "cassandra-ip-prefix", po::value(&o.cassandra_ip_prefix)->default_value(0),
      "with --simulate-cassandra: x of the first 127.x.0.0/16 pod IPs are taken from (0: drawn "
      "at random; another is drawn whenever an address is taken)")(
      "probe-time-scale", po::value(&o.probe_time_scale)->default_value(1.0),
      "with --simulate-cassandra: factor on the Cassandra pods' readiness and liveness probes' "
      "initialDelaySeconds and periodSeconds (not timeoutSeconds: it is compared with the real "
      "Jolokia delay faults); 0.01 makes casskop's readiness delay 60 s and period 10 s into "
      "600 ms and 100 ms. Also cassandra/speeds?probeTimeScale= on the control API")(
      "simulate-casskop", po::bool_switch(&o.simulate_casskop),
      "run a CassKop stand-in that moves CassandraCluster status (on every cluster)")(
      "casskop-delay-ms", po::value(&o.casskop_delay_ms)->default_value(1000),
      "with --simulate-casskop: how long a CassandraCluster action takes (a rack's pods becoming "
      "ready)")(
      "casskop-flavor", po::value(&o.casskop_flavor)->default_value("v2.1.0"),
      "with --simulate-casskop: v2.1.0 (CassKop v2.1.0 as it is: plain whole-object updates, no "
      "observedGeneration) or observed-generation (status through /status with "
      "observedGeneration)")(
      "casskop-time-scale", po::value(&o.casskop_time_scale)->default_value(1.0),
      "with --simulate-casskop v2.1.0: factor on CassKop's own pace (5 s requeue, 20 s before an "
      "action is checked); 0.01 makes them 50 ms and 200 ms")(
      "bookmark-interval-ms", po::value(&o.bookmark_interval_ms)->default_value(60000),
      "interval of BOOKMARK events on watches that ask for them")(
      "history", po::value(&o.history_limit)->default_value(10000),
      "watch events kept per cluster; older resourceVersions get 410 Gone")(
      "threads", po::value(&o.threads)->default_value(2), "server threads");
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, desc), vm);
    if (vm.count("help")) {
      std::cout << desc << "\n";
      return 0;
    }
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "kubesim: " << e.what() << "\n" << desc << "\n";
    return 2;
  }
  o.state_dir = state_dir;
  if (o.casskop_flavor != "v2.1.0" && o.casskop_flavor != "observed-generation") {
    std::cerr << "kubesim: --casskop-flavor must be v2.1.0 or observed-generation\n";
    return 2;
  }
  if (!(o.casskop_time_scale > 0 && o.casskop_time_scale <= 1000)) {
    std::cerr << "kubesim: --casskop-time-scale must be above 0 (at most 1000)\n";
    return 2;
  }
  if (!(o.probe_time_scale > 0 && o.probe_time_scale <= 1000)) {
    std::cerr << "kubesim: --probe-time-scale must be above 0 (at most 1000)\n";
    return 2;
  }
  for (const auto& c : o.clusters) {
    if (c.empty() || c.find('/') != std::string::npos || c == "control") {
      std::cerr << "kubesim: invalid cluster name \"" << c << "\"\n";
      return 2;
    }
  }

  k8s::block_termination_signals();

  kubesim::simulator sim(o);
  try {
    // The built-in types once, now: a broken embedded model fails the start, not a write.
    kubesim::builtin_schema::model::get();
    sim.start();
  } catch (const std::exception& e) {
    std::cerr << "kubesim: " << e.what() << "\n";
    return 1;
  }
  for (const auto& c : sim.clusters())
    std::cout << "cluster " << c->name << " " << c->listener->url() << " kubeconfig "
              << (o.state_dir / c->name / "kubeconfig").string() << "\n";
  std::cout << "control " << sim.control_url() << "\n";
  std::cout << "kubesim ready" << std::endl;
  int sig = k8s::wait_for_termination();
  std::cout << "kubesim stopping (signal " << sig << ")" << std::endl;
  sim.stop();
  sim.run();
  return 0;
}
