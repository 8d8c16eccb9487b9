// k8s::watcher against kubesim while faults are injected: a writer thread creates, updates and
// deletes ConfigMaps (never reusing a name, so a name is one object's identity) while watches are
// dropped, requests fail with 500 or 429, the cluster goes away, the history is compacted, the
// server is slow or the token is rotated. Afterwards the watcher's picture must equal kubesim's
// list (same names, same resourceVersions), no event may have been applied twice, and every
// deletion of an object the consumer knew must have reached it as a removed delta. Backoff is
// shortened (50 ms to 500 ms) and watches time out after a few seconds; every wait is bounded.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "k8s/api/client.h"
#include "k8s/api/connection.h"
#include "k8s/base/timer_service.h"
#include "k8s/watch/watcher.h"
#include "tests/support/kubesim_fixture.h"

using namespace testsupport;
using namespace std::chrono_literals;
namespace js = k8s::json;
namespace fs = std::filesystem;

namespace {

using steady = std::chrono::steady_clock;
using phase = k8s::list_watch_state::phase;

const k8s::resource configmaps{"", "v1", "configmaps", "ConfigMap", true};
constexpr const char* cms = "/api/v1/namespaces/default/configmaps";
// Every namespace of a real cluster (and of kubesim) holds the ConfigMap kube-root-ca.crt.
constexpr size_t root_ca = 1;

std::string name_of(const k8s::object_ptr& o) {
  return std::string(js::get_string(*o, {"metadata", "name"}));
}
std::string rv_of(const k8s::object_ptr& o) {
  return std::string(js::get_string(*o, {"metadata", "resourceVersion"}));
}

long long elapsed_ms(steady::time_point since) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - since).count();
}

// Everything the watcher's callbacks delivered. Shared with the callbacks, so it outlives them.
struct consumer_log {
  std::mutex m;
  std::map<std::string, std::string> picture;  // name -> resourceVersion, rebuilt from the deltas
  std::set<std::string> seen;                  // names ever upserted
  std::map<std::string, int> removed;          // name -> removed deltas
  int removed_total = 0;
  int init_done = 0;
  std::vector<k8s::watcher_status> statuses;
  std::atomic<int> inside{0};
  std::atomic<int> overlaps{0};      // a callback ran while another one was running
  std::atomic<bool> stopped{false};  // set once stop() returned
  std::atomic<int> after_stop{0};    // callbacks that ran after that

  void enter() {
    if (inside.fetch_add(1) != 0) ++overlaps;
    if (stopped) ++after_stop;
  }
  void leave() { inside.fetch_sub(1); }
};

std::shared_ptr<k8s::watcher> make_watcher(std::shared_ptr<k8s::client> c,
                                           std::shared_ptr<k8s::timer_service> timers,
                                           const std::shared_ptr<consumer_log>& log,
                                           int timeout_seconds = 3, size_t page_size = 10,
                                           std::chrono::milliseconds reset_after = 120s) {
  k8s::watcher_options o;
  o.what = configmaps;
  o.namespace_name = "default";
  o.page_size = page_size;
  o.timeout_seconds = timeout_seconds;
  o.backoff.initial = 50ms;
  o.backoff.max = 500ms;
  o.backoff.reset_after = reset_after;
  return k8s::watcher::create(
      std::move(c), std::move(timers), o,
      [log](const k8s::watch_change& c, const k8s::store_delta& d) {
        log->enter();
        {
          std::lock_guard lock(log->m);
          if (c.what == k8s::watch_change::kind::init_done) ++log->init_done;
          for (const auto& obj : d.upserted) {
            log->picture[name_of(obj)] = rv_of(obj);
            log->seen.insert(name_of(obj));
          }
          for (const auto& obj : d.removed) {
            log->picture.erase(name_of(obj));
            ++log->removed[name_of(obj)];
            ++log->removed_total;
          }
        }
        log->leave();
      },
      [log](const k8s::watcher_status& s) {
        log->enter();
        {
          std::lock_guard lock(log->m);
          log->statuses.push_back(s);
        }
        log->leave();
      });
}

