#include "actors/casskop/logic/refused_changes.h"

#include <algorithm>

#include "actors/casskop/logic/names.h"

namespace casskop {

namespace {

std::string dc_path(size_t i) {
  return "spec.topology.dc[" + std::to_string(i) + "]";
}
std::string quoted(const std::string& s) {
  return "\"" + s + "\"";
}
std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + quoted(s);
  return out;
}
bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}
std::vector<std::string> minus(const std::vector<std::string>& a,
                               const std::vector<std::string>& b) {
  std::vector<std::string> out;
  for (const auto& s : a)
    if (!contains(b, s)) out.push_back(s);
  return out;
}

// A DC as the topology rules see it: an empty topology is dc1/rack1 and a DC without racks has
// rack1 (InitCassandraRackList, which v2.1.0 writes into the spec on the first pass).
struct dc_view {
  std::string name;
  std::vector<std::string> racks;
  const dc_spec* dc = nullptr;  // nullptr for the implicit dc1
  size_t index = 0;
};
std::vector<dc_view> dcs_of(const cluster_spec& spec) {
  std::vector<dc_view> out;
  for (const dc_rack& r : racks_of(spec)) {
    if (out.empty() || out.back().index != r.dc_index)
      out.push_back({r.dc, {}, spec.dcs.empty() ? nullptr : &spec.dcs[r.dc_index], r.dc_index});
    out.back().racks.push_back(r.rack);
  }
  return out;
}
const dc_view* find_view(const std::vector<dc_view>& dcs, const std::string& name) {
  for (const auto& d : dcs)
    if (d.name == name) return &d;
  return nullptr;
}
int32_t nodes_of(const cluster_spec& spec, const dc_view& v) {
  return v.dc ? nodes_per_racks_of(spec, *v.dc) : spec.nodes_per_racks;
}

class reviewer {
 public:
  reviewer(const cluster_spec& old_spec, const cluster_spec& wanted, const change_context& ctx)
      : old_(old_spec), ctx_(ctx) {
    r_.spec = wanted;
  }

  change_review run() {
    nodes_per_racks_zero();
    storage();
    storage_configs();
    topology();
    scale_down();
    // reconcile.go:198: only spec.resources; a DC's resources roll as any other template change.
    r_.resources_changed = !same_resources(r_.spec.resources, old_.resources);
    return std::move(r_);
  }

 private:
  void refuse(const std::string& field, const char* reason, const std::string& message) {
    for (const auto& f : r_.refusals)
      if (f.field == field && f.reason == reason) return;
    r_.refusals.push_back({field, reason, message});
  }

  // reconcile.go:135-141.
  void nodes_per_racks_zero() {
    cluster_spec& s = r_.spec;
    if (s.nodes_per_racks != 0) return;
    s.nodes_per_racks = old_.nodes_per_racks;
    refuse("spec.nodesPerRacks", refusal_reason::nodes_per_racks_zero,
           "spec.nodesPerRacks cannot be 0 (that would empty every DC at once); it was restored "
           "to " +
               std::to_string(old_.nodes_per_racks) +
               ". To empty one DC, set that DC's nodesPerRacks to 0.");
  }

  // reconcile.go:143-163: a PersistentVolumeClaim template cannot change, so neither can the
  // effective dataCapacity and dataStorageClass of a DC that exists. A new DC may have its own.
  void storage() {
    cluster_spec& s = r_.spec;
    const std::vector<dc_view> before = dcs_of(old_);
    for (const dc_view& n : dcs_of(s)) {
      const dc_view* o = find_view(before, n.name);
      if (!o) continue;
      static const dc_spec none{};
      const dc_spec& old_dc = o->dc ? *o->dc : none;
      const std::string where = "DC " + quoted(n.name);
      const std::string prefix = n.dc ? dc_path(n.index) : std::string();
      {
        const dc_spec& dc = n.dc ? *n.dc : none;
        const std::string was = data_capacity_of(old_, old_dc), now = data_capacity_of(s, dc);
        if (was != now) {
          capacity_refused(n.dc && dc.data_capacity != old_dc.data_capacity
                               ? prefix + ".dataCapacity"
                               : "spec.dataCapacity",
                           was, now, where);
          s.data_capacity = old_.data_capacity;
          if (n.dc) s.dcs[n.index].data_capacity = old_dc.data_capacity;
        }
      }
      const dc_spec& dc = n.dc ? s.dcs[n.index] : none;
      const std::string was = data_storage_class_of(old_, old_dc),
                        now = data_storage_class_of(s, dc);
      if (was != now) {
        class_refused(n.dc && dc.data_storage_class != old_dc.data_storage_class
                          ? prefix + ".dataStorageClass"
                          : "spec.dataStorageClass",
                      was, now, where);
        s.data_storage_class = old_.data_storage_class;
        if (n.dc) s.dcs[n.index].data_storage_class = old_dc.data_storage_class;
      }
    }
  }
  void capacity_refused(const std::string& field, const std::string& before,
                        const std::string& after, const std::string& where) {
    refuse(field, refusal_reason::data_capacity_changed,
           "the data volume size of " + where + " cannot change (from " + quoted(before) + " to " +
               quoted(after) +
               "): a StatefulSet's volumeClaimTemplates are immutable; restored "
               "to " +
               quoted(before) + ".");
  }
  void class_refused(const std::string& field, const std::string& before, const std::string& after,
                     const std::string& where) {
    refuse(field, refusal_reason::data_storage_class_changed,
           "the data storage class of " + where + " cannot change (from " + quoted(before) +
               " to " + quoted(after) +
               "): a StatefulSet's volumeClaimTemplates are immutable; "
               "restored to " +
               quoted(before) + ".");
  }

