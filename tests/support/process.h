// Running child processes from tests: bounded in time, output captured, always reaped.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include <sys/types.h>

namespace testsupport {

struct run_result {
  int exit_code = -1;  // -1: killed after the timeout
  std::string out;
  std::string err;
  bool timed_out = false;
};

// Runs argv to completion (or kills it after `timeout`), with extra environment variables.
run_result run(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env = {},
               std::chrono::milliseconds timeout = std::chrono::seconds(60),
               const std::string& stdin_data = "");

// A background child whose stdout is read line by line.
class child {
 public:
  child(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env = {});
  ~child();  // SIGKILL and reap if still running
  child(const child&) = delete;
  child& operator=(const child&) = delete;

  // Reads stdout until a line equal to `line` arrives; false on timeout or EOF. Every line read
  // is kept in output().
  bool wait_for_line(const std::string& line, std::chrono::milliseconds timeout);
  // Reads whatever stdout has until `timeout`, or until EOF.
  void drain(std::chrono::milliseconds timeout);
  // SIGTERM, then wait up to `timeout`; returns the exit code (-1 if it had to be killed).
  int terminate(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  void kill_now();  // SIGKILL
  bool running();
  pid_t pid() const { return pid_; }
  const std::string& output() const { return output_; }

 private:
  pid_t pid_ = -1;
  int out_fd_ = -1;
  std::string output_;
  std::string partial_;
  int exit_code_ = -1;
  bool reaped_ = false;
};

std::string make_temp_dir(const std::string& prefix);
std::string read_file(const std::string& path);
void write_file(const std::string& path, const std::string& content);

}  // namespace testsupport
