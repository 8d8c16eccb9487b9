// The whole chain end to end: kubesim with two regions and --simulate-workloads (its
// StatefulSet controller and kubelet stand-in, no CassKop stand-in), our casskop binary in each
// region, multi-casskop over both. An independent recorder watches CassandraClusters and
// StatefulSets of both regions on its own streams and checks, event by event in the order it
// receives them, that region 2 gets a CassandraCluster (or a new image) only while region 1 is
// Ready for it with every StatefulSet at rest, and that never two racks move at once.
#include <doctest/doctest.h>

#include <atomic>
#include <mutex>
#include <thread>
#include <tuple>

#include "tests/e2e/e2e_setup.h"
#include "tests/support/cassandra_objects.h"

namespace {

using namespace e2e;
using namespace std::chrono_literals;
using testsupport::eventually;

const std::string kCC = "cassandra-e2e";
const std::string kMcc = "chain";
const std::string kSts = "/apis/apps/v1/namespaces/" + kNs + "/statefulsets";
const std::string kPods = "/api/v1/namespaces/" + kNs + "/pods";
const std::string kDomain = "chain.example.net";
const std::string kOldImage = "cassandra:3.11.10", kNewImage = "cassandra:3.11.11";
const std::vector<std::string> kRegions{kC1, kC2};
// Per region one DC (dc1 in region 1, dc2 in region 2) of 2 racks x 1 node.
const size_t kRacksPerRegion = 2;

std::vector<std::string> sts_names(size_t region) {
  const std::string dc = "dc" + std::to_string(region + 1);
  return {kCC + "-" + dc + "-rack1", kCC + "-" + dc + "-rack2"};
}

// Computed by multi-casskop (spec.seeds.dnsDomain) by CassKop's rule: 2 racks of 1 node give
// pod 0 of each rack, per DC.
const std::vector<std::string> kSeeds{
    kCC + "-dc1-rack1-0." + kDomain, kCC + "-dc1-rack2-0." + kDomain,
    kCC + "-dc2-rack1-0." + kDomain, kCC + "-dc2-rack2-0." + kDomain};

// As casskop writes them into a StatefulSet (CASSANDRA_SEEDS): comma-separated.
const std::string kSeedsEnv = kSeeds[0] + "," + kSeeds[1] + "," + kSeeds[2] + "," + kSeeds[3];

std::string mcc_body() {
  std::string overrides;
  for (size_t i = 0; i < kRegions.size(); ++i)
    overrides += fmt::format(
        R"({}"{}":{{"spec":{{"topology":{{"dc":[{{"name":"dc{}","rack":[{{"name":"rack1"}},{{"name":"rack2"}}]}}]}}}}}})",
        i ? "," : "", kRegions[i], i + 1);
  return fmt::format(
      R"({{"apiVersion":"db.orange.com/v2","kind":"MultiCasskop",
           "metadata":{{"name":"{}","namespace":"{}"}},
           "spec":{{"deleteCassandraCluster":true,"seeds":{{"dnsDomain":"{}"}},
             "base":{{"apiVersion":"db.orange.com/v2","kind":"CassandraCluster",
                     "metadata":{{"name":"{}","namespace":"{}"}},
                     "spec":{{"cassandraImage":"{}","nodesPerRacks":1,"dataCapacity":"1Gi",
                              "deletePVC":true,"autoUpdateSeedList":false}}}},
             "override":{{{}}}}}}})",
      kMcc, kNs, kDomain, kCC, kNs, kOldImage, overrides);
}

// The bootstrap init container's CASSANDRA_SEEDS ("" when none).
std::string bootstrap_seeds(const js::Value& sts) {
  if (const js::Value* cs = js::find_path(sts, {"spec", "template", "spec", "initContainers"});
      cs && cs->IsArray())
    for (const auto& c : cs->GetArray())
      if (const js::Value* env = js::find(c, "env"); env && env->IsArray())
        for (const auto& e : env->GetArray())
          if (js::get_string(e, "name") == "CASSANDRA_SEEDS")
            return std::string(js::get_string(e, "value"));
  return "";
}

