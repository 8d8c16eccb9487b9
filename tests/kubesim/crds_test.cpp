// The CRDs and samples of deploy/: they parse, the schemas are structural and accept every sample
// (kubesim does not validate custom resources, so a small schema walker below does what the API
// server's validation would), and the real kubectl installs them and prints their columns.
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

#include "k8s/json_patch.h"
#include "k8s/yaml_json.h"
#include "tests/support/kubesim_fixture.h"

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

// --- A small OpenAPI v3 validator: what a structural CRD schema accepts ---------------------------
// Types, properties, additionalProperties, items, required, pattern, enum, minimum,
// x-kubernetes-preserve-unknown-fields and x-kubernetes-int-or-string. At the `strict` paths an
// unknown field is an error although the schema keeps it (it does so for compatibility with old
// manifests, as the original CRD did): our samples must use declared fields only.
struct schema_walker {
  std::set<std::string> strict;
  std::vector<std::string> errors;

  void fail(const std::string& at, const std::string& what) { errors.push_back(at + ": " + what); }

  void scalar_rules(const js::Value& s, const js::Value& v, const std::string& at) {
    if (auto p = js::get_string(s, "pattern"); !p.empty() && v.IsString() &&
                                               !std::regex_search(str(v), std::regex(std::string(p))))
      fail(at, "\"" + str(v) + "\" does not match " + std::string(p));
    if (const auto* e = js::find(s, "enum"); e && e->IsArray() &&
                                             std::none_of(e->Begin(), e->End(), [&](auto& x) { return x == v; }))
      fail(at, js::to_string(v) + " is not one of " + js::to_string(*e));
    if (const auto* m = js::find(s, "minimum"); m && m->IsNumber() && v.IsNumber() && v.GetDouble() < m->GetDouble())
      fail(at, "below the minimum " + js::to_string(*m));
  }

  void check(const js::Value& s, const js::Value& v, const std::string& at) {
    if (v.IsNull()) return;  // the API server drops nulls of non-nullable fields before validating
    const bool preserve = js::get_bool(s, {"x-kubernetes-preserve-unknown-fields"}, false);
    if (js::get_bool(s, {"x-kubernetes-int-or-string"}, false)) {
      if (!v.IsInt64() && !v.IsString()) return fail(at, "must be an integer or a string");
      return scalar_rules(s, v, at);
    }
    const std::string type(js::get_string(s, "type"));
    if (type.empty()) {
      if (!preserve) fail(at, "the schema gives no type");
      return;  // free-form
    }
    if (type == "object") {
      if (!v.IsObject()) return fail(at, "must be an object");
      const auto* props = js::find(s, "properties");
      const auto* extra = js::find(s, "additionalProperties");
      for (const auto& m : v.GetObject()) {
        const std::string key(m.name.GetString(), m.name.GetStringLength());
        const js::Value* sub = props ? js::find(*props, key) : nullptr;
        if (sub) check(*sub, m.value, at + "." + key);
        else if (extra && extra->IsObject()) check(*extra, m.value, at + "." + key);
        else if (!preserve || strict.count(at)) fail(at + "." + key, "unknown field");
      }
      if (const auto* req = js::find(s, "required"); req && req->IsArray())
        for (const auto& r : req->GetArray())
          if (!js::find(v, js::view(r))) fail(at, "missing the required field " + str(r));
    } else if (type == "array") {
      if (!v.IsArray()) return fail(at, "must be an array");
      const auto* items = js::find(s, "items");
      for (rapidjson::SizeType i = 0; items && i < v.Size(); ++i)
        check(*items, v[i], at + "[" + std::to_string(i) + "]");
    } else if (type == "string") {
      if (!v.IsString()) return fail(at, "must be a string");
      scalar_rules(s, v, at);
    } else if (type == "integer") {
      if (!v.IsInt64()) return fail(at, "must be an integer");
      scalar_rules(s, v, at);
    } else if (type == "number") {
      if (!v.IsNumber()) fail(at, "must be a number");
    } else if (type == "boolean") {
      if (!v.IsBool()) fail(at, "must be a boolean");
    } else {
      fail(at, "unknown schema type " + type);
    }
  }

