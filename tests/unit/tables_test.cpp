// Server-side Tables: the columns and cells kube-apiserver's printers produce for each kind,
// CRD printer columns, list metadata and the one-row tables of watch events.
#include "tools/kubesim/tables.h"

#include <doctest/doctest.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "k8s/json/json.h"
#include "k8s/base/timestamps.h"

namespace {

using kubesim::resource_type;
using kubesim::snapshot;
using kubesim::snapshot_ptr;
using kubesim::table_clock;
using namespace std::chrono_literals;

resource_type make_type(std::string group, std::string version, std::string kind,
                        std::string plural, bool namespaced = true) {
  resource_type t;
  t.group = std::move(group);
  t.versions = {std::move(version)};
  t.kind = std::move(kind);
  t.plural = std::move(plural);
  t.singular = t.plural.substr(0, t.plural.size() - 1);
  t.list_kind = t.kind + "List";
  t.namespaced = namespaced;
  return t;
}

snapshot_ptr make_snapshot(const std::string& json) {
  auto s = std::make_shared<snapshot>();
  s->doc = k8s::json::parse(json);
  s->json = json;
  return s;
}

// Objects are created at this instant; tables are printed at kCreated + an offset.
constexpr const char* kCreated = "2024-05-01T10:00:00Z";
table_clock::time_point created_at() {
  const auto t = k8s::parse_rfc3339(kCreated);
  REQUIRE(t);
  return table_clock::time_point(std::chrono::seconds(t->seconds));
}

std::string meta(const std::string& name, const std::string& extra = "") {
  return R"("metadata":{"name":")" + name +
         R"(","namespace":"default","resourceVersion":"7","creationTimestamp":")" + kCreated +
         "\"" + extra + "}";
}

// The table of `objects` as a parsed document.
k8s::json::Document table_of(const resource_type& t, const std::vector<std::string>& objects,
                             std::chrono::seconds age = 300s) {
  std::vector<snapshot_ptr> items;
  for (const auto& o : objects) items.push_back(make_snapshot(o));
  return k8s::json::parse(kubesim::table_json(t, items, "42", "", -1, true, created_at() + age));
}

std::vector<std::string> column_names(const k8s::json::Value& table) {
  std::vector<std::string> names;
  for (const auto& c : table["columnDefinitions"].GetArray())
    names.emplace_back(c["name"].GetString());
  return names;
}

std::string cells(const k8s::json::Value& table, size_t row = 0) {
  return k8s::json::to_string(table["rows"][static_cast<rapidjson::SizeType>(row)]["cells"]);
}

}  // namespace

TEST_CASE("tables: ConfigMap table shape, metadata and PartialObjectMetadata rows") {
  auto t = make_type("", "v1", "ConfigMap", "configmaps");
  auto table = table_of(t, {"{" + meta("cm1", R"(,"labels":{"a":"b"})") +
                            R"(,"data":{"a":"1","b":"2"},"binaryData":{"c":"AA=="}})"});
  CHECK(std::string(table["kind"].GetString()) == "Table");
  CHECK(std::string(table["apiVersion"].GetString()) == "meta.k8s.io/v1");
  CHECK(k8s::json::to_string(table["metadata"]) == R"({"resourceVersion":"42"})");
  CHECK(column_names(table) == std::vector<std::string>{"Name", "Data", "Age"});
  const auto& name = table["columnDefinitions"][0];
  CHECK(std::string(name["format"].GetString()) == "name");
  CHECK(name["priority"].GetInt() == 0);
  CHECK(cells(table) == R"(["cm1",3,"5m"])");
  const auto& object = table["rows"][0]["object"];
  CHECK(std::string(object["kind"].GetString()) == "PartialObjectMetadata");
  CHECK(std::string(object["apiVersion"].GetString()) == "meta.k8s.io/v1");
  CHECK(std::string(object["metadata"]["namespace"].GetString()) == "default");
  CHECK(std::string(object["metadata"]["labels"]["a"].GetString()) == "b");
  CHECK_FALSE(object.HasMember("data"));
}

TEST_CASE("tables: list metadata continue/remainingItemCount and includeObject=None") {
  auto t = make_type("", "v1", "ConfigMap", "configmaps");
  std::vector<snapshot_ptr> items{make_snapshot("{" + meta("a") + "}"),
                                  make_snapshot("{" + meta("b") + "}")};
  auto table = k8s::json::parse(kubesim::table_json(t, items, "9", "tok", 3, false));
  CHECK(k8s::json::to_string(table["metadata"]) ==
        R"({"resourceVersion":"9","continue":"tok","remainingItemCount":3})");
  REQUIRE(table["rows"].Size() == 2);
  CHECK_FALSE(table["rows"][1].HasMember("object"));
  CHECK(std::string(table["rows"][1]["cells"][0].GetString()) == "b");

  auto empty = k8s::json::parse(kubesim::table_json(t, {}, "9", "", -1, true));
  CHECK(empty["rows"].IsArray());
  CHECK(empty["rows"].Empty());
  CHECK(empty["columnDefinitions"].Size() == 3);
}

