// REST verbs for any resource, asynchronous: every call returns at once and its callback runs
// later on an I/O thread (keep callbacks short; hand work to an actor). cpprestsdk does the
// HTTP; it stays out of this header because it is slow to compile.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "k8s/api/api_error.h"
#include "k8s/api/connection.h"
#include "k8s/api/resource.h"
#include "k8s/json/json.h"

namespace k8s {

template <class T>
class result {
 public:
  result(T value) : v_(std::move(value)) {}          // NOLINT: implicit on purpose
  result(api_error error) : v_(std::move(error)) {}  // NOLINT
  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  const T& value() const { return std::get<0>(v_); }
  T& value() { return std::get<0>(v_); }
  const api_error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, api_error> v_;
};

using object_ptr = std::shared_ptr<const json::Document>;
template <class T>
using callback = std::function<void(result<T>)>;

struct list_options {
  std::string label_selector;
  std::string field_selector;
  size_t limit = 0;
  std::string continue_token;
  std::string resource_version;        // "" (most recent), "0" (any), or a version
  std::string resource_version_match;  // "", "NotOlderThan", "Exact"
};

struct list_page {
  std::vector<object_ptr> items;
  std::string resource_version;
  std::string continue_token;
};

struct write_options {
  std::string field_manager;
  bool dry_run = false;
  bool force = false;  // server-side apply only
};

enum class patch_kind { merge, json, apply };

struct delete_options {
  std::string propagation;  // "", "Background", "Foreground", "Orphan"
  std::string precondition_uid;
  std::string precondition_resource_version;
  // gracePeriodSeconds; unset: the object's own (a pod's terminationGracePeriodSeconds).
  std::optional<int64_t> grace_period_seconds;
};

struct watch_options {
  std::string label_selector;
  std::string field_selector;
  std::string resource_version;
  int timeout_seconds = 290;  // asked of the server; the client gives up after this + 5 s idle
  bool allow_bookmarks = true;
};

// A running streaming request; cancel() ends it (the end callback still runs once, with an
// error whose message is cancelled_message). cancel() is thread-safe and idempotent. Dropping the
// handle does not end the stream; destroying the client does.
inline constexpr const char* cancelled_message = "cancelled";
class stream_handle {
 public:
  virtual ~stream_handle() = default;
  virtual void cancel() = 0;
};

// One request as the client saw it, for metrics.
struct request_record {
  std::string_view verb;  // Kubernetes verb: get list create update patch delete watch
  int code = 0;           // HTTP status; 0 when no answer came (connection failed, timed out)
  std::chrono::duration<double> elapsed{};  // from sending to the answer's headers and body
};

struct client_options {
  std::chrono::milliseconds request_timeout{30000};
  std::string user_agent = "multi-casskop";
  // Ordinary requests in flight at once; later ones wait their turn, in order. Each needs its
  // own HTTP/1.1 connection, and a new TLS connection costs cpprest a fresh SSL context (it
  // loads the system CA store every time: ~1 ms of CPU; the connection then holds the
  // generation's shared context instead), so an unbounded burst (1,000 MultiCasskops) opened
  // hundreds. Watches are not counted.
  size_t max_in_flight = 4;
  // Told of every ordinary request once its answer (or failure) is in, and of every watch once
  // it opens or fails to (time to the headers). Runs on an I/O thread: keep it cheap. Requests
  // that never left (no token, bad settings, a body over the limit) and cancelled watches are
  // not told.
  std::function<void(const request_record&)> on_request;
};

// Process-wide, for a memory breakdown: bytes of watch responses received and not yet split into
// lines (as of each open stream's last read), and bytes of request bodies waiting for a slot
// (client_options::max_in_flight).
struct client_buffer_usage {
  size_t watch_unread_bytes = 0;
  size_t queued_request_bytes = 0;
};
client_buffer_usage client_buffers();

// Process-wide: the TLS contexts the clients hold (one per https:// settings generation, shared
// by all of its connections, watches included) and the TLS connections opened with them so far.
struct tls_context_usage {
  size_t contexts = 0;
  size_t connections_opened = 0;
};
tls_context_usage tls_contexts();

class client {
 public:
  explicit client(connection_settings settings, client_options options = {});
  ~client();
  client(const client&) = delete;
  client& operator=(const client&) = delete;

  // Errors are typed (api_error.h). Two are the client's own: a request body over
  // max_request_body_bytes fails at once, unsent, with request_entity_too_large; a failed TLS
  // handshake (unreachable) says why in kubectl's words, from a diagnostic handshake of its own
  // (tls_explainer.h), which delays that error by up to ~3 s.

  // Later requests use the new settings; open streams keep the connection they have.
  void update_settings(connection_settings settings);
  connection_settings settings() const;

  void get(const resource& r, const std::string& ns, const std::string& name,
           callback<object_ptr> done, const std::string& subresource = "");
  void list(const resource& r, const std::string& ns, const list_options& o,
            callback<list_page> done);
  // A GET of any path below the server, for documents that are no resource's: API discovery
  // (/api, /apis, /api/v1, /apis/<group>/<version>).
  void get_path(const std::string& path, callback<object_ptr> done);
  void create(const resource& r, const std::string& ns, std::string body_json,
              const write_options& o, callback<object_ptr> done);
  void replace(const resource& r, const std::string& ns, const std::string& name,
               std::string body_json, const write_options& o, callback<object_ptr> done,
               const std::string& subresource = "");
  void patch(const resource& r, const std::string& ns, const std::string& name, patch_kind kind,
             std::string body, const write_options& o, callback<object_ptr> done,
             const std::string& subresource = "");
  // The object when the server returns it (deletion pending on finalizers, or kinds that
  // answer with the object), else nullptr.
  void remove(const resource& r, const std::string& ns, const std::string& name,
              const delete_options& o, callback<object_ptr> done);

  // A watch stream: on_open runs once the server accepted it (HTTP 200), on_line gets each
  // event line (without the newline) in order; on_end runs once: nullopt for a clean end of the
  // body, else why it ended (including cancel()).
  std::shared_ptr<stream_handle> watch(const resource& r, const std::string& ns,
                                       const watch_options& o,
                                       std::function<void(std::string_view line)> on_line,
                                       std::function<void(std::optional<api_error>)> on_end,
                                       std::function<void()> on_open = nullptr);

  struct impl;

 private:
  std::shared_ptr<impl> impl_;
};

}  // namespace k8s
