#include "tools/kubesim/casskop_standin.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <set>

#include <fmt/format.h>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include "k8s/json.h"
#include "tools/kubesim/api_error.h"
#include "tools/kubesim/casskop_status.h"
#include "tools/kubesim/cluster_state.h"
#include "tools/kubesim/object_meta.h"

namespace kubesim {
namespace net = boost::asio;
namespace js = k8s::json;

namespace {

constexpr int kMinRetryMs = 100;
constexpr int kMaxRetryMs = 5000;
constexpr std::string_view kCrdName = "cassandraclusters.db.orange.com";

std::string key_of(std::string_view ns, std::string_view name) {
  return fmt::format("{}/{}", ns, name);
}

std::string meta_string(const js::Value& obj, std::string_view key) {
  return std::string(js::get_string(obj, {"metadata", key}));
}

bool terminating(const js::Value& obj) {
  return js::find_path(obj, {"metadata", "deletionTimestamp"}) != nullptr;
}

bool established(const js::Value& crd) {
  if (const auto* conds = js::find_path(crd, {"status", "conditions"}); conds && conds->IsArray())
    for (const auto& c : conds->GetArray())
      if (js::get_string(c, "type") == "Established") return js::get_string(c, "status") == "True";
  return false;
}

const js::Value& spec_of(const js::Value& cc) {
  static const js::Value empty(rapidjson::kObjectType);
  const js::Value* spec = js::find(cc, "spec");
  return spec ? *spec : empty;
}

// What one CassandraCluster's action is at, as far as the stand-in knows.
struct tracked {
  std::string uid;
  std::string ongoing;  // spec key of the action in progress, empty when none
  std::string action;
  std::string start_time;
  uint64_t timer = 0;      // the timer that ends the action; 0 while held or idle
  std::string done_key;    // spec key last brought to Done
  js::Document done_spec;  // that spec, to tell ScaleUp from ScaleDown
  bool has_done_spec = false;
};

}  // namespace

struct casskop_standin::impl : std::enable_shared_from_this<impl> {
  using task = std::function<void(impl&)>;
  // Which watch generation a task belongs to: stopping a watch bumps it, so events and tasks
  // already posted for the old one are dropped.
  using epoch_ref = std::atomic<uint64_t> impl::*;

  impl(net::io_context& io, cluster_state& state, const casskop_options& o)
      : io(io),
        state(state),
        strand(net::make_strand(io)),
        enabled(o.enabled),
        delay_ms(std::max(0, o.delay_ms)),
        crd_type(*state.find_type("apiextensions.k8s.io", "v1", "customresourcedefinitions")) {}

  net::io_context& io;
  cluster_state& state;
  net::strand<net::io_context::executor_type> strand;
  std::atomic<bool> enabled;
  std::atomic<int> delay_ms;
  std::atomic<bool> stopped{false};
  std::atomic<uint64_t> crd_epoch{1};
  std::atomic<uint64_t> cc_epoch{1};
  const resource_type crd_type;

  // Held by every task while it runs and by start(), stop() and set_enabled(): those thus
  // never overlap a task, and stop() returns only once no task touches the store.
  std::mutex running;
  bool started = false;
  uint64_t crd_watch = 0;
  uint64_t cc_watch = 0;
  std::map<uint64_t, std::shared_ptr<net::steady_timer>> timers;
  uint64_t next_timer = 1;
  std::map<std::string, tracked> objects;  // by "ns/name"
  std::set<std::string> queued;            // "ns/name" awaiting a sync
  std::map<std::string, int> retry_ms;     // backoff of objects whose sync failed

  void post(epoch_ref e, uint64_t epoch, task t) {
    net::post(strand, [w = weak_from_this(), e, epoch, t = std::move(t)] {
      if (auto self = w.lock())
        self->run([&](impl& s) {
          if ((s.*e) == epoch) t(s);
        });
    });
  }
  void post(task t) { post(&impl::cc_epoch, cc_epoch, std::move(t)); }

