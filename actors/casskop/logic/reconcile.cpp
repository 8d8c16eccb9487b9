#include "actors/casskop/logic/reconcile.h"

#include <algorithm>

#include "actors/casskop/logic/applied_hash.h"
#include "actors/casskop/logic/ip_swap.h"
#include "actors/casskop/logic/last_applied.h"
#include "actors/casskop/logic/names.h"
#include "actors/casskop/logic/pdb.h"
#include "actors/casskop/logic/rack_sequencer.h"
#include "actors/casskop/logic/seeds.h"
#include "actors/casskop/logic/services.h"
#include "actors/casskop/logic/statefulset.h"

namespace casskop {
namespace js = k8s::json;

namespace {

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ",") + s;
  return out;
}

const char* rolling_restart_label = "rolling-restart";

// The StatefulSet of `intent`, as it is to be written (before keep_immutable_from_stored).
// Every seed list in it (CONFIG_FILE_DATA, the bootstrap's and the sidecars' CASSANDRA_SEEDS) is
// the intent's: the stored one unless the seeds are rolling (v2.1.0 keeps only the bootstrap's,
// statefulset.go:229, so a rack Configuring new seeds would roll once for its config and once
// more for its bootstrap; here it rolls once, when its turn comes). At rest both are the same.
// The pod-template labels v2.1.0 keeps from the stored object (statefulset.go:218) are given to
// the generator, so the applied hash sees what is written.
generated_object generate(const parsed_cluster& cc, const dc_rack& rack,
                          const statefulset_intent& intent) {
  generation_inputs gi;
  gi.seeds = join(intent.seeds);
  if (auto l = intent.template_labels.find(rolling_restart_label);
      l != intent.template_labels.end())
    gi.extra_template_labels[rolling_restart_label] = l->second;
  if (intent.rolling_restart_stamp)
    gi.extra_template_labels[rolling_restart_label] = *intent.rolling_restart_stamp;
  generated_object g = statefulset(cc, rack, gi);
  if (auto spec = g.object.FindMember("spec"); spec != g.object.MemberEnd())
    js::set_member(spec->value, "replicas", js::Value(intent.replicas), g.object.GetAllocator());
  return g;
}

// status.cassandraNodeStatus: pod -> hostId and nodeIp, from the HostIdMap of the first Ready
// pod (v2.1.0 CheckPodsState, cassandra_status.go). A pod whose IP is not in the map keeps what
// it had, and so does a pod not Ready; pods gone are dropped.
void record_host_ids(const node_facts& f, cluster_status& status) {
  if (!f.host_ids) return;
  for (auto it = status.nodes.begin(); it != status.nodes.end();)
    it = f.pods.count(it->first) ? std::next(it) : status.nodes.erase(it);
  for (const auto& [name, pod] : f.pods) {
    // Only a Ready pod (v2.1.0 updateCassandraNodesStatusForPod): a pod crash-looping at an IP
    // the ring holds for another node must not take that node's host id (ip_swap.h).
    if (pod.ip.empty() || !pod.ready) continue;
    auto id = f.host_ids->find(pod.ip);
    if (id == f.host_ids->end()) continue;
    status.nodes[name] = node_status{id->second, pod.ip};
  }
}

observed_pdb observe_pdb(const js::Value* pdb) {
  observed_pdb o;
  if (!pdb) return o;
  o.exists = true;
  o.disruptions_allowed =
      static_cast<int32_t>(js::get_int(*pdb, {"status", "disruptionsAllowed"}, 0));
  o.expected_pods = static_cast<int32_t>(js::get_int(*pdb, {"status", "expectedPods"}, 0));
  return o;
}

const js::Value* condition_of(const js::Value& object, std::string_view type) {
  if (const js::Value* cs = js::find_path(object, {"status", "conditions"}); cs && cs->IsArray())
    for (const auto& c : cs->GetArray())
      if (js::get_string(c, "type") == type) return &c;
  return nullptr;
}

constexpr size_t max_condition_message = 32768;

struct condition {
  const char* type;
  bool status;
  std::string reason, message;
};

