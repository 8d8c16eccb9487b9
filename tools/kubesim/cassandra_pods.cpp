#include "tools/kubesim/cassandra_pods.h"

#include <chrono>
#include <iostream>
#include <mutex>
#include <random>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <fmt/format.h>

#include "k8s/http/http_server.h"
#include "k8s/json/base64.h"
#include "tools/kubesim/api_error.h"
#include "tools/kubesim/cassandra/jolokia.h"
#include "tools/kubesim/cassandra/readiness.h"
#include "tools/kubesim/cassandra_pod_spec.h"
#include "tools/kubesim/cluster_state.h"
#include "tools/kubesim/object_meta.h"

namespace kubesim {
namespace net = boost::asio;
namespace js = k8s::json;
namespace cs = cassandra;
using k8s::http::exchange;

namespace {

constexpr uint16_t kJolokiaPort = 8778;
constexpr std::chrono::milliseconds kTick{50};
constexpr int kBindAttempts = 32;

cs::Time now_ms() {
  return std::chrono::duration_cast<cs::Millis>(
      std::chrono::system_clock::now().time_since_epoch());
}

std::string pod_key(const std::string& cluster, const std::string& ns, const std::string& pod) {
  return cluster + "/" + ns + "/" + pod;
}

k8s::http::response to_response(const cs::HttpReply& r, cs::Time now) {
  return {r.status, r.content_type, r.body(now), r.headers};
}

snapshot_ptr get_or_null(cluster_state& state, const char* group, const char* plural,
                         const std::string& ns, const std::string& name) {
  auto type = state.find_type(group, "v1", plural);
  if (!type) return nullptr;
  try {
    return state.get(*type, ns, name);
  } catch (const api_error& e) {
    if (e.code == 404) return nullptr;
    throw;
  }
}

// The status patch that sets the pod's Ready and ContainersReady conditions and the `cassandra`
// container's ready flag and restartCount, at the resourceVersion read.
std::string readiness_patch(const snapshot& pod, bool ready, int restarts) {
  js::Document d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  js::Value meta(rapidjson::kObjectType);
  meta.AddMember("resourceVersion", js::string_value(std::to_string(pod.rv), a), a);
  js::Value status(rapidjson::kObjectType);
  const char* value = ready ? "True" : "False";
  js::Value conds(rapidjson::kArrayType);
  if (const auto* old = js::find_path(pod.doc, {"status", "conditions"}); old && old->IsArray())
    conds.CopyFrom(*old, a);
  const std::string now = now_rfc3339();
  for (auto& c : conds.GetArray()) {
    auto type = js::get_string(c, "type");
    if (type != "Ready" && type != "ContainersReady") continue;
    if (js::get_string(c, "status") != value) js::set_string(c, "lastTransitionTime", now, a);
    js::set_string(c, "status", value, a);
  }
  js::Value containers(rapidjson::kArrayType);
  if (const auto* old = js::find_path(pod.doc, {"status", "containerStatuses"});
      old && old->IsArray())
    containers.CopyFrom(*old, a);
  for (auto& c : containers.GetArray()) {
    if (js::get_string(c, "name") != "cassandra") continue;
    js::set_member(c, "ready", js::Value(ready), a);
    if (js::get_int(c, {"restartCount"}, 0) != restarts) {
      // The kubelet's record of the container killed by its liveness probe.
      js::Value last(rapidjson::kObjectType);
      js::Value terminated(rapidjson::kObjectType);
      terminated.AddMember("exitCode", 137, a);
      terminated.AddMember("reason", "Error", a);
      terminated.AddMember("finishedAt", js::string_value(now, a), a);
      last.AddMember("terminated", terminated, a);
      js::set_member(c, "lastState", std::move(last), a);
      js::set_member(c, "restartCount", js::Value(restarts), a);
    }
  }
  status.AddMember("conditions", conds, a);
  status.AddMember("containerStatuses", containers, a);
  d.AddMember("metadata", meta, a);
  d.AddMember("status", status, a);
  return js::to_string(d);
}

std::string quoted(const std::string& s) {
  js::Document d;
  return js::to_string(js::string_value(s, d.GetAllocator()));
}

int cassandra_restarts(const js::Value& pod) {
  if (const auto* list = js::find_path(pod, {"status", "containerStatuses"});
      list && list->IsArray())
    for (const auto& c : list->GetArray())
      if (js::get_string(c, "name") == "cassandra")
        return static_cast<int>(js::get_int(c, {"restartCount"}, 0));
  return 0;
}

bool pod_ready(const js::Value& pod) {
  if (const auto* conds = js::find_path(pod, {"status", "conditions"}); conds && conds->IsArray())
    for (const auto& c : conds->GetArray())
      if (js::get_string(c, "type") == "Ready") return js::get_string(c, "status") == "True";
  return false;
}

}  // namespace

struct cassandra_pods::impl : std::enable_shared_from_this<impl> {
  impl(net::io_context& io, unsigned first_prefix)
      : io(io), timer(io), rng(std::random_device{}()) {
    draw_prefix();
    if (first_prefix >= 1 && first_prefix <= 255) prefix_octet = first_prefix;
  }

