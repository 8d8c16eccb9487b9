// The objects CassKop v2.1.0 sends for the samples (tests/fixtures/casskop-v2.1.0/generated,
// written from v2.1.0's source, see its SOURCES), and the API server's view of an object on
// create, so that a test can compare what our casskop writes with what v2.1.0 left on the
// cluster: equal after defaulting on both sides means a takeover changes no pod template, so the
// StatefulSet controller restarts no pod.
#pragma once

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "actors/casskop/logic/cluster_spec.h"
#include "k8s/json/json.h"
#include "k8s/json/yaml_json.h"

namespace casskop_fixtures {

struct fixture_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The samples with fixtures ("cassandracluster", "kuttl-operations-00-createCluster", ...) and
// the files of one ("statefulset-dc1-rack1.yaml", "service-<cc>.yaml", ...), sorted.
std::vector<std::string> v210_fixture_samples();
std::vector<std::string> v210_fixture_files(const std::string& sample);

// tests/fixtures/casskop-v2.1.0/generated/<sample>/<file> as JSON. Throws fixture_error.
k8s::json::Document load_v210_fixture(const std::string& sample, const std::string& file);

// What a Kubernetes v1.32 API server (kubesim's model of it) stores of `object`, a create of
// `kind` (StatefulSet, Service, PodDisruptionBudget, ...), without the fields the server itself
// sets whatever the client sent (uid, creationTimestamp, resourceVersion, generation,
// managedFields, status): the strict decoding (an unknown field is an error here), the kind's
// defaults (tools/kubesim/builtin_defaults.h, quantities in canonical form included), a
// headless Service's clusterIPs and IP families; then validation. A v2.1.0
// policy/v1beta1 PodDisruptionBudget is read as the policy/v1 object a server of today serves.
// Throws fixture_error when the server would refuse the object.
k8s::json::Document defaulted(const std::string& kind, const k8s::json::Value& object);

// Where `actual` differs from `expected`, as JSON paths with both values
// ("spec.template.spec.containers[1].env[3].value: \"a\" != \"b\""); object members compare
// in any order, array items by position. Empty when equal.
std::vector<std::string> differences(const k8s::json::Value& expected,
                                     const k8s::json::Value& actual);

// The kind of a fixture file by its name: StatefulSet, Service or PodDisruptionBudget.
std::string v210_fixture_kind(const std::string& file);

// What our generator's `ours` changes on the server against what v2.1.0 left there for
// <sample>/<file>: differences(defaulted(v2.1.0's), defaulted(ours)). For a StatefulSet, a
// path under spec.template restarts pods; spec.volumeClaimTemplates, spec.selector,
// spec.serviceName and spec.podManagementPolicy are immutable (the update is refused);
// metadata changes restart nothing.
std::vector<std::string> stored_differences(const std::string& sample, const std::string& file,
                                            const k8s::json::Value& ours);

// The form the server stores a quantity in (tools/kubesim/quantity.h): "0.5" -> "500m",
// "0.5Gi" -> "512Mi", "1000m" -> "1", "2048Mi" -> "2Gi". Throws fixture_error when `q` is
// not a quantity.
std::string canonical_quantity(const std::string& q);

}  // namespace casskop_fixtures

// CassKop v2.1.0's own test data (tests/fixtures/casskop-v2.1.0/testdata, see SOURCES there),
// read as casskop reads a CassandraCluster.

namespace casskop_test {

inline std::string read_text(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

inline std::string testdata_path(const std::string& name) {
  return std::string(SOURCE_DIR) + "/tests/fixtures/casskop-v2.1.0/testdata/" + name;
}

// `name` is a file of testdata/, e.g. "api-cassandracluster-2DC.yaml".
inline k8s::json::Document testdata_object(const std::string& name) {
  return k8s::json::yaml_to_json(read_text(testdata_path(name)));
}

inline casskop::parsed_cluster testdata_cluster(const std::string& name) {
  return casskop::parse_cluster(testdata_object(name));
}

}  // namespace casskop_test
