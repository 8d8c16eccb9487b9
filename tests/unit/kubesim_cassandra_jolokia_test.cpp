// The Jolokia agent of a simulated node: CassKop's calls with their exact shapes, errors in
// Jolokia's shape, auth (ref = /work/shared/reference/cassandra-nodes.md §1).
#include <doctest/doctest.h>

#include "k8s/json/base64.h"
#include "k8s/json/json.h"
#include "kubesim_cassandra_world.h"
#include "tools/kubesim/cassandra/jolokia.h"

namespace {
using namespace kubesim_cassandra_test;
namespace js = k8s::json;

const std::string kSS = "org.apache.cassandra.db:type=StorageService";
const std::string kSeeds = "n-0.cc.ns";

// CassKop's READ body (go_jolokia: type upper case, empty path and target).
std::string read_body(const std::string& mbean, const std::string& attribute) {
  return R"({"type":"READ","mbean":")" + mbean +
         R"(","path":"","target":{"url":"","password":"","user":""},"attribute":")" + attribute +
         R"("})";
}
std::string exec_body(const std::string& operation, const std::string& args) {
  return R"({"type":"EXEC","mbean":")" + kSS + R"(","operation":")" + operation +
         R"(","arguments":)" + args + R"(,"target":{"url":"","password":"","user":""}})";
}

struct Call {
  HttpReply reply;
  js::Document body;
};
Call post(World& w, const std::string& pod, const std::string& body,
          std::optional<Credentials> creds = std::nullopt,
          std::optional<std::string> auth = std::nullopt) {
  HttpRequest req{"POST", "/jolokia/", auth, body};
  Call c{handle(w.rings, pod, w.now, req, creds), {}};
  if (!c.reply.refused && c.reply.status == 200) c.body = js::parse(c.reply.body(w.now));
  return c;
}

void two_nodes(World& w) {
  w.start("n-0", "127.6.0.1", "dc1", "rack1", kSeeds);
  w.start("n-1", "127.6.0.2", "dc1", "rack1", kSeeds);
  w.run(1s);
}
}  // namespace

TEST_CASE(
    "kubesim cassandra: Jolokia READ answers with the request echo, value, seconds and status") {
  World w;
  two_nodes(w);
  Call c = post(w, "n-0", read_body(kSS, "OperationMode"));
  CHECK(c.reply.status == 200);
  CHECK(c.reply.content_type == "application/json");
  CHECK(js::get_string(c.body, "value") == "NORMAL");
  CHECK(js::get_int(c.body, {"status"}, 0) == 200);
  // Epoch seconds: CassKop decodes timestamp into a uint32 (ref §1 "Parsing").
  CHECK(js::get_int(c.body, {"timestamp"}, 0) == w.now.count() / 1000);
  CHECK(js::get_string(c.body, {"request", "type"}) == "read");
  CHECK(js::get_string(c.body, {"request", "mbean"}) == kSS);
  CHECK(js::get_string(c.body, {"request", "attribute"}) == "OperationMode");
  CHECK(js::find(c.body, "error") == nullptr);

  Call ids = post(w, "n-1", read_body(kSS, "HostIdMap"));
  const js::Value* map = js::find(ids.body, "value");
  REQUIRE(map);
  REQUIRE(map->IsObject());
  CHECK(map->MemberCount() == 2);
  CHECK(js::get_string(*map, "127.6.0.1") == w.pvcs["n-0"].host_id);

  for (const char* list : {"JoiningNodes", "LeavingNodes"}) {
    Call l = post(w, "n-0", read_body(kSS, list));
    REQUIRE(js::find(l.body, "value"));
    CHECK(js::find(l.body, "value")->IsArray());
    CHECK(js::find(l.body, "value")->Size() == 0);
  }
  Call ks = post(w, "n-0", read_body(kSS, "Keyspaces"));
  CHECK(js::find(ks.body, "value")->Size() == 5);
}

TEST_CASE("kubesim cassandra: Jolokia bulk requests and the GET read form") {
  World w;
  two_nodes(w);
  Call bulk = post(w, "n-0",
                   "[" + read_body(kSS, "OperationMode") + "," + read_body(kSS, "LiveNodes") + "]");
  REQUIRE(bulk.body.IsArray());
  REQUIRE(bulk.body.Size() == 2);
  CHECK(js::get_string(bulk.body[0], "value") == "NORMAL");
  CHECK(js::find(bulk.body[1], "value")->Size() == 2);

  HttpRequest get{"GET", "/jolokia/read/" + kSS + "/LiveNodes", std::nullopt, ""};
  HttpReply r = handle(w.rings, "n-0", w.now, get, std::nullopt);
  js::Document d = js::parse(r.body(w.now));
  CHECK(js::get_string(d, {"request", "attribute"}) == "LiveNodes");
  CHECK(js::find(d, "value")->Size() == 2);
  // Percent-encoded and '!'-escaped forms decode to the same request.
  HttpRequest enc{"GET",
                  "/jolokia/read/org.apache.cassandra.db%3Atype%3DStorageService/OperationMode",
                  std::nullopt, ""};
  CHECK(js::get_string(js::parse(handle(w.rings, "n-0", w.now, enc, std::nullopt).body(w.now)),
                       "value") == "NORMAL");
}

