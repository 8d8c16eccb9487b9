// Our CRDs accept every sample of CassKop and Multi-CassKop v2.1.0 (tests/fixtures/casskop-v2.1.0/
// samples), and so does CassKop's own CRD take the CassandraClusters multi-casskop makes of the
// MultiCasskop samples: users arrive with these files.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "actors/multicasskop/logic/spec.h"
#include "k8s/json/yaml_json.h"
#include "tools/kubesim/crd_schema.h"

namespace js = k8s::json;

namespace {

std::string read_path(const std::string& path) {
  std::ifstream f(path);
  REQUIRE_MESSAGE(f.good(), path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// The documents of a YAML file (separated by "---" lines).
std::vector<js::Document> documents(const std::string& path) {
  std::vector<js::Document> out;
  std::istringstream in(read_path(path));
  std::string doc, line;
  auto flush = [&] {
    if (doc.find_first_not_of(" \n\t") != std::string::npos) out.push_back(js::yaml_to_json(doc));
    doc.clear();
  };
  while (std::getline(in, line)) {
    if (line.rfind("---", 0) == 0)
      flush();
    else
      doc += line + "\n";
  }
  flush();
  return out;
}

kubesim::crd::structural_schema schema_of(const std::string& crd_file, const std::string& version) {
  auto crd = js::yaml_to_json(read_path(std::string(SOURCE_DIR) + "/" + crd_file));
  for (const auto& v : crd["spec"]["versions"].GetArray())
    if (js::get_string(v, "name") == version)
      return kubesim::crd::structural_schema(*js::find_path(v, {"schema", "openAPIV3Schema"}));
  FAIL("no version " << version << " in " << crd_file);
  throw std::logic_error("unreachable");
}

// What the API server would refuse of `object` (its pruning is no refusal): "" when nothing.
std::string refusals(const kubesim::crd::structural_schema& s, const js::Value& object) {
  js::Document copy = js::copy_of(object);
  s.prune(copy, copy.GetAllocator());
  s.apply_defaults(copy, copy.GetAllocator());
  std::string out;
  for (const auto& cause : s.validate(copy)) out += cause.message + "; ";
  return out;
}

const char* kOurs = "deploy/crds/db.orange.com_cassandraclusters.yaml";
const char* kTheirs = "tests/fixtures/casskop-v2.1.0/cassandraclusters-crd.yaml";

}  // namespace

TEST_CASE("crd samples: every CassandraCluster and MultiCasskop sample of v2.1.0 is accepted") {
  const auto ours = schema_of(kOurs, "v2");
  const auto theirs = schema_of(kTheirs, "v2");
  const auto multicasskops = schema_of("deploy/crds/db.orange.com_multicasskops.yaml", "v2");
  size_t clusters = 0, regions = 0;
  for (const auto& entry : std::filesystem::directory_iterator(
           std::string(SOURCE_DIR) + "/tests/fixtures/casskop-v2.1.0/samples")) {
    if (entry.path().extension() != ".yaml") continue;
    for (const auto& doc : documents(entry.path().string())) {
      CAPTURE(entry.path().filename().string());
      const auto kind = js::get_string(doc, "kind");
      if (kind == "CassandraCluster") {
        ++clusters;
        CHECK_MESSAGE(refusals(ours, doc) == "", "ours");
        CHECK_MESSAGE(refusals(theirs, doc) == "", "CassKop's");
      } else if (kind == "MultiCasskop") {
        CHECK(refusals(multicasskops, doc) == "");
        // The CassandraCluster of each region, as multi-casskop writes it, under both CRDs.
        js::Document object = js::copy_of(doc);
        auto& a = object.GetAllocator();
        // Applied in the namespace its base names, as its users do.
        const std::string ns(
            js::get_string(object, {"spec", "base", "metadata", "namespace"}, "ns"));
        js::set_string(js::ensure_object(object, "metadata", a), "namespace", ns, a);
        const auto spec = mc::parse_multicasskop(object);
        REQUIRE_MESSAGE(spec.base_valid(), spec.problems.front().message);
        for (const auto& [region, fragment] : spec.overrides) {
          CAPTURE(region);
          ++regions;
          auto desired = mc::desired_cassandracluster(spec, region, {ns, "sample"});
          CHECK_MESSAGE(refusals(ours, desired) == "", "ours");
          CHECK_MESSAGE(refusals(theirs, desired) == "", "CassKop's");
        }
      }
    }
  }
  CHECK(clusters >= 8);
  CHECK(regions >= 4);
}
