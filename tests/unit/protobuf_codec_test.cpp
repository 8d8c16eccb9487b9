// kubesim's protobuf codec of the built-in kinds: JSON -> Kubernetes protobuf -> JSON keeps every
// value in its Kubernetes JSON form, and the wire bytes are gogo-protobuf's.
#include "tools/kubesim/protobuf_codec.h"

#include <doctest/doctest.h>

#include <string>

#include "k8s/json/json.h"

namespace {

namespace js = k8s::json;
namespace pc = kubesim::protobuf_codec;
namespace bs = kubesim::builtin_schema;

// JSON -> enveloped protobuf -> JSON, as a client's create and the server's answer would go.
js::Document round_trip(const std::string& json) {
  js::Document in = js::parse(json);
  auto wire = pc::encode_object(in);
  REQUIRE(wire);
  CHECK(wire->substr(0, 4) == std::string("k8s\0", 4));
  auto [group, version] = [&]() -> std::pair<std::string, std::string> {
    std::string av(js::get_string(in, "apiVersion"));
    auto slash = av.find('/');
    if (slash == std::string::npos) return {"", av};
    return {av.substr(0, slash), av.substr(slash + 1)};
  }();
  return pc::decode_protobuf_body(*wire, group, version, js::get_string(in, "kind"));
}

std::string at(const js::Value& doc, std::initializer_list<std::string_view> path) {
  const js::Value* v = js::find_path(doc, path);
  return v ? js::to_string(*v) : "<absent>";
}

const js::Value& item(const js::Value& doc, std::initializer_list<std::string_view> path,
                      size_t i) {
  const js::Value* v = js::find_path(doc, path);
  REQUIRE(v);
  REQUIRE(v->IsArray());
  REQUIRE(v->Size() > i);
  return (*v)[static_cast<rapidjson::SizeType>(i)];
}

}  // namespace

TEST_CASE("protobuf codec: a StatefulSet keeps its Quantities, IntOrStrings, Times and FieldsV1") {
  auto out = round_trip(R"({
    "apiVersion": "apps/v1", "kind": "StatefulSet",
    "metadata": {"name": "db", "namespace": "ns", "uid": "u-1", "resourceVersion": "12",
      "generation": 3, "creationTimestamp": "2024-01-02T03:04:05Z",
      "labels": {"b": "2", "a": "1"},
      "managedFields": [{"manager": "kubectl", "operation": "Update", "apiVersion": "apps/v1",
        "time": "2024-01-02T03:04:05Z", "fieldsType": "FieldsV1",
        "fieldsV1": {"f:spec": {"f:replicas": {}}}}]},
    "spec": {"replicas": 3, "serviceName": "db",
      "selector": {"matchLabels": {"app": "db"}},
      "updateStrategy": {"type": "RollingUpdate",
        "rollingUpdate": {"partition": 0, "maxUnavailable": "50%"}},
      "template": {"metadata": {"labels": {"app": "db"}},
        "spec": {"terminationGracePeriodSeconds": 30,
          "containers": [{"name": "c", "image": "cassandra:4",
            "ports": [{"containerPort": 9042, "protocol": "TCP"}],
            "resources": {"limits": {"cpu": "500m", "memory": "1Gi"},
                          "requests": {"cpu": "250m"}},
            "readinessProbe": {"httpGet": {"path": "/ready", "port": 8080}, "periodSeconds": 5},
            "livenessProbe": {"tcpSocket": {"port": "cql"}}}],
          "volumes": [{"name": "cfg", "configMap": {"name": "cm", "defaultMode": 420}}]}},
      "volumeClaimTemplates": [{"metadata": {"name": "data"},
        "spec": {"accessModes": ["ReadWriteOnce"],
                 "resources": {"requests": {"storage": "10Gi"}}}}]},
    "status": {"replicas": 3, "readyReplicas": -1, "observedGeneration": 3}})");
  CHECK(at(out, {"apiVersion"}) == R"("apps/v1")");
  CHECK(at(out, {"kind"}) == R"("StatefulSet")");
  CHECK(at(out, {"metadata", "name"}) == R"("db")");
  CHECK(at(out, {"metadata", "generation"}) == "3");
  CHECK(at(out, {"metadata", "creationTimestamp"}) == R"("2024-01-02T03:04:05Z")");
  // Go's encoding/json sorts map keys.
  CHECK(at(out, {"metadata", "labels"}) == R"({"a":"1","b":"2"})");
  const auto& mf = item(out, {"metadata", "managedFields"}, 0);
  CHECK(at(mf, {"time"}) == R"("2024-01-02T03:04:05Z")");
  CHECK(at(mf, {"fieldsV1"}) == R"({"f:spec":{"f:replicas":{}}})");
  CHECK(at(out, {"spec", "replicas"}) == "3");
  CHECK(at(out, {"spec", "updateStrategy", "rollingUpdate", "maxUnavailable"}) == R"("50%")");
  CHECK(at(out, {"spec", "updateStrategy", "rollingUpdate", "partition"}) == "0");
  const auto& c = item(out, {"spec", "template", "spec", "containers"}, 0);
  CHECK(at(c, {"resources", "limits"}) == R"({"cpu":"500m","memory":"1Gi"})");
  CHECK(at(c, {"readinessProbe", "httpGet", "port"}) == "8080");
  CHECK(at(c, {"livenessProbe", "tcpSocket", "port"}) == R"("cql")");
  CHECK(at(c, {"ports"}) == R"([{"containerPort":9042,"protocol":"TCP"}])");
  // VolumeSource is inline in JSON, its own message on the wire.
  const auto& vol = item(out, {"spec", "template", "spec", "volumes"}, 0);
  CHECK(at(vol, {"configMap"}) == R"({"name":"cm","defaultMode":420})");
  const auto& pvc = item(out, {"spec", "volumeClaimTemplates"}, 0);
  CHECK(at(pvc, {"spec", "resources", "requests", "storage"}) == R"("10Gi")");
  // A negative int32 survives its sign-extended varint.
  CHECK(at(out, {"status", "readyReplicas"}) == "-1");
  // Go's zero values: a zero metav1.Time in a template is null, an unset pointer is omitted,
  // a non-pointer struct is there even when empty.
  CHECK(at(out, {"spec", "template", "metadata", "creationTimestamp"}) == "null");
  CHECK(at(out, {"metadata", "deletionTimestamp"}) == "<absent>");
  CHECK(at(out, {"spec", "minReadySeconds"}) == "<absent>");
  // A second trip is the identity.
  auto again = round_trip(js::to_string(out));
  CHECK(js::to_string(again) == js::to_string(out));
}

