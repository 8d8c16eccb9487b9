// The state of one simulated cluster: its objects, its resourceVersion counter, the bounded
// history watches resume from, and every write rule of kube-apiserver (generation, status
// subresource, no-op writes, optimistic concurrency, finalizers, garbage collection).
// Thread-safe: one mutex per cluster serializes writes, which gives a total order of events.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "k8s/json/json.h"
#include "tools/kubesim/cluster_defaults.h"
#include "tools/kubesim/resource_types.h"
#include "tools/kubesim/selectors.h"

namespace kubesim {

// An immutable stored object with its serialized form, shared by readers and watch events.
struct snapshot {
  k8s::json::Document doc;
  std::string json;
  uint64_t rv = 0;
};
using snapshot_ptr = std::shared_ptr<const snapshot>;

enum class patch_type { merge, json, strategic, apply };

// fieldValidation: what a write does with unknown and duplicate fields of a custom resource.
enum class field_validation { ignore, warn, strict };

struct write_options {
  bool dry_run = false;
  std::string field_manager;
  // The request's User-Agent: the field manager when fieldManager is empty (managerOrUserAgent).
  // Writes of kubesim's own controllers keep this default.
  std::string user_agent = "kube-controller-manager";
  // Server-side apply has set metadata.managedFields already: the write keeps them.
  bool managed_fields_final = false;
  bool force = false;
  // The API version of the request's URL: a custom resource is decoded and validated with that
  // version's schema. Empty: the storage version.
  std::string version;
  field_validation validation = field_validation::warn;  // the server's default
  // Receives the texts of the Warning headers the write answers with (none when null).
  std::vector<std::string>* warnings = nullptr;
};

struct list_options {
  std::string label_selector;
  std::string field_selector;
  size_t limit = 0;  // 0: no paging
  std::string continue_token;
  // The state at exactly this resourceVersion (resourceVersionMatch=Exact): rebuilt from the
  // history; 410 when it is compacted, 500 (etcd's future revision) when it is not reached.
  std::optional<uint64_t> exact_rv;
};

struct list_result {
  std::vector<snapshot_ptr> items;
  uint64_t rv = 0;
  std::string continue_token;
  long long remaining = -1;  // remainingItemCount when paging, else -1
};

struct delete_options {
  std::string propagation = "Background";  // Background, Foreground, Orphan
  std::string precondition_uid;
  std::string precondition_rv;
  bool dry_run = false;
};

struct delete_result {
  snapshot_ptr object;  // the object (still there with deletionTimestamp, or as deleted)
  bool gone = false;    // removed from the store now
};

struct watch_event {
  const char* type;     // ADDED, MODIFIED, DELETED, BOOKMARK
  snapshot_ptr object;  // nullptr for BOOKMARK
  uint64_t rv = 0;
  // The event line in the storage version as plain JSON, built once and shared by watchers.
  mutable std::shared_ptr<const std::string> json_line;
  // A BOOKMARK that ends a watch-list's initial events (annotated k8s.io/initial-events-end).
  bool initial_events_end = false;
  const std::string& line() const;
};

// Receives a watch's events in resourceVersion order, under the cluster lock: keep it quick.
class watch_sink {
 public:
  virtual ~watch_sink() = default;
  // Returns false when the watcher is gone; it is then dropped.
  virtual bool deliver(const watch_event& e) = 0;
};

struct watch_options {
  std::string namespace_name;  // empty: all namespaces
  std::string label_selector;
  std::string field_selector;
  std::optional<uint64_t> from_rv;  // nullopt: start with ADDED for every current object
  bool from_now = false;            // neither: only the events after now (sendInitialEvents=false)
  // After the initial ADDEDs, the BOOKMARK at the current resourceVersion that ends them.
  bool initial_events_end_bookmark = false;
};

class cluster_state {
 public:
  // `defer` runs follow-up work (garbage collection, namespace cleanup, each namespace's
  // default objects) after the write that caused it has returned, as the real controllers do
  // asynchronously. `root_ca_pem` is what every namespace's kube-root-ca.crt publishes (none
  // is published when it is empty).
  cluster_state(std::string name, size_t history_limit,
                std::function<void(std::function<void()>)> defer, std::string root_ca_pem = "");

  const std::string& name() const { return name_; }

  // Types. The pointers stay valid while the type exists; callers hold no lock, so they
  // copy what they need.
  std::optional<resource_type> find_type(const std::string& group, const std::string& version,
                                         const std::string& plural) const;
  std::vector<resource_type> types() const;
  uint64_t types_revision() const;

  snapshot_ptr get(const resource_type& t, const std::string& ns, const std::string& name) const;
  list_result list(const resource_type& t, const std::string& ns, const list_options& o) const;
  // 201 vs 200 is `created` in the result of create/patch(apply).
  struct write_result {
    snapshot_ptr object;
    bool created = false;
  };
  write_result create(const resource_type& t, const std::string& ns, k8s::json::Document body,
                      const write_options& o);
  snapshot_ptr update(const resource_type& t, const std::string& ns, const std::string& name,
                      k8s::json::Document body, bool status_only, const write_options& o);
  write_result patch(const resource_type& t, const std::string& ns, const std::string& name,
                     patch_type type, std::string_view body, bool status_only,
                     const write_options& o);
  // The pods/binding subresource (BindingREST.assignPod): sets spec.nodeName of a Pod not yet
  // bound and its PodScheduled condition, which no update of the Pod itself may do. A non-empty
  // `uid` is a precondition. Throws 404, or 409 when bound already or being deleted.
  snapshot_ptr bind_pod(const std::string& ns, const std::string& name, const std::string& node,
                        const std::string& uid = "");
  delete_result remove(const resource_type& t, const std::string& ns, const std::string& name,
                       const delete_options& o);
  // deletecollection: deletes what the selectors match; returns the deleted objects.
  std::vector<snapshot_ptr> remove_collection(const resource_type& t, const std::string& ns,
                                              const list_options& o, const delete_options& d);

