// Custom resources under a CRD's structural schema, as kube-apiserver v1.32 treats them: pruning,
// defaulting, validation with its exact messages and ratcheting, and the checks of a CRD's schema.
// Expected texts are those of the real server (apiextensions-apiserver v0.32.4, kube-openapi
// 32ad38e42d3f, apimachinery v0.32.4 field.Error).
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "k8s/json/yaml_json.h"
#include "tools/kubesim/api_error.h"
#include "tools/kubesim/crd_schema.h"
#include "tools/kubesim/field_errors.h"
#include "tools/kubesim/object_meta.h"
#include "tools/kubesim/resource_types.h"

using namespace kubesim;
namespace js = k8s::json;

namespace {

js::Document yaml(const std::string& text) {
  return js::yaml_to_json(text);
}

crd::structural_schema schema(const std::string& yaml_text) {
  return crd::structural_schema(yaml(yaml_text));
}

// "message" per line, or "reason|field|message" with `full`.
std::string lines(const std::vector<status_cause>& causes, bool full = false) {
  std::string out;
  for (const auto& c : causes)
    out += (full ? c.reason + "|" + c.field + "|" : "") + c.message + "\n";
  return out;
}

std::string joined(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += s + "\n";
  return out;
}

// A schema shaped like the CassandraCluster CRD's, with every keyword the tests need.
const char* const cluster_schema = R"(
type: object
properties:
  apiVersion: {type: string}
  kind: {type: string}
  metadata: {type: object}
  spec:
    type: object
    properties:
      nodesPerRacks: {type: integer, format: int32}
      runAsUser: {type: integer, format: int64, minimum: 1, default: 999}
      serverType: {type: string, enum: [cassandra, dse], default: cassandra}
      name: {type: string, minLength: 3, maxLength: 5}
      ratio: {type: number, maximum: 1.5, exclusiveMaximum: true, multipleOf: 0.5}
      count: {type: integer, minimum: 0, exclusiveMinimum: true, maximum: 10, multipleOf: 2}
      started: {type: string, format: date-time}
      secret: {type: string, format: byte}
      id: {type: string, format: uuid}
      quantity:
        x-kubernetes-int-or-string: true
        anyOf: [{type: integer}, {type: string}]
        pattern: ^[0-9]+[a-zA-Z]*$
      nullableText: {type: string, nullable: true}
      labels:
        type: object
        additionalProperties: {type: string, maxLength: 3}
      config:
        x-kubernetes-preserve-unknown-fields: true
      topology:
        type: object
        properties:
          dc:
            type: array
            items:
              type: object
              properties:
                name: {type: string, pattern: '^[^-]+$'}
                nodes: {type: integer, default: 1}
      storageConfigs:
        type: array
        minItems: 1
        maxItems: 2
        items:
          type: object
          required: [mountPath, name]
          properties:
            mountPath: {type: string}
            name: {type: string}
      options:
        type: object
        minProperties: 1
        maxProperties: 2
        additionalProperties: {type: boolean}
      tags:
        type: array
        x-kubernetes-list-type: set
        items: {type: string}
      ports:
        type: array
        x-kubernetes-list-type: map
        x-kubernetes-list-map-keys: [name]
        items:
          type: object
          required: [name]
          properties:
            name: {type: string}
            port: {type: integer, maximum: 65535}
      template:
        type: object
        x-kubernetes-embedded-resource: true
        properties:
          spec: {type: object, properties: {image: {type: string}}}
  status:
    type: object
    properties:
      phase: {type: string, enum: [Running, Pending]}
      conditions:
        type: array
        x-kubernetes-list-type: map
        x-kubernetes-list-map-keys: [type]
        items:
          type: object
          required: [type, status]
          properties:
            type: {type: string}
            status: {type: string}
)";

js::Document object(const std::string& spec_json, const std::string& rest = "") {
  return js::parse(
      R"({"apiVersion":"db.orange.com/v2","kind":"CassandraCluster","metadata":{"name":"c"},"spec":)" +
      spec_json + rest + "}");
}

std::string validate(const std::string& spec_json) {
  auto obj = object(spec_json);
  return lines(schema(cluster_schema).validate(obj));
}

}  // namespace

