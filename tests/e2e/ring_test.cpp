// The whole chain ending in one Cassandra ring (issue 13 item 5): kubesim with two regions,
// --simulate-workloads --simulate-cassandra (its pods are simulated Cassandra nodes, their probes
// 100x faster), our casskop in each region, multi-casskop over both, and the seed's sample
// (deploy/samples/multi-casskop.yaml) applied in region 1 as the README says. The ring is read as
// the seed reads it, `kubectl exec <pod> -- nodetool status` in a pod of region 1 (real kubectl),
// and through kubesim's control API.
#include <doctest/doctest.h>

#include <regex>
#include <set>

#include "tests/e2e/e2e_setup.h"

namespace {

using namespace e2e;
using namespace std::chrono_literals;
using testsupport::eventually;

const std::string kCC = "cassandra-e2e";
const std::string kPods = "/api/v1/namespaces/" + kNs + "/pods";
const std::vector<std::string> kRegions{kC1, kC2};
// The sample's topology: dc1 (rack1, rack2) in region 1, dc2 (rack4, rack5) in region 2, two
// nodes per rack.
const size_t kNodesPerRegion = 4;
const std::string kAnnotation =
    "          external-dns.alpha.kubernetes.io/hostname: my.zone.dns.net.\n";

std::string sample() {
  return read_file(std::string(SOURCE_DIR) + "/deploy/samples/multi-casskop.yaml");
}

// The sample without the Service annotation external-DNS publishes the pods' names from. Its
// seeds name pods only by those names (<pod>.my.zone.dns.net), which then resolve nowhere, so
// every node would seed itself; the cluster DNS names of each region's first pods are added to
// the seed list, as a user without external-DNS would, so each region forms a ring of its own.
std::string sample_without_external_dns() {
  std::string y = sample();
  const auto at = y.find(kAnnotation);
  REQUIRE(at != std::string::npos);
  y.erase(at, kAnnotation.size());
  y = std::regex_replace(y, std::regex("      service:\n        annotations:\n(\\s*#[^\n]*\n)?"),
                         "");
  const std::string last = "      - cassandra-e2e-dc2-rack4-1.my.zone.dns.net\n";
  const auto seeds_end = y.find(last);
  REQUIRE(seeds_end != std::string::npos);
  y.insert(seeds_end + last.size(),
           "      - cassandra-e2e-dc1-rack1-0.cassandra-e2e.cassandra-e2e\n"
           "      - cassandra-e2e-dc2-rack4-0.cassandra-e2e.cassandra-e2e\n");
  return y;
}

struct ring_world {
  testsupport::kubesim_instance sim;
  std::vector<std::unique_ptr<api_client>> api;
  std::vector<std::unique_ptr<operator_process>> casskop;
  std::unique_ptr<operator_process> multi;

  ring_world()
      : sim(kRegions, {"--simulate-workloads", "--simulate-cassandra", "--probe-time-scale", "0.01",
                       "--bookmark-interval-ms", "100"}) {
    for (const auto& c : kRegions) {
      api.emplace_back(new api_client(sim.client(c)));
      for (const char* crd : {"/deploy/crds/db.orange.com_multicasskops.yaml",
                              "/deploy/crds/db.orange.com_cassandraclusters.yaml"}) {
        auto r = api.back()->request(
            "POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd_json(crd));
        REQUIRE_MESSAGE(r.status == 201, r.body);
      }
      auto r = api.back()->request(
          "POST", "/api/v1/namespaces",
          R"({"apiVersion":"v1","kind":"Namespace","metadata":{"name":")" + kNs + R"("}})");
      REQUIRE_MESSAGE(r.status == 201, r.body);
    }
    for (const auto& c : kRegions) {
      const std::string config = sim.state_dir() + "/casskop-" + c + ".yaml";
      testsupport::write_file(config, fmt::format(R"(namespace: {}
clusters:
  - name: {}
    kubeconfig: {}
admin: {{address: "127.0.0.1:0"}}
)",
                                                  kNs, c, sim.kubeconfig(c)));
      casskop.push_back(std::make_unique<operator_process>(
          operator_process::binary{CASSKOP_BIN}, std::vector<std::string>{"--config", config}));
    }
    operator_config_options o;
    o.clusters = kRegions;
    multi = std::make_unique<operator_process>(sim, o);
  }
  ~ring_world() {
    if (multi) multi->stop();
    for (auto& c : casskop) c->stop();
  }

