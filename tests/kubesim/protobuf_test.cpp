// Kubernetes protobuf (application/vnd.kubernetes.protobuf) for the built-in kinds: the real
// kubectl's typed commands send their bodies in protobuf and prefer protobuf answers, as against
// a v1.32 API server; custom resources stay JSON-only (415 / 406). Expected texts are a real
// server's.
#include <doctest/doctest.h>

#include <map>
#include <string>

#include "k8s/json/base64.h"
#include "tests/support/kubesim_fixture.h"
#include "tools/kubesim/builtin_schema.h"
#include "tools/kubesim/protobuf_codec.h"

using namespace testsupport;
namespace js = k8s::json;
namespace pc = kubesim::protobuf_codec;

namespace {

constexpr const char* protobuf = "application/vnd.kubernetes.protobuf";

struct env {
  kubesim_instance sim;
  api_client c;
  env() : c(sim.client("k1")) {}
  run_result kubectl(const std::vector<std::string>& args, const std::string& in = "") {
    return sim.kubectl("k1", args, in);
  }
  js::Document get_json(const std::vector<std::string>& args) {
    std::vector<std::string> all = {"get"};
    all.insert(all.end(), args.begin(), args.end());
    all.insert(all.end(), {"-o", "json"});
    auto r = kubectl(all);
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    return js::parse(r.out);
  }
};

std::string at(const js::Value& doc, std::initializer_list<std::string_view> path) {
  const js::Value* v = js::find_path(doc, path);
  return v ? js::to_string(*v) : "<absent>";
}

// A length-delimited protobuf field, written by hand so that the test does not trust the codec
// it checks.
std::string field(int number, const std::string& bytes) {
  std::string out(1, static_cast<char>(number << 3 | 2));
  out += static_cast<char>(bytes.size());  // the test's messages stay under 128 bytes
  return out + bytes;
}

// What client-go's protobuf serializer sends for a Namespace named `name` (with a label).
std::string namespace_body(const std::string& name, const std::string& label = "") {
  std::string type_meta = field(1, "v1") + field(2, "Namespace");
  std::string labels = label.empty() ? "" : field(11, field(1, label) + field(2, "yes"));
  std::string ns = field(1, field(1, name) + labels);  // Namespace{metadata: ObjectMeta{name}}
  return std::string("k8s\0", 4) + field(1, type_meta) + field(2, ns) + field(3, "") + field(4, "");
}

// A protobuf varint at `pos` (advanced past it).
uint64_t read_varint(const std::string& b, size_t& pos) {
  uint64_t v = 0;
  for (int shift = 0; pos < b.size(); shift += 7) {
    auto c = static_cast<unsigned char>(b[pos++]);
    v |= static_cast<uint64_t>(c & 0x7f) << shift;
    if (!(c & 0x80)) break;
  }
  return v;
}

// The length-delimited fields of a message: number -> bytes (the last of each number).
std::map<int, std::string> read_message(const std::string& b) {
  std::map<int, std::string> out;
  size_t pos = 0;
  while (pos < b.size()) {
    uint64_t key = read_varint(b, pos);
    REQUIRE((key & 7) == 2);
    size_t n = read_varint(b, pos);
    REQUIRE(pos + n <= b.size());
    out[static_cast<int>(key >> 3)] = b.substr(pos, n);
    pos += n;
  }
  return out;
}

}  // namespace