// Watches CassandraClusters and StatefulSets of every region, one stream and thread each (with
// BOOKMARKs, so it knows how far each stream has come), and checks the chain's promises.
// Streams deliver independently (and a loaded machine delays one more than another), so the
// checks use what orders events for sure: within a region, resourceVersions (one counter per
// cluster). Across regions there is no common order: when region i is released, the recorder
// reads region i-1's current resourceVersion at once and checks region i-1's state at that
// resourceVersion. That state is at most a few milliseconds later than the release; region i-1
// only becomes more Ready in that time (nothing else changes it), so a release while region
// i-1 was rolling a rack (a pod restart, 250 ms here) is caught and a correct one never fails.
class chain_recorder {
 public:
  explicit chain_recorder(const testsupport::kubesim_instance& sim) : regions_(kRegions.size()) {
    for (const auto& c : kRegions) readers_.emplace_back(new api_client(sim.client(c)));
    for (size_t i = 0; i < kRegions.size(); ++i)
      for (bool cc : {true, false}) {
        auto stream =
            readers_[i]->stream((cc ? kCCs : kSts) + "?watch=true&allowWatchBookmarks=true");
        REQUIRE(stream->status() == 200);
        streams_.push_back(std::move(stream));
        threads_.emplace_back([this, i, cc, s = streams_.back().get()] { run(*s, i, cc); });
      }
  }
  ~chain_recorder() {
    stop_ = true;
    for (auto& s : streams_) s->cancel();
    for (auto& t : threads_) t.join();
  }

  // Every broken promise so far: a region released (its CassandraCluster created, or given a
  // new image) while the region before it was not Ready for that image with every StatefulSet
  // at rest; two racks of a region moving at once. Waits (bounded) until each region's
  // StatefulSet stream has caught up with its CassandraClusters.
  std::vector<std::string> violations() {
    // Each release's region i-1 resourceVersion read, and both streams of region i-1 past it.
    const bool caught_up = eventually(
        [&] {
          std::lock_guard l(mutex_);
          for (const auto& rel : releases_) {
            const region_state& prev = regions_[rel.region - 1];
            if (!rel.prev_rv || prev.cc_seen_rv < *rel.prev_rv || prev.sts_seen_rv < *rel.prev_rv)
              return false;
          }
          return true;
        },
        10s);
    std::lock_guard l(mutex_);
    std::vector<std::string> out = moving_together_;
    if (!caught_up) out.push_back("the recorder's streams did not catch up");
    for (const auto& rel : releases_) {
      if (!rel.prev_rv) continue;
      std::string why = not_ready_because(regions_[rel.region - 1], *rel.prev_rv, rel.image);
      if (!why.empty())
        out.push_back(fmt::format("{} got {} while {} was not Ready for it: {}",
                                  kRegions[rel.region], rel.image, kRegions[rel.region - 1], why));
    }
    return out;
  }
  // "region image" each time a region after the first got its CassandraCluster or a new image.
  std::vector<std::string> releases() {
    std::lock_guard l(mutex_);
    std::vector<std::string> out;
    for (const auto& rel : releases_) out.push_back(kRegions[rel.region] + " " + rel.image);
    return out;
  }
  // Region `region`'s StatefulSets in the order their cassandra image first became `image`
  // (one stream: resourceVersion order). Across regions the release check orders them.
  std::vector<std::string> rolled_to(size_t region, const std::string& image) {
    std::lock_guard l(mutex_);
    std::vector<std::string> out;
    for (const auto& [r, name, img] : image_changes_)
      if (r == region && img == image) out.push_back(name);
    return out;
  }
  // The most racks of one region seen moving at once.
  int max_moving() const { return max_moving_; }
  std::string timeline() {
    std::lock_guard l(mutex_);
    return timeline_;
  }

 private:
  struct cc_event {
    uint64_t rv;
    js::Document cc;
  };
  struct sts_event {
    uint64_t rv;
    std::string name;
    bool deleted;
    js::Document sts;
  };
  struct region_state {
    std::vector<cc_event> ccs;
    std::vector<sts_event> sts;
    std::map<std::string, js::Document> sts_now;  // in the stream's order (= resourceVersion)
    uint64_t cc_seen_rv = 0, sts_seen_rv = 0;
  };
  struct release {
    size_t region;
    std::string image;
    std::optional<uint64_t> prev_rv;  // region-1's resourceVersion read when it arrived
  };

  static uint64_t rv_of(const js::Value& o) {
    const std::string_view rv = js::get_string(o, {"metadata", "resourceVersion"});
    return rv.empty() ? 0 : std::stoull(std::string(rv));
  }

