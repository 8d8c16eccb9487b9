#include "tools/kubesim/workloads.h"

#include <algorithm>
#include <atomic>
#include <map>
#include <set>

#include <fmt/format.h>

#include "k8s/json/json.h"
#include "tools/kubesim/api_error.h"
#include "tools/kubesim/cassandra_pod_spec.h"
#include "tools/kubesim/cassandra_pods.h"
#include "tools/kubesim/cluster_state.h"
#include "tools/kubesim/controller_base.h"
#include "tools/kubesim/controller_history.h"
#include "tools/kubesim/object_meta.h"
#include "tools/kubesim/statefulset_logic.h"

namespace kubesim {
namespace net = boost::asio;
namespace js = k8s::json;

namespace {

constexpr std::string_view kHostIP = "172.18.0.2";

const js::Value* controller_ref(const js::Value& obj) {
  if (const auto* refs = js::find_path(obj, {"metadata", "ownerReferences"});
      refs && refs->IsArray())
    for (const auto& r : refs->GetArray())
      if (js::get_bool(r, {"controller"}, false)) return &r;
  return nullptr;
}

// "docker.io/library/nginx@sha256:<digest>", the form containerd reports.
std::string image_id(std::string_view image) {
  std::string repo(image.substr(0, image.find('@')));
  auto slash = repo.rfind('/');
  auto colon = repo.rfind(':');
  if (colon != std::string::npos && (slash == std::string::npos || colon > slash))
    repo.resize(colon);
  auto first = repo.substr(0, repo.find('/'));
  if (repo.find('/') == std::string::npos)
    repo = "docker.io/library/" + repo;
  else if (first.find('.') == std::string::npos && first.find(':') == std::string::npos &&
           first != "localhost")
    repo = "docker.io/" + repo;
  return repo + "@sha256:" + sts::stable_hex(image, 64);
}

js::Value container_status(const js::Value& c, const std::string& pod_uid, bool init,
                           const std::string& now, js::Allocator& a) {
  std::string name(js::get_string(c, "name"));
  std::string image(js::get_string(c, "image"));
  std::string id = "containerd://" + sts::stable_hex(pod_uid + "/" + name, 64);
  js::Value state(rapidjson::kObjectType);
  js::Value detail(rapidjson::kObjectType);
  if (init) {
    detail.AddMember("containerID", js::string_value(id, a), a);
    detail.AddMember("exitCode", 0, a);
    detail.AddMember("finishedAt", js::string_value(now, a), a);
    detail.AddMember("reason", "Completed", a);
    detail.AddMember("startedAt", js::string_value(now, a), a);
    state.AddMember("terminated", detail, a);
  } else {
    detail.AddMember("startedAt", js::string_value(now, a), a);
    state.AddMember("running", detail, a);
  }
  js::Value s(rapidjson::kObjectType);
  s.AddMember("containerID", js::string_value(id, a), a);
  s.AddMember("image", js::string_value(image, a), a);
  s.AddMember("imageID", js::string_value(image_id(image), a), a);
  s.AddMember("lastState", js::Value(rapidjson::kObjectType), a);
  s.AddMember("name", js::string_value(name, a), a);
  s.AddMember("ready", true, a);
  s.AddMember("restartCount", 0, a);
  s.AddMember("started", !init, a);
  s.AddMember("state", state, a);
  return s;
}

// Statuses of spec.<key> containers, sorted by name as the kubelet reports them.
js::Value container_statuses(const js::Value& pod, std::string_view key, bool init,
                             const std::string& now, js::Allocator& a) {
  js::Value out(rapidjson::kArrayType);
  const auto* list = js::find_path(pod, {"spec", key});
  if (!list || !list->IsArray()) return out;
  std::vector<const js::Value*> sorted;
  for (const auto& c : list->GetArray()) sorted.push_back(&c);
  if (!init)
    std::sort(sorted.begin(), sorted.end(), [](auto* x, auto* y) {
      return js::get_string(*x, "name") < js::get_string(*y, "name");
    });
  std::string uid = meta_string(pod, "uid");
  for (const auto* c : sorted) out.PushBack(container_status(*c, uid, init, now, a), a);
  return out;
}

js::Value ip_list(std::string_view ip, js::Allocator& a) {
  js::Value list(rapidjson::kArrayType);
  js::Value entry(rapidjson::kObjectType);
  entry.AddMember("ip", js::string_value(ip, a), a);
  list.PushBack(entry, a);
  return list;
}

// The merge patch of the status subresource the kubelet writes once all containers run and
// pass readiness. It carries the resourceVersion it was computed from, so a pod replaced in
// the meantime is not marked. A Cassandra pod starts not Ready: its probe decides later.
std::string running_status_patch(const snapshot& pod, const std::string& pod_ip, bool cassandra) {
  const js::Value& p = pod.doc;
  const std::string now = now_rfc3339();
  js::Document d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  js::Value meta(rapidjson::kObjectType);
  meta.AddMember("resourceVersion", js::string_value(std::to_string(pod.rv), a), a);
  js::Value status(rapidjson::kObjectType);
  status.AddMember("phase", "Running", a);
  js::Value conds(rapidjson::kArrayType);
  for (const char* type :
       {"PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled"}) {
    js::Value c(rapidjson::kObjectType);
    c.AddMember("type", rapidjson::StringRef(type), a);
    const bool waits_for_probe = cassandra && (std::string_view(type) == "Ready" ||
                                               std::string_view(type) == "ContainersReady");
    c.AddMember("status", rapidjson::StringRef(waits_for_probe ? "False" : "True"), a);
    c.AddMember("lastProbeTime", js::Value(), a);
    c.AddMember("lastTransitionTime", js::string_value(now, a), a);
    conds.PushBack(c, a);
  }
  status.AddMember("conditions", conds, a);
  status.AddMember("hostIP", js::string_value(kHostIP, a), a);
  status.AddMember("hostIPs", ip_list(kHostIP, a), a);
  status.AddMember("podIP", js::string_value(pod_ip, a), a);
  status.AddMember("podIPs", ip_list(pod_ip, a), a);
  status.AddMember("startTime", js::string_value(now, a), a);
  auto init = container_statuses(p, "initContainers", true, now, a);
  if (!init.Empty()) status.AddMember("initContainerStatuses", init, a);
  auto containers = container_statuses(p, "containers", false, now, a);
  if (cassandra)
    for (auto& c : containers.GetArray())
      if (js::get_string(c, "name") == "cassandra") js::set_member(c, "ready", js::Value(false), a);
  status.AddMember("containerStatuses", containers, a);
  d.AddMember("metadata", meta, a);
  d.AddMember("status", status, a);
  return js::to_string(d);
}

}  // namespace

// The work queue holds StatefulSets; pod events reach them through their owner.
struct workload_simulator::impl : controller_base<workload_simulator::impl> {
  impl(net::io_context& io, cluster_state& state, int delay_ms, cassandra_pods* cassandra)
      : controller_base(io, state, "workloads", "StatefulSet", nullptr),
        delay_ms(std::max(0, delay_ms)),
        cassandra(cassandra),
        sts_type(*state.find_type("apps", "v1", "statefulsets")),
        pod_type(*state.find_type("", "v1", "pods")),
        pvc_type(*state.find_type("", "v1", "persistentvolumeclaims")),
        revision_type(*state.find_type("apps", "v1", "controllerrevisions")),
        node_name(state.name() + "-control-plane") {}

