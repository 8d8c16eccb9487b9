// The Event recorder's protocol (actors/runtime/event_recorder.h): one occurrence of a
// Kubernetes Event on any object. Plain data, no logic.
#pragma once

#include <string>

namespace runtime {

// The object an Event is about, as core/v1 Event.involvedObject names it.
struct involved_object {
  std::string kind;
  std::string api_version;
  std::string ns;
  std::string name;
  std::string uid;  // "" when not known; `kubectl describe` finds Events by it
  // What identifies the object for correlation: kind, namespace and name.
  std::string key() const { return kind + '\0' + ns + '\0' + name; }
};

struct event_record {
  involved_object object;
  std::string type;  // Normal or Warning
  std::string reason;
  std::string message;
  // An optional detail (multi-casskop: the region) that tells apart Events otherwise alike;
  // written as the recorder's detail annotation.
  std::string detail;
};

// The recorder no longer needs what it keeps about this object (it was deleted).
struct forget_object {
  involved_object object;
};

}  // namespace runtime
