// The state machine above the original CassKop v2.1.0 and beside the original Multi-CassKop:
// CassKop's record of the spec it reconciled, CRDs with and without a status subresource, the
// seed list from the first version, and taking over CassandraClusters the original created.
#include <doctest/doctest.h>

#include <algorithm>

#include "actors/multicasskop/logic/spec.h"
#include "tests/unit/multicasskop_world.h"

using testworld::fake_world;
namespace js = k8s::json;

namespace {

std::string two_regions(int nodes, const std::string& extra_base = "", bool only_a = false) {
  return R"({"deleteCassandraCluster":true,"base":{"apiVersion":"db.orange.com/v2","kind":"CassandraCluster",
    "metadata":{"name":"cassandra-e2e","namespace":"ns"},)" +
         extra_base + R"("spec":{"nodesPerRacks":)" + std::to_string(nodes) + R"(}},
    "override":{"a":{"spec":{"topology":{"dc":[{"name":"dc1"}]}}})" +
         (only_a ? "" : R"(,"b":{"spec":{"topology":{"dc":[{"name":"dc2"}]}}})") + "}}";
}

std::string region_a(const std::string& extra_base) {
  return two_regions(1, extra_base, true);
}

int64_t nodes(const fake_world& w, const std::string& cluster) {
  return js::get_int(*w.cc(cluster), {"spec", "nodesPerRacks"}, -1);
}

size_t count_of(const fake_world& w, const std::function<bool(const mc::command&)>& pred) {
  return static_cast<size_t>(std::count_if(w.issued().begin(), w.issued().end(), pred));
}

bool seedlist_write(const mc::command& c, bool through_status) {
  auto* p = std::get_if<mc::patch_cassandracluster>(&c);
  return p && p->status == through_status && p->merge_patch.find("seedlist") != std::string::npos;
}

}  // namespace

TEST_CASE(
    "compat: above CassKop v2.1.0, a stale Running/Done never releases the next region, its record "
    "of the new spec does") {
  fake_world w({"a", "b"});
  w.legacy_casskop = 2;  // no observedGeneration: its last-applied-configuration record
  w.auto_casskop = true;
  w.set_multicasskop(two_regions(1));
  w.run();
  REQUIRE(w.condition("Ready") == "True");
  w.auto_casskop = false;
  w.hold_timers = true;  // no settle time: the record alone decides
  w.set_multicasskop(two_regions(2));
  w.run();
  // a has the new spec and still says Running/Done, written with the old spec: b waits.
  CHECK(nodes(w, "a") == 2);
  CHECK(nodes(w, "b") == 1);
  CHECK(testworld::condition_field(w, "Progressing", "message")
            .find("waiting for CassKop to take in") != std::string::npos);
  w.casskop_ongoing("a");  // CassKop's first write after the change: Ongoing, with the new record
  w.run();
  CHECK(nodes(w, "b") == 1);
  w.casskop_done("a");
  w.run();
  CHECK(nodes(w, "b") == 2);
  w.casskop_done("b");
  w.run();
  CHECK(w.condition("Ready") == "True");
}

TEST_CASE(
    "compat: a change CassKop has nothing to do for is Ready as soon as its record shows it, "
    "without the settle time") {
  fake_world w({"a", "b"});
  w.legacy_casskop = 2;
  w.auto_casskop = true;
  w.hold_timers = true;
  w.set_multicasskop(two_regions(1));
  w.run();
  REQUIRE(w.condition("Ready") == "True");
  w.set_multicasskop(two_regions(3));
  w.run();
  CHECK(nodes(w, "b") == 3);
  CHECK(w.condition("Ready") == "True");
}

TEST_CASE("compat: created with its seed list from the first version, whatever the CRD") {
  for (bool subresource : {false, true}) {
    CAPTURE(subresource);
    fake_world w({"a"});
    w.status_subresource = subresource;
    w.set_multicasskop(region_a(R"("status":{"seedlist":["s1.zone"]},)"));
    w.run();
    const mc::create_cassandracluster* create = nullptr;
    for (const auto& c : w.issued())
      if (auto* cr = std::get_if<mc::create_cassandracluster>(&c)) create = cr;
    REQUIRE(create);
    CHECK(js::to_string(*js::find_path(*create->object, {"status", "seedlist"})) ==
          R"(["s1.zone"])");
    // Kept as created where status is a plain field; written through /status where the server
    // dropped it: either way the object ends with it.
    CHECK(js::to_string(*js::find_path(*w.cc("a"), {"status", "seedlist"})) == R"(["s1.zone"])");
    CHECK(count_of(w, [](const mc::command& c) { return seedlist_write(c, true); }) ==
          (subresource ? 1u : 0u));
  }
}