  // A timer whose task runs only if it was not cancelled: cancelling erases it from `timers`.
  uint64_t after(int ms, task t) {
    auto id = next_timer++;
    auto timer = std::make_shared<net::steady_timer>(io, std::chrono::milliseconds(ms));
    timers.emplace(id, timer);
    timer->async_wait(net::bind_executor(
        strand, [w = weak_from_this(), id, t = std::move(t)](const boost::system::error_code& ec) {
          auto self = w.lock();
          if (!self || ec) return;
          self->run([id, &t](impl& s) {
            if (s.timers.erase(id)) t(s);
          });
        }));
    return id;
  }

  void cancel_timer(uint64_t& id) {
    if (auto it = timers.find(id); it != timers.end()) {
      it->second->cancel();
      timers.erase(it);
    }
    id = 0;
  }

  void run(const task& t) {
    std::lock_guard lock(running);
    if (stopped) return;
    try {
      t(*this);
    } catch (const std::exception& e) {
      std::cerr << "kubesim: casskop: " << e.what() << "\n";
    }
  }

  void start();
  void stop();
  void set_enabled(bool on);

  // With `running` held.
  void watch_crds();
  void stop_all();
  void forget_clusters();
  void forget(const std::string& key);

  // Tasks, on the strand.
  void on_crd_event(const char* type, const snapshot_ptr& obj);
  void on_cc_event(const char* type, const snapshot_ptr& obj);
  void enqueue(const std::string& ns, const std::string& name);
  void sync_with_retry(const std::string& ns, const std::string& name);
  void sync(const std::string& ns, const std::string& name);
  void finish(const std::string& ns, const std::string& name, const std::string& target);

  std::optional<resource_type> cc_type() const {
    return state.find_type("db.orange.com", "v2", "cassandraclusters");
  }
  snapshot_ptr get_or_null(const resource_type& t, const std::string& ns, const std::string& name);
  void write(const resource_type& t, const snapshot& cc, const casskop::step& s);
};

namespace {

// Forwards watch events to the strand: called under the cluster lock, so it only posts.
class event_sink : public watch_sink {
 public:
  using impl = casskop_standin::impl;
  using handler = void (impl::*)(const char*, const snapshot_ptr&);
  event_sink(std::weak_ptr<impl> owner, impl::epoch_ref e, uint64_t epoch, handler h)
      : owner_(std::move(owner)), epoch_ref_(e), epoch_(epoch), handler_(h) {}

  bool deliver(const watch_event& e) override {
    auto self = owner_.lock();
    if (!self || self->stopped || ((*self).*epoch_ref_) != epoch_) return false;
    if (!e.object) return true;  // bookmark
    self->post(epoch_ref_, epoch_,
               [type = e.type, obj = e.object, h = handler_](impl& s) { (s.*h)(type, obj); });
    return true;
  }

