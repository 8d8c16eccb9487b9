// The semantics of kube-apiserver v1.32 that controllers and kubectl rely on, driven over HTTP
// against kubesim: one case per behaviour (and per known pitfall) a controller or kubectl meets.
// Expected bodies are those of the real server; when kubesim differs, kubesim is wrong.
#include <doctest/doctest.h>

#include <chrono>
#include <optional>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include <sys/socket.h>
#include <sys/time.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>

#include "k8s/base/timestamps.h"
#include "tests/support/kubesim_fixture.h"

using namespace testsupport;
using namespace std::chrono_literals;
namespace js = k8s::json;

namespace {

const std::string crd_path = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions";
const std::string crd_item = crd_path + "/cassandraclusters.db.orange.com";
const std::string crs = "/apis/db.orange.com/v2/namespaces/default/cassandraclusters";
const std::string all_crs = "/apis/db.orange.com/v2/cassandraclusters";
const std::string cms = "/api/v1/namespaces/default/configmaps";
const char* merge = "application/merge-patch+json";
const char* json_patch = "application/json-patch+json";
const char* strategic = "application/strategic-merge-patch+json";
const char* apply_yaml = "application/apply-patch+yaml";
const char* table_accept = "application/json;as=Table;v=v1;g=meta.k8s.io";
const char* aggregated_accept =
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,"
    "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json";
const char* conflict_why =
    "the object has been modified; please apply your changes to the latest version and try again";

// A CassandraCluster body; `meta` and `rest` are extra JSON members of metadata and the object.
std::string cr(const std::string& name, const std::string& meta = "",
               const std::string& rest = R"("spec":{"nodesPerRacks":3})") {
  return R"({"apiVersion":"db.orange.com/v2","kind":"CassandraCluster","metadata":{"name":")" + name +
         "\"" + (meta.empty() ? "" : "," + meta) + "}" + (rest.empty() ? "" : "," + rest) + "}";
}
std::string cm(const std::string& name, const std::string& meta = "",
               const std::string& data = R"({"k":"v"})") {
  return R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":")" + name + "\"" +
         (meta.empty() ? "" : "," + meta) + R"(},"data":)" + data + "}";
}

std::string str(const js::Value& v) { return js::to_string(v); }
// The JSON at a path, or "<missing>".
std::string at(const js::Value& v, std::initializer_list<std::string_view> path) {
  const js::Value* p = js::find_path(v, path);
  return p ? str(*p) : "<missing>";
}

uint64_t rv_of(const js::Value& obj) {
  const js::Value* v = js::find_path(obj, {"metadata", "resourceVersion"});
  REQUIRE_MESSAGE(v != nullptr, str(obj));
  REQUIRE_MESSAGE(v->IsString(), "resourceVersion must be a string: " << str(obj));
  return std::stoull(std::string(js::view(*v)));
}
std::string meta(const js::Value& obj, std::string_view key) {
  return std::string(js::get_string(obj, {"metadata", key}));
}
long long generation(const js::Value& obj) { return js::get_int(obj, {"metadata", "generation"}, -1); }

// Compares a reply with the metav1.Status the real server sends (`details` is JSON or empty).
void expect_status(const http_reply& r, int code, const std::string& reason,
                   const std::string& message, const std::string& details = "") {
  CHECK_MESSAGE(r.status == code, r.body);
  CHECK(r.headers.count("content-type"));
  if (r.headers.count("content-type")) CHECK(r.headers.at("content-type") == "application/json");
  js::Document want(rapidjson::kObjectType);
  auto& a = want.GetAllocator();
  want.AddMember("kind", "Status", a);
  want.AddMember("apiVersion", "v1", a);
  want.AddMember("metadata", js::Value(rapidjson::kObjectType), a);
  want.AddMember("status", "Failure", a);
  want.AddMember("message", js::string_value(message, a), a);
  if (!reason.empty()) want.AddMember("reason", js::string_value(reason, a), a);
  if (!details.empty()) {
    js::Document d = js::parse(details);
    want.AddMember("details", js::Value(d, a), a);
  }
  want.AddMember("code", code, a);
  js::Document got;
  try {
    got = r.json();
  } catch (const std::exception&) {
    FAIL("not JSON: " << r.body);
  }
  CHECK_MESSAGE(got == want, "got  " << r.body << "\nwant " << str(want));
}

// A POST whose headers announce `length` body bytes, of which it sends none, on its own TLS
// connection; returns the reply the server sends before closing.
http_reply raw_post(const std::string& url, const std::string& token, const std::string& path, size_t length) {
  namespace net = boost::asio;
  namespace ssl = net::ssl;
  std::string hostport = url.substr(url.find("//") + 2);
  auto colon = hostport.rfind(':');
  net::io_context io;
  ssl::context ctx(ssl::context::tls_client);
  ctx.set_verify_mode(ssl::verify_none);
  ssl::stream<net::ip::tcp::socket> s(io, ctx);
  net::ip::tcp::resolver resolver(io);
  net::connect(s.next_layer(), resolver.resolve(hostport.substr(0, colon), hostport.substr(colon + 1)));
  timeval tv{5, 0};  // never hang the test on a server that waits for the body
  setsockopt(s.next_layer().native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  s.handshake(ssl::stream_base::client);
  std::string head = "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + token +
                     "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(length) +
                     "\r\n\r\n";
  net::write(s, net::buffer(head));
  std::string raw;
  boost::system::error_code ec;
  char buf[4096];
  while (!ec) raw.append(buf, s.read_some(net::buffer(buf), ec));
  http_reply r;
  auto sp = raw.find(' ');
  if (sp != std::string::npos) r.status = std::atoi(raw.c_str() + sp + 1);
  auto end = raw.find("\r\n\r\n");
  if (end == std::string::npos) return r;
  for (size_t pos = raw.find("\r\n") + 2; pos < end;) {
    size_t eol = raw.find("\r\n", pos);
    std::string line = raw.substr(pos, eol - pos);
    auto c = line.find(':');
    std::string key = line.substr(0, c);
    for (auto& ch : key) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    r.headers[key] = line.substr(line.find_first_not_of(' ', c + 1));
    pos = eol + 2;
  }
  r.body = raw.substr(end + 4);
  return r;
}

// The end of kube-apiserver's handler chain is Go's http.NotFound.
void expect_plain_404(http_reply r) {
  CHECK(r.status == 404);
  CHECK(r.headers["content-type"] == "text/plain; charset=utf-8");
  CHECK(r.body == "404 page not found\n");
}

struct event {
  std::string type;
  js::Document object;
  uint64_t rv = 0;
  std::string name() const { return meta(object, "name"); }
};

// A watch read event by event.
class watch {
 public:
  watch(api_client& c, const std::string& path, const std::map<std::string, std::string>& headers = {})
      : s_(c.stream(path, headers)) {}
  int status() const { return s_->status(); }
  std::optional<event> next(std::chrono::milliseconds timeout = 5s) {
    auto line = s_->next(timeout);
    if (!line) return std::nullopt;
    js::Document d = js::parse(*line);
    event e;
    e.type = js::get_string(d, "type");
    if (const js::Value* o = js::find(d, "object")) e.object.CopyFrom(*o, e.object.GetAllocator());
    if (const js::Value* v = js::find_path(e.object, {"metadata", "resourceVersion"}); v && v->IsString())
      e.rv = std::stoull(std::string(js::view(*v)));
    return e;
  }
  // The next event, required to arrive within `timeout`.
  event expect(std::chrono::milliseconds timeout = 5s) {
    auto e = next(timeout);
    REQUIRE_MESSAGE(e.has_value(), "no watch event within the deadline");
    return std::move(*e);
  }
  // The next event that is not a BOOKMARK.
  event expect_change(std::chrono::milliseconds timeout = 5s) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      REQUIRE_MESSAGE(left.count() > 0, "no change event within the deadline");
      auto e = expect(left);
      if (e.type != "BOOKMARK") return e;
    }
  }
  // True when the server ends the stream within `timeout` (events before the end are dropped).
  bool ends_within(std::chrono::milliseconds timeout) {
    return eventually(
        [&] {
          while (s_->next(0ms)) {
          }
          return s_->ended();
        },
        timeout);
  }
  void cancel() { s_->cancel(); }

 private:
  std::unique_ptr<line_stream> s_;
};

struct env {
  kubesim_instance sim;
  api_client c;
  explicit env(bool with_crd = true, std::vector<std::string> extra = {})
      : sim({"k1"}, std::move(extra)), c(sim.client("k1")) {
    if (with_crd) install_crd();
  }
  js::Document install_crd() {
    auto r = c.request("POST", crd_path, cassandracluster_crd_yaml(), "application/yaml");
    REQUIRE_MESSAGE(r.status == 201, r.body);
    return r.json();
  }
  http_reply req(const std::string& method, const std::string& path, const std::string& body = "",
                 const std::string& type = "application/json",
                 const std::map<std::string, std::string>& headers = {}) {
    return c.request(method, path, body, type, headers);
  }
  js::Document expect(int code, const std::string& method, const std::string& path,
                      const std::string& body = "", const std::string& type = "application/json") {
    auto r = c.request(method, path, body, type);
    REQUIRE_MESSAGE(r.status == code, method << " " << path << " -> " << r.body);
    return r.json();
  }
  js::Document create(const std::string& coll, const std::string& body) {
    return expect(201, "POST", coll, body);
  }
  js::Document get(const std::string& path) { return expect(200, "GET", path); }
  js::Document patch(const std::string& path, const std::string& body, const char* type = merge) {
    return expect(200, "PATCH", path, body, type);
  }
  js::Document put(const std::string& path, const js::Value& obj) {
    return expect(200, "PUT", path, str(obj));
  }
  int status_of(const std::string& path) { return c.request("GET", path).status; }
  uint64_t list_rv(const std::string& coll) { return rv_of(get(coll)); }
  std::unique_ptr<watch> watch_from(const std::string& coll, uint64_t rv, const std::string& extra = "") {
    auto w = std::make_unique<watch>(c, coll + "?watch=true&resourceVersion=" + std::to_string(rv) + extra);
    REQUIRE(w->status() == 200);
    return w;
  }
  // The cluster's faults and counters, from the control API.
  js::Document cluster_info() {
    auto r = sim.cluster_info("k1");
    REQUIRE_MESSAGE(r.status == 200, r.body);
    return r.json();
  }
};

