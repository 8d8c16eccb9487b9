// CassKop v2.1.0's own test data (tests/fixtures/casskop-v2.1.0/testdata, see SOURCES there),
// read as casskop reads a CassandraCluster.
#pragma once

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

#include "actors/casskop/logic/cluster_spec.h"
#include "k8s/json/yaml_json.h"

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