// name -> resourceVersion of the default namespace's ConfigMaps, read with a fresh client (the
// token may have been rotated); nullopt when kubesim does not answer 200.
std::optional<std::map<std::string, std::string>> truth(const kubesim_instance& sim) {
  try {
    auto r = sim.client("k1").get(cms);
    if (r.status != 200) return std::nullopt;
    auto d = r.json();
    std::map<std::string, std::string> out;
    for (const auto& item : d["items"].GetArray())
      out[std::string(js::get_string(item, {"metadata", "name"}))] =
          std::string(js::get_string(item, {"metadata", "resourceVersion"}));
    return out;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::map<std::string, std::string> picture_of(const k8s::watcher& w) {
  std::map<std::string, std::string> out;
  for (const auto& obj : w.objects()) out[name_of(obj)] = rv_of(obj);
  return out;
}

std::string differences(const std::map<std::string, std::string>& have,
                        const std::map<std::string, std::string>& want) {
  std::ostringstream out;
  int n = 0;
  for (const auto& [name, rv] : want) {
    auto it = have.find(name);
    if (it == have.end())
      out << " missing " << name << "@" << rv;
    else if (it->second != rv)
      out << " " << name << "@" << it->second << " instead of @" << rv;
    else
      continue;
    if (++n == 10) return out.str() + " ...";
  }
  for (const auto& [name, rv] : have) {
    if (want.count(name)) continue;
    out << " deleted but still there: " << name << "@" << rv;
    if (++n == 10) return out.str() + " ...";
  }
  return out.str();
}

std::string configmap(const std::string& name) {
  return R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":")" + name +
         R"(","namespace":"default"},"data":{"k":"v"}})";
}

void seed(const kubesim_instance& sim, const std::string& prefix, int n) {
  auto c = sim.client("k1");
  for (int i = 0; i < n; ++i) {
    auto r = c.request("POST", cms, configmap(prefix + std::to_string(i)));
    REQUIRE_MESSAGE(r.status == 201, r.body);
  }
}

// A client with the token kubesim has now.
std::unique_ptr<api_client> fresh_client(const kubesim_instance& sim) {
  return std::make_unique<api_client>(
      client_options{sim.url("k1"), sim.token("k1"), sim.ca_pem("k1"), "", "", 30s});
}

// What a writer did. A name is never reused, so a deleted name is one deleted object.
struct write_stats {
  int creates = 0, updates = 0, deletes = 0;
  int refused = 0;    // the server answered an error: nothing was applied
  int ambiguous = 0;  // no answer (connection lost): may or may not have been applied
  std::set<std::string> created, deleted;
  std::map<std::string, std::string> write_rvs;  // name -> the resourceVersions its writes got

  void merge(const write_stats& o) {
    creates += o.creates;
    updates += o.updates;
    deletes += o.deletes;
    refused += o.refused;
    ambiguous += o.ambiguous;
    created.insert(o.created.begin(), o.created.end());
    deleted.insert(o.deleted.begin(), o.deleted.end());
    for (const auto& [name, rvs] : o.write_rvs) write_rvs[name] += rvs;
  }
};

// Creates, updates and deletes ConfigMaps on its own thread: `ops` operations, `pause` apart.
// Errors are expected while faults are injected; a 401 (rotated token) rereads the token.
class writer {
 public:
  writer(const kubesim_instance& sim, std::string prefix, int ops, std::chrono::milliseconds pause,
         unsigned seed, std::vector<std::string> existing = {})
      : sim_(sim) {
    thread_ = std::thread([this, prefix, ops, pause, seed, existing] {
      run(prefix, ops, pause, seed, existing);
      done_ = true;
    });
  }
  ~writer() {
    if (thread_.joinable()) thread_.join();
  }
  bool done() const { return done_; }
  write_stats join() {
    thread_.join();
    return stats_;
  }

 private:
  void run(const std::string& prefix, int ops, std::chrono::milliseconds pause, unsigned seed,
           std::vector<std::string> live) {
    std::mt19937 rng(seed);
    auto c = fresh_client(sim_);
    int next = 0;
    for (int i = 0; i < ops; ++i) {
      if (i > 0) std::this_thread::sleep_for(pause);
      int pick = static_cast<int>(rng() % 100);
      std::string method, path, body, type = "application/json";
      std::string name;
      enum { create, update, remove } op;
      if (live.size() < 4 || pick < 40) {
        op = create;
        name = prefix + std::to_string(next++);
        method = "POST";
        path = cms;
        body = configmap(name);
      } else {
        size_t at = rng() % live.size();
        name = live[at];
        path = std::string(cms) + "/" + name;
        if (pick < 70) {
          op = update;
          method = "PATCH";
          body = R"({"data":{"i":")" + std::to_string(i) + "\"}}";
          type = "application/merge-patch+json";
        } else {
          op = remove;
          method = "DELETE";
        }
      }
      http_reply r;
      try {
        r = c->request(method, path, body, type);
      } catch (const std::exception&) {
        ++stats_.ambiguous;
        // Unknown outcome: never touch this name again.
        if (op != create) live.erase(std::find(live.begin(), live.end(), name));
        continue;
      }
      if (r.status == 401) c = fresh_client(sim_);
      if (r.status >= 300) {
        ++stats_.refused;
        if (r.status == 404 && op != create) live.erase(std::find(live.begin(), live.end(), name));
        continue;
      }
      try {
        stats_.write_rvs[name] +=
            " " + std::string(js::get_string(r.json(), {"metadata", "resourceVersion"}));
      } catch (const std::exception&) {
        stats_.write_rvs[name] += " ?";
      }
      switch (op) {
        case create:
          ++stats_.creates;
          stats_.created.insert(name);
          live.push_back(name);
          break;
        case update:
          ++stats_.updates;
          break;
        case remove:
          ++stats_.deletes;
          stats_.deleted.insert(name);
          live.erase(std::find(live.begin(), live.end(), name));
          break;
      }
    }
  }

  const kubesim_instance& sim_;
  write_stats stats_;
  std::atomic<bool> done_{false};
  std::thread thread_;
};

