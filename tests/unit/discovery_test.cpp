// Discovery documents (aggregated v2 and legacy), /version and the minimal OpenAPI v3 that
// kubectl's `apply --validate=strict` needs.
#include "tools/kubesim/discovery.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "k8s/json/json.h"

namespace {

using kubesim::resource_type;

resource_type make_type(std::string group, std::vector<std::string> versions, std::string kind,
                        std::string plural, bool namespaced = true) {
  resource_type t;
  t.group = std::move(group);
  t.versions = std::move(versions);
  t.kind = std::move(kind);
  t.plural = std::move(plural);
  t.singular = t.plural.substr(0, t.plural.size() - 1);
  t.list_kind = t.kind + "List";
  t.namespaced = namespaced;
  return t;
}

// A few built-ins and one CRD serving v1 and v2 (storage v2).
std::vector<resource_type> sample_types() {
  auto pods = make_type("", {"v1"}, "Pod", "pods");
  pods.has_status = true;
  pods.short_names = {"po"};
  pods.categories = {"all"};
  auto namespaces = make_type("", {"v1"}, "Namespace", "namespaces", false);
  namespaces.has_status = true;
  namespaces.short_names = {"ns"};
  auto configmaps = make_type("", {"v1"}, "ConfigMap", "configmaps");
  configmaps.short_names = {"cm"};
  auto deployments = make_type("apps", {"v1"}, "Deployment", "deployments");
  deployments.has_status = true;
  auto roles = make_type("rbac.authorization.k8s.io", {"v1"}, "ClusterRole", "clusterroles", false);
  auto cassandra =
      make_type("db.orange.com", {"v2", "v1"}, "CassandraCluster", "cassandraclusters");
  cassandra.custom = true;
  cassandra.has_status = true;
  cassandra.short_names = {"cassc"};
  return {pods, namespaces, configmaps, deployments, roles, cassandra};
}

std::string str(const k8s::json::Value& v) {
  return v.IsString() ? v.GetString() : "<not a string>";
}

std::vector<std::string> strings(const k8s::json::Value& array) {
  std::vector<std::string> out;
  for (const auto& v : array.GetArray()) out.push_back(str(v));
  return out;
}

const std::vector<std::string> kAllVerbs{"create", "delete", "deletecollection", "get",
                                         "list",   "patch",  "update",           "watch"};

const k8s::json::Value* find_by(const k8s::json::Value& array, const char* key,
                                const std::string& value) {
  for (const auto& v : array.GetArray()) {
    if (v.HasMember(key) && str(v[key]) == value) return &v;
  }
  return nullptr;
}

}  // namespace

TEST_CASE("discovery: /version names kubectl's minor version") {
  auto v = k8s::json::parse(kubesim::version_info());
  CHECK(str(v["major"]) == "1");
  CHECK(str(v["minor"]) == "32");
  CHECK(str(v["gitVersion"]) == "v1.32.4");
  CHECK(str(v["gitTreeState"]) == "clean");
  CHECK(str(v["compiler"]) == "gc");
  CHECK(str(v["platform"]) == "linux/amd64");
  CHECK(v.HasMember("gitCommit"));
  CHECK(v.HasMember("buildDate"));
  CHECK(v.HasMember("goVersion"));
}

TEST_CASE("discovery: kube-aware version preference") {
  std::vector<std::string> versions{"v1alpha1", "foo", "v1",      "v1beta1", "v2beta1",
                                    "v2",       "bar", "v1beta2", "v10"};
  std::sort(versions.begin(), versions.end(), kubesim::version_preferred);
  CHECK(versions == std::vector<std::string>{"v10", "v2", "v1", "v2beta1", "v1beta2", "v1beta1",
                                             "v1alpha1", "bar", "foo"});
}