  void run(testsupport::line_stream& stream, size_t region, bool cc) {
    while (!stop_) {
      auto line = stream.next(200ms);
      if (!line) {
        if (stream.ended()) return;
        continue;
      }
      auto ev = js::parse(*line);
      const js::Value* obj = js::find(ev, "object");
      if (!obj) continue;
      std::optional<size_t> released;
      {
        std::lock_guard l(mutex_);
        released = on_event(region, cc, std::string(js::get_string(ev, "type")), *obj);
      }
      if (!released) continue;
      // The region before, now: a list's resourceVersion is its cluster's current one.
      auto r = readers_[region - 1]->get(kCCs);
      std::lock_guard l(mutex_);
      if (r.status == 200) releases_[*released].prev_rv = rv_of(r.json());
    }
  }

  // Region `r` Ready for `image` at resourceVersion `rv`: its CassandraCluster Running and Done
  // for the spec it has, with that image, and every StatefulSet with that image and at rest.
  static std::string not_ready_because(const region_state& r, uint64_t rv,
                                       const std::string& image) {
    const js::Value* cc = nullptr;
    for (const auto& e : r.ccs)
      if (e.rv <= rv) cc = &e.cc;
    if (!cc) return "no CassandraCluster";
    if (!cc_ready(*cc)) return "CassandraCluster " + js::to_string(*js::find(*cc, "status"));
    if (js::get_string(*cc, {"spec", "cassandraImage"}) != image) return "CassandraCluster image";
    std::map<std::string, const js::Value*> sts;
    for (const auto& s : r.sts)
      if (s.rv <= rv) {
        if (s.deleted)
          sts.erase(s.name);
        else
          sts[s.name] = &s.sts;
      }
    if (sts.size() != kRacksPerRegion) return std::to_string(sts.size()) + " StatefulSets";
    for (const auto& [name, s] : sts) {
      if (testsupport::cassandra_image(*s) != image)
        return name + " has image " + testsupport::cassandra_image(*s);
      if (testsupport::sts_moving(*s))
        return name + " moving: " + js::to_string(*js::find(*s, "status"));
    }
    return "";
  }

  // Records one event; the index of the release it is, if it is one.
  std::optional<size_t> on_event(size_t i, bool is_cc, const std::string& type,
                                 const js::Value& obj) {
    region_state& r = regions_[i];
    const uint64_t rv = rv_of(obj);
    (is_cc ? r.cc_seen_rv : r.sts_seen_rv) = rv;
    if (type == "BOOKMARK") return std::nullopt;
    const std::string region = kRegions[i];
    const std::string name(js::get_string(obj, {"metadata", "name"}));
    if (is_cc) {
      const std::string image(js::get_string(obj, {"spec", "cassandraImage"}));
      timeline_ +=
          fmt::format("{} rv={} CassandraCluster {} {} image={} phase={} action={}/{}\n", region,
                      rv, type, name, image, js::get_string(obj, {"status", "phase"}),
                      js::get_string(obj, {"status", "lastClusterAction"}),
                      js::get_string(obj, {"status", "lastClusterActionStatus"}));
      if (type == "DELETED") return std::nullopt;
      const bool released =
          r.ccs.empty() || js::get_string(r.ccs.back().cc, {"spec", "cassandraImage"}) != image;
      r.ccs.push_back({rv, js::copy_of(obj)});
      if (!released || i == 0) return std::nullopt;
      releases_.push_back({i, image, std::nullopt});
      return releases_.size() - 1;
    }
    const std::string image = testsupport::cassandra_image(obj);
    timeline_ +=
        fmt::format("{} rv={} StatefulSet {} {} image={} ready={}/{} moving={}\n", region, rv, type,
                    name, image, js::get_int(obj, {"status", "readyReplicas"}, 0),
                    js::get_int(obj, {"spec", "replicas"}, 1), testsupport::sts_moving(obj));
    r.sts.push_back({rv, name, type == "DELETED", js::copy_of(obj)});
    if (type == "DELETED") {
      r.sts_now.erase(name);
      return std::nullopt;
    }
    auto it = r.sts_now.find(name);
    if (it == r.sts_now.end() || testsupport::cassandra_image(it->second) != image)
      image_changes_.emplace_back(i, name, image);
    r.sts_now[name] = js::copy_of(obj);
    int n = 0;
    std::string who;
    for (const auto& [sname, s] : r.sts_now)
      if (testsupport::sts_moving(s)) {
        ++n;
        who += " " + sname;
      }
    if (n > 1) moving_together_.push_back(region + ": racks moving together:" + who);
    max_moving_ = std::max(max_moving_.load(), n);
    return std::nullopt;
  }

