// The leader-for-life lock's decisions (actors/runtime/logic/leader_for_life.h), as
// operator-lib v0.9.0's leader.Become makes them (the lock CassKop v2.1.0 takes, casskop-lock).
#include <doctest/doctest.h>

#include <string>

#include "actors/runtime/logic/leader_for_life.h"

namespace {

namespace js = k8s::json;
namespace lfl = runtime::leader_for_life;

const lfl::pod_identity kMe{"casskop-b", "uid-b"};

js::Document lock_with(const std::string& owners, const std::string& annotations = "") {
  return js::parse(R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"casskop-lock",)"
                   R"("namespace":"ns","uid":"lock-uid","resourceVersion":"7","ownerReferences":)" +
                   owners + (annotations.empty() ? "" : R"(,"annotations":)" + annotations) + "}}");
}

std::string pod_ref(const std::string& name, const std::string& uid) {
  return R"({"apiVersion":"v1","kind":"Pod","name":")" + name + R"(","uid":")" + uid + R"("})";
}

lfl::decision decide(const js::Value& lock, const std::string& lease = "") {
  return lfl::on_lock(lfl::lock_state_of(lock), kMe, lease);
}

js::Document pod(const std::string& uid, const std::string& status,
                 const std::string& extra_meta = "") {
  return js::parse(R"({"metadata":{"name":"go-casskop","uid":")" + uid + "\"" + extra_meta +
                   R"(},"status":)" + status + "}");
}

}  // namespace

TEST_CASE("leader for life: a lock another pod owns is waited on once that pod is checked") {
  auto lock = lock_with("[" + pod_ref("go-casskop", "uid-a") + "]");
  auto d = decide(lock);
  CHECK(d.what == lfl::verdict::check_owner_pod);
  CHECK(d.holder == "go-casskop");
  // The holder lives: wait, naming it.
  auto running = pod("uid-a", R"({"phase":"Running"})");
  auto p = lfl::on_owner_pod(&running, {"v1", "Pod", "go-casskop", "uid-a"});
  CHECK(p.what == lfl::pod_verdict::wait);
  CHECK(p.reason.find("held by pod go-casskop") != std::string::npos);
  // Even with our Lease: a lock without our mark (a Go CassKop's) is never taken over.
  CHECK(decide(lock, "casskop").what == lfl::verdict::check_owner_pod);
}

TEST_CASE("leader for life: our own lock makes us the leader (a restart), by name and uid") {
  CHECK(decide(lock_with("[" + pod_ref("casskop-b", "uid-b") + "]")).what == lfl::verdict::lead);
  // leader.go compares names only; a new pod with an old pod's name does not own its lock.
  CHECK(decide(lock_with("[" + pod_ref("casskop-b", "uid-old") + "]")).what ==
        lfl::verdict::check_owner_pod);
  auto recreated = pod("uid-b", R"({"phase":"Running"})");
  auto p = lfl::on_owner_pod(&recreated, {"v1", "Pod", "casskop-b", "uid-old"});
  CHECK(p.what == lfl::pod_verdict::wait);
  CHECK(p.reason.find("garbage collection") != std::string::npos);
}

TEST_CASE("leader for life: locks of a shape leader.Become never writes are waited on") {
  auto two = decide(lock_with("[" + pod_ref("a", "1") + "," + pod_ref("b", "2") + "]"));
  CHECK(two.what == lfl::verdict::wait);
  CHECK(two.reason.find("exactly one owner") != std::string::npos);
  auto none = decide(lock_with("[]"));
  CHECK(none.what == lfl::verdict::wait);
  auto deployment = decide(
      lock_with(R"([{"apiVersion":"apps/v1","kind":"Deployment","name":"casskop","uid":"d"}])"));
  CHECK(deployment.what == lfl::verdict::wait);
  CHECK(deployment.reason.find("must be a Pod") != std::string::npos);
}

TEST_CASE("leader for life: a deleted holder leaves the lock to garbage collection") {
  auto p = lfl::on_owner_pod(nullptr, {"v1", "Pod", "go-casskop", "uid-a"});
  CHECK(p.what == lfl::pod_verdict::wait);
  CHECK(p.reason.find("deleted") != std::string::npos);
}

