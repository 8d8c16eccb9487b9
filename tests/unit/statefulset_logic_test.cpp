// The StatefulSet controller's decisions: names, revisions, ordering, rolling updates, status.
#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "k8s/json/json.h"
#include "tools/kubesim/controller_history.h"
#include "tools/kubesim/go_format.h"
#include "tools/kubesim/statefulset_logic.h"

namespace js = k8s::json;
using namespace kubesim::sts;

namespace {

js::Document make_set(const std::string& spec_extra = "", const std::string& image = "nginx:1.25") {
  return js::parse(fmt::format(
      R"({{"apiVersion":"apps/v1","kind":"StatefulSet",
          "metadata":{{"name":"web","namespace":"ns1","uid":"uid-1","generation":4}},
          "spec":{{"replicas":3,"serviceName":"web-svc",
                   "selector":{{"matchLabels":{{"app":"web"}}}},
                   "template":{{"metadata":{{"labels":{{"app":"web"}},"annotations":{{"a":"b"}}}},
                               "spec":{{"containers":[{{"name":"c","image":"{}"}}],
                                        "volumes":[{{"name":"cfg","configMap":{{"name":"cm"}}}},
                                                   {{"name":"data","emptyDir":{{}}}}]}}}},
                   "volumeClaimTemplates":[{{"metadata":{{"name":"data","labels":{{"tier":"db"}}}},
                        "spec":{{"accessModes":["ReadWriteOnce"],
                                 "resources":{{"requests":{{"storage":"1Gi"}}}}}}}}]{}}}}})",
      image, spec_extra));
}

pod_state pod(int ordinal, const std::string& revision, bool ready = true) {
  pod_state p;
  p.ordinal = ordinal;
  p.revision = revision;
  p.running_ready = ready;
  return p;
}

std::vector<pod_state> ready_pods(int n, const std::string& revision) {
  std::vector<pod_state> out;
  for (int i = 0; i < n; ++i) out.push_back(pod(i, revision));
  return out;
}

step create(int ordinal, const std::string& revision) {
  return {step_kind::create, ordinal, revision};
}
step remove(int ordinal) {
  return {step_kind::remove, ordinal, {}};
}

set_spec spec_of(int replicas, bool parallel = false, int partition = 0, bool on_delete = false) {
  set_spec s;
  s.name = "web";
  s.replicas = replicas;
  s.parallel = parallel;
  s.partition = partition;
  s.on_delete = on_delete;
  return s;
}

// Applies plans as the cluster would (created pods become ready before the next sync) until
// nothing is left to do; returns the ordinals deleted, in order.
std::vector<int> converge(const set_spec& s, const revisions& r, std::vector<pod_state>& pods) {
  std::vector<int> removed;
  for (int round = 0; round < 100; ++round) {
    auto steps = plan(s, pods, r);
    if (steps.empty()) break;
    for (const auto& st : steps) {
      if (st.kind == step_kind::create) {
        pods.push_back(pod(st.ordinal, st.revision, false));
      } else {
        removed.push_back(st.ordinal);
        pods.erase(std::remove_if(pods.begin(), pods.end(),
                                  [&](const pod_state& p) { return p.ordinal == st.ordinal; }),
                   pods.end());
      }
    }
    for (auto& p : pods) p.running_ready = true;
  }
  return removed;
}

std::string revision_of(const std::vector<pod_state>& pods, int ordinal) {
  for (const auto& p : pods)
    if (p.ordinal == ordinal) return p.revision;
  return "<none>";
}

}  // namespace

TEST_CASE("StatefulSet logic: pod and claim names") {
  CHECK(pod_name("web", 2) == "web-2");
  CHECK(claim_name("data", "web", 0) == "data-web-0");
  CHECK(ordinal_of("web", "web-10") == 10);
  CHECK(ordinal_of("web-a", "web-a-3") == 3);
  CHECK_FALSE(ordinal_of("web", "web-01"));
  CHECK_FALSE(ordinal_of("web", "web-"));
  CHECK_FALSE(ordinal_of("web", "webx-1"));
  CHECK_FALSE(ordinal_of("web", "web-a-1"));
  CHECK(parent_of("web-a-3") == std::string("web-a"));
  CHECK_FALSE(parent_of("web"));
  CHECK_FALSE(parent_of("web-x"));
}

