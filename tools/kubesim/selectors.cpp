// Ports of apimachinery's labels.Parse (a token lexer plus a recursive-descent parser) and
// fields.ParseSelector (comma split with backslash escapes). The structure follows the Go code
// closely on purpose: the odd corners of the error messages come from that structure.
#include "tools/kubesim/selectors.h"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <set>
#include <utility>

#include "tools/kubesim/field_errors.h"

namespace kubesim {
namespace {

using k8s::json::Value;

// ---------------------------------------------------------------------------------------------
// Go formatting helpers used by the validation messages.

// Length of the UTF-8 sequence starting at s[i], or 0 when it is not valid UTF-8.
size_t utf8_length(std::string_view s, size_t i) {
  const auto c = static_cast<unsigned char>(s[i]);
  size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
  if (n == 0 || i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return 0;
  }
  return n;
}

std::string join(const std::vector<std::string>& parts, std::string_view sep) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out += sep;
    out += parts[i];
  }
  return out;
}

// field.Invalid(path, value, detail).Error()
std::string invalid_value(std::string_view path, std::string_view value, std::string_view detail) {
  return std::string(path) + ": Invalid value: " + field::go_quote(value) + ": " + std::string(detail);
}

// utilerrors.NewAggregate(...).Error(): one message alone, several deduplicated in brackets.
std::string aggregate(const std::vector<std::string>& errs) {
  std::vector<std::string> unique;
  for (const auto& e : errs) {
    if (std::find(unique.begin(), unique.end(), e) == unique.end()) unique.push_back(e);
  }
  return unique.size() == 1 ? unique[0] : "[" + join(unique, ", ") + "]";
}

// validation.RegexError
std::string regex_error(std::string_view msg, std::string_view fmt,
                        std::initializer_list<std::string_view> examples) {
  std::string out(msg);
  out += " (e.g. ";
  bool first = true;
  for (auto e : examples) {
    if (!first) out += " or ";
    first = false;
    out += "'" + std::string(e) + "', ";
  }
  return out + "regex used for validation is '" + std::string(fmt) + "')";
}

std::string max_len_error(size_t n) {
  return "must be no more than " + std::to_string(n) + " characters";
}

// ---------------------------------------------------------------------------------------------
// Label key and value syntax (k8s.io/apimachinery/pkg/util/validation).

constexpr std::string_view kQualifiedNameFmt = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";
constexpr std::string_view kQualifiedNameErr =
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
    "alphanumeric character";
constexpr std::string_view kLabelValueFmt = "(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?";
constexpr std::string_view kLabelValueErr =
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or "
    "'.', and must start and end with an alphanumeric character";
constexpr std::string_view kDns1123SubdomainFmt =
    "[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*";
constexpr std::string_view kDns1123SubdomainErr =
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
    "'.', and must start and end with an alphanumeric character";

bool is_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}
bool is_lower_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

bool matches_qualified_name(std::string_view s) {
  if (s.empty() || !is_alnum(s.front()) || !is_alnum(s.back())) return false;
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return is_alnum(c) || c == '-' || c == '_' || c == '.'; });
}

