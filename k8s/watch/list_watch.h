// The list-then-watch loop of client-go's reflector and kube-rs' watcher, as a pure state
// machine: inputs are list pages, watch events and stream ends; outputs are the next action
// for the driver (k8s/watch/watcher.h) and the changes for the consumer. No I/O, no clock.
//
//   empty ──list pages──▶ listed ──watch──▶ watching ──clean end──▶ listed (re-watch from RV)
//     ▲                                        │
//     └──────────── 410 Gone / garbled line ───┘   other errors: back off, then retry the same step
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "k8s/api/api_error.h"
#include "k8s/api/client.h"
#include "k8s/watch/watch_event.h"

namespace k8s {

struct watch_change {
  enum class kind {
    init_started,  // a (re)list begins: objects follow as init_object, then init_done
    init_object,
    init_done,  // the consumer's picture is now exactly the listed objects
    applied,    // added or modified while watching
    deleted,
  };
  kind what;
  object_ptr object;  // null for init_started / init_done
};

struct list_watch_action {
  enum class kind {
    none,         // wait for the next input
    list_page,    // request a list page with `continue_token` ("" for the first page)
    start_watch,  // open a watch from `resource_version`
    back_off,     // wait (the driver picks the delay), then call on_backoff_elapsed()
  };
  kind what = kind::none;
  std::string continue_token;
  std::string resource_version;
};

class list_watch_state {
 public:
  enum class phase { empty, listing, listed, watching, backing_off };

  list_watch_action start();
  list_watch_action on_list_page(const list_page& page, std::vector<watch_change>& out);
  list_watch_action on_list_error(const api_error& e);
  // The server accepted the watch request (HTTP 200): events may follow; a past error is over.
  void on_watch_opened();
  list_watch_action on_watch_event(const watch_event& e, std::vector<watch_change>& out);
  list_watch_action on_garbled_line(const std::string& why);
  list_watch_action on_watch_end(const std::optional<api_error>& e);
  list_watch_action on_backoff_elapsed();

  phase current() const { return phase_; }
  // The resourceVersion the next watch resumes from ("" before the first list).
  const std::string& resource_version() const { return rv_; }
  const std::optional<api_error>& last_error() const { return last_error_; }
  int relists() const { return relists_; }
  int rewatches() const { return rewatches_; }

 private:
  list_watch_action relist();
  list_watch_action fail_and_back_off(const api_error& e, list_watch_action retry);

  phase phase_ = phase::empty;
  std::string rv_;
  std::string continue_token_;
  list_watch_action pending_retry_;
  std::optional<api_error> last_error_;
  int relists_ = 0;
  int rewatches_ = 0;
};

}  // namespace k8s
