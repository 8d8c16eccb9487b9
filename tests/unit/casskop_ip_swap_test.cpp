// CassKop v2.1.0's IP-swap check (actors/casskop/logic/ip_swap.h): a pod crash-looping at an IP
// the ring maps to another host id than the status records for it is deleted; nothing else is.
#include <doctest/doctest.h>

#include "actors/casskop/logic/ip_swap.h"

namespace {
using namespace casskop;

struct world {
  node_facts facts;
  std::map<std::string, node_status> recorded;
  world() {
    facts.host_ids.emplace();
    add("cc-dc1-r1-0", "127.9.0.2", "h0", 0);
    add("cc-dc1-r1-1", "127.9.0.3", "h1", 0);
  }
  void add(const std::string& name, const std::string& ip, const std::string& host, int restarts) {
    pod_state p;
    p.name = name;
    p.uid = "uid-" + name;
    p.ip = ip;
    p.phase = "Running";
    p.ready = restarts == 0;
    p.restarts = restarts;
    facts.pods[name] = p;
    (*facts.host_ids)[ip] = host;
    recorded[name] = {host, ip};
  }
  // Pod 1 comes back at 127.9.0.9, which the ring still holds for the down node h2.
  void swap_pod1(int restarts) {
    auto& p = facts.pods["cc-dc1-r1-1"];
    p.ip = "127.9.0.9";
    p.ready = false;
    p.restarts = restarts;
    (*facts.host_ids)["127.9.0.9"] = "h2";
  }
};
}  // namespace

TEST_CASE("casskop ip swap: over the restart count at an IP of another host id: deleted") {
  world w;
  w.swap_pod1(4);
  auto d = pod_with_swapped_ip(3, w.facts, w.recorded);
  REQUIRE(d);
  CHECK(d->pod == "cc-dc1-r1-1");
  CHECK(d->uid == "uid-cc-dc1-r1-1");
  CHECK(d->ip == "127.9.0.9");
  CHECK(d->recorded_host_id == "h1");
  CHECK(d->ring_host_id == "h2");
  CHECK(d->restarts == 4);
}

TEST_CASE("casskop ip swap: nothing deleted below the count, with the check off, or unknown ring") {
  world w;
  w.swap_pod1(3);  // equal is not more (v2.1.0: restartCount > restartCountBeforePodDeletion)
  CHECK_FALSE(pod_with_swapped_ip(3, w.facts, w.recorded));
  w.swap_pod1(50);
  CHECK_FALSE(pod_with_swapped_ip(0, w.facts, w.recorded));  // the default: off
  node_facts unknown = w.facts;
  unknown.host_ids.reset();
  CHECK_FALSE(pod_with_swapped_ip(3, unknown, w.recorded));
}

TEST_CASE("casskop ip swap: a pod restarting at its own IP, or an IP the ring lacks, is kept") {
  world w;
  w.facts.pods["cc-dc1-r1-1"].restarts = 9;  // crash-looping for another reason: same host id
  CHECK_FALSE(pod_with_swapped_ip(3, w.facts, w.recorded));
  w.swap_pod1(9);
  w.facts.host_ids->erase("127.9.0.9");
  CHECK_FALSE(pod_with_swapped_ip(3, w.facts, w.recorded));
}

TEST_CASE("casskop ip swap: a pod already being deleted is not deleted again") {
  world w;
  w.swap_pod1(9);
  w.facts.pods["cc-dc1-r1-1"].deleting = true;
  CHECK_FALSE(pod_with_swapped_ip(3, w.facts, w.recorded));
}