  struct pod_entry {
    std::string cluster, ns, name, uid, key;
    cluster_state* state = nullptr;
    std::string ip;
    pod_dns dns;
    cs::StartSpec spec;
    std::optional<cs::Credentials> credentials;
    cs::ProbeEnv probe_env;
    probe_timing timing;
    cs::Time next_probe{0};
    int successes = 0, failures = 0;
    bool ready = false;
    probe_timing liveness;
    cs::Time next_liveness{0};
    int liveness_failures = 0;
    int restarts = 0;      // the container's restartCount
    std::string disk_key;  // <cluster>/<ns>/<claim>, "" once the claim is gone
    std::string version;   // from the image tag; "" keeps the Rings' default
    std::unique_ptr<k8s::http::listener> jolokia;
    cs::JolokiaFaults jolokia_faults;
    std::vector<std::shared_ptr<exchange>> held;  // hang fault: never answered
  };
  struct pending_reply {
    std::string key;
    std::shared_ptr<exchange> ex;
    cs::HttpReply reply;
    cs::Time due{0};
  };

  // Forwards PVC deletions to the io_context (the store calls under its lock).
  struct pvc_sink : watch_sink {
    std::weak_ptr<impl> owner;
    std::string cluster;
    bool deliver(const watch_event& e) override {
      auto self = owner.lock();
      if (!self) return false;
      if (!e.object || std::string_view(e.type) != "DELETED") return true;
      net::post(self->io, [w = owner, c = cluster, ns = meta_string(e.object->doc, "namespace"),
                           n = meta_string(e.object->doc, "name")] {
        if (auto s = w.lock()) s->claim_deleted(pod_key(c, ns, n));
      });
      return true;
    }
  };

  net::io_context& io;
  net::steady_timer timer;
  std::mutex m;
  bool stopped = false;
  cs::Rings rings;
  std::mt19937_64 rng;
  unsigned prefix_octet = 0;  // 127.<prefix_octet>.0.0/16
  unsigned next_ip = 0;
  double probe_time_scale = 1.0;
  std::map<std::string, std::unique_ptr<pod_entry>> pods;  // by key
  std::map<std::string, cs::DiskState> disks;              // by <cluster>/<ns>/<claim>
  std::map<std::string, std::string> last_ips;             // by pod key, kept after the pod goes
  std::map<std::string, std::string> next_ips;  // by pod key: the IP its next start takes
  // HTTP requests each pod's Jolokia endpoint received (the probes run inside kubesim and are
  // not counted), by pod key, kept across restarts: what a benchmark counts as casskop's calls.
  std::map<std::string, uint64_t> jolokia_calls;
  std::vector<pending_reply> pending;
  std::vector<std::pair<cluster_state*, uint64_t>> watches;

  void draw_prefix() {
    // 127.0.x.x holds 127.0.0.1 and resolvers (127.0.0.53): keep out of it.
    prefix_octet = 1 + static_cast<unsigned>(rng() % 254);
    next_ip = 0;
  }
  std::string take_ip() {
    unsigned n = next_ip++;
    return fmt::format("127.{}.{}.{}", prefix_octet, (n / 254) % 256, n % 254 + 1);
  }

  void arm_tick() {
    timer.expires_after(kTick);
    timer.async_wait([w = weak_from_this()](const boost::system::error_code& ec) {
      if (ec) return;
      if (auto s = w.lock()) s->tick();
    });
  }

