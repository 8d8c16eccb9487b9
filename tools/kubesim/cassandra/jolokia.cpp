#include "jolokia.h"

#include <algorithm>
#include <cctype>

#include "k8s/json/base64.h"

namespace kubesim::cassandra {

namespace json = k8s::json;

namespace {

const char* const kStorageService = "org.apache.cassandra.db:type=StorageService";
const char* const kCompactionManager = "org.apache.cassandra.db:type=CompactionManager";
const char* const kStreamManager = "org.apache.cassandra.net:type=StreamManager";

std::string lower(std::string s) {
  for (char& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string percent_decode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out += char(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

// Jolokia's GET path: segments split on '/', with "!/" an escaped slash and "!!" a '!'.
std::vector<std::string> path_segments(std::string_view path) {
  std::vector<std::string> out(1);
  for (size_t i = 0; i < path.size(); ++i) {
    if (path[i] == '!' && i + 1 < path.size()) {
      out.back() += path[++i];
    } else if (path[i] == '/') {
      out.emplace_back();
    } else {
      out.back() += path[i];
    }
  }
  if (!out.empty() && out.back().empty()) out.pop_back();
  return out;
}

JolokiaRequest from_json(const json::Value& v) {
  JolokiaRequest r;
  if (!v.IsObject()) return r;
  r.type = lower(std::string(json::get_string(v, "type")));
  r.mbean = std::string(json::get_string(v, "mbean"));
  r.attribute = std::string(json::get_string(v, "attribute"));
  r.operation = std::string(json::get_string(v, "operation"));
  r.arguments = std::make_shared<json::Document>();
  r.arguments->SetArray();
  if (const json::Value* args = json::find(v, "arguments"); args && args->IsArray())
    r.arguments->CopyFrom(*args, r.arguments->GetAllocator());
  return r;
}

// The request as Jolokia echoes it (JmxReadRequest / JmxExecRequest.toJSON).
json::Value echo(const JolokiaRequest& r, json::Allocator& a) {
  json::Value o(rapidjson::kObjectType);
  json::set_string(o, "mbean", r.mbean, a);
  if (r.type == "exec") {
    json::set_string(o, "operation", r.operation, a);
    json::Value args;
    if (r.arguments)
      args.CopyFrom(*r.arguments, a);
    else
      args.SetArray();
    json::set_member(o, "arguments", std::move(args), a);
  } else if (!r.attribute.empty()) {
    json::set_string(o, "attribute", r.attribute, a);
  }
  json::set_string(o, "type", r.type, a);
  return o;
}

struct Outcome {
  json::Value value;  // on success
  int status = 200;   // Jolokia status in the body
  std::string error_type, error;
  int waits_for = 0;  // a node work id
};

// Jolokia's error answer (ref §1 "Parsing"): "error" is "<exception class> : <message>".
Outcome fail(int status, std::string type, const std::string& message) {
  Outcome o;
  o.status = status;
  o.error = type + " : " + message;
  o.error_type = std::move(type);
  return o;
}
Outcome java(const JavaError& e) {
  return fail(500, e.type, e.message);
}

json::Value strings(const std::vector<std::string>& v, json::Allocator& a) {
  json::Value arr(rapidjson::kArrayType);
  for (const std::string& s : v) arr.PushBack(json::string_value(s, a), a);
  return arr;
}

std::string arg_string(const JolokiaRequest& r, size_t i) {
  const json::Value& args = *r.arguments;
  if (i >= args.Size()) return "";
  if (args[i].IsString()) return std::string(json::view(args[i]));
  if (args[i].IsNull()) return "";
  return json::to_string(args[i]);
}

Outcome read(Rings& rings, const std::string& pod, Time now, const JolokiaRequest& r,
             json::Allocator& a) {
  Node& node = *rings.node(pod);
  Outcome o;
  auto no_attribute = [&] {
    return fail(404, "javax.management.AttributeNotFoundException",
                "No such attribute: " + r.attribute);
  };
  // StorageService attributes: calls 1-5 of the ref §1 table, plus LiveNodes (the probe, §2).
  if (r.mbean == kStorageService) {
    const std::string& at = r.attribute;
    if (at == "OperationMode")
      o.value = json::string_value(mode_name(node.mode()), a);
    else if (at == "LiveNodes")
      o.value = strings(rings.live_nodes(pod), a);
    else if (at == "UnreachableNodes")
      o.value = strings(rings.unreachable_nodes(pod), a);
    else if (at == "JoiningNodes")
      o.value = strings(rings.joining_nodes(pod), a);
    else if (at == "LeavingNodes")
      o.value = strings(rings.leaving_nodes(pod), a);
    else if (at == "MovingNodes")
      o.value = strings({}, a);
    else if (at == "Keyspaces")
      o.value = strings(rings.keyspace_names(pod), a);
    else if (at == "ReleaseVersion")
      o.value = json::string_value(node.settings().server_version, a);
    else if (at == "ClusterName")
      o.value = json::string_value(node.identity().cluster, a);
    else if (at == "LocalHostId")
      o.value = json::string_value(node.disk().host_id, a);
    else if (at == "HostIdMap") {
      o.value.SetObject();
      for (auto& [ip, id] : rings.host_id_map(pod)) json::set_string(o.value, ip, id, a);
    } else {
      return no_attribute();
    }
    return o;
  }
  if (r.mbean == kCompactionManager) {
    if (r.attribute != "Compactions") return no_attribute();
    // CompactionInfo.asMap of 3.11: every value a string (ref §1 call 12).
    o.value.SetArray();
    for (const Work& w : node.works()) {
      if (!w.compaction_type()) continue;
      json::Value c(rapidjson::kObjectType);
      std::string id = uuid_from(uint64_t(w.id) * 7919 + uint64_t(w.started.count()));
      json::set_string(c, "id", id, a);
      json::set_string(c, "keyspace", w.keyspace, a);
      json::set_string(c, "columnfamily", "data", a);
      json::set_string(c, "completed", "0", a);
      json::set_string(c, "total", std::to_string(node.disk().load_bytes), a);
      json::set_string(c, "taskType", w.compaction_type(), a);
      json::set_string(c, "unit", "bytes", a);
      json::set_string(c, "compactionId", id, a);
      o.value.PushBack(c, a);
    }
    return o;
  }
  if (r.mbean == kStreamManager) {
    if (r.attribute != "CurrentStreams") return no_attribute();
    // StreamStateCompositeData of 3.11 (ref §1 call 13: non-empty means streaming).
    o.value.SetArray();
    for (const Work& w : node.works()) {
      if (!w.streaming(now)) continue;
      const char* what = w.kind == WorkKind::Bootstrap      ? "Bootstrap"
                         : w.kind == WorkKind::Decommission ? "Unbootstrap"
                         : w.kind == WorkKind::Rebuild      ? "Rebuild"
                                                            : "Restore replica count";
      json::Value s(rapidjson::kObjectType);
      json::set_string(s, "planId", uuid_from(uint64_t(w.id) * 104729), a);
      json::set_string(s, "description", what, a);
      json::set_member(s, "sessions", json::Value(rapidjson::kArrayType), a);
      for (const char* k : {"currentRxBytes", "totalRxBytes", "currentTxBytes", "totalTxBytes"})
        json::set_member(s, k, json::Value(0), a);
      json::set_member(s, "rxPercentage", json::Value(0.0), a);
      json::set_member(s, "txPercentage", json::Value(0.0), a);
      o.value.PushBack(s, a);
    }
    return o;
  }
  return fail(404, "javax.management.InstanceNotFoundException", r.mbean);
}

// The StorageService operations CassKop calls (ref §1 calls 6-11), with their overloads in
// Cassandra 3.11 / 4.x: a name without signature must not be overloaded (Jolokia's rule).
struct OperationSpec {
  const char* name;
  std::vector<const char*> signatures;  // "(java.lang.String,[Ljava.lang.String;)"...
};

Outcome exec(Rings& rings, const std::string& pod, Time now, const JolokiaRequest& r,
             json::Allocator& a) {
  Node& node = *rings.node(pod);
  if (r.mbean == kCompactionManager || r.mbean == kStreamManager)
    return fail(400, "java.lang.IllegalArgumentException",
                "No operation " + r.operation + " found on MBean " + r.mbean);
  if (r.mbean != kStorageService)
    return fail(404, "javax.management.InstanceNotFoundException", r.mbean);
  const bool v4 =
      !node.settings().server_version.empty() && node.settings().server_version[0] >= '4';
  const std::vector<OperationSpec> ops = {
      {"describeRingJMX", {"(java.lang.String)"}},
      {"forceKeyspaceCleanup",
       {"(java.lang.String,[Ljava.lang.String;)", "(int,java.lang.String,[Ljava.lang.String;)"}},
      {"upgradeSSTables",
       {"(java.lang.String,boolean,[Ljava.lang.String;)",
        "(java.lang.String,boolean,int,[Ljava.lang.String;)"}},
      {"rebuild",
       {"(java.lang.String)",
        "(java.lang.String,java.lang.String,java.lang.String,java.lang.String)"}},
      {"decommission", {v4 ? "(boolean)" : "()"}},
      {"removeNode", {"(java.lang.String)"}},
  };
  std::string name = r.operation, signature;
  if (auto p = name.find('('); p != std::string::npos) {
    signature = name.substr(p);
    name = name.substr(0, p);
  }
  const OperationSpec* op = nullptr;
  for (const OperationSpec& o : ops)
    if (name == o.name) op = &o;
  if (!op)
    return fail(400, "java.lang.IllegalArgumentException",
                "No operation " + r.operation + " found on MBean " + r.mbean);
  if (signature.empty()) {
    if (op->signatures.size() > 1) {
      std::string found;
      for (const char* s : op->signatures) found += std::string(found.empty() ? "" : ", ") + s;
      return fail(400, "java.lang.IllegalArgumentException",
                  "Operation " + name + " on MBean " + r.mbean +
                      " is overloaded. Signatures found: " + found +
                      ". Please use a signature when specifying the operation.");
    }
    signature = op->signatures.front();
  } else if (std::find_if(op->signatures.begin(), op->signatures.end(),
                          [&](const char* s) { return signature == s; }) == op->signatures.end()) {
    return fail(400, "java.lang.IllegalArgumentException",
                "No operation " + r.operation + " on MBean " + r.mbean + " exists.");
  }
  size_t params =
      signature == "()" ? 0 : size_t(std::count(signature.begin(), signature.end(), ',') + 1);
  if (r.arguments->Size() != params)
    return fail(400, "java.lang.IllegalArgumentException",
                "Invalid number of operation arguments. Operation " + name + " on " + r.mbean +
                    " requires " + std::to_string(params) + " parameters, not " +
                    std::to_string(r.arguments->Size()) + " as given");

  Outcome o;  // value null: void operations (decommission, removeNode, rebuild)
  if (name == "describeRingJMX") {
    auto res = rings.describe_ring(pod, arg_string(r, 0));
    if (auto* e = std::get_if<JavaError>(&res)) return java(*e);
    o.value = strings(std::get<std::vector<std::string>>(res), a);
    return o;
  }
  if (name == "forceKeyspaceCleanup" || name == "upgradeSSTables") {
    // The keyspace is the first String argument of either signature.
    std::string ks = signature.rfind("(int", 0) == 0 ? arg_string(r, 1) : arg_string(r, 0);
    auto names = rings.keyspace_names(pod);
    if (std::find(names.begin(), names.end(), ks) == names.end())
      return fail(500, "java.lang.IllegalArgumentException",
                  "Unknown keyspace/cf pair (" + ks + ")");
    o.value = json::Value(0);  // CompactionManager.AllSSTableOpStatus.SUCCESSFUL
    o.waits_for = node.start_work(
        now, name == "forceKeyspaceCleanup" ? WorkKind::Cleanup : WorkKind::UpgradeSSTables, ks);
    return o;
  }
  if (name == "rebuild") {
    auto res = rings.rebuild(now, pod, arg_string(r, 0));
    if (auto* e = std::get_if<JavaError>(&res)) return java(*e);
    o.waits_for = std::get<int>(res);
    return o;
  }
  if (name == "decommission") {
    if (auto e = rings.decommission(now, pod)) return java(*e);
    for (const Work& w : node.works())
      if (w.kind == WorkKind::Decommission) o.waits_for = w.id;
    return o;
  }
  // removeNode
  auto res = rings.remove_node(now, pod, arg_string(r, 0));
  if (auto* e = std::get_if<JavaError>(&res)) return java(*e);
  o.waits_for = std::get<int>(res);
  return o;
}

}  // namespace

bool authorized(const std::optional<std::string>& authorization,
                const std::optional<Credentials>& expected) {
  if (!expected) return true;
  if (!authorization || authorization->size() < 6 || lower(authorization->substr(0, 6)) != "basic ")
    return false;
  auto decoded = k8s::base64_decode(std::string_view(*authorization).substr(6));
  return decoded && *decoded == expected->user + ":" + expected->password;
}

Decoded decode(const HttpRequest& request) {
  Decoded d;
  std::string path = request.target.substr(0, request.target.find('?'));
  if (request.method == "POST") {
    json::Document doc;
    try {
      doc = json::parse(request.body);
    } catch (const std::exception& e) {
      d.error = std::string("Invalid JSON request: ") + e.what();
      return d;
    }
    if (doc.IsArray()) {
      d.bulk = true;
      for (const json::Value& v : doc.GetArray()) d.requests.push_back(from_json(v));
    } else if (doc.IsObject()) {
      d.requests.push_back(from_json(doc));
    } else {
      d.error = "Invalid JSON request: neither an object nor an array";
    }
    return d;
  }
  // GET /jolokia/<type>/<mbean>/<attribute or operation>/<arguments...>
  const std::string prefix = "/jolokia/";
  if (path.rfind(prefix, 0) != 0) {
    d.error = "No type given";
    return d;
  }
  std::vector<std::string> seg = path_segments(percent_decode(path.substr(prefix.size())));
  JolokiaRequest r;
  r.arguments = std::make_shared<json::Document>();
  r.arguments->SetArray();
  if (!seg.empty()) r.type = lower(seg[0]);
  if (seg.size() > 1) r.mbean = seg[1];
  if (r.type == "exec") {
    if (seg.size() > 2) r.operation = seg[2];
    for (size_t i = 3; i < seg.size(); ++i)
      r.arguments->PushBack(json::string_value(seg[i], r.arguments->GetAllocator()),
                            r.arguments->GetAllocator());
  } else if (seg.size() > 2) {
    r.attribute = seg[2];
  }
  d.requests.push_back(std::move(r));
  return d;
}

HttpReply handle(Rings& rings, const std::string& pod, Time now, const HttpRequest& request,
                 const std::optional<Credentials>& expected, const JolokiaFaults& faults) {
  HttpReply reply;
  reply.hang = faults.hang;
  reply.delay = faults.delay;
  reply.shape = faults;
  if (faults.http_status) reply.status = faults.http_status;
  Node* node = rings.node(pod);
  if (!node || !node->jvm_up()) {
    reply.refused = true;
    return reply;
  }
  rings.advance(now);
  // The agent's BasicAuthenticator: 401 with a challenge and no JSON (ref §1 "Auth").
  if (!authorized(request.authorization, expected)) {
    reply.status = 401;
    reply.content_type = "text/plain";
    reply.headers.emplace_back("WWW-Authenticate", "Basic realm=\"jolokia\"");
    return reply;
  }
  std::string path = request.target.substr(0, request.target.find('?'));
  if (path != "/jolokia" && path.rfind("/jolokia/", 0) != 0) {
    reply.status = 404;
    reply.content_type = "text/html";
    return reply;
  }
  reply.answers = std::make_shared<json::Document>();
  json::Document& doc = *reply.answers;
  auto& a = doc.GetAllocator();
  doc.SetArray();
  Decoded decoded = decode(request);
  reply.bulk = decoded.bulk;
  if (!decoded.error.empty()) {
    json::Value o(rapidjson::kObjectType);
    json::set_string(o, "error_type", "java.lang.IllegalArgumentException", a);
    json::set_string(o, "error", "java.lang.IllegalArgumentException : " + decoded.error, a);
    json::set_member(o, "status", json::Value(400), a);
    doc.PushBack(o, a);
    return reply;
  }
  for (const JolokiaRequest& r : decoded.requests) {
    Outcome out;
    if (r.type != "read" && r.type != "exec") {
      out =
          fail(400, "java.lang.IllegalArgumentException", "Invalid request type '" + r.type + "'");
    } else if (r.mbean.empty()) {
      out = fail(400, "java.lang.IllegalArgumentException", "No MBean name given");
    } else if (!node->mbean_registered()) {
      // Early in STARTING no Cassandra MBean is registered yet (ref §6).
      out = fail(404, "javax.management.InstanceNotFoundException", r.mbean);
    } else if (r.type == "read") {
      out = read(rings, pod, now, r, a);
    } else {
      out = exec(rings, pod, now, r, a);
    }
    json::Value o(rapidjson::kObjectType);
    json::set_member(o, "request", echo(r, a), a);
    if (out.status == 200) {
      json::set_member(o, "value", std::move(out.value), a);
      if (out.waits_for > 0) reply.waits_for.push_back(out.waits_for);
    } else {
      json::set_string(o, "stacktrace",
                       out.error_type + ": " + out.error.substr(out.error.find(" : ") + 3) + "\n",
                       a);
      json::set_string(o, "error_type", out.error_type, a);
      json::set_string(o, "error", out.error, a);
    }
    json::set_member(o, "status", json::Value(out.status), a);
    doc.PushBack(o, a);
  }
  return reply;
}

std::string HttpReply::body(Time now) const {
  if (!answers) return "";
  json::Document copy;
  copy.CopyFrom(*answers, copy.GetAllocator());
  const int64_t stamp = shape.timestamp_millis ? now.count() : now.count() / 1000;
  for (json::Value& v : copy.GetArray()) {
    json::set_member(v, "timestamp", json::Value(stamp), copy.GetAllocator());
    if (shape.value_wrong_type && json::find(v, "value"))
      json::set_member(v, "value", json::Value(42), copy.GetAllocator());
  }
  if (shape.malformed_json) return "{\"request\":{\"type\":\"read\"},\"value\":[\"127.";
  if (!bulk && copy.Size() == 1) return json::to_string(copy[0]);
  return json::to_string(copy);
}

}  // namespace kubesim::cassandra