// Removes every member `key` from a copy of obj's metadata and returns the object as JSON.
std::string without_meta(const js::Value& obj, std::initializer_list<const char*> keys) {
  js::Document d;
  d.CopyFrom(obj, d.GetAllocator());
  for (auto k : keys) js::remove_member(js::ensure_object(d, "metadata", d.GetAllocator()), k);
  return str(d);
}

std::vector<std::string> names_of(const js::Value& list) {
  std::vector<std::string> out;
  if (const js::Value* items = js::find(list, "items"); items && items->IsArray())
    for (const auto& i : items->GetArray()) out.push_back(meta(i, "namespace") + "/" + meta(i, "name"));
  return out;
}

const std::regex uuid_v4("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
const std::regex rfc3339_seconds("[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z");

}  // namespace

TEST_CASE("semantics: resourceVersion is one string counter per cluster with +1 per write and list RV = counter") {
  env e;
  uint64_t start = e.list_rv(cms);
  // The counter is shared by all kinds: every list reports the same value.
  CHECK(e.list_rv(crs) == start);
  CHECK(e.list_rv("/api/v1/namespaces") == start);
  CHECK(e.list_rv(all_crs) == start);

  auto w = e.watch_from(cms, start);
  auto a = e.create(cms, cm("a"));
  CHECK(rv_of(a) == start + 1);
  auto c = e.create(crs, cr("c"));
  CHECK(rv_of(c) == start + 2);
  auto a2 = e.patch(cms + "/a", R"({"data":{"k":"w"}})");
  CHECK(rv_of(a2) == start + 3);
  auto del = e.req("DELETE", cms + "/a");
  CHECK(del.status == 200);
  CHECK(e.list_rv(cms) == start + 4);
  CHECK(e.list_rv(crs) == start + 4);
  auto ctl = e.cluster_info();
  CHECK(js::get_int(ctl, {"resourceVersion"}, 0) == static_cast<long long>(start + 4));
  // A GET returns the stored resourceVersion, as a string.
  CHECK(rv_of(e.get(crs + "/c")) == start + 2);
  auto list = e.get(cms);
  REQUIRE(js::find_path(list, {"metadata", "resourceVersion"})->IsString());

  // Exactly one event per write, in order: ADDED, MODIFIED, DELETED, then the next write.
  auto ev = w->expect();
  CHECK(ev.type == "ADDED");
  CHECK(ev.rv == start + 1);
  ev = w->expect();
  CHECK(ev.type == "MODIFIED");
  CHECK(ev.rv == start + 3);
  ev = w->expect();
  CHECK(ev.type == "DELETED");
  CHECK(ev.name() == "a");
  CHECK(ev.rv == start + 4);  // a deletion is a write with its own resourceVersion
  e.create(cms, cm("b"));
  ev = w->expect();
  CHECK(ev.type == "ADDED");
  CHECK(ev.name() == "b");
  CHECK(ev.rv == start + 5);
}

TEST_CASE("semantics: uid and creationTimestamp are set by the server on create and kept on update") {
  env e;
  auto a = e.create(cms, cm("a", R"("uid":"not-a-uid","creationTimestamp":"2001-02-03T04:05:06Z")"));
  std::string uid = meta(a, "uid");
  std::string created = meta(a, "creationTimestamp");
  CHECK_MESSAGE(std::regex_match(uid, uuid_v4), uid);
  CHECK_MESSAGE(std::regex_match(created, rfc3339_seconds), created);
  CHECK(created != "2001-02-03T04:05:06Z");
  CHECK(created.substr(0, 2) == "20");
  auto c = e.create(crs, cr("c", R"("uid":"11111111-1111-4111-8111-111111111111")"));
  CHECK(meta(c, "uid") != "11111111-1111-4111-8111-111111111111");
  CHECK(std::regex_match(meta(c, "uid"), uuid_v4));
  CHECK(meta(c, "uid") != uid);

  // PUT: another creationTimestamp is ignored, a missing uid keeps the stored one.
  js::Document next;
  next.CopyFrom(a, next.GetAllocator());
  js::set_string(next["metadata"], "creationTimestamp", "2001-02-03T04:05:06Z", next.GetAllocator());
  js::remove_member(next["metadata"], "uid");
  js::set_string(next["data"], "k", "changed", next.GetAllocator());
  auto a2 = e.put(cms + "/a", next);
  CHECK(meta(a2, "uid") == uid);
  CHECK(meta(a2, "creationTimestamp") == created);
  CHECK(js::get_string(a2, {"data", "k"}) == "changed");

  // PUT with another uid is a UID precondition failure (409), as in the real registry.
  js::Document other;
  other.CopyFrom(a2, other.GetAllocator());
  js::set_string(other["metadata"], "uid", "22222222-2222-4222-8222-222222222222", other.GetAllocator());
  expect_status(e.req("PUT", cms + "/a", str(other)), 409, "Conflict",
                "Operation cannot be fulfilled on configmaps \"a\": StorageError: invalid object, Code: 4, "
                "Key: /registry/configmaps/default/a, ResourceVersion: 0, AdditionalErrorMsg: Precondition "
                "failed: UID in precondition: 22222222-2222-4222-8222-222222222222, UID in object meta: " +
                    uid,
                R"({"name":"a","kind":"configmaps"})");
  // A patch cannot change the uid either (immutable field); a patched creationTimestamp is ignored.
  expect_status(e.req("PATCH", cms + "/a", R"({"metadata":{"uid":"x"}})", merge), 422, "Invalid",
                "ConfigMap \"a\" is invalid: metadata.uid: Invalid value: \"x\": field is immutable",
                R"({"name":"a","kind":"ConfigMap","causes":[{"reason":"FieldValueInvalid",)"
                R"("message":"Invalid value: \"x\": field is immutable","field":"metadata.uid"}]})");
  auto a3 = e.patch(cms + "/a", R"({"metadata":{"creationTimestamp":"2001-02-03T04:05:06Z"}})");
  CHECK(meta(a3, "creationTimestamp") == created);
  CHECK(rv_of(a3) == rv_of(a2));  // nothing changed
}

TEST_CASE("semantics: generation of custom resources and StatefulSets and ConfigMaps") {
  env e;
  auto c = e.create(crs, cr("c", R"("generation":7,"finalizers":["example.com/hold"])"));
  CHECK(generation(c) == 1);
  c = e.patch(crs + "/c", R"({"spec":{"nodesPerRacks":4,"extra":true}})");
  CHECK(generation(c) == 2);  // one write, one bump
  c = e.patch(crs + "/c", R"({"metadata":{"labels":{"a":"b"},"annotations":{"x":"y"}}})");
  CHECK(generation(c) == 2);  // metadata only
  c = e.patch(crs + "/c/status", R"({"status":{"phase":"Running"}})");
  CHECK(generation(c) == 2);  // status subresource
  CHECK(js::get_string(c, {"status", "phase"}) == "Running");
  // A client cannot set generation.
  c = e.patch(crs + "/c", R"({"metadata":{"generation":42}})");
  CHECK(generation(c) == 2);
  // A top-level field other than spec also counts as a change.
  c = e.patch(crs + "/c", R"({"other":{"a":1}})");
  CHECK(generation(c) == 3);
  // The first DELETE (pending on the finalizer) bumps it once; a repeated DELETE does not.
  auto d = e.expect(200, "DELETE", crs + "/c");
  CHECK(generation(d) == 4);
  d = e.expect(200, "DELETE", crs + "/c");
  CHECK(generation(d) == 4);
  e.patch(crs + "/c", R"({"metadata":{"finalizers":null}})");

  auto sts = e.create("/apis/apps/v1/namespaces/default/statefulsets",
                      R"({"apiVersion":"apps/v1","kind":"StatefulSet","metadata":{"name":"db","generation":5},
      "spec":{"serviceName":"db","replicas":1,"selector":{"matchLabels":{"app":"db"}},
      "template":{"metadata":{"labels":{"app":"db"}},"spec":{"containers":[{"name":"c","image":"busybox"}]}}}})");
  CHECK(generation(sts) == 1);
  const std::string sts_path = "/apis/apps/v1/namespaces/default/statefulsets/db";
  sts = e.patch(sts_path, R"({"spec":{"replicas":3}})");
  CHECK(generation(sts) == 2);
  sts = e.patch(sts_path, R"({"metadata":{"labels":{"tier":"x"}}})");
  CHECK(generation(sts) == 2);
  sts = e.patch(sts_path + "/status", R"({"status":{"replicas":3,"observedGeneration":2}})");
  CHECK(generation(sts) == 2);
  CHECK(js::get_int(sts, {"status", "observedGeneration"}, 0) == 2);

  auto a = e.create(cms, cm("a"));
  CHECK(js::find_path(a, {"metadata", "generation"}) == nullptr);
  a = e.patch(cms + "/a", R"({"data":{"k":"other"}})");
  CHECK(js::find_path(a, {"metadata", "generation"}) == nullptr);
}

