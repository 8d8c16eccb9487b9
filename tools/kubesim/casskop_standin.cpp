#include "tools/kubesim/casskop_standin.h"

#include <algorithm>
#include <atomic>
#include <map>
#include <optional>

#include <fmt/format.h>

#include "k8s/base/timestamps.h"
#include "k8s/json/json.h"
#include "tools/kubesim/api_error.h"
#include "tools/kubesim/casskop_original.h"
#include "tools/kubesim/casskop_refusal.h"
#include "tools/kubesim/casskop_status.h"
#include "tools/kubesim/cluster_state.h"
#include "tools/kubesim/controller_base.h"
#include "tools/kubesim/object_meta.h"

namespace kubesim {
namespace net = boost::asio;
namespace js = k8s::json;

namespace {

constexpr std::string_view kCrdName = "cassandraclusters.db.orange.com";

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

// Two watch generations: the CRD watch's, and the CassandraCluster watch's, which the work
// queue's syncs belong to (letting go of the objects drops the syncs already queued).
struct casskop_standin::impl : controller_base<casskop_standin::impl> {
  impl(net::io_context& io, cluster_state& state, const casskop_options& o)
      : controller_base(io, state, "casskop", "CassandraCluster", &impl::cc_epoch),
        enabled(o.enabled),
        delay_ms(std::max(0, o.delay_ms)),
        original(o.flavor == kOriginalFlavor),
        time_scale(o.time_scale),
        crd_type(*state.find_type("apiextensions.k8s.io", "v1", "customresourcedefinitions")) {}

  std::atomic<bool> enabled;
  std::atomic<int> delay_ms;
  std::atomic<bool> original;  // the v2.1.0 flavor
  std::atomic<double> time_scale;
  std::atomic<uint64_t> crd_epoch{1};
  std::atomic<uint64_t> cc_epoch{1};
  const resource_type crd_type;

  // With `running` held (start(), stop() and set_enabled() take it too).
  bool started = false;
  uint64_t crd_watch = 0;
  uint64_t cc_watch = 0;
  std::map<std::string, tracked> objects;  // by "ns/name" (observed-generation flavor)
  // v2.1.0 flavor, by "ns/name": what CassKop remembers, its next requeue, and how often in a
  // row it asked to be requeued at once (controller-runtime's per-item rate limiter).
  std::map<std::string, casskop::original_memory> originals;
  std::map<std::string, uint64_t> requeue_timers;
  std::map<std::string, int> immediate_requeues;

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
  void sync(const std::string& ns, const std::string& name);
  void sync_observed_generation(const std::string& ns, const std::string& name);
  void sync_original(const std::string& ns, const std::string& name);
  void requeue(const std::string& ns, const std::string& name, int64_t after_ms);
  void finish(const std::string& ns, const std::string& name, const std::string& target);
  void correct_crd_config(const resource_type& t, const snapshot& cc, tracked& tr,
                          const js::Value& corrected);

