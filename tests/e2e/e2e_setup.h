// Setting up multi-casskop end-to-end tests: a kubesim world with both CRDs and the namespace in
// every cluster, MultiCasskops the tests write, and reading what the clusters hold as a user
// would. Shared by the e2e test files.
#pragma once

#include <doctest/doctest.h>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "k8s/json/json.h"
#include "k8s/json/yaml_json.h"
#include "tests/support/kubesim_fixture.h"
#include "tests/support/operator_fixture.h"

namespace e2e {

namespace js = k8s::json;
using testsupport::api_client;
using testsupport::operator_config_options;
using testsupport::operator_process;
using testsupport::read_file;

inline const std::string kNs = "cassandra-e2e";
inline const std::string kC1 = "k8s-cluster1", kC2 = "k8s-cluster2", kC3 = "k8s-cluster3";
inline const std::string kCCs = "/apis/db.orange.com/v2/namespaces/" + kNs + "/cassandraclusters";
inline const std::string kMCCs = "/apis/db.orange.com/v2/namespaces/" + kNs + "/multicasskops";

// ---- what the clusters hold ----

// CassKop v2.1.0's record of the spec it last reconciled holds the spec the object has now.
inline bool casskop_reconciled(const js::Value& cc) {
  auto record = js::get_string(cc, {"metadata", "annotations",
                                    "cassandraclusters.db.orange.com/last-applied-configuration"});
  if (record.empty()) return false;
  auto d = js::parse(record);
  const js::Value* recorded = js::find(d, "spec");
  const js::Value* spec = js::find(cc, "spec");
  return recorded && spec && *recorded == *spec;
}

// Running and Done for the spec it has now: as its observedGeneration says (the stand-in's
// observed-generation flavor), else as CassKop's record says (CassKop v2.1.0, the default).
inline bool cc_ready(const js::Value& cc) {
  if (js::get_string(cc, {"status", "phase"}) != "Running" ||
      js::get_string(cc, {"status", "lastClusterActionStatus"}) != "Done")
    return false;
  if (const js::Value* og = js::find_path(cc, {"status", "observedGeneration"}))
    return og->IsInt64() && og->GetInt64() >= js::get_int(cc, {"metadata", "generation"}, 0);
  return casskop_reconciled(cc);
}
inline bool cc_ready(const std::optional<js::Document>& cc) {
  return cc && cc_ready(*cc);
}
inline int64_t nodes(const js::Value& cc) {
  return js::get_int(cc, {"spec", "nodesPerRacks"}, -1);
}
inline std::string uid(const js::Value& o) {
  return std::string(js::get_string(o, {"metadata", "uid"}));
}
inline std::string rv(const js::Value& o) {
  return std::string(js::get_string(o, {"metadata", "resourceVersion"}));
}

inline std::vector<std::string> strings_at(const js::Value& o,
                                           std::initializer_list<std::string_view> path) {
  std::vector<std::string> out;
  if (const js::Value* l = js::find_path(o, path); l && l->IsArray())
    for (const auto& e : l->GetArray())
      if (e.IsString()) out.emplace_back(js::view(e));
  return out;
}

// A field of the MultiCasskop's condition `type` ("" when there is no such condition).
inline std::string condition(const js::Value& mcc, const std::string& type,
                             const char* field = "status") {
  if (const js::Value* cs = js::find_path(mcc, {"status", "conditions"}); cs && cs->IsArray())
    for (const auto& c : cs->GetArray())
      if (js::get_string(c, "type") == type) return std::string(js::get_string(c, field));
  return "";
}

// The MultiCasskop's status entry for `region`, or null.
inline const js::Value* region_entry(const js::Value& mcc, const std::string& region) {
  if (const js::Value* rs = js::find_path(mcc, {"status", "regions"}); rs && rs->IsArray())
    for (const auto& r : rs->GetArray())
      if (js::get_string(r, "name") == region) return &r;
  return nullptr;
}

// A string field of the MultiCasskop's status entry for `region` ("" when there is none).
inline std::string region_field(const js::Value& mcc, const std::string& region,
                                const char* field = "phase") {
  const js::Value* r = region_entry(mcc, region);
  return r ? std::string(js::get_string(*r, field)) : "";
}

// Ready for the spec it has now.
inline bool mcc_ready(const js::Value& mcc) {
  return condition(mcc, "Ready") == "True" &&
         js::get_int(mcc, {"status", "observedGeneration"}, -1) ==
             js::get_int(mcc, {"metadata", "generation"}, 0);
}

// ---- MultiCasskops the tests write ----

struct mcc_def {
  std::string name = "multi";
  std::string cc_name = "cassandra-e2e";
  bool delete_cc = true;
  int nodes = 1;
  std::vector<std::string> regions;  // an override entry for each, with its own DC
  std::string base_name;             // base.metadata.name; "" = cc_name
};

inline mcc_def mcc_of(std::string name, std::string cc_name, bool delete_cc,
                      std::vector<std::string> regions, std::string base_name = "") {
  mcc_def d;
  d.name = std::move(name);
  d.cc_name = std::move(cc_name);
  d.delete_cc = delete_cc;
  d.regions = std::move(regions);
  d.base_name = std::move(base_name);
  return d;
}

inline std::string mcc_json(const mcc_def& d) {
  std::string overrides;
  for (size_t i = 0; i < d.regions.size(); ++i)
    overrides += fmt::format(
        R"({}"{}":{{"spec":{{"topology":{{"dc":[{{"name":"dc{}","rack":[{{"name":"rack1"}}]}}]}}}}}})",
        i ? "," : "", d.regions[i], i + 1);
  return fmt::format(
      R"({{"apiVersion":"db.orange.com/v2","kind":"MultiCasskop",
           "metadata":{{"name":"{}","namespace":"{}"}},
           "spec":{{"deleteCassandraCluster":{},
             "base":{{"apiVersion":"db.orange.com/v2","kind":"CassandraCluster",
                     "metadata":{{"name":"{}","namespace":"{}","labels":{{"cluster":"casskop"}}}},
                     "spec":{{"cassandraImage":"cassandra:3.11.10","nodesPerRacks":{},"dataCapacity":"1Gi"}}}},
             "override":{{{}}}}}}})",
      d.name, kNs, d.delete_cc ? "true" : "false", d.base_name.empty() ? d.cc_name : d.base_name,
      kNs, d.nodes, overrides);
}

