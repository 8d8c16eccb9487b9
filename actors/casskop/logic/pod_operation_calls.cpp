#include "actors/casskop/logic/pod_operation_calls.h"

#include <utility>

#include "actors/casskop/logic/names.h"

namespace casskop {

namespace js = k8s::json;

namespace {

jolokia_request read(const char* mbean, const char* attribute) {
  jolokia_request r;
  r.mbean = mbean;
  r.name = attribute;
  r.args.SetArray();
  return r;
}

jolokia_request exec(const char* operation, bool long_running) {
  jolokia_request r;
  r.exec = true;
  r.mbean = storage_service_mbean;
  r.name = operation;
  r.args.SetArray();
  r.long_running = long_running;
  return r;
}

void push_string(js::Document& d, const std::string& s) {
  d.PushBack(js::string_value(s, d.GetAllocator()), d.GetAllocator());
}

void push_empty_array(js::Document& d) {
  d.PushBack(js::Value(rapidjson::kArrayType), d.GetAllocator());
}

std::string describe(const step_answer& a) {
  if (a.what == step_answer::kind::timeout) return "no answer in time" + (a.error.empty() ? std::string() : ": " + a.error);
  return a.error;
}

operation_step step_of(operation_step::kind k, std::string object = {}) {
  operation_step s;
  s.what = k;
  s.object = std::move(object);
  return s;
}

operation_step call_step(jolokia_request r) {
  operation_step s;
  s.what = operation_step::kind::call;
  s.call = std::move(r);
  return s;
}

}  // namespace

bool is_local_system_keyspace(const std::string& ks) {
  return ks == "system" || ks == "system_schema";
}

bool ring_has_datacenter(const js::Value& ranges, const std::string& dc) {
  if (!ranges.IsArray() || dc.empty()) return false;
  const std::string needle = "datacenter:" + dc;
  for (const js::Value& r : ranges.GetArray()) {
    if (!r.IsString()) continue;
    std::string_view s = js::view(r);
    for (size_t at = s.find(needle); at != std::string_view::npos;
         at = s.find(needle, at + 1)) {
      size_t after = at + needle.size();
      if (after == s.size() || s[after] == ',' || s[after] == ')') return true;
    }
  }
  return false;
}

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
  if (job_.operation == pod_op::cleanup) {
    jolokia_request r = exec("forceKeyspaceCleanup(java.lang.String,[Ljava.lang.String;)", true);
    push_string(r.args, ks);
    push_empty_array(r.args);
    return call_step(std::move(r));
  }
  jolokia_request r =
      exec("upgradeSSTables(java.lang.String,boolean,int,[Ljava.lang.String;)", true);
  push_string(r.args, ks);
  r.args.PushBack(true, r.args.GetAllocator());
  r.args.PushBack(0, r.args.GetAllocator());
  push_empty_array(r.args);
  return call_step(std::move(r));
}

operation_step operation_calls::send_next_ring() {
  if (ring_has_dc_ || next_ >= keyspaces_.size()) {
    if (!ring_has_dc_)
      return fail(job_.argument + " has no keyspace to replicate data from");
    stage_ = stage::rebuild;
    jolokia_request r = exec("rebuild(java.lang.String)", true);
    push_string(r.args, job_.argument);
    return call_step(std::move(r));
  }
  stage_ = stage::ring;
  jolokia_request r = exec("describeRingJMX", false);
  push_string(r.args, keyspaces_[next_++]);
  return call_step(std::move(r));
}

operation_step operation_calls::watch() {
  stage_ = stage::watching;
  if (job_.operation == pod_op::rebuild)
    return call_step(read(stream_manager_mbean, "CurrentStreams"));
  if (job_.operation == pod_op::remove)
    return call_step(read(storage_service_mbean, "LeavingNodes"));
  return call_step(read(compaction_manager_mbean, "Compactions"));
}

bool operation_calls::still_working(const js::Value& v) const {
  if (job_.operation == pod_op::rebuild) return v.IsArray() && !v.Empty();
  if (job_.operation == pod_op::remove) {
    if (!v.IsArray()) return false;
    for (const js::Value& ip : v.GetArray())
      if (ip.IsString() && js::view(ip) == job_.target.ip) return true;
    return false;
  }
  // node_operations.go:288 hasCompactions: matched on taskType.
  const char* task = job_.operation == pod_op::cleanup ? "Cleanup" : "Upgrade sstables";
  if (!v.IsArray()) return false;
  for (const js::Value& c : v.GetArray())
    if (c.IsObject() && js::get_string(c, "taskType") == task) return true;
  return false;
}

