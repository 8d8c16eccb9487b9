// The CRDs and samples of deploy/: they parse, the schemas are structural and accept every sample
// (checked with kubesim's schema module, which does what the API server's validation does), and the
// real kubectl installs them and prints their columns.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <iterator>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "k8s/json/json_patch.h"
#include "k8s/json/yaml_json.h"
#include "tests/support/kubesim_fixture.h"
#include "tools/kubesim/api_error.h"
#include "tools/kubesim/crd_schema.h"
#include "tools/kubesim/resource_types.h"

using namespace testsupport;
namespace fs = std::filesystem;
namespace js = k8s::json;

namespace {

const std::string repo_root = TESTS_DIR "/..";
const std::string cc_crd = "deploy/crds/db.orange.com_cassandraclusters.yaml";
const std::string mcc_crd = "deploy/crds/db.orange.com_multicasskops.yaml";
const std::string cc_sample = "deploy/samples/cassandracluster.yaml";
const std::string mcc_sample = "deploy/samples/multi-casskop.yaml";
const std::string mcc_computed_sample = "deploy/samples/multi-casskop-computed-seeds.yaml";

js::Document load(const std::string& rel) { return js::yaml_to_json(read_file(repo_root + "/" + rel)); }

std::string str(const js::Value& v) { return v.IsString() ? std::string(js::view(v)) : js::to_string(v); }

const js::Value* version_of(const js::Value& crd, std::string_view name) {
  const auto* versions = js::find_path(crd, {"spec", "versions"});
  if (versions && versions->IsArray())
    for (const auto& v : versions->GetArray())
      if (js::get_string(v, "name") == name) return &v;
  return nullptr;
}

const js::Value& schema_of(const js::Value& crd, std::string_view version) {
  const auto* v = version_of(crd, version);
  REQUIRE(v);
  const auto* s = js::find_path(*v, {"schema", "openAPIV3Schema"});
  REQUIRE(s);
  return *s;
}

// What the API server would do with `obj` under `schema`: the fields it would prune (reported as
// "pruned PATH"; with `strict`, the schema is read without x-kubernetes-preserve-unknown-fields
// at `.spec`/`.spec.base.status` so that our samples must use declared fields only) and the
// validation errors, one per line.
std::string server_view(const js::Value& schema, const js::Value& obj,
                        const std::vector<std::string>& strict = {}) {
  js::Document s = js::copy_of(schema);
  for (const auto& path : strict) {
    js::Value* node = &s;
    std::istringstream parts(path);
    for (std::string part; std::getline(parts, part, '.');)
      if (!part.empty()) node = &(*node)["properties"][part.c_str()];
    js::remove_member(*node, "x-kubernetes-preserve-unknown-fields");
  }
  kubesim::crd::structural_schema structural(s);
  js::Document copy = js::copy_of(obj);
  std::set<std::string> found;  // sorted, each once: the server's order and repeats vary
  for (const auto& p : structural.prune(copy, copy.GetAllocator())) found.insert("pruned " + p);
  structural.apply_defaults(copy, copy.GetAllocator());
  for (const auto& c : structural.validate(copy)) found.insert(c.field + ": " + c.reason);
  std::string out;
  for (const auto& f : found) out += f + "\n";
  return out;
}

// One line per entry, so that doctest prints what differs.
std::string lines(const std::vector<std::string>& entries) {
  std::string out;
  for (const auto& e : entries) out += e + "\n";
  return out;
}

// The paths of every `default:` of a parsed schema.
void defaults_of(const kubesim::crd::schema_node& n, const std::string& at,
                 std::set<std::string>& out) {
  if (n.default_value) out.insert(at);
  for (const auto& [name, child] : n.properties) defaults_of(child, at + "." + name, out);
  if (n.items) defaults_of(*n.items, at + "[]", out);
  if (n.additional_properties) defaults_of(*n.additional_properties, at + ".*", out);
}

// kubectl's table output, one row per line, cells split on blanks (empty cells vanish).
std::vector<std::vector<std::string>> table(const std::string& out) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream text(out);
  for (std::string line; std::getline(text, line);) {
    std::istringstream cells(line);
    rows.emplace_back(std::istream_iterator<std::string>(cells), std::istream_iterator<std::string>());
  }
  return rows;
}
std::vector<std::string> without_age(std::vector<std::string> row) {
  if (!row.empty()) row.pop_back();
  return row;
}
using row = std::vector<std::string>;

}  // namespace