TEST_CASE("StatefulSet logic: revision hash is stable and tracks the template") {
  auto a = js::parse(R"({"metadata":{"labels":{"app":"web","x":"1"}},"spec":{"containers":[]}})");
  auto b = js::parse(R"({"spec":{"containers":[]},"metadata":{"labels":{"x":"1","app":"web"}}})");
  auto c = js::parse(R"({"spec":{"containers":[{"image":"x"}]},"metadata":{"labels":{}}})");
  std::string rev = revision_name("web", a);
  CHECK(rev == revision_name("web", a));
  CHECK(rev == revision_name("web", b));  // key order does not matter
  CHECK(rev != revision_name("web", c));
  CHECK(rev.rfind("web-", 0) == 0);
  CHECK(rev.substr(4).find_first_not_of("bcdfghjklmnpqrstvwxz2456789") == std::string::npos);
  CHECK(stable_hex("abc", 64).size() == 64);
  CHECK(stable_hex("abc", 64) == stable_hex("abc", 64));

  auto set = make_set();
  auto s = read_spec(set);
  CHECK(s.name == "web");
  CHECK(s.replicas == 3);
  CHECK(s.generation == 4);
  CHECK_FALSE(s.parallel);
  CHECK_FALSE(s.on_delete);
  CHECK(s.claim_templates == std::vector<std::string>{"data"});
}

TEST_CASE("StatefulSet logic: ControllerRevision data, hash and name as the real controller's") {
  namespace h = kubesim::history;
  auto tmpl = js::parse(
      R"({"spec":{"containers":[{"name":"nginx","image":"nginx:1.25"}]},"metadata":{"labels":{"app":"web"}}})");
  const std::string data = h::revision_data(tmpl);
  // getPatch: keys sorted, "$patch": "replace", the ObjectMeta's null creationTimestamp.
  CHECK(
      data ==
      R"({"spec":{"template":{"$patch":"replace","metadata":{"creationTimestamp":null,)"
      R"("labels":{"app":"web"}},"spec":{"containers":[{"image":"nginx:1.25","name":"nginx"}]}}}})");
  // FNV-1 32 of data + "0" is 2844124142; SafeEncodeString maps each digit.
  CHECK(h::revision_hash(data, 0) == "6d88568586");
  CHECK(h::revision_hash(data, 1) == "6d88568587");
  CHECK(revision_name("web", tmpl) == "web-6d88568586");
  CHECK(h::revision_name(std::string(300, 'a'), "x").size() == 225);
  // json.Marshal escapes HTML characters.
  CHECK(kubesim::go::json(js::parse(R"({"b":"<&>","a":1.0})")) ==
        R"({"a":1,"b":"\u003c\u0026\u003e"})");

  auto set = make_set();
  auto cr = h::new_revision(set, data, 2, 0);
  CHECK(js::get_string(cr, {"metadata", "name"}) == "web-6d88568586");
  CHECK(js::get_string(cr, {"metadata", "labels", "controller.kubernetes.io/hash"}) ==
        "6d88568586");
  CHECK(js::get_int(cr, {"revision"}, 0) == 2);
  CHECK(h::has_data(cr, data));
  CHECK(
      js::to_string(h::template_of(cr)) ==
      R"({"metadata":{"creationTimestamp":null,"labels":{"app":"web"}},"spec":{"containers":[{"image":"nginx:1.25","name":"nginx"}]}})");

  // truncateHistory: the oldest unused revisions beyond the limit go.
  std::vector<h::revision_info> revs{{"r1", 1, ""}, {"r2", 2, ""}, {"r3", 3, ""}, {"r4", 4, ""}};
  CHECK(h::revisions_to_prune(revs, {"r4", "r1"}, 1) == std::vector<std::string>{"r2"});
  CHECK(h::revisions_to_prune(revs, {"r4"}, 10).empty());
}

