// A stand-in for the Jolokia client (ccnodes' actors/casskop/jolokia_client.*, not merged yet):
// POSTs a request to http://<ip>:8778/jolokia/ with a timeout (10 s, 120 s for a blocking
// EXEC), without credentials. The pod operations runner uses it until the real client is wired;
// it is deleted then.
#pragma once

#include "actors/casskop/pod_operations_runner.h"

namespace casskop {

node_caller jolokia_standin_caller();

}  // namespace casskop
