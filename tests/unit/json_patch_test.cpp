#include "k8s/json/json_patch.h"

#include <doctest/doctest.h>

#include <string>
#include <string_view>

using namespace k8s::json;
using kind = json_patch_error::kind;

namespace {

// Semantic JSON equality (member order ignored); prints both sides when they differ.
bool json_equal(const Value& actual, std::string_view expected) {
  Document e = parse(expected);
  if (actual == static_cast<const Value&>(e)) return true;
  MESSAGE("actual " << to_string(actual) << " != expected " << to_string(e));
  return false;
}

// Exact text after a merge patch: also checks member order.
std::string merged(std::string_view target, std::string_view patch) {
  Document t = parse(target);
  Document p = parse(patch);
  apply_merge_patch(t, p, t.GetAllocator());
  return to_string(t);
}

std::string canonical(std::string_view text) {
  return to_string(parse(text));
}

Document patched(std::string_view doc, std::string_view ops) {
  Document d = parse(doc);
  Document p = parse(ops);
  apply_json_patch(d, p, d.GetAllocator());
  return d;
}

struct failure {
  bool thrown = false;
  kind which = kind::invalid_patch;
  std::string message;
};

// Applies a patch expected to fail, and checks the document was left untouched.
failure patch_failure(std::string_view doc, std::string_view ops) {
  Document d = parse(doc);
  Document p = parse(ops);
  const std::string before = to_string(d);
  failure f;
  try {
    apply_json_patch(d, p, d.GetAllocator());
  } catch (const json_patch_error& e) {
    f = {true, e.which(), e.what()};
  }
  CHECK(to_string(d) == before);
  return f;
}

void check_round_trip(std::string_view from_text, std::string_view to_text) {
  Document from = parse(from_text);
  Document to = parse(to_text);
  Document patch = create_merge_patch(from, to);
  INFO("patch: " << to_string(patch));
  apply_merge_patch(from, patch, from.GetAllocator());
  CHECK(json_equal(from, to_text));
}

}  // namespace

TEST_CASE("merge patch: RFC 7386 appendix A examples") {
  struct example {
    const char* target;
    const char* patch;
    const char* result;
  };
  const example examples[] = {
      {R"({"a":"b"})", R"({"a":"c"})", R"({"a":"c"})"},
      {R"({"a":"b"})", R"({"b":"c"})", R"({"a":"b","b":"c"})"},
      {R"({"a":"b"})", R"({"a":null})", R"({})"},
      {R"({"a":"b","b":"c"})", R"({"a":null})", R"({"b":"c"})"},
      {R"({"a":["b"]})", R"({"a":"c"})", R"({"a":"c"})"},
      {R"({"a":"c"})", R"({"a":["b"]})", R"({"a":["b"]})"},
      {R"({"a":{"b":"c"}})", R"({"a":{"b":"d","c":null}})", R"({"a":{"b":"d"}})"},
      {R"({"a":[{"b":"c"}]})", R"({"a":[1]})", R"({"a":[1]})"},
      {R"(["a","b"])", R"(["c","d"])", R"(["c","d"])"},
      {R"({"a":"b"})", R"(["c"])", R"(["c"])"},
      {R"({"a":"foo"})", R"(null)", R"(null)"},
      {R"({"a":"foo"})", R"("bar")", R"("bar")"},
      {R"({"e":null})", R"({"a":1})", R"({"e":null,"a":1})"},
      {R"([1,2])", R"({"a":"b","c":null})", R"({"a":"b"})"},
      {R"({})", R"({"a":{"bb":{"ccc":null}}})", R"({"a":{"bb":{}}})"},
  };
  for (const auto& ex : examples) {
    CAPTURE(ex.target);
    CAPTURE(ex.patch);
    CHECK(merged(ex.target, ex.patch) == canonical(ex.result));
  }
}

TEST_CASE("merge patch: keeps the target's member order and appends new members") {
  CHECK(merged(R"({"z":1,"a":2,"m":3})", R"({"a":null,"b":4,"z":5})") == R"({"z":5,"m":3,"b":4})");
}

TEST_CASE("create_merge_patch: equal documents give an empty patch") {
  Document a = parse(R"({"spec":{"x":[1,{"y":2}]},"s":"t"})");
  Document b = parse(R"({"s":"t","spec":{"x":[1,{"y":2}]}})");
  CHECK(to_string(create_merge_patch(a, b)) == "{}");
}