std::vector<std::string> names(const std::string& prefix, int n) {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) out.push_back(prefix + std::to_string(i));
  return out;
}

// Runs `inject` every `every` until the writer is done.
template <class F>
void while_writing(const writer& w, std::chrono::milliseconds every, F&& inject) {
  while (!w.done()) {
    inject();
    std::this_thread::sleep_for(every);
  }
}

void control(const kubesim_instance& sim, const std::string& action,
             const std::string& query = "") {
  auto r = sim.control("k1", action, query);
  REQUIRE_MESSAGE(r.status == 200, (action + ": " + r.body));
}

js::Document cluster_info(const kubesim_instance& sim) {
  auto r = sim.cluster_info("k1");
  REQUIRE_MESSAGE(r.status == 200, r.body);
  return r.json();
}

enum class events { every_one, may_miss_while_disconnected };

// After the faults: the watcher converges on kubesim's truth, applied nothing twice, and its
// consumer was told of every deletion of an object it knew, exactly once. With `every_one` (the
// watch always resumed from its resourceVersion, no relist) it must also have seen every object
// created and every deletion made.
void expect_converged(const kubesim_instance& sim, const k8s::watcher& w,
                      const std::shared_ptr<consumer_log>& log, const write_stats& ws,
                      events mode) {
  std::map<std::string, std::string> want, have, told;
  bool same = eventually(
      [&] {
        auto t = truth(sim);
        if (!t) return false;
        want = std::move(*t);
        have = picture_of(w);
        {
          std::lock_guard lock(log->m);
          told = log->picture;
        }
        return have == want && told == want;
      },
      10s);
  CHECK_MESSAGE(same, "watcher picture vs kubesim:" << differences(have, want));
  CHECK_MESSAGE(told == want, "consumer picture vs kubesim:" << differences(told, want));
  CHECK(w.stale_events() == 0);
  CHECK(log->overlaps == 0);
  for (const auto& name : ws.deleted) CHECK_MESSAGE(!have.count(name), name << " was deleted");
  for (const auto& [name, rv] : want) CHECK_MESSAGE(have.count(name), name << " exists");

  std::lock_guard lock(log->m);
  int never_seen = 0;
  for (const auto& name : ws.deleted) {
    if (!log->seen.count(name)) {
      ++never_seen;  // created and deleted while the watcher was not watching
      // Evidence for the day this happens in every_one mode (seen once, not reproduced): where
      // the writes landed and where the watcher resumed from.
      if (mode == events::every_one) {
        std::string resumed;
        for (const auto& st : log->statuses)
          resumed += " " + std::string(k8s::to_string(st.phase)) + "@" + st.resource_version +
                     (st.last_error ? "(" + st.last_error->message + ")" : "");
        MESSAGE(name << " never seen; its writes got resourceVersions" << ws.write_rvs.at(name)
                     << "; watcher statuses:" << resumed);
      }
      CHECK_MESSAGE(!log->removed.count(name), name << " removed but never seen");
    } else {
      CHECK_MESSAGE(log->removed[name] == 1,
                    name << " was removed " << log->removed[name] << " times");
    }
  }
  for (const auto& [name, n] : log->removed) {
    CHECK_MESSAGE(n == 1, name << " removed " << n << " times");
    CHECK_MESSAGE(!want.count(name), name << " removed but exists");
    if (ws.ambiguous == 0) CHECK_MESSAGE(ws.deleted.count(name), name << " removed, never deleted");
  }
  for (const auto& name : log->seen)
    if (!want.count(name))
      CHECK_MESSAGE(log->removed.count(name), name << " deleted, never removed");
  if (ws.ambiguous == 0) CHECK(log->removed_total + never_seen == ws.deletes);
  CHECK(log->removed_total <= ws.deletes + ws.ambiguous);
  if (mode == events::every_one) {
    CHECK(ws.ambiguous == 0);
    CHECK(never_seen == 0);
    CHECK(log->removed_total == ws.deletes);
    for (const auto& name : ws.created) CHECK_MESSAGE(log->seen.count(name), name << " never seen");
  }
  MESSAGE("writes: " << ws.creates << " creates, " << ws.updates << " updates, " << ws.deletes
                     << " deletes, " << ws.refused << " refused, " << ws.ambiguous
                     << " ambiguous; removed deltas " << log->removed_total << "; deleted unseen "
                     << never_seen << "; relists " << w.status().relists << ", rewatches "
                     << w.status().rewatches);
}

