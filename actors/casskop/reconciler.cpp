#include "actors/casskop/reconciler.h"

#include <chrono>
#include <map>
#include <set>

#include "actors/casskop/jolokia_client.h"
#include "actors/casskop/logic/names.h"
#include "actors/casskop/logic/node_facts.h"
#include "actors/casskop/logic/owned_index.h"
#include "actors/casskop/logic/pod_operations_tracker.h"
#include "actors/casskop/logic/reconcile.h"
#include "actors/casskop/pod_operations_runner.h"
#include "actors/runtime/event_recorder.h"
#include "actors/runtime/logic/coalescing_queue.h"
#include "actors/runtime/resource_watcher.h"
#include "actors/runtime/writer.h"
#include "k8s/base/backoff.h"
#include "k8s/base/log.h"
#include "k8s/base/timestamps.h"
#include "k8s/json/json.h"
#include "messages/casskop/atoms.h"

namespace casskop::node_messages {
// An answer of a node's Jolokia agent, or the Secret read for a probe round, handed from
// cpprest's and the client's threads to the reconciler.
struct node_reply {
  std::string cluster, pod, pod_uid, what;  // what: hostids, joining, mode, decommission
  uint64_t round = 0;                       // the probe round it belongs to (0: none)
  jolokia::http_reply reply;
};
struct secret_reply {
  std::string cluster;
  uint64_t round = 0;
  std::optional<jolokia::credentials> credentials;
  std::string problem;  // never a value of the Secret
};
}  // namespace casskop::node_messages
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(casskop::node_messages::node_reply)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(casskop::node_messages::secret_reply)

