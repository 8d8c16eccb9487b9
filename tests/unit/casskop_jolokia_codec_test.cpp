// casskop's Jolokia codec: the bodies v2.1.0 POSTs (node_operations.go through go_jolokia, the
// shapes of shared/reference/cassandra-nodes.md §1), and answers parsed with their failure
// classified. The answers below are written by hand from the reference, never by kubesim's
// simulator, so a mismatch between the two shows up in the e2e tests.
#include <doctest/doctest.h>

#include "actors/casskop/logic/jolokia_codec.h"
#include "k8s/json/json.h"

namespace {

namespace js = k8s::json;
using namespace casskop::jolokia;

js::Document body_of(const request& r) {
  return js::parse(r.body);
}

http_reply ok(const std::string& value_json) {
  http_reply r;
  r.status = 200;
  r.body = R"({"request":{"type":"read"},"value":)" + value_json +
           R"(,"timestamp":1528850319,"status":200})";
  return r;
}

http_reply answer(int status, std::string body) {
  http_reply r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

http_reply transport_failure(failure kind) {
  http_reply r;
  r.transport.kind = kind;
  r.transport.message = "x";
  return r;
}

}  // namespace

TEST_CASE("casskop jolokia codec: URL by pod IP, trailing slash, no query") {
  CHECK(url("127.4.0.7") == "http://127.4.0.7:8778/jolokia/");
}

TEST_CASE("casskop jolokia codec: READ bodies as go_jolokia marshals them") {
  for (auto [r, attribute, mbean] :
       {std::tuple{read_operation_mode(), "OperationMode", storage_service},
        std::tuple{read_host_id_map(), "HostIdMap", storage_service},
        std::tuple{read_joining_nodes(), "JoiningNodes", storage_service},
        std::tuple{read_leaving_nodes(), "LeavingNodes", storage_service},
        std::tuple{read_keyspaces(), "Keyspaces", storage_service},
        std::tuple{read_compactions(), "Compactions", compaction_manager},
        std::tuple{read_current_streams(), "CurrentStreams", stream_manager}}) {
    CAPTURE(attribute);
    const auto d = body_of(r);
    CHECK(js::get_string(d, "type") == "READ");
    CHECK(js::get_string(d, "mbean") == mbean);
    CHECK(js::get_string(d, "attribute") == attribute);
    CHECK(js::find(d, "operation") == nullptr);
    CHECK(js::find(d, "arguments") == nullptr);
    CHECK(js::get_string(d, "path", "absent") == "");
    CHECK(js::to_string(*js::find(d, "target")) == R"({"url":"","password":"","user":""})");
    CHECK_FALSE(r.long_running);
  }
  CHECK(read_operation_mode().describe() == "READ StorageService/OperationMode");
}

TEST_CASE("casskop jolokia codec: EXEC bodies with the overloaded operations' signatures") {
  auto check = [](const request& r, const char* operation, const char* args, bool long_running) {
    CAPTURE(operation);
    const auto d = body_of(r);
    CHECK(js::get_string(d, "type") == "EXEC");
    CHECK(js::get_string(d, "mbean") == storage_service);
    CHECK(js::get_string(d, "operation") == operation);
    CHECK(js::find(d, "attribute") == nullptr);
    CHECK(js::to_string(*js::find(d, "arguments")) == args);
    CHECK(js::to_string(*js::find(d, "target")) == R"({"url":"","password":"","user":""})");
    CHECK(r.long_running == long_running);
  };
  check(describe_ring("ks1"), "describeRingJMX", R"(["ks1"])", false);
  check(force_keyspace_cleanup("ks1"), "forceKeyspaceCleanup(java.lang.String,[Ljava.lang.String;)",
        R"(["ks1",[]])", true);
  check(upgrade_sstables("ks1"),
        "upgradeSSTables(java.lang.String,boolean,int,[Ljava.lang.String;)", R"(["ks1",true,0,[]])",
        true);
  check(rebuild("dc1"), "rebuild(java.lang.String)", R"(["dc1"])", true);
  check(remove_node("4a2b"), "removeNode", R"(["4a2b"])", true);
  // decommission: no signature; its arity by version. The answer comes when the node has left,
  // so casskop polls OperationMode instead of waiting on it (short limit).
  check(decommission("3.11.9"), "decommission", "[]", false);
  check(decommission(""), "decommission", "[]", false);
  check(decommission("4.0.1"), "decommission", "[true]", false);
  check(decommission("4.1"), "decommission", "[true]", false);
  CHECK(decommission("4.0").describe() == "EXEC StorageService/decommission [true]");
  // A string in JSON is escaped, never spliced.
  check(describe_ring(R"(k"s)"), "describeRingJMX", R"(["k\"s"])", false);
}

TEST_CASE("casskop jolokia codec: decommission's force flag compares the major version") {
  CHECK_FALSE(takes_force_flag(""));
  CHECK_FALSE(takes_force_flag("3.11.9"));
  CHECK_FALSE(takes_force_flag("latest"));
  CHECK(takes_force_flag("4.0"));
  CHECK(takes_force_flag("4"));
  // v2.1.0 compares strings: "10.0" >= "4.0" is false there, a 3.x call to a 5+ node.
  CHECK(takes_force_flag("10.0"));
  CHECK(takes_force_flag("5.0-beta1"));
}

TEST_CASE("casskop jolokia codec: good answers into typed values") {
  auto mode = parse_operation_mode(ok(R"("NORMAL")"));
  REQUIRE(mode.ok());
  CHECK(*mode.value == "NORMAL");

  auto ids = parse_host_id_map(ok(R"({"127.4.0.2":"1d6c-aa","127.4.0.3":"77e1-bb"})"));
  REQUIRE(ids.ok());
  CHECK(ids.value->size() == 2);
  CHECK(ids.value->at("127.4.0.3") == "77e1-bb");

  auto joining = parse_string_list(ok(R"(["127.4.0.9"])"));
  REQUIRE(joining.ok());
  CHECK(*joining.value == std::vector<std::string>{"127.4.0.9"});
  CHECK(parse_string_list(ok("[]")).value->empty());

  CHECK(parse_exec(ok("null")).ok());
  CHECK(parse_exec(ok("0")).ok());

  auto compactions =
      parse_compaction_types(ok(R"([{"taskType":"Cleanup","keyspace":"ks"},{"id":"x"}])"));
  REQUIRE(compactions.ok());
  CHECK(*compactions.value == std::vector<std::string>{"Cleanup", ""});
  CHECK(*parse_has_streams(ok(R"([{"planId":"p"}])")).value);
  CHECK_FALSE(*parse_has_streams(ok("[]")).value);
}

TEST_CASE("casskop jolokia codec: the timestamp is not read (milliseconds are fine)") {
  http_reply r = answer(200, R"({"value":"LEAVING","timestamp":1528850319123,"status":200})");
  auto mode = parse_operation_mode(r);
  REQUIRE(mode.ok());
  CHECK(*mode.value == "LEAVING");
  CHECK(parse_operation_mode(answer(200, R"({"value":"NORMAL","status":200})")).ok());
}

TEST_CASE("casskop jolokia codec: describeRingJMX datacenters matched as whole names") {
  const auto ring = parse_describe_ring(
      ok(R"x(["TokenRange(start_token:-9, end_token:-3, endpoints:[127.4.0.2], )x"
         R"x(rpc_endpoints:[127.4.0.2], endpoint_details:[EndpointDetails(host:127.4.0.2, )x"
         R"x(datacenter:dc10, rack:r1)])",)x"
         R"x("TokenRange(start_token:-3, end_token:5, endpoints:[127.4.0.3, 127.5.0.2], )x"
         R"x(rpc_endpoints:[127.4.0.3, 127.5.0.2], endpoint_details:[EndpointDetails()x"
         R"x(host:127.4.0.3, datacenter:dc10, rack:r1), EndpointDetails(host:127.5.0.2, )x"
         R"x(datacenter:dc2, rack:r1)])"])x"));
  REQUIRE(ring.ok());
  REQUIRE(ring.value->size() == 2);
  CHECK(ring.value->at(1).datacenters == std::vector<std::string>{"dc10", "dc2"});
  CHECK(replicates_to(*ring.value, "dc10"));
  CHECK(replicates_to(*ring.value, "dc2"));
  CHECK_FALSE(replicates_to(*ring.value, "dc1"));  // v2.1.0's regex would say yes
  CHECK_FALSE(replicates_to({}, "dc1"));
}

TEST_CASE("casskop jolokia codec: failures classified") {
  SUBCASE("transport failures pass through") {
    for (auto kind :
         {failure::refused, failure::timeout, failure::transport, failure::no_credentials}) {
      auto r = parse_operation_mode(transport_failure(kind));
      CHECK_FALSE(r.ok());
      CHECK(r.err.kind == kind);
    }
  }
  SUBCASE("HTTP 401 is the credentials") {
    auto r = parse_host_id_map(answer(401, "<html>Unauthorized</html>"));
    CHECK(r.err.kind == failure::unauthorized);
    CHECK(r.err.status == 401);
    CHECK(failure_name(r.err.kind) == "unauthorized");
  }
  SUBCASE("another HTTP status") {
    auto r = parse_exec(answer(503, "busy"));
    CHECK(r.err.kind == failure::http_status);
    CHECK(r.err.status == 503);
    CHECK(r.err.message.find("busy") != std::string::npos);
  }
  SUBCASE("Jolokia's error inside an HTTP 200") {
    auto r = parse_exec(answer(
        200,
        R"({"request":{},"error_type":"java.lang.UnsupportedOperationException",)"
        R"("error":"java.lang.UnsupportedOperationException : Node in LEAVING state; wait for status to become normal or restart",)"
        R"("status":500,"stacktrace":"..."})"));
    REQUIRE(r.err.kind == failure::jolokia_error);
    CHECK(r.err.status == 500);
    CHECK(r.err.error_type == "java.lang.UnsupportedOperationException");
    CHECK(r.err.message.find("Node in LEAVING state") != std::string::npos);
    CHECK(r.err.describe().rfind("jolokia_error 500 java.lang.UnsupportedOperationException: ",
                                 0) == 0);
  }
  SUBCASE("a Jolokia status other than 200 without a message") {
    auto r = parse_exec(answer(200, R"({"status":404})"));
    CHECK(r.err.kind == failure::jolokia_error);
    CHECK(r.err.status == 404);
  }
  SUBCASE("malformed answers") {
    CHECK(parse_exec(answer(200, "{not json")).err.kind == failure::malformed);
    CHECK(parse_exec(answer(200, "[1]")).err.kind == failure::malformed);
    CHECK(parse_exec(answer(200, R"({"value":1})")).err.kind == failure::malformed);
    CHECK(parse_exec(answer(200, R"({"value":1,"status":"200"})")).err.kind == failure::malformed);
    // A value of the wrong type is an error here (v2.1.0 reads it as "" or "nobody joining").
    CHECK(parse_operation_mode(ok("3")).err.kind == failure::malformed);
    CHECK(parse_operation_mode(ok("null")).err.message == "value is null, expected a string");
    CHECK(parse_string_list(ok("{}")).err.kind == failure::malformed);
    CHECK(parse_string_list(ok(R"(["a",1])")).err.kind == failure::malformed);
    CHECK(parse_host_id_map(ok("[]")).err.kind == failure::malformed);
    CHECK(parse_host_id_map(ok(R"({"127.0.0.1":5})")).err.kind == failure::malformed);
    CHECK(parse_describe_ring(ok(R"([{"x":1}])")).err.kind == failure::malformed);
    CHECK(parse_compaction_types(ok(R"(["Cleanup"])")).err.kind == failure::malformed);
    CHECK(parse_has_streams(ok("{}")).err.kind == failure::malformed);
    CHECK(parse_operation_mode(answer(200, R"({"status":200})")).err.message ==
          "value is missing, expected a string");
  }
}

TEST_CASE("casskop jolokia codec: local system keyspaces") {
  CHECK(is_local_system_keyspace("system"));
  CHECK(is_local_system_keyspace("system_schema"));
  CHECK_FALSE(is_local_system_keyspace("system_auth"));
}

TEST_CASE("casskop jolokia codec: credentials from the Secret's data") {
  std::string problem;
  auto c = credentials_from_secret(
      js::parse(R"({"data":{"username":"am9sb2tpYQ==","password":"czNjcjN0"}})"), problem);
  REQUIRE(c);
  CHECK(c->user == "jolokia");
  CHECK(c->password == "s3cr3t");
  CHECK_FALSE(
      credentials_from_secret(js::parse(R"({"data":{"username":"am9sb2tpYQ=="}})"), problem));
  CHECK(problem == "the Secret has no data.password");
  CHECK_FALSE(credentials_from_secret(
      js::parse(R"({"data":{"username":"@@","password":"czNjcjN0"}})"), problem));
  CHECK(problem == "data.username of the Secret is not base64");
  CHECK(problem.find("s3cr3t") == std::string::npos);
}
