// placeholder: being written
#include "tools/kubesim/workloads.h"
namespace kubesim {
struct workload_simulator::impl {};
workload_simulator::workload_simulator(boost::asio::io_context&, cluster_state&, int) {}
workload_simulator::~workload_simulator() = default;
void workload_simulator::start() {}
void workload_simulator::stop() {}
void workload_simulator::set_ready_delay_ms(int) {}
int workload_simulator::ready_delay_ms() const { return 0; }
}  // namespace kubesim