namespace casskop {
namespace js = k8s::json;
using node_messages::node_reply;
using node_messages::secret_reply;

namespace {

const char* controller_name = "casskop";
const char* field_manager = "casskop";

const k8s::resource cassandraclusters{"db.orange.com", "v2", "cassandraclusters",
                                      "CassandraCluster", true};
const k8s::resource statefulsets{"apps", "v1", "statefulsets", "StatefulSet", true};
const k8s::resource services{"", "v1", "services", "Service", true};
const k8s::resource pdbs{"policy", "v1", "poddisruptionbudgets", "PodDisruptionBudget", true};
const k8s::resource pvcs{"", "v1", "persistentvolumeclaims", "PersistentVolumeClaim", true};
const k8s::resource pods{"", "v1", "pods", "Pod", true};
const k8s::resource secrets{"", "v1", "secrets", "Secret", true};

enum class kind { cluster = 0, statefulset, service, pdb, pvc, pod };
constexpr int kinds = 6;

const k8s::resource& resource_of(kind k) {
  switch (k) {
    case kind::cluster:
      return cassandraclusters;
    case kind::statefulset:
      return statefulsets;
    case kind::service:
      return services;
    case kind::pdb:
      return pdbs;
    case kind::pvc:
      return pvcs;
    case kind::pod:
      return pods;
  }
  return cassandraclusters;
}

kind kind_named(const std::string& k) {
  if (k == "StatefulSet") return kind::statefulset;
  if (k == "Service") return kind::service;
  if (k == "PodDisruptionBudget") return kind::pdb;
  if (k == "PersistentVolumeClaim") return kind::pvc;
  if (k == "Pod") return kind::pod;
  return kind::cluster;
}

// One watch change, the latest per object while the reconciler is busy.
struct change {
  kind what = kind::cluster;
  std::string name;
  k8s::object_ptr object;  // null: removed
};
using change_queue = runtime::coalescing_queue<std::string, change>;

enum class role { watcher = 0, writer, recorder };
const char* role_name(role r) {
  return r == role::watcher ? "watcher" : r == role::writer ? "writer" : "event-recorder";
}

// A write sent and not answered yet.
struct write_in_flight {
  std::string cluster;  // the CassandraCluster whose pass sent it
  kind what = kind::cluster;
  std::string name, dc_rack, verb;
  bool sent_observed_generation = false, sent_conditions = false;
};

// One CassandraCluster as the reconciler knows it (also what /cassandraclusters shows).
struct cluster_entry {
  bool running = false;  // a pass's writes are in flight
  bool again = false;    // something changed meanwhile: one more pass afterwards
  int pending = 0;
  bool failed = false;
  k8s::backoff retry{k8s::backoff_policy{std::chrono::milliseconds(200),
                                         std::chrono::milliseconds(10000), 2.0, 0.2,
                                         std::chrono::milliseconds(60000)}};
  bool retry_scheduled = false;
  k8s::object_ptr written;  // our last write's answer, until the cache has it (or newer)
  // What the installed CRD keeps, learnt from the answers to our writes.
  bool observed_generation = true, conditions = true;
  // For /cassandraclusters.
  cluster_status status;
  std::string waiting, last_error, last_write;
  std::vector<std::string> problems, refusals;
  uint64_t passes = 0, writes = 0;
  // What its nodes answered (node_facts.h) and the node prober's round.
  node_facts facts;
  bool nodes_busy = false;     // the last pass waits on a node: ask often
  uint64_t probe_request = 0;  // the latest probe asked for; older delayed ones are ignored
  uint64_t round = 0;          // the round running (0: none)
  int round_pending = 0;
  bool probe_again = false;  // asked for while a round ran
  std::string credentials_problem;
  // This round's describeRingJMX answers: the DCs seen, and whether every call succeeded.
  std::set<std::string> ring_dcs;
  bool ring_ok = false, ring_asked = false;
  std::string ring_error;  // the round's failed Keyspaces/describeRingJMX answer
  bool probe_now = false;  // the last pass wants a round at once (see run_pass)
  std::optional<jolokia::credentials> round_credentials;
};

struct reconciler_state {
  reconciler_settings settings;
  std::shared_ptr<change_queue> changes = std::make_shared<change_queue>();
  runtime::resource_watcher_actor watcher;
  runtime::writer_actor writer;
  runtime::event_recorder_actor recorder;
  std::map<caf::actor_addr, role> children;
  std::shared_ptr<runtime::event_handover> handover = std::make_shared<runtime::event_handover>();
  std::map<int, k8s::backoff> restart_backoff;
  // The watch caches, by object name (one namespace).
  std::map<std::string, k8s::object_ptr> caches[kinds];
  // The names in caches[k] (owned kinds) by the CassandraCluster owning them: a pass reads its
  // cluster's objects only, not the namespace's.
  owned_index owned[kinds];
  std::map<std::string, int64_t> fences;  // StatefulSet name -> generation we last wrote
  std::map<std::string, cluster_entry> clusters;
  std::map<uint64_t, write_in_flight> writes;
  uint64_t next_id = 1;
  std::shared_ptr<jolokia_client> jolokia;
  uint64_t next_round = 1;
  // Pod operations: the runner carries out their node calls; the tracker remembers its work.
  caf::actor pod_ops_runner;
  pod_operations_tracker pod_ops;
  bool synced = false;
  std::string health_error;
  static inline const char* name = "casskop-reconciler";
};

using self_ptr = caf::stateful_actor<reconciler_state>*;

std::string name_of(const k8s::object_ptr& o) {
  return std::string(js::get_string(*o, {"metadata", "name"}));
}

// The CassandraCluster an owned object belongs to: its `cassandracluster` label.
std::string owner_of(const k8s::object_ptr& o) {
  return std::string(js::get_string(*o, {"metadata", "labels", cluster_label}));
}

int64_t generation_of(const k8s::object_ptr& o) {
  return o ? js::get_int(*o, {"metadata", "generation"}, 0) : 0;
}

std::vector<runtime::watched_resource> watched(self_ptr self, bool restarted) {
  auto& st = self->state;
  auto me = caf::actor_cast<caf::actor>(self);
  auto changes = st.changes;
  std::vector<runtime::watched_resource> out;
  for (kind k :
       {kind::cluster, kind::statefulset, kind::service, kind::pdb, kind::pvc, kind::pod}) {
    runtime::watched_resource w;
    w.what = resource_of(k);
    w.namespace_name = st.settings.config.namespace_name;
    // What casskop owns carries v2.1.0's labels: the caches hold nothing else of the namespace.
    if (k != kind::cluster) w.label_selector = "app=cassandracluster";
    w.on_change = [me, changes, k](const k8s::store_delta& d) {
      bool wake = false;
      const std::string prefix = std::to_string(static_cast<int>(k)) + "/";
      for (const auto& o : d.upserted) {
        // Only what casskop owns (v2.1.0's labels), besides the CassandraClusters.
        if (k != kind::cluster && owner_of(o).empty()) continue;
        wake = changes->put(prefix + name_of(o), change{k, name_of(o), o}) || wake;
      }
      for (const auto& o : d.removed) {
        if (k != kind::cluster && owner_of(o).empty()) continue;
        // The same key: a removal replaces a version still waiting (its owner is read from the
        // cache when it is taken).
        wake = changes->put(prefix + name_of(o), change{k, name_of(o), nullptr}) || wake;
      }
      if (wake) caf::anon_send(me, changes_atom::value);
    };
    // A replacement watcher is told what we knew, to notice deletions meanwhile.
    if (restarted)
      for (const auto& [name, o] : st.caches[static_cast<int>(k)]) w.known.push_back(o);
    out.push_back(std::move(w));
  }
  return out;
}

void spawn_child(self_ptr self, role r, bool restarted) {
  auto& st = self->state;
  const auto& source = st.settings.config.clusters.front();
  auto& registry = *st.settings.registry;
  auto client = registry.client(source.name);
  std::string error;
  if (!client) {
    auto conn = registry.connect(source);
    client = conn.client;
    error = conn.error;
  }
  auto me = caf::actor_cast<caf::actor>(self);
  switch (r) {
    case role::watcher: {
      runtime::watcher_settings ws;
      ws.controller = controller_name;
      ws.cluster = source.name;
      ws.client = client;
      ws.connect_error = error;
      ws.timers = registry.timers();
      ws.resources = watched(self, restarted);
      ws.on_health = [me](const runtime::cluster_health& h) {
        caf::anon_send(me, health_atom::value, h.synced, h.reachable ? std::string() : h.error);
      };
      st.watcher = runtime::spawn_resource_watcher(self->system(), std::move(ws));
      self->link_to(st.watcher);
      st.children[st.watcher.address()] = r;
      break;
    }
    case role::writer:
      st.writer = runtime::spawn_writer(self->system(), {source.name, client, error});
      self->link_to(st.writer);
      st.children[st.writer.address()] = r;
      break;
    case role::recorder: {
      runtime::event_recorder_settings rs;
      rs.controller = controller_name;
      rs.cluster = source.name;
      rs.client = client;
      rs.source = {
          st.settings.config.operator_name.empty() ? "casskop" : st.settings.config.operator_name,
          "casskop.db.orange.com/dc-rack"};
      rs.handover = st.handover;
      st.recorder = runtime::spawn_event_recorder(self->system(), std::move(rs));
      self->link_to(st.recorder);
      st.children[st.recorder.address()] = r;
      break;
    }
  }
}

void run_pass(self_ptr self, const std::string& name);
void request_probe(self_ptr self, const std::string& name, std::chrono::milliseconds delay);
reconcile_plan plan_pass(reconciler_state& st, const std::string& name, cluster_entry& entry,
                         const k8s::object_ptr& cc);
void carry_out(self_ptr self, const std::string& name, cluster_entry& entry,
               const k8s::object_ptr& cc, reconcile_plan plan);

// The CassandraCluster to reconcile: the cache's, or our last write's answer while the cache
// is older.
k8s::object_ptr current_cluster(reconciler_state& st, const std::string& name,
                                cluster_entry& entry) {
  auto it = st.caches[0].find(name);
  k8s::object_ptr cached = it == st.caches[0].end() ? nullptr : it->second;
  if (entry.written && (!cached || generation_of(cached) < generation_of(entry.written)))
    return cached ? entry.written : nullptr;  // deleted meanwhile: nothing to do
  entry.written = nullptr;
  return cached;
}

// A log line about one cluster: `dc-rack=` only when it is about one rack (the original's fields).
void log_line(k8s::log::level l, std::string_view msg, std::string_view cluster,
              std::string_view dc_rack, std::initializer_list<k8s::log::field> rest) {
  std::vector<k8s::log::field> f{{"cluster", cluster}};
  if (!dc_rack.empty()) f.emplace_back("dc-rack", dc_rack);
  f.insert(f.end(), rest.begin(), rest.end());
  switch (f.size()) {  // k8s::log takes an initializer_list: at most 7 fields here
    case 1:
      return k8s::log::write(l, msg, {f[0]});
    case 2:
      return k8s::log::write(l, msg, {f[0], f[1]});
    case 3:
      return k8s::log::write(l, msg, {f[0], f[1], f[2]});
    case 4:
      return k8s::log::write(l, msg, {f[0], f[1], f[2], f[3]});
    case 5:
      return k8s::log::write(l, msg, {f[0], f[1], f[2], f[3], f[4]});
    case 6:
      return k8s::log::write(l, msg, {f[0], f[1], f[2], f[3], f[4], f[5]});
    default:
      return k8s::log::write(l, msg, {f[0], f[1], f[2], f[3], f[4], f[5], f[6]});
  }
}

void log_write(const write_in_flight& w, const std::string& outcome, const std::string& error) {
  const std::string kind_name = resource_of(w.what).kind;
  if (error.empty())
    log_line(k8s::log::level::info, outcome, w.cluster, w.dc_rack,
             {{"kind", kind_name}, {"name", w.name}, {"verb", w.verb}});
  else
    log_line(k8s::log::level::warning, outcome, w.cluster, w.dc_rack,
             {{"kind", kind_name}, {"name", w.name}, {"verb", w.verb}, {"error", error}});
}

void record_event(self_ptr self, const k8s::object_ptr& cc, const reconcile_event& e) {
  auto& st = self->state;
  runtime::event_record r;
  r.object = {"CassandraCluster", "db.orange.com/v2", st.settings.config.namespace_name,
              name_of(cc), std::string(js::get_string(*cc, {"metadata", "uid"}))};
  r.type = e.warning ? "Warning" : "Normal";
  r.reason = e.reason;
  r.message = e.message;
  r.detail = e.dc_rack;
  if (st.recorder) self->send(st.recorder, std::move(r));
}

// The cluster's pods as the cache has them, in name order (pod operations).
std::vector<observed_pod> pods_of(reconciler_state& st, const std::string& name) {
  std::vector<observed_pod> out;
  const auto& cache = st.caches[static_cast<int>(kind::pod)];
  for (const auto& pod_name : st.owned[static_cast<int>(kind::pod)].of(name))
    if (auto o = cache.find(pod_name); o != cache.end()) out.push_back(observe_pod(*o->second));
  return out;
}

// After a pass: its jobs to the runner, and a pass again later while pods wait (an action under
// way is no watch event; joining nodes are asked by the node prober, busy meanwhile).
void hand_pod_operations(self_ptr self, const std::string& name, const reconcile_plan& plan) {
  auto& st = self->state;
  if (!st.pod_ops_runner) return;
  std::string secret;
  if (auto cc = st.caches[static_cast<int>(kind::cluster)].find(name);
      cc != st.caches[static_cast<int>(kind::cluster)].end())
    secret = std::string(js::get_string(*cc->second, {"spec", "imageJolokiaSecret", "name"}));
  for (auto job : plan.pod_operations.start) {
    job.jolokia_secret = secret;
    self->send(st.pod_ops_runner, pod_op_start_atom::value, name, std::move(job));
  }
  auto pods = pods_of(st, name);
  auto& entry = st.clusters[name];
  if (st.pod_ops.has_waiting(name, pods) && !entry.retry_scheduled) {
    entry.retry_scheduled = true;
    self->delayed_send(self, std::chrono::seconds(5), retry_atom::value, name);
  }
}

// ---- Cassandra nodes: the pods, what their agents answer, and the calls a pass wants sent.

int ordinal_of(const std::string& pod) {
  auto dash = pod.rfind('-');
  if (dash == std::string::npos) return -1;
  try {
    return std::stoi(pod.substr(dash + 1));
  } catch (...) {
    return -1;
  }
}

pod_state read_pod(const js::Value& o) {
  pod_state p;
  p.name = std::string(js::get_string(o, {"metadata", "name"}));
  p.uid = std::string(js::get_string(o, {"metadata", "uid"}));
  p.ip = std::string(js::get_string(o, {"status", "podIP"}));
  p.phase = std::string(js::get_string(o, {"status", "phase"}));
  p.deleting = js::find_path(o, {"metadata", "deletionTimestamp"}) != nullptr;
  bool container_known = false, container_ready = false, pod_ready = false;
  if (const js::Value* cs = js::find_path(o, {"status", "containerStatuses"}); cs && cs->IsArray())
    for (const auto& c : cs->GetArray())
      if (c.IsObject() && js::get_string(c, "name") == "cassandra") {
        container_known = true;
        container_ready = js::get_bool(c, {"ready"}, false);
        p.restarts = static_cast<int>(js::get_int(c, {"restartCount"}, 0));
      }
  if (const js::Value* cs = js::find_path(o, {"status", "conditions"}); cs && cs->IsArray())
    for (const auto& c : cs->GetArray()) {
      if (!c.IsObject()) continue;
      if (js::get_string(c, "type") == "Ready") pod_ready = js::get_string(c, "status") == "True";
      if (js::get_string(c, "type") == "PodScheduled" && js::get_string(c, "status") == "False" &&
          js::get_string(c, "reason") == "Unschedulable")
        p.unschedulable = p.phase == "Pending";
    }
  // v2.1.0: the cassandra container Ready and the pod Running.
  p.ready = p.phase == "Running" && !p.deleting && (container_known ? container_ready : pod_ready);
  return p;
}

// The pods and PVCs of `name` from the caches, into its facts (the answers are kept).
void fill_facts(reconciler_state& st, const std::string& name, cluster_entry& entry) {
  node_facts& f = entry.facts;
  f.decommission_resend_ms = st.settings.config.jolokia.decommission_resend_ms;
  f.pods.clear();
  const auto& pod_cache = st.caches[static_cast<int>(kind::pod)];
  for (const auto& pod_name : st.owned[static_cast<int>(kind::pod)].of(name))
    if (auto o = pod_cache.find(pod_name); o != pod_cache.end())
      f.pods[pod_name] = read_pod(*o->second);
  f.pvc_uids.clear();
  const auto& pvc_cache = st.caches[static_cast<int>(kind::pvc)];
  for (const auto& pvc_name : st.owned[static_cast<int>(kind::pvc)].of(name))
    if (auto o = pvc_cache.find(pvc_name); o != pvc_cache.end())
      if (!js::find_path(*o->second, {"metadata", "deletionTimestamp"}))
        f.pvc_uids[pvc_name] = std::string(js::get_string(*o->second, {"metadata", "uid"}));
}

// The first Ready pod by ordinal (v2.1.0 sorts the cluster's pods by their trailing ordinal).
const pod_state* first_ready(const node_facts& f) {
  const pod_state* best = nullptr;
  for (const auto& [name, p] : f.pods) {
    if (!p.ready || p.ip.empty()) continue;
    if (!best || ordinal_of(p.name) < ordinal_of(best->name) ||
        (ordinal_of(p.name) == ordinal_of(best->name) && p.name < best->name))
      best = &p;
  }
  return best;
}

void send_call(self_ptr self, const std::string& cluster, const pod_state& pod,
               const std::string& what, const jolokia::request& r, uint64_t round,
               const std::optional<jolokia::credentials>& creds) {
  auto me = caf::actor_cast<caf::actor>(self);
  k8s::log::debug(
      "Jolokia call",
      {{"cluster", cluster}, {"pod", pod.name}, {"ip", pod.ip}, {"call", r.describe()}});
  self->state.jolokia->call(
      pod.ip, r, creds,
      [me, cluster, pod = pod.name, uid = pod.uid, what, round](jolokia::http_reply reply) {
        caf::anon_send(me, node_reply{cluster, pod, uid, what, round, std::move(reply)});
      });
}

void finish_round(self_ptr self, const std::string& name, cluster_entry& entry) {
  // The ring as this round saw it, with the round's number: a DC going to 0 is decided only on
  // a round started after the change was seen (node_facts::dc_zero_seen). Nobody to ask is an
  // answer too: DataCheckNotPossible.
  entry.facts.replication.known = entry.ring_asked && entry.ring_ok;
  entry.facts.replication.replicated_dcs =
      entry.facts.replication.known ? entry.ring_dcs : std::set<std::string>{};
  entry.facts.replication.asked = entry.round;
  entry.facts.replication.why =
      entry.facts.replication.known || !entry.ring_asked ? "" : entry.ring_error;
  entry.round = 0;
  run_pass(self, name);
  auto& cfg = self->state.settings.config.jolokia;
  if (entry.probe_again) {
    entry.probe_again = false;
    request_probe(self, name, std::chrono::milliseconds(0));
  } else {
    request_probe(
        self, name,
        std::chrono::milliseconds(entry.nodes_busy ? cfg.busy_poll_ms : cfg.rest_poll_ms));
  }
}

// One probe round: HostIdMap and JoiningNodes of the first Ready pod, and the OperationMode of
// every node a decommission is about.
void start_calls(self_ptr self, const std::string& name, cluster_entry& entry,
                 const std::optional<jolokia::credentials>& creds, const std::string& problem) {
  node_facts& f = entry.facts;
  struct planned {
    pod_state pod;
    std::string what;
    jolokia::request r;
  };
  std::vector<planned> calls;
  entry.round_credentials = creds;
  entry.ring_dcs.clear();
  entry.ring_ok = false;
  entry.ring_asked = false;
  entry.ring_error.clear();
  if (const pod_state* first = first_ready(f)) {
    entry.ring_asked = true;
    f.asked_pod = first->name;
    calls.push_back({*first, "hostids", jolokia::read_host_id_map()});
    calls.push_back({*first, "joining", jolokia::read_joining_nodes()});
    calls.push_back({*first, "keyspaces", jolokia::read_keyspaces()});
  } else {
    f.replication = {};  // nobody to ask: DataCheckNotPossible
  }
  for (const auto& [dc_rack, rs] : entry.status.racks) {
    const auto& op = rs.pod_last_op;
    if (op.name != "decommission" || op.pods.empty() ||
        (op.status != status::to_do && op.status != status::ongoing))
      continue;
    if (auto p = f.pods.find(op.pods.front()); p != f.pods.end() && !p->second.ip.empty())
      calls.push_back({p->second, "mode", jolokia::read_operation_mode()});
  }
  if (calls.empty()) return finish_round(self, name, entry);
  if (!problem.empty()) {
    // No call is sent without the credentials the spec asks for: each one fails as such.
    for (auto& c : calls) {
      jolokia::http_reply r;
      r.transport.kind = jolokia::failure::no_credentials;
      r.transport.message = problem;
      self->send(self, node_reply{name, c.pod.name, c.pod.uid, c.what, entry.round, r});
    }
  } else {
    for (auto& c : calls) send_call(self, name, c.pod, c.what, c.r, entry.round, creds);
  }
  entry.round_pending = static_cast<int>(calls.size());
}

void start_round(self_ptr self, const std::string& name) {
  auto& st = self->state;
  auto it = st.clusters.find(name);
  auto cached = st.caches[0].find(name);
  if (it == st.clusters.end() || cached == st.caches[0].end()) return;
  cluster_entry& entry = it->second;
  if (entry.round) {
    entry.probe_again = true;
    return;
  }
  entry.round = st.next_round++;
  fill_facts(st, name, entry);
  const std::string secret(js::get_string(*cached->second, {"spec", "imageJolokiaSecret", "name"}));
  if (secret.empty()) return start_calls(self, name, entry, std::nullopt, "");
  auto client = st.settings.registry->client(st.settings.config.clusters.front().name);
  if (!client) return start_calls(self, name, entry, std::nullopt, "no client for the cluster");
  auto me = caf::actor_cast<caf::actor>(self);
  const uint64_t round = entry.round;
  client->get(secrets, st.settings.config.namespace_name, secret,
              [me, name, round, secret](k8s::result<k8s::object_ptr> r) {
                secret_reply out{name, round, std::nullopt, ""};
                if (!r.ok()) {
                  out.problem = "cannot read Secret " + secret +
                                " (spec.imageJolokiaSecret): " + r.error().describe();
                } else {
                  std::string problem;
                  out.credentials = jolokia::credentials_from_secret(*r.value(), problem);
                  if (!out.credentials)
                    out.problem = "Secret " + secret + " (spec.imageJolokiaSecret): " + problem;
                }
                caf::anon_send(me, std::move(out));
              });
}

void on_secret_reply(self_ptr self, secret_reply& r) {
  auto& st = self->state;
  auto it = st.clusters.find(r.cluster);
  if (it == st.clusters.end() || it->second.round != r.round) return;
  cluster_entry& entry = it->second;
  if (r.problem != entry.credentials_problem) {
    if (!r.problem.empty())
      k8s::log::warn("No Jolokia credentials: no node is asked",
                     {{"cluster", r.cluster}, {"error", r.problem}});
    entry.credentials_problem = r.problem;
  }
  start_calls(self, r.cluster, entry, r.credentials, r.problem);
}

void on_node_reply(self_ptr self, node_reply& m) {
  auto& st = self->state;
  auto it = st.clusters.find(m.cluster);
  if (it == st.clusters.end()) return;
  cluster_entry& entry = it->second;
  node_facts& f = entry.facts;
  const std::string now = k8s::format_time(std::chrono::system_clock::now());
  jolokia::error err;
  if (m.what == "hostids") {
    auto r = jolokia::parse_host_id_map(m.reply);
    if (r.ok()) f.host_ids = std::move(*r.value);
    err = f.host_ids_error = r.err;
  } else if (m.what == "joining") {
    auto r = jolokia::parse_string_list(m.reply);
    if (r.ok())
      f.joining = !r.value->empty();
    else
      f.joining.reset();
    err = f.joining_error = r.err;
  } else if (m.what == "mode") {
    auto r = jolokia::parse_operation_mode(m.reply);
    err = r.err;
    f.modes[m.pod] = node_answer{m.pod_uid, r.ok() ? *r.value : "", r.err, now};
    if (r.ok())
      k8s::log::debug("Node answered",
                      {{"cluster", m.cluster}, {"pod", m.pod}, {"operationMode", *r.value}});
  } else if (m.what == "keyspaces") {
    auto r = jolokia::parse_string_list(m.reply);
    err = r.err;
    if (m.round == entry.round) entry.ring_ok = r.ok();
    if (!r.ok() && m.round == entry.round)
      entry.ring_error = "Keyspaces on " + m.pod + ": " + r.err.describe();
    if (r.ok() && m.round == entry.round) {
      // One describeRingJMX per replicated keyspace, in this round.
      auto pod = f.pods.find(m.pod);
      for (const auto& ks : *r.value) {
        if (jolokia::is_local_system_keyspace(ks) || pod == f.pods.end()) continue;
        ++entry.round_pending;
        send_call(self, m.cluster, pod->second, "ring", jolokia::describe_ring(ks), m.round,
                  entry.round_credentials);
      }
    }
  } else if (m.what == "ring") {
    auto r = jolokia::parse_describe_ring(m.reply);
    err = r.err;
    if (!r.ok() && m.round == entry.round) {
      entry.ring_ok = false;
      entry.ring_error = "describeRingJMX on " + m.pod + ": " + r.err.describe();
    }
    if (r.ok() && m.round == entry.round)
      for (const auto& range : *r.value)
        for (const auto& dc : range.datacenters) entry.ring_dcs.insert(dc);
  } else if (m.what == "decommission") {
    auto r = jolokia::parse_exec(m.reply);
    err = r.err;
    f.decommission_answers[m.pod] = node_answer{m.pod_uid, "", r.err, now};
    // Decommission answers when the node has left (or times out meanwhile): only a refusal
    // (a Jolokia error) says something; the OperationMode polls follow it anyway.
    if (r.ok())
      k8s::log::info("Decommission answered", {{"cluster", m.cluster}, {"pod", m.pod}});
    else if (r.err.kind == jolokia::failure::timeout)
      err = {};
  }
  if (!err.ok())
    k8s::log::warn("Jolokia call failed", {{"cluster", m.cluster},
                                           {"pod", m.pod},
                                           {"call", m.what},
                                           {"reason", reason_of(err)},
                                           {"error", err.describe()}});
  if (m.round && m.round == entry.round && --entry.round_pending <= 0)
    finish_round(self, m.cluster, entry);
  else if (!m.round)
    request_probe(self, m.cluster, std::chrono::milliseconds(0));
}

void request_probe(self_ptr self, const std::string& name, std::chrono::milliseconds delay) {
  auto it = self->state.clusters.find(name);
  if (it == self->state.clusters.end()) return;
  const uint64_t gen = ++it->second.probe_request;
  if (delay.count() == 0)
    self->send(self, probe_atom::value, name, gen);
  else
    self->delayed_send(self, delay, probe_atom::value, name, gen);
}

void send_node_calls(self_ptr self, const std::string& name, cluster_entry& entry,
                     const std::vector<node_call>& calls, const k8s::object_ptr& cc) {
  if (calls.empty()) return;
  auto& st = self->state;
  const std::string secret(js::get_string(*cc, {"spec", "imageJolokiaSecret", "name"}));
  for (const auto& c : calls) {
    pod_state pod;
    pod.name = c.pod;
    pod.uid = c.pod_uid;
    pod.ip = c.ip;
    log_line(k8s::log::level::info, "Sending to node", name, c.dc_rack,
             {{"pod", c.pod}, {"ip", c.ip}, {"call", c.request.describe()}});
    if (secret.empty()) {
      send_call(self, name, pod, "decommission", c.request, 0, std::nullopt);
      continue;
    }
    // Credentials read at the moment of sending (the Secret may have changed).
    auto client = st.settings.registry->client(st.settings.config.clusters.front().name);
    if (!client) continue;
    auto me = caf::actor_cast<caf::actor>(self);
    auto jc = st.jolokia;
    client->get(secrets, st.settings.config.namespace_name, secret,
                [me, jc, name, pod, r = c.request](k8s::result<k8s::object_ptr> res) {
                  std::string problem;
                  std::optional<jolokia::credentials> creds;
                  if (res.ok()) creds = jolokia::credentials_from_secret(*res.value(), problem);
                  if (!creds) {
                    jolokia::http_reply fail;
                    fail.transport.kind = jolokia::failure::no_credentials;
                    fail.transport.message =
                        res.ok() ? problem : "cannot read the Secret: " + res.error().describe();
                    caf::anon_send(me, node_reply{name, pod.name, pod.uid, "decommission", 0,
                                                  std::move(fail)});
                    return;
                  }
                  jc->call(pod.ip, r, creds, [me, name, pod](jolokia::http_reply reply) {
                    caf::anon_send(me, node_reply{name, pod.name, pod.uid, "decommission", 0,
                                                  std::move(reply)});
                  });
                });
  }
  (void)entry;
  request_probe(self, name, std::chrono::milliseconds(st.settings.config.jolokia.busy_poll_ms));
}

void finish_pass(self_ptr self, const std::string& name) {
  auto& st = self->state;
  auto& entry = st.clusters[name];
  entry.running = false;
  st.pod_ops.pass_ended(name, !entry.failed);
  if (entry.failed) {
    entry.failed = false;
    entry.retry.on_failure(std::chrono::steady_clock::now());
    if (!entry.retry_scheduled) {
      entry.retry_scheduled = true;
      self->delayed_send(self, entry.retry.next_delay(), retry_atom::value, name);
    }
    return;
  }
  entry.retry.reset();
  if (entry.again) run_pass(self, name);
}

void run_pass(self_ptr self, const std::string& name) {
  auto& st = self->state;
  auto& entry = st.clusters[name];
  if (entry.running) {
    entry.again = true;
    return;
  }
  entry.again = false;
  k8s::object_ptr cc = current_cluster(st, name, entry);
  if (!cc) {
    st.clusters.erase(name);
    return;
  }
  // Deletion: the owner references collect every object but the PVCs; with deletePVC they are
  // deleted here, then the finalizer removed.
  reconcile_plan plan;
  if (js::find_path(*cc, {"metadata", "deletionTimestamp"})) {
    std::vector<const js::Value*> claims;
    const auto& cache = st.caches[static_cast<int>(kind::pvc)];
    for (const auto& pvc_name : st.owned[static_cast<int>(kind::pvc)].of(name))
      if (auto o = cache.find(pvc_name); o != cache.end()) claims.push_back(o->second.get());
    plan = plan_deletion(*cc, claims);
  } else {
    plan = plan_pass(st, name, entry, cc);
    hand_pod_operations(self, name, plan);
    if (entry.probe_now) {
      entry.probe_now = false;
      request_probe(self, name, std::chrono::milliseconds(0));
    }
  }
  carry_out(self, name, entry, cc, std::move(plan));
}

reconcile_plan plan_pass(reconciler_state& st, const std::string& name, cluster_entry& entry,
                         const k8s::object_ptr& cc) {
  reconcile_input in{*cc,
                     {},
                     {},
                     {},
                     nullptr,
                     k8s::format_time(std::chrono::system_clock::now()),
                     entry.observed_generation,
                     entry.conditions,
                     &entry.facts};
  fill_facts(st, name, entry);
  const auto& sts_cache = st.caches[static_cast<int>(kind::statefulset)];
  for (const auto& sts_name : st.owned[static_cast<int>(kind::statefulset)].of(name))
    if (auto o = sts_cache.find(sts_name); o != sts_cache.end())
      in.statefulsets[sts_name] = o->second.get();
  // Fences are few: each lasts until the cache has our write.
  for (auto it = st.fences.begin(); it != st.fences.end();) {
    auto cached = in.statefulsets.find(it->first);
    auto c = sts_cache.find(it->first);
    if (c != sts_cache.end() && generation_of(c->second) >= it->second) {
      it = st.fences.erase(it);  // the cache caught up with our write
      continue;
    }
    if (cached != in.statefulsets.end() || c == sts_cache.end())
      in.stale_statefulsets.insert(it->first);
    ++it;
  }
  in.services = st.owned[static_cast<int>(kind::service)].of(name);
  if (auto p = st.caches[static_cast<int>(kind::pdb)].find(pdb_name(name));
      p != st.caches[static_cast<int>(kind::pdb)].end())
    in.pdb = p->second.get();

  // Pod operations: the pods, the runner's work and the outcomes to write.
  const auto pods = pods_of(st, name);
  const std::string operator_name = st.settings.config.operator_name.empty()
                                        ? std::string("casskop")
                                        : st.settings.config.operator_name;
  const auto now = std::chrono::system_clock::now();
  pod_operations_input ops =
      st.pod_ops.input(name, pods, joining_for_pod_operations(entry.facts), operator_name,
                       k8s::format_time(now), label_time(now));
  if (st.pod_ops_runner) in.pod_operations = &ops;

  reconcile_plan plan = plan_reconcile(in);
  st.pod_ops.started(name, plan.pod_operations.start);
  entry.status = plan.status;
  entry.waiting = plan.waiting;
  // An action starting to wait on a node (a ScaleDown's first decommission, a scale up's or a
  // ToDo pod operation's joining check) asks at once instead of at the next rest poll (up to
  // restPollSeconds).
  const bool busy = plan.nodes_busy || !plan.pod_operations.waiting.empty();
  if (busy && !entry.nodes_busy) entry.probe_now = true;
  entry.nodes_busy = busy;
  if (!plan.needs_fresh_ring) {
    entry.facts.dc_zero_seen.reset();
  } else if (!entry.facts.dc_zero_seen) {
    // Rounds numbered up to here may have asked the ring before the change: only a later one
    // decides it, asked now.
    entry.facts.dc_zero_seen = st.next_round - 1;
    entry.probe_now = true;
  }
  return plan;
}

void carry_out(self_ptr self, const std::string& name, cluster_entry& entry,
               const k8s::object_ptr& cc, reconcile_plan plan) {
  auto& st = self->state;
  ++entry.passes;
  entry.problems.clear();
  for (const auto& p : plan.problems) entry.problems.push_back(p.field + ": " + p.message);
  entry.refusals.clear();
  for (const auto& r : plan.refusals) entry.refusals.push_back(r.reason + " " + r.field);
  for (const auto& e : plan.events) {
    record_event(self, cc, e);
    log_line(e.warning ? k8s::log::level::warning : k8s::log::level::info, e.message, name,
             e.dc_rack, {{"reason", e.reason}});
  }
  send_node_calls(self, name, entry, plan.calls, cc);
  if (plan.writes.empty()) {
    st.pod_ops.pass_ended(name, true);
    if (!plan.waiting.empty())
      k8s::log::debug("Waiting", {{"cluster", name}, {"why", plan.waiting}});
    return;
  }
  entry.running = true;
  entry.pending = static_cast<int>(plan.writes.size());
  for (auto& w : plan.writes) {
    runtime::write_request r;
    r.id = st.next_id++;
    switch (w.what) {
      case object_write::verb::create:
        r.what = runtime::write_request::verb::create;
        break;
      case object_write::verb::update:
        r.what = runtime::write_request::verb::update;
        break;
      case object_write::verb::patch:
        r.what = runtime::write_request::verb::patch;
        break;
      case object_write::verb::remove:
        r.what = runtime::write_request::verb::remove;
        r.precondition_uid = w.precondition_uid;
        break;
    }
    const kind k = kind_named(w.kind);
    r.resource = resource_of(k);
    r.ns = st.settings.config.namespace_name;
    r.name = w.name;
    r.field_manager = field_manager;
    const char* verb = w.what == object_write::verb::create   ? "create"
                       : w.what == object_write::verb::update ? "update"
                       : w.what == object_write::verb::patch  ? "patch"
                                                              : "delete";
    write_in_flight f{name, k, w.name, w.dc_rack, verb};
    if (k == kind::cluster) {
      f.sent_observed_generation =
          js::find_path(w.body, {"status", "observedGeneration"}) != nullptr;
      f.sent_conditions = js::find_path(w.body, {"status", "conditions"}) != nullptr;
    }
    r.body = js::to_string(w.body);
    st.writes[r.id] = std::move(f);
    self->send(st.writer, std::move(r));
  }
}

void on_write_result(self_ptr self, runtime::write_result& r) {
  auto& st = self->state;
  auto it = st.writes.find(r.id);
  if (it == st.writes.end()) return;
  write_in_flight w = std::move(it->second);
  st.writes.erase(it);
  auto& entry = st.clusters[w.cluster];
  if (!r.ok) {
    entry.failed = true;
    entry.last_error = r.error.describe();
    // A conflict is a stale read: the cache's newer version runs the pass again.
    log_write(w,
              r.error.http_code == 409 ? "Write conflicted with a newer object; retrying"
                                       : "Write failed; retrying",
              r.error.describe());
  } else {
    ++entry.writes;
    entry.last_write = std::string(resource_of(w.what).kind) + " " + w.name + " (" + w.verb + ")";
    log_write(w,
              w.what == kind::cluster ? "Updated CassandraCluster"
              : w.verb == "create"    ? "Created"
              : w.verb == "delete"    ? "Deleted"
                                      : "Updated",
              "");
    if (w.what == kind::statefulset && r.object) st.fences[w.name] = generation_of(r.object);
    if (w.what == kind::cluster && r.object) {
      entry.written = r.object;
      // Fields the installed CRD prunes are not written again (else every pass would).
      if (w.sent_observed_generation &&
          !js::find_path(*r.object, {"status", "observedGeneration"})) {
        entry.observed_generation = false;
        k8s::log::info("The CassandraCluster CRD does not keep status.observedGeneration",
                       {{"cluster", w.cluster}});
      }
      if (w.sent_conditions && !js::find_path(*r.object, {"status", "conditions"})) {
        entry.conditions = false;
        k8s::log::info("The CassandraCluster CRD does not keep status.conditions",
                       {{"cluster", w.cluster}});
      }
    }
  }
  if (--entry.pending <= 0) finish_pass(self, w.cluster);
}

void take_changes(self_ptr self) {
  auto& st = self->state;
  std::set<std::string> touched, probe_now;
  for (auto& c : st.changes->take_all()) {
    auto& cache = st.caches[static_cast<int>(c.what)];
    std::string owner;
    auto& owned = st.owned[static_cast<int>(c.what)];
    if (c.object) {
      cache[c.name] = c.object;
      owner = c.what == kind::cluster ? c.name : owner_of(c.object);
      if (c.what != kind::cluster) owned.put(c.name, owner);
    } else {
      if (auto it = cache.find(c.name); it != cache.end()) {
        owner = c.what == kind::cluster ? c.name : owner_of(it->second);
        cache.erase(it);
      }
      owned.remove(c.name);
      if (c.what == kind::statefulset) st.fences.erase(c.name);
      if (c.what == kind::cluster && st.recorder)
        self->send(st.recorder,
                   runtime::forget_object{{"CassandraCluster", "db.orange.com/v2",
                                           st.settings.config.namespace_name, c.name, ""}});
    }
    if (!owner.empty()) touched.insert(owner);
    if (c.what == kind::pod && !owner.empty()) probe_now.insert(owner);
  }
  if (!st.synced) return;  // the first pass waits for every first list
  for (const auto& name : probe_now) {
    // A pod changed (started, Ready, gone): which nodes join, which are in the ring and where
    // keyspaces replicate are asked again before a scale up or a DC going to 0 relies on them.
    auto it = st.clusters.find(name);
    if (it == st.clusters.end()) continue;
    it->second.facts.joining.reset();
    it->second.facts.host_ids.reset();
    it->second.facts.replication = {};
  }
  for (const auto& name : touched) {
    run_pass(self, name);
    // A cluster seen for the first time: its nodes are asked from now on.
    if (auto it = st.clusters.find(name); it != st.clusters.end() && !it->second.probe_request)
      request_probe(self, name, std::chrono::milliseconds(0));
  }
  for (const auto& name : probe_now) request_probe(self, name, std::chrono::milliseconds(0));
}

std::string clusters_json(reconciler_state& st) {
  js::Document d(rapidjson::kArrayType);
  auto& a = d.GetAllocator();
  for (const auto& [name, o] : st.caches[0]) {
    js::Value e(rapidjson::kObjectType);
    js::set_string(e, "namespace", st.settings.config.namespace_name, a);
    js::set_string(e, "name", name, a);
    auto known = st.clusters.find(name);
    const cluster_entry empty;
    const cluster_entry& c = known == st.clusters.end() ? empty : known->second;
    cluster_status s = known == st.clusters.end() ? parse_cluster(*o).status : c.status;
    js::set_string(e, "phase", s.phase, a);
    js::set_string(e, "lastClusterAction", s.last_cluster_action, a);
    js::set_string(e, "lastClusterActionStatus", s.last_cluster_action_status, a);
    js::set_string(e, "waiting", c.waiting, a);
    js::Value racks(rapidjson::kObjectType);
    for (const auto& [dc_rack, rs] : s.racks) {
      js::Value r(rapidjson::kObjectType);
      js::set_string(r, "phase", rs.phase, a);
      js::set_string(r, "lastAction", rs.cassandra_last_action.name, a);
      js::set_string(r, "lastActionStatus", rs.cassandra_last_action.status, a);
      js::set_string(r, "startTime", rs.cassandra_last_action.start_time, a);
      js::set_string(r, "endTime", rs.cassandra_last_action.end_time, a);
      js::set_member(racks, dc_rack, std::move(r), a);
    }
    js::set_member(e, "racks", std::move(racks), a);
    js::Value problems(rapidjson::kArrayType);
    for (const auto& p : c.problems) problems.PushBack(js::string_value(p, a), a);
    js::set_member(e, "problems", std::move(problems), a);
    js::Value refusals(rapidjson::kArrayType);
    for (const auto& p : c.refusals) refusals.PushBack(js::string_value(p, a), a);
    js::set_member(e, "refused", std::move(refusals), a);
    js::set_string(e, "lastWrite", c.last_write, a);
    js::set_string(e, "lastError", c.last_error, a);
    js::set_member(e, "passes", js::Value(static_cast<uint64_t>(c.passes)), a);
    js::set_member(e, "writes", js::Value(static_cast<uint64_t>(c.writes)), a);
    js::set_member(e, "inPass", js::Value(c.running), a);
    d.PushBack(e, a);
  }
  return js::to_string(d);
}

std::string actors_json(reconciler_state& st) {
  js::Document d(rapidjson::kArrayType);
  auto& a = d.GetAllocator();
  for (const auto& [addr, r] : st.children) {
    js::Value e(rapidjson::kObjectType);
    js::set_string(e, "role", role_name(r), a);
    js::set_string(e, "cluster", st.settings.config.clusters.front().name, a);
    if (r == role::watcher) {
      js::set_string(e, "state", st.synced ? "synced" : "listing", a);
      js::set_string(e, "lastError", st.health_error, a);
    }
    if (r == role::writer)
      js::set_member(e, "inFlight", js::Value(static_cast<uint64_t>(st.writes.size())), a);
    d.PushBack(e, a);
  }
  return js::to_string(d);
}

// The pod operations runner, linked: if it fails, the reconciler fails with it and casskop's
// restart resumes the Ongoing pods from their labels.
void spawn_pod_operations(self_ptr self) {
  auto& st = self->state;
  pod_operations_runner_settings rs;
  rs.namespace_name = st.settings.config.namespace_name;
  rs.client = st.settings.registry->client(st.settings.config.clusters.front().name);
  rs.reconciler = caf::actor_cast<caf::actor>(self);
  rs.call = jolokia_node_caller(st.jolokia, rs.client, rs.namespace_name);
  st.pod_ops_runner = spawn_pod_operations_runner(self->system(), std::move(rs));
  self->link_to(st.pod_ops_runner);
}

jolokia_client_options client_options_of(const casskop_config& c) {
  jolokia_client_options o;
  o.timeout = std::chrono::milliseconds(c.jolokia.timeout_ms);
  o.exec_timeout = std::chrono::milliseconds(c.jolokia.exec_timeout_ms);
  return o;
}

caf::behavior reconciler(self_ptr self, reconciler_settings s) {
  auto& st = self->state;
  st.settings = std::move(s);
  const auto& source = st.settings.config.clusters.front();
  k8s::log::info("Configuring client for the cluster",
                 {{"kubernetes", source.name},
                  {"source", source.describe()},
                  {"namespace", st.settings.config.namespace_name}});
  st.settings.registry->connect(source);
  st.jolokia = std::make_shared<jolokia_client>(client_options_of(st.settings.config));
  for (role r : {role::watcher, role::writer, role::recorder}) spawn_child(self, r, false);
  spawn_pod_operations(self);
  self->set_exit_handler([=](caf::exit_msg& msg) {
    auto& st = self->state;
    auto it = st.children.find(msg.source);
    if (it == st.children.end()) return self->quit(msg.reason);  // we are told to stop
    role r = it->second;
    st.children.erase(it);
    if (msg.reason == caf::exit_reason::normal) return;
    k8s::log::error("An actor failed; restarting it",
                    {{"role", role_name(r)}, {"error", caf::to_string(msg.reason)}});
    if (r == role::writer) {
      // What it had in flight may or may not have been written: failed, decided again.
      std::vector<uint64_t> ids;
      for (const auto& [id, w] : st.writes) ids.push_back(id);
      for (auto id : ids) {
        runtime::write_result res;
        res.id = id;
        res.error = k8s::transport_error(k8s::error_kind::unreachable, "the writer failed");
        on_write_result(self, res);
      }
    }
    auto& b = st.restart_backoff[static_cast<int>(r)];
    b.on_failure(std::chrono::steady_clock::now());
    self->delayed_send(self, b.next_delay(), respawn_atom::value, static_cast<int>(r));
  });
  return {
      [=](changes_atom) { take_changes(self); },
      [=](health_atom, bool synced, const std::string& error) {
        auto& st = self->state;
        st.health_error = error;
        if (synced && !st.synced) {
          st.synced = true;
          k8s::log::info("First lists in: reconciling every CassandraCluster",
                         {{"count", std::to_string(st.caches[0].size())}});
          for (const auto& [name, o] : st.caches[0]) {
            run_pass(self, name);
            request_probe(self, name, std::chrono::milliseconds(0));
          }
        }
      },
      [=](runtime::write_result& r) { on_write_result(self, r); },
      [=](node_reply& r) { on_node_reply(self, r); },
      [=](secret_reply& r) { on_secret_reply(self, r); },
      [=](probe_atom, const std::string& name, uint64_t gen) {
        auto it = self->state.clusters.find(name);
        if (it == self->state.clusters.end() || it->second.probe_request != gen) return;
        start_round(self, name);
      },
      [=](retry_atom, const std::string& name) {
        auto& st = self->state;
        auto it = st.clusters.find(name);
        if (it == st.clusters.end()) return;
        it->second.retry_scheduled = false;
        run_pass(self, name);
      },
      [=](respawn_atom, int r) { spawn_child(self, static_cast<role>(r), true); },
      [=](pod_op_done_atom, const std::string& cluster, const operation_outcome& o) {
        self->state.pod_ops.ended(cluster, o);
        run_pass(self, cluster);
      },
      [=](clusters_atom) -> std::string { return clusters_json(self->state); },
      [=](actors_atom) -> std::string { return actors_json(self->state); },
      [=](ready_atom) -> std::string {
        auto& st = self->state;
        if (st.synced) return "";
        return st.health_error.empty() ? "first list not in yet" : st.health_error;
      },
      [=](reload_atom, casskop_config& c) {
        // The namespace and the cluster's name need a restart: kept, and said so. A new source
        // of the same cluster (credentials) is applied by the host through the registry, and
        // the log settings by the host too.
        auto& cfg = self->state.settings.config;
        if (c.namespace_name != cfg.namespace_name ||
            c.clusters.front().name != cfg.clusters.front().name)
          k8s::log::warn("The namespace and the cluster change only with a restart",
                         {{"namespace", cfg.namespace_name}, {"requested", c.namespace_name}});
        c.namespace_name = cfg.namespace_name;
        c.clusters = cfg.clusters;
        cfg = std::move(c);
        // The node prober and the pod operations share the client: both get the new limits.
        self->state.jolokia->set_options(client_options_of(cfg));
      },
  };
}

}  // namespace

caf::actor spawn_reconciler(caf::actor_system& sys, reconciler_settings s) {
  return sys.spawn(reconciler, std::move(s));
}

}  // namespace casskop
