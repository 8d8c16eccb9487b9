// What casskop says to a Cassandra node's Jolokia agent and how it reads the answers: the
// request bodies of every call CassKop v2.1.0 makes (controllers/cassandracluster/
// node_operations.go, through go_jolokia), and the answers parsed into typed results with the
// failure classified. Pure: no I/O (jolokia_client.h sends these), no CAF.
//
// Reference: shared/reference/cassandra-nodes.md §1. Differences from v2.1.0, on purpose:
// - a `value` of the wrong type is an error (v2.1.0 reads a non-string OperationMode as "" and
//   a non-array JoiningNodes as "nobody joining");
// - `timestamp` is not read at all (go_jolokia decodes it into a uint32, so an agent answering
//   in milliseconds fails every call there; any number, or none, is fine here);
// - describeRingJMX: a DC is matched as a whole name (v2.1.0's regex `datacenter:dc1` also
//   matches `datacenter:dc10`);
// - decommission's arity compares the major version as a number (see decommission()).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "k8s/json/json.h"

namespace casskop::jolokia {

inline constexpr int port = 8778;
inline constexpr const char* storage_service = "org.apache.cassandra.db:type=StorageService";
inline constexpr const char* compaction_manager = "org.apache.cassandra.db:type=CompactionManager";
inline constexpr const char* stream_manager = "org.apache.cassandra.net:type=StreamManager";

// http://<podIP>:8778/jolokia/ (v2.1.0 JolokiaURL: trailing slash, no query string). casskop
// reaches a node by its pod IP: v2.1.0's <pod>.<cc> only resolves inside the cluster.
std::string url(std::string_view host);

// One call: what is POSTed (Content-Type application/json) and how to name it in logs.
struct request {
  std::string type;       // READ or EXEC
  std::string mbean;      // e.g. storage_service
  std::string name;       // the attribute, or the operation with its signature when it has one
  std::string arguments;  // EXEC arguments as JSON text ("[]" for none), for logs
  std::string body;       // the JSON object sent
  // A blocking EXEC (cleanup, upgradesstables, rebuild, removeNode): the node answers only when
  // the work is done, so the client gives it jolokia.execTimeout instead of jolokia.timeout.
  bool long_running = false;
  // "READ StorageService/OperationMode": short, for logs and Events.
  std::string describe() const;
};

// The §1 table, in its order.
request read_operation_mode();                                      // 1
request read_host_id_map();                                         // 2
request read_joining_nodes();                                       // 3
request read_leaving_nodes();                                       // 4
request read_keyspaces();                                           // 5
request describe_ring(std::string_view keyspace);                   // 6 describeRingJMX [ks]
request force_keyspace_cleanup(std::string_view keyspace);          // 7 [ks, []]
request upgrade_sstables(std::string_view keyspace, int jobs = 0);  // 8 [ks, true, jobs, []]
request rebuild(std::string_view source_dc);                        // 9 [srcDC]
request decommission(std::string_view server_version);              // 10 [] (3.x) or [true] (4.x)
request remove_node(std::string_view host_id);                      // 11 [hostId]
request read_compactions();                                         // 12 CompactionManager
request read_current_streams();                                     // 13 StreamManager

// True when spec.serverVersion names Cassandra 4 or later, so decommission takes its `force`
// boolean (4.x decommission(boolean), 3.x decommission()). v2.1.0 compares strings
// (pod_operation.go:506, `cc.Spec.ServerVersion >= "4.0"`): "10.0" is then 3.x. Here the
// leading number is compared; an empty or non-numeric version is 3.x, as in v2.1.0.
bool takes_force_flag(std::string_view server_version);

// How a call failed. Names (failure_name) are what status, Events and logs say.
enum class failure {
  none,
  refused,         // connection refused or reset: the JVM (or the pod) is down
  timeout,         // no answer within the call's limit (a hanging agent)
  transport,       // any other network failure (no route, bad address)
  no_credentials,  // spec.imageJolokiaSecret names a Secret casskop cannot read (not sent)
  unauthorized,    // HTTP 401: the credentials are wrong
  http_status,     // any other HTTP status than 200
  jolokia_error,   // HTTP 200 carrying {status != 200, error_type, error}: the MBean refused
  malformed,       // not JSON, not an object, or a value of the wrong type
};
std::string_view failure_name(failure f);

struct error {
  failure kind = failure::none;
  int status = 0;          // the HTTP status, or Jolokia's own status for jolokia_error
  std::string error_type;  // jolokia_error: the Java exception class
  std::string message;     // human text, never a credential
  bool ok() const { return kind == failure::none; }
  // "jolokia_error 500 java.lang.UnsupportedOperationException: Node in LEAVING state"
  std::string describe() const;
};

// What came back for one call: an HTTP answer (transport ok), or a transport failure.
struct http_reply {
  error transport;  // kind refused/timeout/transport/no_credentials, or none
  int status = 0;   // HTTP status when transport is ok
  std::string body;
};

template <class T>
struct result {
  std::optional<T> value;
  error err;
  bool ok() const { return err.ok() && value.has_value(); }
};
struct nothing {};

// The answer's envelope: HTTP status, JSON, Jolokia's status and error. On success the Document
// is the whole answer (its "value" member is the value).
result<k8s::json::Document> parse_envelope(const http_reply& r);

// 1: the mode ("NORMAL", "LEAVING", "DECOMMISSIONED", ...); a non-string is malformed.
result<std::string> parse_operation_mode(const http_reply& r);
// 2: IP -> host id; a non-object, or a non-string id, is malformed.
result<std::map<std::string, std::string>> parse_host_id_map(const http_reply& r);
// 3, 4, 5: an array of strings (JoiningNodes, LeavingNodes, Keyspaces).
result<std::vector<std::string>> parse_string_list(const http_reply& r);

// 6: describeRingJMX's TokenRange strings, with the datacenters of their endpoint_details.
struct token_range {
  std::string text;
  std::vector<std::string> datacenters;  // every `datacenter:<dc>` in the text, in order
};
result<std::vector<token_range>> parse_describe_ring(const http_reply& r);
bool replicates_to(const std::vector<token_range>& ring, std::string_view dc);

// 7-11: an EXEC whose value casskop ignores: only success or the failure.
result<nothing> parse_exec(const http_reply& r);
// 12: the taskType of each running compaction ("Cleanup", "Upgrade sstables", ...).
result<std::vector<std::string>> parse_compaction_types(const http_reply& r);
// 13: whether any stream session runs (a non-empty array).
result<bool> parse_has_streams(const http_reply& r);

// HTTP Basic credentials from the Secret spec.imageJolokiaSecret names (keys `username` and
// `password` in data, base64), as v2.1.0's NewJolokiaClient reads them. `problem` says what is
// wrong (no such key, not base64), never a value.
struct credentials {
  std::string user, password;
};
std::optional<credentials> credentials_from_secret(const k8s::json::Value& secret,
                                                   std::string& problem);

// Keyspaces local to each node, never replicated (v2.1.0 localSystemKeyspaces).
bool is_local_system_keyspace(std::string_view keyspace);

}  // namespace casskop::jolokia
