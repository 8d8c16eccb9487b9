// kubesim's CassKop v2.1.0 stand-in refusing a change (CheckNonAllowedChanges,
// tools/kubesim/casskop_refusal.h): the old values written back with CorrectCRDConfig, in its one
// plain update, and nothing more written for it.
#include <doctest/doctest.h>

#include <string>

#include "k8s/json/json.h"
#include "k8s/json/json_patch.h"
#include "tools/kubesim/casskop_original.h"
#include "tools/kubesim/casskop_refusal.h"

namespace {

namespace js = k8s::json;
using namespace kubesim::casskop;

const char* two_dcs = R"({"nodesPerRacks":1,"dataCapacity":"1Gi","dataStorageClass":"ssd",
  "topology":{"dc":[{"name":"dc1","rack":[{"name":"rack1"},{"name":"rack2"}]},
                    {"name":"dc2","dataCapacity":"3Gi","dataStorageClass":"hdd",
                     "rack":[{"name":"rack1"}]}]}})";

// The change `merge` (an RFC 7386 patch of the spec) as CheckNonAllowedChanges judges it.
std::optional<refusal> judge(const std::string& merge, const char* status = "{}") {
  js::Document old = js::parse(two_dcs);
  js::Document spec = js::copy_of(old);
  js::apply_merge_patch(spec, js::parse(merge), spec.GetAllocator());
  return check_non_allowed_changes(old, spec, js::parse(status));
}

std::string field(const refusal& r, std::initializer_list<std::string_view> path) {
  const js::Value* v = js::find_path(r.spec, path);
  return v ? js::to_string(*v) : "absent";
}

constexpr const char* kTopology2 =
    R"({"dc":[{"name":"dc1","rack":[{"name":"rack1"},{"name":"rack2"}]},
              {"name":"dc2","dataCapacity":"3Gi","dataStorageClass":"hdd","rack":[{"name":"rack1"}]}]})";

std::string topology_with(const std::string& dc1_racks, const std::string& dc2) {
  return R"({"topology":{"dc":[{"name":"dc1","rack":)" + dc1_racks + "}" +
         (dc2.empty() ? "" : "," + dc2) + "]}}";
}

}  // namespace

TEST_CASE("casskop v2.1.0 refusals: storage changes are written back field by field") {
  SUBCASE("the cluster's dataCapacity") {
    auto r = judge(R"({"dataCapacity":"2Gi"})");
    REQUIRE(r);
    CHECK(field(*r, {"dataCapacity"}) == R"("1Gi")");
    REQUIRE(r->reasons.size() == 1);  // dc2 has its own: only dc1 sees the change
    CHECK(r->reasons[0].find("DataCapacity from [1Gi] to NewValue[2Gi]") != std::string::npos);
  }
  SUBCASE("a DC's dataCapacity") {
    auto r = judge(R"({"topology":{"dc":[{"name":"dc1","rack":[{"name":"rack1"},{"name":"rack2"}]},
      {"name":"dc2","dataCapacity":"5Gi","dataStorageClass":"hdd","rack":[{"name":"rack1"}]}]}})");
    REQUIRE(r);
    CHECK(field(*r, {"topology", "dc"}) == js::to_string(js::parse(kTopology2)["dc"]));
  }
  SUBCASE("the cluster's dataStorageClass") {
    auto r = judge(R"({"dataStorageClass":"fast"})");
    REQUIRE(r);
    CHECK(field(*r, {"dataStorageClass"}) == R"("ssd")");
  }
  SUBCASE("a DC's dataStorageClass") {
    auto r = judge(R"({"topology":{"dc":[{"name":"dc1","rack":[{"name":"rack1"},{"name":"rack2"}]},
      {"name":"dc2","dataCapacity":"3Gi","dataStorageClass":"fast","rack":[{"name":"rack1"}]}]}})");
    REQUIRE(r);
    CHECK(field(*r, {"topology", "dc"}) == js::to_string(js::parse(kTopology2)["dc"]));
  }
  SUBCASE("a dataCapacity where there was none is refused too, and removed again") {
    js::Document old = js::parse(R"({"nodesPerRacks":1})");
    js::Document spec = js::parse(R"({"nodesPerRacks":1,"dataCapacity":"2Gi"})");
    auto r = check_non_allowed_changes(old, spec, js::parse("{}"));
    // No topology: the original's loop runs over none (its first pass writes one).
    CHECK_FALSE(r);
    old = js::parse(R"({"nodesPerRacks":1,"topology":{"dc":[{"name":"dc1"}]}})");
    spec =
        js::parse(R"({"nodesPerRacks":1,"dataCapacity":"2Gi","topology":{"dc":[{"name":"dc1"}]}})");
    r = check_non_allowed_changes(old, spec, js::parse("{}"));
    REQUIRE(r);
    CHECK(field(*r, {"dataCapacity"}) == "absent");
  }
  SUBCASE("nodesPerRacks 0 gets its old value back") {
    auto r = judge(R"({"nodesPerRacks":0})");
    REQUIRE(r);
    CHECK(field(*r, {"nodesPerRacks"}) == "1");
  }
}