  std::atomic<int> delay_ms;
  cassandra_pods* const cassandra;  // nullptr: no pod runs as a Cassandra node
  const resource_type sts_type, pod_type, pvc_type, revision_type;
  const std::string node_name;

  // With `running` held.
  std::vector<uint64_t> watch_ids;

  // Used by tasks only.
  std::set<std::string> kubelet_pods;  // uids of pods the kubelet has taken on
  unsigned next_pod_ip = 0;
  std::map<std::string, std::string> cassandra_ips;  // by pod uid: nodes already started

  // A StatefulSet's ControllerRevisions once its update revision exists (getStatefulSetRevisions).
  struct revision_set {
    std::map<std::string, js::Document> templates;  // pod template by revision name
    std::vector<history::revision_info> sorted;
    std::string current, update;
    int32_t collision_count = 0;
  };

  void start();
  void stop();

  // Watch events, on the strand.
  void on_set_event(const char* type, const snapshot_ptr& obj);
  void on_pod_event(const char* type, const snapshot_ptr& obj);
  void on_revision_event(const char* type, const snapshot_ptr& obj);

  void sync(const std::string& ns, const std::string& name);
  std::vector<std::pair<int, snapshot_ptr>> member_pods(const snapshot& set,
                                                        const sts::set_spec& spec);
  void ensure_claims(const js::Value& set, const std::string& ns, int ordinal);
  snapshot_ptr adopt(const resource_type& t, const snapshot& orphan, const js::Value& set);
  revision_set sync_revisions(const snapshot& set, const js::Value& pod_template);
  void truncate_history(const js::Value& set, const revision_set& revs,
                        const std::vector<sts::pod_state>& pods);
  void write_status(const snapshot& set, const sts::set_status& st);
  void start_pod(const std::string& ns, const std::string& name, const std::string& uid);
};

void workload_simulator::impl::start() {
  std::lock_guard lock(running);
  if (stopped || !watch_ids.empty()) return;
  watch_ids.push_back(watch(sts_type, &impl::on_set_event));
  watch_ids.push_back(watch(pod_type, &impl::on_pod_event));
  watch_ids.push_back(watch(revision_type, &impl::on_revision_event));
}

void workload_simulator::impl::stop() {
  std::lock_guard lock(running);
  if (stopped.exchange(true)) return;
  for (auto id : watch_ids) state.unwatch(id);
  watch_ids.clear();
  cancel_timers();
}

void workload_simulator::impl::on_set_event(const char*, const snapshot_ptr& obj) {
  enqueue(meta_string(obj->doc, "namespace"), meta_string(obj->doc, "name"));
}

// A revision changed or went away: its StatefulSet syncs (and creates it again if needed).
void workload_simulator::impl::on_revision_event(const char*, const snapshot_ptr& obj) {
  if (const js::Value* ref = controller_ref(obj->doc);
      ref && js::get_string(*ref, "kind") == "StatefulSet")
    enqueue(meta_string(obj->doc, "namespace"), std::string(js::get_string(*ref, "name")));
}

void workload_simulator::impl::on_pod_event(const char* type, const snapshot_ptr& obj) {
  const js::Value& pod = obj->doc;
  std::string ns = meta_string(pod, "namespace");
  std::string name = meta_string(pod, "name");
  std::string uid = meta_string(pod, "uid");
  bool deleted = std::string_view(type) == "DELETED";
  // Kubelet: every pod that is Pending starts after the ready delay.
  // A Cassandra pod starts at once: its readiness probe takes the ready delay's place.
  if (deleted) {
    kubelet_pods.erase(uid);
    if (cassandra && cassandra_ips.erase(uid)) cassandra->pod_gone(state.name(), ns, name, uid);
  } else if (js::get_string(pod, {"status", "phase"}) == "Pending" &&
             !has_deletion_timestamp(pod) && kubelet_pods.insert(uid).second) {
    int delay = cassandra && runs_cassandra(pod) ? 0 : delay_ms.load();
    after(delay, [ns, name, uid](impl& s) { s.start_pod(ns, name, uid); });
  }
  // Controller: the pod's StatefulSet, or the one that may adopt it.
  if (const js::Value* ref = controller_ref(pod)) {
    if (js::get_string(*ref, "kind") == "StatefulSet" &&
        js::get_string(*ref, "apiVersion").substr(0, 5) == "apps/")
      enqueue(ns, std::string(js::get_string(*ref, "name")));
  } else if (auto parent = sts::parent_of(name); parent && !deleted) {
    enqueue(ns, *parent);
  }
}

void workload_simulator::impl::sync(const std::string& ns, const std::string& name) {
  snapshot_ptr set = get_or_null(sts_type, ns, name);
  if (!set) {
    retry_ms.erase(key_of(ns, name));
    return;
  }
  const js::Value& doc = set->doc;
  const js::Value* tmpl = js::find_path(doc, {"spec", "template"});
  // Being deleted: garbage collection takes the pods, the controller lets go.
  if (has_deletion_timestamp(doc) || !tmpl || !tmpl->IsObject()) return;
  const auto spec = sts::read_spec(doc);
  auto revisions = sync_revisions(*set, *tmpl);
  const sts::revisions revs{revisions.current, revisions.update};
  const auto& known = revisions.templates;

  auto pods = member_pods(*set, spec);
  std::vector<sts::pod_state> states;
  std::map<int, std::string> uids;
  for (const auto& [ordinal, pod] : pods) {
    states.push_back(sts::read_pod(pod->doc, ordinal));
    uids[ordinal] = meta_string(pod->doc, "uid");
    // A pending pod whose claim went missing gets it again (createMissingPersistentVolumeClaims).
    if (js::get_string(pod->doc, {"status", "phase"}) == "Pending") ensure_claims(doc, ns, ordinal);
  }

  const auto steps = sts::plan(spec, states, revs);
  for (const auto& step : steps) {
    const std::string pod = sts::pod_name(name, step.ordinal);
    if (step.kind == sts::step_kind::create) {
      ensure_claims(doc, ns, step.ordinal);
      state.create(pod_type, ns,
                   sts::build_pod(doc, known.at(step.revision), step.ordinal, step.revision), {});
    } else {
      delete_options opts;
      opts.precondition_uid = uids[step.ordinal];
      try {
        state.remove(pod_type, ns, pod, opts);
      } catch (const api_error& e) {
        if (e.code != 404) throw;
      }
    }
  }
  // Our writes come back as events and sync again; the status waits for a sync that writes
  // nothing, so it always describes pods as they are.
  if (steps.empty()) {
    auto status = sts::compute_status(spec, states, revs);
    status.collision_count = revisions.collision_count;
    write_status(*set, status);
  }
  truncate_history(doc, revisions, states);
}

// getStatefulSetRevisions: the set's revisions (those it controls), the update revision for
// its template: the latest revision when its data is the template's, an older equal one moved
// to the next revision number (a rollback), else a new one; a name taken by other data bumps
// collisionCount. The current revision is status.currentRevision while it exists.
workload_simulator::impl::revision_set workload_simulator::impl::sync_revisions(
    const snapshot& set, const js::Value& pod_template) {
  const js::Value& doc = set.doc;
  const std::string ns = meta_string(doc, "namespace");
  const std::string uid = meta_string(doc, "uid");
  revision_set out;
  std::map<std::string, snapshot_ptr> owned;
  const js::Value* selector = js::find_path(doc, {"spec", "selector"});
  for (auto cr : state.list(revision_type, ns, {}).items) {
    const js::Value* ref = controller_ref(cr->doc);
    if (ref && js::get_string(*ref, "uid") != uid) continue;
    // ClaimControllerRevisions: an orphan the selector matches is adopted.
    if (!ref) {
      if (!selector || has_deletion_timestamp(cr->doc) ||
          !sts::selector_matches(*selector, js::find_path(cr->doc, {"metadata", "labels"})))
        continue;
      cr = adopt(revision_type, *cr, doc);
    }
    std::string name = meta_string(cr->doc, "name");
    out.sorted.push_back(
        {name, js::get_int(cr->doc, {"revision"}, 0), meta_string(cr->doc, "creationTimestamp")});
    owned[name] = cr;
  }
  history::sort_revisions(out.sorted);
  out.collision_count = static_cast<int32_t>(js::get_int(doc, {"status", "collisionCount"}, 0));
  const std::string data = history::revision_data(pod_template);
  const long long next = out.sorted.empty() ? 1 : out.sorted.back().number + 1;
  std::string equal;  // the latest revision with the same data
  for (const auto& r : out.sorted)
    if (history::has_data(owned[r.name]->doc, data)) equal = r.name;

  if (!equal.empty() && equal == out.sorted.back().name) {
    out.update = equal;
  } else if (!equal.empty()) {
    auto moved = state.patch(revision_type, ns, equal, patch_type::merge,
                             fmt::format(R"({{"revision":{}}})", next), false, {});
    owned[equal] = moved.object;
    for (auto& r : out.sorted)
      if (r.name == equal) r.number = next;
    history::sort_revisions(out.sorted);
    out.update = equal;
  } else {
    for (;;) {
      auto cr = history::new_revision(doc, data, next, out.collision_count);
      std::string name = meta_string(cr, "name");
      try {
        auto created = state.create(revision_type, ns, std::move(cr), {});
        owned[name] = created.object;
        out.sorted.push_back({name, next, meta_string(created.object->doc, "creationTimestamp")});
        out.update = name;
        break;
      } catch (const api_error& e) {
        if (e.code != 409) throw;
        snapshot_ptr existing = get_or_null(revision_type, ns, name);
        if (existing && history::has_data(existing->doc, data)) {
          owned[name] = existing;
          out.update = name;
          break;
        }
        ++out.collision_count;
      }
    }
  }
  std::string current(js::get_string(doc, {"status", "currentRevision"}));
  out.current = owned.count(current) ? current : out.update;
  for (const auto& [name, cr] : owned) out.templates[name] = history::template_of(cr->doc);
  return out;
}

// truncateHistory: revisions no pod uses, beyond spec.revisionHistoryLimit, oldest first.
void workload_simulator::impl::truncate_history(const js::Value& set, const revision_set& revs,
                                                const std::vector<sts::pod_state>& pods) {
  std::vector<std::string> live{revs.current, revs.update};
  for (const auto& p : pods) live.push_back(p.revision);
  const int limit = static_cast<int>(js::get_int(set, {"spec", "revisionHistoryLimit"}, 10));
  const std::string ns = meta_string(set, "namespace");
  for (const auto& name : history::revisions_to_prune(revs.sorted, live, limit)) {
    try {
      state.remove(revision_type, ns, name, {});
    } catch (const api_error& e) {
      if (e.code != 404) throw;
    }
  }
}

// The pods that belong to the StatefulSet, adopting orphans whose name and labels fit (as
// after `kubectl delete sts --cascade=orphan` and a re-create).
std::vector<std::pair<int, snapshot_ptr>> workload_simulator::impl::member_pods(
    const snapshot& set, const sts::set_spec& spec) {
  std::vector<std::pair<int, snapshot_ptr>> out;
  const js::Value* selector = js::find_path(set.doc, {"spec", "selector"});
  for (auto& pod : state.list(pod_type, spec.ns, {}).items) {
    auto ordinal = sts::ordinal_of(spec.name, meta_string(pod->doc, "name"));
    if (!ordinal) continue;
    if (const js::Value* ref = controller_ref(pod->doc)) {
      if (js::get_string(*ref, "uid") == spec.uid) out.emplace_back(*ordinal, pod);
      continue;
    }
    if (has_deletion_timestamp(pod->doc) || !selector ||
        !sts::selector_matches(*selector, js::find_path(pod->doc, {"metadata", "labels"})))
      continue;
    out.emplace_back(*ordinal, adopt(pod_type, *pod, set.doc));
  }
  return out;
}

// Makes the StatefulSet the controller of an orphan (pod or revision), at the version read.
snapshot_ptr workload_simulator::impl::adopt(const resource_type& t, const snapshot& orphan,
                                             const js::Value& set) {
  js::Document patch(rapidjson::kObjectType);
  auto& a = patch.GetAllocator();
  auto& meta = js::ensure_object(patch, "metadata", a);
  js::Value refs(rapidjson::kArrayType);
  if (const auto* old = js::find_path(orphan.doc, {"metadata", "ownerReferences"});
      old && old->IsArray())
    refs.CopyFrom(*old, a);
  refs.PushBack(sts::owner_reference(set, a), a);
  meta.AddMember("ownerReferences", refs, a);
  meta.AddMember("resourceVersion", js::string_value(std::to_string(orphan.rv), a), a);
  return state
      .patch(t, meta_string(orphan.doc, "namespace"), meta_string(orphan.doc, "name"),
             patch_type::merge, js::to_string(patch), false, {})
      .object;
}

// Creates the ordinal's missing PVCs and binds them at once (a provisioner with immediate
// binding). Existing claims are kept whatever they hold: Retain is the default policy.
void workload_simulator::impl::ensure_claims(const js::Value& set, const std::string& ns,
                                             int ordinal) {
  const auto* claims = js::find_path(set, {"spec", "volumeClaimTemplates"});
  if (!claims || !claims->IsArray()) return;
  const std::string set_name = meta_string(set, "name");
  for (const auto& c : claims->GetArray()) {
    auto t = js::get_string(c, {"metadata", "name"});
    if (t.empty()) continue;
    std::string name = sts::claim_name(t, set_name, ordinal);
    if (get_or_null(pvc_type, ns, name)) continue;
    auto created =
        state.create(pvc_type, ns, sts::build_claim(set, c, ordinal, "pvc-" + new_uid()), {});
    js::Document patch(rapidjson::kObjectType);
    auto status = sts::bound_claim_status(created.object->doc);
    patch.AddMember("status", js::Value(status, patch.GetAllocator()), patch.GetAllocator());
    state.patch(pvc_type, ns, name, patch_type::merge, js::to_string(patch), true, {});
  }
}

void workload_simulator::impl::write_status(const snapshot& set, const sts::set_status& st) {
  const js::Value* old = js::find(set.doc, "status");
  js::Document next = sts::status_json(st, old);
  if (old && *old == next) return;
  js::Document body;
  body.CopyFrom(set.doc, body.GetAllocator());
  js::set_member(body, "status", js::Value(next, body.GetAllocator()), body.GetAllocator());
  // Carries the resourceVersion read: a conflict means a newer StatefulSet is on its way.
  state.update(sts_type, meta_string(set.doc, "namespace"), meta_string(set.doc, "name"),
               std::move(body), true, {});
}

// Kubelet: schedule the pod on the one node, then report it Running and Ready.
void workload_simulator::impl::start_pod(const std::string& ns, const std::string& name,
                                         const std::string& uid) {
  snapshot_ptr pod = get_or_null(pod_type, ns, name);
  if (!pod || meta_string(pod->doc, "uid") != uid || has_deletion_timestamp(pod->doc) ||
      js::get_string(pod->doc, {"status", "phase"}) != "Pending")
    return;
  try {
    if (js::get_string(pod->doc, {"spec", "nodeName"}).empty())
      pod = state.bind_pod(ns, name, node_name, uid);  // as the scheduler binds it
    const bool is_cassandra = cassandra && runs_cassandra(pod->doc);
    std::string ip;
    if (is_cassandra) {
      auto [it, fresh] = cassandra_ips.emplace(uid, "");
      if (fresh) {
        try {
          it->second = cassandra->start_pod(state, pod->doc);
        } catch (...) {
          cassandra_ips.erase(it);
          throw;
        }
      }
      ip = it->second;
    } else {
      unsigned n = next_pod_ip++;
      ip = fmt::format("10.244.{}.{}", (n / 254) % 256, n % 254 + 1);
    }
    state.patch(pod_type, ns, name, patch_type::merge, running_status_patch(*pod, ip, is_cassandra),
                true, {});
  } catch (const api_error& e) {
    if (e.code == 404) return;
    // Changed under us (a conflict): look again shortly.
    after(kMinRetryMs, [ns, name, uid](impl& s) { s.start_pod(ns, name, uid); });
  }
}

workload_simulator::workload_simulator(net::io_context& io, cluster_state& state,
                                       int pod_ready_delay_ms, cassandra_pods* cassandra)
    : impl_(std::make_shared<impl>(io, state, pod_ready_delay_ms, cassandra)) {}

workload_simulator::~workload_simulator() {
  stop();
}

void workload_simulator::start() {
  impl_->start();
}
void workload_simulator::stop() {
  impl_->stop();
}
void workload_simulator::set_ready_delay_ms(int ms) {
  impl_->delay_ms = std::max(0, ms);
}
int workload_simulator::ready_delay_ms() const {
  return impl_->delay_ms;
}

}  // namespace kubesim