  // A whole custom resource: metadata is ObjectMeta, which the API server validates itself.
  void resource(const js::Value& schema, const js::Value& obj) {
    js::Document copy;
    copy.CopyFrom(obj, copy.GetAllocator());
    js::remove_member(copy, "metadata");
    check(schema, copy, "");
  }
};

// One line per error, so that doctest prints what differs.
std::string lines(const std::vector<std::string>& errors) {
  std::string out;
  for (const auto& e : errors) out += e + "\n";
  return out;
}

std::string validate(const js::Value& schema, const js::Value& v, const std::string& at, bool strict = true) {
  schema_walker w;
  if (strict) w.strict = {at};
  w.check(schema, v, at);
  return lines(w.errors);
}

// The structural-schema rules a v1 API server enforces on a CRD, plus: defaults valid for their node.
// Collects the paths of every default in `defaults`.
void structural(const js::Value& s, const std::string& at, std::vector<std::string>& errors,
                std::set<std::string>& defaults) {
  const bool preserve = js::get_bool(s, {"x-kubernetes-preserve-unknown-fields"}, false);
  const bool int_or_string = js::get_bool(s, {"x-kubernetes-int-or-string"}, false);
  const auto type = js::get_string(s, "type");
  const auto* props = js::find(s, "properties");
  const auto* extra = js::find(s, "additionalProperties");
  const auto* items = js::find(s, "items");
  if (type.empty() && !preserve && !int_or_string) errors.push_back(at + ": no type");
  if (props && extra) errors.push_back(at + ": both properties and additionalProperties");
  if (type == "array" && !items) errors.push_back(at + ": an array without items");
  if (int_or_string && !type.empty()) errors.push_back(at + ": int-or-string with a type");
  if (const auto* d = js::find(s, "default")) {
    defaults.insert(at);
    if (auto e = validate(s, *d, at + "(default)"); !e.empty()) errors.push_back(e);
  }
  if (const auto* keys = js::find(s, "x-kubernetes-list-map-keys"); keys && items) {
    const auto* req = js::find(*items, "required");
    for (const auto& k : keys->GetArray())
      if (!req || std::find(req->Begin(), req->End(), k) == req->End())
        errors.push_back(at + ": list-map key " + str(k) + " is not required");
  }
  if (props)
    for (const auto& p : props->GetObject())
      structural(p.value, at + "." + std::string(p.name.GetString()), errors, defaults);
  if (extra && extra->IsObject()) structural(*extra, at + ".*", errors, defaults);
  if (items) structural(*items, at + "[]", errors, defaults);
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
  };
  for (const auto& e : {
           expectation{cc_crd, "v2", "v1alpha1", "cassandracluster", {"cassc", "casscs"},
                       {".spec.runAsUser", ".spec.fsGroup", ".spec.serverType"}},
           expectation{mcc_crd, "v2", "v1", "multicasskop", {"mcc"}, {".spec.deleteCassandraCluster"}},
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
    // The YAML anchors give both versions the same schema, columns and subresources.
    for (const char* part : {"schema", "additionalPrinterColumns", "subresources"}) {
      CAPTURE(part);
      REQUIRE(js::find(*stored, part));
      CHECK(*js::find(*stored, part) == *js::find(*other, part));
    }
    CHECK(js::find_path(*stored, {"subresources", "status"}) != nullptr);

    std::vector<std::string> errors;
    std::set<std::string> defaults;
    const auto& schema = schema_of(crd, e.storage);
    structural(schema, "", errors, defaults);
    CHECK(lines(errors) == "");
    CHECK(defaults == e.defaults);
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
  const auto& cc_spec = *js::find_path(cc_schema, {"properties", "spec"});
  const auto& cc_status = *js::find_path(cc_schema, {"properties", "status"});

  {
    schema_walker w;
    w.strict = {".spec"};
    w.resource(cc_schema, load(cc_sample));
    CHECK(lines(w.errors) == "");
  }
  for (const auto& file : {mcc_sample, mcc_computed_sample}) {
    CAPTURE(file);
    auto sample = load(file);
    schema_walker w;
    w.strict = {".spec.base.status"};
    w.resource(mcc_schema, sample);
    CHECK(lines(w.errors) == "");

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
      CHECK(validate(cc_spec, *js::find(cluster, "spec"), ".spec") == "");
      if (const auto* st = js::find(cluster, "status"))
        CHECK(validate(cc_status, *st, ".status") == "");
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

  // The walker rejects what the API server would.
  auto bad_spec = js::parse(R"({"nodesPerRacks":"three","topology":{"dc":[{"name":"dc-1","rack":[{"name":"r1",
      "rollingPartition":true}]}]},"resources":{"requests":{"cpu":true,"memory":"4 GB"}},"serverType":"scylla",
      "runAsUser":0,"storageConfigs":[{"name":"data"}],"sidecarConfigs":[{"image":"busybox","args":["x"]}],
      "nodesPerRack":3})");
  CHECK(validate(cc_spec, bad_spec, ".spec") == lines({
            ".spec.nodesPerRacks: must be an integer",
            ".spec.topology.dc[0].name: \"dc-1\" does not match ^[^-]+$",
            ".spec.topology.dc[0].rack[0].rollingPartition: must be an integer",
            ".spec.resources.requests.cpu: must be an integer or a string",
            ".spec.resources.requests.memory: \"4 GB\" does not match "
            R"(^(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$)",
            ".spec.serverType: \"scylla\" is not one of [\"cassandra\",\"dse\"]",
            ".spec.runAsUser: below the minimum 1",
            ".spec.storageConfigs[0]: missing the required field mountPath",
            ".spec.storageConfigs[0]: missing the required field pvcSpec",
            ".spec.sidecarConfigs[0]: missing the required field name",
            ".spec.nodesPerRack: unknown field",
        }));
  // Outside the strict paths the spec keeps unknown fields, as the original CRD did.
  CHECK(validate(cc_spec, js::parse(R"({"nodesPerRack":3,"gcStdout":true})"), ".spec", false) == "");
  auto bad_mcc = js::parse(R"({"spec":{"deleteCassandraCluster":"yes","base":{"spec":{"anything":1},
      "status":{"seedlist":"a,b"}},"override":{"k8s-cluster1":{"spec":{},"metadata":{"labels":{"a":1}}}},
      "seeds":{"dnsDomain":"My_Zone"}},"status":{"conditions":[{"type":"Ready","status":"true"}]}})");
  CHECK(validate(mcc_schema, bad_mcc, "") == lines({
            ".spec.deleteCassandraCluster: must be a boolean",
            ".spec.base.status.seedlist: must be an array",
            ".spec.override.k8s-cluster1.metadata.labels.a: must be a string",
            ".spec.seeds.dnsDomain: \"My_Zone\" does not match "
            R"(^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$)",
            ".status.conditions[0].status: \"true\" is not one of [\"True\",\"False\",\"Unknown\"]",
            ".status.conditions[0]: missing the required field lastTransitionTime",
            ".status.conditions[0]: missing the required field reason",
            ".status.conditions[0]: missing the required field message",
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
  // Both versions served, v2 stored, a status subresource on each; the short name.
  const std::string versions = "{.spec.versions[*].name}|{.spec.versions[?(@.storage==true)].name}|"
                               "{.spec.versions[?(@.subresources.status)].name}|{.spec.names.shortNames}";
  CHECK(kubectl({"get", "crd", "multicasskops.db.orange.com", "-o", "jsonpath=" + versions}) == R"(v2 v1|v2|v2 v1|["mcc"])");
  CHECK(kubectl({"get", "crd", "cassandraclusters.db.orange.com", "-o", "jsonpath=" + versions}) ==
        R"(v2 v1alpha1|v2|v2 v1alpha1|["cassc","casscs"])");

  // The samples, with kubectl's default strict field validation. (kubectl create namespace
  // speaks protobuf, which kubesim does not: the namespace comes from a manifest.)
  kubectl({"apply", "-f", "-"}, "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: cassandra-e2e\n");
  CHECK(kubectl({"apply", "-f", file(cc_sample)}) == "cassandracluster.db.orange.com/cassandra-demo created\n");
  CHECK(kubectl({"apply", "-f", file(mcc_sample)}) == "multicasskop.db.orange.com/multi-casskop-e2e created\n");

  // CassandraCluster: both short names, the columns, Nodes only with -o wide.
  CHECK(table(kubectl({"get", "cassc"}))[0] == row{"NAME", "PHASE", "ACTION", "STATUS", "AGE"});
  kubectl({"patch", "cassc", "cassandra-demo", "--subresource=status", "--type", "merge", "-p",
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
  kubectl({"patch", "mcc", "multi-casskop-e2e", "-n", "cassandra-e2e", "--subresource=status", "--type", "merge", "-p",
           R"({"status":{"observedGeneration":1,"rollingRegion":"k8s-cluster2",
               "seedlist":["cassandra-e2e-dc1-rack1-0.my.zone.dns.net"],
               "regions":[{"name":"k8s-cluster1","phase":"Ready","cassandraPhase":"Running","reachable":true,
                           "lastClusterAction":"Initializing","lastClusterActionStatus":"Done","observedGeneration":1},
                          {"name":"k8s-cluster2","phase":"Applying","reachable":true,"message":"waiting for Running"}],
               "conditions":[{"type":"Ready","status":"False","reason":"RegionRolling","message":"k8s-cluster2 is rolling",
                              "lastTransitionTime":"2024-05-01T10:00:00Z","observedGeneration":1}]}})"});
  auto t = get({"get", "mcc"});
  CHECK(without_age(t[1]) == row{"multi-casskop-e2e", "k8s-cluster2", "False"});
  t = get({"get", "mcc", "-o", "wide"});
  CHECK(t[0] == row{"NAME", "ROLLING", "READY", "REASON", "REGIONS", "AGE"});
  // The API server prints a column's first JSONPath match: the first region.
  CHECK(without_age(t[1]) == row{"multi-casskop-e2e", "k8s-cluster2", "False", "RegionRolling", "k8s-cluster1"});
  auto jsonpath = [&](const std::string& path) {
    return kubectl({"get", "mcc", "multi-casskop-e2e", "-n", "cassandra-e2e", "-o", "jsonpath=" + path});
  };
  CHECK(jsonpath("{.status.regions[*].name}|{.metadata.generation}") == "k8s-cluster1 k8s-cluster2|1");
  // The served v1 gives the same object under its own apiVersion.
  CHECK(kubectl({"get", "multicasskops.v1.db.orange.com", "multi-casskop-e2e", "-n", "cassandra-e2e", "-o",
                 "jsonpath={.apiVersion}"}) == "db.orange.com/v1");

  // The computed-seeds sample is the same MultiCasskop: applying it drops base.status, adds seeds.
  CHECK(kubectl({"apply", "-f", file(mcc_computed_sample)}) == "multicasskop.db.orange.com/multi-casskop-e2e configured\n");
  CHECK(jsonpath("{.spec.seeds.dnsDomain}|{.spec.base.status}|{.metadata.generation}|{.status.rollingRegion}") ==
        "my.zone.dns.net||2|k8s-cluster2");
}