  std::vector<region_state> regions_;
  std::vector<std::unique_ptr<api_client>> readers_;  // the recorder's own, one per region
  std::vector<std::unique_ptr<testsupport::line_stream>> streams_;
  std::vector<std::thread> threads_;
  std::atomic<bool> stop_{false};
  std::atomic<int> max_moving_{0};
  std::mutex mutex_;
  std::vector<release> releases_;
  std::vector<std::string> moving_together_;
  std::vector<std::tuple<size_t, std::string, std::string>> image_changes_;
  std::string timeline_;
};

// kubesim with workloads in two regions, the CRDs and the namespace in each, casskop in each
// region and multi-casskop over both.
struct chain_world {
  testsupport::kubesim_instance sim;
  std::vector<std::unique_ptr<api_client>> api;
  std::vector<std::unique_ptr<operator_process>> casskop;
  std::unique_ptr<operator_process> multi;

  explicit chain_world(cc_crd crd)
      : sim(kRegions, {"--simulate-workloads", "--pod-ready-delay-ms", "250",
                       "--bookmark-interval-ms", "100"}) {
    for (const auto& c : kRegions) {
      api.emplace_back(new api_client(sim.client(c)));
      std::vector<std::string> crds{crd_json("/deploy/crds/db.orange.com_multicasskops.yaml")};
      crds.push_back(crd == cc_crd::ours
                         ? crd_json("/deploy/crds/db.orange.com_cassandraclusters.yaml")
                         : crd_json("/tests/fixtures/casskop-v2.1.0/cassandraclusters-crd.yaml"));
      for (const auto& body : crds) {
        auto r = api.back()->request(
            "POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", body);
        REQUIRE_MESSAGE(r.status == 201, r.body);
      }
      auto r = api.back()->request(
          "POST", "/api/v1/namespaces",
          R"({"apiVersion":"v1","kind":"Namespace","metadata":{"name":")" + kNs + R"("}})");
      REQUIRE_MESSAGE(r.status == 201, r.body);
    }
  }

  // One casskop per region, each with its own config and that region's kubeconfig.
  void start_operators() {
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

  api_client& region(size_t i) { return *api[i]; }
  std::optional<js::Document> cc(size_t i) {
    auto r = region(i).get(kCCs + "/" + kCC);
    if (r.status == 404) return std::nullopt;
    REQUIRE_MESSAGE(r.status == 200, r.body);
    return r.json();
  }
  js::Document mcc() {
    auto r = region(0).get(kMCCs + "/" + kMcc);
    REQUIRE_MESSAGE(r.status == 200, r.body);
    return r.json();
  }
  js::Document list(size_t i, const std::string& path) {
    auto r = region(i).get(path);
    REQUIRE_MESSAGE(r.status == 200, r.body);
    return r.json();
  }
  // Both regions Ready for `image`, and the MultiCasskop Ready for its spec.
  bool settled(const std::string& image) {
    for (size_t i = 0; i < kRegions.size(); ++i) {
      auto c = cc(i);
      if (!cc_ready(c) || js::get_string(*c, {"spec", "cassandraImage"}) != image) return false;
    }
    return mcc_ready(mcc());
  }
  std::string diagnose(chain_recorder& rec) {
    std::string out = "timeline:\n" + rec.timeline();
    auto r = region(0).get(kMCCs + "/" + kMcc);
    out += "\nMultiCasskop: " + r.body + "\n";
    for (size_t i = 0; i < casskop.size(); ++i) {
      std::string log = casskop[i]->log();
      out += "casskop " + kRegions[i] + " log (end):\n" +
             log.substr(log.size() > 3000 ? log.size() - 3000 : 0);
    }
    std::string log = multi ? multi->log() : "";
    out += "multi-casskop log (end):\n" + log.substr(log.size() > 3000 ? log.size() - 3000 : 0);
    return out;
  }
};

// Every StatefulSet of region `i` (by name) Ready with `image`, its pods Ready, and the seed
// list multi-casskop computed in its CassandraCluster and in every StatefulSet's bootstrap.
void check_region(chain_world& w, size_t i, const std::string& image) {
  CAPTURE(kRegions[i]);
  auto c = w.cc(i);
  REQUIRE(c);
  CHECK(js::get_string(*c, {"status", "phase"}) == "Running");
  CHECK(js::get_string(*c, {"status", "lastClusterActionStatus"}) == "Done");
  CHECK(strings_at(*c, {"status", "seedlist"}) == kSeeds);
  auto sts = w.list(i, kSts);
  std::vector<std::string> names;
  for (const auto& s : sts["items"].GetArray()) {
    const std::string name(js::get_string(s, {"metadata", "name"}));
    CAPTURE(name);
    names.push_back(name);
    CHECK(testsupport::cassandra_image(s) == image);
    CHECK_FALSE(testsupport::sts_moving(s));
    CHECK(js::get_int(s, {"status", "readyReplicas"}, 0) == 1);
    CHECK(bootstrap_seeds(s) == kSeedsEnv);
  }
  CHECK(names == sts_names(i));
  auto pods = w.list(i, kPods);
  std::vector<std::string> ready;
  for (const auto& p : pods["items"].GetArray())
    if (const js::Value* cs = js::find_path(p, {"status", "conditions"}); cs && cs->IsArray())
      for (const auto& cond : cs->GetArray())
        if (js::get_string(cond, "type") == "Ready" && js::get_string(cond, "status") == "True")
          ready.emplace_back(js::get_string(p, {"metadata", "name"}));
  CHECK(ready == std::vector<std::string>{sts_names(i)[0] + "-0", sts_names(i)[1] + "-0"});
}

}  // namespace

