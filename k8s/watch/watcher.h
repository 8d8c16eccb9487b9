// A list-watch of one resource kept correct through faults: drives list_watch_state with the
// client, backs off with jitter, relists on 410 and keeps the object_store up to date.
// Consumers get every change with the store's delta; callbacks are serialized and never run
// after stop() returns.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "k8s/api/client.h"
#include "k8s/base/backoff.h"
#include "k8s/base/metrics.h"
#include "k8s/base/timer_service.h"
#include "k8s/watch/list_watch.h"
#include "k8s/watch/object_store.h"

namespace k8s {

struct watcher_options {
  resource what;
  std::string namespace_name;  // "" for all namespaces / cluster scope
  std::string label_selector;
  std::string field_selector;
  size_t page_size = 500;
  int timeout_seconds = 290;  // per watch request; the idle limit is this + 5 s
  backoff_policy backoff;
  // Applied to every object before it is stored and handed on (as client-go's SetTransform):
  // a cache keeps only what its reader needs. Returns the object itself when nothing changes.
  std::function<object_ptr(const object_ptr&)> transform;
  // When set (e.g. {{"controller","multicasskop"},{"cluster","a"}}), the cache's size is exported
  // as operator_cache_objects / operator_cache_bytes with these labels (cache_metrics.h).
  metrics::label_set metric_labels;
};

// What a watch cache holds now.
struct cache_usage {
  size_t objects = 0;
  size_t bytes = 0;
};

struct watcher_status {
  list_watch_state::phase phase = list_watch_state::phase::empty;
  std::string resource_version;
  std::optional<api_error> last_error;
  bool synced = false;  // the first complete list is in
  int relists = 0;
  int rewatches = 0;
  std::chrono::milliseconds next_retry{0};  // when backing off
};

const char* to_string(list_watch_state::phase p);

class watcher : public std::enable_shared_from_this<watcher> {
 public:
  using change_callback = std::function<void(const watch_change&, const store_delta&)>;
  using status_callback = std::function<void(const watcher_status&)>;

  static std::shared_ptr<watcher> create(std::shared_ptr<client> c,
                                         std::shared_ptr<timer_service> timers, watcher_options o,
                                         change_callback on_change,
                                         status_callback on_status = nullptr);
  ~watcher();

  void start();
  void stop();

  watcher_status status() const;
  // A copy of the current picture (thread-safe).
  std::vector<object_ptr> objects() const;
  uint64_t stale_events() const;
  cache_usage usage() const;
  const metrics::label_set& metric_labels() const { return options_.metric_labels; }
  const std::string& resource_plural() const { return options_.what.plural; }

  watcher(std::shared_ptr<client> c, std::shared_ptr<timer_service> timers, watcher_options o,
          change_callback on_change, status_callback on_status);

 private:
  void act(list_watch_action a);  // called with mutex_ held
  void deliver(const std::vector<watch_change>& changes);
  void report_status();
  void on_list(uint64_t gen, result<list_page> r);
  void on_open(uint64_t gen);
  void on_line(uint64_t gen, std::string_view line);
  void on_end(uint64_t gen, std::optional<api_error> e);
  void end_stream();

  std::shared_ptr<client> client_;
  std::shared_ptr<timer_service> timers_;
  watcher_options options_;
  change_callback on_change_;
  status_callback on_status_;

  mutable std::recursive_mutex mutex_;
  list_watch_state state_;
  object_store store_;
  backoff backoff_;
  std::shared_ptr<stream_handle> stream_;
  timer_service::cancel_flag retry_timer_;
  uint64_t generation_ = 0;  // callbacks of older requests are ignored
  bool stopped_ = true;
  std::chrono::milliseconds next_retry_{0};
  watcher_status last_reported_;
};

}  // namespace k8s