TEST_CASE("crd schema: field errors render as field.Error does in v1.32") {
  CHECK(field::go_quote("a\"b\\c\n\x01é") == R"("a\"b\\c\n\x01é")");
  CHECK(field::go_float(1) == "1");
  CHECK(field::go_float(1.5) == "1.5");
  CHECK(field::go_float(1e6) == "1e+06");
  CHECK(field::go_float(123456) == "123456");
  CHECK(field::go_float(0.00001) == "1e-05");
  CHECK(field::go_float(-0.25) == "-0.25");
  CHECK(field::go_value(js::parse(R"({"b":[1,"x"],"a":null})")) ==
        R"(map[string]interface {}{"a":interface {}(nil), "b":[]interface {}{1, "x"}})");
  CHECK(field::go_value(js::parse("null")) == R"("null")");
  CHECK(lines({field::required("spec.a"), field::too_long("metadata.annotations", 262144),
               field::too_many("spec.l", 3, 2), field::not_supported("spec.e", "\"x\"", {"a", "b"}),
               field::duplicate("spec.s[1]", "\"a\""), field::forbidden("spec.f", "no")},
              true) ==
        "FieldValueRequired|spec.a|spec.a: Required value\n"
        "FieldValueTooLong|metadata.annotations|metadata.annotations: Too long: may not be more "
        "than 262144 bytes\n"
        "FieldValueTooMany|spec.l|spec.l: Too many: 3: must have at most 2 items\n"
        "FieldValueNotSupported|spec.e|spec.e: Unsupported value: \"x\": supported values: \"a\", "
        "\"b\"\n"
        "FieldValueDuplicate|spec.s[1]|spec.s[1]: Duplicate value: \"a\"\n"
        "FieldValueForbidden|spec.f|spec.f: Forbidden: no\n");
  // apierrors.NewInvalid: one cause as is, several in brackets, repeated messages once.
  auto one = invalid("CassandraCluster", "db.orange.com", "x", {field::required("spec.a")});
  CHECK(std::string(one.what()) ==
        R"(CassandraCluster.db.orange.com "x" is invalid: spec.a: Required value)");
  auto many =
      invalid("CassandraCluster", "db.orange.com", "x",
              {field::required("spec.a"), field::required("spec.b"), field::required("spec.a")});
  CHECK(
      std::string(many.what()) ==
      R"(CassandraCluster.db.orange.com "x" is invalid: [spec.a: Required value, spec.b: Required value])");
  REQUIRE(many.causes.size() == 3);
  CHECK(many.causes[1].message == "Required value");
  CHECK(many.causes[1].field == "spec.b");
}

TEST_CASE("crd schema: pruning drops unknown fields and reports their sorted paths") {
  auto s = schema(cluster_schema);
  auto obj = object(
      R"({"nodesPerRacks":3,"zeta":1,"alpha":{"x":1},"topology":{"dc":[{"name":"a","rack":[]}]},
                        "storageConfigs":[{"mountPath":"/m","name":"n","extra":true}]})",
      R"(,"extra":1,"status":{"phase":"Running","foo":2})");
  auto unknown = s.prune(obj, obj.GetAllocator());
  CHECK(joined(unknown) ==
        "extra\nspec.alpha\nspec.storageConfigs[0].extra\nspec.topology.dc[0].rack\nspec."
        "zeta\nstatus.foo\n");
  CHECK(
      js::to_string(obj) ==
      R"({"apiVersion":"db.orange.com/v2","kind":"CassandraCluster","metadata":{"name":"c"},"spec":{"nodesPerRacks":3,)"
      R"("topology":{"dc":[{"name":"a"}]},"storageConfigs":[{"mountPath":"/m","name":"n"}]},"status":{"phase":"Running"}})");
  // Pruning twice changes nothing more.
  CHECK(s.prune(obj, obj.GetAllocator()).empty());
}

TEST_CASE(
    "crd schema: x-kubernetes-preserve-unknown-fields keeps unknown fields and still prunes typed "
    "ones") {
  auto s = schema(R"(
type: object
properties:
  spec:
    type: object
    x-kubernetes-preserve-unknown-fields: true
    properties:
      typed:
        type: object
        properties: {a: {type: string}}
      free:
        x-kubernetes-preserve-unknown-fields: true
)");
  auto obj = js::parse(
      R"({"spec":{"kept":{"deep":[1,{"x":2}]},"typed":{"a":"1","b":2},"free":{"any":{"thing":1}}}})");
  CHECK(joined(s.prune(obj, obj.GetAllocator())) == "spec.typed.b\n");
  CHECK(js::to_string(obj) ==
        R"({"spec":{"kept":{"deep":[1,{"x":2}]},"typed":{"a":"1"},"free":{"any":{"thing":1}}}})");
  // A root preserving unknown fields (the test CRDs' schema) keeps everything.
  auto loose = schema("{type: object, x-kubernetes-preserve-unknown-fields: true}");
  auto any = js::parse(R"({"spec":{"a":1},"other":[true]})");
  CHECK(loose.prune(any, any.GetAllocator()).empty());
  CHECK(js::to_string(any) == R"({"spec":{"a":1},"other":[true]})");
}