TEST_CASE("protobuf codec: Secret data is bytes on the wire and base64 in JSON") {
  auto out = round_trip(R"({"apiVersion":"v1","kind":"Secret","metadata":{"name":"s"},
    "type":"Opaque","data":{"k":"dg==","empty":""},"stringData":{"x":"y"}})");
  CHECK(at(out, {"data"}) == R"({"empty":"","k":"dg=="})");
  CHECK(at(out, {"stringData"}) == R"({"x":"y"})");
  CHECK(at(out, {"type"}) == R"("Opaque")");
  // The message itself holds the raw bytes: map entry {key "k", value "v"}.
  const bs::message* secret = bs::model::get().root("", "v1", "Secret");
  REQUIRE(secret);
  std::string wire = pc::encode(*secret, js::parse(R"({"data":{"k":"dg=="}})"));
  CHECK(wire.find(std::string("\x0a\x01k\x12\x01v", 6)) != std::string::npos);
}

TEST_CASE("protobuf codec: a Service's targetPort is a number or a name") {
  auto out = round_trip(R"({"apiVersion":"v1","kind":"Service","metadata":{"name":"svc"},
    "spec":{"type":"ClusterIP","clusterIP":"10.0.0.1","ports":[
      {"name":"http","port":80,"targetPort":8080,"protocol":"TCP"},
      {"name":"cql","port":9042,"targetPort":"cql","protocol":"TCP"}]}})");
  CHECK(at(item(out, {"spec", "ports"}, 0), {"targetPort"}) == "8080");
  CHECK(at(item(out, {"spec", "ports"}, 1), {"targetPort"}) == R"("cql")");
  CHECK(at(item(out, {"spec", "ports"}, 1), {"port"}) == "9042");
  CHECK(at(out, {"spec", "clusterIP"}) == R"("10.0.0.1")");
}

TEST_CASE("protobuf codec: MicroTime, RawExtension, lists and Status") {
  auto lease = round_trip(R"({"apiVersion":"coordination.k8s.io/v1","kind":"Lease",
    "metadata":{"name":"l"},"spec":{"holderIdentity":"me","renewTime":"2024-01-02T03:04:05.123456Z",
    "leaseDurationSeconds":15}})");
  CHECK(at(lease, {"spec", "renewTime"}) == R"("2024-01-02T03:04:05.123456Z")");
  auto rev = round_trip(R"({"apiVersion":"apps/v1","kind":"ControllerRevision",
    "metadata":{"name":"r"},"revision":2,"data":{"spec":{"template":{"x":[1,2]}}}})");
  CHECK(at(rev, {"data"}) == R"({"spec":{"template":{"x":[1,2]}}})");
  CHECK(at(rev, {"revision"}) == "2");
  auto list = round_trip(R"({"apiVersion":"v1","kind":"NamespaceList",
    "metadata":{"resourceVersion":"7","continue":"abc"},
    "items":[{"metadata":{"name":"a"}},{"metadata":{"name":"b"}}]})");
  CHECK(at(list, {"metadata", "resourceVersion"}) == R"("7")");
  CHECK(at(item(list, {"items"}, 1), {"metadata", "name"}) == R"("b")");
  auto status = round_trip(R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",
    "message":"namespaces \"x\" already exists","reason":"AlreadyExists",
    "details":{"name":"x","kind":"namespaces"},"code":409})");
  CHECK(at(status, {"code"}) == "409");
  CHECK(at(status, {"reason"}) == R"("AlreadyExists")");
  CHECK(at(status, {"details", "name"}) == R"("x")");
}