bool watching(const k8s::watcher& w) {
  auto s = w.status();
  return s.synced && s.phase == phase::watching && !s.last_error;
}

// A local port that refuses connections (bound, never listening): a cluster out of reach.
class refusing_port {
 public:
  refusing_port() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    socklen_t len = sizeof a;
    REQUIRE(::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) == 0);
    port_ = ntohs(a.sin_port);
  }
  ~refusing_port() { ::close(fd_); }
  std::string url() const { return "https://127.0.0.1:" + std::to_string(port_); }

 private:
  int fd_ = -1;
  int port_ = 0;
};

struct fixture {
  kubesim_instance sim;
  k8s::connection_settings settings = k8s::load_kubeconfig(sim.kubeconfig("k1"));
  std::shared_ptr<k8s::client> client = std::make_shared<k8s::client>(settings);
  std::shared_ptr<k8s::timer_service> timers = std::make_shared<k8s::timer_service>();
  std::shared_ptr<consumer_log> log = std::make_shared<consumer_log>();
  std::shared_ptr<k8s::watcher> w;

  void start(int timeout_seconds = 3, size_t page_size = 10,
             std::chrono::milliseconds reset_after = 120s) {
    w = make_watcher(client, timers, log, timeout_seconds, page_size, reset_after);
    w->start();
  }
  ~fixture() {
    if (w) w->stop();
  }
};

}  // namespace

TEST_CASE(
    "watcher: watches closed every 100 ms resume from the resourceVersion, nothing missed or "
    "repeated") {
  fixture f;
  seed(f.sim, "seed-", 20);
  f.start();
  REQUIRE(eventually([&] { return watching(*f.w); }, 5s));

  writer wr(f.sim, "cm-", 300, 3ms, 1, names("seed-", 20));
  int closes = 0;
  while_writing(wr, 100ms, [&] {
    control(f.sim, "close-watches");
    ++closes;
  });
  auto ws = wr.join();
  CHECK(ws.refused == 0);
  expect_converged(f.sim, *f.w, f.log, ws, events::every_one);
  auto s = f.w->status();
  CHECK(s.relists == 0);  // a dropped watch is resumed, never relisted
  CHECK(s.rewatches >= closes / 2);
  CHECK(!s.last_error);
}

TEST_CASE(
    "watcher: 500 bursts on lists and watches are retried with backoff, nothing missed or "
    "repeated") {
  fixture f;
  seed(f.sim, "seed-", 20);
  control(f.sim, "errors", "rate=0.5&code=500");
  f.start();  // the first (paged) list meets the errors too
  REQUIRE(eventually([&] { return f.w->status().synced; }, 10s));

  writer wr(f.sim, "cm-", 300, 3ms, 2, names("seed-", 20));
  while_writing(wr, 100ms, [&] { control(f.sim, "close-watches"); });
  auto ws = wr.join();
  control(f.sim, "errors", "rate=0");
  CHECK(ws.refused > 0);
  expect_converged(f.sim, *f.w, f.log, ws, events::every_one);
  CHECK(f.w->status().relists == 0);
  bool saw_500 = false;
  {
    std::lock_guard lock(f.log->m);
    for (const auto& s : f.log->statuses)
      if (s.last_error && s.last_error->kind == k8s::error_kind::server_error) saw_500 = true;
  }
  CHECK(saw_500);
  CHECK(eventually([&] { return watching(*f.w); }, 5s));
}

