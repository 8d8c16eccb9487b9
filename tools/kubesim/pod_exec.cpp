#include "tools/kubesim/pod_exec.h"

#include <fmt/format.h>

#include "tools/kubesim/api_error.h"

namespace kubesim {
namespace {

// staging/src/k8s.io/apimachinery/pkg/util/remotecommand/constants.go
constexpr char kStdout = 1;
constexpr char kStderr = 2;
constexpr char kError = 3;

bool query_true(const std::string& v) {
  return v == "true" || v == "1" || v == "True";
}

std::string trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return std::string(s);
}

std::string joined(const std::vector<std::string>& command) {
  std::string out;
  for (const auto& c : command) out += (out.empty() ? "" : " ") + c;
  return out;
}

exec_outcome not_simulated(const std::vector<std::string>& command) {
  return {"", fmt::format("kubesim: command not simulated: {}\n", joined(command)), 126};
}

}  // namespace

exec_options exec_options_of(const k8s::http::header_list& query) {
  exec_options o;
  for (const auto& [k, v] : query) {
    if (k == "command")
      o.command.push_back(v);
    else if (k == "container")
      o.container = v;
    else if (k == "stdin")
      o.stdin_ = query_true(v);
    else if (k == "stdout")
      o.stdout_ = query_true(v);
    else if (k == "stderr")
      o.stderr_ = query_true(v);
    else if (k == "tty")
      o.tty = query_true(v);
  }
  return o;
}

std::string exec_subprotocol(std::string_view offered) {
  std::vector<std::string> names;
  while (!offered.empty()) {
    auto comma = offered.find(',');
    names.push_back(trim(offered.substr(0, comma)));
    offered = comma == std::string_view::npos ? std::string_view{} : offered.substr(comma + 1);
  }
  // The client's first offered protocol the server supports (wsstream conn.go handshake). v5
  // goes to the API server's StreamTranslator (apiserver/pkg/util/proxy/websocket.go, v5 only),
  // older ones through to the kubelet's WebSocket server
  // (pkg/kubelet/cri/streaming/remotecommand/websocket.go, v4 among others).
  for (const auto& n : names)
    if (n == "v5.channel.k8s.io" || n == "v4.channel.k8s.io") return n;
  return {};
}

std::string exec_status_json(int exit_code) {
  if (exit_code == 0) return R"({"metadata":{},"status":"Success"})";
  // pkg/kubelet/cri/streaming/remotecommand/exec.go: a CodeExitError becomes this Status.
  return fmt::format(
      R"({{"metadata":{{}},"status":"Failure","message":"command terminated with non-zero exit code: command terminated with exit code {0}","reason":"NonZeroExitCode","details":{{"causes":[{{"reason":"ExitCode","message":"{0}"}}]}}}})",
      exit_code);
}

std::vector<std::string> exec_messages(const exec_options& o, const exec_outcome& r) {
  auto message = [](char channel, std::string_view data) {
    std::string m(1, channel);
    m.append(data);
    return m;
  };
  std::vector<std::string> out;
  out.push_back(std::string(1, o.stdout_ ? kStdout : o.stderr_ ? kStderr : kError));
  // With a tty the container's stderr is merged into stdout (there is no stderr stream).
  if (o.stdout_ && !r.out.empty()) out.push_back(message(kStdout, r.out));
  if (!r.err.empty()) {
    if (o.stderr_ && !o.tty)
      out.push_back(message(kStderr, r.err));
    else if (o.stdout_ && o.tty)
      out.push_back(message(kStdout, r.err));
  }
  out.push_back(message(kError, exec_status_json(r.exit_code)));
  return out;
}

exec_outcome not_executable(const std::vector<std::string>& command) {
  const std::string exe = command.empty() ? std::string() : command.front();
  return {"",
          fmt::format("OCI runtime exec failed: exec failed: unable to start container process: "
                      "exec: \"{}\": executable file not found in $PATH: unknown\n",
                      exe),
          126};
}

