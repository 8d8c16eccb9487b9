#include "tests/support/operator_fixture.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "k8s/json/json.h"
#include "k8s/json/yaml_json.h"

namespace testsupport {
namespace js = k8s::json;

std::string operator_config_yaml(const kubesim_instance& sim, const operator_config_options& o) {
  if (o.clusters.empty()) throw std::invalid_argument("operator_config_yaml: no clusters");
  std::ostringstream y;
  y << "namespace: " << o.namespace_name << "\n";
  y << "clusters:\n";
  for (size_t i = 0; i < o.clusters.size(); ++i) {
    y << "- name: " << o.clusters[i] << "\n";
    if (auto k = o.kubeconfig_of.find(o.clusters[i]); k != o.kubeconfig_of.end())
      y << "  kubeconfig: " << k->second << "\n";
    else if (i == 0)
      y << "  kubeconfig: " << sim.kubeconfig(o.clusters[i]) << "\n  context: " << o.clusters[i] << "\n";
    else
      y << "  secretDir: " << sim.state_dir() << "/state/" << o.clusters[i] << "/serviceaccount\n";
  }
  y << "log:\n  level: " << o.log_level << "\n";
  y << "readiness:\n  legacySettleSeconds: " << o.legacy_settle_seconds << "\n";
  y << "deletion:\n  startGraceSeconds: " << o.deletion_start_grace_seconds << "\n";
  // Port 0: a free port, so tests may run side by side; the log line names it.
  y << "admin:\n  address: \"" << o.admin_address << "\"\n";
  if (!o.journal_file.empty()) y << "journal:\n  file: " << o.journal_file << "\n";
  y << o.extra_yaml;
  return y.str();
}

std::string merged_kubeconfig(const kubesim_instance& sim, const std::vector<std::string>& clusters) {
  js::Document out(rapidjson::kObjectType);
  auto& a = out.GetAllocator();
  js::Value lists[3] = {js::Value(rapidjson::kArrayType), js::Value(rapidjson::kArrayType),
                        js::Value(rapidjson::kArrayType)};
  const char* keys[3] = {"clusters", "users", "contexts"};
  for (const auto& c : clusters) {
    js::Document k = js::yaml_to_json(read_file(sim.kubeconfig(c)));
    for (int i = 0; i < 3; ++i) {
      const js::Value* l = js::find(k, keys[i]);
      if (!l || !l->IsArray()) throw std::runtime_error("kubeconfig of " + c + " has no " + keys[i]);
      for (const auto& e : l->GetArray())
        if (js::get_string(e, "name") == c) lists[i].PushBack(js::Value(e, a), a);
    }
  }
  out.AddMember("apiVersion", "v1", a);
  out.AddMember("kind", "Config", a);
  for (int i = 0; i < 3; ++i) out.AddMember(js::string_value(keys[i], a), lists[i], a);
  out.AddMember("current-context", js::string_value(clusters.front(), a), a);
  return js::to_string(out);  // JSON is YAML
}

operator_process::operator_process(const kubesim_instance& sim, const operator_config_options& o) {
  make_dir();
  config_path_ = dir_ + "/config.yaml";
  write_file(config_path_, operator_config_yaml(sim, o));
  argv_ = {MULTICASSKOP_BIN, "--config", config_path_};
  start();
}

operator_process::operator_process(std::vector<std::string> args, std::map<std::string, std::string> env)
    : env_(std::move(env)) {
  make_dir();
  argv_ = {MULTICASSKOP_BIN};
  argv_.insert(argv_.end(), args.begin(), args.end());
  start();
}

operator_process::operator_process(binary b, std::vector<std::string> args, std::map<std::string, std::string> env)
    : env_(std::move(env)) {
  make_dir();
  argv_ = {b.path};
  argv_.insert(argv_.end(), args.begin(), args.end());
  start();
}

void operator_process::make_dir() {
  dir_ = make_temp_dir("multi-casskop-test");
  log_path_ = dir_ + "/operator.log";
  write_file(log_path_, "");
}

operator_process::~operator_process() {
  kill9();
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

void operator_process::start() {
  if (running()) throw std::logic_error("multi-casskop is already running");
  ++starts_;
  {
    std::ostringstream marker;
    marker << "=== e2e: start " << starts_ << " ===\n";
    std::string log = read_file(log_path_);
    run_offset_ = static_cast<long>(log.size());
    write_file(log_path_, log + marker.str());
  }
  int fd = open(log_path_.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (fd < 0) throw std::runtime_error("cannot open " + log_path_);
  pid_t pid = fork();
  if (pid < 0) {
    close(fd);
    throw std::runtime_error("fork failed");
  }
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);  // a crashed test leaves no operator behind
    int devnull = open("/dev/null", O_RDONLY);
    dup2(devnull, 0);
    dup2(fd, 1);
    dup2(fd, 2);
    for (int f = 3; f < 1024; ++f) close(f);
    // The test runner may block signals; the operator expects the default mask.
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    for (const auto& [k, v] : env_) setenv(k.c_str(), v.c_str(), 1);
    std::vector<char*> args;
    for (const auto& s : argv_) args.push_back(const_cast<char*>(s.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  close(fd);
  pid_ = pid;
}

bool operator_process::running() {
  if (pid_ < 0) return false;
  int status = 0;
  if (waitpid(pid_, &status, WNOHANG) == pid_) {
    pid_ = -1;
    return false;
  }
  return true;
}

void operator_process::kill9() {
  if (pid_ < 0) return;
  kill(pid_, SIGKILL);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
}

void operator_process::restart() {
  kill9();
  start();
}

int operator_process::stop(std::chrono::milliseconds timeout) {
  if (pid_ < 0) return -1;
  kill(pid_, SIGTERM);
  auto deadline = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      pid_ = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  kill9();
  return -1;
}

std::string operator_process::log() const { return read_file(log_path_); }

std::string operator_process::current_log() const {
  std::string all = log();
  return static_cast<size_t>(run_offset_) <= all.size() ? all.substr(static_cast<size_t>(run_offset_)) : all;
}

bool operator_process::wait_for_log(const std::string& text, std::chrono::milliseconds timeout) const {
  return eventually([&] { return current_log().find(text) != std::string::npos; }, timeout);
}

size_t operator_process::count_log_lines(const std::vector<std::string>& parts) const {
  std::istringstream in(log());
  std::string line;
  size_t n = 0;
  while (std::getline(in, line)) {
    bool all = true;
    for (const auto& p : parts)
      if (line.find(p) == std::string::npos) all = false;
    if (all) ++n;
  }
  return n;
}

}  // namespace testsupport
