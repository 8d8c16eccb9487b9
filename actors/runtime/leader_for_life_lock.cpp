#include "actors/runtime/leader_for_life_lock.h"

#include <random>

#include "actors/runtime/logic/leader_for_life.h"
#include "k8s/base/log.h"

namespace runtime {
namespace lfl = leader_for_life;
namespace js = k8s::json;

namespace {

const k8s::resource config_maps{"", "v1", "configmaps", "ConfigMap", true};
const k8s::resource pods{"", "v1", "pods", "Pod", true};

double unit_random() {
  thread_local std::mt19937 rng{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
}

}  // namespace

std::shared_ptr<leader_for_life_lock> leader_for_life_lock::create(
    std::shared_ptr<k8s::client> c, std::shared_ptr<k8s::timer_service> timers,
    leader_for_life_options o, acquired_fn on_acquired) {
  return std::make_shared<leader_for_life_lock>(std::move(c), std::move(timers), std::move(o),
                                                std::move(on_acquired));
}

leader_for_life_lock::leader_for_life_lock(std::shared_ptr<k8s::client> c,
                                           std::shared_ptr<k8s::timer_service> timers,
                                           leader_for_life_options o, acquired_fn on_acquired)
    : client_(std::move(c)),
      timers_(std::move(timers)),
      options_(std::move(o)),
      on_acquired_(std::move(on_acquired)),
      backoff_(lfl::first_backoff) {}

leader_for_life_lock::~leader_for_life_lock() {
  stop();
}

template <class T, class F>
k8s::callback<T> leader_for_life_lock::guarded(F f) {
  std::weak_ptr<leader_for_life_lock> weak = weak_from_this();
  const uint64_t gen = generation_;
  return [weak, gen, f = std::move(f)](k8s::result<T> r) mutable {
    auto self = weak.lock();
    if (!self) return;
    std::lock_guard lock(self->mutex_);
    if (self->stopped_ || gen != self->generation_) return;
    f(*self, std::move(r));
  };
}

void leader_for_life_lock::start() {
  std::lock_guard lock(mutex_);
  if (started_ || stopped_) return;
  started_ = true;
  k8s::log::info(
      "Trying to become the leader",
      {{"lock", options_.lock_namespace + "/" + options_.lock_name}, {"pod", options_.pod_name}});
  read_self();
}

void leader_for_life_lock::stop() {
  std::lock_guard lock(mutex_);
  stopped_ = true;
  ++generation_;
  if (timer_) *timer_ = true;
}

bool leader_for_life_lock::held() const {
  std::lock_guard lock(mutex_);
  return held_;
}

std::string leader_for_life_lock::waiting_reason() const {
  std::lock_guard lock(mutex_);
  return held_ ? "" : reason_;
}

// leader.go:215-228: the owner reference names our Pod by name and uid.
void leader_for_life_lock::read_self() {
  client_->get(pods, options_.lock_namespace, options_.pod_name,
               guarded<k8s::object_ptr>([](leader_for_life_lock& self, auto r) {
                 if (!r.ok())
                   return self.wait("cannot read this pod " + self.options_.lock_namespace + "/" +
                                        self.options_.pod_name +
                                        " (POD_NAME), the lock's owner: " + r.error().describe(),
                                    "");
                 self.me_uid_ = std::string(js::get_string(*r.value(), {"metadata", "uid"}));
                 self.first_look();
               }));
}

// leader.go:113-133: a lock we own already (we were restarted) makes us the leader at once.
void leader_for_life_lock::first_look() {
  client_->get(
      config_maps, options_.lock_namespace, options_.lock_name,
      guarded<k8s::object_ptr>([](leader_for_life_lock& self, auto r) {
        if (!r.ok()) {
          if (r.error().kind != k8s::error_kind::not_found)
            return self.wait("cannot read the lock: " + r.error().describe(), "");
          k8s::log::info("No pre-existing lock was found", {{"lock", self.options_.lock_name}});
          return self.try_create();
        }
        const auto d = lfl::on_lock(lfl::lock_state_of(*r.value()),
                                    {self.options_.pod_name, self.me_uid_}, self.options_.lease);
        if (d.what == lfl::verdict::lead)
          return self.acquired("found a lock this pod owns (restarted): continuing as the leader");
        if (d.what == lfl::verdict::take_over) return self.take_over(r.value());
        k8s::log::info("Found an existing lock",
                       {{"lock", self.options_.lock_name}, {"holder", d.holder}});
        self.try_create();
      }));
}

// leader.go:143-151: only one create of the same name can succeed.
void leader_for_life_lock::try_create() {
  client_->create(config_maps, options_.lock_namespace,
                  lfl::lock_body(options_.lock_namespace, options_.lock_name,
                                 {options_.pod_name, me_uid_}, options_.lease),
                  {}, guarded<k8s::object_ptr>([](leader_for_life_lock& self, auto r) {
                    if (r.ok()) return self.acquired("created the lock");
                    if (r.error().kind == k8s::error_kind::already_exists) return self.read_lock();
                    self.wait("cannot create the lock: " + r.error().describe(), "");
                  }));
}

// leader.go:151-194: who holds it now.
void leader_for_life_lock::read_lock() {
  client_->get(config_maps, options_.lock_namespace, options_.lock_name,
               guarded<k8s::object_ptr>([](leader_for_life_lock& self, auto r) {
                 if (!r.ok()) {
                   // leader.go:154-156: gone since the create: try again at once.
                   if (r.error().kind == k8s::error_kind::not_found) return self.try_create();
                   return self.wait("cannot read the lock: " + r.error().describe(), "");
                 }
                 const lfl::lock_state lock = lfl::lock_state_of(*r.value());
                 const auto d = lfl::on_lock(lock, {self.options_.pod_name, self.me_uid_},
                                             self.options_.lease);
                 switch (d.what) {
                   case lfl::verdict::lead:
                     return self.acquired("the lock this pod created is there");
                   case lfl::verdict::take_over:
                     return self.take_over(r.value());
                   case lfl::verdict::wait:
                     return self.wait(d.reason, d.holder);
                   case lfl::verdict::check_owner_pod:
                     return self.read_owner_pod(lock.owners[0].name, lock.owners[0].uid, lock.uid);
                 }
               }));
}

void leader_for_life_lock::read_owner_pod(const std::string& owner_name,
                                          const std::string& owner_uid,
                                          const std::string& lock_uid) {
  client_->get(
      pods, options_.lock_namespace, owner_name,
      guarded<k8s::object_ptr>([owner_name, owner_uid, lock_uid](leader_for_life_lock& self,
                                                                 auto r) {
        if (!r.ok() && r.error().kind != k8s::error_kind::not_found)
          return self.wait(
              "cannot read the lock's holder, pod " + owner_name + ": " + r.error().describe(),
              owner_name);
        const auto d = lfl::on_owner_pod(r.ok() ? r.value().get() : nullptr,
                                         {"v1", "Pod", owner_name, owner_uid});
        if (d.what == lfl::pod_verdict::remove_lock) {
          k8s::log::warn(
              "Removing the lock of an evicted leader",
              {{"lock", self.options_.lock_name}, {"holder", owner_name}, {"reason", d.reason}});
          return self.remove_lock(lock_uid);
        }
        self.wait(d.reason, owner_name);
      }));
}

// Only the lock we judged (its uid as a precondition); gone already is as good.
void leader_for_life_lock::remove_lock(const std::string& lock_uid) {
  k8s::delete_options o;
  o.precondition_uid = lock_uid;
  client_->remove(config_maps, options_.lock_namespace, options_.lock_name, o,
                  guarded<k8s::object_ptr>([](leader_for_life_lock& self, auto r) {
                    if (r.ok() || r.error().kind == k8s::error_kind::not_found)
                      return self.try_create();
                    self.wait("cannot remove the evicted leader's lock: " + r.error().describe(),
                              "");
                  }));
}

// With a Lease: the lock marked with it moves to our Pod, in one update on the resourceVersion
// we read (a Go CassKop never changes an existing lock, so only a race with our own replicas or
// a deletion can make it fail).
void leader_for_life_lock::take_over(k8s::object_ptr lock) {
  client_->replace(config_maps, options_.lock_namespace, options_.lock_name,
                   lfl::taken_over_body(*lock, {options_.pod_name, me_uid_}), {},
                   guarded<k8s::object_ptr>([](leader_for_life_lock& self, auto r) {
                     if (r.ok()) return self.acquired("took over the lock held with our Lease");
                     if (r.error().kind == k8s::error_kind::not_found) return self.try_create();
                     if (r.error().kind == k8s::error_kind::conflict) return self.read_lock();
                     self.wait("cannot take over the lock: " + r.error().describe(), "");
                   }));
}

void leader_for_life_lock::acquired(const char* how) {
  held_ = true;
  reason_.clear();
  k8s::log::info("Became the leader", {{"lock", options_.lock_namespace + "/" + options_.lock_name},
                                       {"pod", options_.pod_name},
                                       {"how", how}});
  if (on_acquired_) on_acquired_();
}

void leader_for_life_lock::wait(const std::string& reason, const std::string& holder) {
  reason_ = reason;
  const auto delay = lfl::jittered(backoff_, unit_random());
  backoff_ = lfl::next_backoff(backoff_);
  k8s::log::info("Not the leader: waiting for the lock",
                 {{"lock", options_.lock_namespace + "/" + options_.lock_name},
                  {"holder", holder},
                  {"reason", reason},
                  {"retry_in_ms", std::to_string(delay.count())}});
  retry_after(delay);
}

void leader_for_life_lock::retry_after(std::chrono::milliseconds delay) {
  if (timer_) *timer_ = true;
  std::weak_ptr<leader_for_life_lock> weak = weak_from_this();
  const uint64_t gen = generation_;
  timer_ = timers_->after(delay, [weak, gen] {
    auto self = weak.lock();
    if (!self) return;
    std::lock_guard lock(self->mutex_);
    if (self->stopped_ || gen != self->generation_) return;
    if (self->me_uid_.empty())
      self->read_self();
    else
      self->try_create();
  });
}

}  // namespace runtime
