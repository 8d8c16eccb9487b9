// A kuttl test folder as data: its files `NN-name.yaml` grouped into steps by the index NN, in
// index order. In a step, `NN-assert*.yaml` holds the objects that must match (and optionally a
// TestAssert), `NN-errors*.yaml` the objects that must not exist, any other file objects to
// create or merge-patch and optionally a TestStep (commands, deletions, more files). Pure: the
// caller reads the files.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "k8s/json/json.h"

namespace kuttl {

// Bad input in a test folder; what() names the file and the field.
struct spec_problem : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// TestStep.commands[] (kuttl.dev/v1beta1 Command).
struct command {
  std::string command;          // a program and its arguments, $VARS expanded, no shell
  std::string script;           // a shell script (sh -c)
  bool namespaced = false;      // adds --namespace <test namespace> to `command`
  bool ignore_failure = false;  // a non-zero exit is not a failure
  int timeout_seconds = 0;      // 0: the suite's timeout
  bool background = false;      // not supported: refused when loading
};

// TestStep.delete[]: objects to delete (by name, or every object of the kind with the labels).
struct object_ref {
  std::string api_version, kind, name, namespace_name;
  std::map<std::string, std::string> labels;
};

struct step {
  int index = 0;
  std::string name;                          // the first apply file's name part ("createCluster")
  std::vector<std::string> files;            // in name order, for the report
  std::vector<k8s::json::Document> apply;    // created, or merge-patched when they exist
  std::vector<k8s::json::Document> asserts;  // must match (subset) before the timeout
  std::vector<k8s::json::Document> errors;   // must not exist (or not match) at the end
  std::vector<command> commands;
  std::vector<object_ref> deletes;
  std::optional<int> timeout_seconds;  // TestAssert.timeout / TestStep.timeout
};

// `00-assert.yaml` -> {0, "assert"}; nullopt for files that are no step (README.md, 1.yaml).
std::optional<std::pair<int, std::string>> step_file_name(const std::string& file_name);

// Every YAML document of a file (empty and null documents skipped). Throws spec_problem.
std::vector<k8s::json::Document> yaml_documents(const std::string& text, const std::string& file);

// The steps of a folder from its files (name, text), in index order. `read` gives the text of
// a file a TestStep names (apply/assert/error), relative to the folder. Throws spec_problem.
std::vector<step> load_steps(const std::vector<std::pair<std::string, std::string>>& files,
                             const std::function<std::string(const std::string&)>& read);

// TestSuite (kuttl-test.yaml): what the runner honours of it.
struct suite {
  std::vector<std::string> test_dirs;  // relative to the suite file's folder
  int timeout_seconds = 30;            // kuttl's default
  std::string namespace_name;          // "" = a fresh namespace per test
  bool skip_delete = false;
};
suite parse_suite(const std::string& text, const std::string& file);

}  // namespace kuttl
