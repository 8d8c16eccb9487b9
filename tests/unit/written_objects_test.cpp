// Everything multi-casskop writes is declared in the CRD schemas, so a real API server keeps all
// of it (nothing pruned) and accepts it (nothing invalid): the MultiCasskop status it reads back
// after a restart, and the CassandraClusters it creates, under our CRD and under CassKop v2.1.0's.
#include <doctest/doctest.h>

#include <fstream>
#include <sstream>

#include "k8s/json/yaml_json.h"
#include "tests/unit/multicasskop_world.h"
#include "tools/kubesim/crd_schema.h"

namespace js = k8s::json;
using testworld::fake_world;

namespace {

std::string read_source(const std::string& relative) {
  std::ifstream f(std::string(SOURCE_DIR) + "/" + relative);
  REQUIRE_MESSAGE(f.good(), relative);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// The storage version's schema of a CRD file.
kubesim::crd::structural_schema schema_of(const std::string& crd_file) {
  auto crd = js::yaml_to_json(read_source(crd_file));
  for (const auto& v : crd["spec"]["versions"].GetArray())
    if (js::get_bool(v, {"storage"}, false))
      return kubesim::crd::structural_schema(*js::find_path(v, {"schema", "openAPIV3Schema"}));
  FAIL("no storage version in " << crd_file);
  throw std::logic_error("unreachable");
}

// What the server would drop or refuse of `object`: "" when nothing.
std::string server_objections(const kubesim::crd::structural_schema& s, const js::Value& object) {
  js::Document copy = js::copy_of(object);
  std::string out;
  for (const auto& path : s.prune(copy, copy.GetAllocator())) out += "pruned " + path + "; ";
  for (const auto& cause : s.validate(copy)) out += "invalid " + cause.message + "; ";
  return out;
}

// A MultiCasskop with the given status, as the server would hold it after our status write.
js::Document with_status(const js::Value& mcc, const std::string& status_patch) {
  js::Document obj = js::copy_of(mcc);
  auto patch = js::parse(status_patch);
  js::set_member(obj, "status", js::Value(patch["status"], obj.GetAllocator()), obj.GetAllocator());
  return obj;
}

const char* spec =
    R"({"deleteCassandraCluster":true,"base":{"apiVersion":"db.orange.com/v2","kind":"CassandraCluster",
  "metadata":{"name":"cassandra-e2e","namespace":"ns","labels":{"app":"c"}},"spec":{"nodesPerRacks":1,"dataCapacity":"1Gi"},
  "status":{"seedlist":["a.zone","b.zone"]}},
  "override":{"a":{"spec":{"topology":{"dc":[{"name":"dc1","rack":[{"name":"rack1"}]}]}}},
              "b":{"spec":{"topology":{"dc":[{"name":"dc2","rack":[{"name":"rack1"}]}]}}},"typo":{}}})";

}  // namespace

TEST_CASE(
    "written objects: every MultiCasskop status the operator writes is kept whole by the CRD") {
  const auto schema = schema_of("deploy/crds/db.orange.com_multicasskops.yaml");
  fake_world w({"a", "b"});
  w.legacy_casskop = 1;  // awaitingReady and writtenGeneration show up
  w.set_multicasskop(spec);
  w.run();
  w.casskop_ongoing("a");
  w.run();
  w.set_reachable("b", false);
  w.casskop_done("a");
  w.run();
  w.deliver(mc::cluster_health{"b", false, false, "Unauthorized (401): Unauthorized", true});
  w.run();
  w.set_reachable("b", true);
  w.run();
  const js::Document mcc = js::copy_of(*w.multicasskop());
  w.delete_multicasskop();
  w.run();
  size_t checked = 0;
  for (const auto& c : w.issued())
    if (auto* p = std::get_if<mc::patch_multicasskop>(&c); p && p->status) {
      ++checked;
      CHECK_MESSAGE(server_objections(schema, with_status(mcc, p->merge_patch)) == "",
                    p->merge_patch);
    }
  CHECK(checked >= 5);
}

TEST_CASE(
    "written objects: the CassandraClusters the operator creates are kept whole under either CRD") {
  for (const char* crd : {"deploy/crds/db.orange.com_cassandraclusters.yaml",
                          "tests/fixtures/casskop-v2.1.0/cassandraclusters-crd.yaml"}) {
    CAPTURE(crd);
    const auto schema = schema_of(crd);
    fake_world w({"a", "b"});
    w.auto_casskop = true;
    w.set_multicasskop(spec);
    w.run();
    size_t creates = 0;
    for (const auto& c : w.issued())
      if (auto* cr = std::get_if<mc::create_cassandracluster>(&c)) {
        ++creates;
        CHECK_MESSAGE(server_objections(schema, *cr->object) == "", js::to_string(*cr->object));
        CHECK(js::find_path(*cr->object, {"status", "seedlist"}) !=
              nullptr);  // from the first version
      }
    CHECK(creates == 2);
  }
}