TEST_CASE(
    "crd schema: the root metadata is an ObjectMeta and embedded resources keep their type and "
    "meta") {
  auto s = schema(cluster_schema);
  auto obj = js::parse(R"({"apiVersion":"db.orange.com/v2","kind":"CassandraCluster",
      "metadata":{"name":"c","foo":"bar","labels":{},"finalizers":[],"generation":0,
                  "ownerReferences":[{"apiVersion":"v1","kind":"ConfigMap","name":"o","junk":1}],
                  "namespace":"n","uid":"u","resourceVersion":"1","generateName":"g","annotations":{"k":"v"},
                  "deletionTimestamp":"2024-01-01T00:00:00Z","creationTimestamp":"2024-01-01T00:00:00Z"},
      "spec":{"template":{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","bogus":1,"labels":{"a":"b"}},
                          "spec":{"image":"x","other":1},"extra":2}},
      "x":1})");
  auto unknown = s.prune(obj, obj.GetAllocator());
  // ObjectMeta's unknown fields first (as decoded), then the pruned ones, then embedded metadata's.
  CHECK(joined(unknown) ==
        "metadata.foo\nmetadata.ownerReferences[0].junk\nspec.template.extra\n"
        "spec.template.spec.other\nx\nspec.template.metadata.bogus\n");
  // Empty fields are omitted, as json.Marshal of ObjectMeta does; an owner reference gets its uid.
  CHECK(
      js::to_string(obj["metadata"]) ==
      R"({"name":"c","ownerReferences":[{"apiVersion":"v1","kind":"ConfigMap","name":"o","uid":""}],)"
      R"("namespace":"n","uid":"u","resourceVersion":"1","generateName":"g","annotations":{"k":"v"},)"
      R"("deletionTimestamp":"2024-01-01T00:00:00Z","creationTimestamp":"2024-01-01T00:00:00Z"})");
  CHECK(
      js::to_string(*js::find_path(obj, {"spec", "template"})) ==
      R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","labels":{"a":"b"}},"spec":{"image":"x"}})");
}

TEST_CASE("crd schema: a malformed ObjectMeta or embedded kind cannot be decoded") {
  auto s = schema(cluster_schema);
  auto labels = object("{}");
  // Copied into the object's allocator: a moved temporary Document's members die with it.
  auto bad_labels = js::parse(R"({"a":1})");
  labels["metadata"].AddMember("labels", js::Value(bad_labels, labels.GetAllocator()),
                               labels.GetAllocator());
  CHECK_THROWS_WITH_AS(
      s.prune(labels, labels.GetAllocator()),
      "json: cannot unmarshal number into Go struct field ObjectMeta.labels of type string",
      crd::decode_error);
  auto name = js::parse(R"({"metadata":{"name":["x"]}})");
  CHECK_THROWS_WITH_AS(
      s.prune(name, name.GetAllocator()),
      "json: cannot unmarshal array into Go struct field ObjectMeta.name of type string",
      crd::decode_error);
  auto kind = object(R"({"template":{"apiVersion":"v1","kind":3}})");
  CHECK_THROWS_WITH_AS(s.prune(kind, kind.GetAllocator()),
                       "spec.template.kind: Invalid value: 3: must be a string", crd::decode_error);
}

TEST_CASE(
    "crd schema: nulls of non-nullable fields without default are dropped before defaulting") {
  auto s = schema(cluster_schema);
  auto obj =
      object(R"({"nodesPerRacks":null,"nullableText":null,"serverType":null,"labels":{"a":null},
                        "topology":{"dc":[null]}})");
  CHECK(s.prune(obj, obj.GetAllocator()).empty());
  CHECK(js::to_string(obj["spec"]) ==
        R"({"nullableText":null,"serverType":null,"labels":{},"topology":{"dc":[null]}})");
  s.apply_defaults(obj, obj.GetAllocator());
  // A null with a default is defaulted; a null list item stays (and fails validation).
  CHECK(
      js::to_string(obj["spec"]) ==
      R"({"nullableText":null,"serverType":"cassandra","labels":{},"topology":{"dc":[null]},"runAsUser":999})");
  CHECK(lines(s.validate(obj)) ==
        "spec.topology.dc[0]: Invalid value: \"null\": spec.topology.dc[0] in body must be of type "
        "object: \"null\"\n");
}

TEST_CASE("crd schema: defaults fill absent fields of existing objects, nested and in list items") {
  auto s = schema(cluster_schema);
  auto obj = object(R"({"runAsUser":5,"topology":{"dc":[{"name":"a"},{"name":"b","nodes":3}]}})");
  s.apply_defaults(obj, obj.GetAllocator());
  CHECK(
      js::to_string(obj["spec"]) ==
      R"({"runAsUser":5,"topology":{"dc":[{"name":"a","nodes":1},{"name":"b","nodes":3}]},"serverType":"cassandra"})");
  // No parent object, no default: a missing spec stays missing.
  auto bare = js::parse(R"({"metadata":{"name":"c"}})");
  s.apply_defaults(bare, bare.GetAllocator());
  CHECK(js::to_string(bare) == R"({"metadata":{"name":"c"}})");
  // Defaults inside a defaulted object are applied too.
  auto nested = schema(R"(
type: object
properties:
  spec:
    type: object
    default: {}
    properties:
      a: {type: integer, default: 1}
)");
  auto empty = js::parse("{}");
  nested.apply_defaults(empty, empty.GetAllocator());
  CHECK(js::to_string(empty) == R"({"spec":{"a":1}})");
}

