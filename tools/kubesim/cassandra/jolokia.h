// The Jolokia agent of a simulated Cassandra node (ref §1, §5 "HTTP and Jolokia"): decoding a
// request (POST /jolokia/ with one object or a bulk array, GET /jolokia/read/<mbean>/<attribute>),
// and the answer JSON of every call CassKop makes, with Jolokia's error shape. Pure logic: the
// HTTP server is the caller's; an EXEC that blocks in Cassandra comes back with the node's work
// ids to wait for, and the caller renders the body when they are done.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "k8s/json/json.h"
#include "ring.h"

namespace kubesim::cassandra {

// The agent's basic auth (run.sh: authMode=basic,user=$JOLOKIA_USER,password=$JOLOKIA_PASSWORD
// when CASSANDRA_AUTH_JOLOKIA=true): nullopt means no authentication.
struct Credentials {
  std::string user, password;
};
// Whether a request with this Authorization header value may pass (ref §1 "Auth": a mismatch is
// HTTP 401 with no JSON).
bool authorized(const std::optional<std::string>& authorization,
                const std::optional<Credentials>& expected);

struct HttpRequest {
  std::string method;  // "GET" or "POST"
  std::string target;  // path and query, e.g. "/jolokia/" or "/jolokia/read/<mbean>/<attr>"
  std::optional<std::string> authorization;  // the Authorization header
  std::string body;
};

// One decoded Jolokia request; `error` set when it cannot be run (status, type, message).
struct JolokiaRequest {
  std::string type;  // lower case: "read" or "exec" (matched case-insensitively, ref §1)
  std::string mbean, attribute, operation;
  std::shared_ptr<k8s::json::Document> arguments;  // the JSON array given (exec)
};
struct Decoded {
  std::vector<JolokiaRequest> requests;
  bool bulk = false;  // a JSON array: the answer is an array too
  std::string error;  // non-empty: the whole body is unreadable (Jolokia answers 400)
};
Decoded decode(const HttpRequest& request);

// Faults of the agent itself (ref §6 "Jolokia hang or slow replies", "Malformed output").
struct JolokiaFaults {
  bool hang = false;              // accepts the request and never answers
  Millis delay{0};                // answers this much later
  bool malformed_json = false;    // a body that is not JSON
  int http_status = 0;            // non-zero: this HTTP status instead of 200
  bool value_wrong_type = false;  // every value a number
  bool timestamp_millis = false;  // timestamp in milliseconds (overflows CassKop's uint32)
};

struct HttpReply {
  bool refused = false;  // the JVM is down: connection refused (ref §5)
  int status = 200;      // HTTP status: 200 (JMX errors too), 401, 404 off /jolokia
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
  // The answers, one per request, without their timestamp; body() stamps it.
  std::shared_ptr<k8s::json::Document> answers;
  bool bulk = false;
  bool hang = false;    // never answer (JolokiaFaults::hang)
  Millis delay{0};      // answer no sooner than this after the request
  JolokiaFaults shape;  // how body() spoils the answer
  // Node work ids the answer waits for (a blocking EXEC: cleanup, upgradesstables, rebuild,
  // removeNode, decommission). Answer when Node::work_done is true for all of them.
  std::vector<int> waits_for;
  // The body as sent at `now` (timestamp in epoch seconds, ref §1 "Parsing").
  std::string body(Time now) const;
};

// Handles one HTTP request to the Jolokia port of node `pod`. The node's server_version picks the
// arity of decommission (3.x: none, 4.x: a force flag, ref §1 call 10).
HttpReply handle(Rings& rings, const std::string& pod, Time now, const HttpRequest& request,
                 const std::optional<Credentials>& expected, const JolokiaFaults& faults = {});

}  // namespace kubesim::cassandra
