// JSONPath for CRD printer columns and the Table cells built from it.
#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <vector>

#include "k8s/json/json.h"
#include "tools/kubesim/jsonpath.h"

using kubesim::jsonpath_error;
using kubesim::jsonpath_eval;
using kubesim::printer_cell;

namespace {

const char* kObject = R"({
  "apiVersion": "db.orange.com/v1alpha1",
  "kind": "CassandraCluster",
  "metadata": {"name": "cc", "labels": {"app": "cassandra", "example.com/team": "db"},
               "creationTimestamp": "2024-01-01T00:00:00Z"},
  "spec": {
    "nodesPerRacks": 3,
    "ratio": 1.5,
    "whole": 2.0,
    "paused": false,
    "nothing": null,
    "x": {"y": "nested"},
    "x.y": "dotted",
    "topology": {"dc": [{"name": "dc1", "rack": [{"name": "r1"}, {"name": "r2"}]},
                        {"name": "dc2", "rack": [{"name": "r3"}]}]},
    "items": [{"name": "a", "n": 1}, {"name": "b", "n": 5}, {"name": "c", "n": 10},
              {"other": true}],
    "map": {"b": 2, "a": "<x>", "c": [1, 1e21, 1e-7]}
  },
  "status": {"phase": "Running",
             "conditions": [{"type": "Ready", "status": "True"},
                            {"type": "Synced", "status": "False"}]}
})";

const k8s::json::Document& object() {
  static const k8s::json::Document doc = k8s::json::parse(kObject);
  return doc;
}

// Matches rendered as compact JSON, joined with spaces (like kubectl -o jsonpath).
std::string eval(std::string_view path) {
  std::string out;
  for (const auto* v : jsonpath_eval(object(), path)) {
    if (!out.empty()) out += ' ';
    out += v->IsString() ? std::string(k8s::json::view(*v)) : k8s::json::to_string(*v);
  }
  return out;
}

std::string syntax_error(std::string_view path) {
  try {
    kubesim::jsonpath_validate(path);
  } catch (const jsonpath_error& e) {
    return e.what();
  }
  return "<no error>";
}

const auto kNow = std::chrono::system_clock::time_point(std::chrono::seconds(1704067200));

// The cell as JSON text, with "now" fixed at 2024-01-01T00:00:00Z.
std::string cell(std::string_view path, std::string_view type, const char* json = nullptr) {
  k8s::json::Document doc;
  if (json) doc = k8s::json::parse(json);
  const k8s::json::Value& root = json ? static_cast<const k8s::json::Value&>(doc) : object();
  k8s::json::Document out;
  auto v = printer_cell(root, path, type, out.GetAllocator(), kNow);
  return k8s::json::to_string(v);
}

std::string date_cell(std::string_view timestamp) {
  return cell(".t", "date", (std::string(R"({"t":")") + std::string(timestamp) + "\"}").c_str());
}

}  // namespace

TEST_CASE("jsonpath: field paths") {
  CHECK(eval(".status.phase") == "Running");
  CHECK(eval(".metadata.labels.app") == "cassandra");
  CHECK(eval(".spec.nodesPerRacks") == "3");
  CHECK(eval(".spec.x") == R"({"y":"nested"})");
  CHECK(eval(".spec.missing") == "");
  CHECK(eval(".spec.missing.deeper") == "");
  CHECK(eval(".spec.nodesPerRacks.deeper") == "");  // fields of a scalar: no match
  CHECK(eval(".spec.nothing") == "null");
  CHECK(eval(".spec.nothing.deeper") == "");
  CHECK(eval("$.status.phase") == "Running");
  CHECK(eval(".status .phase") == "Running");
}

TEST_CASE("jsonpath: keys with dots and slashes") {
  // A backslash keeps the dot in the key.
  CHECK(eval(R"(.spec.x\.y)") == "dotted");
  CHECK(eval(R"(.metadata.labels.example\.com/team)") == "db");
  // client-go re-parses ['...'] as a dotted path, so dots still split it.
  CHECK(eval(".spec['x.y']") == "nested");
  CHECK(eval(R"(.spec['x\.y'])") == "dotted");
  CHECK(eval(".metadata['labels']['app']") == "cassandra");
  CHECK(eval(".metadata.labels['example.com/team']") == "");
}

TEST_CASE("jsonpath: array indexes and slices") {
  CHECK(eval(".spec.topology.dc[0].name") == "dc1");
  CHECK(eval(".spec.topology.dc[1].rack[0].name") == "r3");
  CHECK(eval(".spec.topology.dc[-1].name") == "dc2");
  CHECK(eval(".spec.items[1:3].name") == "b c");
  CHECK(eval(".spec.items[:2].name") == "a b");
  CHECK(eval(".spec.items[::2].name") == "a c");
  CHECK(eval(".spec.items[-2:].n") == "10");
  CHECK(eval(".spec.items[]") == R"({"name":"a","n":1})");  // "[]" is "[0]"
  CHECK(eval(".spec.items[0:0]") == "");
  // Evaluation errors are no match: out of range, indexing a map, bad step.
  CHECK(eval(".spec.items[9].name") == "");
  CHECK(eval(".spec.x[0]") == "");
  CHECK(eval(".spec.items[::0]") == "");
}