TEST_CASE(
    "compat: a seed list change goes in the object without a status subresource, through /status "
    "with one, learnt from the answers") {
  for (bool subresource : {false, true}) {
    CAPTURE(subresource);
    fake_world w({"a"});
    w.status_subresource = subresource;
    w.auto_casskop = true;
    w.set_multicasskop(region_a(R"("status":{"seedlist":["s1.zone"]},)"));
    w.run();
    REQUIRE(w.condition("Ready") == "True");
    w.set_multicasskop(region_a(R"("status":{"seedlist":["s1.zone","s2.zone"]},)"));
    w.run();
    CHECK(js::to_string(*js::find_path(*w.cc("a"), {"status", "seedlist"})) ==
          R"(["s1.zone","s2.zone"])");
    const auto plain = count_of(w, [](const mc::command& c) { return seedlist_write(c, false); });
    const auto status = count_of(w, [](const mc::command& c) { return seedlist_write(c, true); });
    if (subresource) {
      CHECK(plain == 1);  // the first (after the create), not kept: from then on through /status
      CHECK(status == 2);
    } else {
      CHECK(plain == 1);
      CHECK(status == 0);
      // In the object as the original wrote it: guarded by the resourceVersion it read.
      for (const auto& c : w.issued())
        if (seedlist_write(c, false))
          CHECK(std::get<mc::patch_cassandracluster>(c).merge_patch.find("resourceVersion") !=
                std::string::npos);
    }
    // The CRD changes: the other way is learnt from the next answer.
    w.status_subresource = !subresource;
    w.set_multicasskop(region_a(R"("status":{"seedlist":["s3.zone"]},)"));
    w.run();
    CHECK(js::to_string(*js::find_path(*w.cc("a"), {"status", "seedlist"})) == R"(["s3.zone"])");
    CHECK(w.condition("Degraded") == "False");
  }
}

TEST_CASE("compat: taking over the original Multi-CassKop's CassandraClusters changes no spec") {
  fake_world w({"a", "b"});
  w.auto_casskop = true;
  // As the original left them: the same name, no owner annotation, its own spec (mergo merge).
  w.put_foreign_cassandracluster("a", "cassandra-e2e");
  w.put_foreign_cassandracluster("b", "cassandra-e2e");
  w.casskop_done("a");
  w.casskop_done("b");
  w.set_multicasskop(two_regions(1));
  w.run();
  CHECK(w.condition("Degraded") == "True");  // foreign: untouched until asked
  CHECK(testworld::condition_field(w, "Degraded", "message")
            .find("multicasskop.db.orange.com/adopt=true") != std::string::npos);
  const std::string spec_a = js::to_string((*w.cc("a"))["spec"]);
  const std::string spec_b = js::to_string((*w.cc("b"))["spec"]);
  const auto issued_before = w.issued().size();

  w.annotate_multicasskop(mc::adopt_annotation, "true");
  w.run();
  CHECK(w.condition("Ready") == "True");
  CHECK(w.creates().empty());
  CHECK(js::to_string((*w.cc("a"))["spec"]) == spec_a);
  CHECK(js::to_string((*w.cc("b"))["spec"]) == spec_b);
  for (const char* r : {"a", "b"}) {
    CHECK(js::get_string(*w.cc(r), {"metadata", "annotations", mc::owner_annotation}) == "ns/mcc");
    CHECK_FALSE(
        js::get_string(*w.cc(r), {"metadata", "annotations", mc::last_applied_annotation}).empty());
  }
  for (size_t i = issued_before; i < w.issued().size(); ++i)
    if (auto* p = std::get_if<mc::patch_cassandracluster>(&w.issued()[i]))
      CHECK_FALSE(mc::patch_changes_spec(p->merge_patch));
  // From then on only what the user changes is written.
  w.set_multicasskop(two_regions(2));
  w.run();
  CHECK(nodes(w, "a") == 2);
  CHECK(nodes(w, "b") == 2);
  CHECK(w.condition("Ready") == "True");
}