  void on_jolokia(const std::string& key, const std::shared_ptr<exchange>& ex) {
    std::lock_guard lock(m);
    auto it = pods.find(key);
    if (stopped || it == pods.end()) return ex->abort();
    ++jolokia_calls[key];
    pod_entry& e = *it->second;
    const auto& r = ex->req();
    cs::HttpRequest req{r.method, r.target, std::nullopt, r.body};
    if (auto auth = r.header("Authorization"); !auth.empty()) req.authorization = std::string(auth);
    const cs::Time now = now_ms();
    cs::HttpReply reply = cs::handle(rings, key, now, req, e.credentials, e.jolokia_faults);
    if (reply.refused) return ex->abort();
    if (reply.hang) return e.held.push_back(ex);
    if (reply.delay.count() <= 0 && reply.waits_for.empty())
      return ex->reply(to_response(reply, now));
    const cs::Time due = now + reply.delay;
    pending.push_back({key, ex, std::move(reply), due});
  }

  // run.sh's `nc -z <seed> 8778` from pod `self`: the name resolves (cluster DNS in the pod's own
  // cluster, external-DNS names from anywhere) to a pod whose JVM is up.
  std::optional<std::string> probe_seed(const pod_entry& self, std::string name) {
    if (!name.empty() && name.back() == '.') name.pop_back();
    auto answering = [&](const pod_entry& e) -> std::optional<std::string> {
      const cs::Node* n = rings.node(e.key);
      if (e.key == self.key || !n || !n->jvm_up() || !e.jolokia) return std::nullopt;
      return e.ip;
    };
    for (const auto& [key, e] : pods)
      if (e->ip == name) return answering(*e);
    for (const auto& [key, e] : pods)
      if (e->cluster == self.cluster && cluster_name_matches(name, self.ns, e->dns))
        return answering(*e);
    for (const auto& [key, e] : pods)
      for (const auto& zone : zones_of(*e))
        if (name == e->dns.hostname + "." + zone) return answering(*e);
    return std::nullopt;
  }

  std::vector<std::string> zones_of(const pod_entry& e) {
    if (e.dns.subdomain.empty()) return {};
    auto svc = get_or_null(*e.state, "", "services", e.ns, e.dns.subdomain);
    return svc ? external_dns_zones(svc->doc) : std::vector<std::string>{};
  }

  // Starts (or starts again) the node of `e` with its stored disk.
  void start_node(pod_entry& e, const cs::DiskState& disk) {
    auto probe = [this, &e](const std::string& seed) { return probe_seed(e, seed); };
    auto out = rings.start(now_ms(), e.spec, disk, probe, rng());
    if (cs::Node* n = rings.node(e.key); n && !e.version.empty())
      n->settings().server_version = e.version;
    if (!out.error.empty())
      std::cerr << "kubesim: cassandra: " << e.key << " exited at start: " << out.error << "\n";
  }