  std::optional<resource_type> cc_type() const {
    return state.find_type("db.orange.com", "v2", "cassandraclusters");
  }
  // False when the object is gone.
  bool write(const resource_type& t, const snapshot& cc, const casskop::step& s);
};

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
  if (!crd_watch) crd_watch = watch(crd_type, &impl::on_crd_event, &impl::crd_epoch);
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
  cancel_timers();
  objects.clear();
  originals.clear();
  requeue_timers.clear();
  immediate_requeues.clear();
  queued.clear();
  retry_ms.clear();
}

void casskop_standin::impl::forget(const std::string& key) {
  if (auto it = objects.find(key); it != objects.end()) {
    cancel_timer(it->second.timer);
    objects.erase(it);
  }
  if (auto it = requeue_timers.find(key); it != requeue_timers.end()) {
    cancel_timer(it->second);
    requeue_timers.erase(it);
  }
  originals.erase(key);
  immediate_requeues.erase(key);
  retry_ms.erase(key);
}

void casskop_standin::impl::on_crd_event(const char* type, const snapshot_ptr& obj) {
  if (meta_string(obj->doc, "name") != kCrdName) return;
  bool usable = std::string_view(type) != "DELETED" && established(obj->doc) &&
                !has_deletion_timestamp(obj->doc);
  if (!usable) {
    // Deleting the CRD deletes the objects: nothing is left to move.
    if (cc_watch) forget_clusters();
    return;
  }
  if (cc_watch) return;
  auto t = cc_type();
  if (!t) return;  // v2 not served
  cc_watch = watch(*t, &impl::on_cc_event, &impl::cc_epoch);
}

void casskop_standin::impl::on_cc_event(const char* type, const snapshot_ptr& obj) {
  std::string ns = meta_string(obj->doc, "namespace");
  std::string name = meta_string(obj->doc, "name");
  if (std::string_view(type) == "DELETED")
    forget(key_of(ns, name));
  else
    enqueue(ns, name);
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

void casskop_standin::impl::sync(const std::string& ns, const std::string& name) {
  if (original)
    sync_original(ns, name);
  else
    sync_observed_generation(ns, name);
}

// One Reconcile of CassKop v2.1.0, and its write: a PUT of the whole object with the
// resourceVersion it read (a conflict is retried with backoff, as its failed Update is).
void casskop_standin::impl::sync_original(const std::string& ns, const std::string& name) {
  const auto key = key_of(ns, name);
  auto type = cc_type();
  snapshot_ptr cc = type ? get_or_null(*type, ns, name) : nullptr;
  if (!cc) return forget(key);
  const double scale = time_scale;
  casskop::original_pace pace;
  pace.requeue_ms = static_cast<int64_t>(pace.requeue_ms * scale);
  pace.check_delay_ms = static_cast<int64_t>(pace.check_delay_ms * scale);
  pace.refused_requeue_ms = static_cast<int64_t>(pace.refused_requeue_ms * scale);
  pace.rack_ready_ms = delay_ms;
  auto pass = casskop::reconcile_original(cc->doc, originals[key], k8s::now_unix_ms(), pace,
                                          casskop::held(cc->doc));
  if (pass.update) {
    try {
      state.update(*type, ns, name, std::move(*pass.update), false, {});
    } catch (const api_error& e) {
      if (e.code == 404) return forget(key);
      throw;
    }
  }
  requeue(ns, name, pass.requeue_after_ms);
}

// Requeue: after `after_ms`, or at once rate limited per object (5 ms doubling up to 1000 s, as
// controller-runtime's default limiter), the earliest one winning.
void casskop_standin::impl::requeue(const std::string& ns, const std::string& name,
                                    int64_t after_ms) {
  const auto key = key_of(ns, name);
  int& n = immediate_requeues[key];
  if (after_ms > 0) {
    n = 0;
  } else {
    after_ms = std::min<int64_t>(int64_t{5} << std::min(n, 20), 1000 * 1000);
    ++n;
  }
  uint64_t& timer = requeue_timers[key];
  cancel_timer(timer);
  timer = after(static_cast<int>(after_ms), [ns, name](impl& s) {
    s.requeue_timers.erase(key_of(ns, name));
    s.enqueue(ns, name);
  });
}

// Level-triggered: from the object as it is now, start, restart, hold or leave its action.
void casskop_standin::impl::sync_observed_generation(const std::string& ns,
                                                     const std::string& name) {
  const auto key = key_of(ns, name);
  auto type = cc_type();
  snapshot_ptr cc = type ? get_or_null(*type, ns, name) : nullptr;
  if (!cc || has_deletion_timestamp(cc->doc)) return forget(key);
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
  // A new spec CassKop v2.1.0 would refuse, compared with the last one brought to Done.
  if (tr.ongoing != target && tr.has_done_spec && tr.done_key != target) {
    static const js::Value no_status(rapidjson::kObjectType);
    const js::Value* status = js::find(doc, "status");
    if (auto refused = casskop::check_non_allowed_changes(
            tr.done_spec, spec_of(doc), status && status->IsObject() ? *status : no_status))
      return correct_crd_config(*type, *cc, tr, refused->spec);
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
  if (!write(*type, *cc,
             {tr.action == "Initializing" ? "Initializing" : "Running", tr.action, "Ongoing",
              tr.start_time, "", std::nullopt}))
    return forget(key);
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
  if (!cc || has_deletion_timestamp(cc->doc)) return forget(key);
  const js::Value& doc = cc->doc;
  if (tr.uid != meta_string(doc, "uid") || tr.ongoing != target || spec_key(*type, doc) != target ||
      casskop::held(doc))
    return enqueue(ns, name);
  long long generation = js::get_int(doc, {"metadata", "generation"}, 0);
  // Without a status subresource this very write bumps the generation (it is checked against
  // the resourceVersion read): name the generation the object will have.
  long long observed = type->has_status ? generation : generation + 1;
  try {
    if (!write(
            *type, *cc,
            {"Running", tr.action, "Done", tr.start_time, now_rfc3339(), std::optional(observed)}))
      return forget(key);
  } catch (const api_error&) {
    // Changed since read: finish on the newest object (a spec change cancels this).
    tr.timer = after(kMinRetryMs, [ns, name, target](impl& s) { s.finish(ns, name, target); });
    return;
  }
  tr.ongoing.clear();
  remember_done(tr, target, doc);
}

// The observed-generation flavor's CorrectCRDConfig: the old values written back (a plain
// update of the object read), then Running/CorrectCRDConfig/Done for the generation that left.
void casskop_standin::impl::correct_crd_config(const resource_type& t, const snapshot& cc,
                                               tracked& tr, const js::Value& corrected) {
  const std::string ns = meta_string(cc.doc, "namespace"), name = meta_string(cc.doc, "name");
  js::Document body = js::copy_of(cc.doc);
  js::set_member(body, "spec", js::Value(corrected, body.GetAllocator()), body.GetAllocator());
  snapshot_ptr written;
  try {
    written = state.update(t, ns, name, std::move(body), false, {});
  } catch (const api_error& e) {
    if (e.code == 404) return forget(key_of(ns, name));
    throw;
  }
  cancel_timer(tr.timer);
  tr.timer = 0;
  tr.ongoing.clear();
  const long long generation = js::get_int(written->doc, {"metadata", "generation"}, 0);
  const auto now = now_rfc3339();
  if (!write(t, *written,
             {"Running", casskop::kCorrectCRDConfig, "Done", now, now,
              std::optional(t.has_status ? generation : generation + 1)}))
    return forget(key_of(ns, name));
  remember_done(tr, spec_key(t, written->doc), written->doc);
}

bool casskop_standin::impl::write(const resource_type& t, const snapshot& cc,
                                  const casskop::step& s) {
  // Through the status subresource when there is one, else as a plain write as CassKop does.
  try {
    state.patch(t, meta_string(cc.doc, "namespace"), meta_string(cc.doc, "name"), patch_type::merge,
                casskop::status_patch(cc.doc, cc.rv, s), t.has_status, {});
    return true;
  } catch (const api_error& e) {
    if (e.code == 404) return false;
    throw;
  }
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
void casskop_standin::set_flavor(const std::string& flavor) {
  if (flavor != kOriginalFlavor && flavor != kObservedGenerationFlavor)
    throw std::invalid_argument(
        fmt::format("flavor must be {} or {}", kOriginalFlavor, kObservedGenerationFlavor));
  const bool original = flavor == kOriginalFlavor;
  if (impl_->original == original) return;
  // Off and on again: what one flavor remembered means nothing to the other.
  const bool was = enabled();
  set_enabled(false);
  impl_->original = original;
  set_enabled(was);
}
std::string casskop_standin::flavor() const {
  return impl_->original ? kOriginalFlavor : kObservedGenerationFlavor;
}
void casskop_standin::set_time_scale(double scale) {
  impl_->time_scale = std::max(0.0, scale);
}
double casskop_standin::time_scale() const {
  return impl_->time_scale;
}

}  // namespace kubesim
