// The Cassandra ring(s) of one simulator: which nodes gossip together, their keyspaces, and what
// StorageService and `nodetool status` say about them. Pure logic: time and name resolution come
// from the caller. Facts: /work/shared/reference/cassandra-nodes.md ("ref §N").
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "node.h"

namespace kubesim::cassandra {

// A keyspace's replication as CQL states it: the class and its options as strings
// ({'class': 'NetworkTopologyStrategy', 'dc1': '1'} gives class NetworkTopologyStrategy, options
// {dc1: "1"}; SimpleStrategy has option replication_factor).
struct Replication {
  std::string strategy;  // short name: LocalStrategy, SimpleStrategy, NetworkTopologyStrategy
  std::map<std::string, std::string> options;
  bool operator==(const Replication& o) const {
    return strategy == o.strategy && options == o.options;
  }
};
struct Keyspace {
  std::string name;
  Replication replication;
};
// The keyspaces a fresh Cassandra 3.11 cluster has (ref §5 "Keyspace catalog"):
// system and system_schema (LocalStrategy), system_auth (SimpleStrategy RF 1),
// system_distributed (RF 3), system_traces (RF 2) — SchemaConstants / *DistributedKeyspace of 3.11.
std::vector<Keyspace> system_keyspaces_3_11();

struct Ring {
  int id = 0;
  std::string cluster;
  std::vector<std::string> members;                    // pods, in join order
  std::vector<Keyspace> keyspaces;                     // the schema, shared by the members
  std::vector<std::pair<std::string, Time>> removing;  // removeNode in progress: pod, until
};

// What a pod gives its node at start (ref §3).
struct StartSpec {
  NodeIdentity identity;
  std::string seeds;  // CASSANDRA_SEEDS, a comma list
  // The names this pod answers to (`hostname -f`, <pod>.<cc>.<ns>, ...): a seed entry equal to one
  // of them (or to the pod IP) makes the node a seed. The first is `hostname -f`.
  std::vector<std::string> own_names;
  // cassandra.yaml num_tokens the pod's config gives (CONFIG_FILE_DATA); 0 keeps the default.
  // Only a fresh disk draws tokens.
  int num_tokens = 0;
};

// run.sh's `nc -z -w5 <seed> 8778` (ref §3): the IP of the node answering on the Jolokia port of
// that name, or nullopt when the name does not resolve or nothing answers. Name resolution
// (cluster DNS, external-DNS across regions) is the caller's.
using SeedProbe = std::function<std::optional<std::string>(const std::string& seed)>;

struct StartOutcome {
  std::string error;      // non-empty: Cassandra exited at start (crash loop)
  int ring = 0;           // the ring joined or founded
  bool founded = false;   // no seed answered: CASSANDRA_SEEDS=$(hostname -f), a new ring
  std::string seed_used;  // the seed entry that answered
  bool is_seed = false;
};

// Value or Java exception, as a JMX call ends.
template <class T>
using JmxResult = std::variant<T, JavaError>;

class Rings {
 public:
  explicit Rings(NodeSettings defaults = {}) : defaults_(std::move(defaults)) {}

  // Starts (or restarts) the node of a pod with what its PVC holds: mirrors run.sh's seed check,
  // then joins the ring of the first seed that answers, or founds a ring (ref §3, §5 "Ring model").
  StartOutcome start(Time now, const StartSpec& spec, DiskState disk, const SeedProbe& probe,
                     uint64_t random);
  // The JVM stops (killed, pod deleted): the node stays in its ring's HostIdMap, down (ref §6).
  void stop(const std::string& pod);
  // Moves every node to `now`; a node that reached DECOMMISSIONED leaves its ring; removals end.
  void advance(Time now);

  Node* node(const std::string& pod);
  const Node* node(const std::string& pod) const;
  const Node* node_by_ip(const std::string& ip) const;  // a running node with that IP
  const Ring* ring_of(const std::string& pod) const;    // the ring the node is (or last was) in
  Ring* ring_of(const std::string& pod);
  std::vector<const Ring*> rings() const;
  NodeSettings& defaults() { return defaults_; }

  // StorageService attributes as node `pod` sees its ring (ref §1 table, plus LiveNodes).
  std::vector<std::string> live_nodes(const std::string& pod) const;
  std::vector<std::string> unreachable_nodes(const std::string& pod) const;
  std::vector<std::string> joining_nodes(const std::string& pod) const;
  std::vector<std::string> leaving_nodes(const std::string& pod) const;
  std::vector<std::pair<std::string, std::string>> host_id_map(const std::string& pod) const;
  std::vector<std::string> keyspace_names(const std::string& pod) const;
  // describeRingJMX(keyspace): TokenRange(...) strings (ref §1 call 6).
  JmxResult<std::vector<std::string>> describe_ring(const std::string& pod,
                                                    const std::string& keyspace) const;
  // decommission() on `pod` (ref §4).
  std::optional<JavaError> decommission(Time now, const std::string& pod);
  // removeNode(hostId) on `pod`: the work id the EXEC waits for (ref §4 "Remove").
  JmxResult<int> remove_node(Time now, const std::string& pod, const std::string& host_id);
  // rebuild(srcDC) on `pod`: the work id (ref §4 "Rebuild").
  JmxResult<int> rebuild(Time now, const std::string& pod, const std::string& source_dc);

  // Replaces a keyspace's replication in the ring of `pod` (the ALTER KEYSPACE hook, ref §5);
  // the error is cqlsh's message.
  std::optional<std::string> alter_keyspace(const std::string& pod, const std::string& keyspace,
                                            const Replication& replication);
  // `nodetool status` run in `pod` (layout of Cassandra 3.11, see ring.cpp).
  std::string nodetool_status(const std::string& pod) const;

 private:
  std::vector<const Node*> token_owners(const Ring& r, bool with_joining) const;
  bool has_normal_tokens(const Node& n) const;
  int other_normal_members(const std::string& pod) const;

  NodeSettings defaults_;
  std::map<std::string, std::unique_ptr<Node>> nodes_;
  std::map<std::string, int> ring_of_;  // pod -> ring id
  std::vector<std::unique_ptr<Ring>> rings_;
  int next_ring_ = 1;
};

// Replicas of each token range of a keyspace: SimpleStrategy and NetworkTopologyStrategy of 3.11
// (rack-aware), over the normal tokens of `owners`. One entry per token, in token order: the range
// (previous token, token] and its replica nodes.
struct TokenRangeReplicas {
  int64_t start = 0, end = 0;
  std::vector<const Node*> replicas;
};
std::vector<TokenRangeReplicas> replicas_by_range(const std::vector<const Node*>& owners,
                                                  const Replication& replication);

}  // namespace kubesim::cassandra
