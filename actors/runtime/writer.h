// The writer: one actor per cluster that carries out create, update (a PUT of the whole object),
// patch (object or status) and delete requests for any resource and answers each with a
// write_result sent to whoever asked. Writes to one object go one at a time, in the order they came
// (a status patch never overtakes the patch before it); writes to different objects run
// concurrently.
#pragma once

#include <memory>
#include <string>

#include "messages/runtime/protocols.h"

namespace k8s {
class client;
}

namespace runtime {

struct writer_settings {
  std::string cluster;
  std::shared_ptr<k8s::client> client;  // null: every write fails with `connect_error`
  std::string connect_error;
};

writer_actor spawn_writer(caf::actor_system& sys, writer_settings s);

}  // namespace runtime
