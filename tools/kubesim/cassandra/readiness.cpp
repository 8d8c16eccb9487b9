#include "readiness.h"

#include "k8s/json/base64.h"

namespace kubesim::cassandra {

// readiness-probe.sh:18-24 of v2.1.0 (ref §2 "The probe").
HttpRequest probe_request(const ProbeEnv& env) {
  HttpRequest r;
  r.method = "GET";
  r.target = "/jolokia/read/org.apache.cassandra.db:type=StorageService/LiveNodes";
  if (!env.jolokia_user.empty() && !env.jolokia_password.empty())
    r.authorization = "Basic " + k8s::base64_encode(env.jolokia_user + ":" + env.jolokia_password);
  return r;
}

// readiness-probe.sh:26 of v2.1.0: `grep -q $POD_IP` (ref §2).
bool probe_output_passes(std::string_view pod_ip, std::string_view out) {
  if (pod_ip.empty()) return false;  // `grep -q` without a pattern: usage error, exit 2
  for (size_t start = 0; start + pod_ip.size() <= out.size(); ++start) {
    bool match = true;
    for (size_t i = 0; i < pod_ip.size() && match; ++i)
      match = pod_ip[i] == '.' ? out[start + i] != '\n' : pod_ip[i] == out[start + i];
    if (match) return true;
  }
  return false;
}

bool readiness_probe(Rings& rings, const std::string& pod, Time now, const ProbeEnv& env,
                     const std::optional<Credentials>& agent_credentials) {
  if (!rings.node(pod)) return false;
  HttpReply reply = handle(rings, pod, now, probe_request(env), agent_credentials);
  if (reply.refused) return false;  // curl prints nothing
  return probe_output_passes(env.pod_ip, reply.body(now));
}

}  // namespace kubesim::cassandra
