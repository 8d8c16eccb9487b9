// The pod operations runner: an actor that carries out, one step after another, the node calls
// of each pod operation the reconciler hands it (logic/pod_operation_calls.h), and tells the
// reconciler how each ended. The reconciler decides (logic/pod_operations.h: labels, status,
// which pods); the runner only talks to nodes and deletes what remove leaves behind.
//
// Where we differ from v2.1.0 (pod_operation.go:280, 488): its goroutines are lost when the
// operator restarts and it calls nodes without timeouts. Here every Jolokia call has the
// client's timeout; a blocking EXEC that outlives it is watched through Compactions,
// CurrentStreams or LeavingNodes (pod_operation_calls.h), and a restarted casskop resumes an
// Ongoing pod the same way (the reconciler hands it the job with `resume`).
//
// Messages in:
//   (pod_op_start_atom, cluster, operation_job): start or resume; a pod already worked on is
//     ignored (the reconciler's in_flight set mirrors ours).
// Messages out, to the reconciler: (pod_op_done_atom, cluster, operation_outcome).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include <caf/actor.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/fwd.hpp>

#include "actors/casskop/jolokia_client.h"
#include "actors/casskop/logic/jolokia_codec.h"
#include "actors/casskop/logic/pod_operations.h"

namespace k8s {
class client;
}

namespace casskop {

// Sends one Jolokia request to the node at `ip`, with the credentials of the Secret
// `jolokia_secret` (spec.imageJolokiaSecret; "" for none), and calls `done` once, from any
// thread, with the answer or the transport failure (a timeout included).
using node_caller = std::function<void(const std::string& jolokia_secret, const std::string& ip,
                                       const jolokia::request& request,
                                       std::function<void(jolokia::http_reply)> done)>;

// The caller over the Jolokia client: the Secret is read (namespace `ns`) before each call, as
// v2.1.0's NewJolokiaClient does; an unreadable Secret fails the call as no_credentials with the
// reason (v2.1.0 goes on with a nil client and panics, pod_operation.go:117, 721).
node_caller jolokia_node_caller(std::shared_ptr<jolokia_client> jolokia,
                                std::shared_ptr<k8s::client> client, std::string ns);

struct pod_operations_runner_settings {
  std::string namespace_name;
  std::shared_ptr<k8s::client> client;  // deletes of remove's PVC and pod
  node_caller call;
  caf::actor reconciler;
  // v2.1.0 monitorSleepDelay (pod_operation.go:71): between two reads of a node's work.
  std::chrono::milliseconds poll_interval{10000};
  // v2.1.0 retryInterval while waiting for the removed node's PVC to go (pod_operation.go:827).
  std::chrono::milliseconds pvc_poll_interval{1000};
};

caf::actor spawn_pod_operations_runner(caf::actor_system& sys, pod_operations_runner_settings s);

}  // namespace casskop

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(casskop::operation_job)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(casskop::operation_outcome)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(casskop::jolokia::http_reply)