  void apply(const std::string& yaml) {
    auto r = sim.kubectl(kC1, {"apply", "-f", "-"}, yaml);
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  }
  // The Cassandra pods of region `i` Ready, by name.
  std::set<std::string> ready_pods(size_t i) {
    auto r = api[i]->get(kPods);
    REQUIRE_MESSAGE(r.status == 200, r.body);
    auto d = r.json();
    std::set<std::string> out;
    for (const auto& p : d["items"].GetArray())
      if (const js::Value* cs = js::find_path(p, {"status", "conditions"}); cs && cs->IsArray())
        for (const auto& cond : cs->GetArray())
          if (js::get_string(cond, "type") == "Ready" && js::get_string(cond, "status") == "True")
            out.emplace(js::get_string(p, {"metadata", "name"}));
    return out;
  }
  bool all_ready() {
    for (size_t i = 0; i < kRegions.size(); ++i)
      if (ready_pods(i).size() != kNodesPerRegion) return false;
    return true;
  }
  // kubesim's view: every simulated Cassandra pod of region `i` (pod, ip, mode, ring).
  js::Document nodes(size_t i) {
    auto r = sim.control(kRegions[i], "cassandra/pods");
    REQUIRE_MESSAGE(r.status == 200, r.body);
    return r.json();
  }
  // `kubectl exec <pod> -- nodetool status` in region `i`.
  testsupport::run_result nodetool_status(size_t i, const std::string& pod) {
    return sim.kubectl(kRegions[i], {"-n", kNs, "exec", pod, "--", "nodetool", "status"});
  }
  std::string diagnose() {
    std::string out;
    for (size_t i = 0; i < kRegions.size(); ++i) {
      out += kRegions[i] + " nodes: " + js::to_string(nodes(i)) + "\n";
      std::string log = casskop[i]->log();
      out += "casskop " + kRegions[i] + " log (end):\n" +
             log.substr(log.size() > 2000 ? log.size() - 2000 : 0);
    }
    std::string log = multi->log();
    out += "multi-casskop log (end):\n" + log.substr(log.size() > 2000 ? log.size() - 2000 : 0);
    return out;
  }
};

// nodetool status's node lines: status+state ("UN"), then the address.
struct ring_line {
  std::string state, address;
  int tokens = 0;
};
struct ring_view {
  std::vector<std::string> datacenters;
  std::vector<ring_line> nodes;
};
ring_view parse_nodetool_status(const std::string& text) {
  ring_view v;
  std::istringstream in(text);
  std::string line;
  // Status+state, address, load ("116.93 KiB", or "?"), tokens.
  const std::regex node(R"(^([UD][NJLM])\s+(\d+\.\d+\.\d+\.\d+)\s+(?:\S+ \S+|\?)\s+(\d+)\s)");
  std::smatch m;
  while (std::getline(in, line)) {
    if (line.rfind("Datacenter: ", 0) == 0) v.datacenters.push_back(line.substr(12));
    if (std::regex_search(line, m, node)) v.nodes.push_back({m[1], m[2], std::stoi(m[3])});
  }
  return v;
}

// Reads `nodetool status` in `pod` of region `i` until it lists `n` nodes, every one UN (a pod
// may still be rolling when its region's pods first show Ready); `out` and `ring` keep the last.
bool ring_settles(ring_world& w, size_t i, const std::string& pod, size_t n,
                  testsupport::run_result& out, ring_view& ring) {
  return eventually(
      [&] {
        out = w.nodetool_status(i, pod);
        ring = parse_nodetool_status(out.out);
        return out.exit_code == 0 && ring.nodes.size() == n &&
               std::all_of(ring.nodes.begin(), ring.nodes.end(),
                           [](const ring_line& l) { return l.state == "UN"; });
      },
      30s);
}

}  // namespace

