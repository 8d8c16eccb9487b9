// The leader-for-life lock's shell (actors/runtime/leader_for_life_lock.h) against kubesim:
// candidates started at once, each with its own client and timers as separate processes would
// be: exactly one takes the lock; the lock goes with its holder's Pod and exactly one other takes
// it; a stopped candidate never calls back.
#include <doctest/doctest.h>

#include <atomic>

#include "actors/runtime/leader_for_life_lock.h"
#include "k8s/api/client.h"
#include "k8s/api/connection.h"
#include "tests/support/kubesim_fixture.h"

using namespace testsupport;
using namespace std::chrono_literals;
namespace js = k8s::json;

namespace {

const std::string pods = "/api/v1/namespaces/default/pods";
const std::string lock_path = "/api/v1/namespaces/default/configmaps/casskop-lock";

struct candidate {
  std::atomic<int> acquired{0};
  std::shared_ptr<k8s::client> client;
  std::shared_ptr<k8s::timer_service> timers = std::make_shared<k8s::timer_service>();
  std::shared_ptr<runtime::leader_for_life_lock> lock;

  candidate(const kubesim_instance& sim, const std::string& pod) {
    client = std::make_shared<k8s::client>(k8s::load_kubeconfig(sim.kubeconfig("k1")));
    runtime::leader_for_life_options o;
    o.lock_namespace = "default";
    o.lock_name = "casskop-lock";
    o.pod_name = pod;
    lock = runtime::leader_for_life_lock::create(client, timers, o, [this] { ++acquired; });
  }
  ~candidate() { lock->stop(); }  // the callback captures this
};

void make_pod(api_client& api, const std::string& name) {
  auto r = api.request("POST", pods,
                       R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":")" + name +
                           R"("},"spec":{"containers":[{"name":"op","image":"casskop"}]}})");
  REQUIRE_MESSAGE(r.status == 201, r.body);
}

std::string holder(api_client& api) {
  auto r = api.get(lock_path);
  if (r.status != 200) return "";
  auto d = r.json();
  const js::Value* refs = js::find_path(d, {"metadata", "ownerReferences"});
  return refs && refs->IsArray() && refs->Size() == 1
             ? std::string(js::get_string((*refs)[0], "name"))
             : "?";
}

}  // namespace

TEST_CASE("leader for life lock: of candidates started at once one leads, then one successor") {
  kubesim_instance sim({"k1"});
  api_client api(sim.client("k1"));
  std::vector<std::unique_ptr<candidate>> cs;
  for (int i = 0; i < 4; ++i) {
    make_pod(api, "op-" + std::to_string(i));
    cs.push_back(std::make_unique<candidate>(sim, "op-" + std::to_string(i)));
  }
  for (auto& c : cs) c->lock->start();
  auto leaders = [&] {
    std::vector<int> out;
    for (size_t i = 0; i < cs.size(); ++i)
      if (cs[i]->acquired > 0) out.push_back(static_cast<int>(i));
    return out;
  };
  REQUIRE(eventually([&] { return !leaders().empty(); }, 10s));
  // The others have had their answer (AlreadyExists, then the holder read) and wait.
  REQUIRE(eventually(
      [&] {
        for (auto& c : cs)
          if (!c->lock->held() &&
              c->lock->waiting_reason().find("held by pod") == std::string::npos)
            return false;
        return true;
      },
      10s));
  REQUIRE(leaders().size() == 1);
  const int first = leaders()[0];
  CHECK(holder(api) == "op-" + std::to_string(first));
  CHECK(cs[first]->lock->held());
  CHECK(cs[first]->lock->waiting_reason().empty());

  // The holder's Pod deleted: the garbage collector takes the lock, exactly one other takes it.
  cs[first]->lock->stop();
  auto del = api.request("DELETE", pods + "/op-" + std::to_string(first));
  REQUIRE_MESSAGE(del.status == 200, del.body);
  REQUIRE(eventually([&] { return leaders().size() == 2; }, 30s));
  const auto both = leaders();
  const int next = both[0] == first ? both[1] : both[0];
  const std::string next_pod = "op-" + std::to_string(next);
  CHECK(holder(api) == next_pod);
  // Every other candidate has seen the new holder: none can win any more.
  REQUIRE(eventually(
      [&] {
        for (size_t i = 0; i < cs.size(); ++i)
          if (static_cast<int>(i) != first && static_cast<int>(i) != next &&
              cs[i]->lock->waiting_reason().find("held by pod " + next_pod) == std::string::npos)
            return false;
        return true;
      },
      30s));
  CHECK(leaders().size() == 2);
  for (auto& c : cs) CHECK(c->acquired <= 1);
}

TEST_CASE("leader for life lock: without its own Pod it waits and says why, then takes the lock") {
  kubesim_instance sim({"k1"});
  api_client api(sim.client("k1"));
  candidate c(sim, "late-pod");
  c.lock->start();
  REQUIRE(eventually(
      [&] { return c.lock->waiting_reason().find("cannot read this pod") != std::string::npos; },
      10s));
  CHECK(api.get(lock_path).status == 404);
  make_pod(api, "late-pod");
  REQUIRE(eventually([&] { return c.acquired == 1; }, 10s));
  CHECK(holder(api) == "late-pod");
}