TEST_CASE("semantics: the status subresource of a custom resource") {
  env e;
  auto c = e.create(crs, cr("c", "", R"("spec":{"nodesPerRacks":3},"status":{"phase":"Fake"})"));
  CHECK(js::find(c, "status") == nullptr);  // create drops status

  // The main endpoint keeps the stored status and silently ignores a new one.
  js::Document next;
  next.CopyFrom(c, next.GetAllocator());
  js::set_member(next["spec"], "nodesPerRacks", js::Value(4), next.GetAllocator());
  js::set_member(next, "status", js::Value(rapidjson::kObjectType), next.GetAllocator());
  js::set_string(next["status"], "phase", "Ignored", next.GetAllocator());
  c = e.put(crs + "/c", next);
  CHECK(js::get_int(c, {"spec", "nodesPerRacks"}, 0) == 4);
  CHECK(js::find(c, "status") == nullptr);

  // /status takes only status: spec, labels and finalizers of the body are ignored.
  js::Document st;
  st.CopyFrom(c, st.GetAllocator());
  auto& sa = st.GetAllocator();
  js::set_member(st["spec"], "nodesPerRacks", js::Value(9), sa);
  js::set_member(js::ensure_object(st["metadata"], "labels", sa), "l", js::string_value("v", sa), sa);
  js::set_member(st, "status", js::Value(rapidjson::kObjectType), sa);
  js::set_string(st["status"], "phase", "Running", sa);
  auto s = e.put(crs + "/c/status", st);
  CHECK(js::get_string(s, {"status", "phase"}) == "Running");
  CHECK(js::get_int(s, {"spec", "nodesPerRacks"}, 0) == 4);
  CHECK(js::find_path(s, {"metadata", "labels"}) == nullptr);
  CHECK(generation(s) == 2);
  CHECK(rv_of(s) == rv_of(c) + 1);

  // PATCH on the main endpoint ignores status too: here nothing changes, so same resourceVersion.
  auto p = e.patch(crs + "/c", R"({"status":{"phase":"Nope"}})");
  CHECK(js::get_string(p, {"status", "phase"}) == "Running");
  CHECK(rv_of(p) == rv_of(s));
  // PATCH /status ignores everything else.
  p = e.patch(crs + "/c/status", R"({"status":{"phase":"Done"},"metadata":{"labels":{"x":"y"}},"spec":{"nodesPerRacks":1}})");
  CHECK(js::get_string(p, {"status", "phase"}) == "Done");
  CHECK(js::find_path(p, {"metadata", "labels"}) == nullptr);
  CHECK(js::get_int(p, {"spec", "nodesPerRacks"}, 0) == 4);
  // GET /status returns the whole object; a stale PUT /status conflicts.
  auto g = e.get(crs + "/c/status");
  CHECK(js::get_int(g, {"spec", "nodesPerRacks"}, 0) == 4);
  CHECK(js::get_string(g, {"status", "phase"}) == "Done");
  auto stale = e.req("PUT", crs + "/c/status", str(s));
  expect_status(stale, 409, "Conflict",
                std::string("Operation cannot be fulfilled on cassandraclusters.db.orange.com \"c\": ") + conflict_why,
                R"({"name":"c","group":"db.orange.com","kind":"cassandraclusters"})");
}

TEST_CASE("semantics: no-op writes keep the resourceVersion and send no event") {
  env e;
  auto c = e.create(crs, cr("c", R"("labels":{"a":"b"})"));
  auto c2 = e.patch(crs + "/c/status", R"({"status":{"phase":"Running"}})");
  uint64_t rv = rv_of(c2);
  auto w = e.watch_from(crs, rv);

  CHECK(rv_of(e.patch(crs + "/c", R"({"spec":{"nodesPerRacks":3}})")) == rv);
  CHECK(rv_of(e.patch(crs + "/c", R"({"metadata":{"labels":{"a":"b"}}})")) == rv);
  CHECK(rv_of(e.patch(crs + "/c/status", R"({"status":{"phase":"Running"}})")) == rv);
  CHECK(rv_of(e.patch(crs + "/c", R"([{"op":"replace","path":"/spec/nodesPerRacks","value":3}])", json_patch)) == rv);
  CHECK(rv_of(e.put(crs + "/c", c2)) == rv);
  CHECK(rv_of(e.put(crs + "/c/status", c2)) == rv);
  auto a = e.create(cms, cm("a"));
  CHECK(rv_of(e.put(cms + "/a", a)) == rv_of(a));
  CHECK(rv_of(e.patch(cms + "/a", R"({"data":{"k":"v"}})", strategic)) == rv_of(a));

  // The first event the watch sees is the next real change: the no-ops sent nothing.
  auto real = e.patch(crs + "/c", R"({"spec":{"nodesPerRacks":5}})");
  CHECK(rv_of(real) == rv_of(a) + 1);
  auto ev = w->expect();
  CHECK(ev.type == "MODIFIED");
  CHECK(ev.rv == rv_of(real));
  CHECK(js::get_int(ev.object, {"spec", "nodesPerRacks"}, 0) == 5);
}

TEST_CASE("semantics: optimistic concurrency on PUT and PATCH and DELETE") {
  env e;
  auto c1 = e.create(crs, cr("c"));
  auto c2 = e.patch(crs + "/c", R"({"spec":{"nodesPerRacks":4}})");
  const std::string conflict_msg =
      std::string("Operation cannot be fulfilled on cassandraclusters.db.orange.com \"c\": ") + conflict_why;
  const std::string cr_details = R"({"name":"c","group":"db.orange.com","kind":"cassandraclusters"})";

  // PUT with a stale resourceVersion.
  expect_status(e.req("PUT", crs + "/c", str(c1)), 409, "Conflict", conflict_msg, cr_details);
  // PUT without a resourceVersion: 422 on a custom resource...
  expect_status(e.req("PUT", crs + "/c", without_meta(c2, {"resourceVersion"})), 422, "Invalid",
                "CassandraCluster.db.orange.com \"c\" is invalid: metadata.resourceVersion: Invalid value: "
                "0x0: must be specified for an update",
                R"({"name":"c","group":"db.orange.com","kind":"CassandraCluster","causes":[{"reason":)"
                R"("FieldValueInvalid","message":"Invalid value: 0x0: must be specified for an update",)"
                R"("field":"metadata.resourceVersion"}]})");
  // ... while core kinds allow an unconditional update.
  auto a = e.create(cms, cm("a"));
  auto a_old = e.patch(cms + "/a", R"({"data":{"k":"1"}})");
  js::Document unconditional = js::parse(without_meta(a, {"resourceVersion"}));
  js::set_string(unconditional["data"], "k", "2", unconditional.GetAllocator());
  auto a2 = e.put(cms + "/a", unconditional);
  CHECK(js::get_string(a2, {"data", "k"}) == "2");
  expect_status(e.req("PUT", cms + "/a", str(a_old)), 409, "Conflict",
                std::string("Operation cannot be fulfilled on configmaps \"a\": ") + conflict_why,
                R"({"name":"a","kind":"configmaps"})");

  // PATCH without a resourceVersion never conflicts; with a stale one it does.
  auto p = e.patch(crs + "/c", R"({"spec":{"nodesPerRacks":6}})");
  expect_status(e.req("PATCH", crs + "/c",
                      R"({"metadata":{"resourceVersion":")" + std::to_string(rv_of(c2)) + R"("},"spec":{"nodesPerRacks":7}})",
                      merge),
                409, "Conflict", conflict_msg, cr_details);
  expect_status(e.req("PATCH", crs + "/c",
                      R"([{"op":"replace","path":"/metadata/resourceVersion","value":")" +
                          std::to_string(rv_of(c1)) + R"("},{"op":"replace","path":"/spec/nodesPerRacks","value":7}])",
                      json_patch),
                409, "Conflict", conflict_msg, cr_details);
  p = e.patch(crs + "/c", R"({"metadata":{"resourceVersion":")" + std::to_string(rv_of(p)) +
                              R"("},"spec":{"nodesPerRacks":7}})");
  CHECK(js::get_int(p, {"spec", "nodesPerRacks"}, 0) == 7);

  // DELETE preconditions: uid and resourceVersion (checked before anything else happens).
  std::string uid = meta(p, "uid");
  expect_status(e.req("DELETE", crs + "/c", R"({"preconditions":{"uid":"wrong"}})"), 409, "Conflict",
                "Operation cannot be fulfilled on CassandraCluster.db.orange.com \"c\": the UID in the "
                "precondition (wrong) does not match the UID in record (" + uid +
                    "). The object might have been deleted and then recreated",
                R"({"name":"c","group":"db.orange.com","kind":"CassandraCluster"})");
  expect_status(e.req("DELETE", crs + "/c",
                      R"({"preconditions":{"resourceVersion":")" + std::to_string(rv_of(c1)) + R"("}})"),
                409, "Conflict",
                "Operation cannot be fulfilled on CassandraCluster.db.orange.com \"c\": the ResourceVersion "
                "in the precondition (" + std::to_string(rv_of(c1)) + ") does not match the ResourceVersion in record (" +
                    std::to_string(rv_of(p)) + "). The object might have been modified",
                R"({"name":"c","group":"db.orange.com","kind":"CassandraCluster"})");
  expect_status(e.req("DELETE", cms + "/a", R"({"preconditions":{"uid":"wrong"}})"), 409, "Conflict",
                "Operation cannot be fulfilled on ConfigMap \"a\": the UID in the precondition (wrong) does "
                "not match the UID in record (" + meta(a, "uid") +
                    "). The object might have been deleted and then recreated",
                R"({"name":"a","kind":"ConfigMap"})");
  CHECK(e.status_of(crs + "/c") == 200);
  auto ok = e.expect(200, "DELETE", crs + "/c",
                     R"({"preconditions":{"uid":")" + uid + R"(","resourceVersion":")" +
                         std::to_string(rv_of(p)) + R"("}})");
  CHECK(js::get_string(ok, "kind") == "Status");
  CHECK(js::get_string(ok, "status") == "Success");
  CHECK(js::get_string(ok, {"details", "uid"}) == uid);
  CHECK(js::get_string(ok, {"details", "kind"}) == "cassandraclusters");
  CHECK(e.status_of(crs + "/c") == 404);
}

