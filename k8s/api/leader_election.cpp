#include "k8s/api/leader_election.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <random>
#include <stdexcept>
#include <utility>

#include "k8s/base/log.h"
#include "k8s/base/timestamps.h"

namespace k8s {

const resource leases{"coordination.k8s.io", "v1", "leases", "Lease", true};

namespace {

using steady = std::chrono::steady_clock;
namespace js = json;

int64_t to_ns(steady::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

// A candidate's wait: retry_period plus up to 20 % so candidates do not poll in lockstep.
std::chrono::milliseconds jittered(std::chrono::milliseconds d) {
  thread_local std::mt19937 rng{std::random_device{}()};
  std::uniform_real_distribution<double> u(0.0, 0.2);
  return std::chrono::milliseconds(static_cast<int64_t>(d.count() * (1.0 + u(rng))));
}

void set_spec(js::Value& spec, const lease_record& r, js::Allocator& a) {
  js::set_string(spec, "holderIdentity", r.holder_identity, a);
  js::set_member(spec, "leaseDurationSeconds", js::Value(r.lease_duration_seconds), a);
  js::set_string(spec, "acquireTime", r.acquire_time, a);
  js::set_string(spec, "renewTime", r.renew_time, a);
  js::set_member(spec, "leaseTransitions", js::Value(r.lease_transitions), a);
}

}  // namespace

bool lease_record::operator==(const lease_record& o) const {
  return holder_identity == o.holder_identity &&
         lease_duration_seconds == o.lease_duration_seconds && acquire_time == o.acquire_time &&
         renew_time == o.renew_time && lease_transitions == o.lease_transitions;
}

lease_record lease_record_of(const js::Value& lease) {
  lease_record r;
  r.holder_identity = std::string(js::get_string(lease, {"spec", "holderIdentity"}));
  r.lease_duration_seconds = js::get_int(lease, {"spec", "leaseDurationSeconds"}, 0);
  r.acquire_time = std::string(js::get_string(lease, {"spec", "acquireTime"}));
  r.renew_time = std::string(js::get_string(lease, {"spec", "renewTime"}));
  r.lease_transitions = js::get_int(lease, {"spec", "leaseTransitions"}, 0);
  return r;
}

std::string default_identity() {
  if (const char* pod = std::getenv("POD_NAME"); pod && *pod) return pod;
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
  return std::string(*host ? host : "unknown") + "_" + std::to_string(getpid());
}

std::shared_ptr<leader_elector> leader_elector::create(std::shared_ptr<client> c,
                                                       std::shared_ptr<timer_service> timers,
                                                       leader_election_options o, callbacks cb) {
  if (o.lease_namespace.empty() || o.lease_name.empty())
    throw std::invalid_argument("leader election needs the Lease's namespace and name");
  if (!(o.lease_duration > o.renew_deadline))
    throw std::invalid_argument("leader election: lease_duration must exceed renew_deadline");
  if (!(o.renew_deadline.count() > 1.2 * o.retry_period.count()) || o.retry_period.count() <= 0)
    throw std::invalid_argument("leader election: renew_deadline must exceed 1.2 * retry_period");
  if (o.identity.empty()) o.identity = default_identity();
  return std::make_shared<leader_elector>(std::move(c), std::move(timers), std::move(o),
                                          std::move(cb));
}

leader_elector::leader_elector(std::shared_ptr<client> c, std::shared_ptr<timer_service> timers,
                               leader_election_options o, callbacks cb)
    : client_(std::move(c)),
      timers_(std::move(timers)),
      options_(std::move(o)),
      cb_(std::move(cb)),
      lease_seconds_(std::max<int64_t>(1, (options_.lease_duration.count() + 999) / 1000)) {}

leader_elector::~leader_elector() {
  stop();
}

void leader_elector::start() {
  std::lock_guard lock(mutex_);
  if (phase_ != phase::idle) return;
  phase_ = phase::campaigning;
  log::info("leader election: campaigning",
            {{"lease", options_.lease_namespace + "/" + options_.lease_name},
             {"identity", options_.identity}});
  attempt();
}

void leader_elector::stop() {
  std::lock_guard lock(mutex_);  // waits for a callback running on another thread
  phase_ = phase::stopped;
  ++generation_;
  in_flight_ = false;
  release_pending_ = false;
  release_done_ = nullptr;
  if (retry_timer_) *retry_timer_ = true;
  if (deadline_timer_) *deadline_timer_ = true;
  leading_ = false;
}

bool leader_elector::is_leader() const {
  return leading_.load() && to_ns(steady::now()) < deadline_ns_.load();
}

std::string leader_elector::current_holder() const {
  std::lock_guard lock(mutex_);
  return observed_.holder_identity;
}

void leader_elector::release(std::function<void(bool)> done) {
  std::lock_guard lock(mutex_);
  if (phase_ != phase::campaigning) {
    if (phase_ != phase::stopped && done) done(false);
    return;
  }
  phase_ = phase::releasing;
  release_done_ = std::move(done);
  if (retry_timer_) *retry_timer_ = true;
  stop_leading("released");
  if (phase_ != phase::releasing) return;  // the callback called stop()
  if (in_flight_) {
    release_pending_ = true;  // the answer may change the resourceVersion: wait for it
    return;
  }
  do_release();
}

void leader_elector::schedule_attempt(std::chrono::milliseconds delay) {
  if (phase_ != phase::campaigning) return;
  if (retry_timer_) *retry_timer_ = true;
  std::weak_ptr<leader_elector> weak = weak_from_this();
  const uint64_t gen = generation_;
  retry_timer_ = timers_->after(delay, [weak, gen] {
    auto self = weak.lock();
    if (!self) return;
    std::lock_guard lock(self->mutex_);
    if (gen == self->generation_) self->attempt();
  });
}

void leader_elector::attempt() {
  if (phase_ != phase::campaigning || in_flight_) return;
  in_flight_ = true;
  std::weak_ptr<leader_elector> weak = weak_from_this();
  const uint64_t gen = generation_;
  if (leading_ && lease_ && observed_.holder_identity == options_.identity) {
    // The leader renews straight from the Lease it wrote last (client-go's fast path); a 409
    // sends it back to reading the Lease.
    lease_record rec = observed_;
    rec.renew_time = format_micro_time(std::chrono::system_clock::now());
    rec.lease_duration_seconds = lease_seconds_;
    const auto sent = steady::now();
    write(rec, false, [weak, gen, sent, rec](result<object_ptr> r) {
      if (auto self = weak.lock()) self->on_written(gen, sent, rec, std::move(r));
    });
    return;
  }
  client_->get(leases, options_.lease_namespace, options_.lease_name,
               [weak, gen](result<object_ptr> r) {
                 if (auto self = weak.lock()) self->on_get(gen, std::move(r));
               });
}

void leader_elector::on_get(uint64_t gen, result<object_ptr> r) {
  std::lock_guard lock(mutex_);
  if (gen != generation_) return;
  in_flight_ = false;
  if (r.ok()) {
    lease_ = r.value();
    observe(lease_record_of(*lease_));
  }
  if (release_pending_) return do_release();
  if (phase_ != phase::campaigning) return;

  std::weak_ptr<leader_elector> weak = weak_from_this();
  const auto sent = steady::now();
  auto then = [weak, gen, sent](const lease_record& rec) {
    return [weak, gen, sent, rec](result<object_ptr> w) {
      if (auto self = weak.lock()) self->on_written(gen, sent, rec, std::move(w));
    };
  };
  const std::string now = format_micro_time(std::chrono::system_clock::now());

  if (!r.ok()) {
    if (r.error().kind != error_kind::not_found) {
      log::debug("leader election: cannot read the lease", {{"error", r.error().describe()}});
      return schedule_attempt(leading_ ? options_.retry_period : jittered(options_.retry_period));
    }
    lease_.reset();
    lease_record rec{options_.identity, lease_seconds_, now, now, 0};
    in_flight_ = true;
    return write(rec, true, then(rec));
  }

  const lease_record& old = observed_;
  const auto expiry = observed_at_ + std::chrono::seconds(old.lease_duration_seconds);
  if (!old.holder_identity.empty() && old.holder_identity != options_.identity &&
      expiry > steady::now()) {
    stop_leading("the lease is held by another");
    return schedule_attempt(jittered(options_.retry_period));
  }
  // Ours already (a renewal, or our own earlier record): keep acquireTime and the count.
  // Otherwise a takeover, which counts as a transition.
  lease_record rec{options_.identity, lease_seconds_, now, now, old.lease_transitions + 1};
  if (old.holder_identity == options_.identity) {
    rec.acquire_time = old.acquire_time.empty() ? now : old.acquire_time;
    rec.lease_transitions = old.lease_transitions;
  }
  in_flight_ = true;
  write(rec, false, then(rec));
}

void leader_elector::write(const lease_record& rec, bool create,
                           std::function<void(result<object_ptr>)> then) {
  js::Document body;
  if (create || !lease_) {
    body.SetObject();
    auto& a = body.GetAllocator();
    js::set_string(body, "apiVersion", leases.api_version(), a);
    js::set_string(body, "kind", leases.kind, a);
    auto& meta = js::ensure_object(body, "metadata", a);
    js::set_string(meta, "name", options_.lease_name, a);
    js::set_string(meta, "namespace", options_.lease_namespace, a);
  } else {
    // An update carries the resourceVersion we read: a concurrent writer makes it fail with 409.
    body.CopyFrom(*lease_, body.GetAllocator());
  }
  set_spec(js::ensure_object(body, "spec", body.GetAllocator()), rec, body.GetAllocator());
  if (create) {
    client_->create(leases, options_.lease_namespace, js::to_string(body), {}, std::move(then));
  } else {
    client_->replace(leases, options_.lease_namespace, options_.lease_name, js::to_string(body), {},
                     std::move(then));
  }
}

void leader_elector::on_written(uint64_t gen, steady::time_point sent, const lease_record& rec,
                                result<object_ptr> r) {
  std::lock_guard lock(mutex_);
  if (gen != generation_) return;
  in_flight_ = false;
  if (r.ok()) {
    lease_ = r.value();
    observe(lease_record_of(*lease_));
  } else if (r.error().kind == error_kind::conflict ||
             r.error().kind == error_kind::already_exists) {
    lease_.reset();  // someone else wrote first: read the Lease again
  }
  if (release_pending_) return do_release();
  if (phase_ != phase::campaigning) return;

  if (!r.ok()) {
    log::debug("leader election: writing the lease failed", {{"error", r.error().describe()}});
    const bool conflict = !lease_;
    if (leading_)
      return schedule_attempt(conflict ? std::chrono::milliseconds(0) : options_.retry_period);
    return schedule_attempt(jittered(options_.retry_period));
  }
  if (rec.holder_identity == options_.identity) {
    // A renewal that took longer than the deadline does not make us leader: by then others
    // may be about to judge the Lease expired. The next renewal will.
    if (sent + options_.renew_deadline > steady::now()) {
      deadline_ns_ = to_ns(sent + options_.renew_deadline);
      if (!leading_) {
        leading_ = true;
        log::info("leader election: started leading",
                  {{"lease", options_.lease_namespace + "/" + options_.lease_name},
                   {"identity", options_.identity}});
        if (cb_.on_started_leading) cb_.on_started_leading();
      }
      arm_deadline();
    }
  }
  schedule_attempt(options_.retry_period);
}

void leader_elector::observe(const lease_record& rec) {
  // client-go's observedTime: expiry counts from when we saw the record change, on our clock.
  const bool first = observed_at_ == steady::time_point{};
  if (!first && rec == observed_) return;
  const bool new_holder = first || rec.holder_identity != observed_.holder_identity;
  observed_ = rec;
  observed_at_ = steady::now();
  if (new_holder && cb_.on_new_leader) cb_.on_new_leader(rec.holder_identity);
}

void leader_elector::arm_deadline() {
  if (phase_ != phase::campaigning) return;
  if (deadline_timer_) *deadline_timer_ = true;
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::nanoseconds(deadline_ns_.load() - to_ns(steady::now())));
  std::weak_ptr<leader_elector> weak = weak_from_this();
  const uint64_t gen = generation_;
  deadline_timer_ = timers_->after(left + std::chrono::milliseconds(1), [weak, gen] {
    auto self = weak.lock();
    if (!self) return;
    std::lock_guard lock(self->mutex_);
    // A renewal may have moved the deadline while this timer was firing.
    if (gen == self->generation_ && to_ns(steady::now()) >= self->deadline_ns_.load())
      self->stop_leading("no renewal within the renew deadline");
  });
}

void leader_elector::stop_leading(const char* why) {
  if (!leading_) return;
  leading_ = false;
  if (deadline_timer_) *deadline_timer_ = true;
  log::warn("leader election: stopped leading",
            {{"lease", options_.lease_namespace + "/" + options_.lease_name},
             {"identity", options_.identity},
             {"reason", why}});
  if (cb_.on_stopped_leading) cb_.on_stopped_leading();
}

void leader_elector::do_release() {
  release_pending_ = false;
  if (phase_ != phase::releasing) return;
  if (!lease_ || observed_.holder_identity != options_.identity) return finish_release(false);
  // client-go's release(): empty holder, a 1 s lease, the transition count kept.
  const std::string now = format_micro_time(std::chrono::system_clock::now());
  lease_record rec{"", 1, now, now, observed_.lease_transitions};
  std::weak_ptr<leader_elector> weak = weak_from_this();
  const uint64_t gen = generation_;
  in_flight_ = true;
  write(rec, false, [weak, gen](result<object_ptr> r) {
    auto self = weak.lock();
    if (!self) return;
    std::lock_guard lock(self->mutex_);
    if (gen != self->generation_) return;
    self->in_flight_ = false;
    if (r.ok()) {
      self->lease_ = r.value();
      self->observe(lease_record_of(*self->lease_));
    } else {
      log::warn("leader election: releasing the lease failed", {{"error", r.error().describe()}});
    }
    self->finish_release(r.ok());
  });
}

void leader_elector::finish_release(bool ok) {
  phase_ = phase::released;
  if (ok)
    log::info("leader election: released the lease",
              {{"lease", options_.lease_namespace + "/" + options_.lease_name},
               {"identity", options_.identity}});
  if (auto done = std::exchange(release_done_, nullptr)) done(ok);
}

}  // namespace k8s
