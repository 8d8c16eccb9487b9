// What kubesim's kubelet reads from a Cassandra pod (cassandra_pod_spec.h): the environment as the
// kubelet resolves it, the probe timing, the data claim, and the DNS names a seed may use.
#include <doctest/doctest.h>

#include <optional>
#include <string>

#include "k8s/json/json.h"
#include "k8s/json/yaml_json.h"
#include "tools/kubesim/cassandra_pod_spec.h"

namespace js = k8s::json;
using namespace kubesim;

namespace {

// A pod as the StatefulSet controller makes it from casskop's template (the env of
// tests/fixtures/casskop-v2.1.0/generated/cc-local/statefulset-dc1-rack1.yaml).
const char* kPod = R"(
metadata:
  name: cc-dc1-rack1-0
  namespace: ns
  labels:
    cassandraclusters.db.orange.com.dc: dc1
    cassandraclusters.db.orange.com.rack: rack1
spec:
  hostname: cc-dc1-rack1-0
  subdomain: cc
  initContainers:
  - name: bootstrap
    env:
    - name: CASSANDRA_SEEDS
      value: cc-dc1-rack1-0.cc.ns
    - name: CASSANDRA_DC
      valueFrom:
        fieldRef:
          fieldPath: metadata.labels['cassandraclusters.db.orange.com.dc']
    - name: CASSANDRA_RACK
      valueFrom:
        fieldRef:
          fieldPath: metadata.labels['cassandraclusters.db.orange.com.rack']
    - name: CASSANDRA_ZONE
      valueFrom:
        fieldRef:
          fieldPath: metadata.labels['missing']
    - name: POD_IP
      valueFrom:
        fieldRef:
          fieldPath: status.podIP
  containers:
  - name: backrest-sidecar
    env:
    - name: JOLOKIA_USER
      value: sidecar
  - name: cassandra
    env:
    - name: JOLOKIA_USER
      valueFrom:
        secretKeyRef:
          name: jolokia
          key: username
    - name: JOLOKIA_PASSWORD
      valueFrom:
        secretKeyRef:
          name: jolokia
          key: password
    readinessProbe:
      initialDelaySeconds: 60
      timeoutSeconds: 10
      periodSeconds: 10
  volumes:
  - name: other
    persistentVolumeClaim:
      claimName: other-cc-dc1-rack1-0
  - name: data
    persistentVolumeClaim:
      claimName: data-cc-dc1-rack1-0
)";

js::Document pod() {
  return k8s::json::yaml_to_json(kPod);
}

}  // namespace

TEST_CASE("kubesim cassandra pod spec: env resolves fieldRefs to labels and secretKeyRefs") {
  auto p = pod();
  CHECK(runs_cassandra(p));
  int lookups = 0;
  auto env = cassandra_env(p, "127.9.0.1", [&](const std::string& s, const std::string& k) {
    ++lookups;
    return s == "jolokia" && k == "username"   ? std::optional<std::string>("monitor")
           : s == "jolokia" && k == "password" ? std::optional<std::string>("pw")
                                               : std::nullopt;
  });
  CHECK(env["CASSANDRA_SEEDS"] == "cc-dc1-rack1-0.cc.ns");
  CHECK(env["CASSANDRA_DC"] == "dc1");
  CHECK(env["CASSANDRA_RACK"] == "rack1");
  CHECK(env.count("CASSANDRA_ZONE") == 1);
  CHECK(env["CASSANDRA_ZONE"].empty());  // a missing label is "" for the kubelet
  CHECK(env["POD_IP"] == "127.9.0.1");
  // The cassandra container's own variables win over a sidecar's.
  CHECK(env["JOLOKIA_USER"] == "monitor");
  CHECK(env["JOLOKIA_PASSWORD"] == "pw");
  CHECK(lookups == 2);
}

