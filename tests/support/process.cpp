#include "tests/support/process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace testsupport {
namespace {

using clock = std::chrono::steady_clock;

pid_t spawn(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env,
            int in_fd, int out_fd, int err_fd) {
  pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    // A test that crashes must not leave its servers running.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (in_fd >= 0)
      dup2(in_fd, 0);
    else {
      int devnull = open("/dev/null", O_RDONLY);
      dup2(devnull, 0);
    }
    dup2(out_fd, 1);
    dup2(err_fd, 2);
    for (int fd = 3; fd < 1024; ++fd) close(fd);
    // Hermetic: what a machine that is itself a pod (or has a kubeconfig) sets would point
    // kubectl and the operators at it. A test sets what its child needs.
    for (const char* k : {"KUBECONFIG", "POD_NAME", "WATCH_NAMESPACE", "OPERATOR_NAME",
                          "KUBERNETES_SERVICE_HOST", "KUBERNETES_SERVICE_PORT"})
      unsetenv(k);
    for (const auto& [k, v] : env) setenv(k.c_str(), v.c_str(), 1);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execvp(args[0], args.data());
    _exit(127);
  }
  return pid;
}

int decode_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return -1;
}

}  // namespace

run_result run(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env,
               std::chrono::milliseconds timeout, const std::string& stdin_data) {
  int out[2], err[2], in[2];
  if (pipe(out) || pipe(err) || pipe(in)) throw std::runtime_error("pipe failed");
  pid_t pid = spawn(argv, env, in[0], out[1], err[1]);
  close(out[1]);
  close(err[1]);
  close(in[0]);
  if (!stdin_data.empty()) {
    ssize_t ignored = write(in[1], stdin_data.data(), stdin_data.size());
    (void)ignored;
  }
  close(in[1]);
  run_result r;
  auto deadline = clock::now() + timeout;
  pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
  int open_fds = 2;
  char buf[65536];
  while (open_fds > 0) {
    auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now()).count();
    if (left <= 0) {
      r.timed_out = true;
      kill(pid, SIGKILL);
      break;
    }
    if (poll(fds, 2, static_cast<int>(left)) <= 0) continue;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t n = read(fds[i].fd, buf, sizeof buf);
      if (n <= 0) {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      } else {
        (i == 0 ? r.out : r.err).append(buf, static_cast<size_t>(n));
      }
    }
  }
  for (auto& f : fds)
    if (f.fd >= 0) close(f.fd);
  int status = 0;
  waitpid(pid, &status, 0);
  r.exit_code = r.timed_out ? -1 : decode_status(status);
  return r;
}

child::child(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env) {
  int out[2];
  if (pipe(out)) throw std::runtime_error("pipe failed");
  // stderr goes to the test's stderr so failures are visible in ctest output.
  pid_ = spawn(argv, env, -1, out[1], 2);
  close(out[1]);
  out_fd_ = out[0];
}

child::~child() {
  if (!reaped_) kill_now();
  if (out_fd_ >= 0) close(out_fd_);
}

bool child::wait_for_line(const std::string& line, std::chrono::milliseconds timeout) {
  auto deadline = clock::now() + timeout;
  char buf[4096];
  for (;;) {
    size_t nl;
    while ((nl = partial_.find('\n')) != std::string::npos) {
      std::string l = partial_.substr(0, nl);
      partial_.erase(0, nl + 1);
      output_ += l + "\n";
      if (l == line) return true;
    }
    auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now()).count();
    if (left <= 0 || out_fd_ < 0) return false;
    pollfd p{out_fd_, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left)) <= 0) continue;
    ssize_t n = read(out_fd_, buf, sizeof buf);
    if (n <= 0) {
      close(out_fd_);
      out_fd_ = -1;
      return false;
    }
    partial_.append(buf, static_cast<size_t>(n));
  }
}

void child::drain(std::chrono::milliseconds timeout) {
  wait_for_line("\x01never\x01", timeout);
}

bool child::running() {
  if (reaped_) return false;
  int status = 0;
  pid_t r = waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    reaped_ = true;
    exit_code_ = decode_status(status);
    return false;
  }
  return true;
}

int child::terminate(std::chrono::milliseconds timeout) {
  if (reaped_) return exit_code_;
  kill(pid_, SIGTERM);
  auto deadline = clock::now() + timeout;
  while (clock::now() < deadline) {
    if (!running()) return exit_code_;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  kill_now();
  return -1;
}

void child::kill_now() {
  if (reaped_) return;
  kill(pid_, SIGKILL);
  int status = 0;
  waitpid(pid_, &status, 0);
  reaped_ = true;
  exit_code_ = -1;
}

std::string make_temp_dir(const std::string& prefix) {
  std::string tmpl = (std::getenv("TMPDIR") ? std::string(std::getenv("TMPDIR")) : "/tmp") + "/" +
                     prefix + "-XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (!mkdtemp(buf.data())) throw std::runtime_error("mkdtemp failed");
  return buf.data();
}

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error("cannot read " + path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

void write_file(const std::string& path, const std::string& content) {
  std::ofstream f(path, std::ios::binary);
  f << content;
  if (!f) throw std::runtime_error("cannot write " + path);
}

}  // namespace testsupport