  std::string start_pod(cluster_state& state, const js::Value& pod) {
    std::lock_guard lock(m);
    if (stopped) throw std::runtime_error("cassandra pods stopped");
    auto e = std::make_unique<pod_entry>();
    e->cluster = state.name();
    e->state = &state;
    e->ns = meta_string(pod, "namespace");
    e->name = meta_string(pod, "name");
    e->uid = meta_string(pod, "uid");
    e->key = pod_key(e->cluster, e->ns, e->name);
    if (auto old = pods.find(e->key); old != pods.end()) {
      teardown(*old->second);
      pods.erase(old);
    }
    if (auto wanted = next_ips.find(e->key); wanted != next_ips.end()) {
      // The IP-reuse fault: this start takes the address asked for, once.
      std::string error;
      e->ip = wanted->second;
      next_ips.erase(wanted);
      e->jolokia = bind_jolokia(e->key, e->ip, error);
      if (!e->jolokia)
        std::cerr << "kubesim: cassandra: " << e->key << " cannot reuse " << e->ip << " (" << error
                  << "): another IP is drawn\n";
    }
    for (int attempt = 0; !e->jolokia; ++attempt) {
      std::string error;
      e->ip = take_ip();
      e->jolokia = bind_jolokia(e->key, e->ip, error);
      if (e->jolokia) break;
      // Another process (a parallel test's kubesim) holds this address: another /16.
      if (attempt + 1 >= kBindAttempts)
        throw std::runtime_error(
            fmt::format("cannot bind a Jolokia endpoint for {}: {}", e->key, error));
      draw_prefix();
    }
    last_ips[e->key] = e->ip;
    auto secrets = [&state, ns = e->ns](const std::string& secret,
                                        const std::string& key) -> std::optional<std::string> {
      auto s = get_or_null(state, "", "secrets", ns, secret);
      if (!s) return std::nullopt;
      auto data = js::get_string(s->doc, {"data", key});
      return data.empty() ? std::nullopt : k8s::base64_decode(data);
    };
    auto env = cassandra_env(pod, e->ip, secrets);
    e->dns = dns_of(pod);
    e->spec.identity = {e->key, e->ip, env["CASSANDRA_CLUSTER_NAME"], env["CASSANDRA_DC"],
                        env["CASSANDRA_RACK"]};
    e->spec.seeds = env["CASSANDRA_SEEDS"];
    e->spec.num_tokens = cassandra_num_tokens(env["CONFIG_FILE_DATA"]);
    e->spec.own_names = cluster_dns_names(e->dns);
    for (const auto& zone : zones_of(*e)) e->spec.own_names.push_back(e->dns.hostname + "." + zone);
    // run.sh: the agent asks for basic auth only with CASSANDRA_AUTH_JOLOKIA=true (ref §3).
    if (env["CASSANDRA_AUTH_JOLOKIA"] == "true")
      e->credentials = cs::Credentials{env["JOLOKIA_USER"], env["JOLOKIA_PASSWORD"]};
    e->probe_env = {e->ip, env["JOLOKIA_USER"], env["JOLOKIA_PASSWORD"]};
    e->timing = scaled(cassandra_readiness_timing(pod), probe_time_scale);
    e->version = cassandra_image_version(pod);
    e->next_probe = now_ms() + cs::Millis(e->timing.initial_delay_ms);
    e->liveness = scaled(cassandra_liveness_timing(pod), probe_time_scale);
    e->next_liveness = now_ms() + cs::Millis(e->liveness.initial_delay_ms);
    if (auto claim = data_claim(pod); !claim.empty())
      e->disk_key = pod_key(e->cluster, e->ns, claim);
    cs::DiskState disk;
    if (auto d = disks.find(e->disk_key); !e->disk_key.empty() && d != disks.end())
      disk = d->second;
    start_node(*e, disk);
    std::string ip = e->ip;
    pods[e->key] = std::move(e);
    return ip;
  }

  // The Jolokia endpoint of pod `key` on ip:8778, open; nullptr (and `error`) when the bind fails.
  std::unique_ptr<k8s::http::listener> bind_jolokia(const std::string& key, const std::string& ip,
                                                    std::string& error) {
    k8s::http::listener_options lo;
    lo.address = ip;
    lo.port = kJolokiaPort;
    auto l = std::make_unique<k8s::http::listener>(
        io, lo, [w = weak_from_this(), key](std::shared_ptr<exchange> ex) {
          if (auto s = w.lock())
            s->on_jolokia(key, ex);
          else
            ex->abort();
        });
    try {
      l->open();
      return l;
    } catch (const std::exception& ex) {
      error = ex.what();
      return nullptr;
    }
  }

  // The pod goes: its disk is kept beside its claim, its node stops, its endpoint closes.
  void teardown(pod_entry& e) {
    if (const cs::Node* n = rings.node(e.key); n && !e.disk_key.empty())
      disks[e.disk_key] = n->disk();
    rings.stop(e.key);
    if (e.jolokia) e.jolokia->close();
    drop_connections(e);
  }

  // The JVM is gone: every request it held loses its connection.
  void drop_connections(pod_entry& e) {
    for (auto& ex : e.held) ex->abort();
    e.held.clear();
    for (auto it = pending.begin(); it != pending.end();) {
      if (it->key == e.key) {
        it->ex->abort();
        it = pending.erase(it);
      } else {
        ++it;
      }
    }
  }

  void pod_gone(const std::string& key, const std::string& uid) {
    std::lock_guard lock(m);
    auto it = pods.find(key);
    if (it == pods.end() || (!uid.empty() && it->second->uid != uid)) return;
    teardown(*it->second);
    pods.erase(it);
  }