// Which CassandraCluster CRD the clusters have, as users install them.
enum class cc_crd {
  ours,               // deploy/crds
  casskop_v21,        // CassKop v2.1.0's own (its Helm chart): tests/fixtures/casskop-v2.1.0
  ours_over_casskop,  // CassKop's first, then ours applied over it, as the README says
};
inline const char* to_string(cc_crd c) {
  return c == cc_crd::ours          ? "ours"
         : c == cc_crd::casskop_v21 ? "CassKop v2.1.0's"
                                    : "ours over CassKop's";
}

// Runs the calling test case once per CassandraCluster CRD a user can have (doctest subcases:
// each run enters one), and says which one this run has.
inline cc_crd each_cassandracluster_crd(bool also_ours_over_casskop = false) {
  cc_crd crd = cc_crd::ours;
  SUBCASE("our CassandraCluster CRD") {
    crd = cc_crd::ours;
  }
  SUBCASE("CassKop v2.1.0's CRD") {
    crd = cc_crd::casskop_v21;
  }
  if (also_ours_over_casskop) {
    SUBCASE("ours applied over CassKop's") {
      crd = cc_crd::ours_over_casskop;
    }
  }
  return crd;
}

inline std::string crd_json(const std::string& path) {
  return js::to_string(js::yaml_to_json(read_file(std::string(SOURCE_DIR) + path)));
}