  // Registers a watch; events with rv > from_rv (or synthetic ADDEDs) are delivered before
  // this returns. Throws api_error 410 when from_rv is older than the kept history.
  uint64_t watch(const resource_type& t, const watch_options& o, std::shared_ptr<watch_sink> sink);
  void unwatch(uint64_t id);
  // Delivers a BOOKMARK (object nullptr, rv = now) to one watch, ordered with its events.
  void send_bookmark(uint64_t id);

  uint64_t current_rv() const;
  // Forgets all history: every watch resuming from an older resourceVersion gets 410.
  void compact();

 private:
  struct object_ref {
    std::string type_id, ns, name;
    bool operator<(const object_ref& o) const {
      return std::tie(type_id, ns, name) < std::tie(o.type_id, o.ns, o.name);
    }
  };
  using object_map = std::map<std::pair<std::string, std::string>, snapshot_ptr>;  // (ns, name)
  struct watcher {
    uint64_t id;
    std::string type_id;
    std::string namespace_name;
    label_selector labels;
    field_selector fields;
    std::shared_ptr<watch_sink> sink;
    // The resourceVersion the watch started from: a watch from ahead of the store gets only
    // later events (cacheWatcher.process), and no BOOKMARK older than it.
    uint64_t from_rv = 0;
  };
  struct history_entry {
    std::string type_id;
    watch_event event;
    snapshot_ptr old;  // state before, for selector transitions
  };

  // All below: call with mutex_ held.
  object_map& objects_of(const resource_type& t) { return objects_[t.id()]; }
  const snapshot_ptr* find_locked(const resource_type& t, const std::string& ns,
                                  const std::string& name) const;
  snapshot_ptr commit(const resource_type& t, k8s::json::Document doc, snapshot_ptr old,
                      bool deleted);
  snapshot_ptr write_update(const resource_type& t, const snapshot_ptr& old,
                            k8s::json::Document next, bool status_only, bool check_rv,
                            const write_options& o);
  write_result create_locked(const resource_type& t, const std::string& ns,
                             k8s::json::Document body, const write_options& o);
  delete_result remove_locked(const resource_type& t, const std::string& ns,
                              const std::string& name, const delete_options& o);
  void finalize_removal(const resource_type& t, const snapshot_ptr& obj);
  void publish(const resource_type& t, const char* type, const snapshot_ptr& now,
               const snapshot_ptr& old);
  void on_type_object_changed(const resource_type& t, const snapshot_ptr& obj, bool deleted);
  void schedule_gc(std::string owner_uid, std::string propagation);
  void collect_dependents(const std::string& owner_uid, const std::string& propagation);
  void cleanup_namespace(const std::string& ns);
  void release_foreground_owners(const snapshot_ptr& removed);
  bool has_blocking_dependents(const std::string& owner_uid) const;
  void remove_gc_finalizer(const std::string& owner_uid, const char* finalizer);
  void orphan_dependents(const std::string& owner_uid);
  void cleanup_crd(const std::string& crd_name);
  void finish_crd_if_empty(const std::string& crd_name);
  void index_owners(const std::string& type_id, const snapshot_ptr& old, const snapshot_ptr& now);
  // dangling_owners.cpp: whether an owner reference names a uid no object has, and the
  // garbage collector's decision on such a dependent (runs deferred, takes the lock).
  bool owners_may_be_dangling(const k8s::json::Value& obj, const std::string& ns) const;
  void collect_if_owners_absent(const object_ref& ref);
  const snapshot_ptr* owner_named_by(const k8s::json::Value& owner_ref,
                                     const std::string& ns) const;
  const snapshot_ptr* find_by_ref(const object_ref& r) const;
  bool namespace_terminating(const std::string& ns) const;
  void finish_namespace_if_empty(const std::string& ns);
  void require_namespace(const resource_type& t, const std::string& ns,
                         const std::string& name) const;
  void assign_cluster_ip(const resource_type& t, k8s::json::Document& service, bool dry_run);
  void after_commit(const resource_type& t, const snapshot_ptr& now, const snapshot_ptr& old,
                    bool deleted);
  void ensure_namespace_defaults(const std::string& ns);

  std::string name_;
  size_t history_limit_;
  std::function<void(std::function<void()>)> defer_;
  mutable std::mutex mutex_;
  type_registry types_;
  std::map<std::string, object_map> objects_;  // by resource type id
  uint64_t rv_ = 0;
  uint64_t compacted_rv_ = 0;  // history holds events with rv > compacted_rv_
  std::deque<history_entry> history_;
  std::map<uint64_t, watcher> watchers_;
  std::unordered_map<std::string, object_ref> by_uid_;      // looked up only, never walked in order
  std::map<std::string, std::set<object_ref>> dependents_;  // owner uid -> dependents
  uint64_t next_watch_id_ = 1;
  std::string root_ca_pem_;
  cluster_ip_allocator cluster_ips_;
};

}  // namespace kubesim
