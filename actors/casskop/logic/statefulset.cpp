#include "actors/casskop/logic/statefulset.h"

#include "actors/casskop/logic/json_build.h"
#include "actors/casskop/logic/names.h"
#include "actors/casskop/logic/quantity.h"

namespace casskop {

namespace js = k8s::json;
using js::Allocator;
using js::Value;

namespace {

// Every ResourceList (limits, requests) written as Go writes a resource.Quantity: v2.1.0 decoded
// the spec into Go structs and encoded them again, so what it sent was canonical ("2" for a bare
// 2, "2Gi" for "2048Mi"). Byte-equal templates hash to the same revision, in kubesim as well.
void canonicalize_quantities(Value& v, Allocator& a) {
  if (v.IsArray()) {
    for (auto& e : v.GetArray()) canonicalize_quantities(e, a);
    return;
  }
  if (!v.IsObject()) return;
  for (auto& m : v.GetObject()) {
    std::string_view key = js::view(m.name);
    if ((key == "limits" || key == "requests") && m.value.IsObject()) {
      for (auto& q : m.value.GetObject()) {
        std::string text = q.value.IsString()   ? std::string(js::view(q.value))
                           : q.value.IsNumber() ? js::to_string(q.value)
                                                : std::string();
        if (auto c = canonical_quantity(text)) q.value = jb::str(*c, a);
      }
      continue;
    }
    canonicalize_quantities(m.value, a);
  }
}

}  // namespace

Value owner_reference(const parsed_cluster& cc, Allocator& a) {
  Value o = jb::object();
  jb::add_str(o, "apiVersion", "db.orange.com/v2", a);
  jb::add_str(o, "kind", "CassandraCluster", a);
  jb::add_str(o, "name", cc.name, a);
  jb::add_str(o, "uid", cc.uid, a);
  jb::add_bool(o, "controller", true, a);
  return o;
}

int32_t replicas_of(const cluster_spec& spec, const dc_rack& r) {
  const dc_spec* dc = find_dc(spec, r.dc);
  return dc ? nodes_per_racks_of(spec, *dc) : spec.nodes_per_racks;
}

int32_t rolling_partition_of(const cluster_spec& spec, const dc_rack& r) {
  if (const dc_spec* dc = find_dc(spec, r.dc))
    for (const auto& k : dc->racks)
      if (k.name == r.rack) return k.rolling_partition;
  return 0;
}

int32_t next_replicas(int32_t stored, int32_t desired) {
  if (desired > stored + 1) return stored + 1;
  if (desired < stored - 1) return stored - 1;
  return desired;
}

generated_object statefulset(const parsed_cluster& cc, const dc_rack& r,
                             const generation_inputs& in) {
  generated_object out;
  js::Document& d = out.object;
  d.SetObject();
  Allocator& a = d.GetAllocator();
  const label_map labels = statefulset_labels(cc, r);
  pod_template_parts parts = pod_template(cc, r, in, a);
  out.problems = std::move(parts.problems);

  jb::add_str(d, "apiVersion", "apps/v1", a);
  jb::add_str(d, "kind", "StatefulSet", a);
  Value meta = jb::object();
  jb::add_str(meta, "name", statefulset_name(cc.name, r.dc, r.rack), a);
  jb::add_str(meta, "namespace", cc.namespace_, a);
  jb::add(meta, "labels", jb::string_map(labels, a), a);
  Value owners = jb::array();
  owners.PushBack(owner_reference(cc, a), a);
  jb::add(meta, "ownerReferences", std::move(owners), a);
  jb::add(d, "metadata", std::move(meta), a);

  Value spec = jb::object();
  jb::add_int(spec, "replicas", replicas_of(cc.spec, r), a);
  Value selector = jb::object();
  jb::add(selector, "matchLabels", jb::string_map(labels, a), a);
  jb::add(spec, "selector", std::move(selector), a);
  jb::add(spec, "template", std::move(parts.template_), a);
  // v2.1.0 leaves the claims without owner reference: its loop adds one to a copy
  // (generator.go:317).
  if (!parts.volume_claim_templates.Empty())
    jb::add(spec, "volumeClaimTemplates", std::move(parts.volume_claim_templates), a);
  // serviceName <cc>: pods resolve as <pod>.<cc>.<ns> through the headless Service <cc>.
  jb::add_str(spec, "serviceName", headless_service_name(cc.name), a);
  // podManagementPolicy is left to the server's default, OrderedReady, as v2.1.0 does.
  Value rolling = jb::object();
  jb::add_int(rolling, "partition", rolling_partition_of(cc.spec, r), a);
  Value strategy = jb::object();
  jb::add_str(strategy, "type", "RollingUpdate", a);
  jb::add(strategy, "rollingUpdate", std::move(rolling), a);
  jb::add(spec, "updateStrategy", std::move(strategy), a);
  jb::add(d, "spec", std::move(spec), a);
  canonicalize_quantities(d, a);
  return out;
}

void keep_immutable_from_stored(Value& generated, const Value& stored,
                                const label_map& extra_template_labels, Allocator& a) {
  const Value* stored_spec = js::find(stored, "spec");
  auto gen_spec = generated.FindMember("spec");
  if (!stored_spec || gen_spec == generated.MemberEnd()) return;
  for (const char* field :
       {"selector", "serviceName", "podManagementPolicy", "volumeClaimTemplates"}) {
    const Value* s = js::find(*stored_spec, field);
    js::remove_member(gen_spec->value, field);
    if (s) jb::add(gen_spec->value, field, Value(*s, a), a);
  }
  const Value* stored_labels = js::find_path(*stored_spec, {"template", "metadata", "labels"});
  auto tmpl = gen_spec->value.FindMember("template");
  if (stored_labels && tmpl != gen_spec->value.MemberEnd()) {
    Value labels(*stored_labels, a);
    for (const auto& [k, v] : extra_template_labels) {
      js::remove_member(labels, k);
      jb::add_str(labels, k, v, a);
    }
    Value& meta = js::ensure_object(tmpl->value, "metadata", a);
    js::set_member(meta, "labels", std::move(labels), a);
  }
}

}  // namespace casskop