TEST_CASE("leader for life: an evicted holder's lock is removed, unless the pod is being deleted") {
  auto evicted = pod("uid-a", R"({"phase":"Failed","reason":"Evicted"})");
  CHECK(lfl::is_evicted(evicted));
  CHECK(lfl::on_owner_pod(&evicted, {"v1", "Pod", "go-casskop", "uid-a"}).what ==
        lfl::pod_verdict::remove_lock);
  auto deleting = pod("uid-a", R"({"phase":"Failed","reason":"Evicted"})",
                      R"(,"deletionTimestamp":"2026-01-01T00:00:00Z")");
  CHECK(lfl::on_owner_pod(&deleting, {"v1", "Pod", "go-casskop", "uid-a"}).what ==
        lfl::pod_verdict::wait);
  // Failed for another reason, or Evicted but not Failed: not evicted (leader.go:230-234).
  auto failed = pod("uid-a", R"({"phase":"Failed","reason":"OOMKilled"})");
  CHECK_FALSE(lfl::is_evicted(failed));
  CHECK(lfl::on_owner_pod(&failed, {"v1", "Pod", "go-casskop", "uid-a"}).what ==
        lfl::pod_verdict::wait);
  CHECK_FALSE(lfl::is_evicted(pod("uid-a", R"({"phase":"Running","reason":"Evicted"})")));
}

TEST_CASE("leader for life: with a Lease, a lock marked with it moves to the Lease's holder") {
  auto marked = lock_with("[" + pod_ref("casskop-a", "uid-a") + "]",
                          std::string(R"({")") + lfl::lease_annotation + R"(":"casskop"})");
  auto d = decide(marked, "casskop");
  CHECK(d.what == lfl::verdict::take_over);
  CHECK(d.holder == "casskop-a");
  // Without the Lease (the original's environment) or with another Lease: an ordinary lock.
  CHECK(decide(marked).what == lfl::verdict::check_owner_pod);
  CHECK(decide(marked, "other").what == lfl::verdict::check_owner_pod);
  // The update keeps the resourceVersion (a race fails) and names only our pod.
  auto body = js::parse(lfl::taken_over_body(marked, kMe));
  CHECK(js::get_string(body, {"metadata", "resourceVersion"}) == "7");
  auto s = lfl::lock_state_of(body);
  REQUIRE(s.owners.size() == 1);
  CHECK(s.owners[0].name == "casskop-b");
  CHECK(s.owners[0].uid == "uid-b");
  CHECK(s.lease == "casskop");
}

TEST_CASE("leader for life: the lock created is leader.Become's, plus our mark with a Lease") {
  auto body = js::parse(lfl::lock_body("ns", "casskop-lock", kMe, ""));
  CHECK(js::get_string(body, "kind") == "ConfigMap");
  CHECK(js::get_string(body, {"metadata", "name"}) == "casskop-lock");
  CHECK(js::get_string(body, {"metadata", "namespace"}) == "ns");
  CHECK(js::find_path(body, {"metadata", "annotations"}) == nullptr);
  CHECK(js::find(body, "data") == nullptr);
  const js::Value* refs = js::find_path(body, {"metadata", "ownerReferences"});
  REQUIRE((refs && refs->IsArray() && refs->Size() == 1));
  CHECK(js::to_string((*refs)[0]) ==
        R"({"apiVersion":"v1","kind":"Pod","name":"casskop-b","uid":"uid-b"})");
  auto marked = js::parse(lfl::lock_body("ns", "casskop-lock", kMe, "casskop"));
  CHECK(lfl::lock_state_of(marked).lease == "casskop");
}

TEST_CASE("leader for life: the backoff of leader.Become, 1 s doubling to 16 s, +20 % jitter") {
  std::chrono::milliseconds b = lfl::first_backoff;
  std::vector<int64_t> waits;
  for (int i = 0; i < 7; ++i) {
    waits.push_back(b.count());
    b = lfl::next_backoff(b);
  }
  CHECK(waits == std::vector<int64_t>{1000, 2000, 4000, 8000, 16000, 16000, 16000});
  CHECK(lfl::jittered(std::chrono::milliseconds(1000), 0.0).count() == 1000);
  CHECK(lfl::jittered(std::chrono::milliseconds(1000), 0.5).count() == 1100);
  CHECK(lfl::jittered(std::chrono::milliseconds(16000), 0.999).count() < 19200);
}