TEST_CASE("jsonpath: wildcards, unions and recursive descent") {
  CHECK(eval(".spec.items[*].name") == "a b c");
  CHECK(eval(".spec.topology.dc[*].rack[*].name") == "r1 r2 r3");
  CHECK(eval(".spec.x.*") == "nested");
  CHECK(eval(".spec.topology.dc[0,1].name") == "dc1 dc2");
  CHECK(eval(".spec.items[*]['name','n']") == "a b c 1 5 10");
  CHECK(eval(".spec.topology..name") == "dc1 r1 r2 dc2 r3");
  CHECK(eval("..phase") == "Running");
}

TEST_CASE("jsonpath: filters") {
  CHECK(eval(R"(.status.conditions[?(@.type=="Ready")].status)") == "True");
  CHECK(eval(R"(.status.conditions[?(@.type == 'Synced')].status)") == "False");
  CHECK(eval(R"(.status.conditions[?(@.type!="Ready")].type)") == "Synced");
  // Elements without the field are skipped; comparisons need matching types.
  CHECK(eval(".spec.items[?(@.n>1)].name") == "b c");
  CHECK(eval(".spec.items[?(@.n>=5)].name") == "b c");
  CHECK(eval(".spec.items[?(@.n<5)].name") == "a");
  CHECK(eval(".spec.items[?(@.n<=5)].name") == "a b");
  CHECK(eval(".spec.items[?(@.n==10)].name") == "c");
  CHECK(eval(".spec.items[?(@.n>1.5)].name") == "");  // int vs float is an error in Go
  CHECK(eval(".spec.items[?(@.other==true)].other") == "true");
  CHECK(eval(".spec.items[?(@.other)].other") == "true");  // exists
  CHECK(eval(".spec.items[?(@.n=1)].name") == "");         // unknown operator
  CHECK(eval(".spec.x[?(@.y)]") == "");                    // filtering a map is an error
  CHECK(eval(".spec.missing[?(@.y)]") == "");
}

TEST_CASE("jsonpath: syntax errors") {
  CHECK(syntax_error(".status.phase") == "<no error>");
  CHECK(syntax_error(".spec.items[0") == "unterminated array");
  CHECK(syntax_error(".spec.items[a]") == "invalid array index a");
  CHECK(syntax_error(".spec.items[-]") == "array index - is not a number");
  CHECK(syntax_error(".spec[?(@.a==1") == "unterminated filter");
  CHECK(syntax_error(".spec[?(@.a==1)x") == "unclosed array expect ]");
  CHECK(syntax_error(".spec{") == "unrecognized character in action: U+007B '{'");
  CHECK(syntax_error(".spec\n") == "unclosed action");
  CHECK(syntax_error(".a \"x") == "unterminated quoted string");
  CHECK(syntax_error(".a[?(@.b=='x)]") == "unterminated filter");  // the quote hides the ')'
  CHECK(syntax_error(".a[?(@.b=='x\\q')]") == "unquote string 'x\\q' error invalid syntax");
  CHECK(syntax_error(".a[?(@.b==1.2.3)]") == "cannot parse number 1.2.3");
  CHECK(syntax_error("......a") == "invalid multiple recursive descent");
  CHECK(syntax_error(".a \"x\"") == "literal values are only supported inside filters");
  CHECK_THROWS_AS(jsonpath_eval(object(), ".spec.items[0"), jsonpath_error);
  k8s::json::Document out;
  CHECK_THROWS_AS(printer_cell(object(), ".a[", "string", out.GetAllocator()), jsonpath_error);
}

TEST_CASE("printer cell: integer and number") {
  CHECK(cell(".spec.nodesPerRacks", "integer") == "3");
  CHECK(cell(".spec.ratio", "integer") == "1");  // floats are truncated
  CHECK(cell(".status.phase", "integer") == "null");
  CHECK(cell(".spec.nodesPerRacks", "number") == "3.0");
  CHECK(cell(".spec.ratio", "number") == "1.5");
  CHECK(cell(".spec.paused", "number") == "null");
}

TEST_CASE("printer cell: boolean") {
  CHECK(cell(".spec.paused", "boolean") == "false");
  CHECK(cell(".status.phase", "boolean") == "null");
}

