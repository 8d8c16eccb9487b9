// The objects CassKop v2.1.0 creates for its samples (tests/fixtures/casskop-v2.1.0/generated,
// written from v2.1.0's source alone) are objects a Kubernetes API server accepts, and
// casskop_fixtures::defaulted() shows them as the server stores them: the reference our
// generator's output is compared with, after the same defaulting, to prove that taking over a
// cluster v2.1.0 created restarts no pod (the StatefulSet controller rolls pods whenever the
// stored pod template changes).
#include <doctest/doctest.h>

#include <algorithm>
#include <set>

#include "k8s/json/base64.h"
#include "tests/unit/casskop_fixtures.h"

namespace js = k8s::json;
using casskop_fixtures::defaulted;
using casskop_fixtures::load_v210_fixture;

namespace {

std::string kind_of_file(const std::string& file) {
  return casskop_fixtures::v210_fixture_kind(file);
}

const js::Value& at(const js::Value& v, std::initializer_list<std::string_view> path) {
  const js::Value* p = js::find_path(v, path);
  REQUIRE_MESSAGE(p, "missing path");
  return *p;
}

// The same, to edit a copy of a fixture.
js::Value& at_mut(js::Value& v, std::initializer_list<std::string_view> path) {
  return const_cast<js::Value&>(at(v, path));
}

const js::Value& named(const js::Value& list, std::string_view name) {
  REQUIRE(list.IsArray());
  for (const auto& e : list.GetArray())
    if (js::get_string(e, "name") == name) return e;
  FAIL("no item named " << name);
  throw std::logic_error("unreachable");
}

std::vector<std::string> names(const js::Value& list) {
  std::vector<std::string> out;
  for (const auto& e : list.GetArray()) out.emplace_back(js::get_string(e, "name"));
  return out;
}

std::string env_value(const js::Value& container, std::string_view var) {
  return std::string(js::get_string(named(at(container, {"env"}), var), "value"));
}

const js::Value& pod_spec(const js::Value& sts) {
  return at(sts, {"spec", "template", "spec"});
}

// k8s-objectmatcher v1.3.3 DeleteNullInJson: nulls, false and "" go, and maps they empty.
js::Value without_zero_values(const js::Value& v, js::Allocator& a) {
  if (v.IsArray()) {
    js::Value out(rapidjson::kArrayType);
    for (const auto& e : v.GetArray()) out.PushBack(without_zero_values(e, a), a);
    return out;
  }
  if (!v.IsObject()) return js::Value(v, a);
  js::Value out(rapidjson::kObjectType);
  for (const auto& m : v.GetObject()) {
    const auto& x = m.value;
    if (x.IsNull() || (x.IsBool() && !x.GetBool()) || (x.IsString() && x.GetStringLength() == 0))
      continue;
    if (x.IsObject() && x.MemberCount() > 0) {
      js::Value sub = without_zero_values(x, a);
      if (sub.MemberCount() == 0) continue;
      out.AddMember(js::Value(m.name, a), std::move(sub), a);
    } else {
      out.AddMember(js::Value(m.name, a), without_zero_values(x, a), a);
    }
  }
  return out;
}

}  // namespace

TEST_CASE(
    "casskop v2.1.0 fixtures: every object parses and is accepted and defaulted as a server does") {
  auto samples = casskop_fixtures::v210_fixture_samples();
  for (auto required : {"cassandracluster", "kuttl-operations-00-createCluster",
                        "kuttl-sidecars-00-clusterWithTwoSidecars", "kuttl-multi-dcs-01-addDC"})
    CHECK_MESSAGE(std::find(samples.begin(), samples.end(), required) != samples.end(), required);
  int objects = 0;
  for (const auto& sample : samples) {
    auto files = casskop_fixtures::v210_fixture_files(sample);
    int statefulsets = 0;
    std::set<std::string> kinds;
    for (const auto& file : files) {
      CAPTURE(sample);
      CAPTURE(file);
      const std::string kind = kind_of_file(file);
      REQUIRE_FALSE(kind.empty());
      js::Document obj = load_v210_fixture(sample, file);
      CHECK(js::get_string(obj, "kind") == kind);
      CHECK(js::get_string(obj, {"metadata", "namespace"}) == "ns");
      const auto& owners = at(obj, {"metadata", "ownerReferences"});
      REQUIRE(owners.Size() == 1);
      CHECK(js::get_string(owners[0], "uid") == "00000000-0000-0000-0000-000000000001");
      js::Document stored;
      REQUIRE_NOTHROW(stored = defaulted(kind, obj));
      // Defaulting what the server stored changes nothing: a stored object read back and sent
      // again is the same object.
      CHECK(casskop_fixtures::differences(stored, defaulted(kind, stored)).empty());
      kinds.insert(kind);
      statefulsets += kind == "StatefulSet";
      ++objects;
    }
    CHECK(kinds == std::set<std::string>{"PodDisruptionBudget", "Service", "StatefulSet"});
    CHECK(statefulsets >= 1);
  }
  CHECK(objects >= 4 * 4);
}