// status.conditions, keeping a condition's lastTransitionTime while its status holds.
js::Value conditions_json(const js::Value& object, const std::vector<condition>& cs,
                          const std::string& now, js::Allocator& a) {
  js::Value out(rapidjson::kArrayType);
  for (const auto& c : cs) {
    js::Value v(rapidjson::kObjectType);
    const char* st = c.status ? "True" : "False";
    std::string since = now;
    if (const js::Value* old = condition_of(object, c.type);
        old && js::get_string(*old, "status") == st)
      since = std::string(js::get_string(*old, "lastTransitionTime", now));
    js::set_string(v, "type", c.type, a);
    js::set_string(v, "status", st, a);
    // metav1.Condition's schema (our CRD declares it): a reason is never empty, a message at
    // most 32768 bytes; a write breaking either would be refused on every pass.
    js::set_string(v, "reason", c.reason.empty() ? "Unknown" : c.reason, a);
    js::set_string(v, "message", c.message.substr(0, max_condition_message), a);
    js::set_string(v, "lastTransitionTime", since, a);
    out.PushBack(v, a);
  }
  return out;
}

bool has_finalizer(const js::Value& object, std::string_view f) {
  if (const js::Value* fs = js::find_path(object, {"metadata", "finalizers"}); fs && fs->IsArray())
    for (const auto& v : fs->GetArray())
      if (v.IsString() && js::view(v) == f) return true;
  return false;
}

// v2.1.0 updateDeletePvcStrategy (cassandracluster_controller.go:220): the finalizer follows
// spec.deletePVC.
void set_finalizer(js::Value& object, bool wanted, js::Allocator& a) {
  if (has_finalizer(object, pvc_finalizer) == wanted) return;
  js::Value& meta = js::ensure_object(object, "metadata", a);
  js::Value list(rapidjson::kArrayType);
  if (const js::Value* fs = js::find(meta, "finalizers"); fs && fs->IsArray())
    for (const auto& v : fs->GetArray())
      if (!(v.IsString() && js::view(v) == pvc_finalizer)) list.PushBack(js::Value(v, a), a);
  if (wanted) list.PushBack(js::string_value(pvc_finalizer, a), a);
  if (list.Empty())
    js::remove_member(meta, "finalizers");
  else
    js::set_member(meta, "finalizers", std::move(list), a);
}

struct cluster_update {
  const reconcile_input& in;
  const parsed_cluster& parsed;
  reconcile_plan& plan;

