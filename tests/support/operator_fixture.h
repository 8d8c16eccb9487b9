// Runs the multi-casskop binary for end-to-end tests: with a config file generated for a
// kubesim's clusters (or with any arguments), its stdout and stderr appended to one log file,
// killed with SIGKILL and started again to test restarts, stopped with SIGTERM.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include <sys/types.h>

#include "tests/support/kubesim_fixture.h"

namespace testsupport {

struct operator_config_options {
  std::vector<std::string> clusters;  // regions in order; the first is the local cluster
  std::string namespace_name = "cassandra-e2e";
  int legacy_settle_seconds = 5;
  int deletion_start_grace_seconds = 3;  // the kubesim tests' creates land well within it
  std::string journal_file;  // "" = no journal file
  std::string log_level = "info";
  std::string admin_address = "127.0.0.1:0";
  std::string extra_yaml;  // appended to the file as is (e.g. "limits:\n  ...")
  // Clusters whose connection is this kubeconfig file instead (e.g. one with a wrong token).
  std::map<std::string, std::string> kubeconfig_of;
};

// A config file for kubesim's clusters: the local one through its kubeconfig, the remote ones
// through their kubemcsa-style service-account folder (as users mount them).
std::string operator_config_yaml(const kubesim_instance& sim, const operator_config_options& o);

// A kubeconfig with every given cluster of kubesim: contexts named as the clusters (token
// auth), the current context the first cluster's.
std::string merged_kubeconfig(const kubesim_instance& sim, const std::vector<std::string>& clusters);

class operator_process {
 public:
  // `multi-casskop --config FILE` with operator_config_yaml(sim, o); started at once.
  operator_process(const kubesim_instance& sim, const operator_config_options& o);
  // `multi-casskop ARGS...` with extra environment variables; started at once.
  explicit operator_process(std::vector<std::string> args, std::map<std::string, std::string> env = {});
  // Another operator binary on the same runtime (e.g. the test controller's): `binary ARGS...`.
  struct binary {
    std::string path;
  };
  operator_process(binary b, std::vector<std::string> args, std::map<std::string, std::string> env = {});
  ~operator_process();  // SIGKILL if still running, and removes its folder
  operator_process(const operator_process&) = delete;
  operator_process& operator=(const operator_process&) = delete;

  void start();    // starts it (again); the log continues in the same file
  void kill9();    // SIGKILL and reap: a crash, nothing flushed or cleaned up
  void restart();  // kill9 if running, then start
  // SIGTERM, then wait up to `timeout`; its exit code, or -1 if it died of a signal or had to
  // be killed.
  int stop(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  bool running();

  std::string log() const;          // everything every run wrote
  std::string current_log() const;  // what the current (last) run wrote
  // Waits until the current run's log contains `text`.
  bool wait_for_log(const std::string& text, std::chrono::milliseconds timeout = std::chrono::seconds(10)) const;
  // Lines of the whole log containing every one of `parts`.
  size_t count_log_lines(const std::vector<std::string>& parts) const;

  const std::string& dir() const { return dir_; }
  const std::string& config_path() const { return config_path_; }
  const std::string& log_path() const { return log_path_; }
  int starts() const { return starts_; }
  pid_t pid() const { return pid_; }  // -1 when not running (for kill(pid, SIGHUP))

 private:
  void make_dir();

  std::string dir_, config_path_, log_path_;
  std::vector<std::string> argv_;
  std::map<std::string, std::string> env_;
  pid_t pid_ = -1;
  long run_offset_ = 0;  // where the current run's log starts
  int starts_ = 0;
};

}  // namespace testsupport