TEST_CASE("tables: Pod Ready, Status, Restarts and wide columns") {
  auto t = make_type("", "v1", "Pod", "pods");
  const std::string spec =
      R"(,"spec":{"nodeName":"node-1","containers":[{"name":"a"},{"name":"b"}]})";
  auto table = table_of(
      t, {
             // Running, one of two containers ready, restarts summed with the last one's age.
             "{" + meta("running") + spec +
                 R"(,"status":{"phase":"Running","podIP":"10.0.0.5","containerStatuses":[
              {"name":"a","ready":true,"restartCount":1,"state":{"running":{}}},
              {"name":"b","ready":false,"restartCount":2,"state":{"running":{}},
               "lastState":{"terminated":{"exitCode":1,"finishedAt":"2024-05-01T10:03:00Z"}}}]}})",
             // Waiting reasons win over the phase.
             "{" + meta("crashing") + spec +
                 R"(,"status":{"phase":"Running","containerStatuses":[
              {"name":"a","ready":false,"restartCount":0,"state":{"waiting":{"reason":"CrashLoopBackOff"}}}]}})",
             // Nothing has run it yet.
             "{" + meta("new", "") + R"(,"spec":{"containers":[{"name":"a"}]}})",
             // Being deleted.
             "{" + meta("going", R"(,"deletionTimestamp":"2024-05-01T10:04:00Z")") + spec +
                 R"(,"status":{"phase":"Running"}})",
             // Completed pods keep their phase and get a row condition.
             "{" + meta("done") + spec + R"(,"status":{"phase":"Succeeded"}})",
         });
  CHECK(column_names(table) == std::vector<std::string>{"Name", "Ready", "Status", "Restarts",
                                                        "Age", "IP", "Node", "Nominated Node",
                                                        "Readiness Gates"});
  CHECK(table["columnDefinitions"][5]["priority"].GetInt() == 1);
  CHECK(cells(table, 0) ==
        R"j(["running","1/2","Running","3 (2m ago)","5m","10.0.0.5","node-1","<none>","<none>"])j");
  CHECK(cells(table, 1) ==
        R"(["crashing","0/2","CrashLoopBackOff","0","5m","<none>","node-1","<none>","<none>"])");
  CHECK(cells(table, 2) ==
        R"(["new","0/1","Pending","0","5m","<none>","<none>","<none>","<none>"])");
  CHECK(std::string(table["rows"][3]["cells"][2].GetString()) == "Terminating");
  CHECK(std::string(table["rows"][4]["cells"][2].GetString()) == "Succeeded");
  CHECK(
      k8s::json::to_string(table["rows"][4]["conditions"]) ==
      R"([{"type":"Completed","status":"True","reason":"Succeeded","message":"The pod has completed successfully."}])");
  CHECK_FALSE(table["rows"][0].HasMember("conditions"));
}

TEST_CASE("tables: Pod init containers show Init:N/M") {
  auto t = make_type("", "v1", "Pod", "pods");
  auto table = table_of(
      t, {"{" + meta("init") +
          R"(,"spec":{"initContainers":[{"name":"i1"},{"name":"i2"}],"containers":[{"name":"a"}]},
          "status":{"phase":"Pending","initContainerStatuses":[
            {"name":"i1","restartCount":0,"state":{"terminated":{"exitCode":0}}},
            {"name":"i2","restartCount":0,"state":{"running":{}}}],
          "containerStatuses":[{"name":"a","ready":false,"restartCount":0,"state":{"waiting":{"reason":"PodInitializing"}}}]}})"});
  CHECK(std::string(table["rows"][0]["cells"][2].GetString()) == "Init:1/2");
}

