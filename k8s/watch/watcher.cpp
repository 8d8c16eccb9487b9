#include "k8s/watch/watcher.h"

#include <algorithm>

#include "k8s/watch/cache_metrics.h"

namespace k8s {

const char* to_string(list_watch_state::phase p) {
  switch (p) {
    case list_watch_state::phase::empty:
      return "empty";
    case list_watch_state::phase::listing:
      return "listing";
    case list_watch_state::phase::listed:
      return "listed";
    case list_watch_state::phase::watching:
      return "watching";
    case list_watch_state::phase::backing_off:
      return "backing-off";
  }
  return "unknown";
}

std::shared_ptr<watcher> watcher::create(std::shared_ptr<client> c,
                                         std::shared_ptr<timer_service> timers, watcher_options o,
                                         change_callback on_change, status_callback on_status) {
  auto w = std::make_shared<watcher>(std::move(c), std::move(timers), std::move(o),
                                     std::move(on_change), std::move(on_status));
  if (!w->options_.metric_labels.empty()) track_cache_metrics(w);
  return w;
}

watcher::watcher(std::shared_ptr<client> c, std::shared_ptr<timer_service> timers,
                 watcher_options o, change_callback on_change, status_callback on_status)
    : client_(std::move(c)),
      timers_(std::move(timers)),
      options_(std::move(o)),
      on_change_(std::move(on_change)),
      on_status_(std::move(on_status)),
      backoff_(options_.backoff) {}

watcher::~watcher() {
  stop();
}

void watcher::start() {
  std::lock_guard lock(mutex_);
  if (!stopped_) return;
  stopped_ = false;
  act(state_.start());
}

void watcher::stop() {
  std::shared_ptr<stream_handle> stream;
  {
    std::lock_guard lock(mutex_);
    stopped_ = true;
    ++generation_;
    stream = std::move(stream_);
    if (retry_timer_) *retry_timer_ = true;
  }
  if (stream) stream->cancel();
}

watcher_status watcher::status() const {
  std::lock_guard lock(mutex_);
  return last_reported_;
}

std::vector<object_ptr> watcher::objects() const {
  std::lock_guard lock(mutex_);
  return store_.list();
}

cache_usage watcher::usage() const {
  std::lock_guard lock(mutex_);
  return {store_.size(), store_.bytes()};
}

uint64_t watcher::stale_events() const {
  std::lock_guard lock(mutex_);
  return store_.stale_events();
}

void watcher::end_stream() {
  ++generation_;
  if (stream_) {
    auto s = std::move(stream_);
    s->cancel();
  }
}

void watcher::act(list_watch_action a) {
  if (stopped_) return;
  const uint64_t gen = generation_;
  std::weak_ptr<watcher> weak = weak_from_this();
  switch (a.what) {
    case list_watch_action::kind::none:
      break;
    case list_watch_action::kind::list_page: {
      end_stream();
      list_options lo;
      lo.label_selector = options_.label_selector;
      lo.field_selector = options_.field_selector;
      lo.limit = options_.page_size;
      lo.continue_token = a.continue_token;
      const uint64_t list_gen = generation_;
      client_->list(options_.what, options_.namespace_name, lo,
                    [weak, list_gen](result<list_page> r) {
                      if (auto self = weak.lock()) self->on_list(list_gen, std::move(r));
                    });
      break;
    }
    case list_watch_action::kind::start_watch: {
      end_stream();
      watch_options wo;
      wo.label_selector = options_.label_selector;
      wo.field_selector = options_.field_selector;
      wo.resource_version = a.resource_version;
      wo.timeout_seconds = options_.timeout_seconds;
      wo.allow_bookmarks = true;
      const uint64_t watch_gen = generation_;
      stream_ = client_->watch(
          options_.what, options_.namespace_name, wo,
          [weak, watch_gen](std::string_view line) {
            if (auto self = weak.lock()) self->on_line(watch_gen, line);
          },
          [weak, watch_gen](std::optional<api_error> e) {
            if (auto self = weak.lock()) self->on_end(watch_gen, std::move(e));
          },
          [weak, watch_gen] {
            if (auto self = weak.lock()) self->on_open(watch_gen);
          });
      break;
    }
    case list_watch_action::kind::back_off: {
      end_stream();
      backoff_.on_failure(std::chrono::steady_clock::now());
      next_retry_ = backoff_.next_delay();
      // A server that said when to come back (429 or 503 with Retry-After) is not asked sooner.
      if (const auto& e = state_.last_error(); e && e->retry_after_seconds > 0)
        next_retry_ = std::max(
            next_retry_, std::chrono::milliseconds(std::chrono::seconds(e->retry_after_seconds)));
      const uint64_t retry_gen = generation_;
      retry_timer_ = timers_->after(next_retry_, [weak, retry_gen] {
        auto self = weak.lock();
        if (!self) return;
        std::lock_guard lock(self->mutex_);
        if (self->stopped_ || retry_gen != self->generation_) return;
        self->next_retry_ = std::chrono::milliseconds(0);
        self->act(self->state_.on_backoff_elapsed());
        self->report_status();
      });
      break;
    }
  }
  (void)gen;
}

void watcher::deliver(const std::vector<watch_change>& changes) {
  for (const auto& c : changes) {
    store_delta d = store_.apply(c);
    if (on_change_) on_change_(c, d);
  }
}

void watcher::report_status() {
  watcher_status s;
  s.phase = state_.current();
  s.resource_version = state_.resource_version();
  s.last_error = state_.last_error();
  s.synced = store_.ready();
  s.relists = state_.relists();
  s.rewatches = state_.rewatches();
  s.next_retry = next_retry_;
  bool changed = s.phase != last_reported_.phase || s.synced != last_reported_.synced ||
                 s.relists != last_reported_.relists || s.rewatches != last_reported_.rewatches ||
                 (s.last_error.has_value() != last_reported_.last_error.has_value()) ||
                 (s.last_error && last_reported_.last_error &&
                  s.last_error->message != last_reported_.last_error->message);
  last_reported_ = s;
  if (changed && on_status_) on_status_(s);
}

void watcher::on_list(uint64_t gen, result<list_page> r) {
  std::lock_guard lock(mutex_);
  if (stopped_ || gen != generation_) return;
  std::vector<watch_change> changes;
  if (r && options_.transform)
    for (auto& item : r.value().items) item = options_.transform(item);
  list_watch_action next =
      r ? state_.on_list_page(r.value(), changes) : state_.on_list_error(r.error());
  if (r && next.what == list_watch_action::kind::start_watch)
    backoff_.healthy_since(std::chrono::steady_clock::now());
  deliver(changes);
  act(next);
  report_status();
}

void watcher::on_open(uint64_t gen) {
  std::lock_guard lock(mutex_);
  if (stopped_ || gen != generation_) return;
  state_.on_watch_opened();
  backoff_.healthy_since(std::chrono::steady_clock::now());
  report_status();
}

void watcher::on_line(uint64_t gen, std::string_view line) {
  std::lock_guard lock(mutex_);
  if (stopped_ || gen != generation_) return;
  watch_event e;
  std::string why;
  std::vector<watch_change> changes;
  list_watch_action next;
  if (!decode_watch_line(line, e, why)) {
    next = state_.on_garbled_line(why);
  } else {
    if (options_.transform && e.object && e.kind != watch_event::type::bookmark)
      e.object = options_.transform(e.object);
    next = state_.on_watch_event(e, changes);
  }
  deliver(changes);
  act(next);
  report_status();
}

void watcher::on_end(uint64_t gen, std::optional<api_error> e) {
  std::lock_guard lock(mutex_);
  if (stopped_ || gen != generation_) return;
  stream_.reset();
  act(state_.on_watch_end(e));
  report_status();
}

}  // namespace k8s