bool matches_dns1123_subdomain(std::string_view s) {
  size_t start = 0;
  while (true) {
    const size_t dot = s.find('.', start);
    const auto label = s.substr(start, dot == std::string_view::npos ? dot : dot - start);
    if (label.empty() || !is_lower_alnum(label.front()) || !is_lower_alnum(label.back())) {
      return false;
    }
    for (char c : label) {
      if (!is_lower_alnum(c) && c != '-') return false;
    }
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

// Go's strconv.ParseInt(s, 10, 64).
std::optional<int64_t> parse_int64(std::string_view s) {
  if (!s.empty() && s[0] == '+') s.remove_prefix(1);
  const size_t digits_from = !s.empty() && s[0] == '-' ? 1 : 0;
  if (s.size() == digits_from) return std::nullopt;
  for (size_t i = digits_from; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') return std::nullopt;
  }
  int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

// ---------------------------------------------------------------------------------------------
// Label selector lexer (labels.Lexer).

enum class token {
  error,
  end_of_string,
  closed_par,
  comma,
  does_not_exist,
  double_equals,
  equals,
  greater_than,
  identifier,
  in,
  less_than,
  not_equals,
  not_in,
  open_par,
};

struct scanned {
  token tok;
  std::string literal;
};

std::optional<token> keyword(std::string_view s) {
  static const std::pair<std::string_view, token> table[] = {
      {")", token::closed_par},
      {",", token::comma},
      {"!", token::does_not_exist},
      {"==", token::double_equals},
      {"=", token::equals},
      {">", token::greater_than},
      {"in", token::in},
      {"<", token::less_than},
      {"!=", token::not_equals},
      {"notin", token::not_in},
      {"(", token::open_par},
  };
  for (const auto& [text, tok] : table) {
    if (text == s) return tok;
  }
  return std::nullopt;
}

bool is_whitespace(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}
bool is_special_symbol(char c) {
  return c == '=' || c == '!' || c == '(' || c == ')' || c == ',' || c == '>' || c == '<';
}

class lexer {
 public:
  explicit lexer(std::string_view s) : s_(s) {}

  scanned lex() {
    char ch = read();
    while (is_whitespace(ch)) ch = read();
    if (ch == 0) return {token::end_of_string, ""};  // like Go, a NUL byte also ends the input
    unread();
    return is_special_symbol(ch) ? scan_special_symbol() : scan_id_or_keyword();
  }

 private:
  char read() { return pos_ < s_.size() ? s_[pos_++] : '\0'; }
  void unread() { --pos_; }

  scanned scan_id_or_keyword() {
    std::string buffer;
    while (true) {
      const char ch = read();
      if (ch == 0) break;
      if (is_special_symbol(ch) || is_whitespace(ch)) {
        unread();
        break;
      }
      buffer += ch;
    }
    if (auto tok = keyword(buffer)) return {*tok, buffer};
    return {token::identifier, buffer};
  }

  // Longest run of symbols that is still an operator: "!=" rather than "!" then "=".
  scanned scan_special_symbol() {
    std::optional<scanned> last;
    std::string buffer;
    while (true) {
      const char ch = read();
      if (ch == 0) break;
      if (!is_special_symbol(ch)) {
        unread();
        break;
      }
      buffer += ch;
      if (auto tok = keyword(buffer)) {
        last = scanned{*tok, buffer};
      } else if (last) {
        unread();
        break;
      }
    }
    if (!last) return {token::error, "error expected: keyword found '" + buffer + "'"};
    return *last;
  }

  std::string_view s_;
  size_t pos_ = 0;
};

// ---------------------------------------------------------------------------------------------
// Label selector parser (labels.Parser).

// Errors inside one requirement; parse() prefixes them with "unable to parse requirement: ".
struct requirement_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// In the Values context "in" and "notin" are plain identifiers ("x in (in)").
enum class parse_context { key_and_operator, values };

class label_parser {
 public:
  explicit label_parser(std::string_view text) {
    lexer l(text);
    while (true) {
      items_.push_back(l.lex());
      if (items_.back().tok == token::end_of_string) break;
    }
  }

  std::vector<label_requirement> parse() {
    std::vector<label_requirement> requirements;
    while (true) {
      const scanned next = lookahead(parse_context::values);
      switch (next.tok) {
        case token::identifier:
        case token::does_not_exist: {
          try {
            requirements.push_back(parse_requirement());
          } catch (const requirement_error& e) {
            throw selector_error(std::string("unable to parse requirement: ") + e.what());
          }
          const scanned after = consume(parse_context::values);
          if (after.tok == token::end_of_string) return requirements;
          if (after.tok != token::comma) {
            throw selector_error("found '" + after.literal + "', expected: ',' or 'end of string'");
          }
          const scanned t2 = lookahead(parse_context::values);
          if (t2.tok != token::identifier && t2.tok != token::does_not_exist) {
            throw selector_error("found '" + t2.literal + "', expected: identifier after ','");
          }
          break;
        }
        case token::end_of_string:
          return requirements;
        default:
          throw selector_error("found '" + next.literal +
                               "', expected: !, identifier, or 'end of string'");
      }
    }
  }

 private:
  scanned lookahead(parse_context ctx) const { return adjust(items_[position_], ctx); }

  scanned consume(parse_context ctx) {
    const scanned& item = items_[position_];
    // The token list always ends with end_of_string; never step past it.
    if (position_ + 1 < items_.size()) ++position_;
    return adjust(item, ctx);
  }

  static scanned adjust(scanned item, parse_context ctx) {
    if (ctx == parse_context::values && (item.tok == token::in || item.tok == token::not_in)) {
      item.tok = token::identifier;
    }
    return item;
  }

  label_requirement parse_requirement() {
    auto [key, unary] = parse_key_and_infer_operator();
    if (unary) return new_requirement(std::move(key), *unary, {});
    const label_op op = parse_operator();
    std::set<std::string> values =
        (op == label_op::in || op == label_op::not_in) ? parse_values() : parse_exact_value();
    return new_requirement(std::move(key), op, {values.begin(), values.end()});
  }

  // Returns the key and, when no binary operator follows, exists / does_not_exist.
  std::pair<std::string, std::optional<label_op>> parse_key_and_infer_operator() {
    std::optional<label_op> op;
    scanned item = consume(parse_context::values);
    if (item.tok == token::does_not_exist) {
      op = label_op::does_not_exist;
      item = consume(parse_context::values);
    }
    if (item.tok != token::identifier) {
      throw requirement_error("found '" + item.literal + "', expected: identifier");
    }
    if (auto errs = label_key_errors(item.literal); !errs.empty()) {
      // The parser validates with a nil field.Path, which prints as "<nil>".
      throw requirement_error(invalid_value("<nil>", item.literal, join(errs, "; ")));
    }
    const token next = lookahead(parse_context::values).tok;
    if ((next == token::end_of_string || next == token::comma) && !op) op = label_op::exists;
    return {item.literal, op};
  }

  label_op parse_operator() {
    const scanned item = consume(parse_context::key_and_operator);
    switch (item.tok) {
      case token::in:
        return label_op::in;
      case token::equals:
        return label_op::equals;
      case token::double_equals:
        return label_op::double_equals;
      case token::greater_than:
        return label_op::greater_than;
      case token::less_than:
        return label_op::less_than;
      case token::not_in:
        return label_op::not_in;
      case token::not_equals:
        return label_op::not_equals;
      default:
        throw requirement_error("found '" + item.literal +
                                "', expected: in, notin, =, ==, !=, gt, lt");
    }
  }

  std::set<std::string> parse_values() {
    const scanned open = consume(parse_context::values);
    if (open.tok != token::open_par) {
      throw requirement_error("found '" + open.literal + "' expected: '('");
    }
    const scanned next = lookahead(parse_context::values);
    switch (next.tok) {
      case token::identifier:
      case token::comma: {
        auto values = parse_identifiers_list();
        if (consume(parse_context::values).tok != token::closed_par) {
          // Go reports the token seen before the list here, not the offending one.
          throw requirement_error("found '" + next.literal + "', expected: ')'");
        }
        return values;
      }
      case token::closed_par:  // "()" means the empty value
        consume(parse_context::values);
        return {""};
      default:
        throw requirement_error("found '" + next.literal + "', expected: ',', ')' or identifier");
    }
  }

  // "(a,,b)", "(,a)" and "(a,)" all include the empty value.
  std::set<std::string> parse_identifiers_list() {
    std::set<std::string> values;
    while (true) {
      const scanned item = consume(parse_context::values);
      if (item.tok == token::identifier) {
        values.insert(item.literal);
        const scanned next = lookahead(parse_context::values);
        if (next.tok == token::comma) continue;
        if (next.tok == token::closed_par) return values;
        throw requirement_error("found '" + next.literal + "', expected: ',' or ')'");
      }
      if (item.tok != token::comma) {
        throw requirement_error("found '" + item.literal + "', expected: ',', or identifier");
      }
      if (values.empty()) values.insert("");
      const token next = lookahead(parse_context::values).tok;
      if (next == token::closed_par) {
        values.insert("");
        return values;
      }
      if (next == token::comma) {
        consume(parse_context::values);
        values.insert("");
      }
    }
  }

  std::set<std::string> parse_exact_value() {
    const token next = lookahead(parse_context::values).tok;
    if (next == token::end_of_string || next == token::comma) return {""};
    const scanned item = consume(parse_context::values);
    if (item.tok == token::identifier) return {item.literal};
    throw requirement_error("found '" + item.literal + "', expected: identifier");
  }

  // labels.NewRequirement: the value checks, aggregated like the server does.
  static label_requirement new_requirement(std::string key, label_op op,
                                           std::vector<std::string> values) {
    std::vector<std::string> errs;
    if (op == label_op::greater_than || op == label_op::less_than) {
      for (size_t i = 0; i < values.size(); ++i) {
        if (!parse_int64(values[i])) {
          errs.push_back(invalid_value("values[" + std::to_string(i) + "]", values[i],
                                       "for 'Gt', 'Lt' operators, the value must be an integer"));
        }
      }
    }
    for (size_t i = 0; i < values.size(); ++i) {
      if (auto value_errs = label_value_errors(values[i]); !value_errs.empty()) {
        errs.push_back(invalid_value("values[" + std::to_string(i) + "][" + key + "]", values[i],
                                     join(value_errs, "; ")));
      }
    }
    if (!errs.empty()) throw requirement_error(aggregate(errs));
    return label_requirement{std::move(key), op, std::move(values)};
  }

  std::vector<scanned> items_;
  size_t position_ = 0;
};

// ---------------------------------------------------------------------------------------------
// Field selector pieces (fields.ParseSelector).

// Splits on commas that are not escaped; escapes stay in the terms.
std::vector<std::string_view> split_terms(std::string_view s) {
  std::vector<std::string_view> terms;
  if (s.empty()) return terms;
  size_t start = 0;
  bool in_slash = false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (in_slash) {
      in_slash = false;
    } else if (s[i] == '\\') {
      in_slash = true;
    } else if (s[i] == ',') {
      terms.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  terms.push_back(s.substr(start));
  return terms;
}

// The first operator wins; "!=" and "==" are tried before "=" at each position.
bool split_term(std::string_view term, std::string_view& lhs, field_op& op, std::string_view& rhs) {
  for (size_t i = 0; i < term.size(); ++i) {
    const auto rest = term.substr(i);
    for (std::string_view candidate : {"!=", "==", "="}) {
      if (rest.substr(0, candidate.size()) == candidate) {
        lhs = term.substr(0, i);
        op = candidate == "!=" ? field_op::not_equals : field_op::equals;
        rhs = rest.substr(candidate.size());
        return true;
      }
    }
  }
  return false;
}

// fields.UnescapeValue: \\ \, \= are the only escapes; bare , and = are errors.
std::string unescape_value(std::string_view s) {
  if (s.find_first_of("\\,=") == std::string_view::npos) return std::string(s);
  // Go walks runes, so an invalid byte becomes U+FFFD in the output.
  const auto rune_at = [&](size_t i, size_t& n) {
    n = utf8_length(s, i);
    if (n == 0) {
      n = 1;
      return std::string("\xEF\xBF\xBD");
    }
    return std::string(s.substr(i, n));
  };
  std::string out;
  bool in_slash = false;
  for (size_t i = 0, n = 1; i < s.size(); i += n) {
    const std::string rune = rune_at(i, n);
    const char c = rune.size() == 1 ? rune[0] : '\0';
    if (in_slash) {
      if (c != '\\' && c != ',' && c != '=') {
        throw selector_error("invalid field selector: invalid escape sequence: \\" + rune);
      }
      out += c;
      in_slash = false;
    } else if (c == '\\') {
      in_slash = true;
    } else if (c == ',' || c == '=') {
      // Go prints the rune with %v, i.e. as its number.
      throw selector_error("invalid field selector: unescaped character in value: " +
                           std::to_string(static_cast<int>(c)));
    } else {
      out += rune;
    }
  }
  if (in_slash) throw selector_error("invalid field selector: invalid escape sequence: \\");
  return out;
}

bool field_allowed(std::string_view field, std::string_view kind, bool is_custom_resource) {
  if (field == "metadata.name" || field == "metadata.namespace") return true;
  if (is_custom_resource) return false;
  const auto one_of = [&](std::initializer_list<std::string_view> allowed) {
    return std::find(allowed.begin(), allowed.end(), field) != allowed.end();
  };
  if (kind == "Pod") {
    return one_of({"spec.nodeName", "spec.restartPolicy", "spec.schedulerName",
                   "spec.serviceAccountName", "status.phase", "status.podIP",
                   "status.nominatedNodeName"});
  }
  if (kind == "Event") {
    return one_of({"involvedObject.kind", "involvedObject.namespace", "involvedObject.name",
                   "involvedObject.uid", "involvedObject.apiVersion",
                   "involvedObject.resourceVersion", "involvedObject.fieldPath", "reason",
                   "reportingComponent", "source", "type"});
  }
  if (kind == "Secret") return field == "type";
  if (kind == "Namespace") return field == "status.phase";
  return false;
}

std::string scalar_text(const Value* v) {
  if (!v) return {};
  if (v->IsString()) return std::string(k8s::json::view(*v));
  if (v->IsBool() || v->IsNumber()) return k8s::json::to_string(*v);
  return {};
}

const Value* find_dotted(const Value& object, std::string_view path) {
  const Value* cur = &object;
  while (cur) {
    const size_t dot = path.find('.');
    cur = k8s::json::find(*cur, path.substr(0, dot));
    if (dot == std::string_view::npos) break;
    path.remove_prefix(dot + 1);
  }
  return cur;
}

}  // namespace

// ---------------------------------------------------------------------------------------------

std::vector<std::string> label_key_errors(std::string_view key) {
  std::vector<std::string> errs;
  std::string_view name = key;
  const size_t slash = key.find('/');
  if (slash != std::string_view::npos) {
    if (key.find('/', slash + 1) != std::string_view::npos) {
      return {"a qualified name " +
              regex_error(kQualifiedNameErr, kQualifiedNameFmt, {"MyName", "my.name", "123-abc"}) +
              " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"};
    }
    const auto prefix = key.substr(0, slash);
    name = key.substr(slash + 1);
    if (prefix.empty()) {
      errs.push_back("prefix part must be non-empty");
    } else {
      if (prefix.size() > 253) errs.push_back("prefix part " + max_len_error(253));
      if (!matches_dns1123_subdomain(prefix)) {
        errs.push_back("prefix part " +
                       regex_error(kDns1123SubdomainErr, kDns1123SubdomainFmt, {"example.com"}));
      }
    }
  }
  if (name.empty()) {
    errs.push_back("name part must be non-empty");
  } else if (name.size() > 63) {
    errs.push_back("name part " + max_len_error(63));
  }
  if (!matches_qualified_name(name)) {
    errs.push_back("name part " + regex_error(kQualifiedNameErr, kQualifiedNameFmt,
                                              {"MyName", "my.name", "123-abc"}));
  }
  return errs;
}

std::vector<std::string> label_value_errors(std::string_view value) {
  std::vector<std::string> errs;
  if (value.size() > 63) errs.push_back(max_len_error(63));
  if (!value.empty() && !matches_qualified_name(value)) {
    errs.push_back(regex_error(kLabelValueErr, kLabelValueFmt, {"MyValue", "my_value", "12345"}));
  }
  return errs;
}

bool label_requirement::matches(const Value* labels) const {
  const Value* found = labels ? k8s::json::find(*labels, key) : nullptr;
  const std::string_view actual = found ? k8s::json::view(*found) : std::string_view{};
  const bool listed = std::binary_search(values.begin(), values.end(), actual);
  switch (op) {
    case label_op::in:
    case label_op::equals:
    case label_op::double_equals:
      return found && listed;
    case label_op::not_in:
    case label_op::not_equals:
      return !found || !listed;
    case label_op::exists:
      return found != nullptr;
    case label_op::does_not_exist:
      return found == nullptr;
    case label_op::greater_than:
    case label_op::less_than: {
      // Non-integer label values never match, they are not errors.
      if (!found || values.size() != 1) return false;
      const auto have = parse_int64(actual);
      const auto want = parse_int64(values[0]);
      if (!have || !want) return false;
      return op == label_op::greater_than ? *have > *want : *have < *want;
    }
  }
  return false;
}

label_selector label_selector::parse(std::string_view text) {
  label_selector selector;
  selector.requirements_ = label_parser(text).parse();
  std::stable_sort(selector.requirements_.begin(), selector.requirements_.end(),
                   [](const auto& a, const auto& b) { return a.key < b.key; });
  return selector;
}

bool label_selector::matches(const Value* labels) const {
  return std::all_of(requirements_.begin(), requirements_.end(),
                     [&](const auto& r) { return r.matches(labels); });
}

field_selector field_selector::parse(std::string_view text) {
  auto parts = split_terms(text);
  std::sort(parts.begin(), parts.end());
  field_selector selector;
  for (auto part : parts) {
    if (part.empty()) continue;
    std::string_view lhs, rhs;
    field_op op{};
    if (!split_term(part, lhs, op, rhs)) {
      throw selector_error("invalid selector: '" + std::string(text) + "'; can't understand '" +
                           std::string(part) + "'");
    }
    selector.requirements_.push_back({std::string(lhs), op, unescape_value(rhs)});
  }
  return selector;
}

bool field_selector::matches(const Value& object) const {
  return std::all_of(requirements_.begin(), requirements_.end(), [&](const requirement& r) {
    const bool equal = selectable_field_value(object, r.field) == r.value;
    return r.op == field_op::equals ? equal : !equal;
  });
}

void validate_fields(const field_selector& selector, std::string_view kind,
                     bool is_custom_resource) {
  for (const auto& r : selector.requirements()) {
    if (!field_allowed(r.field, kind, is_custom_resource)) {
      throw selector_error("field label not supported: " + r.field);
    }
  }
}

std::string selectable_field_value(const Value& object, std::string_view field) {
  if (field == "source") {
    // Events: source.component, or reportingComponent for events written by events.k8s.io.
    std::string source = scalar_text(k8s::json::find_path(object, {"source", "component"}));
    return source.empty() ? scalar_text(k8s::json::find(object, "reportingComponent")) : source;
  }
  if (field == "status.podIP") {
    std::string ip = scalar_text(k8s::json::find_path(object, {"status", "podIP"}));
    if (!ip.empty()) return ip;
    const Value* ips = k8s::json::find_path(object, {"status", "podIPs"});
    if (ips && ips->IsArray() && !ips->Empty())
      return scalar_text(k8s::json::find((*ips)[0], "ip"));
    return {};
  }
  return scalar_text(find_dotted(object, field));
}

}  // namespace kubesim
