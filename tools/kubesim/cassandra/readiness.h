// The readiness (and liveness: a symlink to the same script) probe of a CassKop Cassandra pod,
// computed as docker/bootstrap/files/readiness-probe.sh of v2.1.0 does (ref §2):
//   curl -s --connect-timeout 0.5 [--user $JOLOKIA_USER:$JOLOKIA_PASSWORD]
//     http://$POD_IP:8778/jolokia/read/org.apache.cassandra.db:type=StorageService/LiveNodes
//     | grep -q $POD_IP
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "jolokia.h"

namespace kubesim::cassandra {

// The container's environment the script reads.
struct ProbeEnv {
  std::string pod_ip;            // POD_IP
  std::string jolokia_user;      // JOLOKIA_USER
  std::string jolokia_password;  // JOLOKIA_PASSWORD
};

// The HTTP request curl sends: GET in URL form, basic auth only when both variables are
// non-empty (readiness-probe.sh:18-20).
HttpRequest probe_request(const ProbeEnv& env);

// `grep -q $POD_IP` on curl's output: the unquoted IP is a basic regular expression ('.' matches
// any character) found anywhere in the body; an empty POD_IP makes grep fail.
bool probe_output_passes(std::string_view pod_ip, std::string_view curl_output);

// The probe against node `pod`: refused connection, 401 (empty body) or an answer without the
// pod's IP fail; LiveNodes always holds the local node, so a node is Ready while STARTING (once
// its MBean is registered), JOINING, and after DECOMMISSIONED (ref §2 "What it really checks").
bool readiness_probe(Rings& rings, const std::string& pod, Time now, const ProbeEnv& env,
                     const std::optional<Credentials>& agent_credentials);

}  // namespace kubesim::cassandra
