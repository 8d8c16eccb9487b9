#include "tools/kuttl/assert_watch.h"

#include <set>

#include "k8s/watch/watch_event.h"
#include "tools/kuttl/cluster.h"
#include "tools/kuttl/subset.h"

namespace kuttl {

namespace js = k8s::json;

void assert_watch::shared::update(const std::string& kind_key,
                                  const std::vector<k8s::watch_change>& changes) {
  for (const auto& c : changes) picture.apply(kind_key, c);
  if (!changes.empty() && !broken && !matched && picture.all_match(asserts)) {
    matched = true;
    cv.notify_all();
  }
}

void assert_watch::shared::on_line(const std::string& kind_key, std::string_view line) {
  k8s::watch_event e;
  std::string why;
  std::lock_guard<std::mutex> lock(m);
  if (broken) return;
  auto& state = states[kind_key];
  std::vector<k8s::watch_change> changes;
  if (!decode_watch_line(line, e, why)) {
    broken = true;
    return;
  }
  auto next = state.on_watch_event(e, changes);
  if (next.what != k8s::list_watch_action::kind::none) broken = true;  // an ERROR event
  update(kind_key, changes);
}

void assert_watch::shared::on_end(const std::optional<k8s::api_error>&) {
  // Not reopened (the step is short; the polls go on), and events missed since the end would
  // leave a picture that is no longer the cluster's.
  std::lock_guard<std::mutex> lock(m);
  broken = true;
}

assert_watch::assert_watch(cluster& c, const std::vector<js::Document>& asserts,
                           const std::string& ns)
    : state_(std::make_shared<shared>()) {
  for (const auto& a : asserts) state_->asserts.push_back(js::copy_of(a));
  std::set<std::string> seen;
  for (const auto& a : asserts) {
    const std::string key = kind_key_of(a);
    if (!seen.insert(key).second) continue;
    auto r = c.resource_for(std::string(js::get_string(a, "apiVersion")),
                            std::string(js::get_string(a, "kind")));
    if (!r) {
      state_->broken = true;  // the polls report it
      continue;
    }
    const std::string where = r.value().namespaced ? ns : "";
    auto page = c.list(r.value(), where);
    if (!page) {
      state_->broken = true;
      continue;
    }
    std::string rv;
    {
      std::lock_guard<std::mutex> lock(state_->m);
      auto& state = state_->states[key];
      std::vector<k8s::watch_change> changes;
      state.start();
      rv = state.on_list_page(page.value(), changes).resource_version;
      state_->update(key, changes);
    }
    std::shared_ptr<shared> s = state_;
    streams_.push_back(c.watch(
        r.value(), where, rv, [s, key](std::string_view line) { s->on_line(key, line); },
        [s](const std::optional<k8s::api_error>& e) { s->on_end(e); }));
  }
}

assert_watch::~assert_watch() {
  {
    std::lock_guard<std::mutex> lock(state_->m);
    state_->broken = true;  // events still in flight change nothing
  }
  for (auto& s : streams_)
    if (s) s->cancel();
}

bool assert_watch::wait_matched(std::chrono::milliseconds d) {
  std::unique_lock<std::mutex> lock(state_->m);
  return state_->cv.wait_for(lock, d, [&] { return state_->matched; });
}

}  // namespace kuttl