// Cluster k1 of `sim` made ready for the casskop binary: the CassandraCluster CRD (ours, or
// v2.1.0's) and the namespace kNs. Returns the path of a casskop config file for it; `extra`
// (top-level YAML keys, e.g. "jolokia:\n  timeoutSeconds: 2\n") is appended.
inline std::string prepare_casskop_cluster(testsupport::kubesim_instance& sim, api_client& api,
                                           cc_crd crd = cc_crd::ours,
                                           const std::string& extra = "") {
  if (crd == cc_crd::ours) {
    auto r = sim.kubectl(
        "k1", {"apply", "-f",
               std::string(SOURCE_DIR) + "/deploy/crds/db.orange.com_cassandraclusters.yaml"});
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  } else {
    auto r = api.request("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
                         crd_json("/tests/fixtures/casskop-v2.1.0/cassandraclusters-crd.yaml"));
    REQUIRE_MESSAGE(r.status == 201, r.body);
  }
  auto r =
      api.request("POST", "/api/v1/namespaces",
                  R"({"apiVersion":"v1","kind":"Namespace","metadata":{"name":")" + kNs + R"("}})");
  REQUIRE_MESSAGE(r.status == 201, r.body);
  const std::string path = sim.state_dir() + "/casskop.yaml";
  testsupport::write_file(
      path, fmt::format("namespace: {}\nclusters:\n  - name: k1\n    kubeconfig: {}\nadmin: "
                        "{{address: \"127.0.0.1:0\"}}\n{}",
                        kNs, sim.kubeconfig("k1"), extra));
  return path;
}

// kubesim with the given clusters, each with the CRDs and the namespace, and the CassKop
// stand-in: CassKop v2.1.0 as it is, its own pace scaled down 100 times (50 ms requeue, 200 ms
// before an action's end is checked), a rack's pods ready `delay_ms` after a change.
class world {
 public:
  explicit world(std::vector<std::string> clusters = {kC1, kC2}, int delay_ms = 300,
                 cc_crd crd = cc_crd::ours)
      : clusters(clusters),
        sim(clusters, {"--simulate-casskop", "--casskop-delay-ms", std::to_string(delay_ms),
                       "--casskop-time-scale", "0.01"}) {
    std::vector<std::string> crds;
    if (crd != cc_crd::ours)
      crds.push_back(crd_json("/tests/fixtures/casskop-v2.1.0/cassandraclusters-crd.yaml"));
    crds.push_back(crd_json("/deploy/crds/db.orange.com_multicasskops.yaml"));
    for (const auto& c : clusters) {
      clients_[c].reset(new api_client(sim.client(c)));
      for (const auto& crd_body : crds) {
        auto r = api(c).request("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
                                crd_body);
        REQUIRE_MESSAGE(r.status == 201, r.body);
      }
      if (crd != cc_crd::casskop_v21) {  // ours, created or applied over CassKop's with kubectl
        auto r = sim.kubectl(
            c, {"apply", "-f",
                std::string(SOURCE_DIR) + "/deploy/crds/db.orange.com_cassandraclusters.yaml"});
        REQUIRE_MESSAGE(r.exit_code == 0, r.err);
      }
      auto r = api(c).request(
          "POST", "/api/v1/namespaces",
          R"({"apiVersion":"v1","kind":"Namespace","metadata":{"name":")" + kNs + R"("}})");
      REQUIRE_MESSAGE(r.status == 201, r.body);
    }
  }

  api_client& api(const std::string& cluster) { return *clients_.at(cluster); }
  // After a token rotation: the test's client for `cluster` takes the current token.
  void refresh_client(const std::string& cluster) {
    clients_[cluster].reset(new api_client(sim.client(cluster)));
  }

  // The operator, configured for every cluster of this world (or the given ones).
  operator_config_options config(std::vector<std::string> regions = {}) const {
    operator_config_options o;
    o.clusters = regions.empty() ? clusters : regions;
    return o;
  }