TEST_CASE("discovery: aggregated /api has one unnamed item with the core v1 resources") {
  auto doc = k8s::json::parse(kubesim::aggregated_discovery(sample_types(), true));
  CHECK(str(doc["kind"]) == "APIGroupDiscoveryList");
  CHECK(str(doc["apiVersion"]) == "apidiscovery.k8s.io/v2");
  REQUIRE(doc["items"].Size() == 1);
  const auto& item = doc["items"][0];
  CHECK(str(item["metadata"]["name"]) == "");
  REQUIRE(item["versions"].Size() == 1);
  const auto& v1 = item["versions"][0];
  CHECK(str(v1["version"]) == "v1");
  CHECK(str(v1["freshness"]) == "Current");
  const auto& resources = v1["resources"];
  REQUIRE(resources.Size() == 3);

  const auto* pods = find_by(resources, "resource", "pods");
  REQUIRE(pods);
  CHECK(str((*pods)["singularResource"]) == "pod");
  CHECK(str((*pods)["scope"]) == "Namespaced");
  CHECK(k8s::json::to_string((*pods)["responseKind"]) ==
        R"({"group":"","version":"v1","kind":"Pod"})");
  CHECK(strings((*pods)["shortNames"]) == std::vector<std::string>{"po"});
  CHECK(strings((*pods)["categories"]) == std::vector<std::string>{"all"});
  CHECK(strings((*pods)["verbs"]) == kAllVerbs);
  REQUIRE((*pods)["subresources"].Size() == 1);
  const auto& status = (*pods)["subresources"][0];
  CHECK(str(status["subresource"]) == "status");
  CHECK(strings(status["verbs"]) == std::vector<std::string>{"get", "patch", "update"});
  CHECK(str(status["responseKind"]["kind"]) == "Pod");

  const auto* namespaces = find_by(resources, "resource", "namespaces");
  REQUIRE(namespaces);
  CHECK(str((*namespaces)["scope"]) == "Cluster");
  auto ns_verbs = strings((*namespaces)["verbs"]);
  CHECK(std::find(ns_verbs.begin(), ns_verbs.end(), "deletecollection") == ns_verbs.end());

  const auto* configmaps = find_by(resources, "resource", "configmaps");
  REQUIRE(configmaps);
  CHECK_FALSE(configmaps->HasMember("subresources"));
  CHECK_FALSE(configmaps->HasMember("categories"));
}

TEST_CASE("discovery: aggregated /apis lists each group with versions in preference order") {
  auto doc = k8s::json::parse(kubesim::aggregated_discovery(sample_types(), false));
  const auto& items = doc["items"];
  REQUIRE(items.Size() == 3);
  CHECK(str(items[0]["metadata"]["name"]) == "apps");
  CHECK(str(items[1]["metadata"]["name"]) == "rbac.authorization.k8s.io");
  const auto& crd = items[2];
  CHECK(str(crd["metadata"]["name"]) == "db.orange.com");
  REQUIRE(crd["versions"].Size() == 2);
  CHECK(str(crd["versions"][0]["version"]) == "v2");
  CHECK(str(crd["versions"][1]["version"]) == "v1");
  const auto& cr = crd["versions"][1]["resources"][0];
  CHECK(str(cr["resource"]) == "cassandraclusters");
  CHECK(str(cr["singularResource"]) == "cassandracluster");
  CHECK(k8s::json::to_string(cr["responseKind"]) ==
        R"({"group":"db.orange.com","version":"v1","kind":"CassandraCluster"})");
  CHECK(strings(cr["shortNames"]) == std::vector<std::string>{"cassc"});
  CHECK(strings(cr["verbs"]) == kAllVerbs);
  CHECK(str(cr["subresources"][0]["subresource"]) == "status");
  CHECK(str(items[1]["versions"][0]["resources"][0]["scope"]) == "Cluster");
}

