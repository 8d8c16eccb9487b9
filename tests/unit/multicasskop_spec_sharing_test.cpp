// A parsed MultiCasskop points into the object it was read from instead of copying base and
// overrides out of it, and moves to a newer copy of the same spec, so the operator never holds an
// object the watch cache has dropped only for its parsed spec.
#include <doctest/doctest.h>

#include "actors/multicasskop/logic/spec.h"
#include "actors/multicasskop/logic/state_machine.h"

namespace js = k8s::json;

namespace {

mc::object_ptr multicasskop(const std::string& rv, int nodes, const std::string& status) {
  return std::make_shared<const js::Document>(js::parse(
      R"({"apiVersion":"db.orange.com/v2","kind":"MultiCasskop","metadata":{"name":"mcc","namespace":"ns","uid":"u","generation":1,"resourceVersion":")" +
      rv + R"("},"spec":{"base":{"metadata":{"name":"c"},"spec":{"nodesPerRacks":)" +
      std::to_string(nodes) +
      R"(}},"override":{"a":{"spec":{"dataCapacity":"1Gi"}},"b":{}}},"status":)" + status + "}"));
}

}  // namespace

TEST_CASE("spec: a parsed MultiCasskop points into its object and moves to a newer copy of it") {
  auto first = multicasskop("1", 1, "{}");
  auto p = mc::parse_multicasskop(first);
  REQUIRE(p.base_valid());
  CHECK(bool(p.base.get() == js::find_path(*first, {"spec", "base"})));
  CHECK(bool(p.overrides.at("a").get() == js::find_path(*first, {"spec", "override", "a"})));
  // The same CassandraClusters as from a copied parse.
  auto copied = mc::parse_multicasskop(*first);
  CHECK(bool(mc::desired_cassandracluster(p, "a", {"ns", "mcc"}) ==
             mc::desired_cassandracluster(copied, "a", {"ns", "mcc"})));

  // A newer copy (our status written) with the same spec: the first one is no longer held.
  std::weak_ptr<const js::Document> first_alive = first;
  auto second = multicasskop("2", 1, R"({"phase":"x"})");
  mc::share_parts_of(p, second);
  first.reset();
  CHECK(first_alive.expired());
  CHECK(bool(p.base.get() == js::find_path(*second, {"spec", "base"})));
  CHECK(bool(p.overrides.at("b").get() == js::find_path(*second, {"spec", "override", "b"})));

  // Another spec is not taken for this one: only a new parse reads it.
  auto other = multicasskop("3", 2, "{}");
  mc::share_parts_of(p, other);
  CHECK(bool(p.source.get() == second.get()));
  CHECK(js::get_int(*p.base, {"spec", "nodesPerRacks"}, 0) == 1);
}

TEST_CASE("spec: the state machine holds no older MultiCasskop for its parsed spec") {
  mc::state_machine sm;
  sm.apply({1, 1000, mc::clusters_configured{{"a", "b"}}});
  auto first = multicasskop("1", 1, "{}");
  std::weak_ptr<const js::Document> first_alive = first;
  sm.apply({2, 1001, mc::multicasskop_seen{first}});
  first.reset();
  CHECK_FALSE(first_alive.expired());  // the current object
  sm.apply({3, 1002, mc::multicasskop_seen{multicasskop("2", 1, R"({"phase":"x"})")}});
  CHECK(first_alive.expired());
  const auto& m = sm.multicasskops().at({"ns", "mcc"});
  CHECK(bool(m.spec.base.get() == js::find_path(*m.object, {"spec", "base"})));
}

TEST_CASE("spec: the answer to our write is kept without the spec, and a snapshot restores it") {
  mc::state_machine sm;
  sm.apply({1, 1000, mc::clusters_configured{{"a", "b"}}});
  uint64_t id = 0;  // the first write to the MultiCasskop (its finalizer)
  for (const auto& c : sm.apply({2, 1001, mc::multicasskop_seen{multicasskop("1", 1, "{}")}}))
    if (auto* p = std::get_if<mc::patch_multicasskop>(&c); p && !id) id = p->id;
  REQUIRE(id != 0);
  sm.apply({4, 1003, mc::write_done{id, true, {}, multicasskop("2", 1, R"({"phase":"x"})")}});
  const auto& m = sm.multicasskops().at({"ns", "mcc"});
  CHECK(js::get_string(*m.object, {"metadata", "resourceVersion"}) == "2");
  CHECK(js::find(*m.object, "spec") == nullptr);  // the cache's copy has it
  CHECK(js::get_string(*m.object, {"status", "phase"}) == "x");
  bool restated = false;
  for (const auto& b : sm.snapshot())
    if (auto* s = std::get_if<mc::multicasskop_seen>(&b)) {
      restated = true;
      CHECK(js::get_string(*s->object, {"metadata", "resourceVersion"}) == "2");
      CHECK(js::get_int(*s->object, {"spec", "base", "spec", "nodesPerRacks"}, 0) == 1);
    }
  CHECK(restated);
}
