// De-duplication and rate limiting of the Kubernetes Events recorded on any object, the way
// client-go's EventCorrelator does it: an occurrence of an Event already recorded bumps that
// Event object's count instead of creating another one, and a token bucket per involved object
// drops occurrences beyond a burst, so a flapping object cannot flood the API server. Pure
// logic: no I/O, time comes from the caller (milliseconds since the epoch). Also the wire format
// of those Events (core/v1), so that seeding reads what creating writes.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "k8s/api/client.h"
#include "messages/runtime/events.h"

namespace runtime {

struct event_correlator_options {
  int64_t burst = 25;              // occurrences let through at once, per object
  int64_t refill_ms = 5 * 60'000;  // then one more per this long (client-go: 1/300 qps)
  size_t max_keys = 128;           // distinct Events remembered per object; least recently seen go
};

// Who records: the component Events carry (source.component, reportingComponent), and the
// annotation the detail of an event_record is written under.
struct event_source {
  std::string component;
  std::string detail_annotation;
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
  event_decision decide(const event_record& e, int64_t now_ms);
  // The create decided for `e` answered with this object name: later occurrences bump it.
  void created(const event_record& e, const std::string& name);
  // The Event object decided to be bumped is gone (Events expire, an hour by default): its
  // history went with it, so this occurrence is the first of a new object.
  event_decision recreate(const event_record& e, int64_t now_ms);
  // The Events already recorded on that object (listed after a restart or a leader change): an
  // occurrence of one of them bumps it instead of creating a second. Only those of `source`
  // count, and only for the object's uid when it has one; what this correlator already knows
  // wins. Takes no tokens.
  void seed(const involved_object& object, const event_source& source,
            const std::vector<k8s::object_ptr>& events);
  // Forgets an object (deleted): its Events are no longer correlated.
  void forget(const involved_object& object) { objects_.erase(object.key()); }

  size_t keys(const involved_object& object) const;  // distinct Events remembered for it
  size_t objects() const { return objects_.size(); }
  // The bytes this correlator holds (containers and strings, allocator overhead aside).
  size_t memory_bytes() const;
  // Whether this correlator has taken in the object's Events already (seed() or decide()).
  bool knows(const involved_object& object) const { return objects_.count(object.key()) > 0; }

 private:
  // Kept per distinct Event for as long as its object lives (thousands of objects): an Event is
  // remembered by a 64-bit hash of what makes it distinct (type, reason, message, detail), not
  // by that text, and an object's few Events sit in one small vector, least recently seen found
  // by a scan when one must go. Two distinct Events of one object with the same hash (about
  // 1 in 10^15 with 128 of them) would share one Event object.
  struct record {
    uint64_t key = 0;
    uint64_t seen = 0;  // the object's clock when last seen: the least recently seen goes first
    std::string name;   // "" until a create succeeded
    int64_t count = 0;
    int64_t first_ms = 0;
    int64_t last_ms = 0;
  };
  struct object_state {
    std::string uid;
    bool bucket_started = false;
    int64_t tokens = 0;
    int64_t refilled_ms = 0;  // the time up to which tokens were credited
    uint64_t clock = 0;
    std::vector<record> records;
  };

  object_state& object_of(const involved_object& object);
  record& touch(object_state& o, uint64_t key);
  bool take_token(object_state& o, int64_t now_ms);

  event_correlator_options options_;
  // By involved_object::key(); the recorder forgets deleted objects.
  std::map<std::string, object_state> objects_;
};

// ---- the core/v1 Event on the wire ----

// The Event to POST for a create decision (generateName: the server names it).
std::string event_json(const event_record& e, const event_decision& d, const event_source& source,
                       const std::string& instance);
// The merge patch for a bump decision.
std::string event_bump_patch(const event_decision& d);

}  // namespace runtime
