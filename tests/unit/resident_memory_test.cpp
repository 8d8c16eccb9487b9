// Giving back unused memory: when (once quiet after work, not again while idle) and that what
// is dropped comes back intact (code of the binary and of shared libraries runs and gives the
// same results after the drop).
#include <doctest/doctest.h>

#include <fmt/format.h>
#include <openssl/sha.h>

#include <chrono>
#include <fstream>
#include <regex>
#include <string>
#include <vector>

#include "k8s/base/resident_memory.h"
#include "k8s/json/json.h"

using std::chrono::milliseconds;

namespace {

long rss_file_kib() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("RssFile:", 0) == 0) return std::stol(line.substr(8));
  return -1;
}

// Work that runs code of the binary (RapidJSON, our helpers), libstdc++ (regex), fmt and
// libcrypto.
std::string some_work() {
  auto doc = k8s::json::parse(R"({"a":[1,2,3],"b":{"c":"d"}})");
  std::string out = k8s::json::to_string(doc);
  out += std::regex_replace(std::string("multi-casskop"), std::regex("-"), "_");
  out += fmt::format("{:08.3f}", 3.14159);
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(out.data()), out.size(), md);
  for (unsigned char c : md) out += fmt::format("{:02x}", c);
  return out;
}

}  // namespace

using action = k8s::release_schedule::action;

TEST_CASE("release schedule: once after start-up, not again while idle") {
  k8s::release_schedule s;
  CHECK(s.on_tick(milliseconds(400)) == action::none);         // first tick: start-up is the work
  CHECK(s.on_tick(milliseconds(405)) == action::release_all);  // quiet: release
  CHECK(s.on_tick(milliseconds(410)) == action::none);         // still quiet, nothing done since
  CHECK(s.on_tick(milliseconds(412)) == action::none);
}

TEST_CASE("release schedule: once after each burst of work, when it ends") {
  k8s::release_schedule s;
  s.on_tick(milliseconds(0));
  CHECK(s.on_tick(milliseconds(500)) == action::none);  // busy
  CHECK(s.on_tick(milliseconds(1300)) == action::none);
  CHECK(s.on_tick(milliseconds(1310)) == action::release_all);  // quiet after work
  CHECK(s.on_tick(milliseconds(1320)) == action::none);
  CHECK(s.on_tick(milliseconds(1400)) == action::none);  // a little work (80 ms, under `work`)
  CHECK(s.on_tick(milliseconds(1405)) == action::none);  // is not worth a release
  CHECK(s.on_tick(milliseconds(1450)) == action::none);  // more: 125 ms in all since
  CHECK(s.on_tick(milliseconds(1452)) == action::release_all);
}

TEST_CASE("release schedule: the heap alone every few ticks of a long burst") {
  k8s::release_schedule s;  // busy_trim_ticks = 5
  s.on_tick(milliseconds(0));
  std::vector<action> got;
  for (int t = 1; t <= 11; ++t) got.push_back(s.on_tick(milliseconds(t * 500)));
  const std::vector<action> want = {
      action::none, action::none, action::none, action::none,      action::trim_heap, action::none,
      action::none, action::none, action::none, action::trim_heap, action::none};
  CHECK(got == want);
  CHECK(s.on_tick(milliseconds(5501)) == action::release_all);  // and everything once quiet
}

TEST_CASE("release schedule: thresholds are settings") {
  k8s::release_schedule s({milliseconds(5), milliseconds(1000), 100});
  s.on_tick(milliseconds(0));
  CHECK(s.on_tick(milliseconds(10)) == action::none);  // 10 ms is not quiet under 5 ms
  CHECK(s.on_tick(milliseconds(12)) == action::none);  // quiet, but 10 ms of work is under 1000
  CHECK(s.on_tick(milliseconds(1100)) == action::none);
  CHECK(s.on_tick(milliseconds(1101)) == action::release_all);
}

TEST_CASE("release unused memory: mapped code is dropped and runs the same afterwards") {
  const std::string before = some_work();
  const long file_before = rss_file_kib();
  REQUIRE(file_before > 0);
  const k8s::released_memory r = k8s::release_unused_memory();
  const long file_after = rss_file_kib();
  // The binary and its libraries had pages mapped; most are gone now (what is mapped again
  // came back with the code that measured it).
  CHECK(r.code_bytes > 0);
  CHECK(file_after < file_before);
  // Code and read-only data come back from the files, intact; data written at start-up
  // (relocations, globals) was never dropped.
  for (int i = 0; i < 3; ++i) {
    CHECK(some_work() == before);
    k8s::release_unused_memory();
    k8s::trim_heap();
  }
}