  // The whole object with `spec`, `status`, the annotation and the finalizer, written when it
  // differs from the stored one (v2.1.0 updateCassandraStatus).
  void write(const cluster_spec& spec, const cluster_status& status,
             const std::vector<condition>& conditions) {
    const js::Value& stored = in.cluster;
    js::Document next = js::copy_of(stored);
    auto& a = next.GetAllocator();
    js::Document spec_json = spec_to_json(spec);
    js::set_member(next, "spec", js::Value(spec_json, a), a);
    js::Document status_json = status_to_json(status);
    js::Value st(status_json, a);
    const int64_t generation = js::get_int(stored, {"metadata", "generation"}, 0);
    const js::Value* stored_og = js::find_path(stored, {"status", "observedGeneration"});
    const js::Value* stored_conditions = js::find_path(stored, {"status", "conditions"});
    // observedGeneration and conditions are written on a write that happens anyway, or alone
    // only when the stored object shows the CRD keeps them: a CRD that prunes them never causes
    // a write of its own (the caller learns from the answer and stops sending them).
    if (in.observed_generation && stored_og)
      js::set_member(st, "observedGeneration", js::Value(*stored_og, a), a);
    if (in.conditions && stored_conditions)
      js::set_member(st, "conditions", js::Value(*stored_conditions, a), a);
    js::set_member(next, "status", std::move(st), a);
    set_finalizer(next, spec.delete_pvc, a);

    auto member_differs = [&](const char* key) {
      const js::Value* x = js::find(stored, key);
      const js::Value* y = js::find(next, key);
      return !x || !y || *x != *y;
    };
    js::Value fresh_conditions = conditions_json(stored, conditions, in.now, a);
    const bool conditions_changed =
        in.conditions && stored_conditions && *stored_conditions != fresh_conditions;
    // Without a status subresource every change of spec or status bumps metadata.generation:
    // the status says it describes the generation this write makes.
    const bool og_behind = in.observed_generation && stored_og &&
                           (!stored_og->IsInt64() || stored_og->GetInt64() != generation);
    const bool bumps =
        member_differs("spec") || member_differs("status") || conditions_changed || og_behind;
    if (in.conditions && bumps)
      js::set_member(next["status"], "conditions", std::move(fresh_conditions), a);
    if (in.observed_generation && bumps)
      js::set_member(next["status"], "observedGeneration", js::Value(generation + 1), a);
    // The annotation records the object as it will be stored, generation included (v2.1.0
    // computes it from the object it updates); recording the old generation would make the next
    // pass write once more just to correct it.
    js::Value& meta = js::ensure_object(next, "metadata", a);
    js::set_member(meta, "generation", js::Value(bumps ? generation + 1 : generation), a);
    // Without managedFields: the server stamps our update's time in them, so a record that
    // carried them would differ after every write of ours and the next pass would write again
    // (v2.1.0 records them and rewrites on every 5 s pass on servers that keep them).
    js::Document recorded = js::copy_of(next);
    js::remove_member(recorded["metadata"], "managedFields");
    std::string record = compute_last_applied(recorded, spec);
    js::set_member(meta, "generation", js::Value(generation), a);
    js::Value& annotations = js::ensure_object(meta, "annotations", a);
    js::set_string(annotations, last_applied_annotation, record, a);
    if (!bumps && !member_differs("metadata")) return;
    object_write w;
    w.what = object_write::verb::update;
    w.kind = "CassandraCluster";
    w.name = parsed.name;
    w.body = std::move(next);
    plan.writes.push_back(std::move(w));
  }
};

std::string problems_text(const std::vector<spec_problem>& ps) {
  std::string out;
  for (const auto& p : ps) out += (out.empty() ? "" : "; ") + p.field + ": " + p.message;
  return out;
}

}  // namespace

namespace {

// Pod operations on the status this pass writes: the cleanup labels of a rack whose ScaleUp ends
// in this pass (v2.1.0 cassandra_status.go:374), then the operations by label.
void plan_pod_work(const pod_operations_input& in, const cluster_status& before,
                   const parsed_cluster& cc, cluster_status& after, reconcile_plan& plan) {
  auto patch = [&](const pod_label_patch& p, const std::string& dc_rack) {
    plan.writes.push_back(
        {object_write::verb::patch, "Pod", p.pod, dc_rack, label_patch_body(p), ""});
  };
  for (const auto& [dc_rack, rs] : after.racks) {
    const last_action& a = rs.cassandra_last_action;
    if (a.name != action::scale_up || a.status != status::done) continue;
    auto old = before.racks.find(dc_rack);
    if (old != before.racks.end() && old->second.cassandra_last_action.name == action::scale_up &&
        old->second.cassandra_last_action.status == status::done)
      continue;  // ended in an earlier pass
    std::vector<std::string> rack_pods;
    for (const auto& r : racks_of(cc.spec)) {
      if (r.name() != dc_rack) continue;
      const std::string sts = statefulset_name(cc.name, r.dc, r.rack);
      for (int i = 0; i < nodes_per_racks_of(
                              cc.spec, cc.spec.dcs.empty() ? dc_spec{} : cc.spec.dcs[r.dc_index]);
           ++i)
        rack_pods.push_back(pod_name(sts, i));
    }
    for (const auto& p : cleanup_labels_after_scale_up(in.pods, rack_pods, cc.spec.auto_pilot))
      patch(p, dc_rack);
  }
  pod_operations_plan ops = plan_pod_operations(in, after);
  for (const auto& p : ops.patches) {
    std::string dc_rack;
    for (const auto& o : in.pods)
      if (o.name == p.pod) dc_rack = o.dc_rack;
    patch(p, dc_rack);
  }
  for (auto& e : ops.events)
    plan.events.push_back({e.warning, std::move(e.reason), std::move(e.message), e.dc_rack});
  ops.events.clear();
  plan.pod_operations = std::move(ops);
}

}  // namespace

