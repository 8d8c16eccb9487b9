#include "tools/kubesim/disruption_controller.h"

#include <cmath>
#include <map>
#include <stdexcept>

#include <fmt/format.h>

#include "k8s/base/timestamps.h"
#include "tools/kubesim/cluster_state.h"
#include "tools/kubesim/controller_base.h"
#include "tools/kubesim/object_meta.h"
#include "tools/kubesim/statefulset_logic.h"

namespace kubesim {
namespace net = boost::asio;
namespace js = k8s::json;

namespace pdb {

namespace {

const js::Value* controller_of(const js::Value& pod) {
  if (const auto* refs = js::find_path(pod, {"metadata", "ownerReferences"});
      refs && refs->IsArray())
    for (const auto& r : refs->GetArray())
      if (js::get_bool(r, {"controller"}, false)) return &r;
  return nullptr;
}

bool pod_ready(const js::Value& pod) {
  if (const auto* conds = js::find_path(pod, {"status", "conditions"}); conds && conds->IsArray())
    for (const auto& c : conds->GetArray())
      if (js::get_string(c, "type") == "Ready") return js::get_string(c, "status") == "True";
  return false;
}

// getExpectedScale: the sum of the scales of the pods' controllers; pods without one are
// left out (the real controller only warns with an UnmanagedPods event).
long long expected_scale(const std::vector<const js::Value*>& pods, const scale_finder& scale_of) {
  std::map<std::string, long long> scales;  // by controller uid
  for (const auto* pod : pods) {
    const js::Value* ref = controller_of(*pod);
    if (!ref) continue;
    std::string uid(js::get_string(*ref, "uid"));
    if (scales.count(uid)) continue;
    auto scale = scale_of(*ref);
    if (!scale)
      throw std::runtime_error(fmt::format("found no controllers for pod \"{}\"",
                                           js::get_string(*pod, {"metadata", "name"})));
    scales[uid] = *scale;
  }
  long long total = 0;
  for (const auto& [uid, n] : scales) total += n;
  return total;
}

js::Value condition(const std::string& status, const char* reason, const std::string& message,
                    long long observed_generation, const std::string& since, js::Allocator& a) {
  js::Value c(rapidjson::kObjectType);
  c.AddMember("type", "DisruptionAllowed", a);
  c.AddMember("status", js::string_value(status, a), a);
  if (observed_generation != 0)
    c.AddMember("observedGeneration", static_cast<int64_t>(observed_generation), a);
  c.AddMember("lastTransitionTime", js::string_value(since, a), a);
  c.AddMember("reason", rapidjson::StringRef(reason), a);
  c.AddMember("message", js::string_value(message, a), a);
  return c;
}

}  // namespace

long long scaled_value(const js::Value& v, long long total) {
  if (v.IsInt64()) return v.GetInt64();
  if (!v.IsString())
    throw std::runtime_error(
        "invalid value for IntOrString: invalid type: neither int nor percentage");
  std::string s(js::view(v));
  if (s.empty() || s.back() != '%')
    throw std::runtime_error(
        "invalid value for IntOrString: invalid type: string is not a percentage");
  std::string digits = s.substr(0, s.size() - 1);
  size_t used = 0;
  long long n = 0;
  try {
    n = std::stoll(digits, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (digits.empty() || used != digits.size())
    throw std::runtime_error(fmt::format(
        "invalid value for IntOrString: invalid value \"{}\": strconv.Atoi: parsing \"{}\": "
        "invalid syntax",
        s, digits));
  return static_cast<long long>(
      std::ceil(static_cast<double>(n) * static_cast<double>(total) / 100));
}

counts compute(const js::Value& pdb, const std::vector<const js::Value*>& pods,
               const scale_finder& scale_of, int64_t now_unix_ms) {
  counts c;
  constexpr int64_t kDeletionTimeoutMs = 2 * 60 * 1000;
  if (const auto* old = js::find_path(pdb, {"status", "disruptedPods"}); old && old->IsObject())
    for (const auto* pod : pods) {
      if (js::find_path(*pod, {"metadata", "deletionTimestamp"})) continue;
      const js::Value* since = js::find(*old, js::get_string(*pod, {"metadata", "name"}));
      auto t = since && since->IsString() ? k8s::parse_rfc3339(js::view(*since)) : std::nullopt;
      if (!t) continue;
      const int64_t deadline = k8s::unix_ms(*t) + kDeletionTimeoutMs;
      if (deadline < now_unix_ms) continue;  // expected to be gone by now: dropped
      c.disrupted[std::string(js::get_string(*pod, {"metadata", "name"}))] = js::view(*since);
      if (!c.recheck_unix_ms || deadline < *c.recheck_unix_ms) c.recheck_unix_ms = deadline;
    }
  const js::Value* max_unavailable = js::find_path(pdb, {"spec", "maxUnavailable"});
  const js::Value* min_available = js::find_path(pdb, {"spec", "minAvailable"});
  if (max_unavailable && max_unavailable->IsNull()) max_unavailable = nullptr;
  if (min_available && min_available->IsNull()) min_available = nullptr;
  // getExpectedPodCount: maxUnavailable and percentages count the controllers' replicas, an
  // integer minAvailable counts the pods.
  if (max_unavailable) {
    c.expected = expected_scale(pods, scale_of);
    c.desired_healthy = std::max(0LL, c.expected - scaled_value(*max_unavailable, c.expected));
  } else if (min_available) {
    if (min_available->IsString()) {
      c.expected = expected_scale(pods, scale_of);
      c.desired_healthy = scaled_value(*min_available, c.expected);
    } else {
      c.desired_healthy = min_available->IsInt64() ? min_available->GetInt64() : 0;
      c.expected = static_cast<long long>(pods.size());
    }
  }
  // countHealthyPods: Ready, not being deleted and not about to be (disrupted).
  for (const auto* pod : pods)
    if (!js::find_path(*pod, {"metadata", "deletionTimestamp"}) && pod_ready(*pod) &&
        !c.disrupted.count(std::string(js::get_string(*pod, {"metadata", "name"}))))
      ++c.current_healthy;
  // updatePdbStatus: none allowed while no pod is expected.
  c.disruptions_allowed = c.current_healthy - c.desired_healthy;
  if (c.expected <= 0 || c.disruptions_allowed <= 0) c.disruptions_allowed = 0;
  return c;
}

js::Document status(const js::Value& pdb, const counts& c, const std::string* failure,
                    const std::string& now) {
  js::Document d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  const js::Value* old = js::find(pdb, "status");
  const js::Value empty(rapidjson::kObjectType);
  if (!old || !old->IsObject()) old = &empty;
  const long long generation = js::get_int(pdb, {"metadata", "generation"}, 0);
  // failSafe keeps every count and the old observedGeneration, and only zeroes
  // disruptionsAllowed; updatePdbStatus writes them all anew.
  const long long observed = failure ? js::get_int(*old, {"observedGeneration"}, 0) : generation;
  if (observed != 0) d.AddMember("observedGeneration", static_cast<int64_t>(observed), a);
  if (failure) {
    if (const auto* disrupted = js::find(*old, "disruptedPods");
        disrupted && disrupted->IsObject() && disrupted->MemberCount() > 0)
      d.AddMember("disruptedPods", js::Value(*disrupted, a), a);
  } else if (!c.disrupted.empty()) {
    js::Value disrupted(rapidjson::kObjectType);
    for (const auto& [pod, since] : c.disrupted)
      disrupted.AddMember(js::string_value(pod, a), js::string_value(since, a), a);
    d.AddMember("disruptedPods", disrupted, a);
  }
  auto number = [&](const char* key, long long fresh) {
    long long v = failure ? js::get_int(*old, {key}, 0) : fresh;
    d.AddMember(rapidjson::StringRef(key), static_cast<int64_t>(v), a);
  };
  number("disruptionsAllowed", failure ? 0 : c.disruptions_allowed);
  if (failure) d["disruptionsAllowed"].SetInt64(0);
  number("currentHealthy", c.current_healthy);
  number("desiredHealthy", c.desired_healthy);
  number("expectedPods", c.expected);

  // SetStatusCondition on DisruptionAllowed: lastTransitionTime moves only with the status.
  std::string cond_status = failure || c.disruptions_allowed <= 0 ? "False" : "True";
  const char* reason = failure                     ? "SyncFailed"
                       : c.disruptions_allowed > 0 ? "SufficientPods"
                                                   : "InsufficientPods";
  js::Value conds(rapidjson::kArrayType);
  bool found = false;
  if (const auto* list = js::find(*old, "conditions"); list && list->IsArray())
    for (const auto& oc : list->GetArray()) {
      if (js::get_string(oc, "type") != "DisruptionAllowed") {
        conds.PushBack(js::Value(oc, a), a);
        continue;
      }
      found = true;
      std::string since(js::get_string(oc, "lastTransitionTime"));
      if (js::get_string(oc, "status") != cond_status || since.empty()) since = now;
      conds.PushBack(condition(cond_status, reason, failure ? *failure : "", observed, since, a),
                     a);
    }
  if (!found)
    conds.PushBack(condition(cond_status, reason, failure ? *failure : "", observed, now, a), a);
  d.AddMember("conditions", conds, a);
  return d;
}

}  // namespace pdb

// The work queue holds PodDisruptionBudgets; pod events reach those whose selector matches.
struct disruption_controller::impl : controller_base<disruption_controller::impl> {
  impl(net::io_context& io, cluster_state& state)
      : controller_base(io, state, "disruption", "PodDisruptionBudget", nullptr),
        pdb_type(*state.find_type("policy", "v1", "poddisruptionbudgets")),
        pod_type(*state.find_type("", "v1", "pods")),
        sts_type(*state.find_type("apps", "v1", "statefulsets")),
        deploy_type(*state.find_type("apps", "v1", "deployments")) {}

  const resource_type pdb_type, pod_type, sts_type, deploy_type;
  std::vector<uint64_t> watch_ids;  // with `running` held

  void on_pdb_event(const char*, const snapshot_ptr& obj) {
    enqueue(meta_string(obj->doc, "namespace"), meta_string(obj->doc, "name"));
  }

  void on_pod_event(const char*, const snapshot_ptr& obj) {
    const std::string ns = meta_string(obj->doc, "namespace");
    const js::Value* labels = js::find_path(obj->doc, {"metadata", "labels"});
    for (const auto& p : state.list(pdb_type, ns, {}).items)
      if (const auto* sel = js::find_path(p->doc, {"spec", "selector"});
          sel && sel->IsObject() && sts::selector_matches(*sel, labels))
        enqueue(ns, meta_string(p->doc, "name"));
  }

  // The finders: a StatefulSet's or Deployment's spec.replicas when the uid matches.
  std::optional<long long> scale_of(const js::Value& ref, const std::string& ns) {
    std::string_view kind = js::get_string(ref, "kind");
    if (js::get_string(ref, "apiVersion").substr(0, 5) != "apps/") return std::nullopt;
    const resource_type* t = kind == "StatefulSet"  ? &sts_type
                             : kind == "Deployment" ? &deploy_type
                                                    : nullptr;
    if (!t) return std::nullopt;
    snapshot_ptr owner = get_or_null(*t, ns, std::string(js::get_string(ref, "name")));
    if (!owner || meta_string(owner->doc, "uid") != js::get_string(ref, "uid")) return std::nullopt;
    return js::get_int(owner->doc, {"spec", "replicas"}, 1);
  }

  void sync(const std::string& ns, const std::string& name) {
    snapshot_ptr p = get_or_null(pdb_type, ns, name);
    if (!p) return;
    std::vector<snapshot_ptr> matched;
    const js::Value* sel = js::find_path(p->doc, {"spec", "selector"});
    // A missing selector selects nothing; an empty one every pod of the namespace.
    if (sel && sel->IsObject())
      for (auto& pod : state.list(pod_type, ns, {}).items)
        if (sts::selector_matches(*sel, js::find_path(pod->doc, {"metadata", "labels"})))
          matched.push_back(pod);
    std::vector<const js::Value*> pods;
    for (const auto& m : matched) pods.push_back(&m->doc);
    const std::string now = now_rfc3339();
    js::Document next;
    try {
      const int64_t now_ms = k8s::now_unix_ms();
      auto c = pdb::compute(
          p->doc, pods, [&](const js::Value& ref) { return scale_of(ref, ns); }, now_ms);
      next = pdb::status(p->doc, c, nullptr, now);
      // enqueuePdbForRecheck: look again when the first disrupted pod is overdue.
      if (c.recheck_unix_ms)
        after(static_cast<int>(std::min<int64_t>(*c.recheck_unix_ms - now_ms + 1, 3'600'000)),
              [ns, name](impl& s) { s.enqueue(ns, name); });
    } catch (const std::runtime_error& e) {
      std::string why = e.what();
      next = pdb::status(p->doc, {}, &why, now);
    }
    const js::Value* old = js::find(p->doc, "status");
    if (old && *old == next) return;
    js::Document body = js::copy_of(p->doc);
    js::set_member(body, "status", js::Value(next, body.GetAllocator()), body.GetAllocator());
    // Carries the resourceVersion read: a conflict requeues, as the real one does.
    state.update(pdb_type, ns, name, std::move(body), true, {});
  }
};

disruption_controller::disruption_controller(net::io_context& io, cluster_state& state)
    : impl_(std::make_shared<impl>(io, state)) {}

disruption_controller::~disruption_controller() {
  stop();
}

void disruption_controller::start() {
  std::lock_guard lock(impl_->running);
  if (impl_->stopped || !impl_->watch_ids.empty()) return;
  impl_->watch_ids.push_back(impl_->watch(impl_->pdb_type, &impl::on_pdb_event));
  impl_->watch_ids.push_back(impl_->watch(impl_->pod_type, &impl::on_pod_event));
}

void disruption_controller::stop() {
  std::lock_guard lock(impl_->running);
  if (impl_->stopped.exchange(true)) return;
  for (auto id : impl_->watch_ids) impl_->state.unwatch(id);
  impl_->watch_ids.clear();
  impl_->cancel_timers();
}

}  // namespace kubesim
