// Label and field selectors: syntax, matching, and the exact messages kube-apiserver returns.
#include <doctest/doctest.h>

#include <string>

#include "k8s/json/json.h"
#include "tools/kubesim/selectors.h"

using kubesim::field_op;
using kubesim::field_selector;
using kubesim::label_op;
using kubesim::label_selector;
using kubesim::selector_error;

namespace {

bool labels_match(std::string_view selector, std::string_view labels_json) {
  auto doc = k8s::json::parse(labels_json);
  return label_selector::parse(selector).matches(&doc);
}

std::string label_error(std::string_view selector) {
  try {
    label_selector::parse(selector);
  } catch (const selector_error& e) {
    return e.what();
  }
  return "<no error>";
}

std::string field_error(std::string_view selector) {
  try {
    field_selector::parse(selector);
  } catch (const selector_error& e) {
    return e.what();
  }
  return "<no error>";
}

std::string validation_error(std::string_view selector, std::string_view kind, bool custom) {
  try {
    kubesim::validate_fields(field_selector::parse(selector), kind, custom);
  } catch (const selector_error& e) {
    return e.what();
  }
  return "<no error>";
}

bool fields_match(std::string_view selector, std::string_view object_json) {
  auto doc = k8s::json::parse(object_json);
  return field_selector::parse(selector).matches(doc);
}

const std::string kLabelValueMessage =
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or "
    "'my_value',  or '12345', regex used for validation is "
    "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";

const std::string kQualifiedNameRegex =
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
    "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for "
    "validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";

}  // namespace

TEST_CASE("label selector: each operator parses to its requirement") {
  struct expectation {
    const char* text;
    label_op op;
    std::vector<std::string> values;
  };
  const expectation cases[] = {
      {"app=web", label_op::equals, {"web"}},      {"app==web", label_op::double_equals, {"web"}},
      {"app!=web", label_op::not_equals, {"web"}}, {"app in (b,a)", label_op::in, {"a", "b"}},
      {"app notin (a)", label_op::not_in, {"a"}},  {"app", label_op::exists, {}},
      {"!app", label_op::does_not_exist, {}},      {"app>5", label_op::greater_than, {"5"}},
      {"app<5", label_op::less_than, {"5"}},       {"app=", label_op::equals, {""}},
  };
  for (const auto& c : cases) {
    CAPTURE(c.text);
    auto s = label_selector::parse(c.text);
    REQUIRE(s.requirements().size() == 1);
    CHECK(s.requirements()[0].key == "app");
    CHECK(s.requirements()[0].op == c.op);
    CHECK(s.requirements()[0].values == c.values);
  }
}

TEST_CASE("label selector: empty selects everything") {
  CHECK(label_selector::parse("").empty());
  CHECK(label_selector::parse("  \t").empty());
  CHECK(label_selector::parse("").matches(nullptr));
  CHECK_FALSE(label_selector::parse("a").empty());
}

TEST_CASE("label selector: matching") {
  const char* labels = R"({"app":"web","tier":"front","n":"7","example.com/team":"a"})";
  CHECK(labels_match("app=web", labels));
  CHECK(labels_match("app==web", labels));
  CHECK_FALSE(labels_match("app=db", labels));
  CHECK(labels_match("app!=db", labels));
  CHECK(labels_match("missing!=db", labels));  // != also matches when the key is absent
  CHECK_FALSE(labels_match("app!=web", labels));
  CHECK(labels_match("app in (db, web)", labels));
  CHECK_FALSE(labels_match("missing in (db,web)", labels));
  CHECK(labels_match("app notin (db)", labels));
  CHECK(labels_match("missing notin (db)", labels));
  CHECK_FALSE(labels_match("app notin (web)", labels));
  CHECK(labels_match("tier", labels));
  CHECK_FALSE(labels_match("missing", labels));
  CHECK(labels_match("!missing", labels));
  CHECK_FALSE(labels_match("!tier", labels));
  CHECK(labels_match("n>5", labels));
  CHECK_FALSE(labels_match("n<5", labels));
  CHECK_FALSE(labels_match("app>5", labels));  // not an integer: no match, no error
  CHECK(labels_match("example.com/team=a", labels));
  CHECK(labels_match("missing=", labels) == false);
  CHECK(labels_match("missing in ()", R"({"missing":""})"));

  // Comma is AND, whitespace is tolerated anywhere between tokens.
  CHECK(labels_match(" app = web ,tier in(front),  !missing ", labels));
  CHECK_FALSE(labels_match("app=web,tier=back", labels));

  // No labels at all.
  auto s = label_selector::parse("!app,x notin (y)");
  CHECK(s.matches(nullptr));
  CHECK_FALSE(label_selector::parse("app").matches(nullptr));
}