TEST_CASE("StatefulSet logic: OrderedReady creates in ordinal order, one ready pod at a time") {
  auto s = spec_of(3);
  revisions r{"web-a", "web-a"};
  std::vector<pod_state> pods;
  CHECK(plan(s, pods, r) == std::vector<step>{create(0, "web-a")});
  pods.push_back(pod(0, "web-a", false));
  CHECK(plan(s, pods, r).empty());  // waits for web-0 to be Running and Ready
  pods[0].running_ready = true;
  CHECK(plan(s, pods, r) == std::vector<step>{create(1, "web-a")});
  pods.push_back(pod(1, "web-a", false));
  CHECK(plan(s, pods, r).empty());
  pods[1].running_ready = true;
  CHECK(plan(s, pods, r) == std::vector<step>{create(2, "web-a")});
  pods.push_back(pod(2, "web-a"));
  CHECK(plan(s, pods, r).empty());

  // A deleted pod is recreated; a terminating one is waited for.
  std::vector<pod_state> gap = {pod(0, "web-a"), pod(2, "web-a")};
  CHECK(plan(s, gap, r) == std::vector<step>{create(1, "web-a")});
  gap.insert(gap.begin() + 1, pod(1, "web-a"));
  gap[1].terminating = true;
  CHECK(plan(s, gap, r).empty());
  // A failed pod is deleted, to be created again.
  auto failed = ready_pods(3, "web-a");
  failed[1].running_ready = false;
  failed[1].finished = true;
  CHECK(plan(s, failed, r) == std::vector<step>{remove(1)});
}

TEST_CASE("StatefulSet logic: Parallel creates and deletes all at once") {
  auto s = spec_of(3, true);
  revisions r{"web-a", "web-a"};
  CHECK(plan(s, {}, r) ==
        std::vector<step>{create(0, "web-a"), create(1, "web-a"), create(2, "web-a")});
  std::vector<pod_state> some = {pod(1, "web-a", false)};
  CHECK(plan(s, some, r) == std::vector<step>{create(0, "web-a"), create(2, "web-a")});
  auto s1 = spec_of(1, true);
  auto pods = ready_pods(3, "web-a");
  pods[2].running_ready = false;
  CHECK(plan(s1, pods, r) == std::vector<step>{remove(2), remove(1)});
}

TEST_CASE("StatefulSet logic: scale down removes the highest ordinal first, one at a time") {
  auto s = spec_of(1);
  revisions r{"web-a", "web-a"};
  auto pods = ready_pods(3, "web-a");
  CHECK(plan(s, pods, r) == std::vector<step>{remove(2)});
  pods[2].terminating = true;
  CHECK(plan(s, pods, r).empty());  // waits for web-2 to go
  pods.pop_back();
  CHECK(plan(s, pods, r) == std::vector<step>{remove(1)});
  pods.pop_back();
  CHECK(plan(s, pods, r).empty());

  // An unhealthy condemned pod goes only when it is the first unhealthy one.
  auto sick = ready_pods(3, "web-a");
  sick[1].running_ready = false;
  sick[2].running_ready = false;
  CHECK(plan(s, sick, r).empty());
  sick[1].running_ready = true;
  CHECK(plan(s, sick, r) == std::vector<step>{remove(2)});
  // Scale down waits while a remaining replica is not ready.
  auto waiting = ready_pods(3, "web-a");
  waiting[0].running_ready = false;
  CHECK(plan(s, waiting, r).empty());

  auto s0 = spec_of(0);
  auto all = ready_pods(2, "web-a");
  CHECK(converge(s0, r, all) == std::vector<int>{1, 0});
  CHECK(all.empty());
}

