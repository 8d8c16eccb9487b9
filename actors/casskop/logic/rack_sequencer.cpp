#include "actors/casskop/logic/rack_sequencer.h"

#include <algorithm>
#include <set>

#include "actors/casskop/logic/names.h"
#include "actors/casskop/logic/seeds.h"
#include "k8s/base/timestamps.h"

namespace casskop {
namespace js = k8s::json;

namespace {

const js::Value* named(const js::Value* list, std::string_view name) {
  if (!list || !list->IsArray()) return nullptr;
  for (const auto& item : list->GetArray())
    if (item.IsObject() && js::get_string(item, "name") == name) return &item;
  return nullptr;
}

std::vector<std::string> split_commas(std::string_view s) {
  std::vector<std::string> out;
  if (s.empty()) return out;
  size_t start = 0;
  while (true) {
    size_t comma = s.find(',', start);
    out.emplace_back(s.substr(start, comma == std::string_view::npos ? s.npos : comma - start));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return out;
}

bool in_progress(const last_action& a) {
  return a.status == status::ongoing || a.status == status::to_do || a.status == status::finalizing;
}

// "2026-12-05T09:40:00Z" -> "20261205T094000", v2.1.0's k8s.LabelTime() layout.
std::string label_time(const std::string& rfc3339) {
  std::string out;
  for (char c : rfc3339.substr(0, 19))
    if (c != '-' && c != ':') out += c;
  return out;
}

// The StatefulSet has settled on what was last written: seen by its controller, every replica
// there and Ready.
bool settled(const observed_statefulset& st) {
  return st.observed_generation >= st.generation && st.replicas == st.spec_replicas &&
         st.ready_replicas == st.spec_replicas;
}

// Every pod runs the revision last written (a partition > 0 keeps this false: the rack is held).
// Revisions alone can lie: a template reverted mid-roll makes updateRevision equal to
// currentRevision again while pods still run the abandoned one; updatedReplicas tells.
bool rolled(const observed_statefulset& st) {
  return st.current_revision == st.update_revision && st.updated_replicas == st.spec_replicas;
}

int64_t ms_between(const std::string& from, const std::string& to) {
  auto a = k8s::parse_rfc3339(from), b = k8s::parse_rfc3339(to);
  if (!a || !b) return 0;
  return k8s::unix_ms(*b) - k8s::unix_ms(*a);
}

const char* const decommission_op = "decommission";  // v2.1.0 api.OperationDecommission

struct pass {
  const sequence_input& in;
  sequence_result& out;
  bool pdb_allows = false;
  bool unlock = false;

  void notice(const dc_rack& r, std::string reason, std::string message, bool warning = false) {
    out.notices.push_back({warning, std::move(reason), std::move(message), r.name()});
  }

  void start(last_action& a, const char* name, const char* st, bool stamp) {
    a.name = name;
    a.status = st;
    a.start_time = stamp ? in.now : "";
    a.end_time.clear();
  }

  void finish_action(const dc_rack& r, last_action& a) {
    a.status = status::done;
    a.end_time = in.now;
    notice(r, "RackActionDone", a.name + " done on " + r.name());
  }

  // A rack other than `self` whose StatefulSet moves or whose action is under way ("" if none).
  std::string other_busy(const std::vector<dc_rack>& racks, const dc_rack& self) const {
    for (const auto& r : racks) {
      if (r.name() == self.name()) continue;
      auto st = in.statefulsets.find(r.name());
      if (st == in.statefulsets.end()) continue;
      const last_action& a = out.status.racks.at(r.name()).cassandra_last_action;
      // A rack still Initializing shows its motion in its StatefulSet, not in its action.
      bool acting = a.name != action::initializing && a.status == status::ongoing;
      if (st->second.stale || !settled(st->second) || !rolled(st->second) || acting ||
          a.status == status::finalizing || a.status == status::continue_)
        return r.name();
    }
    return "";
  }

  // At most one action in the whole cluster: while another rack moves, this one waits (the
  // PDB alone cannot say so: a StatefulSet just written has not disrupted anything yet).
  bool may_act(const std::vector<dc_rack>& racks, const dc_rack& r) {
    std::string busy = other_busy(racks, r);
    if (busy.empty()) return true;
    if (out.waiting.empty()) out.waiting = r.name() + " waits for " + busy;
    return false;
  }

  // v2.1.0 UpdateCassandraRackStatusPhase.
  void update_phase(const dc_rack& r, rack_status& rs, const observed_statefulset& st,
                    int32_t nodes) {
    if (rs.phase == phase::initializing) {
      if (!settled(st) || !rolled(st) || st.spec_replicas < nodes) return;
      rs.phase = phase::running;
      if (rs.cassandra_last_action.name == action::initializing) {
        rs.cassandra_last_action.status = status::done;
        rs.cassandra_last_action.end_time = in.now;
      }
      notice(r, "RackRunning", "dc-rack " + r.name() + " is Running");
      return;
    }
    rs.phase = settled(st) ? phase::running : phase::pending;
  }

  // v2.1.0 UpdateStatusIfActionEnded, ended by the StatefulSet's status instead of a 20 s wait.
  bool action_ended(const dc_rack& r, last_action& a, const observed_statefulset& st,
                    int32_t nodes) {
    if (a.status != status::ongoing && a.status != status::continue_) return false;
    if (a.name == action::initializing || a.name == action::scale_down) return false;
    if (a.name == action::scale_up) {
      if (st.spec_replicas != nodes || !settled(st)) return false;
    } else if (!rolled(st) || !settled(st)) {
      return false;
    }
    finish_action(r, a);
    return true;
  }

  void wait_on_node(std::string why, const char* reason = nullptr) {
    out.nodes_busy = true;
    if (out.waiting.empty()) out.waiting = std::move(why);
    if (reason && out.node_problem.empty()) out.node_problem = reason;
  }

  // The rack's StatefulSet at `replicas` (a scale down's only write: one node less).
  void shrink(const dc_rack& r, const observed_statefulset& st, int32_t replicas) {
    statefulset_intent update;
    update.dc_rack = r.name();
    update.dc_index = r.dc_index;
    update.rack_index = r.rack_index;
    update.replicas = replicas;
    update.template_labels = st.template_labels;
    update.seeds = st.seeds;
    out.write = update;
  }

  // One step of a rack's ScaleDown (see the header). Returns after at most one write.
  void scale_down(const dc_rack& r, rack_status& rs, const observed_statefulset& st,
                  int32_t nodes) {
    last_action& a = rs.cassandra_last_action;
    pod_last_operation& op = rs.pod_last_op;
    const node_facts* f = in.nodes;
    if (!f) {
      out.waiting = r.name() + ": ScaleDown waits for what its nodes say";
      return;
    }
    const std::string sts = statefulset_name(in.cluster.name, r.dc, r.rack);
    const bool op_open = op.name == decommission_op && !op.pods.empty() &&
                         (op.status == status::to_do || op.status == status::ongoing ||
                          op.status == status::finalizing);
    if (!op_open) {
      if (nodes >= st.spec_replicas) {
        finish_action(r, a);
        return;
      }
      // The next node: the highest ordinal (v2.1.0 GetLastPod).
      op = pod_last_operation{};
      op.name = decommission_op;
      op.status = status::to_do;
      op.pods = {sts + "-" + std::to_string(st.spec_replicas - 1)};
      if (a.status == status::to_do || a.start_time.empty()) a.start_time = in.now;
      a.status = status::ongoing;
    }
    const std::string target = op.pods.front();
    auto pod = f->pods.find(target);
    auto answer_of = [&](const std::map<std::string, node_answer>& m) -> const node_answer* {
      auto it = m.find(target);
      if (it == m.end() || pod == f->pods.end() || it->second.pod_uid != pod->second.uid)
        return nullptr;
      return &it->second;
    };
    auto send_decommission = [&] {
      out.calls.push_back({target, pod->second.uid, pod->second.ip, r.name(),
                           jolokia::decommission(in.cluster.spec.server_version)});
      op.start_time = in.now;
    };

    if (op.status == status::to_do) {
      if (!pdb_allows && !unlock) {
        out.waiting = r.name() + ": ScaleDown waits for the PodDisruptionBudget";
        return;
      }
      if (pod == f->pods.end()) {
        wait_on_node(r.name() + ": ScaleDown waits for pod " + target + " to exist");
        return;
      }
      if (pod->second.unschedulable) {
        // Never scheduled, so never in the ring: no decommission (pod_operation.go:466).
        op.status = status::finalizing;
        notice(r, "ScaleDownUnschedulable",
               target + " was never scheduled: removed without decommission");
        shrink(r, st, st.spec_replicas - 1);
        return;
      }
      if (pod->second.phase != "Running" || pod->second.deleting || pod->second.ip.empty()) {
        wait_on_node(r.name() + ": decommission of " + target + " waits for it to be Running");
        return;
      }
      const node_answer* mode = answer_of(f->modes);
      if (!mode) {
        wait_on_node(r.name() + ": asking " + target + " its OperationMode");
        return;
      }
      if (!mode->error.ok()) {
        wait_on_node(r.name() + ": OperationMode of " + target + ": " + mode->error.describe(),
                     reason_of(mode->error));
        return;
      }
      op.status = status::ongoing;
      op.pods_ok.clear();
      op.pods_ko.clear();
      op.end_time.clear();
      if (mode->value == "LEAVING" || mode->value == "DECOMMISSIONED") {
        op.start_time = in.now;  // already leaving: followed, not sent again
      } else {
        send_decommission();
        notice(r, "Decommission", "decommissioning " + target + " (" + mode->value + ")");
      }
      out.nodes_busy = true;
      out.waiting = r.name() + ": decommission of " + target + " under way";
      return;
    }

    if (op.status == status::ongoing) {
      const node_answer* mode = answer_of(f->modes);
      if (!mode || mode->at < op.start_time) {
        wait_on_node(r.name() + ": decommission of " + target + " sent, asking its OperationMode");
        return;
      }
      if (!mode->error.ok()) {
        wait_on_node(r.name() + ": OperationMode of " + target + ": " + mode->error.describe() +
                         "; the StatefulSet is not shrunk until it answers DECOMMISSIONED",
                     reason_of(mode->error));
        return;
      }
      if (mode->value == "DECOMMISSIONED") {
        op.status = status::finalizing;
        notice(r, "NodeDecommissioned",
               target + " has left the ring: one node less in " + r.name());
        shrink(r, st, st.spec_replicas - 1);
        return;
      }
      if (mode->value == "NORMAL") {
        const node_answer* refused = answer_of(f->decommission_answers);
        const bool was_refused = refused && !refused->error.ok() &&
                                 refused->error.kind == jolokia::failure::jolokia_error &&
                                 refused->at >= op.start_time;
        if (ms_between(op.start_time, in.now) >= f->decommission_resend_ms) {
          send_decommission();
          notice(r, "DecommissionResent",
                 target + " is still NORMAL: decommission sent again" +
                     (refused && !refused->error.ok() ? " (" + refused->error.describe() + ")"
                                                      : std::string()),
                 true);
          out.nodes_busy = true;
          return;
        }
        if (was_refused)
          wait_on_node(
              r.name() + ": " + target + " refused decommission: " + refused->error.describe(),
              node_reason::decommission_refused);
        else
          wait_on_node(
              r.name() + ": " + target + " is still NORMAL after decommission",
              ms_between(op.start_time, in.now) > 0 ? node_reason::decommission_stuck : nullptr);
        return;
      }
      // LEAVING, JOINING (streaming), DECOMMISSION_FAILED, ...: wait.
      const bool failed = mode->value.find("FAILED") != std::string::npos;
      wait_on_node(r.name() + ": " + target + " is " + mode->value,
                   failed ? node_reason::decommission_stuck : nullptr);
      return;
    }

    // Finalizing: the StatefulSet shrinks, the pod goes, then its PVC.
    const int32_t ordinal_plus_one = [&] {
      auto dash = target.rfind('-');
      try {
        return static_cast<int32_t>(std::stoi(target.substr(dash + 1))) + 1;
      } catch (...) {
        return st.spec_replicas;
      }
    }();
    if (st.spec_replicas >= ordinal_plus_one) {
      shrink(r, st, ordinal_plus_one - 1);  // our write was lost: written again
      return;
    }
    if (pod != f->pods.end()) {
      out.nodes_busy = true;
      out.waiting = r.name() + ": waiting for pod " + target + " to go";
      return;
    }
    const std::string pvc = data_pvc_name(target);
    if (auto claim = f->pvc_uids.find(pvc); claim != f->pvc_uids.end()) {
      out.delete_pvcs.emplace_back(pvc, claim->second);
      out.waiting = r.name() + ": deleting PVC " + pvc;
      return;
    }
    op.status = status::done;
    op.pods_ok = {target};
    op.pods.clear();
    op.end_time = in.now;
    notice(r, "DecommissionDone", target + " decommissioned, its pod and PVC " + pvc + " gone");
    if (nodes >= st.spec_replicas) finish_action(r, a);
  }

  // v2.1.0 getNextCassandraClusterStatus: one new action, by priority.
  void detect(const dc_rack& r, rack_status& rs, const observed_statefulset& st, int32_t nodes) {
    last_action& a = rs.cassandra_last_action;
    const cluster_spec& spec = in.cluster.spec;
    // v2.1.0 also waits for the PDB before detecting (cassandra_status.go:107); here only the
    // write waits for it (below, in sequence()). Detected at once, the action shows as ToDo: a
    // rack whose drift waits for a PDB that has not caught up with the previous rack's pods
    // would otherwise leave the cluster Running/Done for the new spec between two racks, and
    // multi-casskop would take that for Ready and release the next region mid-roll.
    if (!(unlock || !in_progress(a))) return;
    bool cm_changed =
        st.config_map ? *st.config_map != spec.config_map_name : !spec.config_map_name.empty();
    if (cm_changed) {
      start(a, action::update_config_map, status::to_do, false);
      notice(r, "RackActionStarted",
             "UpdateConfigMap on " + r.name() + ": configMap " +
                 (st.config_map ? *st.config_map : std::string("(none)")) + " -> " +
                 (spec.config_map_name.empty() ? "(none)" : spec.config_map_name));
      return;
    }
    if (!st.cassandra_image.empty() && st.cassandra_image != spec.cassandra_image) {
      start(a, action::update_docker_image, status::to_do, false);
      notice(r, "RackActionStarted",
             "UpdateDockerImage on " + r.name() + ": " + st.cassandra_image + " -> " +
                 spec.cassandra_image);
      return;
    }
    if (nodes > st.spec_replicas) {
      start(a, action::scale_up, status::to_do, false);
      notice(r, "RackActionStarted",
             "ScaleUp on " + r.name() + ": " + std::to_string(st.spec_replicas) + " -> " +
                 std::to_string(nodes) + " nodes, one at a time");
      return;
    }
    if (nodes < st.spec_replicas && in.nodes) {
      start(a, action::scale_down, status::to_do, false);
      notice(r, "RackActionStarted",
             "ScaleDown on " + r.name() + ": " + std::to_string(st.spec_replicas) + " -> " +
                 std::to_string(nodes) + " nodes, one decommission at a time");
      return;
    }
    if (seed_list_change(spec, in.cluster.name, in.cluster.namespace_, st.seeds, r.name(),
                         out.status))
      return;
    bool rolling_restart = !spec.dcs.empty() && !spec.dcs[r.dc_index].racks.empty() &&
                           spec.dcs[r.dc_index].racks[r.rack_index].rolling_restart;
    if (rolling_restart) {
      start(a, action::rolling_restart, status::to_do, false);
      out.rolling_restart_consumed.emplace_back(r.dc_index, r.rack_index);
      notice(r, "RackActionStarted", "RollingRestart of " + r.name());
      return;
    }
    if (st.current_revision != st.update_revision) {
      // Someone else changed the StatefulSet: follow it to its end before anything else.
      start(a, action::update_statefulset, status::ongoing, true);
      return;
    }
  }
};

}  // namespace

observed_statefulset observe_statefulset(const js::Value& sts) {
  observed_statefulset o;
  o.generation = js::get_int(sts, {"metadata", "generation"}, 0);
  o.spec_replicas = static_cast<int32_t>(js::get_int(sts, {"spec", "replicas"}, 1));
  o.observed_generation = js::get_int(sts, {"status", "observedGeneration"}, 0);
  o.replicas = static_cast<int32_t>(js::get_int(sts, {"status", "replicas"}, 0));
  o.ready_replicas = static_cast<int32_t>(js::get_int(sts, {"status", "readyReplicas"}, 0));
  o.updated_replicas = static_cast<int32_t>(js::get_int(sts, {"status", "updatedReplicas"}, 0));
  o.current_revision = std::string(js::get_string(sts, {"status", "currentRevision"}));
  o.update_revision = std::string(js::get_string(sts, {"status", "updateRevision"}));
  const js::Value* pod = js::find_path(sts, {"spec", "template", "spec"});
  if (!pod) return o;
  if (const js::Value* labels = js::find_path(sts, {"spec", "template", "metadata", "labels"});
      labels && labels->IsObject())
    for (const auto& m : labels->GetObject())
      if (m.value.IsString()) o.template_labels[m.name.GetString()] = m.value.GetString();
  // v2.1.0 UpdateStatusIfconfigMapHasChanged: the volume named "cassandra-config".
  if (const js::Value* v = named(js::find(*pod, "volumes"), "cassandra-config"))
    if (const js::Value* cm = js::find(*v, "configMap"))
      o.config_map = std::string(js::get_string(*cm, "name"));
  if (const js::Value* c = named(js::find(*pod, "containers"), "cassandra"))
    o.cassandra_image = std::string(js::get_string(*c, "image"));
  if (const js::Value* b = named(js::find(*pod, "initContainers"), "bootstrap"))
    if (const js::Value* e = named(js::find(*b, "env"), "CASSANDRA_SEEDS"))
      o.seeds = split_commas(js::get_string(*e, "value"));
  return o;
}

bool cluster_ready(const cluster_status& s) {
  return s.phase == phase::running && s.last_cluster_action_status == status::done;
}

sequence_result sequence(const sequence_input& in) {
  sequence_result out;
  out.status = in.cluster.status;
  const cluster_spec& spec = in.cluster.spec;
  pass p{in, out};
  // v2.1.0 hasNoPodDisruption: no PDB read yet counts as no disruption.
  p.pdb_allows = !in.pdb.exists || in.pdb.disruptions_allowed > 0 || in.pdb.expected_pods == 0;
  p.unlock = spec.unlock_next_operation;

  if (out.status.phase.empty()) out.status.phase = phase::initializing;  // v2.1.0 SetDefaults
  if (out.status.seedlist.empty())                                       // v2.1.0 SetDefaults
    out.status.seedlist = init_seed_list(spec, in.cluster.name, in.cluster.namespace_);

  const std::vector<dc_rack> racks = racks_of(spec);
  for (const auto& r : racks) {
    if (!out.status.racks.count(r.name())) {
      rack_status fresh;  // v2.1.0 InitCassandraRackStatus
      fresh.phase = phase::initializing;
      fresh.cassandra_last_action.name = action::initializing;
      fresh.cassandra_last_action.status = status::ongoing;
      out.status.racks[r.name()] = fresh;
    } else if (in.resources_changed) {
      p.start(out.status.racks[r.name()].cassandra_last_action, action::update_resources,
              status::to_do, false);
    }
  }
  if (in.resources_changed)
    out.notices.push_back(
        {false, "UpdateResources", "resources changed: every rack rolls, one at a time", ""});

  for (const auto& r : racks) {
    rack_status& rs = out.status.racks[r.name()];
    last_action& a = rs.cassandra_last_action;
    const int32_t nodes =
        spec.dcs.empty() ? spec.nodes_per_racks : nodes_per_racks_of(spec, spec.dcs[r.dc_index]);
    auto found = in.statefulsets.find(r.name());
    if (found == in.statefulsets.end()) {
      if (!p.may_act(racks, r)) continue;
      if (!p.pdb_allows && !p.unlock) {
        out.waiting =
            "creating " + r.name() + " waits for the PodDisruptionBudget to allow a disruption";
        break;
      }
      statefulset_intent create;
      create.dc_rack = r.name();
      create.dc_index = r.dc_index;
      create.rack_index = r.rack_index;
      create.create = true;
      create.replicas = nodes;
      create.seeds = out.status.seedlist;
      out.write = create;
      out.unlock_consumed = p.unlock;
      p.notice(r, "RackCreated",
               "creating StatefulSet of " + r.name() + " with " + std::to_string(nodes) + " nodes");
      break;
    }
    const observed_statefulset& st = found->second;
    if (st.stale) {
      out.waiting = r.name() + ": waiting for our last write to its StatefulSet to show";
      break;
    }
    p.update_phase(r, rs, st, nodes);
    bool ended = p.action_ended(r, a, st, nodes);
    if (!p.may_act(racks, r)) continue;
    if (!ended) {
      if (rs.phase != phase::initializing || p.unlock) p.detect(r, rs, st, nodes);
      if (a.status == status::to_do && a.name == action::update_resources) {
        a.status = status::ongoing;
        a.start_time = in.now;
      }
    }
    if (a.name == action::scale_down && in_progress(a)) {
      p.scale_down(r, rs, st, nodes);
      if (out.write || !out.delete_pvcs.empty() || in_progress(a)) break;
    }
    // A scale up adds no node while one is joining, or while nobody could say (v2.1.0 counts an
    // error of JoiningNodes as joining).
    // A Ready pod whose node is not in HostIdMap yet is still starting: it will join.
    auto outside_ring = [&] {
      if (!in.nodes->host_ids) return true;
      for (const auto& [name, pod] : in.nodes->pods)
        if (pod.ready && !pod.ip.empty() && !in.nodes->host_ids->count(pod.ip)) return true;
      return false;
    };
    if (in.nodes && nodes > st.spec_replicas && a.name == action::scale_up && in_progress(a) &&
        (in.nodes->joining != std::optional<bool>(false) || outside_ring())) {
      const auto& e = in.nodes->joining_error;
      p.wait_on_node(
          r.name() + ": ScaleUp waits: " +
              (in.nodes->joining.value_or(false) ? std::string("a node is joining the ring")
               : !e.ok()                         ? "JoiningNodes: " + e.describe()
               : in.nodes->joining               ? std::string("a node is not in the ring yet")
                                                 : std::string("asking which nodes are joining")),
          // A node joining is progress, not a fault: Progressing says it and since when (its
          // lastTransitionTime), Degraded stays False. A join that never ends cannot be told
          // from a long one (a bootstrap streams the node's share of the data).
          in.nodes->joining.value_or(false) || e.ok() ? nullptr : reason_of(e));
      break;
    }

    if (p.pdb_allows || p.unlock) {
      statefulset_intent update;
      update.dc_rack = r.name();
      update.dc_index = r.dc_index;
      update.rack_index = r.rack_index;
      // +1 node at a time (v2.1.0 clips the delta to 1); never shrunk without decommission.
      update.replicas = nodes > st.spec_replicas ? st.spec_replicas + 1 : st.spec_replicas;
      update.template_labels = st.template_labels;
      bool rolling_seeds = a.name == action::update_seed_list && a.status == status::to_do;
      update.seeds = rolling_seeds ? out.status.seedlist : st.seeds;
      if (a.name == action::rolling_restart && a.status == status::to_do)
        update.rolling_restart_stamp = label_time(in.now);
      // A rack Configuring new seeds keeps its stored ones until they roll; anything else that
      // changed (a partition released) is still written.
      bool differs = in.differs_from_stored(update);
      if (!differs && a.status == status::to_do) {
        // Already written (by a pass whose status write was lost): the action runs; it ends on
        // the StatefulSet's status like any other. v2.1.0 would stay ToDo here for ever.
        a.status = status::ongoing;
        a.start_time = in.now;
      }
      if (differs) {
        if (a.status == status::to_do) {
          a.status = status::ongoing;
          a.start_time = in.now;
          a.end_time.clear();
        } else if (a.status == status::done) {
          p.start(a, action::update_statefulset, status::ongoing, true);
          p.notice(r, "RackActionStarted", "UpdateStatefulSet on " + r.name());
        }
        out.write = update;
        out.unlock_consumed = p.unlock;
        break;
      }
    } else if (a.status == status::to_do) {
      out.waiting =
          r.name() + ": " + a.name + " waits for the PodDisruptionBudget to allow a disruption";
      break;
    }
    if (rs.phase != phase::running || a.status == status::ongoing ||
        a.status == status::finalizing || a.status == status::to_do) {
      out.waiting = r.name() + " is " + rs.phase + " (" + a.name + " " + a.status + ")";
      break;
    }
  }

  std::set<std::string> have_seeds;
  for (const auto& [name, st] : in.statefulsets)
    if (st.seeds == out.status.seedlist) have_seeds.insert(name);
  if (flip_seed_list_to_do(spec, out.status, have_seeds))
    out.notices.push_back(
        {false, "UpdateSeedList", "seed list changed: every rack rolls, one at a time", ""});

  // v2.1.0 UpdateCassandraClusterStatusPhase.
  bool action_left = false;
  for (const auto& r : racks) {
    const rack_status& rs = out.status.racks[r.name()];
    if (rs.cassandra_last_action.status != status::done) {
      out.status.last_cluster_action_status = rs.cassandra_last_action.status;
      out.status.last_cluster_action = rs.cassandra_last_action.name;
      action_left = true;
    }
    if (rs.phase != phase::running) {
      out.status.phase = rs.phase;
      return out;
    }
  }
  if (!action_left && out.status.last_cluster_action_status != status::done) {
    out.status.last_cluster_action_status = status::done;
    out.status.phase = phase::running;
  }
  if (out.status.phase != phase::running && out.status.last_cluster_action_status == status::done)
    out.status.phase = phase::running;
  return out;
}

}  // namespace casskop