TEST_CASE("discovery: legacy APIVersions, APIGroupList and APIGroup") {
  auto versions = k8s::json::parse(kubesim::api_versions("127.0.0.1:6443"));
  CHECK(str(versions["kind"]) == "APIVersions");
  CHECK(strings(versions["versions"]) == std::vector<std::string>{"v1"});
  CHECK(str(versions["serverAddressByClientCIDRs"][0]["serverAddress"]) == "127.0.0.1:6443");

  auto list = k8s::json::parse(kubesim::api_group_list(sample_types()));
  CHECK(str(list["kind"]) == "APIGroupList");
  REQUIRE(list["groups"].Size() == 3);
  const auto& crd = list["groups"][2];
  CHECK(str(crd["name"]) == "db.orange.com");
  CHECK(
      k8s::json::to_string(crd["versions"]) ==
      R"([{"groupVersion":"db.orange.com/v2","version":"v2"},{"groupVersion":"db.orange.com/v1","version":"v1"}])");
  CHECK(k8s::json::to_string(crd["preferredVersion"]) ==
        R"({"groupVersion":"db.orange.com/v2","version":"v2"})");

  auto group = k8s::json::parse(kubesim::api_group(sample_types(), "apps"));
  CHECK(str(group["kind"]) == "APIGroup");
  CHECK(str(group["preferredVersion"]["groupVersion"]) == "apps/v1");
  CHECK(kubesim::api_group(sample_types(), "nope.example.com") == "");
  CHECK(kubesim::api_group(sample_types(), "") == "");
}

TEST_CASE("discovery: legacy APIResourceList with /status entries") {
  auto core = k8s::json::parse(kubesim::api_resource_list(sample_types(), "", "v1"));
  CHECK(str(core["kind"]) == "APIResourceList");
  CHECK(str(core["groupVersion"]) == "v1");
  const auto& resources = core["resources"];
  const auto* pods = find_by(resources, "name", "pods");
  REQUIRE(pods);
  CHECK(str((*pods)["singularName"]) == "pod");
  CHECK((*pods)["namespaced"].GetBool());
  CHECK(str((*pods)["kind"]) == "Pod");
  CHECK(strings((*pods)["verbs"]) == kAllVerbs);
  CHECK(strings((*pods)["shortNames"]) == std::vector<std::string>{"po"});
  const auto* status = find_by(resources, "name", "pods/status");
  REQUIRE(status);
  CHECK(strings((*status)["verbs"]) == std::vector<std::string>{"get", "patch", "update"});
  CHECK(str((*status)["kind"]) == "Pod");
  CHECK_FALSE(find_by(resources, "name", "configmaps/status"));
  CHECK(resources.Size() == 5);  // pods, pods/status, namespaces, namespaces/status, configmaps

  auto crd = k8s::json::parse(kubesim::api_resource_list(sample_types(), "db.orange.com", "v1"));
  CHECK(str(crd["groupVersion"]) == "db.orange.com/v1");
  CHECK(find_by(crd["resources"], "name", "cassandraclusters/status"));
  CHECK(kubesim::api_resource_list(sample_types(), "db.orange.com", "v3") == "");
  CHECK(kubesim::api_resource_list(sample_types(), "nope", "v1") == "");
}

TEST_CASE("discovery: OpenAPI v3 root lists every group-version and re-hashes on change") {
  auto types = sample_types();
  auto root = k8s::json::parse(kubesim::openapi_v3_root(types, 1));
  std::vector<std::string> paths;
  for (const auto& m : root["paths"].GetObject()) paths.emplace_back(m.name.GetString());
  CHECK(paths == std::vector<std::string>{"api/v1", "apis/apps/v1",
                                          "apis/rbac.authorization.k8s.io/v1",
                                          "apis/db.orange.com/v2", "apis/db.orange.com/v1"});
  std::string url = str(root["paths"]["apis/db.orange.com/v2"]["serverRelativeURL"]);
  CHECK(url.rfind("/openapi/v3/apis/db.orange.com/v2?hash=", 0) == 0);

  auto url_of = [](const std::string& doc, const char* path) {
    return str(k8s::json::parse(doc)["paths"][path]["serverRelativeURL"]);
  };
  CHECK(url_of(kubesim::openapi_v3_root(types, 1), "apis/db.orange.com/v2") == url);
  CHECK(url_of(kubesim::openapi_v3_root(types, 2), "apis/db.orange.com/v2") != url);
  types.back().has_status = false;
  CHECK(url_of(kubesim::openapi_v3_root(types, 1), "apis/db.orange.com/v2") != url);
}