TEST_CASE("create_merge_patch: deletes become null, unchanged subtrees are omitted") {
  Document from = parse(R"({"a":{"b":1,"c":2},"d":[1,2],"e":"same","gone":true})");
  Document to = parse(R"({"a":{"b":1},"d":[1,2,3],"e":"same","new":{"k":"v"}})");
  Document patch = create_merge_patch(from, to);
  CHECK(json_equal(patch, R"({"a":{"c":null},"d":[1,2,3],"gone":null,"new":{"k":"v"}})"));
}

TEST_CASE("create_merge_patch: non-object documents are replaced whole") {
  Document from = parse(R"({"a":1})");
  Document to = parse(R"([1,2])");
  CHECK(to_string(create_merge_patch(from, to)) == "[1,2]");
}

TEST_CASE("create_merge_patch: round trips") {
  check_round_trip(R"({})", R"({})");
  check_round_trip(R"({"a":1})", R"({})");
  check_round_trip(R"({})", R"({"a":{"b":{"c":[1,2]}}})");
  check_round_trip(R"({"a":{"b":{"c":1,"d":2},"e":3}})", R"({"a":{"b":{"d":2}}})");
  check_round_trip(R"({"a":{"b":{"c":1}}})", R"({"a":{}})");
  check_round_trip(R"({"a":[1,2,3]})", R"({"a":[3,2,1]})");
  check_round_trip(R"({"a":[{"x":1}]})", R"({"a":[{"x":1},{"y":2}]})");
  check_round_trip(R"({"a":{"b":1}})", R"({"a":"scalar"})");
  check_round_trip(R"({"a":"scalar"})", R"({"a":{"b":1}})");
  check_round_trip(R"({"a":[1]})", R"({"a":{"0":1}})");
  check_round_trip(R"({"metadata":{"labels":{"app":"x","tier":"db"},"name":"n"},"spec":{"r":3}})",
                   R"({"metadata":{"labels":{"app":"y"},"name":"n"},"spec":{"r":3,"p":false}})");
}

TEST_CASE("create_merge_patch: a member set to null in `to` becomes a delete") {
  Document from = parse(R"({"a":1,"b":null})");
  Document to = parse(R"({"a":null,"b":null})");
  CHECK(to_string(create_merge_patch(from, to)) == R"({"a":null})");
}

TEST_CASE("json patch: RFC 6902 A.1 adding an object member") {
  CHECK(json_equal(patched(R"({"foo":"bar"})", R"([{"op":"add","path":"/baz","value":"qux"}])"),
                   R"({"baz":"qux","foo":"bar"})"));
}

TEST_CASE("json patch: RFC 6902 A.2 adding an array element") {
  CHECK(json_equal(
      patched(R"({"foo":["bar","baz"]})", R"([{"op":"add","path":"/foo/1","value":"qux"}])"),
      R"({"foo":["bar","qux","baz"]})"));
}

TEST_CASE("json patch: RFC 6902 A.3 removing an object member") {
  CHECK(json_equal(patched(R"({"baz":"qux","foo":"bar"})", R"([{"op":"remove","path":"/baz"}])"),
                   R"({"foo":"bar"})"));
}

TEST_CASE("json patch: RFC 6902 A.4 removing an array element") {
  CHECK(
      json_equal(patched(R"({"foo":["bar","qux","baz"]})", R"([{"op":"remove","path":"/foo/1"}])"),
                 R"({"foo":["bar","baz"]})"));
}

TEST_CASE("json patch: RFC 6902 A.5 replacing a value") {
  CHECK(json_equal(
      patched(R"({"baz":"qux","foo":"bar"})", R"([{"op":"replace","path":"/baz","value":"boo"}])"),
      R"({"baz":"boo","foo":"bar"})"));
}

TEST_CASE("json patch: RFC 6902 A.6 moving a value") {
  CHECK(json_equal(patched(R"({"foo":{"bar":"baz","waldo":"fred"},"qux":{"corge":"grault"}})",
                           R"([{"op":"move","from":"/foo/waldo","path":"/qux/thud"}])"),
                   R"({"foo":{"bar":"baz"},"qux":{"corge":"grault","thud":"fred"}})"));
}

TEST_CASE("json patch: RFC 6902 A.7 moving an array element") {
  CHECK(json_equal(patched(R"({"foo":["all","grass","cows","eat"]})",
                           R"([{"op":"move","from":"/foo/1","path":"/foo/3"}])"),
                   R"({"foo":["all","cows","eat","grass"]})"));
}

TEST_CASE("json patch: RFC 6902 A.8 testing a value: success") {
  const char* doc = R"({"baz":"qux","foo":["a",2,"c"]})";
  CHECK(json_equal(patched(doc, R"([{"op":"test","path":"/baz","value":"qux"},
                                    {"op":"test","path":"/foo/1","value":2}])"),
                   doc));
}

