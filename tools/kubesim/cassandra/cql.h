// The one CQL statement the simulated nodes run: what the original's multi-DC kuttl test sends
// (test/kuttl/multi-dcs/03-disableReplToDC2.yaml of v2.1.0, ref §4 "DC scaled to 0"):
//   cqlsh -e "ALTER KEYSPACE <ks> WITH replication = {'class': 'NetworkTopologyStrategy', 'dc1':
//   '1'}"
// parsed into a replication change, validated as Cassandra 3.11 does, with errors printed as
// cqlsh prints them (`<stdin>:1:<ErrorClass>: ...`).
#pragma once

#include <string>
#include <variant>

#include "ring.h"

namespace kubesim::cassandra {

struct AlterKeyspace {
  std::string keyspace;        // unquoted names are lower-cased, "quoted" ones kept
  Replication replication;     // strategy as its short class name
  std::string durable_writes;  // "true"/"false" when given, else empty
};
// A syntax error or a statement other than ALTER KEYSPACE ... WITH replication: the text cqlsh
// prints on stderr.
using CqlParse = std::variant<AlterKeyspace, std::string>;
CqlParse parse_cql(const std::string& statement);

// `cqlsh -e "<statement>"` in pod `pod`: exit code 0 and no output when the keyspace changed,
// else exit code 2 and the error on stderr (cqlsh's code for a failed -e statement).
struct CqlshResult {
  int exit_code = 0;
  std::string stderr_text;
};
CqlshResult run_cqlsh(Rings& rings, const std::string& pod, const std::string& statement);

}  // namespace kubesim::cassandra
