// A small world for the kubesim cassandra tests: rings of simulated nodes, a name table standing in
// for DNS (`<pod>.cc.ns`), and a clock the test moves.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>

#include "tools/kubesim/cassandra/ring.h"

namespace kubesim_cassandra_test {

using namespace kubesim::cassandra;
using namespace std::chrono_literals;

struct World {
  Rings rings;
  std::map<std::string, std::string> dns;  // name -> pod
  std::map<std::string, DiskState> pvcs;   // pod -> what its PVC holds
  Time now{1'700'000'000'000};
  bool seeds_reachable = true;  // false: no seed answers (split DNS, ref §6 "No reachable seed")

  explicit World(Speeds speeds = {}) { rings.defaults().speeds = speeds; }

  static std::string fqdn(const std::string& pod) { return pod + ".cc.ns"; }

  StartOutcome start(const std::string& pod, const std::string& ip, const std::string& dc,
                     const std::string& rack, const std::string& seeds) {
    dns[fqdn(pod)] = pod;
    StartSpec spec{{pod, ip, "cc", dc, rack}, seeds, {fqdn(pod)}};
    SeedProbe probe = [this](const std::string& name) -> std::optional<std::string> {
      if (!seeds_reachable) return std::nullopt;
      auto it = dns.find(name);
      if (it == dns.end()) return std::nullopt;
      const Node* n = rings.node(it->second);
      if (!n || !n->jvm_up()) return std::nullopt;
      return n->identity().ip;
    };
    StartOutcome out = rings.start(now, spec, pvcs[pod], probe, std::hash<std::string>{}(pod + ip));
    save(pod);
    return out;
  }
  void save(const std::string& pod) {
    if (const Node* n = rings.node(pod)) pvcs[pod] = n->disk();
  }
  void run(Millis d) {
    now += d;
    rings.advance(now);
    for (auto& [pod, disk] : pvcs) save(pod);
  }
  Mode mode(const std::string& pod) { return rings.node(pod)->mode(); }
};

}  // namespace kubesim_cassandra_test