TEST_CASE("semantics: create rules - 201 and generateName and namespace checks and duplicates and names") {
  env e;
  auto r = e.req("POST", cms, cm("a"));
  CHECK(r.status == 201);
  CHECK(r.headers["content-type"] == "application/json");
  CHECK(meta(r.json(), "namespace") == "default");  // filled in from the URL

  auto g = e.create(cms, R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"generateName":"gen-"}})");
  CHECK(std::regex_match(meta(g, "name"), std::regex("gen-[bcdfghjklmnpqrstvwxz2456789]{5}")));
  CHECK(meta(g, "generateName") == "gen-");
  auto g2 = e.create(crs, R"({"apiVersion":"db.orange.com/v2","kind":"CassandraCluster","metadata":{"generateName":"c-"}})");
  CHECK(meta(g2, "name").size() == 7);
  CHECK(meta(g2, "name") != meta(g, "name"));

  expect_status(e.req("POST", "/api/v1/namespaces/nope/configmaps", cm("x")), 404, "NotFound",
                "namespaces \"nope\" not found", R"({"name":"nope","kind":"namespaces"})");
  expect_status(e.req("POST", "/apis/db.orange.com/v2/namespaces/nope/cassandraclusters", cr("x")), 404,
                "NotFound", "namespaces \"nope\" not found", R"({"name":"nope","kind":"namespaces"})");
  expect_status(e.req("POST", cms, cm("x", R"("namespace":"kube-system")")), 400, "BadRequest",
                "the namespace of the provided object does not match the namespace sent on the request");

  // A resourceVersion on create is refused by the store (a plain error: 500, no reason).
  expect_status(e.req("POST", cms, cm("with-rv", R"("resourceVersion":"5")")), 500, "",
                "resourceVersion should not be set on objects to be created");
  CHECK(e.status_of(cms + "/with-rv") == 404);
  expect_status(e.req("POST", cms, cm("a")), 409, "AlreadyExists", "configmaps \"a\" already exists",
                R"({"name":"a","kind":"configmaps"})");
  e.create(crs, cr("c"));
  expect_status(e.req("POST", crs, cr("c")), 409, "AlreadyExists",
                "cassandraclusters.db.orange.com \"c\" already exists",
                R"({"name":"c","group":"db.orange.com","kind":"cassandraclusters"})");

  const std::string subdomain_rule =
      "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
      "and must start and end with an alphanumeric character (e.g. 'example.com', regex used for "
      "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
  js::Document details(rapidjson::kObjectType);
  {
    auto& a = details.GetAllocator();
    details.AddMember("name", "Bad_Name", a);
    details.AddMember("kind", "ConfigMap", a);
    js::Value causes(rapidjson::kArrayType), cause(rapidjson::kObjectType);
    cause.AddMember("reason", "FieldValueInvalid", a);
    cause.AddMember("message", js::string_value("Invalid value: \"Bad_Name\": " + subdomain_rule, a), a);
    cause.AddMember("field", "metadata.name", a);
    causes.PushBack(cause, a);
    details.AddMember("causes", causes, a);
  }
  expect_status(e.req("POST", cms, cm("Bad_Name")), 422, "Invalid",
                "ConfigMap \"Bad_Name\" is invalid: metadata.name: Invalid value: \"Bad_Name\": " + subdomain_rule,
                str(details));
  expect_status(e.req("POST", cms, R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{}})"), 422, "Invalid",
                "ConfigMap \"\" is invalid: metadata.name: Required value: name or generateName is required",
                R"({"kind":"ConfigMap","causes":[{"reason":"FieldValueRequired","message":)"
                R"("Required value: name or generateName is required","field":"metadata.name"}]})");

  // PUT never creates.
  expect_status(e.req("PUT", crs + "/ghost", cr("ghost", R"("resourceVersion":"1")")), 404, "NotFound",
                "cassandraclusters.db.orange.com \"ghost\" not found",
                R"({"name":"ghost","group":"db.orange.com","kind":"cassandraclusters"})");
  expect_status(e.req("PUT", cms + "/ghost", cm("ghost")), 404, "NotFound", "configmaps \"ghost\" not found",
                R"({"name":"ghost","kind":"configmaps"})");
  CHECK(e.status_of(crs + "/ghost") == 404);
}

TEST_CASE("semantics: finalizers hold a deleted object until the last one is removed") {
  env e;
  auto c = e.create(crs, cr("c", R"("finalizers":["example.com/hold"])"));
  auto w = e.watch_from(crs, rv_of(c));

  auto d = e.expect(200, "DELETE", crs + "/c", R"({"propagationPolicy":"Background"})");
  CHECK(js::get_string(d, "kind") == "CassandraCluster");  // the object, not a Status
  CHECK(std::regex_match(meta(d, "deletionTimestamp"), rfc3339_seconds));
  CHECK(js::get_int(d, {"metadata", "deletionGracePeriodSeconds"}, -1) == 0);
  auto ev = w->expect();
  CHECK(ev.type == "MODIFIED");
  CHECK(ev.rv == rv_of(d));
  CHECK(meta(ev.object, "deletionTimestamp") == meta(d, "deletionTimestamp"));
  CHECK(e.status_of(crs + "/c") == 200);

  // A repeated DELETE returns the object unchanged and writes nothing.
  auto again = e.expect(200, "DELETE", crs + "/c");
  CHECK(str(again) == str(d));

  // No finalizer may be added while deleting.
  expect_status(e.req("PATCH", crs + "/c", R"({"metadata":{"finalizers":["example.com/hold","example.com/late"]}})", merge),
                422, "Invalid",
                "CassandraCluster.db.orange.com \"c\" is invalid: metadata.finalizers: Forbidden: no new "
                "finalizers can be added if the object is being deleted, found new finalizers "
                "[]string{\"example.com/late\"}",
                R"({"name":"c","group":"db.orange.com","kind":"CassandraCluster","causes":[{"reason":)"
                R"("FieldValueForbidden","message":"Forbidden: no new finalizers can be added if the object )"
                R"(is being deleted, found new finalizers []string{\"example.com/late\"}","field":"metadata.finalizers"}]})");
  // Other changes are still accepted, and the deletion timestamp cannot be removed.
  auto s = e.patch(crs + "/c", R"({"spec":{"nodesPerRacks":8},"metadata":{"deletionTimestamp":null}})");
  CHECK(meta(s, "deletionTimestamp") == meta(d, "deletionTimestamp"));
  ev = w->expect();  // the MODIFIED of that spec change: the repeated DELETE sent nothing
  CHECK(ev.type == "MODIFIED");
  CHECK(ev.rv == rv_of(s));

  // Removing the last finalizer: MODIFIED (finalizers gone), then DELETED, then 404.
  e.patch(crs + "/c", R"([{"op":"remove","path":"/metadata/finalizers"}])", json_patch);
  ev = w->expect();
  CHECK(ev.type == "MODIFIED");
  CHECK(js::find_path(ev.object, {"metadata", "finalizers"}) == nullptr);
  auto gone = w->expect();
  CHECK(gone.type == "DELETED");
  CHECK(gone.name() == "c");
  CHECK(gone.rv == ev.rv + 1);
  CHECK(e.status_of(crs + "/c") == 404);
}

TEST_CASE("semantics: garbage collection with Background and Orphan and Foreground propagation") {
  env e;
  auto owner_ref = [](const js::Value& owner, bool block = false) {
    return R"("ownerReferences":[{"apiVersion":"v1","kind":"ConfigMap","name":")" + meta(owner, "name") +
           R"(","uid":")" + meta(owner, "uid") + "\"" + (block ? R"(,"blockOwnerDeletion":true)" : "") + "}]";
  };

  SUBCASE("Background deletes the dependents") {
    auto owner = e.create(cms, cm("owner"));
    e.create(cms, cm("dep", owner_ref(owner)));
    e.create(crs, cr("dep-cr", owner_ref(owner)));
    auto other = e.create(cms, cm("unrelated"));
    auto r = e.expect(200, "DELETE", cms + "/owner", R"({"propagationPolicy":"Background"})");
    CHECK(js::get_string(r, "status") == "Success");
    CHECK(e.status_of(cms + "/owner") == 404);
    CHECK(eventually([&] { return e.status_of(cms + "/dep") == 404 && e.status_of(crs + "/dep-cr") == 404; }));
    CHECK(e.status_of(cms + "/unrelated") == 200);
    // A DELETE without options uses Background for these kinds too.
    auto owner2 = e.create(cms, cm("owner2"));
    e.create(cms, cm("dep2", owner_ref(owner2)));
    CHECK(e.req("DELETE", cms + "/owner2").status == 200);
    CHECK(eventually([&] { return e.status_of(cms + "/dep2") == 404; }));
  }

  SUBCASE("Orphan strips the owner references and keeps the dependents") {
    auto owner = e.create(cms, cm("owner"));
    e.create(cms, cm("dep", owner_ref(owner)));
    auto r = e.expect(200, "DELETE", cms + "/owner", R"({"propagationPolicy":"Orphan"})");
    // The owner first carries the orphan finalizer, which the garbage collector then removes.
    CHECK(js::get_string(r, "kind") == "ConfigMap");
    CHECK(at(r, {"metadata", "finalizers"}) == R"(["orphan"])");
    CHECK(eventually([&] { return e.status_of(cms + "/owner") == 404; }));
    CHECK(eventually([&] { return js::find_path(e.get(cms + "/dep"), {"metadata", "ownerReferences"}) == nullptr; }));
    CHECK(e.status_of(cms + "/dep") == 200);
  }

  SUBCASE("Foreground deletes the blocking dependents first") {
    auto owner = e.create(cms, cm("owner"));
    e.create(cms, cm("dep", owner_ref(owner, true) + R"(,"finalizers":["example.com/hold"])"));
    auto r = e.expect(200, "DELETE", cms + "/owner", R"({"propagationPolicy":"Foreground"})");
    CHECK(js::get_string(r, "kind") == "ConfigMap");
    CHECK(at(r, {"metadata", "finalizers"}) == R"(["foregroundDeletion"])");
    CHECK(!meta(r, "deletionTimestamp").empty());
    // The dependent is being deleted; the owner waits for it.
    CHECK(eventually([&] { return !meta(e.get(cms + "/dep"), "deletionTimestamp").empty(); }));
    CHECK(e.status_of(cms + "/owner") == 200);
    e.patch(cms + "/dep", R"({"metadata":{"finalizers":null}})");
    CHECK(eventually([&] { return e.status_of(cms + "/dep") == 404 && e.status_of(cms + "/owner") == 404; }));
  }

  SUBCASE("Foreground without dependents still passes through foregroundDeletion") {
    auto lone = e.create(cms, cm("lone"));
    auto r = e.expect(200, "DELETE", cms + "/lone", R"({"propagationPolicy":"Foreground"})");
    CHECK(js::get_string(r, "kind") == "ConfigMap");
    CHECK(at(r, {"metadata", "finalizers"}) == R"(["foregroundDeletion"])");
    CHECK(eventually([&] { return e.status_of(cms + "/lone") == 404; }));
  }
}