  void casskop_delay(const std::string& cluster, int ms) {
    auto r = sim.control(cluster, "casskop", "delayMs=" + std::to_string(ms));
    REQUIRE_MESSAGE(r.status == 200, r.body);
  }
  void set_reachable(const std::string& cluster, bool on) {
    auto r = sim.control(cluster, on ? "reachable" : "unreachable");
    REQUIRE_MESSAGE(r.status == 200, r.body);
  }

  std::optional<js::Document> cc(const std::string& cluster,
                                 const std::string& name = "cassandra-e2e") {
    auto r = api(cluster).get(kCCs + "/" + name);
    if (r.status == 404) return std::nullopt;
    REQUIRE_MESSAGE(r.status == 200, r.body);
    return r.json();
  }
  std::optional<js::Document> mcc_if(const std::string& name) {
    auto r = api(clusters.front()).get(kMCCs + "/" + name);
    if (r.status == 404) return std::nullopt;
    REQUIRE_MESSAGE(r.status == 200, r.body);
    return r.json();
  }
  js::Document mcc(const std::string& name) {
    auto m = mcc_if(name);
    REQUIRE_MESSAGE(m.has_value(), "MultiCasskop " << name << " is missing");
    return std::move(*m);
  }
  void create_mcc(const mcc_def& d) {
    auto r = api(clusters.front()).request("POST", kMCCs, mcc_json(d));
    REQUIRE_MESSAGE(r.status == 201, r.body);
  }
  void patch_mcc(const std::string& name, const std::string& merge_patch) {
    auto r = api(clusters.front())
                 .request("PATCH", kMCCs + "/" + name, merge_patch, "application/merge-patch+json");
    REQUIRE_MESSAGE(r.status == 200, r.body);
  }
  testsupport::run_result kubectl(const std::vector<std::string>& args,
                                  const std::string& in = "") {
    return sim.kubectl(clusters.front(), args, in);
  }

  // The Events recorded on a MultiCasskop (core/v1, in the local cluster), oldest first.
  std::vector<js::Document> events(const std::string& mcc_name) {
    auto r = api(clusters.front()).get("/api/v1/namespaces/" + kNs + "/events");
    REQUIRE_MESSAGE(r.status == 200, r.body);
    std::vector<js::Document> out;
    auto d = r.json();
    if (const js::Value* items = js::find(d, "items"); items && items->IsArray())
      for (const auto& e : items->GetArray())
        if (js::get_string(e, {"involvedObject", "kind"}) == "MultiCasskop" &&
            js::get_string(e, {"involvedObject", "name"}) == mcc_name) {
          js::Document copy;
          copy.CopyFrom(e, copy.GetAllocator());
          out.push_back(std::move(copy));
        }
    return out;
  }
  // Reasons of the Events recorded on a MultiCasskop, oldest first.
  std::vector<std::string> event_reasons(const std::string& mcc_name) {
    std::vector<std::string> out;
    for (const auto& e : events(mcc_name)) out.emplace_back(js::get_string(e, "reason"));
    return out;
  }
  bool has_event(const std::string& mcc_name, const std::string& reason) {
    auto all = event_reasons(mcc_name);
    return std::find(all.begin(), all.end(), reason) != all.end();
  }

  // What to print when a wait fails: the MultiCasskop's status and the operator's last lines.
  std::string explain(const std::string& mcc_name, const operator_process& op) {
    // No doctest assertion in here: this runs while doctest reports a failed one (as its
    // message), under the reporter's lock, and an assertion would deadlock it.
    std::string out = "MultiCasskop " + mcc_name + ": ";
    auto r = api(clusters.front()).get(kMCCs + "/" + mcc_name);
    if (r.status == 404) {
      out += "(none)";
    } else if (r.status != 200) {
      out += "(cannot read it: " + std::to_string(r.status) + " " + r.body + ")";
    } else {
      auto m = r.json();
      if (const js::Value* s = js::find(m, "status")) out += js::to_string(*s);
    }
    std::string log = op.log();
    out += "\noperator log (end):\n" + log.substr(log.size() > 6000 ? log.size() - 6000 : 0);
    return out;
  }