  void claim_deleted(const std::string& disk_key) {
    std::lock_guard lock(m);
    disks.erase(disk_key);
    for (auto& [key, e] : pods)
      if (e->disk_key == disk_key) e->disk_key.clear();
  }

  void tick() {
    {
      std::lock_guard lock(m);
      if (stopped) return;
      const cs::Time now = now_ms();
      rings.advance(now);
      answer_pending(now);
      for (auto& [key, e] : pods) {
        liveness(*e, now);
        probe(*e, now);
        try {
          write_ready(*e);
        } catch (const std::exception& ex) {
          // A conflict or a pod on its way out: the next tick writes it again.
          if (!dynamic_cast<const api_error*>(&ex))
            std::cerr << "kubesim: cassandra: " << key << ": " << ex.what() << "\n";
        }
      }
    }
    arm_tick();
  }

  void answer_pending(cs::Time now) {
    for (auto it = pending.begin(); it != pending.end();) {
      const cs::Node* n = rings.node(it->key);
      bool done = now >= it->due;
      for (int id : it->reply.waits_for) done = done && n && n->work_done(id);
      if (!done) {
        ++it;
        continue;
      }
      it->ex->reply(to_response(it->reply, now));
      it = pending.erase(it);
    }
  }

  // The script both probes run (ref §2): a reply slower than the timeout fails it (curl gives up).
  bool probe_passes(pod_entry& e, cs::Time now, const probe_timing& t) {
    return !e.jolokia_faults.hang && e.jolokia_faults.delay < cs::Millis(t.timeout_ms) &&
           cs::readiness_probe(rings, e.key, now, e.probe_env, e.credentials);
  }

  // The kubelet's liveness prober: failureThreshold failures in a row kill the container, which
  // starts again at once (same pod IP, same disk); readiness starts over, as after a restart.
  void liveness(pod_entry& e, cs::Time now) {
    if (!e.liveness.defined || now < e.next_liveness) return;
    e.next_liveness = now + cs::Millis(e.liveness.period_ms);
    if (probe_passes(e, now, e.liveness)) {
      e.liveness_failures = 0;
      return;
    }
    if (++e.liveness_failures < e.liveness.failure_threshold) return;
    ++e.restarts;
    e.liveness_failures = 0;
    e.successes = e.failures = 0;
    e.ready = false;
    e.next_probe = now + cs::Millis(e.timing.initial_delay_ms);
    e.next_liveness = now + cs::Millis(e.liveness.initial_delay_ms);
    cs::DiskState disk;
    if (const cs::Node* n = rings.node(e.key)) disk = n->disk();
    rings.stop(e.key);
    drop_connections(e);
    if (e.jolokia && !e.jolokia->is_open()) e.jolokia->open();
    start_node(e, disk);
  }

  // The kubelet's prober: every period after the initial delay; Ready after successThreshold
  // passes in a row, not Ready after failureThreshold failures in a row.
  void probe(pod_entry& e, cs::Time now) {
    if (!e.timing.defined) {
      e.ready = true;
      return;
    }
    if (now < e.next_probe) return;
    e.next_probe = now + cs::Millis(e.timing.period_ms);
    if (probe_passes(e, now, e.timing)) {
      e.failures = 0;
      if (++e.successes >= e.timing.success_threshold) e.ready = true;
    } else {
      e.successes = 0;
      if (++e.failures >= e.timing.failure_threshold) e.ready = false;
    }
  }

