// Reading simulated Cassandra pods in kubesim tests (--simulate-cassandra): a pod's IP and
// readiness through kubectl, a Jolokia client on <podIP>:8778 with the test rack's credentials,
// and HostIdMap as a node sees it. Shared by the tests of tests/kubesim/cassandra_*_test.cpp.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "k8s/json/base64.h"
#include "k8s/json/json.h"
#include "tests/support/cassandra_node_yaml.h"
#include "tests/support/kubesim_fixture.h"

namespace testsupport {

struct pod_view {
  std::string ip;
  bool ready = false;
  int restarts = 0;  // the `cassandra` container's restartCount
};

inline pod_view pod_of(const kubesim_instance& sim, const std::string& cluster,
                       const std::string& pod) {
  namespace js = k8s::json;
  auto r = sim.kubectl(cluster, {"get", "pod", pod, "-o", "json"});
  pod_view v;
  if (r.exit_code != 0) return v;
  auto d = js::parse(r.out);
  v.ip = std::string(js::get_string(d, {"status", "podIP"}));
  if (const auto* conds = js::find_path(d, {"status", "conditions"}); conds && conds->IsArray())
    for (const auto& c : conds->GetArray())
      if (js::get_string(c, "type") == "Ready") v.ready = js::get_string(c, "status") == "True";
  if (const auto* list = js::find_path(d, {"status", "containerStatuses"}); list && list->IsArray())
    for (const auto& c : list->GetArray())
      if (js::get_string(c, "name") == "cassandra")
        v.restarts = static_cast<int>(js::get_int(c, {"restartCount"}, 0));
  return v;
}

// The IPs of pods 0..n-1 of `dc` once all are Ready; empty when they are not within `timeout`.
inline std::vector<std::string> wait_ready_pods(
    const kubesim_instance& sim, const std::string& cluster, const std::string& dc, int n,
    std::chrono::milliseconds timeout = std::chrono::seconds(60)) {
  std::vector<std::string> ips(n);
  bool ok = eventually(
      [&] {
        for (int i = 0; i < n; ++i) {
          auto v = pod_of(sim, cluster, pod_name(dc, i));
          if (!v.ready) return false;
          ips[i] = v.ip;
        }
        return true;
      },
      timeout);
  return ok ? ips : std::vector<std::string>{};
}

inline api_client jolokia_client(const std::string& ip,
                                 std::chrono::seconds timeout = std::chrono::seconds(10)) {
  client_options o;
  o.base_url = "http://" + ip + ":8778";
  o.timeout = timeout;
  return api_client(o);
}

// The credentials of statefulset_yaml's Secret.
inline std::map<std::string, std::string> jolokia_auth() {
  return {{"Authorization", "Basic " + k8s::base64_encode("monitor:s3cret")}};
}

// One Jolokia POST with the rack's credentials.
inline http_reply jolokia_post(const std::string& ip, const std::string& body,
                               std::chrono::seconds timeout = std::chrono::seconds(10)) {
  return jolokia_client(ip, timeout)
      .request("POST", "/jolokia/", body, "application/json", jolokia_auth());
}

// HostIdMap (IP -> host id) as node `ip` sees its ring; empty when the call fails.
inline std::map<std::string, std::string> host_id_map(const std::string& ip) {
  namespace js = k8s::json;
  auto r = jolokia_post(
      ip,
      R"({"type":"READ","mbean":"org.apache.cassandra.db:type=StorageService","attribute":"HostIdMap"})");
  std::map<std::string, std::string> out;
  if (r.status != 200) return out;
  auto d = r.json();
  if (const auto* v = js::find(d, "value"); v && v->IsObject())
    for (const auto& m : v->GetObject())
      out[std::string(js::view(m.name))] = std::string(js::view(m.value));
  return out;
}

}  // namespace testsupport