TEST_CASE("crd schema: type, enum, number and string errors carry kube-openapi's messages") {
  CHECK(validate(R"({"nodesPerRacks":"string"})") ==
        "spec.nodesPerRacks: Invalid value: \"string\": spec.nodesPerRacks in body must be of type "
        "integer: \"string\"\n");
  CHECK(validate(R"({"nodesPerRacks":1.0,"ratio":0.5,"count":4})") == "");  // 1.0 is an integer
  // An integer is compared with int64(bound), as MinimumNativeType/MaximumNativeType do: 1 < 1.5
  // fails.
  CHECK(validate(R"({"ratio":1,"count":4})").find("spec.ratio in body should be less than 1") !=
        std::string::npos);
  CHECK(validate(R"({"nodesPerRacks":1.5})") ==
        "spec.nodesPerRacks: Invalid value: \"number\": spec.nodesPerRacks in body must be of type "
        "integer: \"number\"\n");
  CHECK(validate(R"({"nodesPerRacks":4294967296})") == "");  // int32 is not checked by CRDs
  CHECK(validate(R"({"serverType":"foo"})") ==
        "spec.serverType: Unsupported value: \"foo\": supported values: \"cassandra\", \"dse\"\n");
  CHECK(validate(R"({"runAsUser":0})") ==
        "spec.runAsUser: Invalid value: 0: spec.runAsUser in body should be greater than or equal "
        "to 1\n");
  CHECK(validate(R"({"count":0})") ==
        "spec.count: Invalid value: 0: spec.count in body should be greater than 0\n");
  CHECK(validate(R"({"count":12})") ==
        "spec.count: Invalid value: 12: spec.count in body should be less than or equal to 10\n");
  CHECK(validate(R"({"count":3})") ==
        "spec.count: Invalid value: 3: spec.count in body should be a multiple of 2\n");
  CHECK(validate(R"({"ratio":1.5})") ==
        "spec.ratio: Invalid value: 1.5: spec.ratio in body should be less than 1.5\n");
  CHECK(validate(R"({"ratio":0.25})") ==
        "spec.ratio: Invalid value: 0.25: spec.ratio in body should be a multiple of 0.5\n");
  CHECK(validate(R"({"name":"ab"})") ==
        "spec.name: Invalid value: \"ab\": spec.name in body should be at least 3 chars long\n");
  CHECK(lines(schema(cluster_schema).validate(object(R"({"name":"abcdef"})")), true) ==
        "FieldValueTooLong|spec.name|spec.name: Too long: may not be more than 5 bytes\n");
  CHECK(validate(R"({"name":"ééé"})") == "");  // characters, not bytes
  CHECK(validate(R"({"topology":{"dc":[{"name":"dc-1"}]}})") ==
        "spec.topology.dc[0].name: Invalid value: \"dc-1\": spec.topology.dc[0].name in body "
        "should match '^[^-]+$'\n");
  CHECK(validate(R"({"labels":{"a":"long"}})") ==
        "spec.labels.a: Too long: may not be more than 3 bytes\n");
  CHECK(validate(R"({"nullableText":null})") == "");
  auto causes =
      schema(cluster_schema).validate(object(R"({"nodesPerRacks":"x","serverType":"foo"})"));
  CHECK(lines(causes, true) ==
        "FieldValueTypeInvalid|spec.nodesPerRacks|spec.nodesPerRacks: Invalid value: \"string\": "
        "spec.nodesPerRacks in body must be of type integer: \"string\"\n"
        "FieldValueNotSupported|spec.serverType|spec.serverType: Unsupported value: \"foo\": "
        "supported values: \"cassandra\", \"dse\"\n");
}

