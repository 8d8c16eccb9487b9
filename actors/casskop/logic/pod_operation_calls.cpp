#include "actors/casskop/logic/pod_operation_calls.h"

#include <algorithm>
#include <utility>

#include "actors/casskop/logic/names.h"

namespace casskop {

namespace {

operation_step step_of(operation_step::kind k, std::string object = {}) {
  operation_step s;
  s.what = k;
  s.object = std::move(object);
  return s;
}

operation_step call_step(jolokia::request r) {
  operation_step s;
  s.what = operation_step::kind::call;
  s.call = std::move(r);
  return s;
}

const jolokia::http_reply& reply_of(const step_answer* a) {
  static const jolokia::http_reply none{
      jolokia::error{jolokia::failure::transport, 0, "", "no answer"}, 0, ""};
  return a ? a->reply : none;
}

bool timed_out(const step_answer* a) {
  return a && a->reply.transport.kind == jolokia::failure::timeout;
}

}  // namespace

operation_calls::operation_calls(operation_job job, int max_poll_errors, int max_pvc_polls)
    : job_(std::move(job)), max_poll_errors_(max_poll_errors), max_pvc_polls_(max_pvc_polls) {}

operation_step operation_calls::fail(std::string why) {
  stage_ = stage::finished;
  operation_step s = step_of(operation_step::kind::failed);
  s.error = std::move(why);
  return s;
}

operation_step operation_calls::send_next_keyspace() {
  if (next_ >= keyspaces_.size()) {
    stage_ = stage::finished;
    return step_of(operation_step::kind::done);
  }
  const std::string& ks = keyspaces_[next_++];
  stage_ = stage::per_keyspace;
  // node_operations.go:186 (cleanup) and :211 (upgradeSSTables with 0 threads).
  return call_step(job_.operation == pod_op::cleanup ? jolokia::force_keyspace_cleanup(ks)
                                                     : jolokia::upgrade_sstables(ks, 0));
}

operation_step operation_calls::send_next_ring() {
  if (ring_has_dc_ || next_ >= keyspaces_.size()) {
    if (!ring_has_dc_) return fail(job_.argument + " has no keyspace to replicate data from");
    stage_ = stage::rebuild;
    return call_step(jolokia::rebuild(job_.argument));
  }
  stage_ = stage::ring;
  return call_step(jolokia::describe_ring(keyspaces_[next_++]));
}

operation_step operation_calls::watch() {
  stage_ = stage::watching;
  if (job_.operation == pod_op::rebuild) return call_step(jolokia::read_current_streams());
  if (job_.operation == pod_op::remove) return call_step(jolokia::read_leaving_nodes());
  return call_step(jolokia::read_compactions());
}

operation_step operation_calls::watch_after_timeout(const char* call) {
  operation_step s = watch();
  s.note = std::string(call) + " outlived jolokia.execTimeoutSeconds: watching the node (" +
           s.call.name + ") until the work is gone";
  return s;
}

jolokia::result<bool> operation_calls::still_working(const jolokia::http_reply& r) const {
  jolokia::result<bool> out;
  if (job_.operation == pod_op::rebuild) return jolokia::parse_has_streams(r);
  if (job_.operation == pod_op::remove) {
    // v2.1.0 hasLeavingNodes (node_operations.go:314) waits for any leaving node; the removed
    // one is enough here.
    auto leaving = jolokia::parse_string_list(r);
    out.err = leaving.err;
    if (leaving.ok())
      out.value = std::find(leaving.value->begin(), leaving.value->end(), job_.target.ip) !=
                  leaving.value->end();
    return out;
  }
  // node_operations.go:288 hasCompactions: matched on taskType.
  auto types = jolokia::parse_compaction_types(r);
  out.err = types.err;
  if (types.ok()) {
    const char* task = job_.operation == pod_op::cleanup ? "Cleanup" : "Upgrade sstables";
    out.value = std::find(types.value->begin(), types.value->end(), task) != types.value->end();
  }
  return out;
}

operation_step operation_calls::after_watch() {
  if (job_.operation == pod_op::remove) return after_remove();
  // A resumed cleanup/upgradesstables ends with the work it found (as v2.1.0's monitor,
  // pod_operation.go:577); a keyspace that outlived the timeout goes on with the next one.
  if (job_.resume || job_.operation == pod_op::rebuild) {
    stage_ = stage::finished;
    return step_of(operation_step::kind::done);
  }
  return send_next_keyspace();
}

operation_step operation_calls::after_remove() {
  // v2.1.0 postRunRemove (pod_operation.go:851): nothing more when only an IP was given.
  if (job_.target.pod.empty()) {
    stage_ = stage::finished;
    return step_of(operation_step::kind::done);
  }
  stage_ = stage::pvc_deleted;
  return step_of(operation_step::kind::delete_pvc, data_pvc_name(job_.target.pod));
}

operation_step operation_calls::next(const step_answer* a) {
  const jolokia::http_reply& reply = reply_of(a);
  switch (stage_) {
    case stage::begin:
      if (job_.resume) return watch();
      if (job_.operation == pod_op::remove) {
        stage_ = stage::host_ids;
        return call_step(jolokia::read_host_id_map());
      }
      stage_ = stage::keyspaces;
      return call_step(jolokia::read_keyspaces());

    case stage::keyspaces: {
      auto ks = jolokia::parse_string_list(reply);
      if (!ks.ok()) return fail("reading Keyspaces: " + ks.err.describe());
      for (const std::string& k : *ks.value) {
        // upgradesstables uses all keyspaces (node_operations.go:201); the others skip the local
        // system ones (node_operations.go:160).
        if (job_.operation != pod_op::upgradesstables && jolokia::is_local_system_keyspace(k))
          continue;
        keyspaces_.push_back(k);
      }
      next_ = 0;
      if (job_.operation == pod_op::rebuild) return send_next_ring();
      return send_next_keyspace();
    }

    case stage::per_keyspace: {
      if (timed_out(a)) return watch_after_timeout(job_.operation.c_str());
      auto r = jolokia::parse_exec(reply);
      if (!r.ok())
        return fail(job_.operation + " of keyspace " + keyspaces_[next_ - 1] + ": " +
                    r.err.describe());
      return send_next_keyspace();
    }

    case stage::ring: {
      auto ring = jolokia::parse_describe_ring(reply);
      if (!ring.ok())
        return fail("describeRingJMX of keyspace " + keyspaces_[next_ - 1] + ": " +
                    ring.err.describe());
      ring_has_dc_ = jolokia::replicates_to(*ring.value, job_.argument);
      return send_next_ring();
    }

    case stage::rebuild: {
      if (timed_out(a)) return watch_after_timeout("rebuild");
      auto r = jolokia::parse_exec(reply);
      if (!r.ok()) return fail("rebuild from " + job_.argument + ": " + r.err.describe());
      stage_ = stage::finished;
      return step_of(operation_step::kind::done);
    }

    case stage::host_ids: {
      auto ids = jolokia::parse_host_id_map(reply);
      if (!ids.ok()) return fail("reading HostIdMap: " + ids.err.describe());
      auto id = ids.value->find(job_.target.ip);
      if (id == ids.value->end())
        return fail("host with IP '" + job_.target.ip + "' not found in hostIdMap");
      host_id_ = id->second;
      stage_ = stage::remove_node;
      return call_step(jolokia::remove_node(host_id_));
    }

    case stage::remove_node: {
      if (timed_out(a)) return watch_after_timeout("removeNode");
      auto r = jolokia::parse_exec(reply);
      if (!r.ok()) return fail("removeNode " + host_id_ + ": " + r.err.describe());
      return after_remove();
    }

    case stage::watching: {
      auto working = still_working(reply);
      if (working.ok()) {
        poll_errors_ = 0;
        if (!*working.value) return after_watch();
      } else if (++poll_errors_ > max_poll_errors_) {
        // v2.1.0 polls forever (pod_operation.go:588: an error counts as still running).
        return fail("the node did not answer " + std::to_string(poll_errors_) + " times while " +
                    job_.operation + " was watched: " + working.err.describe());
      }
      stage_ = stage::watch_pause;
      return step_of(operation_step::kind::pause);
    }

    case stage::watch_pause:
      return watch();

    case stage::pvc_deleted:
      if (!a || !a->k8s_error.empty())
        return fail("deleting PVC " + data_pvc_name(job_.target.pod) + ": " +
                    (a ? a->k8s_error : std::string("no answer")));
      stage_ = stage::pvc_wait;
      return step_of(operation_step::kind::await_pvc_gone, data_pvc_name(job_.target.pod));

    case stage::pvc_wait:
      // v2.1.0 waits up to 30 s (pod_operation.go:830) and force-deletes the pod either way.
      if ((a && a->gone) || ++pvc_polls_ > max_pvc_polls_) {
        stage_ = stage::pod_deleted;
        return step_of(operation_step::kind::force_delete_pod, job_.target.pod);
      }
      stage_ = stage::pvc_pause;
      return step_of(operation_step::kind::pause, data_pvc_name(job_.target.pod));

    case stage::pvc_pause:
      stage_ = stage::pvc_wait;
      return step_of(operation_step::kind::await_pvc_gone, data_pvc_name(job_.target.pod));

    case stage::pod_deleted:
      if (!a || !a->k8s_error.empty())
        return fail("deleting pod " + job_.target.pod + ": " +
                    (a ? a->k8s_error : std::string("no answer")));
      stage_ = stage::finished;
      return step_of(operation_step::kind::done);

    case stage::finished:
      break;
  }
  return step_of(operation_step::kind::done);
}

}  // namespace casskop
