// The pods/exec subresource over WebSocket, as kube-apiserver v1.32 serves it to kubectl v1.32
// (KEP-4006): kubectl asks for the subprotocols v5.channel.k8s.io, v4.channel.k8s.io, ... and
// falls back to SPDY only when the upgrade is refused. Each binary message is one channel byte
// and its data (staging/src/k8s.io/apiserver/pkg/util/wsstream/conn.go): 0 stdin, 1 stdout,
// 2 stderr, 3 error (a metav1.Status, the command's end), 4 resize, and in v5 only 255 CLOSE,
// sent by the client to half-close a stream (staging/src/k8s.io/apimachinery/pkg/util/
// remotecommand/constants.go, staging/src/k8s.io/client-go/tools/remotecommand/websocket.go).
// kubesim runs no process: the simulated Cassandra pods answer `nodetool status` and
// `cqlsh -e` from their rings; the server writes the whole output at once.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "k8s/http/http_server.h"
#include "k8s/json/json.h"

namespace kubesim {

struct exec_options {
  std::vector<std::string> command;  // the `command` query parameters, in order
  std::string container;
  // Trailing _: stdin, stdout and stderr are macros of <cstdio>.
  bool stdin_ = false, stdout_ = false, stderr_ = false, tty = false;
};
// Reads the query of GET/POST .../pods/<pod>/exec.
exec_options exec_options_of(const k8s::http::header_list& query);

// What a command printed and its exit code.
struct exec_outcome {
  std::string out;
  std::string err;
  int exit_code = 0;
};

// The subprotocol the server picks from the client's Sec-WebSocket-Protocol list: the first
// one kubesim speaks (v5.channel.k8s.io or v4.channel.k8s.io, both binary), "" when none.
std::string exec_subprotocol(std::string_view offered);

// The messages of a finished command: the empty message on the lowest writable channel that
// tells the client the streams are open (pkg/kubelet/cri/streaming/remotecommand/websocket.go
// createWebSocketStreams), stdout, stderr, then the Status on the error channel (v4WriteStatusFunc
// there: Success, or Failure NonZeroExitCode with details.causes [{reason: ExitCode, message}]).
std::vector<std::string> exec_messages(const exec_options& o, const exec_outcome& r);

// The Status JSON written on the error channel for an exit code.
std::string exec_status_json(int exit_code);

// A Cassandra pod's commands: `nodetool [-h H] [-p P] [-u U] [-pw PW] status` and
// `cqlsh [host [port]] [options] -e|--execute <statement>`; every other command exits 126 with
// "kubesim: command not simulated: ...". nodetool/cqlsh return nullopt when the pod has no node.
struct cassandra_commands {
  std::function<std::optional<std::string>()> nodetool_status;
  std::function<std::optional<exec_outcome>(const std::string& statement)> cqlsh;
};
exec_outcome run_cassandra_command(const std::vector<std::string>& command,
                                   const cassandra_commands& node);

// What a container answers for a command it has no executable for (runc's message, exit 126,
// as kubectl shows it against a real cluster).
exec_outcome not_executable(const std::vector<std::string>& command);

// Runs a command in a container of a pod (kubesim's kubelet): the pod, the container and the
// command.
using exec_runner =
    std::function<exec_outcome(const k8s::json::Value& pod, const std::string& container,
                               const std::vector<std::string>& command)>;

// Answers GET/POST .../pods/<name>/exec for `pod` (found, and authorized for create on
// pods/exec by the caller): the checks of the pod REST connect handler (throws api_error 400),
// then the WebSocket exchange. Without a runner every command is not_executable().
void serve_pod_exec(const std::shared_ptr<k8s::http::exchange>& ex, const k8s::json::Value& pod,
                    const exec_runner& run);

}  // namespace kubesim
