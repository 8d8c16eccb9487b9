#include "k8s/api/tls_explainer.h"

#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

namespace k8s {

using steady = std::chrono::steady_clock;
using done_fn = std::function<void(std::string)>;

// Shared by the explainer and its thread, so that the thread may outlive the explainer when the
// explainer is destroyed from that very thread (a `done` that drops the last client).
struct tls_explainer::state {
  connection_settings settings;
  options opts;

  mutable std::mutex mutex;
  std::condition_variable wake;
  std::atomic<bool> stop{false};
  std::thread worker;  // started by the first failure

  struct known_message {
    std::string message;
    steady::time_point until;
  };
  std::map<std::string, known_message> known;  // by failure key

  struct job {
    std::string key;
    std::string transport_message;
    std::vector<done_fn> waiting;
  };
  std::deque<job> jobs;  // the front one is being diagnosed; one job per key
  size_t runs = 0;

  static std::string key_of(const std::string& message, int code) {
    return message + " #" + std::to_string(code);
  }

  void deliver(std::vector<done_fn> waiting, const std::string& message) {
    for (auto& done : waiting) {
      if (opts.post)
        opts.post([done = std::move(done), message] { done(message); });
      else
        done(message);
    }
  }

  // Diagnoses the jobs one after the other until stopped.
  void run() {
    for (;;) {
      std::string transport_message;
      {
        std::unique_lock lock(mutex);
        wake.wait(lock, [&] { return stop || !jobs.empty(); });
        if (stop) break;
        transport_message = jobs.front().transport_message;
      }
      tls_diagnosis d = opts.diagnose(settings, stop);
      std::string message = tls_failure_message(settings, d, transport_message);
      std::vector<done_fn> waiting;
      {
        std::lock_guard lock(mutex);
        if (stop) break;  // the front job is completed below with the others
        job& j = jobs.front();
        waiting = std::move(j.waiting);
        const bool conclusive = d.found != tls_diagnosis::finding::no_answer &&
                                d.found != tls_diagnosis::finding::handshake_ok;
        known[j.key] = {message,
                        steady::now() + (conclusive ? opts.reuse : opts.reuse_inconclusive)};
        jobs.pop_front();
        ++runs;
      }
      deliver(std::move(waiting), message);
    }
    fail_pending();
  }

  // Completes every pending explanation without a diagnosis (shutting down).
  void fail_pending() {
    std::deque<job> left;
    {
      std::lock_guard lock(mutex);
      left.swap(jobs);
    }
    for (auto& j : left)
      deliver(std::move(j.waiting),
              tls_failure_message(settings,
                                  {tls_diagnosis::finding::no_answer, "the client was closed"},
                                  j.transport_message));
  }
};

tls_explainer::tls_explainer(connection_settings s, options o) : state_(std::make_shared<state>()) {
  s.token.clear();
  s.token_file.clear();
  state_->settings = std::move(s);
  if (!o.diagnose)
    o.diagnose = [timeout = o.timeout](const connection_settings& cs,
                                       const std::atomic<bool>& stop) {
      return diagnose_tls(cs, timeout, &stop);
    };
  state_->opts = std::move(o);
}

tls_explainer::~tls_explainer() {
  {
    std::lock_guard lock(state_->mutex);
    state_->stop = true;
  }
  state_->wake.notify_all();
  if (!state_->worker.joinable()) return;
  if (state_->worker.get_id() == std::this_thread::get_id())
    state_->worker.detach();  // the thread holds the state and ends on its own
  else
    state_->worker.join();
}

void tls_explainer::explain(const std::string& transport_message, int transport_code,
                            std::function<void(std::string message)> done) {
  const std::string key = state::key_of(transport_message, transport_code);
  std::string ready;
  {
    std::lock_guard lock(state_->mutex);
    auto& st = *state_;
    if (auto k = st.known.find(key); k != st.known.end()) {
      if (steady::now() < k->second.until)
        ready = k->second.message;
      else
        st.known.erase(k);
    }
    if (ready.empty()) {
      for (auto& j : st.jobs) {
        if (j.key == key) {
          j.waiting.push_back(std::move(done));
          return;
        }
      }
      st.jobs.push_back({key, transport_message, {}});
      st.jobs.back().waiting.push_back(std::move(done));
      if (!st.worker.joinable() && !st.stop) st.worker = std::thread([s = state_] { s->run(); });
    }
  }
  if (!ready.empty()) return state_->deliver({std::move(done)}, ready);
  state_->wake.notify_one();
}

size_t tls_explainer::diagnoses_run() const {
  std::lock_guard lock(state_->mutex);
  return state_->runs;
}

}  // namespace k8s