TEST_CASE("protobuf: kubectl's typed create commands store the objects they describe") {
  env e;
  auto r = e.kubectl({"create", "namespace", "x"});
  CHECK_MESSAGE(r.exit_code == 0, r.err);
  CHECK(r.out == "namespace/x created\n");
  auto ns = e.get_json({"namespace", "x"});
  CHECK(at(ns, {"status", "phase"}) == R"("Active")");
  CHECK(js::get_string(ns, {"metadata", "uid"}).size() > 0);

  r = e.kubectl({"create", "configmap", "cm", "--from-literal=a=b", "--from-literal=c=d"});
  CHECK_MESSAGE(r.exit_code == 0, r.err);
  CHECK(at(e.get_json({"configmap", "cm"}), {"data"}) == R"({"a":"b","c":"d"})");

  r = e.kubectl({"create", "secret", "generic", "s", "--from-literal=k=v"});
  CHECK_MESSAGE(r.exit_code == 0, r.err);
  auto secret = e.get_json({"secret", "s"});
  CHECK(at(secret, {"data"}) == R"({"k":"dg=="})");  // base64("v"), from the bytes on the wire

  r = e.kubectl({"create", "serviceaccount", "robot"});
  CHECK_MESSAGE(r.exit_code == 0, r.err);
  CHECK(r.out == "serviceaccount/robot created\n");
  CHECK(at(e.get_json({"serviceaccount", "robot"}), {"metadata", "name"}) == R"("robot")");

  r = e.kubectl({"create", "deployment", "d", "--image=nginx", "--replicas=2", "--port=8080"});
  CHECK_MESSAGE(r.exit_code == 0, r.err);
  auto d = e.get_json({"deployment", "d"});
  CHECK(at(d, {"spec", "replicas"}) == "2");
  CHECK(at(d, {"spec", "selector", "matchLabels"}) == R"({"app":"d"})");
  const js::Value* containers = js::find_path(d, {"spec", "template", "spec", "containers"});
  REQUIRE(containers);
  REQUIRE(containers->Size() == 1);
  CHECK(at((*containers)[0], {"image"}) == R"("nginx")");
  const js::Value* container_ports = js::find((*containers)[0], "ports");
  REQUIRE(container_ports);
  CHECK(at((*container_ports)[0], {"containerPort"}) == "8080");

  r = e.kubectl({"create", "service", "clusterip", "web", "--tcp=80:8080"});
  CHECK_MESSAGE(r.exit_code == 0, r.err);
  auto svc = e.get_json({"service", "web"});
  const js::Value* ports = js::find_path(svc, {"spec", "ports"});
  REQUIRE(ports);
  REQUIRE(ports->Size() == 1);
  CHECK(at((*ports)[0], {"port"}) == "80");
  CHECK(at((*ports)[0], {"targetPort"}) == "8080");  // an IntOrString holding a number
  CHECK(at(svc, {"spec", "type"}) == R"("ClusterIP")");
}

TEST_CASE("protobuf: kubectl prints a protobuf Status error as on a real cluster") {
  env e;
  REQUIRE(e.kubectl({"create", "namespace", "x"}).exit_code == 0);
  auto again = e.kubectl({"create", "namespace", "x"});
  CHECK(again.exit_code == 1);
  CHECK(again.err == "Error from server (AlreadyExists): namespaces \"x\" already exists\n");
  auto cm = e.kubectl({"create", "configmap", "bad name"});
  CHECK(cm.exit_code == 1);
  CHECK(cm.err.find("error: failed to create configmap: ConfigMap \"bad name\" is invalid: "
                    "metadata.name: Invalid value: \"bad name\"") == 0);
}

TEST_CASE("protobuf: raw requests: the answer is an enveloped message, lists and errors too") {
  env e;
  auto r = e.c.request("POST", "/api/v1/namespaces", namespace_body("raw"), protobuf,
                       {{"Accept", "application/vnd.kubernetes.protobuf, */*"}});
  REQUIRE(r.status == 201);
  CHECK(r.headers["content-type"] == protobuf);
  REQUIRE(r.body.size() > 4);
  CHECK(r.body.substr(0, 4) == std::string("k8s\0", 4));
  auto env_of = pc::unwrap(r.body);
  CHECK(env_of.api_version == "v1");
  CHECK(env_of.kind == "Namespace");
  const auto* ns_message = kubesim::builtin_schema::model::get().root("", "v1", "Namespace");
  REQUIRE(ns_message);
  auto created = pc::decode(*ns_message, env_of.raw);
  CHECK(at(created, {"metadata", "name"}) == R"("raw")");
  CHECK(js::get_string(created, {"metadata", "uid"}).size() > 0);
  CHECK(js::get_string(created, {"metadata", "creationTimestamp"}).size() == 20);
  CHECK(at(created, {"status", "phase"}) == R"("Active")");
  // The metadata's name is field 1 of field 1 of the raw message: the bytes themselves.
  CHECK(env_of.raw.find(field(1, "raw")) != std::string::npos);

  // An update in protobuf (PUT) goes the same way.
  r = e.c.request("PUT", "/api/v1/namespaces/raw", namespace_body("raw", "team"), protobuf);
  REQUIRE(r.status == 200);
  CHECK(r.headers["content-type"] == "application/json");  // no Accept: JSON

  // JSON stays the answer for a client that prefers it.
  r = e.c.request("GET", "/api/v1/namespaces/raw", "", "", {{"Accept", "application/json, */*"}});
  CHECK(r.headers["content-type"] == "application/json");
  CHECK(js::get_string(r.json(), {"metadata", "name"}) == "raw");
  CHECK(js::get_string(r.json(), {"metadata", "labels", "team"}) == "yes");

  r = e.c.request("GET", "/api/v1/namespaces", "", "", {{"Accept", protobuf}});
  REQUIRE(r.status == 200);
  auto list = pc::unwrap(r.body);
  CHECK(list.kind == "NamespaceList");
  auto items =
      pc::decode(*kubesim::builtin_schema::model::get().root("", "v1", "NamespaceList"), list.raw);
  CHECK(js::to_string(items).find(R"("name":"raw")") != std::string::npos);

  r = e.c.request("POST", "/api/v1/namespaces", namespace_body("raw"), protobuf,
                  {{"Accept", protobuf}});
  CHECK(r.status == 409);
  auto status = pc::unwrap(r.body);
  CHECK(status.api_version == "v1");
  CHECK(status.kind == "Status");
  auto st = pc::decode(*kubesim::builtin_schema::model::get().root("meta.k8s.io", "v1", "Status"),
                       status.raw);
  CHECK(at(st, {"reason"}) == R"("AlreadyExists")");
  CHECK(at(st, {"code"}) == "409");
  CHECK(at(st, {"message"}) == R"("namespaces \"raw\" already exists")");
}