reconcile_plan plan_reconcile(const reconcile_input& in) {
  reconcile_plan plan;
  parsed_cluster parsed = parse_cluster(in.cluster);
  plan.status = parsed.status;
  cluster_update update{in, parsed, plan};

  // Only the conditions change: spec, status and annotation stay as stored.
  auto write_conditions_only = [&](const std::vector<condition>& cs) {
    if (!in.conditions) return;
    js::Document next = js::copy_of(in.cluster);
    auto& a = next.GetAllocator();
    js::Value& st = js::ensure_object(next, "status", a);
    js::set_member(st, "conditions", conditions_json(in.cluster, cs, in.now, a), a);
    // Written while the CRD is not known to prune them: a CRD that does answers without them,
    // the caller turns `conditions` off, and this cluster costs no further write.
    const js::Value* stored_status = js::find(in.cluster, "status");
    if (!stored_status || *stored_status != next["status"]) {
      object_write w;
      w.what = object_write::verb::update;
      w.kind = "CassandraCluster";
      w.name = parsed.name;
      w.body = std::move(next);
      plan.writes.push_back(std::move(w));
    }
  };
  // Bad input: nothing is written but the conditions (and an Event) saying why.
  auto refuse_input = [&](std::vector<spec_problem> problems) {
    plan.problems = std::move(problems);
    plan.events.push_back({true, degraded_invalid_spec,
                           "the spec cannot be acted on, no object was made or changed: " +
                               problems_text(plan.problems),
                           ""});
    write_conditions_only(
        {{condition_ready, false, degraded_invalid_spec, "the spec cannot be acted on"},
         {condition_progressing, false, degraded_invalid_spec, "the spec cannot be acted on"},
         {condition_degraded, true, degraded_invalid_spec, problems_text(plan.problems)}});
  };
  if (!parsed.problems.empty()) {
    refuse_input(parsed.problems);
    return plan;
  }

  // Refused changes (v2.1.0 CheckNonAllowedChanges): the old values are written back and
  // nothing else is done this pass.
  last_applied_read last = read_last_applied(in.cluster);
  cluster_spec spec = parsed.spec;
  bool resources_changed = false;
  std::optional<std::string> removed_dc;
  std::vector<std::string> removed_dc_racks;
  if (last.spec) {
    change_context ctx;
    ctx.scale_down_ongoing = scale_down_in_progress(parsed.status);
    if (in.nodes) {
      ctx.data = in.nodes->replication;
      ctx.fresh_data_required = true;
      ctx.change_seen = in.nodes->dc_zero_seen;
    }
    change_review review = review_changes(*last.spec, parsed.spec, ctx);
    if (!review.awaiting_ring.empty()) {
      // Neither accepted nor refused yet: nothing is acted on (the spec stays as the user wrote
      // it, last-applied unchanged) until a ring answer asked from now on says where keyspaces
      // replicate (a DC-to-0 checked on an older one could lose data ALTERed there just before).
      std::string dcs;
      for (const auto& dc : review.awaiting_ring) dcs += (dcs.empty() ? "" : ", ") + dc;
      plan.needs_fresh_ring = true;
      plan.waiting = "asking the ring whether a keyspace still replicates to DC " + dcs +
                     " before scaling it to 0";
      write_conditions_only(
          {{condition_ready, cluster_ready(parsed.status),
            cluster_ready(parsed.status) ? "Running" : parsed.status.phase, plan.waiting},
           {condition_progressing, true, "CheckingReplication", plan.waiting},
           {condition_degraded, false, "AsSpecified", "the spec is acted on as written"}});
      return plan;
    }
    if (review.refused()) {
      plan.refusals = review.refusals;
      cluster_status status = parsed.status;
      status.last_cluster_action = action::correct_crd_config;  // reconcile.go:166
      std::string reasons;
      for (const auto& r : review.refusals) {
        plan.events.push_back({true, r.reason, r.field + ": " + r.message, ""});
        reasons += (reasons.empty() ? "" : ", ") + r.reason;
      }
      plan.status = status;
      update.write(review.spec, status,
                   {{condition_ready, cluster_ready(status), "ChangeRefused",
                     "a change was refused and written back"},
                    {condition_progressing, false, "ChangeRefused", "refused: " + reasons},
                    {condition_degraded, true, review.refusals.front().reason,
                     review.refusals.front().field + ": " + review.refusals.front().message}});
      return plan;
    }
    spec = std::move(review.spec);
    resources_changed = review.resources_changed;
    removed_dc = review.removed_dc;
    removed_dc_racks = review.removed_dc_racks;
  }
  parsed_cluster acted = parsed;
  acted.spec = spec;

  // ActionDeleteDC (v2.1.0 reconcile.go:180-196): a DC removed from the spec at 0 nodes loses
  // its StatefulSets (uid precondition) and Services, and its racks leave the status.
  if (removed_dc) {
    for (const auto& rack_name : removed_dc_racks) {
      const std::string rack = rack_name.substr(removed_dc->size() + 1);
      const std::string sts = statefulset_name(acted.name, *removed_dc, rack);
      if (auto found = in.statefulsets.find(sts); found != in.statefulsets.end() && found->second)
        plan.writes.push_back({object_write::verb::remove, "StatefulSet", sts, rack_name,
                               js::Document(),
                               std::string(js::get_string(*found->second, {"metadata", "uid"}))});
      const std::string rack_svc = acted.name + "-" + rack_name;
      if (in.services.count(rack_svc))
        plan.writes.push_back(
            {object_write::verb::remove, "Service", rack_svc, rack_name, js::Document(), ""});
      acted.status.racks.erase(rack_name);
    }
    for (const std::string& svc :
         {acted.name + "-" + *removed_dc, acted.name + "-" + *removed_dc + "-exporter-jmx"})
      if (in.services.count(svc))
        plan.writes.push_back({object_write::verb::remove, "Service", svc, "", js::Document(), ""});
    acted.status.last_cluster_action = action::delete_dc;
    acted.status.last_cluster_action_status = status::done;
    plan.events.push_back({false, "ActionDeleteDC",
                           "DC " + *removed_dc +
                               " removed from the spec at 0 nodes: its StatefulSets and "
                               "Services are deleted",
                           ""});
  }

  // Every StatefulSet generated must be buildable before anything is written.
  const std::vector<dc_rack> racks = racks_of(spec);
  {
    std::vector<spec_problem> problems;
    for (const auto& r : racks) {
      if (!is_dns1035_label(r.name()))
        problems.push_back(
            {"spec.topology", "dc-rack name \"" + r.name() +
                                  "\" is not a DNS-1035 label (lower case "
                                  "letters, digits and '-', starting with a letter)"});
      generated_object g = statefulset(acted, r, {});
      for (auto& p : g.problems) problems.push_back(std::move(p));
    }
    if (!problems.empty()) {
      refuse_input(std::move(problems));
      return plan;
    }
  }

  // The PDB (v2.1.0 ensureCassandraPodDisruptionBudget) and the Services (created once).
  js::Document pdb = pod_disruption_budget(acted);
  if (!in.pdb) {
    plan.writes.push_back({object_write::verb::create, "PodDisruptionBudget", pdb_name(acted.name),
                           "", std::move(pdb), ""});
  } else if (js::get_int(*in.pdb, {"spec", "maxUnavailable"}, -1) != spec.max_pod_unavailable) {
    js::Document patch;
    patch.SetObject();
    auto& a = patch.GetAllocator();
    js::ensure_object(patch, "spec", a);
    js::set_member(patch["spec"], "maxUnavailable", js::Value(spec.max_pod_unavailable), a);
    plan.writes.push_back({object_write::verb::patch, "PodDisruptionBudget", pdb_name(acted.name),
                           "", std::move(patch), ""});
  }
  for (auto& svc : all_services(acted)) {
    std::string name(js::get_string(svc, {"metadata", "name"}));
    if (in.services.count(name)) continue;
    plan.writes.push_back({object_write::verb::create, "Service", name, "", std::move(svc), ""});
  }

  // The racks.
  std::map<std::string, observed_statefulset> observed;
  std::map<std::string, const js::Value*> stored_by_rack;
  for (const auto& r : racks) {
    const std::string name = statefulset_name(acted.name, r.dc, r.rack);
    auto found = in.statefulsets.find(name);
    const bool stale = in.stale_statefulsets.count(name) > 0;
    if (found != in.statefulsets.end() && found->second) {
      observed_statefulset o = observe_statefulset(*found->second);
      o.stale = stale;
      observed[r.name()] = std::move(o);
      stored_by_rack[r.name()] = found->second;
    } else if (stale) {
      observed_statefulset o;  // created by us, not in the cache yet
      o.stale = true;
      observed[r.name()] = std::move(o);
    }
  }
  auto rack_of = [&](const statefulset_intent& i) -> const dc_rack& {
    for (const auto& r : racks)
      if (r.name() == i.dc_rack) return r;
    return racks.front();
  };
  sequence_input si{acted,
                    observed,
                    observe_pdb(in.pdb),
                    in.now,
                    resources_changed,
                    [&](const statefulset_intent& i) {
                      auto stored = stored_by_rack.find(i.dc_rack);
                      if (stored == stored_by_rack.end()) return true;
                      generated_object g = generate(acted, rack_of(i), i);
                      return needs_write(*stored->second, g.object).needed;
                    },
                    in.nodes};
  sequence_result seq = sequence(si);
  if (in.nodes) {
    // Checked against the status as read, before this pass records host ids (v2.1.0
    // CheckPodsState).
    if (auto swap = pod_with_swapped_ip(spec.restart_count_before_pod_deletion, *in.nodes,
                                        seq.status.nodes)) {
      object_write w;
      w.what = object_write::verb::remove;
      w.kind = "Pod";
      w.name = swap->pod;
      w.precondition_uid = swap->uid;
      plan.writes.push_back(std::move(w));
      plan.events.push_back(
          {true, "PodIPSwapped",
           "Pod " + swap->pod + " restarted " + std::to_string(swap->restarts) +
               " times (restartCountBeforePodDeletion " +
               std::to_string(spec.restart_count_before_pod_deletion) + ") and has IP " + swap->ip +
               ", which the ring maps to host id " + swap->ring_host_id +
               " while the status records " +
               (swap->recorded_host_id.empty() ? std::string("none") : swap->recorded_host_id) +
               " for it: deleting the pod so it gets a new IP",
           ""});
    }
    record_host_ids(*in.nodes, seq.status);
  }
  // The node a decommission is sent to is labelled as v2.1.0 does (ensureDecommissionToDo,
  // pod_operation.go:487): `kubectl get pods -L operation-name,operation-status` shows it.
  if (in.pod_operations)
    for (const auto& c : seq.calls)
      plan.writes.push_back({object_write::verb::patch, "Pod", c.pod, c.dc_rack,
                             label_patch_body({c.pod,
                                               {{op_label::name, pod_op::decommission},
                                                {op_label::status, status::ongoing},
                                                {op_label::start, in.pod_operations->now_label}}}),
                             ""});
  plan.calls = std::move(seq.calls);
  plan.nodes_busy = seq.nodes_busy;
  for (auto& [pvc, uid] : seq.delete_pvcs) {
    object_write w;
    w.what = object_write::verb::remove;
    w.kind = "PersistentVolumeClaim";
    w.name = pvc;
    w.precondition_uid = uid;
    plan.writes.push_back(std::move(w));
  }
  plan.status = seq.status;
  plan.waiting = seq.waiting;
  for (auto& n : seq.notices)
    plan.events.push_back({n.warning, std::move(n.reason), std::move(n.message), n.dc_rack});
  if (in.pod_operations) plan_pod_work(*in.pod_operations, parsed.status, acted, seq.status, plan);

  if (seq.write) {
    const statefulset_intent& i = *seq.write;
    generated_object g = generate(acted, rack_of(i), i);
    auto& a = g.object.GetAllocator();
    object_write w;
    w.kind = "StatefulSet";
    w.name = std::string(js::get_string(g.object, {"metadata", "name"}));
    w.dc_rack = i.dc_rack;
    stamp_applied_hash(g.object, a);
    if (i.create) {
      w.what = object_write::verb::create;
    } else {
      const js::Value& stored = *stored_by_rack.at(i.dc_rack);
      label_map extra;
      if (i.rolling_restart_stamp) extra[rolling_restart_label] = *i.rolling_restart_stamp;
      keep_immutable_from_stored(g.object, stored, extra, a);
      // An update of the object we read: a newer one makes it fail (409) and the pass runs again.
      js::set_string(js::ensure_object(g.object, "metadata", a), "resourceVersion",
                     js::get_string(stored, {"metadata", "resourceVersion"}), a);
      w.what = object_write::verb::update;
    }
    w.body = std::move(g.object);
    plan.writes.push_back(std::move(w));
  }

  // The spec fields a pass consumes (v2.1.0 resets them in the same Update).
  for (const auto& [dc, rack] : seq.rolling_restart_consumed)
    if (dc < spec.dcs.size() && rack < spec.dcs[dc].racks.size())
      spec.dcs[dc].racks[rack].rolling_restart = false;
  if (seq.unlock_consumed) spec.unlock_next_operation = false;

  plan.ready = cluster_ready(seq.status);
  const bool progressing = !plan.ready || seq.write.has_value();
  update.write(
      spec, seq.status,
      {{condition_ready, plan.ready, plan.ready ? "Running" : seq.status.phase,
        plan.ready ? "every rack is Running"
                   : seq.status.last_cluster_action + " " + seq.status.last_cluster_action_status},
       {condition_progressing, progressing, progressing ? seq.status.last_cluster_action : "Done",
        seq.waiting.empty()
            ? seq.status.last_cluster_action + " " + seq.status.last_cluster_action_status
            : seq.waiting},
       seq.node_problem.empty()
           ? condition{condition_degraded, false, "AsSpecified", "the spec is acted on as written"}
           : condition{condition_degraded, true, seq.node_problem, seq.waiting}});
  return plan;
}