TEST_CASE("casskop v2.1.0 refusals: topology changes other than adding or removing a DC") {
  const std::string dc2 =
      R"({"name":"dc2","dataCapacity":"3Gi","dataStorageClass":"hdd","rack":[{"name":"rack1"}]})";
  struct change {
    const char* what;
    std::string merge;
    bool refused;
    const char* status = "{}";
  };
  const change changes[] = {
      {"a rack renamed", topology_with(R"([{"name":"rack1"},{"name":"rackX"}])", dc2), true},
      {"a rack removed", topology_with(R"([{"name":"rack1"}])", dc2), true},
      {"a rack added",
       topology_with(R"([{"name":"rack1"},{"name":"rack2"},{"name":"rack3"}])", dc2), true},
      {"a DC renamed",
       R"({"topology":{"dc":[{"name":"dcX","rack":[{"name":"rack1"},{"name":"rack2"}]},)" + dc2 +
           "]}}",
       true},
      {"a DC with nodes removed", topology_with(R"([{"name":"rack1"},{"name":"rack2"}])", ""),
       true},
      {"a DC added",
       topology_with(R"([{"name":"rack1"},{"name":"rack2"}])",
                     dc2 + R"(,{"name":"dc3","rack":[{"name":"rack1"}]})"),
       false},
      {"a rack's labels changed",
       topology_with(R"([{"name":"rack1","labels":{"a":"b"}},{"name":"rack2"}])", dc2), false},
      {"a DC scaled",
       topology_with(R"([{"name":"rack1"},{"name":"rack2"}])",
                     R"({"name":"dc2","nodesPerRacks":3,"dataCapacity":"3Gi",
                                        "dataStorageClass":"hdd","rack":[{"name":"rack1"}]})"),
       false},
  };
  for (const auto& c : changes) {
    CAPTURE(c.what);
    auto r = judge(c.merge, c.status);
    CHECK(r.has_value() == c.refused);
    if (r) CHECK(field(*r, {"topology"}) == js::to_string(js::parse(kTopology2)));
  }

  SUBCASE("two DCs removed at once") {
    js::Document old = js::parse(R"({"nodesPerRacks":1,"topology":{"dc":[{"name":"dc1"},
      {"name":"dc2","nodesPerRacks":0},{"name":"dc3","nodesPerRacks":0}]}})");
    js::Document spec = js::parse(R"({"nodesPerRacks":1,"topology":{"dc":[{"name":"dc1"}]}})");
    auto r = check_non_allowed_changes(old, spec, js::parse("{}"));
    REQUIRE(r);
    CHECK(r->reasons[0].find("only remove 1 DC at a time") != std::string::npos);
  }
  SUBCASE("a DC at 0 nodes may not go while a ScaleDown is not Done") {
    js::Document old = js::parse(R"({"nodesPerRacks":1,"topology":{"dc":[{"name":"dc1",
      "rack":[{"name":"r1"}]},{"name":"dc2","nodesPerRacks":0,"rack":[{"name":"r1"}]}]}})");
    js::Document spec = js::parse(
        R"({"nodesPerRacks":1,"topology":{"dc":[{"name":"dc1","rack":[{"name":"r1"}]}]}})");
    CHECK(check_non_allowed_changes(
        old, spec,
        js::parse(R"({"lastClusterAction":"ScaleDown","lastClusterActionStatus":"Ongoing"})")));
  }
  SUBCASE(
      "v2.1.0's order: a renamed DC with a dataCapacity of its own is caught as a storage "
      "change, and its new name stays") {
    auto r = judge(R"({"topology":{"dc":[{"name":"dc1","rack":[{"name":"rack1"},{"name":"rack2"}]},
      {"name":"dc3","dataCapacity":"3Gi","dataStorageClass":"hdd","rack":[{"name":"rack1"}]}]}})");
    REQUIRE(r);
    CHECK(r->reasons[0].find("DataCapacity from [1Gi] to NewValue[3Gi]") != std::string::npos);
    CHECK(js::get_string(r->spec["topology"]["dc"][1], "name") == "dc3");
  }
  SUBCASE("a DC already at 0 nodes may go") {
    js::Document old = js::parse(R"({"nodesPerRacks":1,"topology":{"dc":[{"name":"dc1",
      "rack":[{"name":"r1"}]},{"name":"dc2","nodesPerRacks":0,"rack":[{"name":"r1"}]}]}})");
    js::Document spec = js::parse(
        R"({"nodesPerRacks":1,"topology":{"dc":[{"name":"dc1","rack":[{"name":"r1"}]}]}})");
    CHECK_FALSE(check_non_allowed_changes(old, spec, js::parse("{}")));
  }
}

namespace {

// A server without status subresource, a plain update replacing the object, and the stand-in.
struct refusing_standin {
  js::Document cc;
  original_memory memory;
  original_pace pace{50, 200, 100, 3000};
  int64_t now = 1'800'000'000'000;
  int writes = 0;

