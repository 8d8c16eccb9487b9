// cqlsh -e "ALTER KEYSPACE ..." as the original's multi-DC kuttl test sends it (ref §4).
#include <doctest/doctest.h>

#include "kubesim_cassandra_world.h"
#include "tools/kubesim/cassandra/cql.h"

namespace {
using namespace kubesim_cassandra_test;
const std::string kKuttl =
    "ALTER KEYSPACE system_auth WITH replication = {'class': 'NetworkTopologyStrategy', 'dc1': "
    "'1'}";
}  // namespace

TEST_CASE("kubesim cassandra: the kuttl ALTER KEYSPACE parses into a replication change") {
  CqlParse p = parse_cql(kKuttl);
  REQUIRE(std::holds_alternative<AlterKeyspace>(p));
  const AlterKeyspace& a = std::get<AlterKeyspace>(p);
  CHECK(a.keyspace == "system_auth");
  CHECK(a.replication.strategy == "NetworkTopologyStrategy");
  CHECK(a.replication.options == std::map<std::string, std::string>{{"dc1", "1"}});
  // Keywords in any case, a quoted name kept, numbers as values, a full class name, ';'.
  p = parse_cql(
      "alter keyspace \"MyKs\" with REPLICATION = {'class': "
      "'org.apache.cassandra.locator.SimpleStrategy', 'replication_factor': 3} AND "
      "durable_writes = true;");
  REQUIRE(std::holds_alternative<AlterKeyspace>(p));
  CHECK(std::get<AlterKeyspace>(p).keyspace == "MyKs");
  CHECK(std::get<AlterKeyspace>(p).replication.strategy == "SimpleStrategy");
  CHECK(std::get<AlterKeyspace>(p).replication.options.at("replication_factor") == "3");
  CHECK(std::get<AlterKeyspace>(p).durable_writes == "true");
}

TEST_CASE("kubesim cassandra: cqlsh errors as cqlsh prints them") {
  auto err = [](const std::string& s) {
    CqlParse p = parse_cql(s);
    return std::holds_alternative<std::string>(p) ? std::get<std::string>(p)
                                                  : std::string("parsed");
  };
  CHECK(err("ALTER KEYSPACE ks replication = {'class': 'SimpleStrategy'}") ==
        "<stdin>:1:SyntaxException: line 1:18 mismatched input 'replication' expecting K_WITH "
        "(ALTER KEYSPACE ks [replication]...)");
  CHECK(err("SELECT * FROM system.local").rfind("<stdin>:1:InvalidRequest: ", 0) == 0);
  CHECK(err("ALTER KEYSPACE ks WITH replication = {'class': 'x'")
            .rfind("<stdin>:1:SyntaxException: ", 0) == 0);

  World w;
  w.start("n-0", "127.8.0.1", "dc1", "rack1", "n-0.cc.ns");
  CqlshResult r = run_cqlsh(w.rings, "n-0",
                            "ALTER KEYSPACE nope WITH replication = {'class': 'SimpleStrategy', "
                            "'replication_factor': '1'}");
  CHECK(r.exit_code == 2);
  CHECK(r.stderr_text ==
        "<stdin>:1:InvalidRequest: Error from server: code=2200 [Invalid query] "
        "message=\"Unknown keyspace nope\"\n");
  r = run_cqlsh(w.rings, "n-0",
                "ALTER KEYSPACE system WITH replication = {'class': 'SimpleStrategy', "
                "'replication_factor': '1'}");
  CHECK(r.stderr_text.find("Cannot alter system keyspace") != std::string::npos);
  r = run_cqlsh(w.rings, "n-0",
                "ALTER KEYSPACE system_auth WITH replication = {'class': 'SimpleStrategy'}");
  CHECK(r.stderr_text ==
        "<stdin>:1:ConfigurationException: Error from server: code=2300 [Query invalid because of "
        "configuration issue] message=\"SimpleStrategy requires a replication_factor strategy "
        "option.\"\n");
  r = run_cqlsh(w.rings, "n-0",
                "ALTER KEYSPACE system_auth WITH replication = {'class': "
                "'NetworkTopologyStrategy', 'dc1': 'x'}");
  CHECK(r.stderr_text.find("Replication factor must be numeric; found x") != std::string::npos);
  w.rings.stop("n-0");
  CHECK(run_cqlsh(w.rings, "n-0", kKuttl).stderr_text.rfind("Connection error:", 0) == 0);
}

TEST_CASE("kubesim cassandra: cqlsh ALTER KEYSPACE changes the ring's replication") {
  World w;
  w.start("a-0", "127.8.0.1", "dc1", "rack1", "a-0.cc.ns");
  w.start("b-0", "127.8.0.2", "dc2", "rack1", "a-0.cc.ns");
  w.run(1s);
  for (const char* ks : {"system_auth", "system_traces", "system_distributed"}) {
    CqlshResult r =
        run_cqlsh(w.rings, "a-0",
                  std::string("ALTER KEYSPACE ") + ks +
                      " WITH replication = {'class': 'NetworkTopologyStrategy', 'dc1': '1'}");
    CHECK(r.exit_code == 0);
    CHECK(r.stderr_text.empty());
    auto ring = w.rings.describe_ring("b-0", ks);  // the schema is the ring's, seen from dc2 too
    for (const std::string& s : std::get<std::vector<std::string>>(ring))
      REQUIRE(s.find("datacenter:dc2") == std::string::npos);
  }
}