TEST_CASE("json patch: RFC 6902 A.9 testing a value: error") {
  auto f = patch_failure(R"({"baz":"qux"})", R"([{"op":"test","path":"/baz","value":"bar"}])");
  CHECK(f.thrown);
  CHECK(f.which == kind::test_failed);
  CHECK(f.message == "testing value /baz failed: test operation failed");
}

TEST_CASE("json patch: RFC 6902 A.10 adding a nested member object") {
  CHECK(json_equal(
      patched(R"({"foo":"bar"})", R"([{"op":"add","path":"/child","value":{"grandchild":{}}}])"),
      R"({"foo":"bar","child":{"grandchild":{}}})"));
}

TEST_CASE("json patch: RFC 6902 A.11 ignoring unrecognized elements") {
  CHECK(json_equal(
      patched(R"({"foo":"bar"})", R"([{"op":"add","path":"/baz","value":"qux","xyz":123}])"),
      R"({"foo":"bar","baz":"qux"})"));
}

TEST_CASE("json patch: RFC 6902 A.12 adding to a nonexistent target") {
  auto f = patch_failure(R"({"foo":"bar"})", R"([{"op":"add","path":"/baz/bat","value":"qux"}])");
  CHECK(f.thrown);
  CHECK(f.which == kind::path_not_found);
  CHECK(f.message ==
        R"(add operation does not apply: doc is missing path: "/baz/bat": missing value)");
}

TEST_CASE("json patch: RFC 6902 A.13 invalid patch documents") {
  SUBCASE("unknown op") {
    auto f = patch_failure(R"({"foo":"bar"})", R"([{"op":"foo","path":"/baz","value":"qux"}])");
    CHECK(f.which == kind::invalid_patch);
    CHECK(f.message == "Unexpected kind: foo");
  }
  SUBCASE("missing op") {
    auto f = patch_failure(R"({"foo":"bar"})", R"([{"path":"/baz","value":"qux"}])");
    CHECK(f.which == kind::invalid_patch);
    CHECK(f.message == "Unexpected kind: unknown");
  }
  SUBCASE("duplicate op member") {
    auto f = patch_failure(R"({"foo":"bar"})",
                           R"([{"op":"add","path":"/baz","value":"qux","op":"remove"}])");
    CHECK(f.thrown);
    CHECK(f.which == kind::invalid_patch);
  }
  SUBCASE("missing path") {
    auto f = patch_failure(R"({"foo":"bar"})", R"([{"op":"add","value":"qux"}])");
    CHECK(f.which == kind::invalid_patch);
  }
  SUBCASE("missing value") {
    auto f = patch_failure(R"({"foo":"bar"})", R"([{"op":"add","path":"/baz"}])");
    CHECK(f.which == kind::invalid_patch);
  }
  SUBCASE("not an array of operations") {
    auto f = patch_failure(R"({"foo":"bar"})", R"({"op":"add","path":"/baz","value":1})");
    CHECK(f.which == kind::invalid_patch);
    auto g = patch_failure(R"({"foo":"bar"})", R"([1])");
    CHECK(g.which == kind::invalid_patch);
  }
  SUBCASE("bad pointer") {
    auto f = patch_failure(R"({"foo":"bar"})", R"([{"op":"add","path":"baz","value":1}])");
    CHECK(f.which == kind::invalid_patch);
    auto g = patch_failure(R"({"foo":"bar"})", R"([{"op":"add","path":"/a~2b","value":1}])");
    CHECK(g.which == kind::invalid_patch);
  }
}

TEST_CASE("json patch: RFC 6902 A.14 ~ escape ordering") {
  const char* doc = R"({"/":9,"~1":10})";
  CHECK(json_equal(patched(doc, R"([{"op":"test","path":"/~01","value":10}])"), doc));
  CHECK(json_equal(patched(doc, R"([{"op":"replace","path":"/~1","value":1}])"),
                   R"({"/":1,"~1":10})"));
  CHECK(json_equal(patched(R"({"metadata":{"labels":{}}})",
                           R"([{"op":"add","path":"/metadata/labels/app.io~1name","value":"x"}])"),
                   R"({"metadata":{"labels":{"app.io/name":"x"}}})"));
}

TEST_CASE("json patch: RFC 6902 A.15 comparing strings and numbers") {
  auto f = patch_failure(R"({"/":9,"~1":10})", R"([{"op":"test","path":"/~01","value":"10"}])");
  CHECK(f.which == kind::test_failed);
  CHECK(f.message == "testing value /~01 failed: test operation failed");
}

TEST_CASE("json patch: RFC 6902 A.16 adding an array value") {
  CHECK(json_equal(
      patched(R"({"foo":["bar"]})", R"([{"op":"add","path":"/foo/-","value":["abc","def"]}])"),
      R"({"foo":["bar",["abc","def"]]})"));
}