TEST_CASE("label selector: keywords and empty values in sets") {
  // "in" and "notin" are plain words where a key or value is expected.
  CHECK(labels_match("in in (notin)", R"({"in":"notin"})"));
  auto s = label_selector::parse("x in (,a)");
  CHECK(s.requirements()[0].values == std::vector<std::string>{"", "a"});
  CHECK(label_selector::parse("x in (a,)").requirements()[0].values ==
        std::vector<std::string>{"", "a"});
  CHECK(label_selector::parse("x in (a,,b)").requirements()[0].values ==
        std::vector<std::string>{"", "a", "b"});
  CHECK(label_selector::parse("x in ()").requirements()[0].values == std::vector<std::string>{""});
}

TEST_CASE("label selector: requirements are sorted by key") {
  auto s = label_selector::parse("b=1,a=2,c");
  REQUIRE(s.requirements().size() == 3);
  CHECK(s.requirements()[0].key == "a");
  CHECK(s.requirements()[1].key == "b");
  CHECK(s.requirements()[2].key == "c");
}

TEST_CASE("label selector: syntax errors use apimachinery's messages") {
  CHECK(label_error("a=b c") == "found 'c', expected: ',' or 'end of string'");
  CHECK(label_error("=a") == "found '=', expected: !, identifier, or 'end of string'");
  CHECK(label_error("!=a") == "found '!=', expected: !, identifier, or 'end of string'");
  CHECK(label_error("! =a") == "unable to parse requirement: found '=', expected: identifier");
  CHECK(label_error("a,") == "found '', expected: identifier after ','");
  CHECK(label_error("a,,b") == "found ',', expected: identifier after ','");
  CHECK(label_error("a (") ==
        "unable to parse requirement: found '(', expected: in, notin, =, ==, !=, gt, lt");
  CHECK(label_error("a in b") == "unable to parse requirement: found 'b' expected: '('");
  CHECK(label_error("a in (b") == "unable to parse requirement: found '', expected: ',' or ')'");
  CHECK(label_error("a in (b c)") ==
        "unable to parse requirement: found 'c', expected: ',' or ')'");
  CHECK(label_error("a in (=)") ==
        "unable to parse requirement: found '=', expected: ',', ')' or identifier");
  CHECK(label_error("a=(") == "unable to parse requirement: found '(', expected: identifier");
  // "!a=b": the key is parsed as does-not-exist and the "=" is left over.
  CHECK(label_error("!a=b") == "found '=', expected: ',' or 'end of string'");
}