TEST_CASE("StatefulSet logic: rolling update goes from the highest ordinal down") {
  auto s = spec_of(3);
  revisions r{"web-a", "web-b"};
  auto pods = ready_pods(3, "web-a");
  CHECK(plan(s, pods, r) == std::vector<step>{remove(2)});
  pods.pop_back();
  CHECK(plan(s, pods, r) == std::vector<step>{create(2, "web-b")});
  pods.push_back(pod(2, "web-b", false));
  CHECK(plan(s, pods, r).empty());  // the new web-2 must be ready before web-1 goes
  pods[2].running_ready = true;
  CHECK(plan(s, pods, r) == std::vector<step>{remove(1)});

  auto full = ready_pods(3, "web-a");
  CHECK(converge(s, r, full) == std::vector<int>{2, 1, 0});
  for (int i = 0; i < 3; ++i) CHECK(revision_of(full, i) == "web-b");
}

TEST_CASE("StatefulSet logic: partitioned rolling update stops at the partition") {
  auto s = spec_of(3, false, 2);
  revisions r{"web-a", "web-b"};
  auto pods = ready_pods(3, "web-a");
  CHECK(converge(s, r, pods) == std::vector<int>{2});
  CHECK(revision_of(pods, 0) == "web-a");
  CHECK(revision_of(pods, 1) == "web-a");
  CHECK(revision_of(pods, 2) == "web-b");
  // A pod below the partition deleted by someone comes back at the current revision.
  pods.erase(pods.begin() + 1);
  CHECK(plan(s, pods, r) == std::vector<step>{create(1, "web-a")});
  // Lowering the partition continues the rollout.
  auto s1 = spec_of(3, false, 1);
  pods.push_back(pod(1, "web-a"));
  CHECK(converge(s1, r, pods) == std::vector<int>{1});
  CHECK(revision_of(pods, 0) == "web-a");
  // A partition beyond the replicas updates nothing.
  auto s9 = spec_of(3, false, 9);
  auto untouched = ready_pods(3, "web-a");
  CHECK(plan(s9, untouched, r).empty());
}

TEST_CASE("StatefulSet logic: OnDelete never replaces pods, recreates at the update revision") {
  auto s = spec_of(3, false, 0, true);
  revisions r{"web-a", "web-b"};
  auto pods = ready_pods(3, "web-a");
  CHECK(plan(s, pods, r).empty());
  pods.erase(pods.begin() + 1);
  CHECK(plan(s, pods, r) == std::vector<step>{create(1, "web-b")});
}

TEST_CASE("StatefulSet logic: status counts pods and completes rolling updates") {
  auto s = spec_of(3);
  s.generation = 7;
  revisions r{"web-a", "web-b"};
  std::vector<pod_state> pods = {pod(0, "web-a"), pod(1, "web-a", false), pod(2, "web-b")};
  auto st = compute_status(s, pods, r);
  CHECK(st.observed_generation == 7);
  CHECK(st.replicas == 3);
  CHECK(st.ready == 2);
  CHECK(st.available == 2);
  CHECK(st.current == 2);
  CHECK(st.updated == 1);
  CHECK(st.current_revision == "web-a");
  CHECK(st.update_revision == "web-b");

  auto done = compute_status(s, ready_pods(3, "web-b"), r);
  CHECK(done.current_revision == "web-b");
  CHECK(done.current == 3);
  CHECK(done.updated == 3);
  // Not while an updated pod is not ready, and never with OnDelete.
  auto not_ready = ready_pods(3, "web-b");
  not_ready[0].running_ready = false;
  CHECK(compute_status(s, not_ready, r).current_revision == "web-a");
  CHECK(compute_status(spec_of(3, false, 0, true), ready_pods(3, "web-b"), r).current_revision ==
        "web-a");

  auto old = js::parse(R"({"replicas":1,"conditions":[{"type":"X","status":"True"}]})");
  auto json = status_json(st, &old);
  CHECK(js::to_string(json) ==
        R"({"observedGeneration":7,"replicas":3,"readyReplicas":2,"currentReplicas":2,)"
        R"("updatedReplicas":1,"currentRevision":"web-a","updateRevision":"web-b",)"
        R"("collisionCount":0,"conditions":[{"type":"X","status":"True"}],"availableReplicas":2})");
  set_status empty;
  empty.observed_generation = 1;
  empty.current_revision = empty.update_revision = "web-a";
  CHECK(js::to_string(status_json(empty, nullptr)) ==
        R"({"observedGeneration":1,"replicas":0,"currentRevision":"web-a",)"
        R"("updateRevision":"web-a","collisionCount":0,"availableReplicas":0})");
}