 private:
  std::weak_ptr<impl> owner_;
  impl::epoch_ref epoch_ref_;
  uint64_t epoch_;
  handler handler_;
};

}  // namespace

void casskop_standin::impl::start() {
  std::lock_guard lock(running);
  if (stopped || started) return;
  started = true;
  if (enabled) watch_crds();
}

void casskop_standin::impl::stop() {
  std::lock_guard lock(running);
  if (stopped.exchange(true)) return;
  stop_all();
}

void casskop_standin::impl::set_enabled(bool on) {
  std::lock_guard lock(running);
  if (stopped) return;
  enabled = on;
  if (!started) return;
  if (on)
    watch_crds();
  else
    stop_all();
}

// The CassandraCluster watch starts once the CRD is Established, whenever that happens.
void casskop_standin::impl::watch_crds() {
  if (crd_watch) return;
  crd_watch = state.watch(crd_type, {},
                          std::make_shared<event_sink>(weak_from_this(), &impl::crd_epoch,
                                                       crd_epoch, &impl::on_crd_event));
}

void casskop_standin::impl::stop_all() {
  if (crd_watch) state.unwatch(crd_watch);
  crd_watch = 0;
  ++crd_epoch;
  forget_clusters();
}

void casskop_standin::impl::forget_clusters() {
  if (cc_watch) state.unwatch(cc_watch);
  cc_watch = 0;
  ++cc_epoch;
  for (auto& [id, timer] : timers) timer->cancel();
  timers.clear();
  objects.clear();
  queued.clear();
  retry_ms.clear();
}

void casskop_standin::impl::forget(const std::string& key) {
  if (auto it = objects.find(key); it != objects.end()) {
    cancel_timer(it->second.timer);
    objects.erase(it);
  }
  retry_ms.erase(key);
}

void casskop_standin::impl::on_crd_event(const char* type, const snapshot_ptr& obj) {
  if (meta_string(obj->doc, "name") != kCrdName) return;
  bool usable =
      std::string_view(type) != "DELETED" && established(obj->doc) && !terminating(obj->doc);
  if (!usable) {
    // Deleting the CRD deletes the objects: nothing is left to move.
    if (cc_watch) forget_clusters();
    return;
  }
  if (cc_watch) return;
  auto t = cc_type();
  if (!t) return;  // v2 not served
  cc_watch = state.watch(*t, {},
                         std::make_shared<event_sink>(weak_from_this(), &impl::cc_epoch, cc_epoch,
                                                      &impl::on_cc_event));
}

void casskop_standin::impl::on_cc_event(const char* type, const snapshot_ptr& obj) {
  std::string ns = meta_string(obj->doc, "namespace");
  std::string name = meta_string(obj->doc, "name");
  if (std::string_view(type) == "DELETED")
    forget(key_of(ns, name));
  else
    enqueue(ns, name);
}

void casskop_standin::impl::enqueue(const std::string& ns, const std::string& name) {
  if (!queued.insert(key_of(ns, name)).second) return;  // a sync is already on its way
  post([ns, name](impl& s) {
    s.queued.erase(key_of(ns, name));
    s.sync_with_retry(ns, name);
  });
}

void casskop_standin::impl::sync_with_retry(const std::string& ns, const std::string& name) {
  auto key = key_of(ns, name);
  try {
    sync(ns, name);
    retry_ms.erase(key);
  } catch (const std::exception& e) {
    auto* api = dynamic_cast<const api_error*>(&e);
    if (api && api->code == 404) return forget(key);
    // A conflict with another writer: look again later, as a controller requeues.
    int& delay = retry_ms[key];
    delay = std::clamp(delay * 2, kMinRetryMs, kMaxRetryMs);
    if (!api) std::cerr << "kubesim: casskop: sync of " << key << ": " << e.what() << "\n";
    after(delay, [ns, name](impl& s) { s.enqueue(ns, name); });
  }
}

snapshot_ptr casskop_standin::impl::get_or_null(const resource_type& t, const std::string& ns,
                                                const std::string& name) {
  try {
    return state.get(t, ns, name);
  } catch (const api_error& e) {
    if (e.code == 404) return nullptr;
    throw;
  }
}

namespace {

// What identifies the spec: the generation with a status subresource; a digest of .spec
// without one, where status writes bump the generation too.
std::string spec_key(const resource_type& t, const js::Value& cc) {
  if (t.has_status) return fmt::format("g{}", js::get_int(cc, {"metadata", "generation"}, 0));
  return "h" + casskop::spec_hash(cc);
}

// The status already says Done for this spec.
bool done_for(const resource_type& t, const js::Value& cc, const tracked& tr,
              const std::string& key) {
  if (js::get_string(cc, {"status", "phase"}) != "Running" ||
      js::get_string(cc, {"status", "lastClusterActionStatus"}) != "Done")
    return false;
  if (t.has_status)
    return js::get_int(cc, {"status", "observedGeneration"}, -1) ==
           js::get_int(cc, {"metadata", "generation"}, 0);
  // Without a record (a restart, just enabled), a Done status is taken as describing the spec.
  return tr.done_key == key || (tr.done_key.empty() && tr.ongoing.empty());
}

void remember_done(tracked& tr, const std::string& key, const js::Value& cc) {
  if (tr.done_key == key && tr.has_done_spec) return;
  tr.done_key = key;
  tr.done_spec.CopyFrom(spec_of(cc), tr.done_spec.GetAllocator());
  tr.has_done_spec = true;
}

}  // namespace

// Level-triggered: from the object as it is now, start, restart, hold or leave its action.
void casskop_standin::impl::sync(const std::string& ns, const std::string& name) {
  const auto key = key_of(ns, name);
  auto type = cc_type();
  snapshot_ptr cc = type ? get_or_null(*type, ns, name) : nullptr;
  if (!cc || terminating(cc->doc)) return forget(key);
  const js::Value& doc = cc->doc;
  auto& tr = objects[key];
  if (auto uid = meta_string(doc, "uid"); tr.uid != uid) {  // deleted and created again
    cancel_timer(tr.timer);
    tr = tracked{};
    tr.uid = uid;
  }
  const std::string target = spec_key(*type, doc);
  if (done_for(*type, doc, tr, target)) {
    cancel_timer(tr.timer);
    tr.ongoing.clear();
    remember_done(tr, target, doc);
    return;
  }
  if (tr.ongoing != target) {
    // A new action, or a newer spec during one: only the newest spec ever reaches Done.
    cancel_timer(tr.timer);
    tr.ongoing = target;
    bool initialized = js::get_string(doc, {"status", "phase"}) == "Running";
    tr.action = initialized ? casskop::change_action(tr.has_done_spec ? &tr.done_spec : nullptr,
                                                     spec_of(doc))
                            : "Initializing";
    tr.start_time = now_rfc3339();
  }
  // Written on every sync, so a status someone else changed is put back (no-op otherwise).
  write(*type, *cc,
        {tr.action == "Initializing" ? "Initializing" : "Running", tr.action, "Ongoing",
         tr.start_time, "", std::nullopt});
  if (casskop::held(doc)) return cancel_timer(tr.timer);
  if (!tr.timer)
    tr.timer = after(delay_ms, [ns, name, target](impl& s) { s.finish(ns, name, target); });
}

// The action's delay is over: Done, if the object still wants what the action was for.
void casskop_standin::impl::finish(const std::string& ns, const std::string& name,
                                   const std::string& target) {
  const auto key = key_of(ns, name);
  auto it = objects.find(key);
  if (it == objects.end()) return;
  tracked& tr = it->second;
  tr.timer = 0;
  auto type = cc_type();
  snapshot_ptr cc = type ? get_or_null(*type, ns, name) : nullptr;
  if (!cc || terminating(cc->doc)) return forget(key);
  const js::Value& doc = cc->doc;
  if (tr.uid != meta_string(doc, "uid") || tr.ongoing != target || spec_key(*type, doc) != target ||
      casskop::held(doc))
    return enqueue(ns, name);
  long long generation = js::get_int(doc, {"metadata", "generation"}, 0);
  // Without a status subresource this very write bumps the generation (it is checked against
  // the resourceVersion read): name the generation the object will have.
  long long observed = type->has_status ? generation : generation + 1;
  try {
    write(*type, *cc,
          {"Running", tr.action, "Done", tr.start_time, now_rfc3339(), std::optional(observed)});
  } catch (const api_error& e) {
    if (e.code == 404) return forget(key);
    // Changed since read: finish on the newest object (a spec change cancels this).
    tr.timer = after(kMinRetryMs, [ns, name, target](impl& s) { s.finish(ns, name, target); });
    return;
  }
  tr.ongoing.clear();
  remember_done(tr, target, doc);
}

void casskop_standin::impl::write(const resource_type& t, const snapshot& cc,
                                  const casskop::step& s) {
  // Through the status subresource when there is one, else as a plain write as CassKop does.
  state.patch(t, meta_string(cc.doc, "namespace"), meta_string(cc.doc, "name"), patch_type::merge,
              casskop::status_patch(cc.doc, cc.rv, s), t.has_status, {});
}

casskop_standin::casskop_standin(net::io_context& io, cluster_state& state, casskop_options options)
    : impl_(std::make_shared<impl>(io, state, options)) {}

casskop_standin::~casskop_standin() {
  stop();
}

void casskop_standin::start() {
  impl_->start();
}
void casskop_standin::stop() {
  impl_->stop();
}
void casskop_standin::set_enabled(bool enabled) {
  impl_->set_enabled(enabled);
}
bool casskop_standin::enabled() const {
  return impl_->enabled;
}
void casskop_standin::set_delay_ms(int ms) {
  impl_->delay_ms = std::max(0, ms);
}
int casskop_standin::delay_ms() const {
  return impl_->delay_ms;
}

}  // namespace kubesim
