// A kuttl test folder as steps: files grouped by their index and run in index order, assert and
// errors files apart, TestStep and TestAssert read, bad input refused with the file and field.
#include <doctest/doctest.h>

#include "k8s/json/json.h"
#include "tools/kuttl/command_line.h"
#include "tools/kuttl/test_case.h"

namespace {

namespace js = k8s::json;
using kuttl::load_steps;

const char* kCC = "apiVersion: db.orange.com/v2\nkind: CassandraCluster\nmetadata:\n  name: c\n";

std::string no_file(const std::string& f) {
  throw kuttl::spec_problem(f + ": no such file");
}

}  // namespace

TEST_CASE("kuttl steps: files grouped by index, in index order whatever the listing order") {
  auto steps = load_steps({{"10-last.yaml", kCC},
                           {"02-assert.yaml", kCC},
                           {"00-createCluster.yaml", std::string(kCC) + "---\n" + kCC},
                           {"02-scaleDown.yaml", kCC},
                           {"00-assert.yaml", kCC},
                           {"README.md", "not a step"},
                           {"kuttl-test.yaml", "x: 1"},
                           {"1.yaml", kCC}},
                          no_file);
  REQUIRE(steps.size() == 3);
  CHECK(steps[0].index == 0);
  CHECK(steps[0].name == "createCluster");
  CHECK(steps[0].apply.size() == 2);
  CHECK(steps[0].asserts.size() == 1);
  CHECK(steps[1].index == 2);
  CHECK(steps[1].name == "scaleDown");
  CHECK(steps[1].files == std::vector<std::string>{"02-assert.yaml", "02-scaleDown.yaml"});
  CHECK(steps[2].index == 10);
  CHECK(steps[2].asserts.empty());
}

TEST_CASE("kuttl steps: errors files, TestAssert timeout, assert-only steps") {
  auto steps = load_steps(
      {{"03-errors.yaml", kCC},
       {"03-assert.yaml",
        std::string("apiVersion: kuttl.dev/v1beta1\nkind: TestAssert\ntimeout: 500\n---\n") + kCC}},
      no_file);
  REQUIRE(steps.size() == 1);
  CHECK(steps[0].name == "assert");
  CHECK(steps[0].errors.size() == 1);
  CHECK(steps[0].asserts.size() == 1);
  CHECK(steps[0].timeout_seconds == 500);
}

TEST_CASE("kuttl steps: TestStep commands, deletions and files it names") {
  auto steps = load_steps({{"01-do.yaml", R"(apiVersion: kuttl.dev/v1beta1
kind: TestStep
commands:
  - script: |
      echo $NAMESPACE
  - command: kubectl get pods
    namespaced: true
    ignoreFailure: true
    timeout: 5
delete:
  - apiVersion: v1
    kind: Pod
    labels: {app: x}
apply: [more.yaml]
)"}},
                          [](const std::string& f) {
                            CHECK(f == "more.yaml");
                            return std::string(kCC);
                          });
  REQUIRE(steps.size() == 1);
  REQUIRE(steps[0].commands.size() == 2);
  CHECK(steps[0].commands[0].script == "echo $NAMESPACE\n");
  CHECK(steps[0].commands[1].command == "kubectl get pods");
  CHECK(steps[0].commands[1].namespaced);
  CHECK(steps[0].commands[1].ignore_failure);
  CHECK(steps[0].commands[1].timeout_seconds == 5);
  REQUIRE(steps[0].deletes.size() == 1);
  CHECK(steps[0].deletes[0].labels.at("app") == "x");
  CHECK(steps[0].apply.size() == 1);
}

TEST_CASE("kuttl steps: bad input names the file and the field") {
  auto problem = [](const std::string& name, const std::string& text) {
    try {
      load_steps({{name, text}}, no_file);
    } catch (const kuttl::spec_problem& e) {
      return std::string(e.what());
    }
    return std::string("(accepted)");
  };
  CHECK(problem("00-a.yaml", "apiVersion: kuttl.dev/v1beta1\nkind: TestStep\ncommands:\n- {}\n") ==
        "00-a.yaml (document 1).commands[0]: needs exactly one of `command` and `script`");
  CHECK(problem("00-a.yaml", "apiVersion: kuttl.dev/v1beta1\nkind: TestStep\ntimeout: soon\n") ==
        "00-a.yaml (document 1).timeout: must be a whole number >= 0");
  CHECK(problem("00-a.yaml", "kind: Pod\n") == "00-a.yaml (document 1).apiVersion: is missing");
  CHECK(problem("00-a.yaml", "a: [\n").find("00-a.yaml: not valid YAML") == 0);
  CHECK(problem("00-assert.yaml", "apiVersion: kuttl.dev/v1beta1\nkind: TestStep\n")
            .find("a TestStep belongs in a step file") != std::string::npos);
}

TEST_CASE("kuttl steps: file names kuttl takes as steps") {
  CHECK(kuttl::step_file_name("00-assert.yaml") == std::make_pair(0, std::string("assert")));
  CHECK(kuttl::step_file_name("12-addDC.yaml") == std::make_pair(12, std::string("addDC")));
  CHECK(kuttl::step_file_name("3-x") == std::make_pair(3, std::string("x")));
  CHECK_FALSE(kuttl::step_file_name("README.md"));
  CHECK_FALSE(kuttl::step_file_name("00-a.b.yaml"));
  CHECK_FALSE(kuttl::step_file_name("kuttl-test.yaml"));
}

TEST_CASE("kuttl suite: testDirs, timeout and kuttl's default timeout") {
  auto s = kuttl::parse_suite(
      "apiVersion: kuttl.dev/v1beta1\nkind: TestSuite\ntestDirs:\n  - .\ntimeout: 600\n",
      "kuttl-test.yaml");
  CHECK(s.test_dirs == std::vector<std::string>{"."});
  CHECK(s.timeout_seconds == 600);
  CHECK(
      kuttl::parse_suite("apiVersion: kuttl.dev/v1beta1\nkind: TestSuite\n", "f").timeout_seconds ==
      30);
  CHECK_THROWS_AS(kuttl::parse_suite("kind: Pod\n", "f"), kuttl::spec_problem);
}

TEST_CASE("kuttl command: $VARS expanded, words split as a shell would, without a shell") {
  auto env = [](const std::string& k) -> std::optional<std::string> {
    if (k == "NAMESPACE") return std::string("kuttl-test-x");
    return std::nullopt;
  };
  CHECK(kuttl::expand_env("kubectl -n $NAMESPACE get ${NAMESPACE}/$UNSET.", env) ==
        "kubectl -n kuttl-test-x get kuttl-test-x/.");
  CHECK(kuttl::split_words(R"(cqlsh -e "ALTER KEYSPACE k WITH r = {'a': '1'}" 'x y' a\ b)") ==
        std::vector<std::string>{"cqlsh", "-e", "ALTER KEYSPACE k WITH r = {'a': '1'}", "x y",
                                 "a b"});
  CHECK_THROWS_AS(kuttl::split_words("echo 'open"), std::invalid_argument);
}