TEST_CASE("crds: every YAML file in deploy/ parses") {
  int files = 0;
  for (const auto& entry : fs::recursive_directory_iterator(repo_root + "/deploy")) {
    const auto ext = entry.path().extension();
    if (!entry.is_regular_file() || (ext != ".yaml" && ext != ".yml")) continue;
    const auto rel = fs::relative(entry.path(), repo_root).string();
    CAPTURE(rel);
    ++files;
    std::vector<YAML::Node> docs;
    REQUIRE_NOTHROW(docs = YAML::LoadAll(read_file(entry.path().string())));
    for (const auto& doc : docs) {
      if (doc.IsNull()) continue;  // an empty document between `---`
      js::Document d;
      REQUIRE_NOTHROW([&] {
        js::Value v = js::yaml_node_to_json(doc, d.GetAllocator());
        static_cast<js::Value&>(d).Swap(v);
      }());
      REQUIRE(d.IsObject());
      if (rel.rfind("deploy/crds/", 0) == 0 || rel.rfind("deploy/samples/", 0) == 0) {
        CHECK(!js::get_string(d, "apiVersion").empty());
        CHECK(!js::get_string(d, "kind").empty());
      }
    }
  }
  CHECK(files >= 5);
}

TEST_CASE("crds: both CRDs are structural, serve two versions with one schema, and default only as the originals") {
  struct expectation {
    std::string file, storage, other, singular;
    std::vector<std::string> short_names;
    std::set<std::string> defaults;
    bool status_subresource;
  };
  for (const auto& e : {
           expectation{cc_crd,
                       "v2",
                       "v1alpha1",
                       "cassandracluster",
                       {"cassc", "casscs"},
                       {".spec.runAsUser", ".spec.fsGroup", ".spec.serverType"},
                       false},
           expectation{mcc_crd,
                       "v2",
                       "v1",
                       "multicasskop",
                       {"mcc"},
                       {".spec.deleteCassandraCluster"},
                       true},
       }) {
    CAPTURE(e.file);
    auto crd = load(e.file);
    CHECK(js::get_string(crd, "apiVersion") == "apiextensions.k8s.io/v1");
    CHECK(js::get_string(crd, {"spec", "group"}) == "db.orange.com");
    CHECK(js::get_string(crd, {"spec", "scope"}) == "Namespaced");
    CHECK(js::get_string(crd, {"spec", "names", "singular"}) == e.singular);
    CHECK(js::find_path(crd, {"spec", "names", "categories"}) == nullptr);
    std::vector<std::string> short_names;
    for (const auto& n : js::find_path(crd, {"spec", "names", "shortNames"})->GetArray()) short_names.push_back(str(n));
    CHECK(short_names == e.short_names);

    REQUIRE(js::find_path(crd, {"spec", "versions"})->Size() == 2);
    const auto* stored = version_of(crd, e.storage);
    const auto* other = version_of(crd, e.other);
    REQUIRE(stored);
    REQUIRE(other);
    CHECK(js::get_bool(*stored, {"served"}, false));
    CHECK(js::get_bool(*stored, {"storage"}, false));
    CHECK(js::get_bool(*other, {"served"}, false));
    CHECK(!js::get_bool(*other, {"storage"}, true));
    // The YAML anchors give both versions the same schema and columns.
    for (const char* part : {"schema", "additionalPrinterColumns"}) {
      CAPTURE(part);
      REQUIRE(js::find(*stored, part));
      CHECK(*js::find(*stored, part) == *js::find(*other, part));
    }
    // A status subresource for the MultiCasskop only: CassKop v2.1.0 writes a CassandraCluster's
    // status in the object, which a subresource would silently drop.
    CHECK((js::find_path(*stored, {"subresources", "status"}) != nullptr) == e.status_subresource);
    const js::Value* stored_sub = js::find(*stored, "subresources");
    const js::Value* other_sub = js::find(*other, "subresources");
    CHECK(((!stored_sub && !other_sub) || (stored_sub && other_sub && *stored_sub == *other_sub)));

    // Accepted by the API server (structural, valid defaults), and the defaults are the originals'.
    kubesim::resource_type type;
    try {
      type = kubesim::type_from_crd(crd);
    } catch (const kubesim::api_error& err) {
      FAIL(err.what());
    }
    std::set<std::string> defaults;
    defaults_of(type.schema_for(e.storage)->root(), "", defaults);
    CHECK(defaults == e.defaults);
    const auto& schema = schema_of(crd, e.storage);
    // metadata at the root may only be typed: the API server owns ObjectMeta.
    CHECK(js::to_string(*js::find_path(schema, {"properties", "metadata"})) == R"({"type":"object"})");
  }

  auto cc = load(cc_crd);
  const auto& spec = *js::find_path(schema_of(cc, "v2"), {"properties", "spec"});
  // Every spec field of CassKop v2.1.0's CassandraClusterSpec.
  for (const char* field :
       {"nodesPerRacks", "cassandraImage", "imagepullpolicy", "bootstrapImage", "configBuilderImage", "runAsUser",
        "fsGroup", "readOnlyRootFilesystem", "resources", "hardAntiAffinity", "pod", "service", "deletePVC", "debug",
        "autoPilot", "noCheckStsAreEqual", "autoUpdateSeedList", "maxPodUnavailable", "restartCountBeforePodDeletion",
        "unlockNextOperation", "dataCapacity", "dataStorageClass", "storageConfigs", "sidecarConfigs", "configMapName",
        "serverVersion", "serverType", "config", "imagePullSecret", "imageJolokiaSecret", "topology",
        "livenessInitialDelaySeconds", "livenessHealthCheckTimeout", "livenessHealthCheckPeriod",
        "livenessFailureThreshold", "livenessSuccessThreshold", "readinessInitialDelaySeconds",
        "readinessHealthCheckTimeout", "readinessHealthCheckPeriod", "readinessFailureThreshold",
        "readinessSuccessThreshold", "shareProcessNamespace", "backRestSidecar", "serviceAccountName"}) {
    CAPTURE(field);
    CHECK(js::find_path(spec, {"properties", field}) != nullptr);
  }
  const auto& status = *js::find_path(schema_of(cc, "v2"), {"properties", "status", "properties"});
  for (const char* field : {"phase", "lastClusterAction", "lastClusterActionStatus", "seedlist", "cassandraNodeStatus",
                            "cassandraRackStatus", "observedGeneration"})
    CHECK(js::find(status, field) != nullptr);
}