TEST_CASE("ring: the seed's sample across two regions ends in one ring of every node, UN") {
  ring_world w;
  w.apply(sample());
  REQUIRE_MESSAGE(eventually([&] { return w.all_ready(); }, 120s), w.diagnose());

  // What every node's pod IP is, from kubesim's view of both regions.
  std::set<std::string> ips;
  std::set<int64_t> rings;
  for (size_t i = 0; i < kRegions.size(); ++i) {
    auto list = w.nodes(i);
    REQUIRE(list.IsArray());
    CHECK(list.Size() == kNodesPerRegion);
    for (const auto& p : list.GetArray()) {
      ips.emplace(js::get_string(p, {"ip"}));
      rings.insert(js::get_int(p, {"ring"}, 0));
    }
  }
  CHECK(ips.size() == 2 * kNodesPerRegion);

  // The seed's check, in a pod of region 1: both DCs, every node Up and Normal, one ring.
  ring_view ring;
  testsupport::run_result out;
  CHECK_MESSAGE(ring_settles(w, 0, kCC + "-dc1-rack1-0", ips.size(), out, ring),
                out.out << out.err << "\n"
                        << w.diagnose());
  INFO(out.out);
  CHECK(ring.datacenters == std::vector<std::string>{"dc1", "dc2"});
  std::set<std::string> listed;
  for (const auto& l : ring.nodes) {
    listed.insert(l.address);
    CHECK(l.tokens == 32);  // the sample's config.cassandra-yaml.num_tokens, through casskop
  }
  CHECK(listed == ips);
  // The control API agrees: one ring, every node NORMAL.
  CHECK(rings.size() == 1);
  for (size_t i = 0; i < kRegions.size(); ++i) {
    const auto list = w.nodes(i);
    for (const auto& p : list.GetArray()) {
      CHECK(js::get_string(p, {"mode"}) == "NORMAL");
      CHECK(js::get_int(p, {"ring"}, 0) == *rings.begin());
    }
  }
  // And the MultiCasskop says both regions are Ready.
  auto m = w.api[0]->get(kMCCs + "/multi-casskop-e2e");
  REQUIRE(m.status == 200);
  CHECK(eventually([&] { return mcc_ready(w.api[0]->get(kMCCs + "/multi-casskop-e2e").json()); }));
}

TEST_CASE("ring: without the external-DNS annotation each region forms a ring of its own") {
  ring_world w;
  w.apply(sample_without_external_dns());
  REQUIRE_MESSAGE(eventually([&] { return w.all_ready(); }, 120s), w.diagnose());
  // Pods Ready is not the end of the rollout (a seed-list roll may still restart one): the
  // MultiCasskop Ready is, both regions' CassandraClusters Running and Done.
  REQUIRE_MESSAGE(
      eventually([&] { return mcc_ready(w.api[0]->get(kMCCs + "/multi-casskop-e2e").json()); },
                 60s),
      w.diagnose());
  std::set<int64_t> rings;
  std::vector<std::set<int64_t>> per_region(kRegions.size());
  for (size_t i = 0; i < kRegions.size(); ++i) {
    const auto list = w.nodes(i);
    for (const auto& p : list.GetArray()) {
      rings.insert(js::get_int(p, {"ring"}, 0));
      per_region[i].insert(js::get_int(p, {"ring"}, 0));
    }
  }
  CHECK(rings.size() == 2);
  CHECK(per_region[0].size() == 1);
  CHECK(per_region[1].size() == 1);
  // Each region's nodetool status lists its own DC only: its four nodes, UN.
  const std::vector<std::pair<std::string, std::string>> seen_from{{"dc1", kCC + "-dc1-rack1-0"},
                                                                   {"dc2", kCC + "-dc2-rack4-0"}};
  for (size_t i = 0; i < kRegions.size(); ++i) {
    const auto& [dc, pod] = seen_from[i];
    testsupport::run_result out;
    ring_view ring;
    CHECK_MESSAGE(ring_settles(w, i, pod, kNodesPerRegion, out, ring), out.out << out.err << "\n"
                                                                               << w.diagnose());
    INFO(out.out);
    CHECK(ring.datacenters == std::vector<std::string>{dc});
  }
}
