// The node calls of one pod operation, as a pure state machine: the runner asks next() what to
// do, does it (a Jolokia call on the pod's IP, a Kubernetes delete, a pause), and gives back the
// answer with the following next(). The calls are CassKop v2.1.0's
// (controllers/cassandracluster/node_operations.go, pod_operation.go; reference §1 and §4):
// - cleanup: READ Keyspaces, then forceKeyspaceCleanup per keyspace except system and
//   system_schema (node_operations.go:176-197).
// - upgradesstables: READ Keyspaces, then upgradeSSTables [ks, true, 0, []] for all of them.
// - rebuild <dc>: READ Keyspaces, describeRingJMX per non-system keyspace; Error when none has a
//   replica in <dc>, else EXEC rebuild [dc] (pod_operation.go:719-747).
// - remove <pod>_<ip>: READ HostIdMap on the labelled pod, removeNode [hostId], then delete the PVC
//   data-<pod>, wait until it is gone, force-delete the pod (pod_operation.go:751-898).
// Where we differ, on purpose: a blocking EXEC that times out (the runner's timeout, v2.1.0 has
// none) is not a failure: the node keeps working, so the machine polls what shows the work
// (Compactions of the type, CurrentStreams, LeavingNodes) until it is gone, then goes on. A
// resumed job (casskop restarted) starts with that polling. Polls that keep failing end in an
// Error after `max_poll_errors` (v2.1.0 polls forever).
// Requests and answers are ccnodes' codec (jolokia_codec.h): describeRingJMX matches a DC by its
// whole name (v2.1.0's regex is a substring match: dc1 would match dc10).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "actors/casskop/logic/jolokia_codec.h"
#include "actors/casskop/logic/pod_operations.h"

namespace casskop {

// The runner's answer to a step.
struct step_answer {
  jolokia::http_reply reply;  // call: the node's answer (or the transport failure)
  std::string k8s_error;      // delete_pvc / force_delete_pod: "" when done (absent is done)
  bool gone = false;          // await_pvc_gone: the PVC no longer exists
};

struct operation_step {
  enum class kind {
    call,              // send `call` to the pod's Jolokia (job.pod_ip:8778)
    pause,             // wait (a node poll; the PVC poll when `object` is set), then next()
    delete_pvc,        // delete PVC `object` (a missing one is fine)
    await_pvc_gone,    // is PVC `object` gone? answer.gone
    force_delete_pod,  // delete pod `object` with grace period 0 (a missing one is fine)
    done,
    failed  // `error` says why
  } what = kind::done;
  jolokia::request call;
  std::string object;
  std::string error;
  std::string note;  // worth a log line: why the operation now takes this path
};

class operation_calls {
 public:
  explicit operation_calls(operation_job job, int max_poll_errors = 30, int max_pvc_polls = 30);
  // First call with nullptr; then with the answer to the step it returned last (nullptr after a
  // pause).
  operation_step next(const step_answer* answer);
  const operation_job& job() const { return job_; }

 private:
  enum class stage {
    begin,
    keyspaces,     // READ Keyspaces sent
    per_keyspace,  // EXEC per keyspace sent (cleanup, upgradesstables)
    ring,          // describeRingJMX sent (rebuild)
    rebuild,       // EXEC rebuild sent
    host_ids,      // READ HostIdMap sent (remove)
    remove_node,   // EXEC removeNode sent
    watching,      // a monitor READ sent
    watch_pause,   // paused between monitor reads
    pvc_deleted,   // delete PVC sent
    pvc_wait,      // await_pvc_gone sent
    pvc_pause,
    pod_deleted,  // force delete sent
    finished
  };
  operation_step send_next_keyspace();
  operation_step send_next_ring();
  operation_step watch();                                // the monitor READ for this operation
  operation_step watch_after_timeout(const char* call);  // a blocking EXEC outlived its limit
  operation_step after_watch();                          // what follows the work being gone
  operation_step after_remove();                         // PVC, then pod (remove's post action)
  operation_step fail(std::string why);
  // The monitor READ's answer: whether the work still runs (an error when unreadable).
  jolokia::result<bool> still_working(const jolokia::http_reply& r) const;

  operation_job job_;
  int max_poll_errors_, max_pvc_polls_;
  stage stage_ = stage::begin;
  std::vector<std::string> keyspaces_;
  size_t next_ = 0;  // next keyspace to send
  bool ring_has_dc_ = false;
  int poll_errors_ = 0, pvc_polls_ = 0;
  std::string host_id_;
};

}  // namespace casskop
