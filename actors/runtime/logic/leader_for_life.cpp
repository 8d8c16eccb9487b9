#include "actors/runtime/logic/leader_for_life.h"

#include <algorithm>

namespace runtime::leader_for_life {
namespace js = k8s::json;

lock_state lock_state_of(const js::Value& cm) {
  lock_state s;
  if (const js::Value* refs = js::find_path(cm, {"metadata", "ownerReferences"});
      refs && refs->IsArray())
    for (const auto& r : refs->GetArray())
      s.owners.push_back(
          {std::string(js::get_string(r, "apiVersion")), std::string(js::get_string(r, "kind")),
           std::string(js::get_string(r, "name")), std::string(js::get_string(r, "uid"))});
  s.lease = std::string(js::get_string(cm, {"metadata", "annotations", lease_annotation}));
  s.uid = std::string(js::get_string(cm, {"metadata", "uid"}));
  s.resource_version = std::string(js::get_string(cm, {"metadata", "resourceVersion"}));
  return s;
}

decision on_lock(const lock_state& lock, const pod_identity& me, const std::string& our_lease) {
  for (const auto& o : lock.owners)
    if (o.kind == "Pod" && o.name == me.name && (o.uid.empty() || o.uid == me.uid))
      return {verdict::lead, "the lock is owned by this pod", me.name};
  const std::string holder =
      lock.owners.size() == 1 && lock.owners[0].kind == "Pod" ? lock.owners[0].name : "";
  if (!our_lease.empty() && lock.lease == our_lease)
    return {verdict::take_over,
            "the lock was taken with the Lease " + our_lease + " by pod " +
                (holder.empty() ? "(none)" : holder) + ", which no longer holds that Lease",
            holder};
  if (lock.owners.size() != 1)
    return {verdict::wait,
            "the lock must have exactly one owner reference, it has " +
                std::to_string(lock.owners.size()) + ": waiting for it to be deleted",
            ""};
  if (lock.owners[0].kind != "Pod")
    return {verdict::wait,
            "the lock's owner must be a Pod, it is a " + lock.owners[0].kind + " (" +
                lock.owners[0].name + "): waiting for it to be deleted",
            ""};
  return {verdict::check_owner_pod, "the lock is held by pod " + holder, holder};
}

bool is_evicted(const js::Value& pod) {
  return js::get_string(pod, {"status", "phase"}) == "Failed" &&
         js::get_string(pod, {"status", "reason"}) == "Evicted";
}

owner_pod_decision on_owner_pod(const js::Value* pod, const owner_reference& owner) {
  if (!pod)
    return {pod_verdict::wait, "the lock's holder, pod " + owner.name +
                                   ", has been deleted: waiting for garbage collection to "
                                   "remove the lock"};
  const std::string_view uid = js::get_string(*pod, {"metadata", "uid"});
  if (!owner.uid.empty() && uid != owner.uid)
    return {pod_verdict::wait, "the lock's holder, pod " + owner.name +
                                   ", is gone (a new pod has its name): waiting for garbage "
                                   "collection to remove the lock"};
  if (is_evicted(*pod) && !js::find_path(*pod, {"metadata", "deletionTimestamp"}))
    return {pod_verdict::remove_lock,
            "the lock's holder, pod " + owner.name + ", was evicted: removing the lock"};
  return {pod_verdict::wait, "the lock is held by pod " + owner.name + ": not the leader, waiting"};
}

std::chrono::milliseconds next_backoff(std::chrono::milliseconds b) {
  return b < max_backoff ? b * 2 : b;
}

std::chrono::milliseconds jittered(std::chrono::milliseconds b, double unit) {
  unit = std::clamp(unit, 0.0, 1.0);
  return b + std::chrono::milliseconds(static_cast<int64_t>(b.count() * 0.2 * unit));
}

namespace {

js::Value owner_of(const pod_identity& me, js::Allocator& a) {
  js::Value ref(rapidjson::kObjectType);
  js::set_string(ref, "apiVersion", "v1", a);
  js::set_string(ref, "kind", "Pod", a);
  js::set_string(ref, "name", me.name, a);
  js::set_string(ref, "uid", me.uid, a);
  js::Value refs(rapidjson::kArrayType);
  refs.PushBack(ref, a);
  return refs;
}

}  // namespace

std::string lock_body(const std::string& ns, const std::string& name, const pod_identity& me,
                      const std::string& our_lease) {
  js::Document d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  js::set_string(d, "apiVersion", "v1", a);
  js::set_string(d, "kind", "ConfigMap", a);
  auto& meta = js::ensure_object(d, "metadata", a);
  js::set_string(meta, "name", name, a);
  js::set_string(meta, "namespace", ns, a);
  js::set_member(meta, "ownerReferences", owner_of(me, a), a);
  if (!our_lease.empty())
    js::set_string(js::ensure_object(meta, "annotations", a), lease_annotation, our_lease, a);
  return js::to_string(d);
}

std::string taken_over_body(const js::Value& lock, const pod_identity& me) {
  js::Document d = js::copy_of(lock);
  auto& a = d.GetAllocator();
  auto& meta = js::ensure_object(d, "metadata", a);
  js::set_member(meta, "ownerReferences", owner_of(me, a), a);
  js::remove_member(meta, "managedFields");
  return js::to_string(d);
}

}  // namespace runtime::leader_for_life