TEST_CASE(
    "chain: multi-casskop and casskop in two regions create the ring region by region and roll an "
    "image") {
  const cc_crd crd = each_cassandracluster_crd();
  CAPTURE(std::string(to_string(crd)));
  chain_world w(crd);
  chain_recorder rec(w.sim);
  w.start_operators();
  auto created = w.region(0).request("POST", kMCCs, mcc_body());
  REQUIRE_MESSAGE(created.status == 201, created.body);

  // Creation: region 1 Running with its StatefulSets Ready before region 2 exists.
  REQUIRE_MESSAGE(eventually([&] { return w.settled(kOldImage); }, 60s), w.diagnose(rec));
  {
    auto v = rec.violations();
    CHECK_MESSAGE(v.empty(), (v.empty() ? "" : v.front()) << "\n" << w.diagnose(rec));
  }
  const std::vector<std::string> first_release{kC2 + " " + kOldImage};
  CHECK(rec.releases() == first_release);
  CHECK(rec.max_moving() == 1);
  auto m = w.mcc();
  CHECK(condition(m, "Ready", "reason") == "AllRegionsReady");
  CHECK(condition(m, "Degraded") == "False");
  CHECK(region_field(m, kC1) == "Ready");
  CHECK(region_field(m, kC2) == "Ready");
  CHECK(strings_at(m, {"status", "seedlist"}) == kSeeds);
  for (size_t i = 0; i < kRegions.size(); ++i) check_region(w, i, kOldImage);
  // Each region's Services and PDB, from its own casskop.
  for (size_t i = 0; i < kRegions.size(); ++i) {
    const std::string dc = "dc" + std::to_string(i + 1);
    for (const std::string& svc : {kCC, kCC + "-exporter-jmx", kCC + "-" + dc})
      CHECK_MESSAGE(w.region(i).get("/api/v1/namespaces/" + kNs + "/services/" + svc).status == 200,
                    kRegions[i] << " " << svc);
    CHECK(w.region(i)
              .get("/apis/policy/v1/namespaces/" + kNs + "/poddisruptionbudgets/" + kCC)
              .status == 200);
  }

  // One change through the chain: region 1's racks, then region 2's, one rack at a time.
  auto patched =
      w.region(0).request("PATCH", kMCCs + "/" + kMcc,
                          R"({"spec":{"base":{"spec":{"cassandraImage":")" + kNewImage + R"("}}}})",
                          "application/merge-patch+json");
  REQUIRE_MESSAGE(patched.status == 200, patched.body);
  REQUIRE_MESSAGE(eventually([&] { return w.settled(kNewImage); }, 60s), w.diagnose(rec));
  {
    auto v = rec.violations();
    CHECK_MESSAGE(v.empty(), (v.empty() ? "" : v.front()) << "\n" << w.diagnose(rec));
  }
  const std::vector<std::string> both_releases{kC2 + " " + kOldImage, kC2 + " " + kNewImage};
  CHECK(rec.releases() == both_releases);
  // Region 2 got the new image only once region 1 had rolled it (the release check above);
  // within each region, the racks in spec order.
  for (size_t i = 0; i < kRegions.size(); ++i)
    CHECK_MESSAGE(rec.rolled_to(i, kNewImage) == sts_names(i), rec.timeline());
  CHECK(rec.max_moving() == 1);
  for (size_t i = 0; i < kRegions.size(); ++i) check_region(w, i, kNewImage);
  CHECK(w.multi->stop() == 0);
  for (auto& c : w.casskop) CHECK(c->stop() == 0);
}
