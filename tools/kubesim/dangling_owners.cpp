// The garbage collector's verdict on a dependent whose owners may not exist (pkg/controller/
// garbagecollector/garbagecollector.go attemptToDeleteItem, v1.32): each owner reference is
// solid (the owner exists with that uid), dangling (no such owner in the dependent's namespace,
// or another uid), or waiting (the owner is being deleted in the foreground). With a solid owner
// the dependent stays and loses its dangling and waiting references; without one it is deleted,
// in the foreground when an owner waits for it and it has dependents itself, else as its own
// orphan/foregroundDeletion finalizer says, else in the background.
#include <algorithm>

#include "tools/kubesim/api_error.h"
#include "tools/kubesim/cluster_state.h"
#include "tools/kubesim/object_meta.h"

namespace kubesim {
namespace js = k8s::json;

namespace {

bool has_finalizer(const js::Value& obj, std::string_view name) {
  if (const auto* f = js::find_path(obj, {"metadata", "finalizers"}); f && f->IsArray())
    for (const auto& e : f->GetArray())
      if (e.IsString() && js::view(e) == name) return true;
  return false;
}

// The group of an ownerReference's apiVersion ("" for "v1").
std::string_view group_of(std::string_view api_version) {
  auto slash = api_version.find('/');
  return slash == std::string_view::npos ? std::string_view() : api_version.substr(0, slash);
}

}  // namespace

// The owner an ownerReference names, looked up as the garbage collector does: by uid, then kind,
// group and name must match, in the dependent's namespace unless the owner is cluster-scoped.
const snapshot_ptr* cluster_state::owner_named_by(const js::Value& r, const std::string& ns) const {
  auto it = by_uid_.find(std::string(js::get_string(r, "uid")));
  if (it == by_uid_.end()) return nullptr;
  const resource_type* ot = types_.find_by_id(it->second.type_id);
  if (!ot || ot->kind != js::get_string(r, "kind") ||
      ot->group != group_of(js::get_string(r, "apiVersion")) ||
      it->second.name != js::get_string(r, "name") || (ot->namespaced && it->second.ns != ns))
    return nullptr;
  return find_by_ref(it->second);
}

bool cluster_state::owners_may_be_dangling(const js::Value& obj, const std::string& ns) const {
  if (const auto* refs = js::find_path(obj, {"metadata", "ownerReferences"});
      refs && refs->IsArray())
    for (const auto& r : refs->GetArray())
      if (!owner_named_by(r, ns)) return true;
  return false;
}

void cluster_state::collect_if_owners_absent(const object_ref& ref) {
  std::lock_guard lock(mutex_);
  const snapshot_ptr* found = find_by_ref(ref);
  const resource_type* dt = types_.find_by_id(ref.type_id);
  if (!found || !dt) return;
  const snapshot_ptr item = *found;
  // Being deleted already, and not waiting for its own dependents: nothing to decide.
  if (has_deletion_timestamp(item->doc) && !has_finalizer(item->doc, "foregroundDeletion")) return;
  const auto* refs = js::find_path(item->doc, {"metadata", "ownerReferences"});
  if (!refs || !refs->IsArray() || refs->Empty()) return;

  std::vector<std::string> dangling, waiting;
  bool solid = false;
  for (const auto& r : refs->GetArray()) {
    const std::string uid(js::get_string(r, "uid"));
    const snapshot_ptr* owner = owner_named_by(r, ref.ns);
    if (!owner)
      dangling.push_back(uid);
    else if (has_deletion_timestamp((*owner)->doc) &&
             has_finalizer((*owner)->doc, "foregroundDeletion"))
      waiting.push_back(uid);
    else
      solid = true;
  }
  resource_type type = *dt;
  if (solid) {
    if (dangling.empty() && waiting.empty()) return;
    // Drop the references to absent and waiting owners; the object stays.
    js::Document d = js::copy_of(item->doc);
    auto& list = d["metadata"]["ownerReferences"];
    for (auto r = list.Begin(); r != list.End();) {
      std::string uid(js::get_string(*r, "uid"));
      bool drop = std::count(dangling.begin(), dangling.end(), uid) ||
                  std::count(waiting.begin(), waiting.end(), uid);
      r = drop ? list.Erase(r) : r + 1;
    }
    write_update(type, item, std::move(d), false, false, {});
    return;
  }
  delete_options opts;
  if (!waiting.empty() && dependents_.count(meta_string(item->doc, "uid")))
    opts.propagation = "Foreground";
  else if (has_finalizer(item->doc, "orphan"))
    opts.propagation = "Orphan";
  else if (has_finalizer(item->doc, "foregroundDeletion"))
    opts.propagation = "Foreground";
  opts.precondition_uid = meta_string(item->doc, "uid");
  try {
    remove_locked(type, ref.ns, ref.name, opts);
  } catch (const api_error&) {
    // Gone or changed meanwhile: the next change brings it back here.
  }
}

}  // namespace kubesim