// operator-sdk's leader-for-life lock (CassKop v2.1.0's casskop-lock) relies on three things:
// only one create of a name succeeds (409 AlreadyExists), an owner reference to a Pod, and the
// garbage collector deleting the ConfigMap once that Pod is gone.
TEST_CASE("semantics: a ConfigMap lock owned by a Pod: one create wins, collected with the Pod") {
  env e(false);
  const std::string pods = "/api/v1/namespaces/default/pods";
  auto pod = [&](const std::string& name) {
    return e.create(pods, R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":")" + name +
                              R"("},"spec":{"containers":[{"name":"op","image":"casskop"}]}})");
  };
  auto owned_by = [](const js::Value& p) {
    return R"("ownerReferences":[{"apiVersion":"v1","kind":"Pod","name":")" + meta(p, "name") +
           R"(","uid":")" + meta(p, "uid") + R"("}])";
  };
  auto leader = pod("go-casskop-1");
  auto candidate = pod("go-casskop-2");
  e.create(cms, cm("casskop-lock", owned_by(leader), "{}"));
  // The candidate's create fails as leader.Become expects (apierrors.IsAlreadyExists).
  expect_status(e.req("POST", cms, cm("casskop-lock", owned_by(candidate), "{}")), 409,
                "AlreadyExists", "configmaps \"casskop-lock\" already exists",
                R"({"name":"casskop-lock","kind":"configmaps"})");
  auto lock = e.get(cms + "/casskop-lock");
  const js::Value* refs = js::find_path(lock, {"metadata", "ownerReferences"});
  REQUIRE((refs && refs->IsArray() && refs->Size() == 1));
  CHECK(js::get_string((*refs)[0], "name") == "go-casskop-1");
  // The leader's Pod evicted (status only): the lock stays; only a deletion collects it.
  auto evicted = e.get(pods + "/go-casskop-1");
  auto& a = evicted.GetAllocator();
  auto& status = js::ensure_object(evicted, "status", a);
  js::set_string(status, "phase", "Failed", a);
  js::set_string(status, "reason", "Evicted", a);
  e.put(pods + "/go-casskop-1/status", evicted);
  CHECK(e.status_of(cms + "/casskop-lock") == 200);
  // The leader's Pod deleted: the garbage collector deletes the lock; the candidate's create wins.
  CHECK(e.req("DELETE", pods + "/go-casskop-1").status == 200);
  CHECK(eventually([&] { return e.status_of(cms + "/casskop-lock") == 404; }));
  e.create(cms, cm("casskop-lock", owned_by(candidate), "{}"));
  // A lock whose owner Pod is gone already (another uid under the name, or none) is collected
  // too: the garbage collector checks the owner by uid.
  auto reborn = pod("go-casskop-1");
  e.create(cms, cm("stale-lock",
                   R"("ownerReferences":[{"apiVersion":"v1","kind":"Pod","name":"go-casskop-1",)"
                   R"("uid":"0f000000-0000-0000-0000-000000000000"}])",
                   "{}"));
  CHECK(eventually([&] { return e.status_of(cms + "/stale-lock") == 404; }));
  CHECK(e.status_of(cms + "/casskop-lock") == 200);  // its owner lives
  CHECK(e.status_of(pods + "/go-casskop-1") == 200);
  CHECK(meta(reborn, "uid") != meta(leader, "uid"));
}

TEST_CASE("semantics: query booleans for watch") {
  env e;
  e.create(crs, cr("c"));
  for (const char* q : {"?watch=1", "?watch=True", "?watch=true", "?watch=", "?watch", "?watch=yes"}) {
    CAPTURE(q);
    watch w(e.c, crs + q);
    CHECK(w.status() == 200);
    auto ev = w.expect();
    CHECK(ev.type == "ADDED");
    CHECK(ev.name() == "c");
    w.cancel();
  }
  for (const char* q : {"?watch=false", "?watch=0", "?watch=FALSE", "?watch=False"}) {
    CAPTURE(q);
    auto list = e.get(crs + q);
    CHECK(js::get_string(list, "kind") == "CassandraClusterList");
    CHECK(names_of(list) == std::vector<std::string>{"default/c"});
  }
}

TEST_CASE("semantics: watch start with RV unset or 0 or N delivers every change in order without gaps") {
  env e;
  e.create(crs, cr("a"));
  auto b = e.create(crs, cr("b"));
  for (const char* start : {"", "&resourceVersion=0"}) {
    CAPTURE(start);
    watch w(e.c, crs + "?watch=true" + start);
    std::set<std::string> added;
    for (int i = 0; i < 2; ++i) {
      auto ev = w.expect();
      CHECK(ev.type == "ADDED");
      added.insert(ev.name());
    }
    CHECK(added == std::set<std::string>{"a", "b"});
    auto m = e.patch(crs + "/a", std::string(R"({"metadata":{"labels":{"round":")") + (*start ? "2" : "1") + "\"}}}");
    auto ev = w.expect();
    CHECK(ev.type == "MODIFIED");
    CHECK(ev.rv == rv_of(m));
    w.cancel();
  }

  // From a list's resourceVersion: every later event, in order, nothing else.
  uint64_t from = e.list_rv(crs);
  auto w = e.watch_from(crs, from);
  e.patch(crs + "/a", R"({"spec":{"nodesPerRacks":10}})");
  e.create(crs, cr("c"));
  CHECK(e.req("DELETE", crs + "/b").status == 200);
  e.create(cms, cm("other-kind"));  // another kind: takes a resourceVersion, not an event here
  e.patch(crs + "/c", R"({"spec":{"nodesPerRacks":11}})");
  std::vector<std::pair<std::string, std::string>> want = {
      {"MODIFIED", "a"}, {"ADDED", "c"}, {"DELETED", "b"}, {"MODIFIED", "c"}};
  std::vector<uint64_t> rvs = {from + 1, from + 2, from + 3, from + 5};
  for (size_t i = 0; i < want.size(); ++i) {
    auto ev = w->expect();
    CHECK(ev.type == want[i].first);
    CHECK(ev.name() == want[i].second);
    CHECK(ev.rv == rvs[i]);
  }
  // A second watch from the same point replays the same history.
  auto replay = e.watch_from(crs, from + 2);
  auto ev = replay->expect();
  CHECK(ev.type == "DELETED");
  CHECK(ev.rv == from + 3);
  CHECK(ev.name() == "b");
  CHECK(meta(ev.object, "uid") == meta(b, "uid"));
}

TEST_CASE("semantics: watch stream format and timeoutSeconds") {
  env e;
  e.create(crs, cr("a"));
  e.create(crs, cr("b"));
  // A watch read to its end as a plain request: chunked, application/json, one JSON per line.
  auto t0 = std::chrono::steady_clock::now();
  auto r = e.req("GET", crs + "?watch=true&timeoutSeconds=1");
  auto elapsed = std::chrono::steady_clock::now() - t0;
  CHECK(r.status == 200);
  CHECK(r.headers["content-type"] == "application/json");
  CHECK(r.headers["transfer-encoding"] == "chunked");
  CHECK(r.headers.count("content-length") == 0);
  CHECK(elapsed >= 900ms);
  CHECK(elapsed < 5s);
  REQUIRE(!r.body.empty());
  CHECK(r.body.back() == '\n');
  size_t lines = 0;
  for (size_t pos = 0; pos < r.body.size();) {
    size_t nl = r.body.find('\n', pos);
    REQUIRE(nl != std::string::npos);
    auto d = js::parse(std::string_view(r.body).substr(pos, nl - pos));
    CHECK(js::get_string(d, "type") == "ADDED");
    CHECK(js::get_string(d, {"object", "kind"}) == "CassandraCluster");
    CHECK(js::get_string(d, {"object", "apiVersion"}) == "db.orange.com/v2");
    ++lines;
    pos = nl + 1;
  }
  CHECK(lines == 2);

  // A streaming reader sees the clean end after about a second; the server keeps serving.
  t0 = std::chrono::steady_clock::now();
  watch w(e.c, crs + "?watch=true&timeoutSeconds=1&resourceVersion=" + std::to_string(e.list_rv(crs)));
  CHECK(w.ends_within(5s));
  CHECK(std::chrono::steady_clock::now() - t0 >= 900ms);
  CHECK(e.status_of(crs + "/a") == 200);
}

TEST_CASE("semantics: a watch or a continue token older than the compacted history gets 410 Expired") {
  env e;
  e.create(crs, cr("a"));
  e.create(crs, cr("b"));
  e.create(crs, cr("c"));
  auto page = e.get(crs + "?limit=1");
  std::string token(js::get_string(page, {"metadata", "continue"}));
  REQUIRE(!token.empty());
  uint64_t old_rv = rv_of(page);
  e.patch(crs + "/a", R"({"spec":{"nodesPerRacks":5}})");
  auto now = e.patch(crs + "/b", R"({"spec":{"nodesPerRacks":5}})");
  REQUIRE(e.sim.control("k1", "compact").status == 200);

  watch w(e.c, crs + "?watch=true&resourceVersion=" + std::to_string(old_rv));
  CHECK(w.status() == 200);
  auto ev = w.expect();
  CHECK(ev.type == "ERROR");
  CHECK(js::get_string(ev.object, "kind") == "Status");
  CHECK(js::get_string(ev.object, "apiVersion") == "v1");
  CHECK(js::get_string(ev.object, "status") == "Failure");
  CHECK(js::get_string(ev.object, "reason") == "Expired");
  CHECK(js::get_int(ev.object, {"code"}, 0) == 410);
  CHECK(js::get_string(ev.object, "message").rfind("too old resource version: " + std::to_string(old_rv) + " (", 0) == 0);
  CHECK(w.ends_within(3s));

  // From the current resourceVersion the watch works.
  auto fresh = e.watch_from(crs, rv_of(now));
  e.patch(crs + "/c", R"({"spec":{"nodesPerRacks":5}})");
  CHECK(fresh->expect().name() == "c");

  auto expired = e.req("GET", crs + "?limit=1&continue=" + token);
  CHECK(expired.status == 410);
  auto st = expired.json();
  CHECK(js::get_string(st, "kind") == "Status");
  CHECK(js::get_string(st, "reason") == "Expired");
  CHECK(js::get_int(st, {"code"}, 0) == 410);
}

