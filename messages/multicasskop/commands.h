// What the state machine decides to do. The runtime's writers carry out the writes (answered as
// write_done events), its Event recorder the record_events; the supervisor shell handles timers
// and logs itself.
#pragma once

#include <cstdint>
#include <string>
#include <variant>

#include "messages/multicasskop/events.h"

namespace mc {

// Create a CassandraCluster in a region's cluster.
struct create_cassandracluster {
  uint64_t id = 0;
  mc_key owner;
  std::string cluster;
  object_ptr object;
};

// RFC 7386 merge patch of a CassandraCluster, or of its status subresource.
struct patch_cassandracluster {
  uint64_t id = 0;
  mc_key owner;
  std::string cluster;
  std::string ns;
  std::string name;
  std::string merge_patch;
  bool status = false;
};

struct delete_cassandracluster {
  uint64_t id = 0;
  mc_key owner;
  std::string cluster;
  std::string ns;
  std::string name;
  std::string uid;  // precondition: never delete a newer object of the same name
};

// RFC 7386 merge patch of the MultiCasskop (finalizers) or of its status subresource.
struct patch_multicasskop {
  uint64_t id = 0;
  mc_key key;
  std::string merge_patch;
  bool status = false;
};

// A Kubernetes Event on the MultiCasskop.
struct record_event {
  mc_key key;
  std::string type;  // Normal or Warning
  std::string reason;
  std::string message;
  std::string region;  // "" when not about one region
  std::string uid{};   // of the MultiCasskop, so `kubectl describe` finds the Event
};

// Deliver timer_fired{key, cluster, token} after delay_ms.
struct start_timer {
  mc_key key;
  std::string cluster;
  uint64_t token = 0;
  int64_t delay_ms = 0;
};

using command =
    std::variant<create_cassandracluster, patch_cassandracluster, delete_cassandracluster,
                 patch_multicasskop, record_event, start_timer>;

// The name of a command's kind, as the metrics show it.
inline const char* kind_name(const command& c) {
  static constexpr const char* names[] = {"create", "patch", "delete", "multicasskop_patch",
                                          "event",  "timer"};
  static_assert(sizeof names / sizeof *names == std::variant_size_v<command>);
  return names[c.index()];
}

}  // namespace mc
