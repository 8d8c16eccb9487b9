// De-duplication and rate limiting of the Kubernetes Events recorded on MultiCasskops, the way
// client-go's EventCorrelator does it (tools/record/events_cache.go): an occurrence of an Event
// already recorded bumps that Event object's count instead of creating another one, and a token
// bucket per MultiCasskop drops occurrences beyond a burst, so a flapping region cannot flood the
// API server. Pure logic: no I/O, time comes from the caller (milliseconds since the epoch).
// Also the wire format of those Events (core/v1), so that seeding reads what creating writes.
#pragma once

#include <cstdint>
#include <list>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "messages/multicasskop/commands.h"

namespace mc {

struct event_correlator_options {
  int64_t burst = 25;              // occurrences let through at once, per MultiCasskop
  int64_t refill_ms = 5 * 60'000;  // then one more per this long (client-go: 1/300 qps)
  size_t max_keys = 128;  // distinct Events remembered per MultiCasskop; least recently seen go
};

struct event_decision {
  enum class action { create, bump, drop };
  action what = action::drop;
  std::string name;      // bump: the Event object to patch
  int64_t count = 1;     // occurrences so far, dropped ones included (as client-go counts)
  int64_t first_ms = 0;  // firstTimestamp
  int64_t last_ms = 0;   // lastTimestamp: this occurrence
};

class event_correlator {
 public:
  explicit event_correlator(event_correlator_options o = {}) : options_(o) {}

  // One occurrence of `e` at `now_ms`: create an Event, bump the one already recorded, or drop
  // it (rate limited). Counted either way, so a later bump carries the true count.
  event_decision decide(const record_event& e, int64_t now_ms);
  // The create decided for `e` answered with this object name: later occurrences bump it.
  void created(const record_event& e, const std::string& name);
  // The Event object decided to be bumped is gone (Events expire, an hour by default): its
  // history went with it, so this occurrence is the first of a new object.
  event_decision recreate(const record_event& e, int64_t now_ms);
  // The Events already recorded on that MultiCasskop (listed after a restart or a leader
  // change): an occurrence of one of them bumps it instead of creating a second. Only ours
  // count, and only for that uid when one is given; what this correlator already knows wins.
  // Takes no tokens.
  void seed(const mc_key& key, const std::string& uid, const std::vector<object_ptr>& events);

  size_t keys(const mc_key& key) const;  // distinct Events remembered for it
  size_t objects() const { return objects_.size(); }

 private:
  struct record {
    std::string name;  // "" until a create succeeded
    int64_t count = 0;
    int64_t first_ms = 0;
    int64_t last_ms = 0;
    std::list<std::string>::iterator lru;
  };
  struct object_state {
    std::string uid;
    bool bucket_started = false;
    int64_t tokens = 0;
    int64_t refilled_ms = 0;     // the time up to which tokens were credited
    std::list<std::string> lru;  // keys, most recently seen first
    std::map<std::string, record> records;
  };

  object_state& object_of(const mc_key& key, const std::string& uid);
  record& touch(object_state& o, const std::string& key);
  bool take_token(object_state& o, int64_t now_ms);

  event_correlator_options options_;
  // One entry in practice: each MultiCasskop's Events go through its own deployer, which holds
  // a correlator and takes it along when it stops (the MultiCasskop was deleted).
  std::map<mc_key, object_state> objects_;
};

// ---- the core/v1 Event on the wire ----

// The annotation naming the region an Event is about, so a seeded Event keys as it was recorded.
inline constexpr const char* event_region_annotation = "multicasskop.db.orange.com/region";

// The Event to POST for a create decision (generateName: the server names it).
std::string event_json(const record_event& e, const event_decision& d, const std::string& instance);
// The merge patch for a bump decision.
std::string event_bump_patch(const event_decision& d);

}  // namespace mc
