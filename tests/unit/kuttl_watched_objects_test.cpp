// The picture assert_watch keeps while a step's asserts are checked: the latest version of every
// watched object as list and watch changes leave it, and the asserts evaluated on it after every
// event, so a state that lasted a few ms still passes the step.
#include <doctest/doctest.h>

#include "k8s/json/yaml_json.h"
#include "k8s/watch/list_watch.h"
#include "k8s/watch/watch_event.h"
#include "tools/kuttl/watched_objects.h"

namespace {

namespace js = k8s::json;
using change = k8s::watch_change;

k8s::object_ptr config_map(const char* name, const char* value) {
  return std::make_shared<js::Document>(
      js::parse(std::string(R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":")") +
                name + R"(","namespace":"t"},"data":{"v":")" + value + R"("}})"));
}

std::vector<js::Document> asserts(const char* yaml) {
  std::vector<js::Document> out;
  out.push_back(js::yaml_to_json(yaml));
  return out;
}

}  // namespace

TEST_CASE("kuttl watched objects: a value seen at one event matches even if overwritten later") {
  kuttl::watched_objects picture;
  const std::string kind = "v1/ConfigMap";
  auto first = asserts("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {v: one}\n");
  picture.apply(kind, {change::kind::init_started, nullptr});
  picture.apply(kind, {change::kind::init_object, config_map("a", "zero")});
  picture.apply(kind, {change::kind::init_done, nullptr});
  CHECK_FALSE(picture.all_match(first));
  picture.apply(kind, {change::kind::applied, config_map("a", "one")});
  CHECK(picture.all_match(first));  // the runner evaluates here: the step passes
  picture.apply(kind, {change::kind::applied, config_map("a", "two")});
  CHECK_FALSE(picture.all_match(first));  // only the latest version of each object is kept
}

TEST_CASE("kuttl watched objects: every assert must hold on the same picture, per kind") {
  kuttl::watched_objects picture;
  std::vector<js::Document> both;
  both.push_back(js::yaml_to_json("apiVersion: v1\nkind: ConfigMap\ndata: {v: one}\n"));
  both.push_back(js::yaml_to_json("apiVersion: v1\nkind: Secret\nmetadata: {name: a}\n"));
  picture.apply("v1/ConfigMap", {change::kind::applied, config_map("x", "one")});
  CHECK_FALSE(picture.all_match(both));  // no Secret seen yet
  // An object of another kind under a Secret's key would match; the key is the watch's kind.
  auto secret = std::make_shared<js::Document>(
      js::parse(R"({"apiVersion":"v1","kind":"Secret","metadata":{"name":"a","namespace":"t"}})"));
  picture.apply("v1/Secret", {change::kind::applied, secret});
  CHECK(picture.all_match(both));
  picture.apply("v1/Secret", {change::kind::deleted, secret});
  CHECK_FALSE(picture.all_match(both));
  CHECK(kuttl::kind_key_of(both[1]) == "v1/Secret");
}

TEST_CASE("kuttl watched objects: a relist replaces the kind's objects") {
  kuttl::watched_objects picture;
  auto any_two = asserts("apiVersion: v1\nkind: ConfigMap\ndata: {v: two}\n");
  picture.apply("v1/ConfigMap", {change::kind::applied, config_map("b", "two")});
  CHECK(picture.all_match(any_two));
  picture.apply("v1/ConfigMap", {change::kind::init_started, nullptr});
  picture.apply("v1/ConfigMap", {change::kind::init_object, config_map("c", "three")});
  CHECK_FALSE(picture.all_match(any_two));
}

TEST_CASE("kuttl watched objects: fed by the list-then-watch state machine, as assert_watch does") {
  k8s::list_watch_state state;
  kuttl::watched_objects picture;
  std::vector<change> changes;
  state.start();
  k8s::list_page page;
  page.items.push_back(config_map("a", "zero"));
  page.resource_version = "10";
  auto next = state.on_list_page(page, changes);
  CHECK(next.what == k8s::list_watch_action::kind::start_watch);
  CHECK(next.resource_version == "10");  // the watch starts after the list: nothing older
  k8s::watch_event e;
  std::string why;
  REQUIRE(k8s::decode_watch_line(
      R"({"type":"MODIFIED","object":{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a","namespace":"t","resourceVersion":"11"},"data":{"v":"one"}}})",
      e, why));
  state.on_watch_event(e, changes);
  auto first = asserts("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {v: one}\n");
  bool seen = false;
  for (const auto& c : changes) {
    picture.apply("v1/ConfigMap", c);
    seen = seen || picture.all_match(first);
  }
  CHECK(seen);
}