TEST_CASE(
    "watcher: 429 bursts are retried no sooner than Retry-After, nothing missed or repeated") {
  fixture f;
  seed(f.sim, "seed-", 20);
  f.start();
  REQUIRE(eventually([&] { return watching(*f.w); }, 5s));

  control(f.sim, "errors", "rate=0.5&code=429&retryAfter=1");
  writer wr(f.sim, "cm-", 300, 3ms, 3, names("seed-", 20));
  while_writing(wr, 150ms, [&] { control(f.sim, "close-watches"); });
  auto ws = wr.join();
  control(f.sim, "errors", "rate=0");
  CHECK(ws.refused > 0);
  expect_converged(f.sim, *f.w, f.log, ws, events::every_one);
  CHECK(f.w->status().relists == 0);
  int throttled = 0;
  {
    std::lock_guard lock(f.log->m);
    for (const auto& s : f.log->statuses) {
      if (s.phase != phase::backing_off || !s.last_error ||
          s.last_error->kind != k8s::error_kind::too_many_requests)
        continue;
      ++throttled;
      CHECK(s.last_error->retry_after_seconds == 1);
      CHECK_MESSAGE(s.next_retry >= 1000ms, "retried after " << s.next_retry.count() << " ms");
    }
  }
  CHECK(throttled > 0);
  CHECK(eventually([&] { return watching(*f.w); }, 5s));
}

TEST_CASE(
    "watcher: an unreachable cluster, then a partition while objects are deleted and history "
    "compacted") {
  fixture f;
  seed(f.sim, "seed-", 20);
  f.start();
  REQUIRE(eventually([&] { return watching(*f.w); }, 5s));

  // The whole cluster goes away for a second while the writer runs (its writes fail meanwhile).
  writer wr(f.sim, "cm-", 300, 3ms, 4, names("seed-", 20));
  std::this_thread::sleep_for(300ms);
  control(f.sim, "unreachable");
  CHECK(eventually(
      [&] {
        auto s = f.w->status();
        return s.last_error && s.last_error->kind == k8s::error_kind::unreachable;
      },
      3s));
  std::this_thread::sleep_for(1s);
  control(f.sim, "reachable");
  auto ws = wr.join();
  CHECK(ws.refused + ws.ambiguous > 0);
  expect_converged(f.sim, *f.w, f.log, ws, events::may_miss_while_disconnected);
  REQUIRE(eventually([&] { return watching(*f.w); }, 5s));

  // Only the watcher loses the cluster (its client now points at a port that refuses
  // connections), so the changes made meanwhile can only reach it through a relist: the
  // history is compacted before it comes back.
  const int relists_before = f.w->status().relists;
  refusing_port nowhere;
  auto cut = f.settings;
  cut.server = nowhere.url();
  f.client->update_settings(cut);
  control(f.sim, "close-watches");
  REQUIRE(eventually(
      [&] {
        auto s = f.w->status();
        return s.last_error && s.last_error->kind == k8s::error_kind::unreachable;
      },
      3s));
  std::vector<std::string> known;
  {
    std::lock_guard lock(f.log->m);
    for (const auto& [name, rv] : f.log->picture) known.push_back(name);
  }
  REQUIRE(known.size() >= 10);
  auto c = f.sim.client("k1");
  write_stats offline;
  for (size_t i = 0; i < 5; ++i) {  // deleted while the watcher is away: must be reported removed
    REQUIRE(c.request("DELETE", std::string(cms) + "/" + known[i]).status == 200);
    ++offline.deletes;
    offline.deleted.insert(known[i]);
  }
  for (int i = 0; i < 3; ++i) {  // created and deleted meanwhile: never seen, never removed
    const std::string name = "ghost-" + std::to_string(i);
    REQUIRE(c.request("POST", cms, configmap(name)).status == 201);
    REQUIRE(c.request("DELETE", std::string(cms) + "/" + name).status == 200);
    ++offline.creates;
    ++offline.deletes;
    offline.created.insert(name);
    offline.deleted.insert(name);
  }
  REQUIRE(c.request("PATCH", std::string(cms) + "/" + known[5], R"({"data":{"k":"offline"}})",
                    "application/merge-patch+json")
              .status == 200);
  REQUIRE(c.request("POST", cms, configmap("offline-new")).status == 201);
  control(f.sim, "compact");
  std::this_thread::sleep_for(300ms);
  CHECK(f.w->status().last_error.has_value());  // still away
  f.client->update_settings(f.settings);

  ws.merge(offline);
  expect_converged(f.sim, *f.w, f.log, ws, events::may_miss_while_disconnected);
  CHECK(f.w->status().relists > relists_before);
  std::lock_guard lock(f.log->m);
  for (size_t i = 0; i < 5; ++i) CHECK_MESSAGE(f.log->removed[known[i]] == 1, known[i]);
  for (int i = 0; i < 3; ++i) CHECK(!f.log->seen.count("ghost-" + std::to_string(i)));
  CHECK(f.log->seen.count("offline-new"));
}