TEST_CASE("crds: the schemas accept every sample, and every region's CassandraCluster") {
  auto cc = load(cc_crd);
  auto mcc = load(mcc_crd);
  const auto& cc_schema = schema_of(cc, "v2");
  const auto& mcc_schema = schema_of(mcc, "v2");
  CHECK(server_view(cc_schema, load(cc_sample), {".spec"}) == "");
  for (const auto& file : {mcc_sample, mcc_computed_sample}) {
    CAPTURE(file);
    auto sample = load(file);
    CHECK(server_view(mcc_schema, sample, {".spec.base.status"}) == "");

    // Each region's CassandraCluster: base with its override applied as a JSON merge patch.
    const auto& base = *js::find_path(sample, {"spec", "base"});
    const auto* overrides = js::find_path(sample, {"spec", "override"});
    REQUIRE(overrides);
    CHECK(overrides->MemberCount() == 2);
    std::set<std::string> pods;  // every Cassandra pod of every region
    for (const auto& region : overrides->GetObject()) {
      CAPTURE(region.name.GetString());
      js::Document cluster;
      cluster.CopyFrom(base, cluster.GetAllocator());
      js::apply_merge_patch(cluster, region.value, cluster.GetAllocator());
      CHECK(js::get_string(cluster, "apiVersion") == "db.orange.com/v2");
      CHECK(js::get_string(cluster, "kind") == "CassandraCluster");
      CHECK(server_view(cc_schema, cluster, {".spec"}) == "");
      const std::string name(js::get_string(cluster, {"metadata", "name"}));
      const auto default_nodes = js::get_int(cluster, {"spec", "nodesPerRacks"}, 1);
      const auto& dcs = *js::find_path(cluster, {"spec", "topology", "dc"});
      CHECK(dcs.Size() == 1);  // lists replace: each region has only its own DC
      for (const auto& dc : dcs.GetArray())
        for (const auto& rack : js::find(dc, "rack")->GetArray())
          for (long long i = 0; i < js::get_int(dc, {"nodesPerRacks"}, default_nodes); ++i)
            pods.insert(name + "-" + str(*js::find(dc, "name")) + "-" + str(*js::find(rack, "name")) + "-" +
                        std::to_string(i));
    }
    CHECK(pods.size() == 8);
    // A hand-written seed list names pods that exist in some region.
    if (const auto* seeds = js::find_path(base, {"status", "seedlist"})) {
      CHECK(seeds->Size() == 4);
      for (const auto& seed : seeds->GetArray()) {
        const auto fqdn = str(seed);
        CAPTURE(fqdn);
        CHECK(pods.count(fqdn.substr(0, fqdn.find('.'))) == 1);
        CHECK(fqdn.substr(fqdn.find('.')) == ".my.zone.dns.net");
      }
    } else {
      CHECK(js::get_string(sample, {"spec", "seeds", "dnsDomain"}) == "my.zone.dns.net");
    }
  }

  // What the API server refuses in them (field and reason; kubesim's own tests check the words).
  auto bad_cc = js::parse(
      R"({"apiVersion":"db.orange.com/v2","kind":"CassandraCluster","metadata":{"name":"x"},
      "spec":{"nodesPerRacks":"three","topology":{"dc":[{"name":"dc-1","rack":[{"name":"r1",
      "rollingPartition":true}]}]},"resources":{"requests":{"cpu":true,"memory":"4 GB"}},"serverType":"scylla",
      "runAsUser":0,"storageConfigs":[{"name":"data"}],"sidecarConfigs":[{"image":"busybox","args":["x"]}],
      "nodesPerRack":3}})");
  CHECK(
      server_view(cc_schema, bad_cc) ==
      lines({
          "<nil>: FieldValueInvalid",  // kube-openapi's "must validate at least one schema (anyOf)"
          "spec.nodesPerRacks: FieldValueTypeInvalid",
          "spec.resources.requests.cpu: FieldValueTypeInvalid",
          "spec.resources.requests.memory: FieldValueInvalid",
          "spec.runAsUser: FieldValueInvalid",
          "spec.serverType: FieldValueNotSupported",
          "spec.sidecarConfigs[0].name: FieldValueRequired",
          "spec.storageConfigs[0].mountPath: FieldValueRequired",
          "spec.storageConfigs[0].pvcSpec: FieldValueRequired",
          "spec.topology.dc[0].name: FieldValueInvalid",
          "spec.topology.dc[0].rack[0].rollingPartition: FieldValueTypeInvalid",
      }));
  // The spec keeps unknown fields, as the original CRD did (nodesPerRack was not pruned above).
  auto bad_mcc =
      js::parse(R"({"apiVersion":"db.orange.com/v2","kind":"MultiCasskop","metadata":{"name":"x"},
      "spec":{"deleteCassandraCluster":"yes","base":{"spec":{"anything":1},
      "status":{"seedlist":"a,b"}},"override":{"k8s-cluster1":{"spec":{},"metadata":{"labels":{"a":1}}}},
      "seeds":{"dnsDomain":"My_Zone"}},"status":{"conditions":[{"type":"Ready","status":"true"}]}})");
  CHECK(server_view(mcc_schema, bad_mcc) ==
        lines({
            "spec.base.status.seedlist: FieldValueTypeInvalid",
            "spec.deleteCassandraCluster: FieldValueTypeInvalid",
            "spec.override.k8s-cluster1.metadata.labels.a: FieldValueTypeInvalid",
            "spec.seeds.dnsDomain: FieldValueInvalid",
            "status.conditions[0].lastTransitionTime: FieldValueRequired",
            "status.conditions[0].message: FieldValueRequired",
            "status.conditions[0].reason: FieldValueRequired",
            "status.conditions[0].status: FieldValueNotSupported",
        }));
}