TEST_CASE("semantics: BOOKMARK events when asked for with a current resourceVersion") {
  env e(true, {"--bookmark-interval-ms", "200"});
  auto a = e.create(crs, cr("a"));
  watch plain(e.c, crs + "?watch=true&resourceVersion=" + std::to_string(rv_of(a)));
  watch marked(e.c, crs + "?watch=true&allowWatchBookmarks=true&resourceVersion=" + std::to_string(rv_of(a)));
  auto b = e.create(crs, cr("b"));
  auto ev = marked.expect_change();
  CHECK(ev.type == "ADDED");
  CHECK(ev.rv == rv_of(b));
  int bookmarks = 0;
  while (bookmarks < 2) {
    auto m = marked.expect(3s);
    REQUIRE(m.type == "BOOKMARK");
    ++bookmarks;
    CHECK(js::get_string(m.object, "kind") == "CassandraCluster");
    CHECK(js::get_string(m.object, "apiVersion") == "db.orange.com/v2");
    CHECK(m.rv >= rv_of(b));
  }
  // Meanwhile the watch without the flag got only the change (no BOOKMARK before the next one).
  CHECK(plain.expect().type == "ADDED");
  auto c = e.patch(crs + "/a", R"({"spec":{"nodesPerRacks":9}})");
  auto next = plain.expect();
  CHECK(next.type == "MODIFIED");
  CHECK(next.rv == rv_of(c));
  ev = marked.expect_change();
  CHECK(ev.rv == rv_of(c));
  auto m = marked.expect(3s);
  CHECK(m.type == "BOOKMARK");
  CHECK(m.rv >= rv_of(c));
}

TEST_CASE("semantics: label and field selectors on watches with transitions") {
  env e;
  uint64_t from = e.list_rv(crs);
  auto w = e.watch_from(crs, from, "&labelSelector=app%3Dx");
  auto byname = e.watch_from(crs, from, "&fieldSelector=metadata.name%3Dc2");
  e.create(crs, cr("c1", R"("labels":{"app":"x"})"));
  e.create(crs, cr("c2", R"("labels":{"app":"y"})"));
  e.patch(crs + "/c1", R"({"metadata":{"labels":{"app":"y"}}})");  // leaves the selector
  e.patch(crs + "/c2", R"({"metadata":{"labels":{"app":"x"}}})");  // enters it
  e.patch(crs + "/c2", R"({"spec":{"nodesPerRacks":4}})");
  e.patch(crs + "/c1", R"({"spec":{"nodesPerRacks":4}})");  // not matching: no event
  CHECK(e.req("DELETE", crs + "/c2").status == 200);
  std::vector<std::pair<std::string, std::string>> want = {
      {"ADDED", "c1"}, {"DELETED", "c1"}, {"ADDED", "c2"}, {"MODIFIED", "c2"}, {"DELETED", "c2"}};
  for (auto& [type, name] : want) {
    auto ev = w->expect();
    CHECK(ev.type == type);
    CHECK(ev.name() == name);
  }
  for (const char* type : {"ADDED", "MODIFIED", "MODIFIED", "DELETED"}) {
    auto ev = byname->expect();
    CHECK(ev.type == type);
    CHECK(ev.name() == "c2");
  }
  // A field a custom resource does not support is a 400, on lists and on watches.
  const char* unsupported = "field label not supported: spec.x";
  expect_status(e.req("GET", crs + "?fieldSelector=spec.x%3D1"), 400, "BadRequest", unsupported);
  expect_status(e.req("GET", crs + "?watch=true&fieldSelector=spec.x%3D1"), 400, "BadRequest", unsupported);
  auto named = e.get(crs + "?fieldSelector=metadata.name%3Dc1");
  CHECK(names_of(named) == std::vector<std::string>{"default/c1"});
  CHECK(names_of(e.get(crs + "?fieldSelector=metadata.name!%3Dc1")).empty());
}

TEST_CASE("semantics: list selectors and paging and sorting and the cross-namespace path") {
  env e;
  const std::string pub = "/apis/db.orange.com/v2/namespaces/kube-public/cassandraclusters";
  e.create(crs, cr("d", R"("labels":{"app":"a"})"));
  e.create(crs, cr("b", R"("labels":{"app":"b"})"));
  e.create(crs, cr("c"));
  e.create(pub, cr("a", R"("labels":{"app":"a","tier":"x"})"));
  e.create(crs, cr("a", R"("labels":{"app":"c"})"));

  auto sel = [&](const std::string& s) { return names_of(e.get(all_crs + "?labelSelector=" + s)); };
  using v = std::vector<std::string>;
  CHECK(sel("app%3Da") == v{"default/d", "kube-public/a"});
  CHECK(sel("app%3D%3Da") == v{"default/d", "kube-public/a"});
  CHECK(sel("app!%3Da") == v{"default/a", "default/b", "default/c"});
  CHECK(sel("app%20in%20(a,b)") == v{"default/b", "default/d", "kube-public/a"});
  CHECK(sel("app%20notin%20(a,b)") == v{"default/a", "default/c"});
  CHECK(sel("app") == v{"default/a", "default/b", "default/d", "kube-public/a"});
  CHECK(sel("!app") == v{"default/c"});
  CHECK(sel("app%3Da,tier%3Dx") == v{"kube-public/a"});
  auto bad_selector = e.req("GET", crs + "?labelSelector=app%20in%20a");
  CHECK(bad_selector.status == 400);
  CHECK(js::get_string(bad_selector.json(), "reason") == "BadRequest");
  CHECK(bad_selector.body.find("unable to parse requirement") != std::string::npos);

  // Namespace then name, in a namespace and across namespaces.
  CHECK(names_of(e.get(crs)) == v{"default/a", "default/b", "default/c", "default/d"});
  auto all = e.get(all_crs);
  CHECK(names_of(all) == v{"default/a", "default/b", "default/c", "default/d", "kube-public/a"});
  CHECK(js::get_string(all, "kind") == "CassandraClusterList");
  CHECK(js::get_string(all, "apiVersion") == "db.orange.com/v2");

  // Paging: limit/continue with remainingItemCount, all pages at the first page's resourceVersion.
  auto p1 = e.get(all_crs + "?limit=2");
  CHECK(names_of(p1) == v{"default/a", "default/b"});
  CHECK(js::get_int(p1, {"metadata", "remainingItemCount"}, -1) == 3);
  std::string tok(js::get_string(p1, {"metadata", "continue"}));
  REQUIRE(!tok.empty());
  e.create(crs, cr("bb"));  // written after the first page: not in this list
  auto p2 = e.get(all_crs + "?limit=2&continue=" + tok);
  CHECK(names_of(p2) == v{"default/c", "default/d"});
  CHECK(js::get_int(p2, {"metadata", "remainingItemCount"}, -1) == 1);
  CHECK(rv_of(p2) == rv_of(p1));
  tok = js::get_string(p2, {"metadata", "continue"});
  REQUIRE(!tok.empty());
  auto p3 = e.get(all_crs + "?limit=2&continue=" + tok);
  CHECK(names_of(p3) == v{"kube-public/a"});
  CHECK(js::find_path(p3, {"metadata", "continue"}) == nullptr);
  CHECK(js::find_path(p3, {"metadata", "remainingItemCount"}) == nullptr);
  CHECK(rv_of(p3) == rv_of(p1));
  // With a selector the server does not know the remaining count.
  auto ps = e.get(all_crs + "?limit=1&labelSelector=app");
  CHECK(names_of(ps) == v{"default/a"});
  CHECK(!std::string(js::get_string(ps, {"metadata", "continue"})).empty());
  CHECK(js::find_path(ps, {"metadata", "remainingItemCount"}) == nullptr);
  // An exact page leaves no continue token.
  auto exact = e.get(pub + "?limit=1");
  CHECK(names_of(exact) == v{"kube-public/a"});
  CHECK(js::find_path(exact, {"metadata", "continue"}) == nullptr);
}

TEST_CASE("semantics: patch types merge and json and strategic and apply") {
  env e;
  e.create(crs, cr("c", R"("labels":{"keep":"1","drop":"1"})", R"("spec":{"nodesPerRacks":3,"list":[1,2]})"));
  // RFC 7386: null removes, lists are replaced.
  auto m = e.patch(crs + "/c", R"({"metadata":{"labels":{"drop":null}},"spec":{"list":[3]}})");
  CHECK(str(*js::find_path(m, {"metadata", "labels"})) == R"({"keep":"1"})");
  CHECK(str(*js::find_path(m, {"spec", "list"})) == "[3]");
  // RFC 6902.
  auto j = e.patch(crs + "/c",
                   R"([{"op":"test","path":"/spec/nodesPerRacks","value":3},{"op":"add","path":"/spec/list/-","value":4},)"
                   R"({"op":"replace","path":"/spec/nodesPerRacks","value":6},{"op":"remove","path":"/metadata/labels/keep"}])",
                   json_patch);
  CHECK(str(*js::find_path(j, {"spec", "list"})) == "[3,4]");
  CHECK(js::get_int(j, {"spec", "nodesPerRacks"}, 0) == 6);
  auto failed = e.req("PATCH", crs + "/c", R"([{"op":"test","path":"/spec/nodesPerRacks","value":1}])", json_patch);
  CHECK(failed.status == 422);
  CHECK(js::get_string(failed.json(), "kind") == "Status");
  CHECK(js::get_string(failed.json(), "reason") == "Invalid");
  CHECK(js::get_int(e.get(crs + "/c"), {"spec", "nodesPerRacks"}, 0) == 6);  // nothing applied

  // Strategic merge on a CR: 415 with the list of what is accepted.
  expect_status(e.req("PATCH", crs + "/c", R"({"spec":{"nodesPerRacks":5}})", strategic), 415,
                "UnsupportedMediaType",
                "the body of the request was in an unknown format - accepted media types include: "
                "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml");
  // Strategic merge on built-ins: maps merge, containers merge by name.
  e.create(cms, cm("a", "", R"({"a":"1"})"));
  auto s = e.patch(cms + "/a", R"({"data":{"b":"2"}})", strategic);
  CHECK(str(*js::find(s, "data")) == R"({"a":"1","b":"2"})");
  const std::string deploys = "/apis/apps/v1/namespaces/default/deployments";
  e.create(deploys, R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},"spec":{"replicas":1,
      "selector":{"matchLabels":{"app":"web"}},"template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[
      {"name":"app","image":"app:1"},{"name":"sidecar","image":"side:1"}]}}}})");
  auto d = e.patch(deploys + "/web", R"({"spec":{"template":{"spec":{"containers":[{"name":"sidecar","image":"side:2"}]}}}})",
                   strategic);
  auto* containers = js::find_path(d, {"spec", "template", "spec", "containers"});
  REQUIRE(containers != nullptr);
  REQUIRE(containers->Size() == 2);
  CHECK(js::get_string((*containers)[0], "image") == "app:1");
  CHECK(js::get_string((*containers)[1], "image") == "side:2");
  CHECK(generation(d) == 2);

  // Server-side apply: fieldManager is required; a missing object is created (201).
  expect_status(e.req("PATCH", crs + "/applied", cr("applied"), apply_yaml), 422, "Invalid",
                "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch",
                R"({"group":"meta.k8s.io","kind":"PatchOptions","causes":[{"reason":"FieldValueRequired",)"
                R"("message":"Required value: is required for apply patch","field":"fieldManager"}]})");
  CHECK(e.status_of(crs + "/applied") == 404);
  auto created = e.req("PATCH", crs + "/applied?fieldManager=test&force=true", cr("applied"), apply_yaml);
  CHECK_MESSAGE(created.status == 201, created.body);
  CHECK(generation(created.json()) == 1);
  auto updated = e.expect(200, "PATCH", crs + "/applied?fieldManager=test",
                          "apiVersion: db.orange.com/v2\nkind: CassandraCluster\nmetadata:\n  name: applied\n"
                          "spec:\n  nodesPerRacks: 4\n",
                          apply_yaml);
  CHECK(js::get_int(updated, {"spec", "nodesPerRacks"}, 0) == 4);
  CHECK(generation(updated) == 2);
  // A patch of a missing object is a 404 for every other type.
  CHECK(e.req("PATCH", crs + "/missing", "{}", merge).status == 404);
}