TEST_CASE("protobuf codec: authorization and authentication reviews decode") {
  auto sar = round_trip(R"({"apiVersion":"authorization.k8s.io/v1","kind":"SelfSubjectAccessReview",
    "spec":{"resourceAttributes":{"namespace":"ns","verb":"create","resource":"pods"}}})");
  CHECK(at(sar, {"spec", "resourceAttributes", "verb"}) == R"("create")");
  CHECK(at(sar, {"spec", "resourceAttributes", "namespace"}) == R"("ns")");
  auto rules =
      round_trip(R"({"apiVersion":"authorization.k8s.io/v1","kind":"SelfSubjectRulesReview",
    "spec":{"namespace":"ns"}})");
  CHECK(at(rules, {"spec", "namespace"}) == R"("ns")");
  auto ssr = round_trip(R"({"apiVersion":"authentication.k8s.io/v1","kind":"SelfSubjectReview",
    "status":{"userInfo":{"username":"u","groups":["g"],"extra":{"k":["v1","v2"]}}}})");
  CHECK(at(ssr, {"status", "userInfo", "extra"}) == R"({"k":["v1","v2"]})");
}

TEST_CASE("protobuf codec: malformed bodies fail with the real decoder's words") {
  CHECK_THROWS_WITH_AS(pc::decode_protobuf_body("{}", "", "v1", "Namespace"),
                       "the object provided is unrecognized (must be of type Namespace): provided "
                       "data does not appear to be a protobuf message, expected prefix [107 56 "
                       "115 0] ({})",
                       pc::decode_error);
  // The envelope holds a raw Namespace whose first field's length runs past the end.
  std::string body = pc::wrap("v1", "Namespace", std::string("\x0a\x05\x0a\x09x", 5));
  CHECK_THROWS_WITH_AS(
      pc::decode_protobuf_body(body, "", "v1", "Namespace"),
      "Namespace in version \"v1\" cannot be handled as a Namespace: unexpected EOF",
      pc::decode_error);
  std::string wrong_wire = pc::wrap("v1", "Namespace", std::string("\x0a\x02\x08\x01", 4));
  CHECK_THROWS_WITH_AS(pc::decode_protobuf_body(wrong_wire, "", "v1", "Namespace"),
                       "Namespace in version \"v1\" cannot be handled as a Namespace: proto: wrong "
                       "wireType = 0 for field Name",
                       pc::decode_error);
}

TEST_CASE("protobuf codec: Accept negotiation") {
  CHECK(pc::negotiate_protobuf("application/vnd.kubernetes.protobuf, */*", true) == true);
  CHECK(pc::negotiate_protobuf("application/vnd.kubernetes.protobuf, */*", false) == false);
  CHECK(pc::negotiate_protobuf("application/json, application/vnd.kubernetes.protobuf", true) ==
        false);
  CHECK(pc::negotiate_protobuf("application/json;q=0.5, application/vnd.kubernetes.protobuf",
                               true) == true);
  CHECK(pc::negotiate_protobuf("", true) == false);
  CHECK_FALSE(pc::negotiate_protobuf("application/vnd.kubernetes.protobuf", false).has_value());
  CHECK_FALSE(pc::negotiate_protobuf("text/html", true).has_value());
}

TEST_CASE("protobuf codec: a TokenRequest (serviceaccounts/token) decodes") {
  auto tr = round_trip(R"({"apiVersion":"authentication.k8s.io/v1","kind":"TokenRequest",
    "metadata":{"name":"default"},"spec":{"audiences":["https://kubernetes.default.svc"],
    "expirationSeconds":3600,"boundObjectRef":{"kind":"Pod","apiVersion":"v1","name":"p"}},
    "status":{"token":"abc","expirationTimestamp":"2024-01-02T04:04:05Z"}})");
  CHECK(at(tr, {"spec", "audiences"}) == R"(["https://kubernetes.default.svc"])");
  CHECK(at(tr, {"spec", "expirationSeconds"}) == "3600");
  CHECK(at(tr, {"spec", "boundObjectRef", "name"}) == R"("p")");
  CHECK(at(tr, {"status", "expirationTimestamp"}) == R"("2024-01-02T04:04:05Z")");
}

TEST_CASE("protobuf codec: DeleteOptions in any group version") {
  auto out = round_trip(R"({"apiVersion":"apps/v1","kind":"DeleteOptions",
    "propagationPolicy":"Foreground","preconditions":{"uid":"u"},"dryRun":["All"]})");
  CHECK(at(out, {"propagationPolicy"}) == R"("Foreground")");
  CHECK(at(out, {"preconditions", "uid"}) == R"("u")");
  CHECK(at(out, {"dryRun"}) == R"(["All"])");
}
