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
class cassandra_pods;

class workload_simulator {
 public:
  // `cassandra`: pods running a `cassandra` container become its simulated nodes (Ready by
  // their probe); nullptr: every pod is Ready after the delay.
  workload_simulator(boost::asio::io_context& io, cluster_state& state, int pod_ready_delay_ms,
                     cassandra_pods* cassandra = nullptr);
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