exec_outcome run_cassandra_command(const std::vector<std::string>& command,
                                   const cassandra_commands& node) {
  if (command.empty()) return not_simulated(command);
  // `sh -c "nodetool status"` and the like are not interpreted: only the direct forms.
  if (command[0] == "nodetool") {
    std::vector<std::string> rest;
    for (size_t i = 1; i < command.size(); ++i) {
      const auto& a = command[i];
      if ((a == "-h" || a == "--host" || a == "-p" || a == "--port" || a == "-u" ||
           a == "--username" || a == "-pw" || a == "--password") &&
          i + 1 < command.size()) {
        ++i;  // one node answers whatever host is named: the pod's own
        continue;
      }
      rest.push_back(a);
    }
    if (rest == std::vector<std::string>{"status"}) {
      auto text = node.nodetool_status ? node.nodetool_status() : std::nullopt;
      if (!text)
        return {"",
                "nodetool: Failed to connect to '127.0.0.1:7199' - ConnectException: 'Connection "
                "refused (Connection refused)'.\n",
                1};
      return {*text, "", 0};
    }
    return not_simulated(command);
  }
  if (command[0] == "cqlsh") {
    for (size_t i = 1; i + 1 < command.size(); ++i) {
      if (command[i] != "-e" && command[i] != "--execute") continue;
      auto r = node.cqlsh ? node.cqlsh(command[i + 1]) : std::nullopt;
      if (!r)
        return {"",
                "Connection error: ('Unable to connect to any servers', {'127.0.0.1:9042': "
                "ConnectionRefusedError(111, \"Tried connecting to [('127.0.0.1', 9042)]. Last "
                "error: Connection refused\")})\n",
                1};
      return *r;
    }
    for (const auto& a : command)
      if (a.rfind("--execute=", 0) == 0) {
        auto r = node.cqlsh ? node.cqlsh(a.substr(10)) : std::nullopt;
        if (r) return *r;
      }
    return not_simulated(command);
  }
  return not_simulated(command);
}

void serve_pod_exec(const std::shared_ptr<k8s::http::exchange>& ex, const k8s::json::Value& pod,
                    const exec_runner& run) {
  namespace js = k8s::json;
  const auto& r = ex->req();
  auto o = exec_options_of(r.query);
  const std::string name(js::get_string(pod, {"metadata", "name"}));
  // pkg/registry/core/pod/strategy.go ExecLocation / streamLocation and
  // pkg/apis/core/validation PodExecOptions: the checks before any connection is made.
  if (!o.stdin_ && !o.stdout_ && !o.stderr_)
    throw bad_request("you must specify at least 1 of stdin, stdout, stderr");
  if (o.command.empty()) throw bad_request("you must specify a command");
  std::vector<std::string> containers;
  if (const auto* list = js::find(pod, "spec"); list && list->IsObject())
    if (const auto* cs = js::find(*list, "containers"); cs && cs->IsArray())
      for (const auto& c : cs->GetArray())
        if (c.IsObject()) containers.emplace_back(js::get_string(c, "name"));
  if (o.container.empty()) {
    if (containers.size() != 1) {
      std::string names;
      for (const auto& c : containers) names += (names.empty() ? "" : " ") + c;
      throw bad_request(fmt::format(
          "a container name must be specified for pod {}, choose one of: [{}]", name, names));
    }
    o.container = containers.front();
  }
  bool known = false;
  for (const auto& c : containers) known = known || c == o.container;
  if (!known)
    throw bad_request(fmt::format("container {} is not valid for pod {}", o.container, name));
  const auto phase = js::get_string(pod, {"status", "phase"});
  if (phase == "Succeeded" || phase == "Failed")
    throw bad_request(
        fmt::format("cannot exec into a container in a completed pod; current phase is {}", phase));
  // v1.32's API server translates WebSocket to the kubelet's SPDY (StreamTranslatorHandler);
  // kubesim speaks only the WebSocket side. A request that is no WebSocket upgrade (SPDY, or a
  // client offering no subprotocol we speak) is refused like a failed upgrade.
  std::string upgrade(r.header("Upgrade"));
  for (auto& c : upgrade) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const auto protocol = exec_subprotocol(r.header("Sec-WebSocket-Protocol"));
  if (upgrade != "websocket" || protocol.empty()) throw bad_request("Upgrade request required");
  auto outcome = run ? run(pod, o.container, o.command) : not_executable(o.command);
  ex->websocket_reply(protocol, exec_messages(o, outcome));
}

}  // namespace kubesim