TEST_CASE("printer cell: string") {
  CHECK(cell(".status.phase", "string") == R"("Running")");
  CHECK(cell(".spec.nodesPerRacks", "string") == R"("3")");
  CHECK(cell(".spec.ratio", "string") == R"("1.5")");
  CHECK(cell(".spec.whole", "string") == R"("2")");
  CHECK(cell(".spec.paused", "string") == R"("false")");
  CHECK(cell(".spec.nothing", "string") == R"("<no value>")");
  // Objects and arrays print as json.Marshal would: sorted keys, HTML-safe, Go floats.
  CHECK(cell(".spec.map", "string") ==
        R"("{\"a\":\"\\u003cx\\u003e\",\"b\":2,\"c\":[1,1e+21,1e-7]}")");
  CHECK(cell(".spec.topology.dc[1].rack", "string") == R"("[{\"name\":\"r3\"}]")");
  // Several matches: the server only uses the first.
  CHECK(cell(".spec.items[*].name", "string") == R"("a")");
  CHECK(cell(".spec.topology..name", "string") == R"("dc1")");
  CHECK(cell(".spec.items[*].n", "integer") == "1");
}

TEST_CASE("printer cell: Go number formatting in string columns") {
  CHECK(cell(".v", "string", R"({"v":1000000.0})") == R"("1e+06")");
  CHECK(cell(".v", "string", R"({"v":123456.7})") == R"("123456.7")");
  CHECK(cell(".v", "string", R"({"v":0.0001})") == R"("0.0001")");
  CHECK(cell(".v", "string", R"({"v":0.00001})") == R"("1e-05")");
  CHECK(cell(".v", "string", R"({"v":-2.5e-300})") == R"("-2.5e-300")");
  CHECK(cell(".v", "string", R"({"v":12345678901234567890})") == R"("1.2345678901234567e+19")");
  CHECK(cell(".v", "string", R"({"v":[1.5,100000000.0]})") == R"("[1.5,100000000]")");
}

TEST_CASE("printer cell: date") {
  CHECK(cell(".metadata.creationTimestamp", "date") == R"("0s")");
  CHECK(date_cell("2023-12-31T23:58:50Z") == R"("70s")");
  CHECK(date_cell("2023-12-31T23:54:50Z") == R"("5m10s")");
  CHECK(date_cell("2023-12-31T23:55:00Z") == R"("5m")");
  CHECK(date_cell("2023-12-31T22:00:00Z") == R"("120m")");
  CHECK(date_cell("2023-12-31T19:30:00Z") == R"("4h30m")");
  CHECK(date_cell("2023-12-31T00:00:00Z") == R"("24h")");
  CHECK(date_cell("2023-12-28T12:00:00Z") == R"("3d12h")");
  CHECK(date_cell("2023-11-01T00:00:00Z") == R"("61d")");
  CHECK(date_cell("2021-01-01T00:00:00Z") == R"("3y")");
  CHECK(date_cell("2020-06-01T00:00:00Z") == R"("3y214d")");
  CHECK(date_cell("2000-01-01T00:00:00Z") == R"("24y")");
  CHECK(date_cell("2024-01-01T01:00:00+02:00") == R"("60m")");
  CHECK(date_cell("2023-12-31T23:59:59.5Z") == R"("0s")");
  CHECK(date_cell("2024-01-01T00:00:01Z") == R"("0s")");  // up to 1s in the future
  CHECK(date_cell("2024-01-01T00:00:05Z") == R"("<invalid>")");
  CHECK(date_cell("yesterday") == R"("<invalid>")");
  CHECK(date_cell("2023-02-30T00:00:00Z") == R"("<invalid>")");
  CHECK(date_cell("") == R"("<unknown>")");
  CHECK(date_cell("0001-01-01T00:00:00Z") == R"("<unknown>")");
  CHECK(cell(".spec.nodesPerRacks", "date") == "null");
}

TEST_CASE("printer cell: human_duration matches apimachinery's HumanDuration") {
  using kubesim::human_duration;
  using namespace std::chrono_literals;
  CHECK(human_duration(-5s) == "<invalid>");
  CHECK(human_duration(-2s) == "<invalid>");
  CHECK(human_duration(-1999ms) == "0s");  // Go truncates towards zero
  CHECK(human_duration(-1s) == "0s");
  CHECK(human_duration(4s) == "4s");
  CHECK(human_duration(119s) == "119s");
  CHECK(human_duration(150s) == "2m30s");
  CHECK(human_duration(180s) == "3m");
  CHECK(human_duration(45min) == "45m");
  CHECK(human_duration(200min) == "3h20m");
  CHECK(human_duration(5h) == "5h");
  CHECK(human_duration(30h) == "30h");
  CHECK(human_duration(76h) == "3d4h");
  CHECK(human_duration(72h) == "3d");
  CHECK(human_duration(24h * 100) == "100d");
  CHECK(human_duration(24h * (365 * 3 + 10)) == "3y10d");
  CHECK(human_duration(24h * 365 * 9) == "9y");
}

TEST_CASE("printer cell: no match, null and unknown types") {
  CHECK(cell(".spec.missing", "string") == "null");
  CHECK(cell(".spec.missing", "integer") == "null");
  CHECK(cell(".spec.nothing", "integer") == "null");
  CHECK(cell(".spec.items[9]", "string") == "null");
  CHECK(cell(".status.phase", "color") == "null");
  // The overload without "now" uses the clock; a far past date is years old.
  k8s::json::Document out;
  auto v = printer_cell(k8s::json::parse(R"({"t":"2001-01-01T00:00:00Z"})"), ".t", "date",
                        out.GetAllocator());
  REQUIRE(v.IsString());
  CHECK(std::string(k8s::json::view(v)).back() == 'y');
}