TEST_CASE("crd schema: int-or-string, anyOf, allOf, oneOf and not report as kube-openapi does") {
  CHECK(validate(R"({"quantity":3})") == "");
  CHECK(validate(R"({"quantity":"3Gi"})") == "");
  CHECK(validate(R"({"quantity":"x"})") ==
        "spec.quantity: Invalid value: \"x\": spec.quantity in body should match "
        "'^[0-9]+[a-zA-Z]*$'\n");
  CHECK(validate(R"({"quantity":true})") ==
        "spec.quantity: Invalid value: \"boolean\": spec.quantity in body must be of type "
        "integer,string: \"boolean\"\n"
        "<nil>: Invalid value: \"\": \"spec.quantity\" must validate at least one schema (anyOf)\n"
        "spec.quantity: Invalid value: \"boolean\": spec.quantity in body must be of type integer: "
        "\"boolean\"\n");
  auto s = schema(R"(
type: object
properties:
  spec:
    type: object
    properties:
      a: {type: integer, allOf: [{minimum: 2}, {maximum: 5}]}
      b: {type: integer, oneOf: [{minimum: 2}, {maximum: 5}]}
      c: {type: string, not: {enum: [forbidden]}}
)");
  auto check = [&](const std::string& spec) {
    return lines(s.validate(js::parse(R"({"spec":)" + spec + "}")));
  };
  CHECK(check(R"({"a":3,"b":1,"c":"ok"})") == "");
  CHECK(check(R"({"a":1})") ==
        "spec.a: Invalid value: 1: spec.a in body should be greater than or equal to 2\n"
        "<nil>: Invalid value: \"\": \"spec.a\" must validate all the schemas (allOf)\n");
  CHECK(check(R"({"b":3})") ==
        "<nil>: Invalid value: \"\": \"spec.b\" must validate one and only one schema (oneOf). "
        "Found 2 valid alternatives\n");
  CHECK(check(R"({"c":"forbidden"})") ==
        "<nil>: Invalid value: \"\": \"spec.c\" must not validate the schema (not)\n");
}

TEST_CASE("crd schema: lists, objects and required fields") {
  CHECK(validate(R"({"storageConfigs":[{"mountPath":"/m"}]})") ==
        "spec.storageConfigs[0].name: Required value\n");
  CHECK(validate(R"({"storageConfigs":[]})") ==
        "spec.storageConfigs: Invalid value: 0: spec.storageConfigs in body should have at least 1 "
        "items\n");
  CHECK(
      lines(
          schema(cluster_schema).validate(object(R"({"storageConfigs":[{"mountPath":"a","name":"a"},
      {"mountPath":"b","name":"b"},{"mountPath":"c","name":"c"}]})")),
          true) ==
      "FieldValueTooMany|spec.storageConfigs|spec.storageConfigs: Too many: 3: must have at most 2 "
      "items\n");
  CHECK(validate(R"({"options":{}})") ==
        "spec.options: Invalid value: 0: spec.options in body should have at least 1 properties\n");
  CHECK(validate(R"({"options":{"a":true,"b":false,"c":true}})") ==
        "spec.options: Too many: 3: must have at most 2 items\n");
  CHECK(validate(R"({"options":{"a":1}})") ==
        "spec.options.a: Invalid value: \"integer\": spec.options.a in body must be of type "
        "boolean: \"integer\"\n");
  CHECK(validate(R"({"topology":[]})") ==
        "spec.topology: Invalid value: \"array\": spec.topology in body must be of type object: "
        "\"array\"\n");
  auto closed = schema(R"(
type: object
required: [spec]
properties:
  spec:
    type: object
    additionalProperties: false
    properties: {}
  list: {type: array, uniqueItems: true, items: {type: integer}}
)");
  CHECK(lines(closed.validate(js::parse(R"({"list":[1,2,1]})"))) ==
        "list: Invalid value: \"\": list in body shouldn't contain duplicates\nspec: Required "
        "value\n");
  CHECK(lines(closed.validate(js::parse(R"({"spec":{"x":1}})"))) ==
        "spec: Invalid value: \"x\": spec.x in body is a forbidden property\n");
}

TEST_CASE("crd schema: formats checked as kube-openapi's registry does, int32 and int64 never") {
  CHECK(
      validate(
          R"({"started":"2024-05-01T10:00:00Z","secret":"aGVsbG8=","id":"f81d4fae-7dec-11d0-a765-00a0c91e6bf6"})") ==
      "");
  CHECK(validate(R"({"started":"2024-05-01t10:00:00.123+02:00"})") == "");
  CHECK(validate(R"({"started":"2024-02-30T10:00:00Z"})") ==
        "spec.started: Invalid value: \"2024-02-30T10:00:00Z\": spec.started in body must be of "
        "type date-time: \"2024-02-30T10:00:00Z\"\n");
  CHECK(validate(R"({"started":"yesterday"})") ==
        "spec.started: Invalid value: \"yesterday\": spec.started in body must be of type "
        "date-time: \"yesterday\"\n");
  CHECK(validate(R"({"secret":"not base64!"})") ==
        "spec.secret: Invalid value: \"not base64!\": spec.secret in body must be of type byte: "
        "\"not base64!\"\n");
  CHECK(validate(R"({"id":"nope"})") ==
        "spec.id: Invalid value: \"nope\": spec.id in body must be of type uuid: \"nope\"\n");
  // A format on a string field makes a number fail with the format as the type.
  CHECK(validate(R"({"started":5})") ==
        "spec.started: Invalid value: \"int64\": spec.started in body must be of type date-time: "
        "\"int64\"\n");
  CHECK(crd::format_accepts("ipv4", "10.0.0.1"));
  CHECK(!crd::format_accepts("ipv4", "10.0.0.256"));
  CHECK(crd::format_accepts("cidr", "10.0.0.0/8"));
  CHECK(crd::format_accepts("int32", "anything"));
}