TEST_CASE("discovery: OpenAPI v3 group-version paths carry what kubectl verifies") {
  auto types = sample_types();
  auto crd = k8s::json::parse(kubesim::openapi_v3_group_version(types, "apis/db.orange.com/v2", 1));
  CHECK(str(crd["openapi"]) == "3.0.0");
  CHECK(crd["components"]["schemas"].IsObject());
  const auto& paths = crd["paths"];
  const char* item = "/apis/db.orange.com/v2/namespaces/{namespace}/cassandraclusters/{name}";
  REQUIRE(paths.HasMember(item));
  const auto& patch = paths[item]["patch"];
  CHECK(k8s::json::to_string(patch["x-kubernetes-group-version-kind"]) ==
        R"({"group":"db.orange.com","version":"v2","kind":"CassandraCluster"})");
  const auto* field_validation = find_by(patch["parameters"], "name", "fieldValidation");
  REQUIRE(field_validation);
  CHECK(str((*field_validation)["in"]) == "query");
  std::vector<std::string> content;
  for (const auto& m : patch["requestBody"]["content"].GetObject())
    content.emplace_back(m.name.GetString());
  CHECK(content == std::vector<std::string>{"application/json-patch+json",
                                            "application/merge-patch+json",
                                            "application/apply-patch+yaml"});
  for (const char* verb : {"put", "get", "delete"}) {
    CHECK(str(paths[item][verb]["x-kubernetes-group-version-kind"]["kind"]) == "CassandraCluster");
  }
  CHECK(find_by(paths[item]["put"]["parameters"], "name", "fieldValidation"));
  const char* collection = "/apis/db.orange.com/v2/namespaces/{namespace}/cassandraclusters";
  REQUIRE(paths.HasMember(collection));
  const auto& post = paths[collection]["post"];
  CHECK(str(post["x-kubernetes-group-version-kind"]["version"]) == "v2");
  CHECK(find_by(post["parameters"], "name", "fieldValidation"));
  CHECK(paths.HasMember((std::string(item) + "/status").c_str()));

  auto core = k8s::json::parse(kubesim::openapi_v3_group_version(types, "api/v1", 1));
  const auto& cm_patch = core["paths"]["/api/v1/namespaces/{namespace}/configmaps/{name}"]["patch"];
  CHECK(cm_patch["requestBody"]["content"].HasMember("application/strategic-merge-patch+json"));
  CHECK(cm_patch["requestBody"]["content"].HasMember("application/merge-patch+json"));
  CHECK(str(cm_patch["x-kubernetes-group-version-kind"]["group"]) == "");
  CHECK(core["paths"].HasMember("/api/v1/namespaces/{name}"));  // cluster-scoped
  CHECK_FALSE(core["paths"].HasMember("/apis/apps/v1/namespaces/{namespace}/deployments/{name}"));

  auto rbac = k8s::json::parse(
      kubesim::openapi_v3_group_version(types, "apis/rbac.authorization.k8s.io/v1", 1));
  CHECK(rbac["paths"].HasMember("/apis/rbac.authorization.k8s.io/v1/clusterroles/{name}"));

  CHECK(kubesim::openapi_v3_group_version(types, "apis/db.orange.com/v3", 1) == "");
  CHECK(kubesim::openapi_v3_group_version(types, "apis/nope/v1", 1) == "");
  CHECK(kubesim::openapi_v3_group_version(types, "apis/apps", 1) == "");
  CHECK(kubesim::openapi_v3_group_version(types, "bogus", 1) == "");
}