  void storage_configs() {
    const auto& before = old_.storage_configs;
    auto& after = r_.spec.storage_configs;
    bool same = before.size() == after.size();
    for (size_t i = 0; same && i < before.size(); ++i)
      same = before[i].name == after[i].name && before[i].mount_path == after[i].mount_path &&
             before[i].pvc_spec == after[i].pvc_spec;
    if (same) return;
    refuse("spec.storageConfigs", refusal_reason::storage_configs_changed,
           "storageConfigs cannot change once the cluster exists: each is a volumeClaimTemplate "
           "of the StatefulSets, which are immutable; restored to their last accepted value.");
    after = before;
  }

  // CheckTopologyChanges, reconcile.go:298-346: only adding DCs, or removing one empty DC.
  void topology() {
    const std::vector<dc_view> before = dcs_of(old_), after = dcs_of(r_.spec);
    std::vector<std::string> old_names, new_names;
    for (const auto& d : before) old_names.push_back(d.name);
    for (const auto& d : after) new_names.push_back(d.name);
    const auto removed = minus(old_names, new_names), added = minus(new_names, old_names);
    bool restore = false;
    const std::string restored = " The topology was restored to its last accepted value.";
    if (!removed.empty() && !added.empty()) {
      restore = true;
      refuse("spec.topology.dc", refusal_reason::dc_renamed,
             "DC " + join(removed) + " cannot be renamed or replaced by " + join(added) +
                 ": a DC's name is its Cassandra datacenter and its objects' names; add a new DC "
                 "and remove the old one in separate changes." +
                 restored);
    }
    if (minus(old_names, removed) != minus(new_names, added)) {
      restore = true;
      refuse("spec.topology.dc", refusal_reason::dc_order_changed,
             "the order of the DCs cannot change: casskop works on them in that order." + restored);
    }
    for (const auto& n : after) {
      const dc_view* o = find_view(before, n.name);
      if (!o || o->racks == n.racks) continue;
      const auto gone = minus(o->racks, n.racks), fresh = minus(n.racks, o->racks);
      const std::string field = dc_path(n.index) + ".rack";
      restore = true;
      if (!gone.empty() && !fresh.empty())
        refuse(field, refusal_reason::rack_renamed,
               "rack " + join(gone) + " of DC " + quoted(n.name) +
                   " cannot be renamed or replaced by " + join(fresh) + "." + restored);
      else if (!fresh.empty())
        refuse(field, refusal_reason::rack_added,
               "rack " + join(fresh) + " cannot be added to DC " + quoted(n.name) +
                   ", which exists already: racks can only be declared with a new DC." + restored);
      else if (!gone.empty())
        refuse(field, refusal_reason::rack_removed,
               "rack " + join(gone) + " cannot be removed from DC " + quoted(n.name) +
                   ": only a whole DC, scaled to 0 first, can be removed." + restored);
      else
        refuse(field, refusal_reason::rack_renamed,
               "the order of the racks of DC " + quoted(n.name) + " cannot change." + restored);
    }
    if (removed.size() > 1) {
      restore = true;
      refuse("spec.topology.dc", refusal_reason::too_many_dcs_removed,
             "DCs " + join(removed) + " cannot be removed at once: remove one DC at a time." +
                 restored);
    } else if (removed.size() == 1 && added.empty()) {
      const dc_view& gone = *find_view(before, removed[0]);
      const int32_t nodes = nodes_of(old_, gone);
      if (ctx_.scale_down_ongoing) {
        restore = true;
        refuse("spec.topology.dc", refusal_reason::dc_removed_during_scale_down,
               "DC " + quoted(gone.name) +
                   " cannot be removed while a scale down is in progress; "
                   "wait for it to finish." +
                   restored);
      } else if (nodes > 0) {
        restore = true;
        refuse("spec.topology.dc", refusal_reason::dc_removed_with_nodes,
               "DC " + quoted(gone.name) + " cannot be removed while it has " +
                   std::to_string(nodes) +
                   " node(s) per rack: scale it to 0 first (set its nodesPerRacks to 0), then "
                   "remove it." +
                   restored);
      } else if (!restore) {
        r_.removed_dc = gone.name;
        for (const auto& rack : gone.racks)
          r_.removed_dc_racks.push_back(dc_rack_name(gone.name, rack));
      }
    }
    if (restore) {
      r_.spec.dcs = old_.dcs;  // reconcile.go:177: the whole topology goes back
      r_.removed_dc.reset();
      r_.removed_dc_racks.clear();
    }
  }

