// The readiness probe as readiness-probe.sh computes it (ref §2).
#include <doctest/doctest.h>

#include "k8s/json/base64.h"
#include "kubesim_cassandra_world.h"
#include "tools/kubesim/cassandra/readiness.h"

namespace {
using namespace kubesim_cassandra_test;
}

TEST_CASE(
    "kubesim cassandra: readiness is LiveNodes holding POD_IP, so STARTING and JOINING are Ready") {
  Speeds speeds;
  speeds.startup = 10s;
  speeds.ring_delay = 30s;
  speeds.decommission_streaming = 1s;
  World w(speeds);
  w.start("n-0", "127.7.0.1", "dc1", "rack1", "n-0.cc.ns");
  w.run(10s);
  w.start("n-1", "127.7.0.2", "dc1", "rack1", "n-0.cc.ns");
  ProbeEnv env{"127.7.0.2", "", ""};
  CHECK_FALSE(readiness_probe(w.rings, "n-1", w.now, env, std::nullopt));  // MBean not there yet
  w.run(5s);
  REQUIRE(w.mode("n-1") == Mode::Starting);
  CHECK(readiness_probe(w.rings, "n-1", w.now, env, std::nullopt));
  w.run(5s);
  REQUIRE(w.mode("n-1") == Mode::Joining);
  CHECK(readiness_probe(w.rings, "n-1", w.now, env, std::nullopt));
  w.run(30s);
  REQUIRE(w.mode("n-1") == Mode::Normal);
  CHECK(readiness_probe(w.rings, "n-1", w.now, env, std::nullopt));
  REQUIRE_FALSE(w.rings.decommission(w.now, "n-1"));
  w.run(31s);
  REQUIRE(w.mode("n-1") == Mode::Decommissioned);
  CHECK(readiness_probe(w.rings, "n-1", w.now, env, std::nullopt));  // still Ready (ref §2)
  w.rings.stop("n-1");
  CHECK_FALSE(readiness_probe(w.rings, "n-1", w.now, env, std::nullopt));  // refused
}

TEST_CASE("kubesim cassandra: the probe's credentials and grep's quirks") {
  World w;
  w.start("n-0", "127.7.0.1", "dc1", "rack1", "n-0.cc.ns");
  Credentials agent{"u", "p"};
  CHECK(readiness_probe(w.rings, "n-0", w.now, {"127.7.0.1", "u", "p"}, agent));
  CHECK_FALSE(readiness_probe(w.rings, "n-0", w.now, {"127.7.0.1", "u", "bad"}, agent));  // 401
  // --user only when both variables are set: a missing password sends no credentials.
  CHECK_FALSE(probe_request({"127.7.0.1", "u", ""}).authorization);
  CHECK(probe_request({"127.7.0.1", "u", "p"}).authorization ==
        "Basic " + k8s::base64_encode("u:p"));
  CHECK(probe_request({"", "", ""}).target ==
        "/jolokia/read/org.apache.cassandra.db:type=StorageService/LiveNodes");
  // `grep -q $POD_IP`: a substring, and '.' matches any character.
  CHECK(probe_output_passes("127.0.0.1", R"({"value":["127.0.0.12"]})"));
  CHECK(probe_output_passes("127.0.0.1", R"({"value":["127x0x0x1"]})"));
  CHECK_FALSE(probe_output_passes("127.0.0.1", R"({"value":["127.0.0.2"]})"));
  CHECK_FALSE(probe_output_passes("", R"({"value":["127.0.0.2"]})"));
}
