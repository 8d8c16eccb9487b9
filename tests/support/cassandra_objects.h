// What tests and benchmarks read off the objects casskop makes, and the CassandraCluster
// topology they write: one definition for every test that judges a rack.
#pragma once

#include <string>

#include <fmt/format.h>

#include "k8s/json/json.h"

namespace testsupport {

// A StatefulSet not at rest: not yet seen by its controller, pods missing or not Ready, or pods
// on an older revision.
inline bool sts_moving(const k8s::json::Value& sts) {
  namespace js = k8s::json;
  const int64_t replicas = js::get_int(sts, {"spec", "replicas"}, 1);
  return js::get_int(sts, {"status", "observedGeneration"}, 0) <
             js::get_int(sts, {"metadata", "generation"}, 0) ||
         js::get_int(sts, {"status", "replicas"}, 0) != replicas ||
         js::get_int(sts, {"status", "readyReplicas"}, 0) != replicas ||
         js::get_string(sts, {"status", "currentRevision"}) !=
             js::get_string(sts, {"status", "updateRevision"});
}

// The image of the pod template's `cassandra` container ("" when none).
inline std::string cassandra_image(const k8s::json::Value& sts) {
  namespace js = k8s::json;
  if (const js::Value* cs = js::find_path(sts, {"spec", "template", "spec", "containers"});
      cs && cs->IsArray())
    for (const auto& c : cs->GetArray())
      if (js::get_string(c, "name") == "cassandra") return std::string(js::get_string(c, "image"));
  return "";
}

// `spec.topology.dc` of `dcs` DCs dc1..dcN with `racks` racks rack1..rackM each, as JSON.
inline std::string topology_dcs_json(int dcs, int racks) {
  std::string topology;
  for (int d = 1; d <= dcs; ++d) {
    std::string rs;
    for (int r = 1; r <= racks; ++r)
      rs += fmt::format(R"({}{{"name":"rack{}"}})", r > 1 ? "," : "", r);
    topology += fmt::format(R"({}{{"name":"dc{}","rack":[{}]}})", d > 1 ? "," : "", d, rs);
  }
  return "[" + topology + "]";
}

}  // namespace testsupport