TEST_CASE("kubesim cassandra: Jolokia errors keep Jolokia's shape with HTTP 200") {
  World w;
  two_nodes(w);
  Call unknown = post(w, "n-0", read_body("org.apache.cassandra.db:type=Nope", "X"));
  CHECK(unknown.reply.status == 200);
  CHECK(js::get_int(unknown.body, {"status"}, 0) == 404);
  CHECK(js::get_string(unknown.body, "error_type") == "javax.management.InstanceNotFoundException");
  CHECK(js::get_string(unknown.body, "error") ==
        "javax.management.InstanceNotFoundException : org.apache.cassandra.db:type=Nope");
  CHECK(js::find(unknown.body, "value") == nullptr);

  Call attr = post(w, "n-0", read_body(kSS, "Nope"));
  CHECK(js::get_int(attr.body, {"status"}, 0) == 404);
  CHECK(js::get_string(attr.body, "error_type") == "javax.management.AttributeNotFoundException");

  Call bad = post(w, "n-0", "{not json");
  CHECK(js::get_int(bad.body, {"status"}, 0) == 400);
  CHECK(js::get_string(bad.body, "error_type") == "java.lang.IllegalArgumentException");

  Call type = post(w, "n-0", R"({"type":"WRITE","mbean":")" + kSS + R"("})");
  CHECK(js::get_int(type.body, {"status"}, 0) == 400);
}

TEST_CASE("kubesim cassandra: Jolokia decommission arity per version, and its refusal") {
  World w;
  two_nodes(w);
  // 3.x: decommission() takes no argument; [true] is 4.x's force flag (ref §1 call 10).
  Call wrong = post(w, "n-1", exec_body("decommission", "[true]"));
  CHECK(js::get_int(wrong.body, {"status"}, 0) == 400);
  CHECK(std::string(js::get_string(wrong.body, "error"))
            .find("Invalid number of operation arguments") != std::string::npos);
  w.rings.node("n-1")->settings().server_version = "4.0.1";
  Call v4 = post(w, "n-1", exec_body("decommission", "[true]"));
  CHECK(js::get_int(v4.body, {"status"}, 0) == 200);
  CHECK(js::find(v4.body, "value")->IsNull());
  CHECK(w.mode("n-1") == Mode::Decommissioned);

  World slow(Speeds{Millis(0), Millis(30000)});
  slow.start("n-0", "127.6.0.1", "dc1", "rack1", kSeeds);
  slow.start("n-1", "127.6.0.2", "dc1", "rack1", kSeeds);
  slow.run(1s);
  REQUIRE(slow.mode("n-1") == Mode::Joining);
  Call joining = post(slow, "n-1", exec_body("decommission", "[]"));
  CHECK(js::get_int(joining.body, {"status"}, 0) == 500);
  CHECK(js::get_string(joining.body, "error_type") == "java.lang.UnsupportedOperationException");
  slow.run(30s);
  REQUIRE(slow.mode("n-1") == Mode::Normal);
  Call ok = post(slow, "n-1", exec_body("decommission", "[]"));
  CHECK(js::get_int(ok.body, {"status"}, 0) == 200);
  // The EXEC blocks in Cassandra until the node is DECOMMISSIONED.
  REQUIRE(ok.reply.waits_for.size() == 1);
  CHECK_FALSE(slow.rings.node("n-1")->work_done(ok.reply.waits_for[0]));
  Call again = post(slow, "n-1", exec_body("decommission", "[]"));
  CHECK(js::get_string(again.body, "error") ==
        "java.lang.UnsupportedOperationException : Node in LEAVING state; wait for status to "
        "become normal or restart");
  Call mode = post(slow, "n-1", read_body(kSS, "OperationMode"));
  CHECK(js::get_string(mode.body, "value") == "LEAVING");
  slow.run(30s);
  CHECK(slow.rings.node("n-1")->work_done(ok.reply.waits_for[0]));
  CHECK(js::get_string(post(slow, "n-1", read_body(kSS, "OperationMode")).body, "value") ==
        "DECOMMISSIONED");
}