TEST_CASE(
    "casskop v2.1.0 fixtures: what the server adds to v2.1.0's StatefulSets is what a takeover "
    "must also leave alone") {
  js::Document sts = defaulted(
      "StatefulSet",
      load_v210_fixture("kuttl-sidecars-00-clusterWithTwoSidecars", "statefulset-dc1-rack1.yaml"));
  const auto& spec = at(sts, {"spec"});
  CHECK(js::get_string(spec, "podManagementPolicy") == "OrderedReady");
  CHECK(js::get_int(spec, {"revisionHistoryLimit"}, 0) == 10);
  CHECK(js::get_string(spec, {"persistentVolumeClaimRetentionPolicy", "whenDeleted"}) == "Retain");
  CHECK(js::get_int(spec, {"updateStrategy", "rollingUpdate", "partition"}, -1) == 0);
  const auto& pod = pod_spec(sts);
  CHECK(js::get_string(pod, "dnsPolicy") == "ClusterFirst");
  CHECK(js::get_string(pod, "schedulerName") == "default-scheduler");
  CHECK(js::get_int(pod, {"terminationGracePeriodSeconds"}, 0) == 1800);  // v2.1.0's, kept
  CHECK_FALSE(js::find(pod, "enableServiceLinks"));                       // Pods only
  for (auto list : {"initContainers", "containers"})
    for (const auto& c : at(pod, {list}).GetArray()) {
      CAPTURE(js::get_string(c, "name"));
      CHECK(js::get_string(c, "terminationMessagePath") == "/dev/termination-log");
      CHECK(js::get_string(c, "terminationMessagePolicy") == "File");
      CHECK_FALSE(js::get_string(c, "imagePullPolicy").empty());
    }
  const auto& containers = at(pod, {"containers"});
  // v2.1.0 leaves the pull policy of the sidecar and of backrest to the server: by the tag.
  CHECK(js::get_string(named(containers, "cassandra-log"), "imagePullPolicy") == "Always");
  CHECK(js::get_string(named(containers, "backrest-sidecar"), "imagePullPolicy") == "IfNotPresent");
  CHECK(js::get_string(named(containers, "cassandra"), "imagePullPolicy") == "Always");
  CHECK(js::get_string(at(named(containers, "backrest-sidecar"), {"ports"})[0], "protocol") ==
        "TCP");
  const auto& liveness = at(named(containers, "cassandra"), {"livenessProbe"});
  CHECK(js::get_int(liveness, {"successThreshold"}, 0) == 1);
  CHECK(js::get_int(liveness, {"failureThreshold"}, 0) == 3);
  CHECK(js::get_int(liveness, {"timeoutSeconds"}, 0) == 20);
  // A pod template's requests are not defaulted from its limits (SetDefaults_Pod does that for
  // Pods only): v2.1.0's cassandra container limits 200m/512Mi and requests nothing.
  const auto& resources = at(named(containers, "cassandra"), {"resources"});
  CHECK(js::to_string(resources) == R"({"limits":{"cpu":"200m","memory":"512Mi"}})");
  for (const auto& claim : at(spec, {"volumeClaimTemplates"}).GetArray()) {
    CHECK(js::get_string(claim, {"spec", "volumeMode"}) == "Filesystem");
    CHECK_FALSE(js::find(at(claim, {"metadata"}), "ownerReferences"));  // v2.1.0 sets none
  }
  js::Document svc = defaulted(
      "Service",
      load_v210_fixture("kuttl-sidecars-00-clusterWithTwoSidecars", "service-cassandra-e2e.yaml"));
  const auto& port = at(svc, {"spec", "ports"})[0];
  CHECK(js::get_int(port, {"targetPort"}, 0) == 9042);
  CHECK(js::get_string(svc, {"spec", "sessionAffinity"}) == "None");
  CHECK(js::to_string(at(svc, {"spec", "clusterIPs"})) == R"(["None"])");
  js::Document pdb =
      defaulted("PodDisruptionBudget", load_v210_fixture("kuttl-sidecars-00-clusterWithTwoSidecars",
                                                         "poddisruptionbudget-cassandra-e2e.yaml"));
  CHECK(js::get_string(pdb, "apiVersion") == "policy/v1");
  CHECK(js::get_int(pdb, {"spec", "maxUnavailable"}, 0) == 1);
}