TEST_CASE("crd schema: x-kubernetes-list-type set and map refuse duplicates") {
  CHECK(lines(schema(cluster_schema)
                  .validate(object(R"({"tags":["a","b","a","a"],"ports":[{"name":"x","port":1},
      {"name":"y"},{"name":"x","port":2}]})")),
              true) ==
        "FieldValueDuplicate|spec.ports[2]|spec.ports[2]: Duplicate value: map[string]interface "
        "{}{\"name\":\"x\"}\n"
        "FieldValueDuplicate|spec.tags[2]|spec.tags[2]: Duplicate value: \"a\"\n");
  CHECK(validate(R"({"ports":["x"]})") ==
        "spec.ports[0]: Invalid value: \"string\": spec.ports[0] in body must be of type object: "
        "\"string\"\n"
        "spec.ports[0]: Invalid value: \"x\": must be an object for an array of list-type map\n");
}

TEST_CASE("crd schema: embedded resources need apiVersion and kind and valid metadata") {
  CHECK(validate(R"({"template":{"metadata":{"labels":{"bad key":"v"}}}})") ==
        "spec.template.apiVersion: Required value: must not be empty\n"
        "spec.template.kind: Required value: must not be empty\n"
        "spec.template.metadata.labels: Invalid value: \"bad key\": name part must consist of "
        "alphanumeric "
        "characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. "
        "'MyName',  or "
        "'my.name',  or '123-abc', regex used for validation is "
        "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')\n");
}

TEST_CASE("crd schema: ratcheting keeps errors of unchanged values out of an update") {
  auto s = schema(cluster_schema);
  auto old = object(
      R"({"runAsUser":0,"serverType":"foo","ports":[{"name":"a","port":70000}],"config":{"x":1},
                        "topology":{"dc":[{"name":"dc-1"}]}})");
  // Nothing changed: nothing reported, although the old object is invalid.
  CHECK(lines(s.validate_update(old, old)) == "");
  // Another field changed: the unchanged invalid ones still pass.
  auto other = object(
      R"({"runAsUser":0,"serverType":"foo","ports":[{"name":"a","port":70000}],"config":{"x":1},
                          "topology":{"dc":[{"name":"dc-1"}]},"nodesPerRacks":3})");
  CHECK(lines(s.validate_update(other, old)) == "");
  // A changed invalid value is reported; map list items correlate by key, atomic lists as a whole.
  auto changed = object(R"({"runAsUser":-1,"serverType":"foo","ports":[{"name":"b","port":70000},
      {"name":"a","port":70000}],"config":{"x":1},"topology":{"dc":[{"name":"dc-1"},{"name":"x"}]}})");
  CHECK(lines(s.validate_update(changed, old)) ==
        "spec.ports[0].port: Invalid value: 70000: spec.ports[0].port in body should be less than "
        "or equal to 65535\n"
        "spec.runAsUser: Invalid value: -1: spec.runAsUser in body should be greater than or equal "
        "to 1\n"
        "spec.topology.dc[0].name: Invalid value: \"dc-1\": spec.topology.dc[0].name in body "
        "should match '^[^-]+$'\n");
  // A create sees everything.
  CHECK(lines(s.validate(old)).find("spec.serverType") != std::string::npos);
  // Duplicates in a list type are reported only when the old object had none.
  auto dup = object(R"({"tags":["a","a"]})");
  CHECK(lines(s.validate_update(dup, dup)) == "");
  CHECK(lines(s.validate_update(dup, object("{}"))) == "spec.tags[1]: Duplicate value: \"a\"\n");
}

TEST_CASE(
    "crd schema: a status write validates status alone, under the status path, without "
    "ratcheting") {
  auto s = schema(cluster_schema);
  auto old = object(R"({"runAsUser":0})", R"(,"status":{"phase":"Lost"})");
  auto next =
      object(R"({"runAsUser":0})", R"(,"status":{"phase":"Lost","conditions":[{"type":"Ready"}]})");
  CHECK(
      lines(s.validate_status_update(next, old), true) ==
      "FieldValueRequired|status.conditions[0].status|status.conditions[0].status: Required value\n"
      "FieldValueNotSupported|status.phase|status.phase: Unsupported value: \"Lost\": supported "
      "values: \"Running\", \"Pending\"\n");
  auto typed = object("{}", R"(,"status":{"phase":3})");
  CHECK(lines(s.validate_status_update(typed, typed)) ==
        "status.phase: Invalid value: \"integer\": phase in body must be of type string: "
        "\"integer\"\n"
        "status.phase: Unsupported value: 3: supported values: \"Running\", \"Pending\"\n");
}