TEST_CASE("kubesim cassandra pod spec: probe timing, data claim, and a pod without cassandra") {
  auto p = pod();
  auto t = cassandra_readiness_timing(p);
  CHECK(t.defined);
  CHECK(t.initial_delay_ms == 60000);
  CHECK(t.period_ms == 10000);
  CHECK(t.timeout_ms == 10000);
  CHECK(t.success_threshold == 1);
  CHECK(t.failure_threshold == 3);
  CHECK(data_claim(p) == "data-cc-dc1-rack1-0");

  auto image = [](const std::string& i) {
    return cassandra_image_version(
        js::parse(R"({"spec":{"containers":[{"name":"cassandra","image":")" + i + R"("}]}})"));
  };
  CHECK(image("cassandra:3.11.10") == "3.11.10");
  CHECK(image("orangeopensource/cassandra-image:3.11.6-8u212-0.3.4") == "3.11.6");
  CHECK(image("registry:5000/cassandra:4.0.1@sha256:abc") == "4.0.1");
  CHECK(image("registry:5000/cassandra").empty());
  CHECK(image("cassandra:latest").empty());

  auto web = js::parse(R"({"spec":{"containers":[{"name":"nginx"}]}})");
  CHECK_FALSE(runs_cassandra(web));
  CHECK(data_claim(web).empty());
  auto bare = js::parse(R"({"spec":{"containers":[{"name":"cassandra"}]}})");
  CHECK_FALSE(cassandra_readiness_timing(bare).defined);
}

TEST_CASE("kubesim cassandra pod spec: --probe-time-scale scales the delay and period only") {
  auto t = scaled(cassandra_readiness_timing(pod()), 0.01);
  CHECK(t.defined);
  CHECK(t.initial_delay_ms == 600);
  CHECK(t.period_ms == 100);
  CHECK(t.timeout_ms == 10000);  // compared with real Jolokia delays: kept
  CHECK(t.success_threshold == 1);
  CHECK(t.failure_threshold == 3);
  // A period never reaches 0 (the prober would spin); 1 keeps the pod spec's timing.
  CHECK(scaled(t, 0.000001).period_ms == 1);
  CHECK(scaled(t, 0.000001).initial_delay_ms == 0);
  auto same = scaled(cassandra_readiness_timing(pod()), 1.0);
  CHECK(same.initial_delay_ms == 60000);
  CHECK(same.period_ms == 10000);
}

TEST_CASE("kubesim cassandra pod spec: cluster DNS names and external-DNS zones") {
  auto d = dns_of(pod());
  CHECK(d.hostname == "cc-dc1-rack1-0");
  CHECK(d.subdomain == "cc");
  CHECK(cluster_dns_names(d).front() == "cc-dc1-rack1-0.cc.ns.svc.cluster.local");
  CHECK(cluster_name_matches("cc-dc1-rack1-0.cc.ns", "other", d));
  CHECK(cluster_name_matches("cc-dc1-rack1-0.cc.ns.svc.cluster.local.", "other", d));
  // The short form resolves through the search path of the pod's own namespace only.
  CHECK(cluster_name_matches("cc-dc1-rack1-0.cc", "ns", d));
  CHECK_FALSE(cluster_name_matches("cc-dc1-rack1-0.cc", "other", d));
  CHECK_FALSE(cluster_name_matches("cc-dc1-rack1-1.cc.ns", "ns", d));
  CHECK_FALSE(cluster_name_matches("cc-dc1-rack1-0.cc.other", "ns", d));

  auto svc = js::parse(
      R"({"metadata":{"annotations":{"external-dns.alpha.kubernetes.io/hostname":"eu.example.com., us.example.com"}}})");
  CHECK(external_dns_zones(svc) == std::vector<std::string>{"eu.example.com", "us.example.com"});
  CHECK(external_dns_zones(js::parse(R"({"metadata":{}})")).empty());
}

TEST_CASE("kubesim cassandra pod spec: num_tokens from the config builder's CONFIG_FILE_DATA") {
  CHECK(cassandra_num_tokens(R"({"cassandra-yaml":{"num_tokens":32},"cluster-info":{}})") == 32);
  CHECK(cassandra_num_tokens(R"({"cassandra-yaml":{"num_tokens":"16"}})") == 16);
  CHECK(cassandra_num_tokens(R"({"cassandra-yaml":{"read_request_timeout_in_ms":5000}})") == 0);
  CHECK(cassandra_num_tokens("") == 0);
  CHECK(cassandra_num_tokens("{not json") == 0);
  CHECK(cassandra_num_tokens(R"({"cassandra-yaml":{"num_tokens":"many"}})") == 0);
  CHECK(cassandra_num_tokens(R"({"cassandra-yaml":{"num_tokens":-4}})") == 0);
}