TEST_CASE("label selector: invalid values and keys") {
  CHECK(label_error("app=-bad") ==
        "unable to parse requirement: values[0][app]: Invalid value: \"-bad\": " +
            kLabelValueMessage);
  CHECK(label_error("app=" + std::string(64, 'a')) ==
        "unable to parse requirement: values[0][app]: Invalid value: \"" + std::string(64, 'a') +
            "\": must be no more than 63 characters");
  // Several bad values aggregate in brackets; the index is into the sorted set.
  CHECK(
      label_error("app in (ok,-b,c-)") ==
      "unable to parse requirement: [values[0][app]: Invalid value: \"-b\": " + kLabelValueMessage +
          ", values[1][app]: Invalid value: \"c-\": " + kLabelValueMessage + "]");
  CHECK(label_error("a/b/c=x") ==
        "unable to parse requirement: <nil>: Invalid value: \"a/b/c\": a qualified name " +
            kQualifiedNameRegex +
            " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')");
  CHECK(label_error("-a") ==
        "unable to parse requirement: <nil>: Invalid value: \"-a\": name part " +
            kQualifiedNameRegex);
  CHECK(
      label_error("Example.com/a") ==
      "unable to parse requirement: <nil>: Invalid value: \"Example.com/a\": prefix part a "
      "lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
      "'.', and must start and end with an alphanumeric character (e.g. 'example.com', regex "
      "used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')");
  CHECK(label_error("/a") ==
        "unable to parse requirement: <nil>: Invalid value: \"/a\": prefix part must be non-empty");
  CHECK(label_error("x>a") ==
        "unable to parse requirement: values[0]: Invalid value: \"a\": for 'Gt', 'Lt' operators, "
        "the value must be an integer");
  CHECK(label_error("x<") ==
        "unable to parse requirement: values[0]: Invalid value: \"\": for 'Gt', 'Lt' operators, "
        "the value must be an integer");
  CHECK(label_error("x=a\"b") ==
        "unable to parse requirement: values[0][x]: Invalid value: \"a\\\"b\": " +
            kLabelValueMessage);
}

TEST_CASE("label key and value validation helpers") {
  CHECK(kubesim::label_key_errors("app").empty());
  CHECK(kubesim::label_key_errors("example.com/app.v1_x-y").empty());
  CHECK(kubesim::label_key_errors("example.com/").size() == 2);  // empty name, then regex
  CHECK(kubesim::label_value_errors("").empty());
  CHECK(kubesim::label_value_errors("My_value.1").empty());
  CHECK(kubesim::label_value_errors("a b").size() == 1);
}

TEST_CASE("field selector: operators and combinations") {
  auto s = field_selector::parse("status.phase!=Running,metadata.name==web,spec.nodeName=n1");
  REQUIRE(s.requirements().size() == 3);
  // Sorted by the raw term, as the server does.
  CHECK(s.requirements()[0].field == "metadata.name");
  CHECK(s.requirements()[0].op == field_op::equals);
  CHECK(s.requirements()[0].value == "web");
  CHECK(s.requirements()[1].field == "spec.nodeName");
  CHECK(s.requirements()[1].op == field_op::equals);
  CHECK(s.requirements()[2].field == "status.phase");
  CHECK(s.requirements()[2].op == field_op::not_equals);
  CHECK(s.requirements()[2].value == "Running");

  const char* pod = R"({"metadata":{"name":"web","namespace":"ns"},
                        "spec":{"nodeName":"n1","replicas":3,"paused":false},
                        "status":{"phase":"Pending"}})";
  CHECK(fields_match("status.phase!=Running,metadata.name==web,spec.nodeName=n1", pod));
  CHECK_FALSE(fields_match("metadata.name=web,metadata.namespace=other", pod));
  CHECK(fields_match("metadata.namespace=ns", pod));
  // A missing field compares as the empty string.
  CHECK(fields_match("spec.missing=", pod));
  CHECK(fields_match("spec.missing!=x", pod));
  CHECK_FALSE(fields_match("spec.missing=x", pod));
  // Scalars compare by their JSON text.
  CHECK(fields_match("spec.replicas=3,spec.paused=false", pod));
}

TEST_CASE("field selector: empty and blank terms") {
  CHECK(field_selector::parse("").empty());
  CHECK(field_selector::parse(",").empty());
  CHECK(field_selector::parse("a=b,,").requirements().size() == 1);
}

TEST_CASE("field selector: escaped values") {
  auto s = field_selector::parse(R"(metadata.name=a\,b\=c\\d,x=y)");
  REQUIRE(s.requirements().size() == 2);
  CHECK(s.requirements()[0].value == R"(a,b=c\d)");
  CHECK(s.requirements()[1].value == "y");
  CHECK(fields_match(R"(metadata.name=a\,b)", R"({"metadata":{"name":"a,b"}})"));
  // The first operator splits the term; later ones must be escaped.
  CHECK(field_selector::parse("a!=b").requirements()[0].op == field_op::not_equals);
  CHECK(field_selector::parse(R"(a==\=b)").requirements()[0].value == "=b");
}