TEST_CASE("kubesim cassandra: Jolokia cleanup, upgradesstables, describeRing and removeNode") {
  Speeds speeds;
  speeds.cleanup_per_keyspace = 5s;
  World w(speeds);
  two_nodes(w);
  Call over = post(w, "n-0", exec_body("forceKeyspaceCleanup", R"(["system_auth",[]])"));
  CHECK(js::get_int(over.body, {"status"}, 0) == 400);
  CHECK(std::string(js::get_string(over.body, "error")).find("is overloaded") != std::string::npos);

  Call clean = post(w, "n-0",
                    exec_body("forceKeyspaceCleanup(java.lang.String,[Ljava.lang.String;)",
                              R"(["system_auth",[]])"));
  CHECK(js::get_int(clean.body, {"status"}, 0) == 200);
  REQUIRE(clean.reply.waits_for.size() == 1);
  // While it runs, CompactionManager lists a Cleanup (ref §1 call 12).
  Call comp =
      post(w, "n-0", read_body("org.apache.cassandra.db:type=CompactionManager", "Compactions"));
  REQUIRE(js::find(comp.body, "value")->Size() == 1);
  CHECK(js::get_string((*js::find(comp.body, "value"))[0], "taskType") == "Cleanup");
  w.run(5s);
  CHECK(w.rings.node("n-0")->work_done(clean.reply.waits_for[0]));
  comp = post(w, "n-0", read_body("org.apache.cassandra.db:type=CompactionManager", "Compactions"));
  CHECK(js::find(comp.body, "value")->Size() == 0);

  Call up = post(w, "n-0",
                 exec_body("upgradeSSTables(java.lang.String,boolean,int,[Ljava.lang.String;)",
                           R"(["system_auth",true,0,[]])"));
  CHECK(js::get_int(up.body, {"status"}, 0) == 200);

  Call ring = post(w, "n-0", exec_body("describeRingJMX", R"(["system_auth"])"));
  REQUIRE(js::find(ring.body, "value"));
  CHECK(js::find(ring.body, "value")->Size() == 512);
  CHECK(std::string(js::view((*js::find(ring.body, "value"))[0])).find("datacenter:dc1") !=
        std::string::npos);
  Call sys = post(w, "n-0", exec_body("describeRingJMX", R"(["system"])"));
  CHECK(js::get_string(sys.body, "error") ==
        "java.io.IOException : There is no ring for the keyspace: system");
  CHECK(js::get_int(sys.body, {"status"}, 0) == 500);

  Call rm = post(w, "n-0", exec_body("removeNode", R"(["00000000-0000-4000-8000-000000000000"])"));
  CHECK(js::get_string(rm.body, "error") ==
        "java.lang.UnsupportedOperationException : Host ID not found.");

  Call streams =
      post(w, "n-0", read_body("org.apache.cassandra.net:type=StreamManager", "CurrentStreams"));
  CHECK(js::find(streams.body, "value")->Size() == 0);
}

TEST_CASE("kubesim cassandra: Jolokia basic auth, a down JVM, and the MBean missing early") {
  Speeds speeds;
  speeds.startup = 10s;
  World w(speeds);
  w.start("n-0", "127.6.0.1", "dc1", "rack1", kSeeds);
  // Early in STARTING: 404 InstanceNotFoundException (ref §6).
  Call early = post(w, "n-0", read_body(kSS, "OperationMode"));
  CHECK(js::get_int(early.body, {"status"}, 0) == 404);
  w.run(5s);
  CHECK(js::get_string(post(w, "n-0", read_body(kSS, "OperationMode")).body, "value") ==
        "STARTING");

  Credentials creds{"jolokia", "s3cret"};
  Call none = post(w, "n-0", read_body(kSS, "OperationMode"), creds);
  CHECK(none.reply.status == 401);
  CHECK(none.reply.body(w.now).empty());
  Call wrong = post(w, "n-0", read_body(kSS, "OperationMode"), creds,
                    "Basic " + k8s::base64_encode("jolokia:nope"));
  CHECK(wrong.reply.status == 401);
  Call right = post(w, "n-0", read_body(kSS, "OperationMode"), creds,
                    "Basic " + k8s::base64_encode("jolokia:s3cret"));
  CHECK(right.reply.status == 200);
  CHECK(authorized(std::nullopt, std::nullopt));

  w.rings.stop("n-0");
  CHECK(post(w, "n-0", read_body(kSS, "OperationMode")).reply.refused);
}

TEST_CASE("kubesim cassandra: Jolokia faults - hang, delay, malformed answers") {
  World w;
  two_nodes(w);
  HttpRequest req{"POST", "/jolokia/", std::nullopt, read_body(kSS, "OperationMode")};
  JolokiaFaults f;
  f.hang = true;
  CHECK(handle(w.rings, "n-0", w.now, req, std::nullopt, f).hang);
  f = {};
  f.delay = 15s;
  CHECK(handle(w.rings, "n-0", w.now, req, std::nullopt, f).delay == 15s);
  f = {};
  f.malformed_json = true;
  CHECK_THROWS(js::parse(handle(w.rings, "n-0", w.now, req, std::nullopt, f).body(w.now)));
  f = {};
  f.http_status = 500;
  CHECK(handle(w.rings, "n-0", w.now, req, std::nullopt, f).status == 500);
  f = {};
  f.value_wrong_type = true;
  f.timestamp_millis = true;
  js::Document d = js::parse(handle(w.rings, "n-0", w.now, req, std::nullopt, f).body(w.now));
  CHECK(js::find(d, "value")->IsInt());
  CHECK(js::get_int(d, {"timestamp"}, 0) == w.now.count());
}