  // CheckNonAllowedScaleDown (reconcile.go:384-438) for a DC going to 0; any other scale down is
  // accepted (the rack sequencer decommissions one node at a time).
  void scale_down() {
    cluster_spec& s = r_.spec;
    const std::vector<dc_view> before = dcs_of(old_);
    for (const dc_view& n : dcs_of(s)) {
      const dc_view* o = find_view(before, n.name);
      if (!o) continue;  // a new DC
      const int32_t was = nodes_of(old_, *o), now = nodes_of(s, n);
      if (now >= was) continue;
      const bool own_field = n.dc && n.dc->nodes_per_racks &&
                             (!o->dc || o->dc->nodes_per_racks != n.dc->nodes_per_racks);
      const std::string field =
          own_field ? dc_path(n.index) + ".nodesPerRacks" : "spec.nodesPerRacks";
      const std::string what = "DC " + quoted(n.name) + " from " + std::to_string(was) + " to " +
                               std::to_string(now) + " node(s) per rack";
      const std::string restored = "; restored to " + std::to_string(was) + ".";
      if (now == 0 && ctx_.fresh_data_required &&
          !(ctx_.change_seen && ctx_.data.asked > *ctx_.change_seen)) {
        r_.awaiting_ring.push_back(n.name);  // an older answer may miss a recent ALTER KEYSPACE
        continue;
      }
      const char* reason = nullptr;
      std::string message;
      if (now == 0 && !ctx_.data.known) {
        reason = refusal_reason::data_check_not_possible;
        message = "cannot scale " + what +
                  ": casskop must first check that no keyspace still "
                  "replicates data to it, and that check is not possible yet (" +
                  (ctx_.data.why.empty() ? std::string("no Ready pod to ask") : ctx_.data.why) +
                  ")" + restored;
      } else if (now == 0 && ctx_.data.replicated_dcs.count(n.name)) {
        reason = refusal_reason::dc_still_replicated;
        message = "cannot scale " + what +
                  ": keyspaces still replicate data to it; change their "
                  "replication so they no longer use DC " +
                  quoted(n.name) + " first" + restored;
      }
      if (!reason) continue;
      refuse(field, reason, message);
      restore_nodes(n, *o, was);
    }
  }

  // Writes back the old value of the field that made the DC shrink: its own nodesPerRacks, else
  // the global one.
  void restore_nodes(const dc_view& n, const dc_view& o, int32_t was) {
    cluster_spec& s = r_.spec;
    if (n.dc) {
      dc_spec& dc = s.dcs[n.index];
      if (o.dc && dc.nodes_per_racks != o.dc->nodes_per_racks)
        dc.nodes_per_racks = o.dc->nodes_per_racks;
      if (!o.dc && dc.nodes_per_racks) dc.nodes_per_racks.reset();
      if (nodes_per_racks_of(s, dc) < was) s.nodes_per_racks = old_.nodes_per_racks;
    } else {
      s.nodes_per_racks = old_.nodes_per_racks;
    }
  }

  const cluster_spec& old_;
  const change_context& ctx_;
  change_review r_;
};

}  // namespace

change_review review_changes(const cluster_spec& last_applied, const cluster_spec& wanted,
                             const change_context& context) {
  return reviewer(last_applied, wanted, context).run();
}

void mark_resources_update(const cluster_spec& spec, cluster_status& status,
                           const std::string& now) {
  for (const dc_rack& r : racks_of(spec)) {
    last_action& a = status.racks[r.name()].cassandra_last_action;
    a.name = action::update_resources;
    a.status = status::to_do;
    a.start_time = now;
    a.end_time.clear();
  }
}

}  // namespace casskop