operation_step operation_calls::after_watch() {
  if (job_.operation == pod_op::remove) return after_remove();
  // A resumed cleanup/upgradesstables ends with the work it found (as v2.1.0's monitor); a
  // timed-out keyspace goes on with the next one.
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
  const bool ok = a && a->what == step_answer::kind::ok;
  const bool timed_out = a && a->what == step_answer::kind::timeout;
  switch (stage_) {
    case stage::begin:
      if (job_.resume) return watch();
      if (job_.operation == pod_op::remove) {
        stage_ = stage::host_ids;
        return call_step(read(storage_service_mbean, "HostIdMap"));
      }
      stage_ = stage::keyspaces;
      return call_step(read(storage_service_mbean, "Keyspaces"));

    case stage::keyspaces: {
      if (!ok) return fail("reading Keyspaces: " + (a ? describe(*a) : std::string("no answer")));
      if (!a->value.IsArray()) return fail("reading Keyspaces: the answer is not a list");
      for (const js::Value& k : a->value.GetArray()) {
        if (!k.IsString()) continue;
        std::string ks(js::view(k));
        // upgradesstables uses all keyspaces (node_operations.go:201); the others skip the local
        // system ones.
        if (job_.operation != pod_op::upgradesstables && is_local_system_keyspace(ks)) continue;
        keyspaces_.push_back(ks);
      }
      next_ = 0;
      if (job_.operation == pod_op::rebuild) return send_next_ring();
      return send_next_keyspace();
    }

    case stage::per_keyspace:
      if (timed_out) return watch();
      if (!ok)
        return fail(job_.operation + " of keyspace " + keyspaces_[next_ - 1] + ": " +
                    (a ? describe(*a) : std::string("no answer")));
      return send_next_keyspace();

    case stage::ring:
      if (!ok)
        return fail("describeRingJMX of keyspace " + keyspaces_[next_ - 1] + ": " +
                    (a ? describe(*a) : std::string("no answer")));
      ring_has_dc_ = ring_has_datacenter(a->value, job_.argument);
      return send_next_ring();

    case stage::rebuild:
      if (timed_out) return watch();
      if (!ok) return fail("rebuild from " + job_.argument + ": " + (a ? describe(*a) : ""));
      stage_ = stage::finished;
      return step_of(operation_step::kind::done);

    case stage::host_ids: {
      if (!ok) return fail("reading HostIdMap: " + (a ? describe(*a) : std::string("no answer")));
      const js::Value* id =
          a->value.IsObject() ? js::find(a->value, job_.target.ip) : nullptr;
      if (!id || !id->IsString())
        return fail("host with IP '" + job_.target.ip + "' not found in hostIdMap");
      host_id_ = std::string(js::view(*id));
      stage_ = stage::remove_node;
      jolokia_request r = exec("removeNode", true);
      push_string(r.args, host_id_);
      return call_step(std::move(r));
    }

    case stage::remove_node:
      if (timed_out) return watch();
      if (!ok) return fail("removeNode " + host_id_ + ": " + (a ? describe(*a) : ""));
      return after_remove();

    case stage::watching:
      if (ok) {
        poll_errors_ = 0;
        if (!still_working(a->value)) return after_watch();
      } else if (++poll_errors_ > max_poll_errors_) {
        return fail("the node did not answer " + std::to_string(poll_errors_) +
                    " times while watching " + job_.operation +
                    (a ? ": " + describe(*a) : std::string()));
      }
      stage_ = stage::watch_pause;
      return step_of(operation_step::kind::pause);

    case stage::watch_pause:
      return watch();

    case stage::pvc_deleted:
      if (!ok) return fail("deleting PVC " + data_pvc_name(job_.target.pod) + ": " +
                           (a ? describe(*a) : ""));
      stage_ = stage::pvc_wait;
      return step_of(operation_step::kind::await_pvc_gone, data_pvc_name(job_.target.pod));

    case stage::pvc_wait:
      // v2.1.0 waits up to 30 s (pod_operation.go:830) and force-deletes the pod either way.
      if ((a && a->gone) || ++pvc_polls_ > max_pvc_polls_) {
        stage_ = stage::pod_deleted;
        return step_of(operation_step::kind::force_delete_pod, job_.target.pod);
      }
      stage_ = stage::pvc_pause;
      return step_of(operation_step::kind::pause);

    case stage::pvc_pause:
      stage_ = stage::pvc_wait;
      return step_of(operation_step::kind::await_pvc_gone, data_pvc_name(job_.target.pod));

    case stage::pod_deleted:
      if (!ok) return fail("deleting pod " + job_.target.pod + ": " + (a ? describe(*a) : ""));
      stage_ = stage::finished;
      return step_of(operation_step::kind::done);

    case stage::finished:
      break;
  }
  return step_of(operation_step::kind::done);
}

}  // namespace casskop