TEST_CASE(
    "casskop v2.1.0 fixtures: defaulted() makes equal what a server makes equal, and nothing "
    "else") {
  js::Document v210 =
      load_v210_fixture("kuttl-operations-00-createCluster", "statefulset-dc1-rack1.yaml");
  const js::Document reference = defaulted("StatefulSet", v210);

  // Written differently, stored the same: defaults left out, quantities not canonical, no
  // status and no null creationTimestamp.
  js::Document same = js::copy_of(v210);
  auto& a = same.GetAllocator();
  js::remove_member(same, "status");
  auto& tmpl = at_mut(same, {"spec", "template"});
  js::remove_member(at_mut(tmpl, {"metadata"}), "creationTimestamp");
  auto& containers = at_mut(tmpl, {"spec", "containers"});
  REQUIRE(js::get_string(containers[0], "name") == "cassandra");
  for (auto& p : at_mut(containers[0], {"ports"}).GetArray()) js::remove_member(p, "protocol");
  auto& init = at_mut(tmpl, {"spec", "initContainers"});
  auto& limits = at_mut(init[0], {"resources", "limits"});
  js::set_string(limits, "cpu", "0.5", a);
  js::set_string(limits, "memory", "0.5Gi", a);
  js::set_string(at_mut(init[2], {"resources", "requests"}), "cpu", "0.5", a);
  js::set_member(at_mut(tmpl, {"spec"}), "dnsPolicy", js::string_value("ClusterFirst", a), a);
  auto diff = casskop_fixtures::differences(reference, defaulted("StatefulSet", same));
  CHECK_MESSAGE(diff.empty(), (diff.empty() ? std::string() : diff.front()));

  // Different on the server too: each of these would restart pods.
  auto differs = [&](auto edit) {
    js::Document d = js::copy_of(v210);
    edit(d, d.GetAllocator());
    return !casskop_fixtures::differences(reference, defaulted("StatefulSet", d)).empty();
  };
  auto cassandra = [](js::Document& d) -> js::Value& {
    return at_mut(d, {"spec", "template", "spec", "containers"})[0];
  };
  // v2.1.0 sets Always; left out, the server picks IfNotPresent for the tag 3.11.9.
  CHECK(differs([&](js::Document& d, js::Allocator&) {
    js::remove_member(cassandra(d), "imagePullPolicy");
  }));
  CHECK(differs([&](js::Document& d, js::Allocator&) {
    js::remove_member(at_mut(cassandra(d), {"securityContext"}), "procMount");
  }));
  CHECK(differs([&](js::Document& d, js::Allocator& al) {
    js::set_string(at_mut(cassandra(d), {"resources", "limits"}), "memory", "513Mi", al);
  }));
  CHECK(differs([&](js::Document& d, js::Allocator& al) {
    js::set_member(at_mut(d, {"spec", "template", "spec"}), "terminationGracePeriodSeconds",
                   js::Value(30), al);
  }));

  // v2.1.0's traps: an empty nodeAffinity object is part of the template, and so is the
  // bootstrap env v2.1.0 appends to the backrest sidecar.
  CHECK(differs([&](js::Document& d, js::Allocator&) {
    js::remove_member(at_mut(d, {"spec", "template", "spec", "affinity"}), "nodeAffinity");
  }));
  CHECK(differs([&](js::Document& d, js::Allocator&) {
    js::remove_member(at_mut(d, {"spec", "template", "spec", "containers"})[1], "env");
  }));

  // An object the server refuses is no stored object.
  js::Document bad = js::copy_of(v210);
  js::set_member(bad["spec"], "replicaz", js::Value(1), bad.GetAllocator());
  CHECK_THROWS_AS(defaulted("StatefulSet", bad), casskop_fixtures::fixture_error);
  js::Document unmatched = js::copy_of(v210);
  js::set_string(at_mut(unmatched, {"spec", "selector", "matchLabels"}), "dc-rack", "dc9-rack9",
                 unmatched.GetAllocator());
  CHECK_THROWS_AS(defaulted("StatefulSet", unmatched), casskop_fixtures::fixture_error);
}

TEST_CASE(
    "casskop v2.1.0 fixtures: the last-applied annotation on each StatefulSet is the object v2.1.0 "
    "sent") {
  // generator.go:403 stores k8s-objectmatcher's annotation before deploy_cassandra.go:100 adds
  // the owner reference: base64 of the object without owner references, nulls, false and "".
  for (const auto& sample : casskop_fixtures::v210_fixture_samples())
    for (const auto& file : casskop_fixtures::v210_fixture_files(sample)) {
      if (kind_of_file(file) != "StatefulSet") continue;
      CAPTURE(sample);
      CAPTURE(file);
      js::Document sts = load_v210_fixture(sample, file);
      auto decoded = k8s::base64_decode(
          js::get_string(sts, {"metadata", "annotations", "banzaicloud.com/last-applied"}));
      REQUIRE(decoded);
      js::Document annotated = js::parse(*decoded);
      auto& meta = sts["metadata"];
      js::remove_member(meta, "annotations");
      js::remove_member(meta, "ownerReferences");
      js::Document expected;
      expected.CopyFrom(without_zero_values(sts, expected.GetAllocator()), expected.GetAllocator());
      CHECK(annotated == expected);
    }
}

