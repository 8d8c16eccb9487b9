// Everything the supervisor learns is one of these events. The MultiCasskop state is the fold
// of them (actors/multicasskop/logic/state_machine.h), so they are plain data: no logic, no CAF.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "k8s/api/api_error.h"
#include "k8s/api/client.h"
#include "k8s/json/json.h"

namespace mc {

using k8s::object_ptr;  // one definition, the client's

// namespace/name of a MultiCasskop.
struct mc_key {
  std::string ns;
  std::string name;
  std::string str() const { return ns + "/" + name; }
  bool operator<(const mc_key& o) const { return ns != o.ns ? ns < o.ns : name < o.name; }
  bool operator==(const mc_key& o) const { return ns == o.ns && name == o.name; }
};

// The cluster list changed (start-up or config reload); regions follow this order.
struct clusters_configured {
  std::vector<std::string> clusters;  // local first
};

// A watcher's view of its cluster: reachable, and whether its initial list is in.
struct cluster_health {
  std::string cluster;
  bool reachable = false;
  bool synced = false;
  std::string error;    // why not, for status and logs
  bool denied = false;  // unreachable because the API server refused our credentials (401, 403)
};

// A MultiCasskop was listed, added or modified in the local cluster.
struct multicasskop_seen {
  object_ptr object;
};

struct multicasskop_gone {
  mc_key key;
};

// A CassandraCluster was listed, added or modified in `cluster`.
struct cassandracluster_seen {
  std::string cluster;
  object_ptr object;
};

struct cassandracluster_gone {
  std::string cluster;
  std::string ns;
  std::string name;
};

// A write (see commands.h) was answered; `object` is what the server returned.
struct write_done {
  uint64_t command_id = 0;
  bool ok = false;
  k8s::api_error error;
  object_ptr object;
};

// A timer the state machine asked for (start_timer) went off.
struct timer_fired {
  mc_key key;
  std::string cluster;
  uint64_t token = 0;
};

// The supervisor carried out a command the state machine decided: sent a write, started a
// timer or recorded an Event. Journaled and folded like any other event, so the decision it
// belongs to counts as made and decide() does not return it again (replay sees the same).
struct command_issued {
  std::string kind;  // kind_name() of the command
  uint64_t id = 0;   // the write's id or the timer's token; 0 for an Event
  mc_key key;        // the MultiCasskop it is for
};

using event_body = std::variant<clusters_configured, cluster_health, multicasskop_seen,
                                multicasskop_gone, cassandracluster_seen, cassandracluster_gone,
                                write_done, timer_fired, command_issued>;

// The name of an event's type, as the journal and the metrics show it.
inline const char* type_name(const event_body& b) {
  static constexpr const char* names[] = {
      "clusters_configured", "cluster_health",        "multicasskop_seen",
      "multicasskop_gone",   "cassandracluster_seen", "cassandracluster_gone",
      "write_done",          "timer_fired",           "command_issued"};
  static_assert(sizeof names / sizeof *names == std::variant_size_v<event_body>);
  return names[b.index()];
}

struct event {
  uint64_t seq = 0;   // position in the journal
  int64_t at_ms = 0;  // wall clock when the supervisor received it (ms since epoch)
  event_body body;
  // Written at the start of a journal file (after a rotation): restates what the state machine
  // knew then, as after a restart, so the file replays on its own.
  bool snapshot = false;
};

}  // namespace mc
