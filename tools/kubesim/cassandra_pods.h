// --simulate-cassandra (on with --simulate-workloads): the pods of StatefulSets that run a
// `cassandra` container become simulated Cassandra nodes (issue 13 item 1). One instance per
// kubesim process, shared by every simulated cluster, so regions can form one ring:
// - each such pod gets a pod IP of its own from a 127.x.0.0/16 drawn per process (drawn again
//   when a bind fails, so parallel kubesims never collide) and a Jolokia endpoint on
//   <podIP>:8778 answered by cassandra/jolokia.h;
// - its node starts in the process's cassandra::Rings with the pod's CASSANDRA_SEEDS/DC/RACK and
//   the DiskState kept beside its PVC (dropped when the PVC is deleted), keyed
//   <cluster>/<ns>/<pod>;
// - a tick advances the rings, answers the Jolokia replies that waited (delay faults, blocking
//   EXECs) and runs each pod's readiness probe (cassandra/readiness.h) at its period and
//   thresholds, writing the pod's Ready condition.
// Seeds resolve as in the seed's setup: cluster DNS names (<pod>.<cc>.<ns>) only inside the pod's
// own cluster, <pod>.<zone> from the headless Service's external-dns hostname annotation from
// every cluster.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "k8s/json/json.h"
#include "tools/kubesim/cassandra/cql.h"
#include "tools/kubesim/cassandra/jolokia.h"

namespace boost::asio {
class io_context;
}

namespace kubesim {

class cluster_state;

// Node and Jolokia faults of one pod (ref §6), as the control API sets them.
struct cassandra_pod_faults {
  std::optional<cassandra::NodeFaults> node;
  std::optional<cassandra::JolokiaFaults> jolokia;
  std::optional<bool> down;  // the JVM killed (connection refused) / started again
  // IP reuse (ref §6): the pod's next start (made again by its StatefulSet) takes this IP, once;
  // "" drops a pending one. The address must be free then (the other pod's JVM down or gone),
  // else a fresh IP is drawn and kubesim says so on stderr.
  std::optional<std::string> next_ip;
  // The same with another pod's IP (its current one, or its last while it is gone), in the same
  // cluster and namespace: resolved by set_faults.
  std::optional<std::string> next_ip_of;
};

class cassandra_pods {
 public:
  // `first_prefix`: the x of the first 127.x.0.0/16 tried (1-255); 0 draws it at random.
  explicit cassandra_pods(boost::asio::io_context& io, unsigned first_prefix = 0);
  ~cassandra_pods();
  cassandra_pods(const cassandra_pods&) = delete;
  cassandra_pods& operator=(const cassandra_pods&) = delete;

  // A cluster whose pods may run Cassandra (its PVC deletions drop the stored disks).
  void add_cluster(cluster_state& state);
  void start();
  void stop();

  // The kubelet starts a pod that runs_cassandra(): its IP, with its node and Jolokia endpoint
  // running. Throws std::runtime_error when no address can be bound.
  std::string start_pod(cluster_state& state, const k8s::json::Value& pod);
  // The pod was deleted: its node stops, its endpoint closes, held Jolokia replies are dropped.
  void pod_gone(const std::string& cluster, const std::string& ns, const std::string& name,
                const std::string& uid);

  // Control API. nullopt: no such Cassandra pod.
  std::optional<std::string> nodetool_status(const std::string& cluster, const std::string& ns,
                                             const std::string& pod);
  std::optional<cassandra::CqlshResult> cqlsh(const std::string& cluster, const std::string& ns,
                                              const std::string& pod, const std::string& statement);
  // The cluster's Cassandra pods as a JSON array: namespace, pod, ip, mode, jvmUp, ready, ring
  // (the id of the ring the node is in, shared across clusters), hostId, jolokiaCalls (HTTP
  // requests its Jolokia endpoint received since kubesim started, across restarts; not the
  // probes, which kubesim runs itself).
  std::string list(const std::string& cluster);
  // The pod's node and Jolokia faults now; nullopt: no such pod.
  std::optional<cassandra_pod_faults> faults(const std::string& cluster, const std::string& ns,
                                             const std::string& pod);
  // The pod's faults after the change, as JSON; nullopt: no such pod. Throws
  // std::invalid_argument when next_ip_of names a pod never seen.
  std::optional<std::string> set_faults(const std::string& cluster, const std::string& ns,
                                        const std::string& pod, const cassandra_pod_faults& f);
  // How fast every node works (ref §5 "Configurable ... times"): one setting for the process,
  // applied to running nodes and to those started later. All zero by default.
  cassandra::Speeds speeds() const;
  void set_speeds(const cassandra::Speeds& s);
  // --probe-time-scale: the factor on the probes' initial delay and period of pods started from
  // now on (cassandra_pod_spec.h `scaled`). 1 by default.
  double probe_time_scale() const;
  void set_probe_time_scale(double factor);
  // The pod IP prefix drawn ("127.x").
  std::string prefix() const;

  struct impl;

 private:
  std::shared_ptr<impl> impl_;
};

}  // namespace kubesim