TEST_CASE("crds: kubectl installs the CRDs and every sample, and prints the columns") {
  kubesim_instance sim;
  auto kubectl = [&](const std::vector<std::string>& args, const std::string& in = "") {
    auto r = sim.kubectl("k1", args, in);
    CHECK_MESSAGE(r.exit_code == 0, r.err);
    return r.out;
  };
  auto file = [](const std::string& rel) { return repo_root + "/" + rel; };

  CHECK(kubectl({"apply", "-f", file(cc_crd)}) ==
        "customresourcedefinition.apiextensions.k8s.io/cassandraclusters.db.orange.com created\n");
  CHECK(kubectl({"apply", "-f", file(mcc_crd)}) ==
        "customresourcedefinition.apiextensions.k8s.io/multicasskops.db.orange.com created\n");
  CHECK(kubectl({"wait", "--for=condition=Established", "crd/cassandraclusters.db.orange.com",
                 "crd/multicasskops.db.orange.com", "--timeout=20s"})
            .find("multicasskops.db.orange.com condition met") != std::string::npos);
  // Both versions served, v2 stored, a status subresource on the MultiCasskop's only; short names.
  const std::string versions = "{.spec.versions[*].name}|{.spec.versions[?(@.storage==true)].name}|"
                               "{.spec.versions[?(@.subresources.status)].name}|{.spec.names.shortNames}";
  CHECK(kubectl({"get", "crd", "multicasskops.db.orange.com", "-o", "jsonpath=" + versions}) == R"(v2 v1|v2|v2 v1|["mcc"])");
  CHECK(kubectl({"get", "crd", "cassandraclusters.db.orange.com", "-o", "jsonpath=" + versions}) ==
        R"(v2 v1alpha1|v2||["cassc","casscs"])");

  // The samples, with kubectl's default strict field validation. (kubectl create namespace
  // speaks protobuf, which kubesim does not: the namespace comes from a manifest.)
  kubectl({"apply", "-f", "-"}, "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: cassandra-e2e\n");
  CHECK(kubectl({"apply", "-f", file(cc_sample)}) == "cassandracluster.db.orange.com/cassandra-demo created\n");
  CHECK(kubectl({"apply", "-f", file(mcc_sample)}) == "multicasskop.db.orange.com/multi-casskop-e2e created\n");

  // CassandraCluster: both short names, the columns, Nodes only with -o wide.
  CHECK(table(kubectl({"get", "cassc"}))[0] == row{"NAME", "PHASE", "ACTION", "STATUS", "AGE"});
  // As CassKop writes it: in the object (no status subresource).
  kubectl(
      {"patch", "cassc", "cassandra-demo", "--type", "merge", "-p",
       R"({"status":{"phase":"Running","lastClusterAction":"Initializing","lastClusterActionStatus":"Done"}})"});
  auto cassc = table(kubectl({"get", "casscs", "-o", "wide"}));
  REQUIRE(cassc.size() == 2);
  CHECK(cassc[0] == row{"NAME", "PHASE", "ACTION", "STATUS", "NODES", "AGE"});
  CHECK(without_age(cassc[1]) == row{"cassandra-demo", "Running", "Initializing", "Done", "3"});
  CHECK(kubectl({"get", "cassandraclusters.v1alpha1.db.orange.com", "cassandra-demo", "-o", "jsonpath={.apiVersion}"}) ==
        "db.orange.com/v1alpha1");

  // MultiCasskop: plural, singular and short name; empty cells before the operator writes status.
  const std::vector<std::string> ns = {"-n", "cassandra-e2e"};
  auto get = [&](std::vector<std::string> args) {
    args.insert(args.end(), ns.begin(), ns.end());
    return table(kubectl(args));
  };
  for (const char* resource : {"multicasskops", "multicasskop", "mcc"}) {
    auto t = get({"get", resource});
    REQUIRE(t.size() == 2);
    CHECK(t[0] == row{"NAME", "ROLLING", "READY", "AGE"});
    CHECK(without_age(t[1]) == row{"multi-casskop-e2e"});
  }
  kubectl({"patch", "mcc", "multi-casskop-e2e", "-n", "cassandra-e2e", "--subresource=status",
           "--type", "merge", "-p",
           R"({"status":{"observedGeneration":1,"rollingRegion":"k8s-cluster2",
               "seedlist":["cassandra-e2e-dc1-rack1-0.my.zone.dns.net"],
               "regions":[{"name":"k8s-cluster1","phase":"Ready","cassandraPhase":"Running","reachable":true,
                           "lastClusterAction":"Initializing","lastClusterActionStatus":"Done","writtenGeneration":1},
                          {"name":"k8s-cluster2","phase":"Creating","reachable":true,"message":"waiting for Running",
                           "writtenGeneration":1,"awaitingReady":true}],
               "conditions":[{"type":"Ready","status":"False","reason":"RegionsNotReady","message":"1 of 2 regions Ready",
                              "lastTransitionTime":"2024-05-01T10:00:00Z","observedGeneration":1}]}})"});
  auto t = get({"get", "mcc"});
  CHECK(without_age(t[1]) == row{"multi-casskop-e2e", "k8s-cluster2", "False"});
  t = get({"get", "mcc", "-o", "wide"});
  CHECK(t[0] == row{"NAME", "ROLLING", "READY", "REASON", "REGIONS", "AGE"});
  // The API server prints a column's first JSONPath match: the first region.
  CHECK(without_age(t[1]) ==
        row{"multi-casskop-e2e", "k8s-cluster2", "False", "RegionsNotReady", "k8s-cluster1"});
  auto jsonpath = [&](const std::string& path) {
    return kubectl({"get", "mcc", "multi-casskop-e2e", "-n", "cassandra-e2e", "-o", "jsonpath=" + path});
  };
  CHECK(jsonpath("{.status.regions[*].name}|{.metadata.generation}") == "k8s-cluster1 k8s-cluster2|1");
  // Everything written is kept (the schema declares it): what the operator reads back.
  CHECK(jsonpath("{.status.regions[1].writtenGeneration}|{.status.regions[1].awaitingReady}") ==
        "1|true");
  // The served v1 gives the same object under its own apiVersion.
  CHECK(kubectl({"get", "multicasskops.v1.db.orange.com", "multi-casskop-e2e", "-n", "cassandra-e2e", "-o",
                 "jsonpath={.apiVersion}"}) == "db.orange.com/v1");

  // The computed-seeds sample is the same MultiCasskop: applying it drops base.status, adds seeds.
  CHECK(kubectl({"apply", "-f", file(mcc_computed_sample)}) == "multicasskop.db.orange.com/multi-casskop-e2e configured\n");
  CHECK(jsonpath("{.spec.seeds.dnsDomain}|{.spec.base.status}|{.metadata.generation}|{.status.rollingRegion}") ==
        "my.zone.dns.net||2|k8s-cluster2");
}