TEST_CASE("tables: Service, Secret, ServiceAccount, Namespace cells") {
  auto svc = table_of(make_type("", "v1", "Service", "services"),
                      {"{" + meta("cassandra") +
                       R"(,"spec":{"clusterIP":"10.96.0.10","clusterIPs":["10.96.0.10"],
                         "selector":{"app":"cassandra","tier":"db"},
                         "ports":[{"port":9042,"protocol":"TCP"},{"port":7000}]}})"});
  CHECK(column_names(svc) == std::vector<std::string>{"Name", "Type", "Cluster-IP", "External-IP",
                                                      "Port(s)", "Age", "Selector"});
  CHECK(svc["columnDefinitions"][6]["priority"].GetInt() == 1);
  CHECK(
      cells(svc) ==
      R"(["cassandra","ClusterIP","10.96.0.10","<none>","9042/TCP,7000/TCP","5m","app=cassandra,tier=db"])");

  auto secret =
      table_of(make_type("", "v1", "Secret", "secrets"),
               {"{" + meta("s") + R"(,"type":"kubernetes.io/tls","data":{"a":"","b":""}})"});
  CHECK(column_names(secret) == std::vector<std::string>{"Name", "Type", "Data", "Age"});
  CHECK(cells(secret) == R"(["s","kubernetes.io/tls",2,"5m"])");

  auto sa =
      table_of(make_type("", "v1", "ServiceAccount", "serviceaccounts"), {"{" + meta("sa") + "}"});
  CHECK(cells(sa) == R"(["sa",0,"5m"])");

  auto ns = table_of(make_type("", "v1", "Namespace", "namespaces", false),
                     {"{" + meta("prod") + R"(,"status":{"phase":"Terminating"}})"}, 90s);
  CHECK(column_names(ns) == std::vector<std::string>{"Name", "Status", "Age"});
  CHECK(cells(ns) == R"(["prod","Terminating","90s"])");
}

TEST_CASE("tables: workloads, PDB, PVC, Lease and RBAC columns") {
  auto deploy = table_of(make_type("apps", "v1", "Deployment", "deployments"),
                         {"{" + meta("web") +
                          R"(,"spec":{"replicas":3,"selector":{"matchLabels":{"app":"web"}},
                            "template":{"spec":{"containers":[{"name":"c","image":"nginx:1"}]}}},
                            "status":{"readyReplicas":2,"updatedReplicas":3,"availableReplicas":2}})"});
  CHECK(column_names(deploy) == std::vector<std::string>{"Name", "Ready", "Up-to-date", "Available",
                                                         "Age", "Containers", "Images",
                                                         "Selector"});
  CHECK(cells(deploy) == R"(["web","2/3",3,2,"5m","c","nginx:1","app=web"])");

  auto sts = table_of(make_type("apps", "v1", "StatefulSet", "statefulsets"),
                      {"{" + meta("db") + R"(,"spec":{"template":{"spec":{"containers":[
                         {"name":"a","image":"x"},{"name":"b","image":"y"}]}}}})"});
  CHECK(cells(sts) == R"(["db","0/1","5m","a,b","x,y"])");

  auto pdb = table_of(
      make_type("policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets"),
      {"{" + meta("p") + R"(,"spec":{"maxUnavailable":1},"status":{"disruptionsAllowed":1}})"});
  CHECK(column_names(pdb) == std::vector<std::string>{"Name", "Min Available", "Max Unavailable",
                                                      "Allowed Disruptions", "Age"});
  CHECK(cells(pdb) == R"(["p","N/A","1",1,"5m"])");

  auto pvc = table_of(make_type("", "v1", "PersistentVolumeClaim", "persistentvolumeclaims"),
                      {"{" + meta("data") +
                       R"(,"spec":{"volumeName":"pv-1","storageClassName":"standard"},
                         "status":{"phase":"Bound","capacity":{"storage":"1Gi"},"accessModes":["ReadWriteOnce"]}})"});
  CHECK(column_names(pvc) ==
        std::vector<std::string>{"Name", "Status", "Volume", "Capacity", "Access Modes",
                                 "StorageClass", "VolumeAttributesClass", "Age", "VolumeMode"});
  CHECK(cells(pvc) == R"(["data","Bound","pv-1","1Gi","RWO","standard","<unset>","5m","<unset>"])");

  auto lease = table_of(make_type("coordination.k8s.io", "v1", "Lease", "leases"),
                        {"{" + meta("leader") + R"(,"spec":{"holderIdentity":"op-1"}})"});
  CHECK(cells(lease) == R"(["leader","op-1","5m"])");

  auto role = table_of(make_type("rbac.authorization.k8s.io", "v1", "Role", "roles"),
                       {"{" + meta("r") + "}"});
  CHECK(column_names(role) == std::vector<std::string>{"Name", "Created At"});
  CHECK(std::string(role["columnDefinitions"][1]["type"].GetString()) == "date");
  CHECK(cells(role) == std::string(R"(["r",")") + kCreated + "\"]");

  auto binding = table_of(make_type("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding",
                                    "clusterrolebindings", false),
                          {"{" + meta("b") + R"(,"roleRef":{"kind":"ClusterRole","name":"admin"},
        "subjects":[{"kind":"ServiceAccount","name":"op","namespace":"sys"},{"kind":"User","name":"u"}]})"});
  CHECK(cells(binding) == R"(["b","ClusterRole/admin","5m","u","","sys/op"])");
}