  void write_ready(pod_entry& e) {
    auto pod = get_or_null(*e.state, "", "pods", e.ns, e.name);
    if (!pod || meta_string(pod->doc, "uid") != e.uid || has_deletion_timestamp(pod->doc) ||
        js::get_string(pod->doc, {"status", "phase"}) != "Running" ||
        (pod_ready(pod->doc) == e.ready && cassandra_restarts(pod->doc) == e.restarts))
      return;
    auto type = e.state->find_type("", "v1", "pods");
    e.state->patch(*type, e.ns, e.name, patch_type::merge,
                   readiness_patch(*pod, e.ready, e.restarts), true, {});
  }
};

cassandra_pods::cassandra_pods(net::io_context& io, unsigned first_prefix)
    : impl_(std::make_shared<impl>(io, first_prefix)) {}

cassandra_pods::~cassandra_pods() {
  stop();
}

void cassandra_pods::add_cluster(cluster_state& state) {
  auto type = state.find_type("", "v1", "persistentvolumeclaims");
  if (!type) return;
  auto sink = std::make_shared<impl::pvc_sink>();
  sink->owner = impl_;
  sink->cluster = state.name();
  watch_options o;
  o.from_now = true;
  uint64_t id = state.watch(*type, o, sink);
  std::lock_guard lock(impl_->m);
  impl_->watches.emplace_back(&state, id);
}

void cassandra_pods::start() {
  impl_->arm_tick();
}

void cassandra_pods::stop() {
  std::lock_guard lock(impl_->m);
  if (impl_->stopped) return;
  impl_->stopped = true;
  impl_->timer.cancel();
  for (auto& [state, id] : impl_->watches) state->unwatch(id);
  impl_->watches.clear();
  for (auto& [key, e] : impl_->pods) impl_->teardown(*e);
  impl_->pods.clear();
}

std::string cassandra_pods::start_pod(cluster_state& state, const js::Value& pod) {
  return impl_->start_pod(state, pod);
}

void cassandra_pods::pod_gone(const std::string& cluster, const std::string& ns,
                              const std::string& name, const std::string& uid) {
  impl_->pod_gone(pod_key(cluster, ns, name), uid);
}

std::optional<std::string> cassandra_pods::nodetool_status(const std::string& cluster,
                                                           const std::string& ns,
                                                           const std::string& pod) {
  std::lock_guard lock(impl_->m);
  auto key = pod_key(cluster, ns, pod);
  if (!impl_->pods.count(key)) return std::nullopt;
  // nodetool talks to the JVM's JMX port: a stopped or restarting JVM refuses the connection.
  const cs::Node* node = impl_->rings.node(key);
  if (!node || !node->jvm_up()) return std::nullopt;
  return impl_->rings.nodetool_status(key);
}

std::optional<cs::CqlshResult> cassandra_pods::cqlsh(const std::string& cluster,
                                                     const std::string& ns, const std::string& pod,
                                                     const std::string& statement) {
  std::lock_guard lock(impl_->m);
  auto key = pod_key(cluster, ns, pod);
  if (!impl_->pods.count(key)) return std::nullopt;
  const cs::Node* node = impl_->rings.node(key);  // cqlsh talks to the JVM's port 9042
  if (!node || !node->jvm_up()) return std::nullopt;
  return cs::run_cqlsh(impl_->rings, key, statement);
}

std::optional<std::string> cassandra_pods::set_faults(const std::string& cluster,
                                                      const std::string& ns, const std::string& pod,
                                                      const cassandra_pod_faults& f) {
  std::lock_guard lock(impl_->m);
  auto it = impl_->pods.find(pod_key(cluster, ns, pod));
  if (it == impl_->pods.end()) return std::nullopt;
  auto& e = *it->second;
  cs::Node* node = impl_->rings.node(e.key);
  if (!node) return std::nullopt;
  std::optional<std::string> next_ip = f.next_ip;
  if (f.next_ip_of) {
    auto ip = impl_->last_ips.find(pod_key(cluster, ns, *f.next_ip_of));
    if (ip == impl_->last_ips.end())
      throw std::invalid_argument(fmt::format(
          "nextIpOf: no Cassandra pod {}/{} in cluster {} ever ran", ns, *f.next_ip_of, cluster));
    next_ip = ip->second;
  }
  if (f.node) node->faults() = *f.node;
  if (f.jolokia) e.jolokia_faults = *f.jolokia;
  if (next_ip && next_ip->empty())
    impl_->next_ips.erase(e.key);
  else if (next_ip)
    impl_->next_ips[e.key] = *next_ip;
  if (f.down && *f.down && node->jvm_up()) {
    // The JVM killed: connection refused on the Jolokia port, peers see the node down.
    impl_->rings.stop(e.key);
    e.jolokia->close();
    impl_->drop_connections(e);
  } else if (f.down && !*f.down && !node->jvm_up()) {
    e.jolokia->open();
    cs::DiskState disk = node->disk();
    impl_->start_node(e, disk);
  }
  node = impl_->rings.node(e.key);
  const auto& nf = node->faults();
  const auto& jf = e.jolokia_faults;
  auto pending_ip = impl_->next_ips.find(e.key);
  return fmt::format(
      R"({{"pod":"{}","ip":"{}","nextIp":{},"mode":"{}","jvmUp":{},"ready":{},"node":{{"decommissionStuck":{},"decommissionRefused":{},"decommissionIgnored":{},"joiningStuck":{},"exitWhenDecommissioned":{},"mbeanMissing":{},"removeNodeRefused":{},"removeNodeHang":{},"describeRingError":{},"decommissionFails":{},"crashAtStart":{}}},"jolokia":{{"hang":{},"delayMs":{},"malformedJson":{},"httpStatus":{},"valueWrongType":{},"timestampMillis":{}}}}})",
      e.key, e.ip, quoted(pending_ip == impl_->next_ips.end() ? "" : pending_ip->second),
      cs::mode_name(node->mode()), node->jvm_up(), e.ready, nf.decommission_stuck,
      quoted(nf.decommission_refused), nf.decommission_ignored, nf.joining_stuck,
      nf.exit_when_decommissioned, nf.mbean_missing, quoted(nf.remove_node_refused),
      nf.remove_node_hang, quoted(nf.describe_ring_error), nf.decommission_fails,
      quoted(nf.crash_at_start), jf.hang, jf.delay.count(), jf.malformed_json, jf.http_status,
      jf.value_wrong_type, jf.timestamp_millis);
}

std::string cassandra_pods::list(const std::string& cluster) {
  std::lock_guard lock(impl_->m);
  js::Document d(rapidjson::kArrayType);
  auto& a = d.GetAllocator();
  for (const auto& [key, e] : impl_->pods) {
    if (e->cluster != cluster) continue;
    const cs::Node* n = impl_->rings.node(key);
    const cs::Ring* ring = impl_->rings.ring_of(key);
    js::Value item(rapidjson::kObjectType);
    js::set_string(item, "namespace", e->ns, a);
    js::set_string(item, "pod", e->name, a);
    js::set_string(item, "ip", e->ip, a);
    js::set_string(item, "mode", n ? cs::mode_name(n->mode()) : "", a);
    js::set_member(item, "jvmUp", js::Value(n && n->jvm_up()), a);
    js::set_member(item, "ready", js::Value(e->ready), a);
    js::set_member(item, "ring", js::Value(ring ? ring->id : 0), a);
    js::set_string(item, "hostId", n ? n->disk().host_id : "", a);
    auto calls = impl_->jolokia_calls.find(key);
    js::set_member(
        item, "jolokiaCalls",
        js::Value(static_cast<uint64_t>(calls == impl_->jolokia_calls.end() ? 0 : calls->second)),
        a);
    d.PushBack(item, a);
  }
  return js::to_string(d);
}

std::optional<cassandra_pod_faults> cassandra_pods::faults(const std::string& cluster,
                                                           const std::string& ns,
                                                           const std::string& pod) {
  std::lock_guard lock(impl_->m);
  auto it = impl_->pods.find(pod_key(cluster, ns, pod));
  if (it == impl_->pods.end()) return std::nullopt;
  cs::Node* node = impl_->rings.node(it->first);
  if (!node) return std::nullopt;
  cassandra_pod_faults f;
  f.node = node->faults();
  f.jolokia = it->second->jolokia_faults;
  f.down = !node->jvm_up();
  return f;
}

cs::Speeds cassandra_pods::speeds() const {
  std::lock_guard lock(impl_->m);
  return impl_->rings.defaults().speeds;
}

void cassandra_pods::set_speeds(const cs::Speeds& s) {
  std::lock_guard lock(impl_->m);
  impl_->rings.defaults().speeds = s;
  for (auto& [key, e] : impl_->pods)
    if (cs::Node* n = impl_->rings.node(key)) n->settings().speeds = s;
}

double cassandra_pods::probe_time_scale() const {
  std::lock_guard lock(impl_->m);
  return impl_->probe_time_scale;
}

void cassandra_pods::set_probe_time_scale(double factor) {
  std::lock_guard lock(impl_->m);
  impl_->probe_time_scale = factor;
}

std::string cassandra_pods::prefix() const {
  std::lock_guard lock(impl_->m);
  return fmt::format("127.{}", impl_->prefix_octet);
}

}  // namespace kubesim