TEST_CASE("watcher: expire-next-watch and compact during writes make it relist, pages and all") {
  fixture f;
  seed(f.sim, "seed-", 30);
  f.start(3, 7);
  REQUIRE(eventually([&] { return watching(*f.w); }, 5s));

  writer wr(f.sim, "cm-", 300, 3ms, 5, names("seed-", 30));
  int round = 0;
  while_writing(wr, 100ms, [&] {
    control(f.sim, round++ % 2 == 0 ? "expire-next-watch" : "compact");
    control(f.sim, "close-watches");
  });
  auto ws = wr.join();
  CHECK(ws.refused == 0);
  expect_converged(f.sim, *f.w, f.log, ws, events::may_miss_while_disconnected);
  REQUIRE(eventually([&] { return watching(*f.w); }, 5s));
  CHECK(f.w->objects().size() > 2 * 7);  // every relist took several pages
  auto s = f.w->status();
  CHECK(s.relists >= 2);
  std::lock_guard lock(f.log->m);
  CHECK(f.log->init_done == s.relists + 1);
  bool saw_gone = false;
  for (const auto& st : f.log->statuses)
    if (st.last_error && st.last_error->kind == k8s::error_kind::gone) saw_gone = true;
  CHECK(saw_gone);
}

TEST_CASE("watcher: 200 ms of latency on every request, with watches dropped") {
  fixture f;
  seed(f.sim, "seed-", 20);
  control(f.sim, "latency", "ms=200");
  f.start();  // three list pages, each 200 ms late
  REQUIRE(eventually([&] { return watching(*f.w); }, 5s));

  // Every write takes 200 ms too: two writers, a few operations each.
  writer a(f.sim, "a-", 8, 0ms, 6, names("seed-", 10));
  writer b(f.sim, "b-", 8, 0ms, 7, {"seed-10", "seed-11", "seed-12", "seed-13", "seed-14"});
  while_writing(a, 400ms, [&] { control(f.sim, "close-watches"); });
  auto ws = a.join();
  ws.merge(b.join());
  CHECK(ws.refused == 0);
  expect_converged(f.sim, *f.w, f.log, ws, events::every_one);
  CHECK(f.w->status().relists == 0);
  CHECK(!f.w->status().last_error);
}

TEST_CASE(
    "watcher: a token rotated mid-watch is read from the token file when the watch reconnects") {
  fixture f;
  seed(f.sim, "seed-", 20);
  const std::string sa = fs::path(f.sim.kubeconfig("k1")).parent_path() / "serviceaccount";
  auto s = k8s::load_service_account_folder(sa);
  REQUIRE(!s.token_file.empty());
  s.namespace_name = "default";
  f.client = std::make_shared<k8s::client>(s);
  f.start();
  REQUIRE(eventually([&] { return watching(*f.w); }, 5s));
  const std::string old_token = f.sim.token("k1");

  writer wr(f.sim, "cm-", 300, 3ms, 8, names("seed-", 20));
  std::this_thread::sleep_for(300ms);
  control(f.sim, "rotate-token", "keepOld=false");
  REQUIRE(f.sim.token("k1") != old_token);
  // The open watch goes on with the old token (authentication happens when a request starts);
  // each new one must carry the new token.
  while_writing(wr, 150ms, [&] { control(f.sim, "close-watches"); });
  auto ws = wr.join();
  expect_converged(f.sim, *f.w, f.log, ws, events::every_one);
  auto st = f.w->status();
  CHECK(st.relists == 0);
  CHECK(st.rewatches >= 3);
  CHECK(eventually([&] { return watching(*f.w); }, 5s));
  // The old token is really revoked: a client that kept it is refused.
  auto stale = api_client({f.sim.url("k1"), old_token, f.sim.ca_pem("k1"), "", "", 10s});
  CHECK(stale.get(cms).status == 401);
}