TEST_CASE("crd schema: duplicate keys keep the last value and are reported") {
  auto d = js::parse(R"({"spec":{"a":1,"b":{"c":1,"c":2},"a":3},"l":[{"x":1,"x":1}]})");
  CHECK(joined(crd::drop_duplicate_fields(d)) == "spec.b.c\nspec.a\nl[0].x\n");
  CHECK(js::to_string(d) == R"({"spec":{"b":{"c":2},"a":3},"l":[{"x":1}]})");
}

TEST_CASE("crd schema: a CRD version's schema must exist and be structural") {
  auto check = [](const char* schema_yaml, bool status = false) {
    auto s = yaml(schema_yaml);
    return lines(crd::check_version_schema(&s, "spec.versions[0].schema.openAPIV3Schema", status),
                 true);
  };
  CHECK(lines(crd::check_version_schema(nullptr, "spec.versions[0].schema.openAPIV3Schema", false),
              true) ==
        "FieldValueRequired|spec.versions[0].schema.openAPIV3Schema|spec.versions[0].schema."
        "openAPIV3Schema: "
        "Required value: schemas are required\n");
  CHECK(check("{type: object, x-kubernetes-preserve-unknown-fields: true}") == "");
  CHECK(check("{type: object, properties: {spec: {properties: {a: {type: string}}}}}") ==
        "FieldValueRequired|spec.versions[0].schema.openAPIV3Schema.properties[spec].type|"
        "spec.versions[0].schema.openAPIV3Schema.properties[spec].type: Required value: must not "
        "be empty for "
        "specified object fields\n");
  CHECK(check("{properties: {l: {type: array}}}") ==
        "FieldValueRequired|spec.versions[0].schema.openAPIV3Schema.properties[l].items|"
        "spec.versions[0].schema.openAPIV3Schema.properties[l].items: Required value: must be "
        "specified\n"
        "FieldValueRequired|spec.versions[0].schema.openAPIV3Schema.type|"
        "spec.versions[0].schema.openAPIV3Schema.type: Required value: must not be empty at the "
        "root\n");
  CHECK(check("{type: string}") ==
        "FieldValueInvalid|spec.versions[0].schema.openAPIV3Schema.type|spec.versions[0].schema."
        "openAPIV3Schema.type: "
        "Invalid value: \"string\": must be object at the root\n");
  CHECK(check("{type: object, additionalProperties: {type: string}}") ==
        "FieldValueForbidden|spec.versions[0].schema.openAPIV3Schema.additionalProperties|"
        "spec.versions[0].schema.openAPIV3Schema.additionalProperties: Forbidden: must not be used "
        "at the root\n");
  CHECK(check("{type: object, properties: {metadata: {type: object, properties: {labels: {type: "
              "object}}}}}") ==
        "FieldValueForbidden|spec.versions[0].schema.openAPIV3Schema.properties[metadata]|"
        "spec.versions[0].schema.openAPIV3Schema.properties[metadata]: Forbidden: must not specify "
        "anything other "
        "than name and generateName, but metadata is implicitly specified\n");
  CHECK(check("{type: object, properties: {s: {type: object, anyOf: [{type: string}]}}}") ==
        "FieldValueForbidden|spec.versions[0].schema.openAPIV3Schema.properties[s].anyOf[0].type|"
        "spec.versions[0].schema.openAPIV3Schema.properties[s].anyOf[0].type: Forbidden: must be "
        "empty to be structural\n");
  CHECK(check("{type: object, properties: {l: {type: array, uniqueItems: true, items: {type: "
              "string}}}}") ==
        "FieldValueForbidden|spec.versions[0].schema.openAPIV3Schema.properties[l].uniqueItems|"
        "spec.versions[0].schema.openAPIV3Schema.properties[l].uniqueItems: Forbidden: uniqueItems "
        "cannot be set to "
        "true since the runtime complexity becomes quadratic\n");
  CHECK(check("{type: object, properties: {m: {type: object, properties: {a: {type: string}}, "
              "additionalProperties: {type: string}}}}") ==
        "FieldValueForbidden|spec.versions[0].schema.openAPIV3Schema.properties[m]."
        "additionalProperties|"
        "spec.versions[0].schema.openAPIV3Schema.properties[m].additionalProperties: Forbidden: "
        "additionalProperties "
        "and properties are mutual exclusive\n");
  CHECK(check("{type: object, properties: {l: {type: array, x-kubernetes-list-type: map, "
              "x-kubernetes-list-map-keys: [name], items: {type: object, properties: {name: {type: "
              "string}}}}}}") ==
        "FieldValueRequired|spec.versions[0].schema.openAPIV3Schema.properties[l].items.properties["
        "name].default|"
        "spec.versions[0].schema.openAPIV3Schema.properties[l].items.properties[name].default: "
        "Required value: this "
        "property is in x-kubernetes-list-map-keys, so it must have a default or be a required "
        "property\n");
  CHECK(check("{type: object, properties: {s: {type: integer, default: x}}}") ==
        "FieldValueTypeInvalid|spec.versions[0].schema.openAPIV3Schema.properties[s].default|"
        "spec.versions[0].schema.openAPIV3Schema.properties[s].default: Invalid value: \"string\": "
        " in body must be "
        "of type integer: \"string\"\n");
  CHECK(check("{type: object, properties: {s: {type: object, default: {a: 1}, properties: {b: "
              "{type: integer}}}}}") ==
        "FieldValueInvalid|spec.versions[0].schema.openAPIV3Schema.properties[s].default|"
        "spec.versions[0].schema.openAPIV3Schema.properties[s].default: Invalid value: "
        "map[string]interface {}{\"a\":1}: must not have unknown fields\n");
  CHECK(check("{type: object, properties: {metadata: {type: object, default: {}}}}") ==
        "FieldValueForbidden|spec.versions[0].schema.openAPIV3Schema.properties[metadata].default|"
        "spec.versions[0].schema.openAPIV3Schema.properties[metadata].default: Forbidden: must not "
        "be set in "
        "top-level metadata\n");
  CHECK(check("{type: object, properties: {a: {type: stringy}}}") ==
        "FieldValueNotSupported|spec.versions[0].schema.openAPIV3Schema.properties[a].type|"
        "spec.versions[0].schema.openAPIV3Schema.properties[a].type: Unsupported value: "
        "\"stringy\": supported "
        "values: \"array\", \"boolean\", \"integer\", \"number\", \"object\", \"string\"\n");
  CHECK(check("{type: object, anyOf: [{properties: {x: {minimum: 1}}}]}") ==
        "FieldValueRequired|spec.versions[0].schema.openAPIV3Schema.properties[x]|"
        "spec.versions[0].schema.openAPIV3Schema.properties[x]: Required value: because it is "
        "defined in "
        "spec.versions[0].schema.openAPIV3Schema.anyOf[0].properties[x]\n");
  CHECK(
      check(
          "{type: object, x-kubernetes-preserve-unknown-fields: true, additionalProperties: false}",
          true)
          .find("fields are allowed at the root of the schema if the status subresource is "
                "enabled") != std::string::npos);
}

