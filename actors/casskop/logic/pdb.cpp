#include "actors/casskop/logic/pdb.h"

#include "actors/casskop/logic/json_build.h"
#include "actors/casskop/logic/names.h"
#include "actors/casskop/logic/statefulset.h"

namespace casskop {

namespace js = k8s::json;

js::Document pod_disruption_budget(const parsed_cluster& cc) {
  js::Document d;
  d.SetObject();
  auto& a = d.GetAllocator();
  const label_map labels = labels_for_cluster(cc.name, cc.labels);
  jb::add_str(d, "kind", "PodDisruptionBudget", a);
  jb::add_str(d, "apiVersion", "policy/v1", a);
  js::Value meta = jb::object();
  jb::add_str(meta, "name", pdb_name(cc.name), a);
  jb::add_str(meta, "namespace", cc.namespace_, a);
  jb::add(meta, "labels", jb::string_map(labels, a), a);
  js::Value owners = jb::array();
  owners.PushBack(owner_reference(cc, a), a);
  jb::add(meta, "ownerReferences", std::move(owners), a);
  jb::add(d, "metadata", std::move(meta), a);
  js::Value selector = jb::object();
  jb::add(selector, "matchLabels", jb::string_map(labels, a), a);
  js::Value spec = jb::object();
  jb::add_int(spec, "maxUnavailable", cc.spec.max_pod_unavailable, a);
  jb::add(spec, "selector", std::move(selector), a);
  jb::add(d, "spec", std::move(spec), a);
  return d;
}

bool pdb_needs_update(const js::Value& stored, const js::Value& generated) {
  const js::Value* s = js::find_path(stored, {"spec", "maxUnavailable"});
  const js::Value* g = js::find_path(generated, {"spec", "maxUnavailable"});
  if (!s || !g) return s != g;
  return *s != *g;
}

void keep_stored_pdb_selector(js::Value& generated, const js::Value& stored, js::Allocator& a) {
  if (const js::Value* selector = js::find_path(stored, {"spec", "selector"}))
    js::set_member(js::ensure_object(generated, "spec", a), "selector", js::Value(*selector, a), a);
  std::string_view rv = js::get_string(stored, {"metadata", "resourceVersion"});
  if (!rv.empty())
    js::set_string(js::ensure_object(generated, "metadata", a), "resourceVersion", rv, a);
}

}  // namespace casskop