TEST_CASE(
    "watcher: status goes synced, carries the error while unreachable and clears it, then stop() "
    "is prompt and final") {
  fixture f;
  seed(f.sim, "seed-", 5);
  f.start();
  REQUIRE(eventually([&] { return watching(*f.w); }, 5s));
  {
    std::lock_guard lock(f.log->m);
    REQUIRE(!f.log->statuses.empty());
    // Only statuses before the first complete list are unsynced; the first synced one carries
    // the list's resourceVersion and no error.
    auto first_synced = std::find_if(f.log->statuses.begin(), f.log->statuses.end(),
                                     [](const auto& s) { return s.synced; });
    REQUIRE(first_synced != f.log->statuses.end());
    CHECK(!first_synced->resource_version.empty());
    CHECK(!first_synced->last_error);
    CHECK(first_synced->relists == 0);
    CHECK(f.log->init_done == 1);
    CHECK(f.log->seen.size() == 5 + root_ca);
  }
  CHECK(f.w->objects().size() == 5 + root_ca);

  control(f.sim, "unreachable");
  REQUIRE(eventually(
      [&] {
        auto s = f.w->status();
        return s.last_error && s.last_error->kind == k8s::error_kind::unreachable;
      },
      3s));
  auto down = f.w->status();
  CHECK(down.synced);  // the picture is kept, only stale
  CHECK(down.phase != phase::watching);
  CHECK(f.w->objects().size() == 5 + root_ca);
  {
    std::lock_guard lock(f.log->m);
    CHECK(std::any_of(f.log->statuses.begin(), f.log->statuses.end(), [](const auto& s) {
      return s.phase == phase::backing_off && s.last_error &&
             s.last_error->kind == k8s::error_kind::unreachable && s.next_retry > 0ms &&
             s.next_retry <= 500ms;
    }));
  }
  control(f.sim, "reachable");
  REQUIRE(eventually([&] { return watching(*f.w); }, 5s));
  {
    std::lock_guard lock(f.log->m);
    const auto& last = f.log->statuses.back();
    CHECK(last.phase == phase::watching);
    CHECK(!last.last_error);
  }
  CHECK(f.w->status().relists == 0);  // the history is intact: resumed, not relisted

  // stop() while a watch request waits on a slow server: it returns at once, and nothing is
  // called afterwards even though the request completes later and writes keep coming.
  control(f.sim, "latency", "ms=500");
  control(f.sim, "close-watches");
  std::this_thread::sleep_for(100ms);
  writer wr(f.sim, "late-", 2, 0ms, 9, names("seed-", 5));
  auto start = steady::now();
  f.w->stop();
  f.log->stopped = true;
  CHECK(elapsed_ms(start) < 200);
  f.w->stop();  // idempotent
  wr.join();
  control(f.sim, "latency", "ms=0");
  control(f.sim, "close-watches");
  auto c = f.sim.client("k1");
  REQUIRE(c.request("POST", cms, configmap("after-stop")).status == 201);
  std::this_thread::sleep_for(800ms);
  CHECK(f.log->after_stop == 0);
  CHECK(eventually([&] { return js::get_int(cluster_info(f.sim), {"openWatches"}, -1) == 0; }, 3s));

  // stop() from another thread while a writer keeps the callbacks busy.
  auto log2 = std::make_shared<consumer_log>();
  auto w2 = make_watcher(f.client, f.timers, log2);
  w2->start();
  REQUIRE(eventually([&] { return watching(*w2); }, 5s));
  writer busy(f.sim, "busy-", 200, 0ms, 10);
  std::this_thread::sleep_for(200ms);
  start = steady::now();
  std::thread stopper([&] {
    w2->stop();
    log2->stopped = true;
  });
  stopper.join();
  CHECK(elapsed_ms(start) < 200);
  busy.join();
  std::this_thread::sleep_for(300ms);
  CHECK(log2->after_stop == 0);
  CHECK(log2->overlaps == 0);
  CHECK(w2->stale_events() == 0);
}

TEST_CASE(
    "watcher: backoff starts over after reset_after of health, however often the watch reopened") {
  fixture f;
  seed(f.sim, "seed-", 3);
  f.start(3, 10, 400ms);
  REQUIRE(eventually([&] { return watching(*f.w); }, 5s));
  auto backing_off_unreachable = [&](size_t from) -> std::optional<k8s::watcher_status> {
    std::lock_guard lock(f.log->m);
    for (size_t i = from; i < f.log->statuses.size(); ++i) {
      const auto& s = f.log->statuses[i];
      if (s.phase == phase::backing_off && s.last_error &&
          s.last_error->kind == k8s::error_kind::unreachable)
        return s;
    }
    return std::nullopt;
  };
  auto statuses = [&] {
    std::lock_guard lock(f.log->m);
    return f.log->statuses.size();
  };

  // Failures in a row grow the delay to its maximum (50, 100, 200, 400, then 500 ms).
  control(f.sim, "unreachable");
  size_t from = statuses();
  CHECK(eventually(
      [&] {
        std::lock_guard lock(f.log->m);
        for (size_t i = from; i < f.log->statuses.size(); ++i)
          if (f.log->statuses[i].phase == phase::backing_off &&
              f.log->statuses[i].next_retry >= 400ms)
            return true;
        return false;
      },
      5s));
  control(f.sim, "reachable");
  REQUIRE(eventually([&] { return watching(*f.w); }, 5s));

  // Healthy for twice reset_after, the watch reopened every 100 ms meanwhile (clean ends).
  for (int i = 0; i < 8; ++i) {
    std::this_thread::sleep_for(100ms);
    control(f.sim, "close-watches");
  }
  std::this_thread::sleep_for(50ms);
  from = statuses();
  control(f.sim, "unreachable");
  std::optional<k8s::watcher_status> first;
  REQUIRE(eventually([&] { return (first = backing_off_unreachable(from)).has_value(); }, 3s));
  CHECK_MESSAGE(first->next_retry < 100ms, "the first retry after a long healthy spell waits "
                                               << first->next_retry.count() << " ms");
  control(f.sim, "reachable");
  CHECK(eventually([&] { return watching(*f.w); }, 5s));
}