TEST_CASE("casskop v2.1.0 fixtures: they say what v2.1.0's generator does for its samples") {
  js::Document sidecars =
      load_v210_fixture("kuttl-sidecars-00-clusterWithTwoSidecars", "statefulset-dc1-rack1.yaml");
  const auto& pod = pod_spec(sidecars);
  CHECK(names(at(pod, {"initContainers"})) ==
        std::vector<std::string>{"base-config-builder", "config-builder", "bootstrap"});
  CHECK(names(at(pod, {"containers"})) ==
        std::vector<std::string>{"cassandra-log", "cassandra", "backrest-sidecar"});
  std::vector<std::string> claims;
  for (const auto& c : at(sidecars, {"spec", "volumeClaimTemplates"}).GetArray())
    claims.emplace_back(js::get_string(c, {"metadata", "name"}));
  CHECK(claims == std::vector<std::string>{"data", "gc-logs"});  // PVCs data-<pod>, gc-logs-<pod>
  // Every container but cassandra carries the bootstrap container's env (generator.go:485-491).
  const auto& bootstrap = named(at(pod, {"initContainers"}), "bootstrap");
  for (auto c : {"cassandra-log", "backrest-sidecar"})
    CHECK(js::to_string(at(named(at(pod, {"containers"}), c), {"env"})) ==
          js::to_string(at(bootstrap, {"env"})));

  struct expectation {
    const char* sample;
    const char* file;
    const char* seeds;
    const char* max_heap;
  };
  for (auto e :
       {expectation{"cassandracluster", "statefulset-dc1-rack2.yaml",
                    "cassandra-demo-dc1-rack1-0.cassandra-demo.ns,cassandra-demo-dc1-rack2-0."
                    "cassandra-demo.ns,cassandra-demo-dc1-rack3-0.cassandra-demo.ns",
                    "512M"},
        expectation{"kuttl-operations-00-createCluster", "statefulset-dc1-rack1.yaml",
                    "cassandra-e2e-dc1-rack1-0.cassandra-e2e.ns,cassandra-e2e-dc1-rack1-1."
                    "cassandra-e2e.ns",
                    "128M"},
        expectation{"kuttl-multi-dcs-01-addDC", "statefulset-dc2-rack1.yaml",
                    "cassandra-e2e-dc1-rack1-0.cassandra-e2e.ns,cassandra-e2e-dc2-rack1-0."
                    "cassandra-e2e.ns",
                    "2048M"}}) {
    CAPTURE(e.sample);
    js::Document sts = load_v210_fixture(e.sample, e.file);
    const auto& p = pod_spec(sts);
    CHECK(env_value(named(at(p, {"initContainers"}), "bootstrap"), "CASSANDRA_SEEDS") == e.seeds);
    js::Document config = js::parse(
        env_value(named(at(p, {"initContainers"}), "config-builder"), "CONFIG_FILE_DATA"));
    CHECK(js::get_string(config, {"cluster-info", "seeds"}) == e.seeds);
    CHECK(js::get_string(config, {"jvm-options", "max_heap_size"}) == e.max_heap);
  }
}

TEST_CASE("casskop v2.1.0 fixtures: differences() names each differing path") {
  js::Document a = js::parse(R"({"x":{"b":1,"a":[1,2]},"y":"s"})");
  js::Document b = js::parse(R"({"y":"s","x":{"a":[1,3],"b":1},"z":true})");
  CHECK(casskop_fixtures::differences(a, a).empty());
  CHECK(casskop_fixtures::differences(a, js::parse(R"({"y":"s","x":{"a":[1,2],"b":1}})")).empty());
  CHECK(casskop_fixtures::differences(a, b) ==
        std::vector<std::string>{"x.a[1]: 2 != 3", "z: (absent) != true"});
}

TEST_CASE(
    "casskop v2.1.0 fixtures: stored_differences() compares an object with v2.1.0's as stored") {
  const std::string sample = "kuttl-sidecars-00-clusterWithTwoSidecars";
  js::Document ours = load_v210_fixture(sample, "service-cassandra-e2e.yaml");
  CHECK(casskop_fixtures::stored_differences(sample, "service-cassandra-e2e.yaml", ours).empty());
  js::remove_member(ours["spec"], "publishNotReadyAddresses");
  CHECK(casskop_fixtures::stored_differences(sample, "service-cassandra-e2e.yaml", ours) ==
        std::vector<std::string>{"spec.publishNotReadyAddresses: true != (absent)"});
  CHECK_THROWS_AS(casskop_fixtures::v210_fixture_kind("configmap-x.yaml"),
                  casskop_fixtures::fixture_error);
}