TEST_CASE("protobuf: malformed bodies are a 400, custom resources a 415 or 406") {
  env e;
  auto r = e.c.request("POST", "/api/v1/namespaces", R"({"metadata":{"name":"j"}})", protobuf);
  CHECK(r.status == 400);
  CHECK(js::get_string(r.json(), "message") ==
        "the object provided is unrecognized (must be of type Namespace): provided data does not "
        "appear to be a protobuf message, expected prefix [107 56 115 0] ({\"metadata\":{\"name\":"
        "\"j\"}})");
  r = e.c.request("POST", "/api/v1/namespaces",
                  // Namespace{metadata: 9 bytes announced, 2 sent}
                  std::string("k8s\0", 4) + field(1, field(1, "v1") + field(2, "Namespace")) +
                      field(2, std::string("\x0a\x09\x0a\x03", 4)),
                  protobuf);
  CHECK(r.status == 400);
  CHECK(js::get_string(r.json(), "message") ==
        "Namespace in version \"v1\" cannot be handled as a Namespace: unexpected EOF");

  REQUIRE(e.kubectl({"apply", "-f", "-"}, cassandracluster_crd_yaml()).exit_code == 0);
  const std::string crd_path = "/apis/db.orange.com/v2/namespaces/default/cassandraclusters";
  REQUIRE(eventually([&] { return e.c.get(crd_path).status == 200; }));
  r = e.c.request("POST", crd_path, namespace_body("cc"), protobuf);
  CHECK(r.status == 415);
  CHECK(js::get_string(r.json(), "message") ==
        "the body of the request was in an unknown format - accepted media types include: "
        "application/json, application/yaml");
  r = e.c.request("GET", crd_path, "", "", {{"Accept", protobuf}});
  CHECK(r.status == 406);
  CHECK(js::get_string(r.json(), "message") ==
        "only the following media types are accepted: application/json, application/yaml");
  // kubectl's typed clients also accept JSON: a custom resource answers in JSON.
  r = e.c.request("GET", crd_path, "", "",
                  {{"Accept", "application/vnd.kubernetes.protobuf, */*"}});
  CHECK(r.status == 200);
  CHECK(r.headers["content-type"] == "application/json");
}

TEST_CASE("protobuf: a watch in protobuf is length-prefixed WatchEvent frames") {
  env e;
  auto r = e.c.request("POST", "/api/v1/namespaces", namespace_body("w"), protobuf);
  REQUIRE(r.status == 201);
  // The stream ends after timeoutSeconds; its whole body is the frames of the initial events.
  r = e.c.request(
      "GET", "/api/v1/namespaces?watch=true&fieldSelector=metadata.name%3Dw&timeoutSeconds=1", "",
      "", {{"Accept", "application/vnd.kubernetes.protobuf;stream=watch, application/json"}});
  REQUIRE(r.status == 200);
  CHECK(r.headers["content-type"] == "application/vnd.kubernetes.protobuf;stream=watch");
  REQUIRE(r.body.size() > 4);
  const auto& b = r.body;
  size_t n = static_cast<size_t>(static_cast<unsigned char>(b[0])) << 24 |
             static_cast<size_t>(static_cast<unsigned char>(b[1])) << 16 |
             static_cast<size_t>(static_cast<unsigned char>(b[2])) << 8 |
             static_cast<size_t>(static_cast<unsigned char>(b[3]));
  REQUIRE(b.size() == 4 + n);                 // one event: the namespace, ADDED
  auto event = read_message(b.substr(4, n));  // metav1.WatchEvent{type = 1, object = 2}
  CHECK(event[1] == "ADDED");
  auto raw = read_message(event[2])[1];  // runtime.RawExtension{raw = 1}
  auto object = pc::unwrap(raw);
  CHECK(object.kind == "Namespace");
  auto ns =
      pc::decode(*kubesim::builtin_schema::model::get().root("", "v1", "Namespace"), object.raw);
  CHECK(at(ns, {"metadata", "name"}) == R"("w")");
}