TEST_CASE(
    "watcher: its owner may let go of it and of the timer service from a callback on the timer "
    "thread") {
  kubesim_instance sim;
  control(sim, "unreachable");  // the first list fails: the retry comes from the timer thread
  struct owner {
    std::shared_ptr<k8s::watcher> w;
    std::shared_ptr<k8s::timer_service> timers;
    std::atomic<bool> released{false};
  };
  auto o = std::make_shared<owner>();
  o->timers = std::make_shared<k8s::timer_service>();
  auto client = std::make_shared<k8s::client>(k8s::load_kubeconfig(sim.kubeconfig("k1")));
  k8s::watcher_options opts;
  opts.what = configmaps;
  opts.namespace_name = "default";
  opts.backoff.initial = 50ms;
  opts.backoff.max = 500ms;
  o->w = k8s::watcher::create(
      client, o->timers, opts, [](const k8s::watch_change&, const k8s::store_delta&) {},
      [o](const k8s::watcher_status& s) {
        // The retry after a backoff runs on the timer thread: the owner drops everything there,
        // so the watcher and the timer service go away on that thread when the callback returns.
        if (s.phase == phase::listing && !o->released) {
          o->w.reset();
          o->timers.reset();
          o->released = true;
        }
      });
  std::weak_ptr<k8s::watcher> watcher_alive = o->w;
  std::weak_ptr<k8s::timer_service> timers_alive = o->timers;
  o->w->start();
  REQUIRE(eventually([&] { return o->released.load(); }, 5s));
  CHECK(eventually([&] { return watcher_alive.expired() && timers_alive.expired(); }, 2s));
}

TEST_CASE(
    "watcher: the transform shapes what is stored and handed on, for listed and watched objects") {
  kubesim_instance sim;
  seed(sim, "listed-", 3);
  auto client = std::make_shared<k8s::client>(k8s::load_kubeconfig(sim.kubeconfig("k1")));
  auto timers = std::make_shared<k8s::timer_service>();
  k8s::watcher_options o;
  o.what = configmaps;
  o.namespace_name = "default";
  std::atomic<int> transformed{0};
  o.transform = [&transformed](const k8s::object_ptr& obj) -> k8s::object_ptr {
    ++transformed;
    auto d = std::make_shared<js::Document>(js::copy_of(*obj));
    js::remove_member(*d, "data");
    return d;
  };
  struct delivered {
    std::mutex m;
    std::vector<std::string> with_data;  // names of objects handed on still holding "data"
    int upserts = 0;
  };
  auto seen = std::make_shared<delivered>();
  auto w = k8s::watcher::create(client, timers, o,
                                [seen](const k8s::watch_change&, const k8s::store_delta& d) {
                                  std::lock_guard lock(seen->m);
                                  for (const auto& obj : d.upserted) {
                                    ++seen->upserts;
                                    if (js::find(*obj, "data"))
                                      seen->with_data.push_back(name_of(obj));
                                  }
                                });
  w->start();
  REQUIRE(eventually([&] { return watching(*w); }, 5s));
  seed(sim, "watched-", 2);
  REQUIRE(eventually([&] { return w->objects().size() == 5 + root_ca; }, 5s));
  for (const auto& obj : w->objects()) {
    CAPTURE(name_of(obj));
    CHECK(js::find(*obj, "data") == nullptr);
    CHECK(js::get_string(*obj, {"metadata", "namespace"}) == "default");
  }
  CHECK(transformed >= 5 + root_ca);
  w->stop();
  std::lock_guard lock(seen->m);
  CHECK(seen->upserts >= 5 + root_ca);
  CHECK(seen->with_data.empty());
}