TEST_CASE("field selector: parse errors") {
  CHECK(field_error("abc") == "invalid selector: 'abc'; can't understand 'abc'");
  CHECK(field_error("a=b,cd") == "invalid selector: 'a=b,cd'; can't understand 'cd'");
  CHECK(field_error("a=b=c") == "invalid field selector: unescaped character in value: 61");
  CHECK(field_error("a===c") == "invalid field selector: unescaped character in value: 61");
  CHECK(field_error(R"(a=b\x)") == R"(invalid field selector: invalid escape sequence: \x)");
  CHECK(field_error(R"(a=b\)") == R"(invalid field selector: invalid escape sequence: \)");
}

TEST_CASE("field selector: supported field labels per kind") {
  CHECK(validation_error("spec.x=1", "Widget", true) == "field label not supported: spec.x");
  CHECK(validation_error("metadata.name=a,metadata.namespace=b", "Widget", true) == "<no error>");
  // The first unsupported term in sorted order is reported.
  CHECK(validation_error("z.y=1,spec.x=1", "Widget", true) == "field label not supported: spec.x");
  // A custom resource named like a built-in only gets the metadata fields.
  CHECK(validation_error("status.phase=Running", "Pod", true) ==
        "field label not supported: status.phase");

  for (const char* f : {"spec.nodeName", "spec.restartPolicy", "spec.schedulerName",
                        "spec.serviceAccountName", "status.phase", "status.podIP",
                        "status.nominatedNodeName", "metadata.name", "metadata.namespace"}) {
    CAPTURE(f);
    CHECK(validation_error(std::string(f) + "=x", "Pod", false) == "<no error>");
  }
  CHECK(validation_error("spec.hostname=x", "Pod", false) ==
        "field label not supported: spec.hostname");

  for (const char* f :
       {"involvedObject.kind", "involvedObject.namespace", "involvedObject.name",
        "involvedObject.uid", "involvedObject.apiVersion", "involvedObject.resourceVersion",
        "involvedObject.fieldPath", "reason", "reportingComponent", "source", "type"}) {
    CAPTURE(f);
    CHECK(validation_error(std::string(f) + "=x", "Event", false) == "<no error>");
  }
  CHECK(validation_error("message=x", "Event", false) == "field label not supported: message");

  CHECK(validation_error("type=Opaque", "Secret", false) == "<no error>");
  CHECK(validation_error("status.phase=Active", "Namespace", false) == "<no error>");
  CHECK(validation_error("data.x=1", "ConfigMap", false) == "field label not supported: data.x");
}

TEST_CASE("field selector: Event and Pod special fields") {
  const char* event = R"({"metadata":{"name":"e1","namespace":"ns"},
      "involvedObject":{"kind":"Pod","name":"web-0","namespace":"ns","uid":"u1",
                        "apiVersion":"v1","resourceVersion":"42","fieldPath":"spec.containers{c}"},
      "reason":"Started","type":"Normal","source":{"component":"kubelet"},
      "reportingComponent":"kubelet-x"})";
  CHECK(fields_match("involvedObject.kind=Pod,involvedObject.name=web-0", event));
  CHECK(fields_match("involvedObject.namespace=ns,involvedObject.uid=u1", event));
  CHECK(fields_match("involvedObject.apiVersion=v1,involvedObject.resourceVersion=42", event));
  CHECK(fields_match("involvedObject.fieldPath=spec.containers{c}", event));
  CHECK(fields_match("reason=Started,type=Normal,reportingComponent=kubelet-x", event));
  CHECK(fields_match("source=kubelet", event));
  CHECK_FALSE(fields_match("source=kubelet-x", event));
  // Without source.component the server falls back to reportingComponent.
  CHECK(fields_match("source=ctrl", R"({"reportingComponent":"ctrl"})"));

  CHECK(fields_match("status.podIP=10.0.0.1", R"({"status":{"podIP":"10.0.0.1"}})"));
  CHECK(fields_match("status.podIP=10.0.0.2", R"({"status":{"podIPs":[{"ip":"10.0.0.2"}]}})"));
  CHECK(kubesim::selectable_field_value(k8s::json::parse(R"({"a":{"b":"c"}})"), "a.b") == "c");
}
