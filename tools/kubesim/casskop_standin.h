// --simulate-casskop: a CassKop stand-in for one cluster. It runs no Cassandra; it only moves
// CassandraClusters (db.orange.com/v2) the way CassKop does, so Multi-CassKop can be tested
// against regions that become ready, roll and can be held not-ready. Two flavors:
// - "v2.1.0" (the default): CassKop v2.1.0 as it is, flaws included (casskop_original.h): its
//   defaults written into the spec, spec + status + its last-applied annotation written with one
//   plain update of the whole object, no observedGeneration, racks one after the other, its 5 s
//   requeue and 20 s action delay (both scaled by `time_scale`), each rack's pods ready
//   `delay_ms` after a change;
// - "observed-generation": our conventions, for tests that want them explicitly: on create
//   Initializing/Initializing/Ongoing, on a spec change Running/UpdateStatefulSet (ScaleUp,
//   ScaleDown)/Ongoing, then after `delay_ms` Running/Done with status.observedGeneration naming
//   the generation it is for, written through /status when the CRD has that subresource.
// In both, a change CassKop v2.1.0 refuses (casskop_refusal.h: nodesPerRacks 0, dataCapacity or
// dataStorageClass, DC or rack renamed, racks added or removed in a DC, DCs removed) is written
// back: v2.1.0 compares with its last-applied-configuration record and writes spec, status
// (lastClusterAction CorrectCRDConfig) and record in one plain update, then waits 30 s (scaled);
// observed-generation compares with the last spec it brought to Done, writes the old values back
// and then Running/CorrectCRDConfig/Done for the new generation (the rest of that change counts
// as done with it).
// In both, the annotation kubesim.casskop/hold: "true" keeps the current action from ending
// until it is removed. It waits for the CRD to be Established, and lets go of the objects when
// the CRD goes.
#pragma once

#include <memory>
#include <string>

namespace boost::asio {
class io_context;
}

namespace kubesim {

class cluster_state;

inline constexpr const char* kOriginalFlavor = "v2.1.0";
inline constexpr const char* kObservedGenerationFlavor = "observed-generation";

struct casskop_options {
  bool enabled = false;
  int delay_ms = 1000;  // how long an action takes (pods becoming ready)
  std::string flavor = kOriginalFlavor;
  double time_scale = 1.0;  // v2.1.0 flavor: its 5 s requeue and 20 s delay, scaled
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
  // Both apply from the next pass on; a flavor change forgets what it remembered.
  void set_flavor(const std::string& flavor);  // throws std::invalid_argument when unknown
  std::string flavor() const;
  void set_time_scale(double scale);
  double time_scale() const;

  struct impl;

 private:
  std::shared_ptr<impl> impl_;
};

}  // namespace kubesim