TEST_CASE("semantics: namespaces are seeded and deletion terminates then empties then removes them") {
  env e;
  auto list = e.get("/api/v1/namespaces");
  std::set<std::string> names;
  for (const auto& n : js::find(list, "items")->GetArray()) {
    names.insert(meta(n, "name"));
    CHECK(js::get_string(n, {"status", "phase"}) == "Active");
  }
  CHECK(names == std::set<std::string>{"default", "kube-node-lease", "kube-public", "kube-system"});
  // The system namespaces cannot be deleted.
  for (const char* keep : {"default", "kube-system", "kube-public"})
    expect_status(e.req("DELETE", std::string("/api/v1/namespaces/") + keep), 403, "Forbidden",
                  std::string("namespaces \"") + keep + "\" is forbidden: this namespace may not be deleted",
                  std::string(R"({"name":")") + keep + R"(","kind":"namespaces"})");

  e.create("/api/v1/namespaces", R"({"apiVersion":"v1","kind":"Namespace","metadata":{"name":"doomed"}})");
  const std::string ns_cms = "/api/v1/namespaces/doomed/configmaps";
  const std::string ns_crs = "/apis/db.orange.com/v2/namespaces/doomed/cassandraclusters";
  e.create(ns_cms, cm("plain"));
  e.create(ns_crs, cr("held", R"("finalizers":["example.com/hold"])"));
  auto d = e.expect(200, "DELETE", "/api/v1/namespaces/doomed");
  CHECK(js::get_string(d, "kind") == "Namespace");
  CHECK(js::get_string(d, {"status", "phase"}) == "Terminating");
  CHECK(!meta(d, "deletionTimestamp").empty());
  CHECK(eventually([&] { return e.status_of(ns_cms + "/plain") == 404; }));
  CHECK(eventually([&] { return !meta(e.get(ns_crs + "/held"), "deletionTimestamp").empty(); }));
  auto ns = e.get("/api/v1/namespaces/doomed");
  CHECK(js::get_string(ns, {"status", "phase"}) == "Terminating");

  expect_status(e.req("POST", ns_cms, cm("late")), 403, "Forbidden",
                "configmaps \"late\" is forbidden: unable to create new content in namespace doomed because "
                "it is being terminated",
                R"({"name":"late","kind":"configmaps","causes":[{"reason":"NamespaceTerminating",)"
                R"("message":"namespace doomed is being terminated","field":"metadata.namespace"}]})");
  e.patch(ns_crs + "/held", R"({"metadata":{"finalizers":null}})");
  CHECK(eventually([&] { return e.status_of("/api/v1/namespaces/doomed") == 404; }));
  expect_status(e.req("POST", ns_cms, cm("after")), 404, "NotFound", "namespaces \"doomed\" not found",
                R"({"name":"doomed","kind":"namespaces"})");
}

TEST_CASE("semantics: a CRD is established at once and served and discoverable and its deletion removes its objects") {
  env e(false);
  auto crd = e.install_crd();
  std::map<std::string, std::string> conds;
  for (const auto& c : js::find_path(crd, {"status", "conditions"})->GetArray())
    conds[std::string(js::get_string(c, "type"))] = js::get_string(c, "status");
  CHECK(conds["NamesAccepted"] == "True");
  CHECK(conds["Established"] == "True");
  CHECK(js::get_string(crd, {"status", "acceptedNames", "kind"}) == "CassandraCluster");
  CHECK(js::get_string(crd, {"status", "acceptedNames", "plural"}) == "cassandraclusters");
  CHECK(str(*js::find_path(crd, {"status", "storedVersions"})) == R"(["v2"])");
  CHECK(generation(crd) == 1);

  // Servable at once.
  CHECK(names_of(e.get(crs)).empty());
  e.create(crs, cr("c"));

  // Legacy discovery.
  auto groups = e.get("/apis");
  CHECK(js::get_string(groups, "kind") == "APIGroupList");
  bool found = false;
  for (const auto& g : js::find(groups, "groups")->GetArray())
    if (js::get_string(g, "name") == "db.orange.com") {
      found = true;
      CHECK(js::get_string(g, {"preferredVersion", "groupVersion"}) == "db.orange.com/v2");
    }
  CHECK(found);
  auto resources = e.get("/apis/db.orange.com/v2");
  CHECK(js::get_string(resources, "kind") == "APIResourceList");
  CHECK(js::get_string(resources, "groupVersion") == "db.orange.com/v2");
  std::map<std::string, const js::Value*> by_name;
  for (const auto& res : js::find(resources, "resources")->GetArray())
    by_name[std::string(js::get_string(res, "name"))] = &res;
  REQUIRE(by_name.count("cassandraclusters"));
  REQUIRE(by_name.count("cassandraclusters/status"));
  const js::Value& main = *by_name["cassandraclusters"];
  CHECK(js::get_string(main, "kind") == "CassandraCluster");
  CHECK(js::get_string(main, "singularName") == "cassandracluster");
  CHECK(js::get_bool(main, {"namespaced"}, false));
  CHECK(str(*js::find(main, "shortNames")) == R"(["cassc","casscs"])");
  std::set<std::string> verbs;
  for (const auto& v : js::find(main, "verbs")->GetArray()) verbs.insert(std::string(js::view(v)));
  CHECK(verbs == std::set<std::string>{"create", "delete", "deletecollection", "get", "list", "patch",
                                       "update", "watch"});

  // Aggregated discovery, only with the exact content type when asked for it.
  auto agg = e.req("GET", "/apis", "", "application/json", {{"Accept", aggregated_accept}});
  CHECK(agg.status == 200);
  CHECK(agg.headers["content-type"] == "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList");
  auto aggd = agg.json();
  CHECK(js::get_string(aggd, "kind") == "APIGroupDiscoveryList");
  CHECK(js::get_string(aggd, "apiVersion") == "apidiscovery.k8s.io/v2");
  bool in_agg = false;
  for (const auto& g : js::find(aggd, "items")->GetArray())
    if (js::get_string(g, {"metadata", "name"}) == "db.orange.com") {
      in_agg = true;
      const auto& res = (*js::find_path(g, {"versions"}))[0]["resources"][0];
      CHECK(js::get_string(res, "resource") == "cassandraclusters");
      CHECK(js::get_string(res, {"responseKind", "kind"}) == "CassandraCluster");
      CHECK(js::get_string(res["subresources"][0], "subresource") == "status");
    }
  CHECK(in_agg);
  auto legacy = e.req("GET", "/apis", "", "application/json", {{"Accept", "application/json"}});
  CHECK(legacy.headers["content-type"] == "application/json");
  CHECK(js::get_string(legacy.json(), "kind") == "APIGroupList");

  // An unchanged CRD written again (a second later) is a no-op: its conditions keep their times.
  const auto now = [] { return k8s::format_time(std::chrono::system_clock::now()); };
  CHECK(eventually([&] { return now() != meta(crd, "creationTimestamp"); }, 3s));
  auto same = e.patch(crd_item, R"({"spec":{"scope":"Namespaced"}})");
  CHECK(rv_of(same) == rv_of(crd));
  CHECK(at(same, {"status", "conditions"}) == at(crd, {"status", "conditions"}));
  CHECK(rv_of(e.put(crd_item, same)) == rv_of(crd));

  // Deleting the CRD: it is marked (finalizer, Terminating), its objects are deleted (their own
  // finalizers still hold them), new ones are refused, and it goes when the last one is gone.
  e.create(crs, cr("held", R"("finalizers":["example.com/hold"])"));
  auto w = e.watch_from(crs, e.list_rv(crs));
  auto d = e.expect(200, "DELETE", crd_item);
  CHECK(js::get_string(d, "kind") == "CustomResourceDefinition");
  CHECK(!meta(d, "deletionTimestamp").empty());
  CHECK(at(d, {"metadata", "finalizers"}) == R"(["customresourcecleanup.apiextensions.k8s.io"])");
  CHECK(generation(d) == 1);
  bool terminating = false;
  for (const auto& c : js::find_path(d, {"status", "conditions"})->GetArray())
    if (js::get_string(c, "type") == "Terminating") terminating = js::get_string(c, "status") == "True";
  CHECK(terminating);
  std::map<std::string, std::string> seen;
  for (int i = 0; i < 2; ++i) {
    auto ev = w->expect();
    seen[ev.name()] = ev.type;
  }
  CHECK(seen["c"] == "DELETED");
  CHECK(seen["held"] == "MODIFIED");  // now carries a deletionTimestamp
  CHECK(!meta(e.get(crs + "/held"), "deletionTimestamp").empty());
  expect_status(e.req("POST", crs, cr("new")), 405, "MethodNotAllowed",
                "create not allowed while custom resource definition is terminating",
                R"({"group":"db.orange.com","kind":"cassandraclusters"})");
  CHECK(e.status_of(crd_item) == 200);
  e.patch(crs + "/held", R"({"metadata":{"finalizers":null}})");
  auto ev = w->expect();
  CHECK(ev.type == "MODIFIED");
  ev = w->expect();
  CHECK(ev.type == "DELETED");
  CHECK(ev.name() == "held");
  CHECK(eventually([&] { return e.status_of(crd_item) == 404; }));
  // Paths of groups that no built-in serves fall through to the plain Go 404 (client-go turns it
  // into "the server could not find the requested resource").
  expect_plain_404(e.req("GET", crs));
  expect_plain_404(e.req("GET", "/apis/db.orange.com/v2"));
  bool still = false;
  for (const auto& g : js::find(e.get("/apis"), "groups")->GetArray())
    if (js::get_string(g, "name") == "db.orange.com") still = true;
  CHECK(!still);
}

TEST_CASE("semantics: Table output for lists and single objects") {
  env e;
  e.create(crs, cr("c1"));
  e.create(crs, cr("c2", "", R"("spec":{"nodesPerRacks":5})"));
  e.patch(crs + "/c2/status", R"({"status":{"phase":"Running"}})");
  auto r = e.req("GET", all_crs + "?limit=500", "", "application/json", {{"Accept", table_accept}});
  REQUIRE(r.status == 200);
  CHECK(r.headers["content-type"] == "application/json");
  auto t = r.json();
  CHECK(js::get_string(t, "kind") == "Table");
  CHECK(js::get_string(t, "apiVersion") == "meta.k8s.io/v1");
  CHECK(rv_of(t) == e.list_rv(crs));
  std::vector<std::string> cols;
  for (const auto& c : js::find(t, "columnDefinitions")->GetArray()) cols.emplace_back(js::get_string(c, "name"));
  // The apiextensions convertor: Name, then the declared columns (Age only when none are declared).
  CHECK(cols == std::vector<std::string>{"Name", "Phase", "Nodes"});
  CHECK(js::get_string(t["columnDefinitions"][2], "type") == "integer");
  CHECK(js::get_string(t["columnDefinitions"][0], "format") == "name");
  const auto& rows = t["rows"];
  REQUIRE(rows.Size() == 2);
  CHECK(str(rows[0]["cells"][0]) == R"("c1")");
  CHECK(rows[0]["cells"][1].IsNull());  // missing value
  CHECK(str(rows[0]["cells"][2]) == "3");  // a number, not a string
  CHECK(str(rows[1]["cells"][1]) == R"("Running")");
  CHECK(str(rows[1]["cells"][2]) == "5");
  const auto& obj = rows[0]["object"];
  CHECK(js::get_string(obj, "kind") == "PartialObjectMetadata");
  CHECK(js::get_string(obj, "apiVersion") == "meta.k8s.io/v1");
  CHECK(meta(obj, "name") == "c1");
  CHECK(meta(obj, "namespace") == "default");
  CHECK(!meta(obj, "uid").empty());

  auto page = e.req("GET", crs + "?limit=1", "", "application/json", {{"Accept", table_accept}}).json();
  CHECK(page["rows"].Size() == 1);
  CHECK(!std::string(js::get_string(page, {"metadata", "continue"})).empty());
  auto one = e.req("GET", crs + "/c2", "", "application/json", {{"Accept", table_accept}}).json();
  CHECK(js::get_string(one, "kind") == "Table");
  REQUIRE(one["rows"].Size() == 1);
  CHECK(str(one["rows"][0]["cells"][0]) == R"("c2")");
}

TEST_CASE("semantics: bad input is refused with the server's status codes") {
  env e;
  auto bad = e.req("POST", cms, "{not json");
  CHECK(bad.status == 400);
  CHECK(js::get_string(bad.json(), "kind") == "Status");
  CHECK(js::get_string(bad.json(), "reason") == "BadRequest");
  CHECK(e.req("PUT", crs + "/x", "[1,2").status == 400);

  // Over 3 MiB: 413 as soon as the headers announce it (the raw client reads the early reply).
  expect_status(raw_post(e.sim.url("k1"), e.sim.token("k1"), cms, 3 * 1024 * 1024 + 1), 413,
                "RequestEntityTooLarge", "Request entity too large: limit is 3145728");
  CHECK(e.status_of(cms + "/big") == 404);

  // Built-in group-versions answer an unknown resource with a Status; anything else gets the
  // plain-text 404 of the handler chain's end.
  const std::string not_found = "the server could not find the requested resource";
  expect_status(e.req("GET", "/api/v1/namespaces/default/nothings"), 404, "NotFound", not_found, "{}");
  expect_status(e.req("GET", "/apis/apps/v1/nothings"), 404, "NotFound", not_found, "{}");
  expect_plain_404(e.req("GET", "/apis/nope.example.com/v1/things"));
  expect_plain_404(e.req("GET", "/apis/db.orange.com/v2/namespaces/default/nothings"));
  expect_plain_404(e.req("GET", "/nonsense"));

  expect_status(e.req("POST", crs, cr("c"), "text/plain"), 415, "UnsupportedMediaType",
                "the body of the request was in an unknown format - accepted media types include: "
                "application/json, application/yaml");
  e.create(crs, cr("c"));
  e.create(cms, cm("a"));
  expect_status(e.req("PATCH", crs + "/c", "{}", "application/foo"), 415, "UnsupportedMediaType",
                "the body of the request was in an unknown format - accepted media types include: "
                "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml");
  expect_status(e.req("PATCH", cms + "/a", "{}", "application/json"), 415, "UnsupportedMediaType",
                "the body of the request was in an unknown format - accepted media types include: "
                "application/json-patch+json, application/merge-patch+json, "
                "application/strategic-merge-patch+json, application/apply-patch+yaml");
  // The server is still fine.
  CHECK(e.status_of(crs + "/c") == 200);
}

TEST_CASE("semantics: a client vanishing in the middle of a watch leaves kubesim serving") {
  env e;
  e.create(crs, cr("c"));
  auto open_watches = [&] { return js::get_int(e.cluster_info(), {"openWatches"}, -1); };
  CHECK(open_watches() == 0);
  {
    watch w(e.c, crs + "?watch=true");
    CHECK(w.expect().type == "ADDED");
    CHECK(open_watches() == 1);
    w.cancel();
  }
  CHECK(eventually([&] { return open_watches() == 0; }, 5s));
  CHECK(e.status_of(crs + "/c") == 200);
  e.patch(crs + "/c", R"({"spec":{"nodesPerRacks":4}})");  // an event with no one left to receive it
  watch again(e.c, crs + "?watch=true");
  CHECK(again.expect().type == "ADDED");
}

TEST_CASE("semantics: Events of core and events.k8s.io and Leases") {
  env e;
  auto c = e.create(crs, cr("c1"));
  const std::string events = "/api/v1/namespaces/default/events";
  auto ev = e.create(events, R"({"apiVersion":"v1","kind":"Event","metadata":{"name":"c1.abc","namespace":"default"},
      "involvedObject":{"apiVersion":"db.orange.com/v2","kind":"CassandraCluster","name":"c1","namespace":"default","uid":")" +
                                 meta(c, "uid") + R"("},
      "reason":"Created","message":"created the cluster","type":"Normal","source":{"component":"operator"},
      "firstTimestamp":"2024-05-01T10:00:00Z","lastTimestamp":"2024-05-01T10:00:00Z","count":1})");
  CHECK(js::get_string(ev, "reason") == "Created");
  e.create(events, R"({"apiVersion":"v1","kind":"Event","metadata":{"name":"other.abc"},
      "involvedObject":{"kind":"ConfigMap","name":"other","namespace":"default"},"reason":"X","message":"y","type":"Normal"})");
  // kubectl describe's query.
  auto listed = e.get(events + "?fieldSelector=involvedObject.name%3Dc1,involvedObject.namespace%3Ddefault,"
                               "involvedObject.kind%3DCassandraCluster,involvedObject.uid%3D" +
                      meta(c, "uid") + "&limit=500");
  CHECK(names_of(listed) == std::vector<std::string>{"default/c1.abc"});
  CHECK(js::get_string(listed, "kind") == "EventList");

  const std::string new_events = "/apis/events.k8s.io/v1/namespaces/default/events";
  auto ne = e.create(new_events, R"({"apiVersion":"events.k8s.io/v1","kind":"Event","metadata":{"name":"c1.def"},
      "eventTime":"2024-05-01T10:00:00.000000Z","reportingController":"example.com/operator","reportingInstance":"op-1",
      "action":"Scale","reason":"Scaled","note":"scaled up","type":"Normal",
      "regarding":{"apiVersion":"db.orange.com/v2","kind":"CassandraCluster","name":"c1","namespace":"default"}})");
  CHECK(js::get_string(ne, "eventTime") == "2024-05-01T10:00:00.000000Z");
  // One store behind both APIs (as on a real server): every Event is listed through either.
  CHECK(names_of(e.get(new_events)) ==
        std::vector<std::string>{"default/c1.abc", "default/c1.def", "default/other.abc"});

  const std::string leases = "/apis/coordination.k8s.io/v1/namespaces/default/leases";
  auto l = e.create(leases, R"({"apiVersion":"coordination.k8s.io/v1","kind":"Lease","metadata":{"name":"op-leader"},
      "spec":{"holderIdentity":"op-1","leaseDurationSeconds":15,"acquireTime":"2024-05-01T10:00:00.000000Z",
      "renewTime":"2024-05-01T10:00:00.000000Z","leaseTransitions":0}})");
  CHECK(js::get_string(l, {"spec", "renewTime"}) == "2024-05-01T10:00:00.000000Z");
  js::Document renewed;
  renewed.CopyFrom(l, renewed.GetAllocator());
  js::set_string(renewed["spec"], "renewTime", "2024-05-01T10:00:05.123456Z", renewed.GetAllocator());
  auto l2 = e.put(leases + "/op-leader", renewed);
  CHECK(js::get_string(l2, {"spec", "renewTime"}) == "2024-05-01T10:00:05.123456Z");
  CHECK(rv_of(l2) == rv_of(l) + 1);
  // A second candidate with the stale copy loses.
  js::set_string(renewed["spec"], "holderIdentity", "op-2", renewed.GetAllocator());
  expect_status(e.req("PUT", leases + "/op-leader", str(renewed)), 409, "Conflict",
                std::string("Operation cannot be fulfilled on leases.coordination.k8s.io \"op-leader\": ") + conflict_why,
                R"({"name":"op-leader","group":"coordination.k8s.io","kind":"leases"})");
  CHECK(js::get_string(e.get(leases + "/op-leader"), {"spec", "holderIdentity"}) == "op-1");
}
