#include "actors/casskop/logic/pod_operations.h"

#include <algorithm>
#include <array>
#include <ctime>

#include <fmt/format.h>

#include "actors/casskop/logic/names.h"

namespace casskop {

namespace js = k8s::json;

namespace {

// The order in which waiting types are served when a rack is idle.
constexpr std::array<const char*, 4> known_operations = {pod_op::cleanup, pod_op::upgradesstables,
                                                         pod_op::rebuild, pod_op::remove};

bool known(const std::string& op) {
  return std::find(known_operations.begin(), known_operations.end(), op) != known_operations.end();
}

bool workable(const observed_pod& p) {
  return p.running && !p.deleting;
}

void erase(std::vector<std::string>& v, const std::string& s) {
  v.erase(std::remove(v.begin(), v.end(), s), v.end());
}

void add_once(std::vector<std::string>& v, const std::string& s) {
  if (std::find(v.begin(), v.end(), s) == v.end()) v.push_back(s);
}

struct planner {
  const pod_operations_input& in;
  cluster_status& status;
  pod_operations_plan out;
  std::map<std::string, const observed_pod*> by_name;
  std::set<std::string> patched;  // pods given an end label this pass

  void event(bool warning, const std::string& reason, const std::string& message,
             const std::string& dc_rack) {
    out.events.push_back({warning, reason, message, dc_rack});
  }

  void end_label(const std::string& pod, bool ok) {
    out.patches.push_back(
        {pod,
         {{op_label::status, ok ? status::done : status::error}, {op_label::end, in.now_label}}});
    patched.insert(pod);
  }

  // The rack's operation is over when no pod is left on it (v2.1.0 initOperation,
  // pod_operation.go:186).
  void maybe_done(pod_last_operation& op) {
    if (op.status == status::ongoing && op.pods.empty()) {
      op.status = status::done;
      op.end_time = in.now;
    }
  }

  // v2.1.0 updatePodLastOperation + finalizeOperation (pod_operation.go:529-575).
  void settle(pod_last_operation& op, const std::string& pod, bool ok) {
    erase(op.pods, pod);
    if (ok) {
      erase(op.pods_ko, pod);
      add_once(op.pods_ok, pod);
    } else {
      erase(op.pods_ok, pod);
      add_once(op.pods_ko, pod);
    }
  }

  void apply_finished() {
    for (const operation_outcome& f : in.finished) {
      auto rs = status.racks.find(f.dc_rack);
      if (rs == status.racks.end()) continue;
      pod_last_operation& op = rs->second.pod_last_op;
      if (by_name.count(f.pod)) end_label(f.pod, f.ok);
      settle(op, f.pod, f.ok);
      if (f.ok) {
        event(false, "PodOperationDone", f.operation + " done on pod " + f.pod, f.dc_rack);
      } else {
        event(true, "PodOperationFailed", f.operation + " failed on pod " + f.pod + ": " + f.error,
              f.dc_rack);
      }
      maybe_done(op);
    }
  }

  // Pods listed as running the rack's operation that no longer do: a lost status write (the
  // label already says Done/Error) or a pod gone.
  void settle_strays(const std::string& dc_rack, pod_last_operation& op) {
    if (op.status != status::ongoing) return;
    for (const std::string& name : std::vector<std::string>(op.pods)) {
      if (in.in_flight.count(name) || patched.count(name)) continue;
      auto p = by_name.find(name);
      if (p == by_name.end()) {
        settle(op, name, false);
        event(true, "PodOperationFailed",
              op.name + " on pod " + name + " did not end: the pod is gone", dc_rack);
        continue;
      }
      std::string st = p->second->label(op_label::status);
      if (st == status::done || st == status::error) settle(op, name, st == status::done);
    }
    maybe_done(op);
  }

  // Validates a ToDo pod's labels for `op`; fills the job or returns why it cannot run.
  std::string prepare(const observed_pod& p, const std::string& op, operation_job& job) {
    job.pod = p.name;
    job.dc_rack = p.dc_rack;
    job.pod_ip = p.pod_ip;
    job.operation = op;
    auto arg = p.labels.find(op_label::argument);
    job.argument = arg == p.labels.end() ? "" : arg->second;
    if (p.pod_ip.empty()) return "the pod has no IP yet";
    if (op == pod_op::rebuild) {
      // v2.1.0 runRebuild (pod_operation.go:723).
      if (job.argument.empty())
        return "operation-argument is needed to get the datacenter name to rebuild from";
      return "";
    }
    if (op == pod_op::remove) {
      std::string error;
      auto target = parse_remove_argument(job.argument, error);
      if (!target) return error;
      if (target->pod == p.name)
        return "a node cannot remove itself (operation-argument names " + p.name + ")";
      if (target->ip.empty()) {
        // v2.1.0 runRemove (pod_operation.go:786): the IP of the dead pod, if it is still there.
        auto dead = by_name.find(target->pod);
        if (dead == by_name.end())
          return "pod " + target->pod +
                 " not found. You need to provide its old IP to remove it from the cluster "
                 "(operation-argument=" +
                 target->pod + "_<IP>)";
        if (dead->second->pod_ip.empty())
          return "can't find an IP assigned to pod " + target->pod +
                 ". You need to provide its old IP to remove it from the cluster";
        target->ip = dead->second->pod_ip;
      }
      if (target->ip == p.pod_ip) return "a node cannot remove itself (IP " + target->ip + ")";
      job.target = *target;
    }
    return "";
  }