TEST_CASE("json patch: array index bounds") {
  const char* doc = R"({"a":[1,2]})";
  CHECK(json_equal(patched(doc, R"([{"op":"add","path":"/a/2","value":3}])"), R"({"a":[1,2,3]})"));
  CHECK(json_equal(patched(doc, R"([{"op":"add","path":"/a/0","value":0}])"), R"({"a":[0,1,2]})"));
  for (const char* ops :
       {R"([{"op":"add","path":"/a/3","value":3}])", R"([{"op":"add","path":"/a/01","value":3}])",
        R"([{"op":"add","path":"/a/-1","value":3}])", R"([{"op":"remove","path":"/a/2"}])",
        R"([{"op":"replace","path":"/a/-","value":3}])", R"([{"op":"remove","path":"/a/x"}])"}) {
    CAPTURE(ops);
    auto f = patch_failure(doc, ops);
    CHECK(f.thrown);
    CHECK(f.which == kind::path_not_found);
  }
  auto f = patch_failure(doc, R"([{"op":"remove","path":"/a/5"}])");
  CHECK(f.message ==
        "error in remove for path: '/a/5': Unable to access invalid index: 5: invalid index "
        "referenced");
}

TEST_CASE("json patch: missing paths") {
  const char* doc = R"({"spec":{"y":1}})";
  auto f = patch_failure(doc, R"([{"op":"remove","path":"/spec/x"}])");
  CHECK(f.which == kind::path_not_found);
  CHECK(f.message ==
        R"(remove operation does not apply: doc is missing path: "/spec/x": missing value)");
  auto g = patch_failure(doc, R"([{"op":"replace","path":"/spec/x","value":2}])");
  CHECK(g.which == kind::path_not_found);
  auto h = patch_failure(doc, R"([{"op":"move","from":"/spec/x","path":"/z"}])");
  CHECK(h.which == kind::path_not_found);
  CHECK(h.message ==
        R"(move operation does not apply: doc is missing from path: "/spec/x": missing value)");
  auto i = patch_failure(doc, R"([{"op":"copy","from":"/nope/x","path":"/z"}])");
  CHECK(i.which == kind::path_not_found);
  // A missing leaf fails the test; it is not an error of the path.
  auto j = patch_failure(doc, R"([{"op":"test","path":"/spec/x","value":1}])");
  CHECK(j.which == kind::test_failed);
  CHECK(j.message == "testing value /spec/x failed: test operation failed");
}

TEST_CASE("json patch: copy, move and root operations") {
  CHECK(json_equal(patched(R"({"a":{"b":[1]}})", R"([{"op":"copy","from":"/a","path":"/c"},
                                                    {"op":"add","path":"/c/b/-","value":2}])"),
                   R"({"a":{"b":[1]},"c":{"b":[1,2]}})"));
  CHECK(json_equal(patched(R"({"a":1})", R"([{"op":"move","from":"/a","path":"/a"}])"),
                   R"({"a":1})"));
  CHECK(json_equal(patched(R"({"a":1})", R"([{"op":"replace","path":"","value":[1]}])"), "[1]"));
  CHECK(json_equal(patched(R"({"a":1})", R"([{"op":"test","path":"","value":{"a":1.0}}])"),
                   R"({"a":1})"));
  auto f = patch_failure(R"({"a":{"b":1}})", R"([{"op":"move","from":"/a","path":"/a/b/c"}])");
  CHECK(f.which == kind::invalid_patch);
}

TEST_CASE("json patch: add replaces an existing member in place") {
  Document d = patched(R"({"a":1,"b":2})", R"([{"op":"add","path":"/a","value":{"x":null}}])");
  CHECK(to_string(d) == R"({"a":{"x":null},"b":2})");
}

TEST_CASE("json patch: a failing operation leaves the target unchanged") {
  const char* doc = R"({"metadata":{"labels":{"a":"1"}},"spec":{"x":[1,2,3]}})";
  auto f = patch_failure(doc, R"([{"op":"add","path":"/metadata/labels/b","value":"2"},
                                  {"op":"remove","path":"/spec/x/0"},
                                  {"op":"replace","path":"/spec/replicas","value":3},
                                  {"op":"test","path":"/spec/x/0","value":2}])");
  CHECK(f.thrown);
  CHECK(f.which == kind::path_not_found);
  auto g = patch_failure(doc, R"([{"op":"remove","path":"/spec"},
                                  {"op":"test","path":"/metadata/labels/a","value":"2"}])");
  CHECK(g.which == kind::test_failed);
}
