#include "actors/casskop/logic/jolokia_codec.h"

#include <cctype>

#include "k8s/json/base64.h"

namespace casskop::jolokia {
namespace js = k8s::json;

namespace {

// The body go_jolokia marshals (JolokiaRequest: type, mbean, attribute or operation and
// arguments, path, target): the empty `path` and `target` are sent as v2.1.0 sends them, so an
// agent that took v2.1.0's requests takes ours.
request make(const char* type, const char* mbean, std::string_view name,
             const js::Value* arguments) {
  js::Document d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  js::set_string(d, "type", type, a);
  js::set_string(d, "mbean", mbean, a);
  request r;
  r.type = type;
  r.mbean = mbean;
  r.name = std::string(name);
  if (arguments) {
    js::set_string(d, "operation", name, a);
    js::Value args;
    args.CopyFrom(*arguments, a);
    r.arguments = js::to_string(args);
    js::set_member(d, "arguments", std::move(args), a);
  } else {
    js::set_string(d, "attribute", name, a);
  }
  js::set_string(d, "path", "", a);
  js::Value target(rapidjson::kObjectType);
  js::set_string(target, "url", "", a);
  js::set_string(target, "password", "", a);
  js::set_string(target, "user", "", a);
  js::set_member(d, "target", std::move(target), a);
  r.body = js::to_string(d);
  return r;
}

request read(const char* mbean, std::string_view attribute) {
  return make("READ", mbean, attribute, nullptr);
}

// An EXEC on StorageService; `fill` adds the arguments to an array.
template <class Fill>
request exec(std::string_view operation, Fill fill) {
  js::Document args(rapidjson::kArrayType);
  fill(args, args.GetAllocator());
  return make("EXEC", storage_service, operation, &args);
}

error fail(failure kind, std::string message, int status = 0) {
  error e;
  e.kind = kind;
  e.status = status;
  e.message = std::move(message);
  return e;
}

template <class T>
result<T> failed(error e) {
  result<T> r;
  r.err = std::move(e);
  return r;
}

template <class T>
result<T> succeeded(T v) {
  result<T> r;
  r.value = std::move(v);
  return r;
}

// A short, safe excerpt of a body for messages (an agent's page may be long).
std::string excerpt(std::string_view body) {
  std::string s(body.substr(0, 120));
  for (char& c : s)
    if (!std::isprint(static_cast<unsigned char>(c))) c = ' ';
  return body.size() > 120 ? s + "..." : s;
}

std::string type_name(const js::Value& v) {
  if (v.IsNull()) return "null";
  if (v.IsBool()) return "a boolean";
  if (v.IsNumber()) return "a number";
  if (v.IsString()) return "a string";
  if (v.IsArray()) return "an array";
  return "an object";
}

// The value of a good answer, or the failure (envelope's, or a missing value).
struct value_of {
  result<js::Document> envelope;
  const js::Value* value = nullptr;
  explicit value_of(const http_reply& r) : envelope(parse_envelope(r)) {
    if (envelope.ok()) value = js::find(*envelope.value, "value");
  }
  error wrong(const char* expected) const {
    return fail(failure::malformed, std::string("value is ") +
                                        (value ? type_name(*value) : "missing") + ", expected " +
                                        expected);
  }
};

}  // namespace

std::string url(std::string_view host) {
  return "http://" + std::string(host) + ":" + std::to_string(port) + "/jolokia/";
}

std::string request::describe() const {
  std::string_view m = mbean;
  if (auto p = m.find(":type="); p != std::string_view::npos) m = m.substr(p + 6);
  std::string s = type + " " + std::string(m) + "/" + name;
  if (type == "EXEC") s += " " + arguments;
  return s;
}

request read_operation_mode() {
  return read(storage_service, "OperationMode");
}
request read_host_id_map() {
  return read(storage_service, "HostIdMap");
}
request read_joining_nodes() {
  return read(storage_service, "JoiningNodes");
}
request read_leaving_nodes() {
  return read(storage_service, "LeavingNodes");
}
request read_keyspaces() {
  return read(storage_service, "Keyspaces");
}
request read_compactions() {
  return read(compaction_manager, "Compactions");
}
request read_current_streams() {
  return read(stream_manager, "CurrentStreams");
}

// node_operations.go:343 (hasKeyspaceDataInDC).
request describe_ring(std::string_view keyspace) {
  return exec("describeRingJMX", [&](js::Value& args, js::Allocator& a) {
    args.PushBack(js::string_value(keyspace, a), a);
  });
}

// node_operations.go:185: overloaded, so the signature is given.
request force_keyspace_cleanup(std::string_view keyspace) {
  auto r = exec("forceKeyspaceCleanup(java.lang.String,[Ljava.lang.String;)",
                [&](js::Value& args, js::Allocator& a) {
                  args.PushBack(js::string_value(keyspace, a), a);
                  args.PushBack(js::Value(rapidjson::kArrayType), a);
                });
  r.long_running = true;
  return r;
}

// node_operations.go:214 (v2.1.0 sends threads = 0: all compaction threads).
request upgrade_sstables(std::string_view keyspace, int jobs) {
  auto r = exec("upgradeSSTables(java.lang.String,boolean,int,[Ljava.lang.String;)",
                [&](js::Value& args, js::Allocator& a) {
                  args.PushBack(js::string_value(keyspace, a), a);
                  args.PushBack(true, a);
                  args.PushBack(jobs, a);
                  args.PushBack(js::Value(rapidjson::kArrayType), a);
                });
  r.long_running = true;
  return r;
}

// node_operations.go:228.
request rebuild(std::string_view source_dc) {
  auto r = exec("rebuild(java.lang.String)", [&](js::Value& args, js::Allocator& a) {
    args.PushBack(js::string_value(source_dc, a), a);
  });
  r.long_running = true;
  return r;
}

bool takes_force_flag(std::string_view v) {
  size_t i = 0;
  int major = 0;
  while (i < v.size() && std::isdigit(static_cast<unsigned char>(v[i])) && major < 1000)
    major = major * 10 + (v[i++] - '0');
  return i > 0 && major >= 4;
}

// node_operations.go:239 (NodeDecommission): no signature, `[]` or `[true]` (force).
// Decommission returns only once the node has left (streaming included): casskop does not wait
// on it, it polls OperationMode, so the call gets the short limit and a timeout is expected.
request decommission(std::string_view server_version) {
  const bool force = takes_force_flag(server_version);
  return exec("decommission", [&](js::Value& args, js::Allocator& a) {
    if (force) args.PushBack(true, a);
  });
}

// node_operations.go:253.
request remove_node(std::string_view host_id) {
  auto r = exec("removeNode", [&](js::Value& args, js::Allocator& a) {
    args.PushBack(js::string_value(host_id, a), a);
  });
  r.long_running = true;
  return r;
}

std::string_view failure_name(failure f) {
  switch (f) {
    case failure::none:
      return "ok";
    case failure::refused:
      return "refused";
    case failure::timeout:
      return "timeout";
    case failure::transport:
      return "transport";
    case failure::no_credentials:
      return "no_credentials";
    case failure::unauthorized:
      return "unauthorized";
    case failure::http_status:
      return "http_status";
    case failure::jolokia_error:
      return "jolokia_error";
    case failure::malformed:
      return "malformed";
  }
  return "unknown";
}

std::string error::describe() const {
  std::string s(failure_name(kind));
  if (status) s += " " + std::to_string(status);
  if (!error_type.empty()) s += " " + error_type;
  if (!message.empty()) s += ": " + message;
  return s;
}

result<js::Document> parse_envelope(const http_reply& r) {
  if (!r.transport.ok()) return failed<js::Document>(r.transport);
  if (r.status == 401)
    return failed<js::Document>(
        fail(failure::unauthorized, "HTTP 401: the Jolokia credentials were refused", 401));
  if (r.status != 200)
    return failed<js::Document>(fail(failure::http_status,
                                     "HTTP " + std::to_string(r.status) + " " + excerpt(r.body),
                                     r.status));
  js::Document d;
  try {
    d = js::parse(r.body);
  } catch (const std::exception& e) {
    return failed<js::Document>(fail(failure::malformed, std::string("not JSON: ") + e.what()));
  }
  if (!d.IsObject())
    return failed<js::Document>(fail(failure::malformed, "the answer is not a JSON object"));
  // Real Jolokia answers an MBean's exception with HTTP 200 and its own status (4xx/5xx).
  const js::Value* status = js::find(d, "status");
  const std::string_view message = js::get_string(d, "error");
  const int st = status && status->IsInt() ? status->GetInt() : 0;
  if (!message.empty() || (st != 0 && st != 200)) {
    error e = fail(failure::jolokia_error,
                   message.empty() ? "status " + std::to_string(st) : std::string(message), st);
    e.error_type = std::string(js::get_string(d, "error_type"));
    return failed<js::Document>(std::move(e));
  }
  if (st != 200)
    return failed<js::Document>(fail(failure::malformed, "the answer has no numeric status"));
  return succeeded(std::move(d));
}

result<std::string> parse_operation_mode(const http_reply& r) {
  value_of v(r);
  if (!v.envelope.ok()) return failed<std::string>(v.envelope.err);
  if (!v.value || !v.value->IsString()) return failed<std::string>(v.wrong("a string"));
  return succeeded(std::string(js::view(*v.value)));
}

result<std::map<std::string, std::string>> parse_host_id_map(const http_reply& r) {
  using map = std::map<std::string, std::string>;
  value_of v(r);
  if (!v.envelope.ok()) return failed<map>(v.envelope.err);
  if (!v.value || !v.value->IsObject()) return failed<map>(v.wrong("an object"));
  map out;
  for (const auto& m : v.value->GetObject()) {
    if (!m.value.IsString())
      return failed<map>(fail(failure::malformed, "host id of " + std::string(js::view(m.name)) +
                                                      " is " + type_name(m.value)));
    out[std::string(js::view(m.name))] = std::string(js::view(m.value));
  }
  return succeeded(std::move(out));
}

result<std::vector<std::string>> parse_string_list(const http_reply& r) {
  using list = std::vector<std::string>;
  value_of v(r);
  if (!v.envelope.ok()) return failed<list>(v.envelope.err);
  if (!v.value || !v.value->IsArray()) return failed<list>(v.wrong("an array"));
  list out;
  for (const auto& e : v.value->GetArray()) {
    if (!e.IsString())
      return failed<list>(fail(failure::malformed, "an element is " + type_name(e)));
    out.emplace_back(js::view(e));
  }
  return succeeded(std::move(out));
}

result<std::vector<token_range>> parse_describe_ring(const http_reply& r) {
  using ring = std::vector<token_range>;
  auto strings = parse_string_list(r);
  if (!strings.ok()) return failed<ring>(strings.err);
  ring out;
  static constexpr std::string_view key = "datacenter:";
  for (auto& s : *strings.value) {
    token_range t;
    for (size_t p = s.find(key); p != std::string::npos; p = s.find(key, p)) {
      p += key.size();
      size_t end = s.find_first_of(",) ]", p);
      if (end == std::string::npos) end = s.size();
      t.datacenters.push_back(s.substr(p, end - p));
    }
    t.text = std::move(s);
    out.push_back(std::move(t));
  }
  return succeeded(std::move(out));
}

bool replicates_to(const std::vector<token_range>& ring, std::string_view dc) {
  for (const auto& t : ring)
    for (const auto& d : t.datacenters)
      if (d == dc) return true;
  return false;
}

result<nothing> parse_exec(const http_reply& r) {
  auto e = parse_envelope(r);
  if (!e.ok()) return failed<nothing>(e.err);
  return succeeded(nothing{});
}

result<std::vector<std::string>> parse_compaction_types(const http_reply& r) {
  using list = std::vector<std::string>;
  value_of v(r);
  if (!v.envelope.ok()) return failed<list>(v.envelope.err);
  if (!v.value || !v.value->IsArray()) return failed<list>(v.wrong("an array"));
  list out;
  for (const auto& c : v.value->GetArray()) {
    if (!c.IsObject())
      return failed<list>(fail(failure::malformed, "a compaction is " + type_name(c)));
    out.emplace_back(js::get_string(c, "taskType"));
  }
  return succeeded(std::move(out));
}

result<bool> parse_has_streams(const http_reply& r) {
  value_of v(r);
  if (!v.envelope.ok()) return failed<bool>(v.envelope.err);
  if (!v.value || !v.value->IsArray()) return failed<bool>(v.wrong("an array"));
  return succeeded(!v.value->Empty());
}

std::optional<credentials> credentials_from_secret(const js::Value& secret, std::string& problem) {
  credentials c;
  for (auto [key, out] : {std::pair{"username", &c.user}, std::pair{"password", &c.password}}) {
    const js::Value* v = js::find_path(secret, {"data", key});
    if (!v || !v->IsString()) {
      // stringData is folded into data by the API server; a Secret read back has only data.
      problem = std::string("the Secret has no data.") + key;
      return std::nullopt;
    }
    auto decoded = k8s::base64_decode(js::view(*v));
    if (!decoded) {
      problem = std::string("data.") + key + " of the Secret is not base64";
      return std::nullopt;
    }
    *out = std::move(*decoded);
  }
  return c;
}

bool is_local_system_keyspace(std::string_view keyspace) {
  return keyspace == "system" || keyspace == "system_schema";
}

}  // namespace casskop::jolokia
