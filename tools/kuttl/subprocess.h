// Runs a TestStep command: a child process in its own process group, in the test's folder, with
// extra environment variables, stdout and stderr merged and captured, killed (the whole group)
// when it outlives its timeout.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

namespace kuttl {

struct process_result {
  int exit_code = -1;  // -1: killed by a signal or after the timeout
  bool timed_out = false;
  std::string output;
};

process_result run_process(const std::vector<std::string>& argv,
                           const std::map<std::string, std::string>& extra_env,
                           const std::string& cwd, std::chrono::seconds timeout);

}  // namespace kuttl
