// --simulate-casskop: a CassKop stand-in for one cluster. It runs no Cassandra; it only moves
// the status of CassandraClusters (db.orange.com/v2) the way CassKop does, so Multi-CassKop can
// be tested against regions that become ready, roll and can be held not-ready:
// - on create: Initializing/Initializing/Ongoing, then after the delay Running/Done;
// - on a spec change: Running/UpdateStatefulSet (ScaleUp, ScaleDown)/Ongoing, then Done;
// - status.observedGeneration names the generation the Done status is for (our own casskop
//   does this, the original does not); a newer change restarts the delay;
// - the annotation kubesim.casskop/hold: "true" keeps the action Ongoing until it is removed.
// It waits for the CRD to be Established, and lets go of the objects when the CRD goes.
#pragma once

#include <memory>

namespace boost::asio {
class io_context;
}

namespace kubesim {

class cluster_state;

struct casskop_options {
  bool enabled = false;
  int delay_ms = 1000;  // how long an action stays Ongoing
};

class casskop_standin {
 public:
  casskop_standin(boost::asio::io_context& io, cluster_state& state, casskop_options options);
  ~casskop_standin();
  casskop_standin(const casskop_standin&) = delete;
  casskop_standin& operator=(const casskop_standin&) = delete;

  void start();  // begins watching when enabled
  void stop();   // for good: no task touches the store once it returns
  // Disabling stops the watches and forgets every object; statuses are left as they are.
  void set_enabled(bool enabled);
  bool enabled() const;
  void set_delay_ms(int ms);  // applies to actions that start afterwards
  int delay_ms() const;

  struct impl;

 private:
  std::shared_ptr<impl> impl_;
};

}  // namespace kubesim
