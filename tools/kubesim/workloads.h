// --simulate-workloads: a StatefulSet controller and kubelet stand-in for one cluster. It
// creates pods (and PVCs from volumeClaimTemplates) as the real controller names them, in
// ordinal order, marks them Ready after a delay, rolls updates from the highest ordinal down
// honouring rollingUpdate.partition, and keeps StatefulSet status like the real one.
#pragma once

#include <atomic>
#include <memory>

namespace boost::asio {
class io_context;
}

namespace kubesim {

class cluster_state;

class workload_simulator {
 public:
  workload_simulator(boost::asio::io_context& io, cluster_state& state, int pod_ready_delay_ms);
  ~workload_simulator();
  workload_simulator(const workload_simulator&) = delete;
  workload_simulator& operator=(const workload_simulator&) = delete;

  void start();
  void stop();
  void set_ready_delay_ms(int ms);
  int ready_delay_ms() const;

  struct impl;

 private:
  std::shared_ptr<impl> impl_;
};

}  // namespace kubesim