TEST_CASE("tables: core and events.k8s.io Events") {
  auto core = table_of(make_type("", "v1", "Event", "events"),
                       {"{" + meta("e1") +
                        R"(,"type":"Normal","reason":"Created","message":" made it \n",
                          "involvedObject":{"kind":"Pod","name":"p1"},
                          "firstTimestamp":"2024-05-01T10:01:00Z","lastTimestamp":"2024-05-01T10:04:00Z",
                          "count":2,"source":{"component":"kubelet"}})"});
  CHECK(column_names(core) == std::vector<std::string>{"Last Seen", "Type", "Reason", "Object",
                                                       "Subobject", "Source", "Message",
                                                       "First Seen", "Count", "Name"});
  CHECK(cells(core) == R"(["60s","Normal","Created","pod/p1","","kubelet","made it","4m",2,"e1"])");

  auto modern = table_of(make_type("events.k8s.io", "v1", "Event", "events"),
                         {"{" + meta("e2") +
                          R"(,"type":"Warning","reason":"Failed","note":"boom",
                            "regarding":{"kind":"CassandraCluster","name":"cluster1"},
                            "eventTime":"2024-05-01T10:02:00.000000Z","reportingController":"op"})"});
  CHECK(cells(modern) ==
        R"(["3m","Warning","Failed","cassandracluster/cluster1","","op","boom","3m",1,"e2"])");
}

TEST_CASE("tables: custom resources use Name, the CRD's printer columns, or Name and Age") {
  auto t = make_type("db.orange.com", "v2", "CassandraCluster", "cassandraclusters");
  t.custom = true;
  t.columns = {
      {"Nodes", "integer", "", "", ".spec.nodesPerRacks", 0},
      {"Phase", "string", "", "Cluster phase", ".status.phase", 0},
      {"Image", "string", "", "", ".spec.image", 1},
  };
  const std::string cr = "{" + meta("cluster1") + R"(,"spec":{"nodesPerRacks":5,"image":"c:4"}})";
  auto table = table_of(t, {cr});
  CHECK(column_names(table) == std::vector<std::string>{"Name", "Nodes", "Phase", "Image"});
  const auto& defs = table["columnDefinitions"];
  CHECK(std::string(defs[1]["type"].GetString()) == "integer");
  CHECK(std::string(defs[1]["description"].GetString()) ==
        "Custom resource definition column (in JSONPath format): .spec.nodesPerRacks");
  CHECK(std::string(defs[2]["description"].GetString()) == "Cluster phase");
  CHECK(defs[3]["priority"].GetInt() == 1);
  CHECK(cells(table) == R"(["cluster1",5,null,"c:4"])");

  t.columns.clear();
  auto plain = table_of(t, {cr}, 4s);
  CHECK(column_names(plain) == std::vector<std::string>{"Name", "Age"});
  CHECK(std::string(plain["columnDefinitions"][1]["type"].GetString()) == "date");
  CHECK(cells(plain) == R"(["cluster1","4s"])");
}

TEST_CASE("tables: kinds without a printer get Name and Created At") {
  auto crd = make_type("apiextensions.k8s.io", "v1", "CustomResourceDefinition",
                       "customresourcedefinitions", false);
  auto table = table_of(crd, {"{" + meta("cassandraclusters.db.orange.com") + "}"});
  CHECK(column_names(table) == std::vector<std::string>{"Name", "Created At"});
  CHECK(cells(table) == std::string(R"(["cassandraclusters.db.orange.com",")") + kCreated + "\"]");
}

TEST_CASE("tables: a watch event's one-row table") {
  auto t = make_type("", "v1", "ConfigMap", "configmaps");
  auto item = make_snapshot("{" + meta("cm1") + R"(,"data":{"a":"1"}})");
  auto row = k8s::json::parse(kubesim::table_row_json(t, *item, true, created_at() + 10s));
  auto list = table_of(t, {item->json});
  CHECK(std::string(row["kind"].GetString()) == "Table");
  CHECK(k8s::json::to_string(row["metadata"]) == R"({"resourceVersion":"7"})");
  CHECK(row["columnDefinitions"] == list["columnDefinitions"]);
  REQUIRE(row["rows"].Size() == 1);
  CHECK(cells(row) == R"(["cm1",1,"10s"])");
  CHECK(std::string(row["rows"][0]["object"]["metadata"]["name"].GetString()) == "cm1");

  auto bare = k8s::json::parse(kubesim::table_row_json(t, *item, false));
  CHECK_FALSE(bare["rows"][0].HasMember("object"));
}