  void resume(const observed_pod& p, pod_last_operation& op) {
    operation_job job;
    std::string why = prepare(p, p.label(op_label::name), job);
    if (!why.empty()) {
      // It could not have been started like this: end it rather than watch for nothing.
      end_label(p.name, false);
      settle(op, p.name, false);
      event(true, "PodOperationFailed", job.operation + " on pod " + p.name + ": " + why,
            p.dc_rack);
      return;
    }
    job.resume = true;
    add_once(op.pods, p.name);
    out.start.push_back(std::move(job));
  }

  void rack(const std::string& dc_rack, rack_status& rs, bool may_start) {
    pod_last_operation& op = rs.pod_last_op;
    if (op.name == pod_op::decommission && op.status != status::done) return;  // scale-down's
    std::vector<const observed_pod*> pods;
    for (const auto& p : in.pods)
      if (p.dc_rack == dc_rack) pods.push_back(&p);

    // Ongoing labels nobody works on: resume them (casskop restarted during the operation).
    for (const observed_pod* p : pods) {
      if (!workable(*p) || in.in_flight.count(p->name) || patched.count(p->name)) continue;
      std::string name = p->label(op_label::name);
      if (p->label(op_label::status) != status::ongoing || !known(name)) continue;
      if (op.status != status::ongoing || op.name != name) {
        // The status was lost or belongs to another type: the labels are the truth.
        op = pod_last_operation{name, status::ongoing, in.now, "", in.operator_name, {}, {}, {}};
      }
      op.operator_name = in.operator_name;
      resume(*p, op);
    }
    settle_strays(dc_rack, op);

    // ToDo pods: unknown names are answered at once; known ones wait for their turn.
    std::map<std::string, std::vector<const observed_pod*>> todo;
    for (const observed_pod* p : pods) {
      if (p->label(op_label::status) != status::to_do || in.in_flight.count(p->name) ||
          patched.count(p->name))
        continue;
      std::string name = p->label(op_label::name);
      if (known(name)) {
        if (workable(*p)) todo[name].push_back(p);
        continue;
      }
      end_label(p->name, false);
      event(true, "PodOperationUnknown",
            "pod " + p->name + ": operation-name '" + name +
                "' is not one of cleanup, upgradesstables, rebuild, remove; labelled Error",
            dc_rack);
    }
    if (todo.empty()) return;
    std::string chosen;
    if (op.status == status::ongoing) {
      if (!todo.count(op.name)) {
        if (out.waiting.empty())
          out.waiting = dc_rack + ": " + todo.begin()->first + " waits for " + op.name +
                        " to end on " + std::to_string(op.pods.size()) + " pod(s)";
        return;
      }
      chosen = op.name;
    } else {
      for (const char* k : known_operations)
        if (todo.count(k)) {
          chosen = k;
          break;
        }
    }
    if (!may_start) return;
    if (op.status != status::ongoing) {
      // v2.1.0 initOperation (pod_operation.go:197): a new operation on the rack.
      op = pod_last_operation{chosen, status::ongoing, in.now, "", in.operator_name, {}, {}, {}};
    }
    op.operator_name = in.operator_name;
    for (const observed_pod* p : todo[chosen]) {
      operation_job job;
      std::string why = prepare(*p, chosen, job);
      if (!why.empty()) {
        end_label(p->name, false);
        settle(op, p->name, false);
        event(true, "PodOperationFailed", chosen + " on pod " + p->name + ": " + why, dc_rack);
        continue;
      }
      // v2.1.0 startOperation (pod_operation.go:222).
      out.patches.push_back({p->name,
                             {{op_label::status, status::ongoing},
                              {op_label::start, in.now_label},
                              {op_label::end, ""}}});
      add_once(op.pods, p->name);
      erase(op.pods_ok, p->name);
      erase(op.pods_ko, p->name);
      event(false, "PodOperationStarted", chosen + " started on pod " + p->name, dc_rack);
      out.start.push_back(std::move(job));
    }
    maybe_done(op);
  }
};

}  // namespace

std::string observed_pod::label(const char* key) const {
  auto it = labels.find(key);
  return it == labels.end() ? std::string() : it->second;
}

std::string label_time(std::chrono::system_clock::time_point t) {
  std::time_t s = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&s, &tm);
  return fmt::format("{:04d}{:02d}{:02d}T{:02d}{:02d}{:02d}", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

observed_pod observe_pod(const js::Value& pod) {
  observed_pod p;
  p.name = std::string(js::get_string(pod, {"metadata", "name"}));
  if (const js::Value* labels = js::find_path(pod, {"metadata", "labels"});
      labels && labels->IsObject())
    for (const auto& m : labels->GetObject())
      if (m.value.IsString())
        p.labels[std::string(js::view(m.name))] = std::string(js::view(m.value));
  std::string dc = p.label(dc_label), rack = p.label(rack_label);
  if (!dc.empty() && !rack.empty()) p.dc_rack = dc_rack_name(dc, rack);
  p.pod_ip = std::string(js::get_string(pod, {"status", "podIP"}));
  p.running = js::get_string(pod, {"status", "phase"}) == "Running";
  p.deleting = js::find_path(pod, {"metadata", "deletionTimestamp"}) != nullptr;
  if (const js::Value* cs = js::find_path(pod, {"status", "containerStatuses"});
      cs && cs->IsArray())
    for (const js::Value& c : cs->GetArray())
      if (js::get_string(c, "name") == "cassandra") p.ready = js::get_bool(c, {"ready"}, false);
  return p;
}

bool is_ip_address(const std::string& s) {
  if (s.empty()) return false;
  if (s.find(':') != std::string::npos) {
    // IPv6: hex groups and colons (at most one "::"), as net.ParseIP accepts them.
    if (s.size() > 39) return false;
    int groups = 0;
    size_t run = 0;
    for (char c : s) {
      if (c == ':') {
        run = 0;
        continue;
      }
      if (!std::isxdigit(static_cast<unsigned char>(c)) || ++run > 4) return false;
      if (run == 1) ++groups;
    }
    size_t dbl = s.find("::");
    if (dbl != std::string::npos && s.find("::", dbl + 1) != std::string::npos) return false;
    return dbl != std::string::npos ? groups < 8 : groups == 8;
  }
  int parts = 0;
  size_t i = 0;
  while (i <= s.size()) {
    size_t dot = s.find('.', i);
    if (dot == std::string::npos) dot = s.size();
    std::string part = s.substr(i, dot - i);
    if (part.empty() || part.size() > 3 ||
        !std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
        std::stoi(part) > 255)
      return false;
    ++parts;
    i = dot + 1;
  }
  return parts == 4;
}

std::optional<remove_target> parse_remove_argument(const std::string& argument,
                                                   std::string& error) {
  if (argument.empty()) {
    error = "operation-argument is needed to get the pod name to remove from the cluster";
    return std::nullopt;
  }
  remove_target t;
  size_t us = argument.find('_');
  t.pod = argument.substr(0, us);
  if (us != std::string::npos) t.ip = argument.substr(us + 1);
  if (t.pod.empty() && t.ip.empty()) {
    error = "expected format is `[Name][_IP]` with at least one value but none was found";
    return std::nullopt;
  }
  if (!t.ip.empty() && !is_ip_address(t.ip)) {
    error = t.ip + " is not an IP address";
    return std::nullopt;
  }
  return t;
}

js::Document label_patch_body(const pod_label_patch& p) {
  js::Document d;
  d.SetObject();
  auto& a = d.GetAllocator();
  js::Value& labels = js::ensure_object(js::ensure_object(d, "metadata", a), "labels", a);
  for (const auto& [k, v] : p.labels) js::set_string(labels, k, v, a);
  return d;
}

pod_operations_plan plan_pod_operations(const pod_operations_input& in, cluster_status& status) {
  planner pl{in, status, {}, {}, {}};
  for (const auto& p : in.pods) pl.by_name[p.name] = &p;
  pl.apply_finished();
  // v2.1.0 handlePodOperation (pod_operation.go:117-135): nothing starts while a node joins, or
  // while the cluster's last action is not Done.
  bool may_start = in.nodes_joining == std::optional<bool>(false) &&
                   status.last_cluster_action_status == status::done;
  for (auto& [dc_rack, rs] : status.racks) pl.rack(dc_rack, rs, may_start);
  if (!may_start) {
    bool any_todo = std::any_of(in.pods.begin(), in.pods.end(), [&](const observed_pod& p) {
      return p.label(op_label::status) == status::to_do && known(p.label(op_label::name)) &&
             !in.in_flight.count(p.name);
    });
    if (any_todo)
      pl.out.waiting = !in.nodes_joining ? "pod operations wait: joining nodes unknown (no answer)"
                       : *in.nodes_joining
                           ? "pod operations wait: a node is joining the ring"
                           : "pod operations wait for the cluster's last action to be Done";
  }
  return std::move(pl.out);
}

std::vector<pod_label_patch> cleanup_labels_after_scale_up(
    const std::vector<observed_pod>& pods, const std::vector<std::string>& rack_pods,
    bool auto_pilot) {
  std::vector<pod_label_patch> out;
  for (const auto& name : rack_pods) {
    auto seen = std::find_if(pods.begin(), pods.end(),
                             [&](const observed_pod& p) { return p.name == name; });
    if (seen != pods.end() && seen->deleting) continue;
    out.push_back({name,
                   {{op_label::name, pod_op::cleanup},
                    {op_label::status, auto_pilot ? status::to_do : status::manual}}});
  }
  return out;
}

}  // namespace casskop
