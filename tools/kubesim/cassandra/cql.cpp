#include "cql.h"

#include <algorithm>
#include <cctype>
#include <optional>
#include <sstream>
#include <vector>

namespace kubesim::cassandra {

namespace {

struct Token {
  enum Kind { Ident, Quoted, String, Number, Symbol, End } kind;
  std::string text;
  size_t col = 0;
};

std::string lower(std::string s) {
  for (char& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Splits like Cql.g's lexer: identifiers, "quoted names", 'strings' ('' escapes a quote),
// numbers, and the one-character symbols.
std::optional<std::string> lex(const std::string& s, std::vector<Token>& out) {
  size_t i = 0;
  while (i < s.size()) {
    char c = s[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
      continue;
    }
    size_t start = i;
    if (std::isalpha(static_cast<unsigned char>(c))) {
      while (i < s.size() && (std::isalnum(static_cast<unsigned char>(s[i])) || s[i] == '_')) ++i;
      out.push_back({Token::Ident, s.substr(start, i - start), start});
    } else if (std::isdigit(static_cast<unsigned char>(c)) || c == '-') {
      ++i;
      while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) ++i;
      out.push_back({Token::Number, s.substr(start, i - start), start});
    } else if (c == '\'' || c == '"') {
      std::string text;
      ++i;
      bool closed = false;
      while (i < s.size()) {
        if (s[i] == c && i + 1 < s.size() && s[i + 1] == c) {
          text += c;
          i += 2;
        } else if (s[i] == c) {
          ++i;
          closed = true;
          break;
        } else {
          text += s[i++];
        }
      }
      if (!closed)
        return "line 1:" + std::to_string(start) + " mismatched character '<EOF>' expecting '" +
               std::string(1, c) + "'";
      out.push_back({c == '\'' ? Token::String : Token::Quoted, text, start});
    } else if (std::string("{}:,=;.").find(c) != std::string::npos) {
      ++i;
      out.push_back({Token::Symbol, std::string(1, c), start});
    } else {
      return "line 1:" + std::to_string(start) + " no viable alternative at character '" +
             std::string(1, c) + "'";
    }
  }
  out.push_back({Token::End, "<EOF>", s.size()});
  return std::nullopt;
}

std::string syntax(const std::string& detail) {
  return "<stdin>:1:SyntaxException: " + detail;
}

}  // namespace

CqlParse parse_cql(const std::string& statement) {
  // Only ALTER KEYSPACE (or its synonym ALTER SCHEMA) runs here; anything else is refused whole.
  {
    std::istringstream words(lower(statement));
    std::string w1, w2;
    words >> w1 >> w2;
    if (w1.empty()) return std::string();  // nothing to run
    if (w1 != "alter" || (w2 != "keyspace" && w2 != "schema"))
      return "<stdin>:1:InvalidRequest: Error from server: code=2200 [Invalid query] "
             "message=\"kubesim's simulated Cassandra runs only ALTER KEYSPACE <ks> WITH "
             "replication = {...}, not: " +
             statement + "\"";
  }
  std::vector<Token> t;
  if (auto e = lex(statement, t)) return syntax(*e);
  size_t p = 0;
  auto mismatch = [&](const std::string& expecting) {
    const Token& at = t[p];
    return syntax("line 1:" + std::to_string(at.col) + " mismatched input '" + at.text +
                  "' expecting " + expecting + " (" + statement.substr(0, at.col) + "[" + at.text +
                  "]...)");
  };
  auto keyword = [&](const char* kw) {
    if (t[p].kind == Token::Ident && lower(t[p].text) == lower(kw)) {
      ++p;
      return true;
    }
    return false;
  };
  auto symbol = [&](const char* s) {
    if (t[p].kind == Token::Symbol && t[p].text == s) {
      ++p;
      return true;
    }
    return false;
  };
  p = 2;
  AlterKeyspace out;
  if (t[p].kind == Token::Ident)
    out.keyspace = lower(t[p].text);
  else if (t[p].kind == Token::Quoted)
    out.keyspace = t[p].text;
  else
    return mismatch("set null");
  ++p;
  if (!keyword("WITH")) return mismatch("K_WITH");
  bool first = true;
  bool saw_replication = false;
  while (first || keyword("AND")) {
    first = false;
    if (t[p].kind != Token::Ident) return mismatch("IDENT");
    std::string property = lower(t[p].text);
    ++p;
    if (!symbol("=")) return mismatch("'='");
    if (property == "replication") {
      saw_replication = true;
      if (!symbol("{")) return mismatch("'{'");
      bool more = !symbol("}");
      while (more) {
        if (t[p].kind != Token::String) return mismatch("STRING_LITERAL");
        std::string key = t[p++].text;
        if (!symbol(":")) return mismatch("':'");
        if (t[p].kind != Token::String && t[p].kind != Token::Number)
          return mismatch("STRING_LITERAL");
        std::string value = t[p++].text;
        if (key == "class")
          out.replication.strategy = value;
        else
          out.replication.options[key] = value;
        if (symbol("}")) break;
        if (!symbol(",")) return mismatch("'}'");
      }
    } else if (property == "durable_writes") {
      if (t[p].kind != Token::Ident && t[p].kind != Token::String) return mismatch("K_TRUE");
      out.durable_writes = lower(t[p++].text);
    } else {
      // KeyspaceAttributes.validate: only replication and durable_writes.
      return "<stdin>:1:SyntaxException: Unknown property '" + property + "'";
    }
  }
  symbol(";");
  if (t[p].kind != Token::End) return mismatch("EOF");
  if (!saw_replication)
    return "<stdin>:1:ConfigurationException: Missing replication strategy class";
  // AbstractReplicationStrategy.getClass: short names are in org.apache.cassandra.locator.
  const std::string pkg = "org.apache.cassandra.locator.";
  if (out.replication.strategy.rfind(pkg, 0) == 0)
    out.replication.strategy = out.replication.strategy.substr(pkg.size());
  return out;
}

// The kuttl step 03-disableReplToDC2 of v2.1.0 runs this in a dc1 pod (ref §4 "DC scaled to 0":
// the simulator needs replication per keyspace that tests can change).
CqlshResult run_cqlsh(Rings& rings, const std::string& pod, const std::string& statement) {
  CqlshResult res;
  auto fail = [&](std::string text) {
    res.exit_code = 2;
    res.stderr_text = std::move(text) + "\n";
    return res;
  };
  const Node* node = rings.node(pod);
  // cqlsh connects to the node's native port: no JVM, no connection.
  if (!node || !node->jvm_up() || node->mode() == Mode::Starting)
    return fail("Connection error: ('Unable to connect to any servers', {'" +
                (node ? node->identity().ip : std::string("127.0.0.1")) +
                ":9042': error(111, \"Tried connecting to [('" +
                (node ? node->identity().ip : std::string("127.0.0.1")) +
                "', 9042)]. Last error: Connection refused\")})");
  CqlParse parsed = parse_cql(statement);
  if (auto* err = std::get_if<std::string>(&parsed)) {
    if (err->empty()) return res;
    return fail(*err);
  }
  const AlterKeyspace& alter = std::get<AlterKeyspace>(parsed);
  const Replication& r = alter.replication;
  const std::string config =
      "<stdin>:1:ConfigurationException: Error from server: code=2300 "
      "[Query invalid because of configuration issue] message=\"";
  // Keyspace checks first (AlterKeyspaceStatement.validate of 3.11), then the strategy's own.
  auto names = rings.keyspace_names(pod);
  if (std::find(names.begin(), names.end(), alter.keyspace) == names.end())
    return fail(
        "<stdin>:1:InvalidRequest: Error from server: code=2200 [Invalid query] "
        "message=\"Unknown keyspace " +
        alter.keyspace + "\"");
  if (alter.keyspace == "system" || alter.keyspace == "system_schema")
    return fail(
        "<stdin>:1:InvalidRequest: Error from server: code=2200 [Invalid query] "
        "message=\"Cannot alter system keyspace\"");
  if (r.strategy.empty()) return fail(config + "Missing replication strategy class\"");
  if (r.strategy == "LocalStrategy")
    return fail(config +
                "Unable to use given strategy class: LocalStrategy is reserved for "
                "internal use.\"");
  if (r.strategy != "SimpleStrategy" && r.strategy != "NetworkTopologyStrategy")
    return fail(config +
                "Unable to find replication strategy class 'org.apache.cassandra.locator." +
                r.strategy + "'\"");
  auto check_rf = [&](const std::string& v) -> std::optional<std::string> {
    for (char c : v)
      if (!std::isdigit(static_cast<unsigned char>(c)) && c != '-')
        return "Replication factor must be numeric; found " + v;
    if (!v.empty() && v[0] == '-') return "Replication factor must be non-negative; found " + v;
    if (v.empty()) return "Replication factor must be numeric; found " + v;
    return std::nullopt;
  };
  if (r.strategy == "SimpleStrategy") {
    auto it = r.options.find("replication_factor");
    if (it == r.options.end())
      return fail(config + "SimpleStrategy requires a replication_factor strategy option.\"");
    for (auto& [k, v] : r.options)
      if (k != "replication_factor")
        return fail(config + "Unrecognized strategy option {" + k +
                    "} passed to SimpleStrategy for keyspace " + alter.keyspace + "\"");
    if (auto e = check_rf(it->second)) return fail(config + *e + "\"");
  } else {
    for (auto& [k, v] : r.options) {
      if (lower(k) == "replication_factor")
        return fail(config +
                    "replication_factor is an option for SimpleStrategy, not "
                    "NetworkTopologyStrategy\"");
      if (auto e = check_rf(v)) return fail(config + *e + "\"");
    }
  }
  if (auto e = rings.alter_keyspace(pod, alter.keyspace, r)) return fail("<stdin>:1:" + *e);
  return res;
}

}  // namespace kubesim::cassandra