  refusing_standin() {
    cc = js::parse(R"({"apiVersion":"db.orange.com/v2","kind":"CassandraCluster",
      "metadata":{"name":"cc","namespace":"ns","uid":"u-1","generation":1,"resourceVersion":"1",
                  "annotations":{"multicasskop.db.orange.com/last-applied":"ours"}},
      "spec":{"nodesPerRacks":1,"dataCapacity":"1Gi",
              "topology":{"dc":[{"name":"dc1","rack":[{"name":"rack1"}]}]}}})");
  }
  bool pass() {
    auto p = reconcile_original(cc, memory, now, pace, false);
    last_requeue = p.requeue_after_ms;
    if (!p.update) return false;
    ++writes;
    // As a server without status subresource: a change outside metadata bumps the generation.
    js::Document next = std::move(*p.update);
    auto& a = next.GetAllocator();
    bool outside_metadata = false;
    for (const char* k : {"spec", "status"}) {
      const js::Value* before = js::find(cc, k);
      const js::Value* after = js::find(next, k);
      if ((before == nullptr) != (after == nullptr) || (before && *before != *after))
        outside_metadata = true;
    }
    const int64_t gen = js::get_int(cc, {"metadata", "generation"}, 1);
    js::set_member(next["metadata"], "generation", js::Value(gen + (outside_metadata ? 1 : 0)), a);
    js::set_string(next["metadata"], "resourceVersion", std::to_string(writes + 1), a);
    cc = std::move(next);
    return true;
  }
  void run_for(int64_t ms) {
    for (int64_t end = now + ms; now < end; now += 10)
      for (int i = 0; i < 20 && pass(); ++i) {
      }
  }
  std::string cluster() const {
    return std::string(js::get_string(cc, {"status", "phase"})) + "/" +
           std::string(js::get_string(cc, {"status", "lastClusterAction"})) + "/" +
           std::string(js::get_string(cc, {"status", "lastClusterActionStatus"}));
  }
  std::string record_spec(const char* key) const {
    auto record =
        js::parse(js::get_string(cc, {"metadata", "annotations", kLastAppliedAnnotation}));
    return std::string(js::get_string(record, {"spec", key}));
  }
  int64_t last_requeue = 0;
};

}  // namespace

TEST_CASE(
    "casskop v2.1.0: a refused dataCapacity change is written back with CorrectCRDConfig in one "
    "plain update, then left alone") {
  refusing_standin s;
  s.run_for(1000);
  REQUIRE(s.cluster() == "Running/Initializing/Done");

  js::set_string(s.cc["spec"], "dataCapacity", "2Gi", s.cc.GetAllocator());
  const int before = s.writes;
  REQUIRE(s.pass());
  CHECK(s.writes == before + 1);
  CHECK(js::get_string(s.cc, {"spec", "dataCapacity"}) == "1Gi");
  CHECK(s.cluster() == "Running/CorrectCRDConfig/Done");
  CHECK(s.record_spec("dataCapacity") == "1Gi");
  CHECK(s.last_requeue == s.pace.refused_requeue_ms);
  // Other annotations (multi-casskop's record) are kept by the plain update.
  CHECK(js::get_string(s.cc, {"metadata", "annotations",
                              "multicasskop.db.orange.com/last-applied"}) == "ours");

  // Nothing more to write but its record catching up with the generation its own write moved
  // (metadata only): the object is back at what CassKop accepted, CorrectCRDConfig stays.
  s.run_for(2000);
  CHECK(s.writes <= before + 2);
  const int settled = s.writes;
  s.run_for(2000);
  CHECK(s.writes == settled);
  CHECK(s.cluster() == "Running/CorrectCRDConfig/Done");
  CHECK(js::get_string(s.cc, {"spec", "dataCapacity"}) == "1Gi");

  // An allowed change afterwards is taken as usual.
  js::set_member(s.cc["spec"], "nodesPerRacks", js::Value(2), s.cc.GetAllocator());
  REQUIRE(s.pass());
  CHECK(s.cluster() == "Running/ScaleUp/Ongoing");
}

TEST_CASE("casskop v2.1.0: a refused topology change is written back whole") {
  refusing_standin s;
  s.run_for(1000);
  REQUIRE(s.cluster() == "Running/Initializing/Done");
  auto& a = s.cc.GetAllocator();
  s.cc["spec"]["topology"]["dc"][0]["rack"].PushBack(js::Value(js::parse(R"({"name":"rack2"})"), a),
                                                     a);
  js::set_member(s.cc["spec"], "maxPodUnavailable", js::Value(2), a);  // allowed, but stays
  REQUIRE(s.pass());
  CHECK(js::to_string(s.cc["spec"]["topology"]) ==
        R"({"dc":[{"name":"dc1","rack":[{"name":"rack1"}],"resources":{}}]})");  // as Go writes it
  CHECK(js::get_int(s.cc, {"spec", "maxPodUnavailable"}, 0) == 2);
  CHECK(s.cluster() == "Running/CorrectCRDConfig/Done");
  CHECK(js::find_path(s.cc, {"status", "cassandraRackStatus", "dc1-rack2"}) == nullptr);
}
