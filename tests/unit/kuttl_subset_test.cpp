// kuttl's assert matching: the expected object is a subset of the actual one (maps by key,
// lists of equal length element by element), with a readable difference when it is not.
#include <doctest/doctest.h>

#include "k8s/json/yaml_json.h"
#include "tools/kuttl/subset.h"

namespace {

namespace js = k8s::json;
using kuttl::subset_differences;

std::vector<kuttl::difference> diff(const char* expected_yaml, const char* actual_json) {
  auto e = js::yaml_to_json(expected_yaml);
  auto a = js::parse(actual_json);
  return subset_differences(e, a);
}

}  // namespace

TEST_CASE("kuttl subset: keys the assert lists must match, other keys are ignored") {
  CHECK(diff("status:\n  replicas: 1\n",
             R"({"status":{"replicas":1,"currentReplicas":1},"spec":{"x":2}})")
            .empty());
  auto d = diff("status:\n  replicas: 2\n", R"({"status":{"replicas":1}})");
  REQUIRE(d.size() == 1);
  CHECK(d[0].path == ".status.replicas");
  CHECK(d[0].expected == "2");
  CHECK(d[0].actual == "1");
}

TEST_CASE("kuttl subset: a missing key is a difference naming its path") {
  auto d = diff(
      "status:\n  cassandraRackStatus:\n    dc1-rack1:\n      cassandraLastAction:\n"
      "        name: ScaleUp\n",
      R"({"status":{"cassandraRackStatus":{"dc1-rack1":{}}}})");
  REQUIRE(d.size() == 1);
  CHECK(d[0].path == ".status.cassandraRackStatus.dc1-rack1.cassandraLastAction");
  CHECK(d[0].actual == "(missing)");
  CHECK(kuttl::describe(d).find("cassandraLastAction: expected {\"name\":\"ScaleUp\"}") !=
        std::string::npos);
}

TEST_CASE("kuttl subset: lists need the same length and match element by element") {
  const char* expected = "containers:\n- name: a\n- name: b\n";
  CHECK(diff(expected, R"({"containers":[{"name":"a","image":"x"},{"name":"b"}]})").empty());
  auto longer = diff(expected, R"({"containers":[{"name":"a"},{"name":"b"},{"name":"c"}]})");
  REQUIRE(longer.size() == 1);
  CHECK(longer[0].path.find(".containers (length 2 expected, 3 found)") == 0);
  auto swapped = diff(expected, R"({"containers":[{"name":"b"},{"name":"a"}]})");
  REQUIRE(swapped.size() == 2);
  CHECK(swapped[0].path == ".containers[0].name");
  CHECK(swapped[1].path == ".containers[1].name");
}

TEST_CASE("kuttl subset: scalars compare by value and type") {
  CHECK(diff("n: 1\n", R"({"n":1.0})").empty());
  CHECK(diff("s: \"1\"\n", R"({"s":"1"})").empty());
  CHECK(diff("n: 1\n", R"({"n":"1"})").size() == 1);  // a string is not the number
  CHECK(diff("m:\n  a: 1\n", R"({"m":[1]})").size() == 1);
  CHECK(diff("phase: Bound\n", R"({"phase":"Pending"})").size() == 1);
}
