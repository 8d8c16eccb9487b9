// What kubesim's kubelet reads from a pod to run it as a simulated Cassandra node (issue 13 item
// 1): whether the pod runs Cassandra, its environment resolved as the kubelet resolves it
// (values, fieldRefs to labels and metadata, secretKeyRefs), the readiness probe's timing, the
// claim holding its data, and the DNS names the pod answers to. Pure: the caller passes the pod
// and a way to read Secrets. Facts: /work/shared/reference/cassandra-nodes.md ("ref §N").
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "k8s/json/json.h"

namespace kubesim {

// The container casskop's generator names `cassandra` (generator.go:941 of v2.1.0).
bool runs_cassandra(const k8s::json::Value& pod);

// A Secret's decoded value of `key`, nullopt when the Secret or the key is missing.
using secret_lookup =
    std::function<std::optional<std::string>(const std::string& secret, const std::string& key)>;

// The environment of the pod's containers merged (init containers first, the `cassandra`
// container last, so its own variables win): CASSANDRA_SEEDS/DC/RACK come from the `bootstrap`
// init container (ref §3), JOLOKIA_USER/PASSWORD from the `cassandra` container. fieldRefs to
// metadata.labels['x'], metadata.name/namespace and status.podIP (`pod_ip`) are resolved; a
// missing label gives "" as the kubelet does.
std::map<std::string, std::string> cassandra_env(const k8s::json::Value& pod,
                                                 const std::string& pod_ip,
                                                 const secret_lookup& secrets);

// The Cassandra version the `cassandra` container's image runs: its tag up to the first '-'
// ("cassandra:3.11.10" gives 3.11.10, "orangeopensource/cassandra-image:3.11.6-8u212-0.3.4"
// gives 3.11.6), "" when the tag does not start with a digit (latest, a digest...). The node's
// version decides decommission's arity (ref §1 call 10).
std::string cassandra_image_version(const k8s::json::Value& pod);

// cassandra.yaml's num_tokens from the config builder's CONFIG_FILE_DATA (the JSON casskop
// writes, spec/dc/rack `config.cassandra-yaml` merged in): a number or a numeric string; 0 when
// absent or unreadable (the node then keeps 3.11's 256).
int cassandra_num_tokens(const std::string& config_file_data);

// The `cassandra` container's readinessProbe, with Kubernetes' defaults.
struct probe_timing {
  bool defined = false;  // no readinessProbe: the kubelet counts the container Ready once running
  int initial_delay_ms = 0;
  int period_ms = 10000;
  int timeout_ms = 1000;
  int success_threshold = 1;
  int failure_threshold = 3;
};
probe_timing cassandra_readiness_timing(const k8s::json::Value& pod);
// The `cassandra` container's livenessProbe (the same script, ref §2), with Kubernetes' defaults.
probe_timing cassandra_liveness_timing(const k8s::json::Value& pod);
// kubesim --probe-time-scale: initialDelaySeconds and periodSeconds times `factor` (a period of at
// least 1 ms), so casskop's pods (readiness delay 60 s, period 10 s) are Ready in well under a
// second in tests. timeoutSeconds stays as written: kubesim's probe answers at once, and the
// timeout only decides whether a slow Jolokia (the jolokiaDelayMs fault, real milliseconds) fails
// the probe; scaling it would change what a given delay fault means with the scale.
probe_timing scaled(probe_timing t, double factor);

// The PVC holding the node's data: the claim of the volume named `data` (casskop's
// volumeClaimTemplate), else the first claim; "" when the pod has none.
std::string data_claim(const k8s::json::Value& pod);

// The pod's DNS identity: hostname (spec.hostname or the name) and subdomain (the headless
// Service, spec.subdomain).
struct pod_dns {
  std::string ns, hostname, subdomain;
};
pod_dns dns_of(const k8s::json::Value& pod);

// Names a pod answers to inside its own cluster: `hostname -f` first
// (<host>.<sub>.<ns>.svc.cluster.local), then <host>.<sub>.<ns>.svc, <host>.<sub>.<ns>,
// <host>.<sub> (the search path of a pod in `ns`).
std::vector<std::string> cluster_dns_names(const pod_dns& d);

// Whether `name`, looked up from a pod in namespace `from_ns`, is the cluster DNS name of `d`
// (ref §3: seeds are <pod>.<cc>.<ns>); a trailing dot is allowed.
bool cluster_name_matches(const std::string& name, const std::string& from_ns, const pod_dns& d);

// The zones external-DNS publishes the pods of a headless Service under: its
// `external-dns.alpha.kubernetes.io/hostname` annotation, a comma list, trailing dots dropped.
std::vector<std::string> external_dns_zones(const k8s::json::Value& service);

}  // namespace kubesim