  std::vector<std::string> clusters;
  testsupport::kubesim_instance sim;

 private:
  std::map<std::string, std::unique_ptr<api_client>> clients_;
};

// ---- the operator's admin endpoint ----

// Its address, from the operator's log (the generated configs ask for port 0).
inline std::string admin_address(const operator_process& op) {
  REQUIRE_MESSAGE(op.wait_for_log("msg=\"Admin endpoint listening\"", std::chrono::seconds(10)),
                  op.log());
  static const std::regex re(R"re(msg="Admin endpoint listening" address="?([0-9.]+:[0-9]+))re");
  std::smatch m;
  const std::string log = op.current_log();
  REQUIRE_MESSAGE(std::regex_search(log, m, re), log);
  REQUIRE(m[1].str().substr(m[1].str().find(':')) != ":0");
  return m[1].str();
}

inline api_client admin_client(const std::string& address, const std::string& token = "") {
  return api_client({"http://" + address, token, "", "", "", std::chrono::seconds(10)});
}

// The value of the series `name` in a Prometheus scrape whose labels include every pair of
// `labels` (nullopt: no such series).
inline std::optional<double> metric(
    const std::string& scrape, const std::string& name,
    const std::vector<std::pair<std::string, std::string>>& labels = {}) {
  std::istringstream in(scrape);
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    auto end = line.find_first_of("{ ");
    if (end == std::string::npos || line.substr(0, end) != name) continue;
    auto space = line.rfind(' ');
    const std::string series = line.substr(0, space);
    bool all = true;
    for (const auto& [k, v] : labels)
      if (series.find(k + "=\"" + v + "\"") == std::string::npos) all = false;
    if (all) return std::stod(line.substr(space + 1));
  }
  return std::nullopt;
}

// Samples the regions from the last to the first and checks the rollout contract on what it
// reads: a region `released` (created, or carrying the new spec) while an earlier region, read
// after it, is not yet released and Ready is a region released early. Readiness only grows
// during a rollout, so reading the earlier region later can only favour the operator.
struct rollout_probe {
  world& w;
  std::vector<std::string> regions;
  std::string cc_name = "cassandra-e2e";
  std::function<bool(const js::Value&)> released = [](const js::Value&) { return true; };

  std::vector<std::string> violations;
  std::vector<bool> held_back;   // region i+1 seen waiting while region i was in progress
  std::vector<int> released_at;  // sample number at which each region was first seen released

  rollout_probe(world& w, std::vector<std::string> r) : w(w), regions(std::move(r)) {
    held_back.assign(regions.size(), false);
    released_at.assign(regions.size(), -1);
  }

  // One sample; true once the last region is released and Ready.
  bool sample() {
    ++samples;
    std::vector<std::optional<js::Document>> docs(regions.size());
    for (size_t i = regions.size(); i-- > 0;) docs[i] = w.cc(regions[i], cc_name);
    auto rel = [&](size_t i) { return docs[i] && released(*docs[i]); };
    for (size_t i = 0; i < regions.size(); ++i) {
      if (rel(i) && released_at[i] < 0) released_at[i] = samples;
      if (i + 1 == regions.size()) break;
      if (rel(i + 1) && !(rel(i) && cc_ready(*docs[i])))
        violations.push_back(fmt::format("{} released while {} was not Ready (sample {})",
                                         regions[i + 1], regions[i], samples));
      if (rel(i) && !cc_ready(*docs[i]) && !rel(i + 1)) held_back[i] = true;
    }
    return rel(regions.size() - 1) && cc_ready(*docs.back());
  }

  int samples = 0;
};

}  // namespace e2e
