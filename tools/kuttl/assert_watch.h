// Asserts checked at every watch event, not only at each poll: kuttl passes a step as soon as one
// poll sees its asserts hold, so a state that lasts less than the poll interval (an action Done
// a few ms before the operator starts the next one) passes kuttl only by luck of timing. While a
// step's asserts are checked, the runner also watches every kind they name, starting from a list
// made after the step's own writes, keeps the latest version of each object, and evaluates the
// asserts on that picture after every event: kuttl with an infinitely fast poll. A dropped watch
// is not reopened; the polls go on.
#pragma once

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "k8s/api/client.h"
#include "k8s/json/json.h"
#include "k8s/watch/list_watch.h"
#include "tools/kuttl/watched_objects.h"

namespace kuttl {

class cluster;

// Watches the kinds of a step's asserts in `ns` for as long as it lives (the destructor cancels
// the watches). Thread-safe: events arrive on the client's I/O threads.
class assert_watch {
 public:
  // Lists each kind now (so nothing from before this moment can match), then watches it.
  assert_watch(cluster& c, const std::vector<k8s::json::Document>& asserts, const std::string& ns);
  ~assert_watch();
  assert_watch(const assert_watch&) = delete;
  assert_watch& operator=(const assert_watch&) = delete;

  // Waits up to `d`; true once the asserts held on the picture after some list or event.
  bool wait_matched(std::chrono::milliseconds d);

 private:
  // What the streams' callbacks share; they may outlive this object (an event in flight).
  struct shared {
    std::mutex m;
    std::condition_variable cv;
    std::vector<k8s::json::Document> asserts;  // a copy
    watched_objects picture;
    std::map<std::string, k8s::list_watch_state> states;  // by kind key
    bool matched = false;
    bool broken = false;  // a watch ended or failed: the picture is no longer the cluster's
    void on_line(const std::string& kind_key, std::string_view line);
    void on_end(const std::optional<k8s::api_error>& e);
    void update(const std::string& kind_key, const std::vector<k8s::watch_change>& changes);
  };
  std::shared_ptr<shared> state_;
  std::vector<std::shared_ptr<k8s::stream_handle>> streams_;
};

}  // namespace kuttl
