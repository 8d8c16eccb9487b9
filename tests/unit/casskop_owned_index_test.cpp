// The index a pass uses to find one CassandraCluster's objects without scanning the namespace.
#include <doctest/doctest.h>

#include "actors/casskop/logic/owned_index.h"

using casskop::owned_index;
using names = std::set<std::string>;

TEST_CASE("casskop owned index: a cluster sees only the objects carrying its label") {
  owned_index idx;
  idx.put("a-dc1-rack1", "a");
  idx.put("a-dc1-rack2", "a");
  idx.put("b-dc1-rack1", "b");
  CHECK(idx.of("a") == names{"a-dc1-rack1", "a-dc1-rack2"});
  CHECK(idx.of("b") == names{"b-dc1-rack1"});
  CHECK(idx.of("c").empty());
  CHECK(idx.owner_of("b-dc1-rack1") == "b");
  CHECK(idx.owner_of("unknown").empty());
  CHECK(idx.size() == 3);
}

TEST_CASE("casskop owned index: an update of the same object does not duplicate it") {
  owned_index idx;
  idx.put("a-dc1-rack1", "a");
  idx.put("a-dc1-rack1", "a");
  CHECK(idx.of("a") == names{"a-dc1-rack1"});
  CHECK(idx.size() == 1);
}

TEST_CASE("casskop owned index: a relabelled object moves to its new owner") {
  owned_index idx;
  idx.put("x", "a");
  idx.put("x", "b");
  CHECK(idx.of("a").empty());
  CHECK(idx.of("b") == names{"x"});
  CHECK(idx.owner_of("x") == "b");
  // Its label removed: no cluster owns it any more.
  idx.put("x", "");
  CHECK(idx.of("b").empty());
  CHECK(idx.owner_of("x").empty());
  CHECK(idx.size() == 0);
}

TEST_CASE("casskop owned index: a removal returns the owner to wake and forgets the object") {
  owned_index idx;
  idx.put("a-dc1-rack1", "a");
  idx.put("a-dc1-rack2", "a");
  CHECK(idx.remove("a-dc1-rack1") == "a");
  CHECK(idx.of("a") == names{"a-dc1-rack2"});
  CHECK(idx.remove("a-dc1-rack1").empty());  // already gone
  CHECK(idx.remove("a-dc1-rack2") == "a");
  CHECK(idx.of("a").empty());
  CHECK(idx.size() == 0);
}