reconcile_plan plan_deletion(const js::Value& cluster, const std::vector<const js::Value*>& pvcs) {
  reconcile_plan plan;
  const std::string deleted_at(js::get_string(cluster, {"metadata", "deletionTimestamp"}));
  if (deleted_at.empty() || !has_finalizer(cluster, pvc_finalizer)) return plan;
  const std::string name(js::get_string(cluster, {"metadata", "name"}));
  int pending = 0;
  for (const js::Value* pvc : pvcs) {
    if (js::get_string(*pvc, {"metadata", "labels", cluster_label}) != name ||
        js::get_string(*pvc, {"metadata", "labels", "app"}) != "cassandracluster")
      continue;
    // RFC 3339 in UTC, one format: ordered as strings. Same second: deleted (v2.1.0 would).
    if (std::string(js::get_string(*pvc, {"metadata", "creationTimestamp"})) > deleted_at) continue;
    if (js::find_path(*pvc, {"metadata", "deletionTimestamp"})) continue;  // already going
    object_write w;
    w.what = object_write::verb::remove;
    w.kind = "PersistentVolumeClaim";
    w.name = std::string(js::get_string(*pvc, {"metadata", "name"}));
    w.precondition_uid = std::string(js::get_string(*pvc, {"metadata", "uid"}));
    plan.writes.push_back(std::move(w));
    ++pending;
  }
  if (pending > 0) {
    plan.events.push_back({false, "DeletePVC",
                           "deleting " + std::to_string(pending) +
                               " PersistentVolumeClaims of the cluster (deletePVC)",
                           ""});
    return plan;
  }
  // Every PVC of the cluster is gone or going: the finalizer goes.
  js::Document next = js::copy_of(cluster);
  set_finalizer(next, false, next.GetAllocator());
  object_write w;
  w.what = object_write::verb::update;
  w.kind = "CassandraCluster";
  w.name = name;
  w.body = std::move(next);
  plan.writes.push_back(std::move(w));
  return plan;
}

}  // namespace casskop