TEST_CASE("crd schema: metadata limits and names for every kind") {
  auto meta = js::parse(R"({"labels":{"app":"x","bad key":"v","ok":"bad value!"},
                           "annotations":{"example.com/a":"1","-bad":"2"},"finalizers":["kubernetes.io/ok","a/b/c"]})");
  CHECK(lines(validate_metadata_contents(meta, "metadata")) ==
        "metadata.labels: Invalid value: \"bad key\": name part must consist of alphanumeric "
        "characters, '-', '_' "
        "or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or "
        "'my.name',  or "
        "'123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')\n"
        "metadata.labels: Invalid value: \"bad value!\": a valid label must be an empty string or "
        "consist of "
        "alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric "
        "character (e.g. "
        "'MyValue',  or 'my_value',  or '12345', regex used for validation is "
        "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')\n"
        "metadata.annotations: Invalid value: \"-bad\": name part must consist of alphanumeric "
        "characters, '-', "
        "'_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or "
        "'my.name',  or "
        "'123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')\n"
        "metadata.finalizers: Invalid value: \"a/b/c\": a qualified name must consist of "
        "alphanumeric characters, "
        "'-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  "
        "or 'my.name',  or "
        "'123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with "
        "an optional DNS "
        "subdomain prefix and '/' (e.g. 'example.com/MyName')\n");
  js::Document big(rapidjson::kObjectType);
  js::Value annotations(rapidjson::kObjectType);
  annotations.AddMember("k", js::string_value(std::string(262143, 'x'), big.GetAllocator()),
                        big.GetAllocator());
  big.AddMember("annotations", annotations, big.GetAllocator());
  CHECK(lines(validate_metadata_contents(big, "metadata")) == "");  // 1 + 262143 bytes: the limit
  big["annotations"]["k"].SetString(std::string(262144, 'x').c_str(), 262144, big.GetAllocator());
  CHECK(lines(validate_metadata_contents(big, "metadata"), true) ==
        "FieldValueTooLong|metadata.annotations|metadata.annotations: Too long: may not be more "
        "than 262144 bytes\n");
  CHECK(joined(is_valid_label_value(std::string(64, 'a'))) ==
        "must be no more than 63 characters\n");
  CHECK(joined(is_qualified_name("example.com/" + std::string(64, 'a'))) ==
        "name part must be no more than 63 characters\n");
  CHECK(validate_object_name("", "Service", "9abc", false).size() == 1);
  CHECK(validate_object_name("", "ConfigMap", "9abc", false).empty());
  CHECK(
      validate_object_name("rbac.authorization.k8s.io", "ClusterRole", "system:controller:x", false)
          .empty());
  CHECK(joined(validate_object_name("", "Namespace", "a.b", false)) == "must not contain dots\n");
  CHECK(validate_object_name("", "ConfigMap", "web-", true).empty());  // a generateName prefix
}