TEST_CASE("StatefulSet logic: pods and claims as the controller builds them") {
  auto set = make_set();
  const auto& tmpl = *js::find_path(set, {"spec", "template"});
  auto p = build_pod(set, tmpl, 1, "web-abc");
  CHECK(js::get_string(p, {"metadata", "name"}) == "web-1");
  CHECK(js::get_string(p, {"metadata", "namespace"}) == "ns1");
  CHECK(js::to_string(*js::find_path(p, {"metadata", "labels"})) ==
        R"({"app":"web","apps.kubernetes.io/pod-index":"1","controller-revision-hash":"web-abc",)"
        R"("statefulset.kubernetes.io/pod-name":"web-1"})");
  CHECK(js::get_string(p, {"metadata", "annotations", "a"}) == "b");
  CHECK(js::to_string(*js::find_path(p, {"metadata", "ownerReferences"})) ==
        R"([{"apiVersion":"apps/v1","kind":"StatefulSet","name":"web","uid":"uid-1",)"
        R"("controller":true,"blockOwnerDeletion":true}])");
  CHECK(js::get_string(p, {"spec", "hostname"}) == "web-1");
  CHECK(js::get_string(p, {"spec", "subdomain"}) == "web-svc");
  CHECK(js::to_string(*js::find_path(p, {"spec", "volumes"})) ==
        R"([{"name":"data","persistentVolumeClaim":{"claimName":"data-web-1"}},)"
        R"({"name":"cfg","configMap":{"name":"cm"}}])");
  CHECK(js::find_path(p, {"spec", "containers"})->Size() == 1);

  const auto& claim_tmpl = (*js::find_path(set, {"spec", "volumeClaimTemplates"}))[0];
  auto c = build_claim(set, claim_tmpl, 2, "pvc-1234");
  CHECK(js::get_string(c, {"metadata", "name"}) == "data-web-2");
  CHECK(js::to_string(*js::find_path(c, {"metadata", "labels"})) == R"({"app":"web","tier":"db"})");
  CHECK_FALSE(js::find_path(c, {"metadata", "ownerReferences"}));  // Retain
  CHECK(js::get_string(c, {"spec", "volumeName"}) == "pvc-1234");
  CHECK(js::to_string(bound_claim_status(c)) ==
        R"({"phase":"Bound","accessModes":["ReadWriteOnce"],"capacity":{"storage":"1Gi"}})");

  auto deleting = make_set(R"(,"persistentVolumeClaimRetentionPolicy":{"whenDeleted":"Delete"})");
  auto owned = build_claim(deleting, claim_tmpl, 0, "pvc-1");
  CHECK(js::get_string((*js::find_path(owned, {"metadata", "ownerReferences"}))[0], "uid") ==
        "uid-1");
}

TEST_CASE("StatefulSet logic: label selectors") {
  auto labels = js::parse(R"({"app":"web","tier":"db"})");
  auto sel = [](const char* s) { return js::parse(s); };
  CHECK(selector_matches(sel(R"({"matchLabels":{"app":"web"}})"), &labels));
  CHECK_FALSE(selector_matches(sel(R"({"matchLabels":{"app":"db"}})"), &labels));
  CHECK_FALSE(selector_matches(sel(R"({"matchLabels":{"app":"web"}})"), nullptr));
  CHECK(selector_matches(
      sel(R"({"matchExpressions":[{"key":"tier","operator":"In","values":["db","x"]}]})"),
      &labels));
  CHECK_FALSE(selector_matches(
      sel(R"({"matchExpressions":[{"key":"tier","operator":"NotIn","values":["db"]}]})"), &labels));
  CHECK(selector_matches(sel(R"({"matchExpressions":[{"key":"app","operator":"Exists"}]})"),
                         &labels));
  CHECK_FALSE(selector_matches(
      sel(R"({"matchExpressions":[{"key":"app","operator":"DoesNotExist"}]})"), &labels));
}
