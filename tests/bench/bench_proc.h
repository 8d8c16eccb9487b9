// What the benchmarks read about a process from /proc (resident memory, CPU time) and the
// figures they print (percentiles of a sample).
#pragma once

#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

namespace bench {

struct proc_memory {
  long rss_kib = 0, hwm_kib = 0;
  long anon_kib = 0, file_kib = 0;  // RssAnon (heap, stacks, relocated data), RssFile (code)
};

inline proc_memory memory_of(pid_t pid) {
  proc_memory m;
  std::ifstream f(fmt::format("/proc/{}/status", pid));
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("VmRSS:", 0) == 0) m.rss_kib = std::atol(line.c_str() + 6);
    if (line.rfind("VmHWM:", 0) == 0) m.hwm_kib = std::atol(line.c_str() + 6);
    if (line.rfind("RssAnon:", 0) == 0) m.anon_kib = std::atol(line.c_str() + 8);
    if (line.rfind("RssFile:", 0) == 0) m.file_kib = std::atol(line.c_str() + 8);
  }
  return m;
}

inline double cpu_seconds(pid_t pid) {
  std::ifstream f(fmt::format("/proc/{}/stat", pid));
  std::string s((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  size_t p = s.rfind(')');
  if (p == std::string::npos) return 0;
  std::vector<std::string> fields;
  size_t i = p + 2;
  while (i < s.size()) {
    size_t sp = s.find(' ', i);
    fields.push_back(s.substr(i, sp == std::string::npos ? std::string::npos : sp - i));
    if (sp == std::string::npos) break;
    i = sp + 1;
  }
  // fields[0] is the state (field 3); utime and stime are fields 14 and 15.
  if (fields.size() < 13) return 0;
  return (std::atof(fields[11].c_str()) + std::atof(fields[12].c_str())) / sysconf(_SC_CLK_TCK);
}

// Samples VmRSS of a process every `period` and keeps the largest.
class rss_sampler {
 public:
  rss_sampler(pid_t pid, std::chrono::milliseconds period) {
    thread_ = std::thread([this, pid, period] {
      while (!stop_) {
        long r = memory_of(pid).rss_kib;
        if (r > max_) max_ = r;
        std::this_thread::sleep_for(period);
      }
    });
  }
  ~rss_sampler() { finish(); }
  long finish() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    return max_;
  }

 private:
  std::atomic<bool> stop_{false};
  std::atomic<long> max_{0};
  std::thread thread_;
};

struct stats {
  std::vector<double> v;
  void add(double x) { v.push_back(x); }
  double pct(double p) const {
    if (v.empty()) return 0;
    auto s = v;
    std::sort(s.begin(), s.end());
    size_t rank = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(s.size())));
    return s[std::min(s.size() - 1, rank == 0 ? 0 : rank - 1)];
  }
  double max() const { return v.empty() ? 0 : *std::max_element(v.begin(), v.end()); }
  double mean() const {
    double t = 0;
    for (double x : v) t += x;
    return v.empty() ? 0 : t / static_cast<double>(v.size());
  }
};

inline void print_stats(const char* label, const stats& s) {
  fmt::print("  {:<46} p50 {:>7.3f}  p90 {:>7.3f}  p99 {:>7.3f}  max {:>7.3f}  mean {:>7.3f} ms\n",
             label, s.pct(50), s.pct(90), s.pct(99), s.max(), s.mean());
}

}  // namespace bench
