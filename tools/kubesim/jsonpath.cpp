// A port of k8s.io/client-go/util/jsonpath (parser.go and jsonpath.go) plus the cell logic of
// apiextensions-apiserver's tableconvertor. The Go structure is kept on purpose: quirks such as
// ['a.b'] meaning .a.b, or a filter failing as a whole on mixed int/float comparisons, come
// from it and clients see them on real clusters.
#include "tools/kubesim/jsonpath.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <utility>

#include "k8s/base/timestamps.h"
#include "tools/kubesim/go_format.h"

namespace kubesim {
namespace {

using k8s::json::Value;

// ---------------------------------------------------------------------------------------------
// Syntax tree (jsonpath/node.go).

enum class node_type {
  list,
  text,
  field,
  array,
  filter,
  integer,
  floating,
  boolean,
  wildcard,
  recursive,
  union_of,
  identifier,
};

struct array_param {
  int64_t value = 0;
  bool known = false;
  bool derived = false;  // "[i]" is parsed as [i:i+1]
};

struct node {
  node_type type = node_type::list;
  std::string text;  // field name, text literal, identifier, or filter operator
  int64_t int_value = 0;
  double float_value = 0;
  bool bool_value = false;
  std::array<array_param, 3> params{};
  std::vector<node> nodes;  // list: children; union: lists; filter: {left list, right list}
};

node make_node(node_type type, std::string text = {}) {
  node n;
  n.type = type;
  n.text = std::move(text);
  return n;
}

// ---------------------------------------------------------------------------------------------
// Small Go-compatible helpers.

constexpr int32_t kEof = -1;
// Sub-parsers (unions, ['key'], filters) recurse; real paths nest a few levels at most.
constexpr int kMaxNesting = 32;

void append_utf8(std::string& out, int32_t r) {
  if (r < 0x80) {
    out += static_cast<char>(r);
  } else if (r < 0x800) {
    out += static_cast<char>(0xC0 | (r >> 6));
    out += static_cast<char>(0x80 | (r & 0x3F));
  } else if (r < 0x10000) {
    out += static_cast<char>(0xE0 | (r >> 12));
    out += static_cast<char>(0x80 | ((r >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (r & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (r >> 18));
    out += static_cast<char>(0x80 | ((r >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((r >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (r & 0x3F));
  }
}

bool is_digit(int32_t r) {
  return r >= '0' && r <= '9';
}
// unicode.IsLetter is approximated by "ASCII letter or any non-ASCII rune".
bool is_alpha_numeric(int32_t r) {
  return r == '_' || is_digit(r) || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || r >= 0x80;
}
bool is_terminator(int32_t r) {
  switch (r) {
    case kEof:
    case ' ':
    case '\t':
    case '\r':
    case '\n':
    case '.':
    case ',':
    case '[':
    case ']':
    case '$':
    case '@':
    case '{':
    case '}':
      return true;
    default:
      return false;
  }
}

// fmt's %#U, e.g. "U+007B '{'".
std::string rune_description(int32_t r) {
  char buf[16];
  auto end = std::to_chars(buf, buf + sizeof buf, r, 16).ptr;
  std::string hex(buf, end);
  std::transform(hex.begin(), hex.end(), hex.begin(),
                 [](char c) { return static_cast<char>(std::toupper(c)); });
  std::string out = "U+" + std::string(hex.size() < 4 ? 4 - hex.size() : 0, '0') + hex;
  if (r >= 0x20 && r != 0x7F && !(r >= 0x80 && r < 0xA0)) {
    out += " '";
    append_utf8(out, r);
    out += "'";
  }
  return out;
}

// strconv.Atoi on 64-bit.
std::optional<int64_t> go_atoi(std::string_view s) {
  if (!s.empty() && s[0] == '+') s.remove_prefix(1);
  const size_t first_digit = !s.empty() && s[0] == '-' ? 1 : 0;
  if (s.size() == first_digit) return std::nullopt;
  for (size_t i = first_digit; i < s.size(); ++i) {
    if (!is_digit(s[i])) return std::nullopt;
  }
  int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

// strconv.ParseFloat for what parseNumber can collect: [+-]? then digits and dots.
std::optional<double> go_parse_float(std::string_view s) {
  if (!s.empty() && s[0] == '+') s.remove_prefix(1);
  const auto body = s.substr(!s.empty() && s[0] == '-' ? 1 : 0);
  if (std::count(body.begin(), body.end(), '.') > 1 ||
      std::none_of(body.begin(), body.end(), [](char c) { return is_digit(c); })) {
    return std::nullopt;
  }
  double v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// jsonpath.UnquoteExtend: strconv.Unquote that also accepts single quotes.
std::optional<std::string> unquote_extend(std::string_view s) {
  if (s.size() < 2 || s.front() != s.back() || (s.front() != '"' && s.front() != '\'')) {
    return std::nullopt;
  }
  const char quote = s.front();
  s = s.substr(1, s.size() - 2);
  std::string out;
  while (!s.empty()) {
    const auto c = static_cast<unsigned char>(s[0]);
    if (c == static_cast<unsigned char>(quote)) return std::nullopt;
    if (c >= 0x80) {
      size_t width = 1;
      append_utf8(out, go::decode_rune(s, 0, width));
      s.remove_prefix(width);
      continue;
    }
    if (c != '\\') {
      out += static_cast<char>(c);
      s.remove_prefix(1);
      continue;
    }
    if (s.size() < 2) return std::nullopt;
    const char e = s[1];
    s.remove_prefix(2);
    switch (e) {
      case 'a':
        out += '\a';
        break;
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 't':
        out += '\t';
        break;
      case 'v':
        out += '\v';
        break;
      case '\\':
        out += '\\';
        break;
      case '\'':
      case '"':
        if (e != quote) return std::nullopt;
        out += e;
        break;
      case 'x':
      case 'u':
      case 'U': {
        const size_t n = e == 'x' ? 2 : e == 'u' ? 4 : 8;
        if (s.size() < n) return std::nullopt;
        int64_t v = 0;
        for (size_t j = 0; j < n; ++j) {
          const int h = hex_value(s[j]);
          if (h < 0) return std::nullopt;
          v = (v << 4) | h;
        }
        s.remove_prefix(n);
        if (e == 'x') {
          out += static_cast<char>(v);  // a raw byte, possibly not UTF-8
        } else {
          if (v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return std::nullopt;
          append_utf8(out, static_cast<int32_t>(v));
        }
        break;
      }
      default: {
        if (e < '0' || e > '7' || s.size() < 2) return std::nullopt;
        int v = e - '0';
        for (size_t j = 0; j < 2; ++j) {
          if (s[j] < '0' || s[j] > '7') return std::nullopt;
          v = (v << 3) | (s[j] - '0');
        }
        s.remove_prefix(2);
        if (v > 255) return std::nullopt;
        out += static_cast<char>(v);
      }
    }
  }
  return out;
}

// The filter regex ^([^!<>=]+)([!<>=]+)(.+?)$ without a regex engine.
bool split_filter(std::string_view text, std::string& left, std::string& op, std::string& right) {
  const auto is_op = [](char c) { return c == '!' || c == '<' || c == '>' || c == '='; };
  size_t i = 0;
  while (i < text.size() && !is_op(text[i])) ++i;
  if (i == 0 || i == text.size()) return false;
  size_t j = i;
  while (j < text.size() && is_op(text[j])) ++j;
  if (j == text.size()) {  // the right side needs a character: give back one operator char
    if (j - i < 2) return false;
    --j;
  }
  left = text.substr(0, i);
  op = text.substr(i, j - i);
  right = text.substr(j);
  return true;
}

// ---------------------------------------------------------------------------------------------
// Parser (jsonpath/parser.go), with its recursion turned into loops where Go tail-calls.

class parser {
 public:
  parser(std::string input, int depth) : input_(std::move(input)), depth_(depth) {
    if (depth_ > kMaxNesting) throw jsonpath_error("jsonpath nested too deeply");
  }

  // The root holds text outside braces and one list node per {action}.
  std::vector<node> parse() {
    while (true) {
      while (!has_prefix("{")) {
        if (next() == kEof) {
          if (pos_ > start_) root_.push_back(make_node(node_type::text, consume_text()));
          return std::move(root_);
        }
      }
      if (pos_ > start_) root_.push_back(make_node(node_type::text, consume_text()));
      pos_ += 1;
      consume_text();
      root_.push_back(make_node(node_type::list));
      parse_inside_action(root_.back());
    }
  }

 private:
  int32_t next() {
    if (pos_ >= input_.size()) {
      width_ = 0;
      return kEof;
    }
    const int32_t r = go::decode_rune(input_, pos_, width_);
    pos_ += width_;
    return r;
  }
  int32_t peek() {
    const int32_t r = next();
    backup();
    return r;
  }
  void backup() { pos_ -= width_; }
  bool has_prefix(std::string_view prefix) const {
    return std::string_view(input_).substr(pos_, prefix.size()) == prefix;
  }
  std::string consume_text() {
    std::string value = input_.substr(start_, pos_ - start_);
    start_ = pos_;
    return value;
  }

  // Parses "{" + text + "}" on its own and returns the action's list.
  node parse_action(const std::string& text) const {
    auto root = parser("{" + text + "}", depth_ + 1).parse();
    return std::move(root.front());  // the input starts with "{", so this is the list
  }

  void parse_inside_action(node& cur) {
    while (true) {
      if (has_prefix("}")) {
        pos_ += 1;
        consume_text();
        return;
      }
      if (has_prefix("[?(")) {
        parse_filter(cur);
        continue;
      }
      if (has_prefix("..")) {
        parse_recursive(cur);
        continue;
      }
      const int32_t r = next();
      if (r == kEof || r == '\r' || r == '\n') throw jsonpath_error("unclosed action");
      if (r == ' ' || r == '@' || r == '$') {  // "@" and "$" are the current object
        consume_text();
      } else if (r == '[') {
        parse_array(cur);
      } else if (r == '"' || r == '\'') {
        parse_quote(cur, r);
      } else if (r == '.') {
        parse_field(cur);
      } else if (r == '+' || r == '-' || is_digit(r)) {
        backup();
        parse_number(cur);
      } else if (is_alpha_numeric(r)) {
        backup();
        parse_identifier(cur);
      } else {
        throw jsonpath_error("unrecognized character in action: " + rune_description(r));
      }
    }
  }

  void parse_identifier(node& cur) {
    while (!is_terminator(next())) {
    }
    backup();
    std::string value = consume_text();
    if (value == "true" || value == "false") {
      node b = make_node(node_type::boolean);
      b.bool_value = value == "true";
      cur.nodes.push_back(std::move(b));
    } else {
      cur.nodes.push_back(make_node(node_type::identifier, std::move(value)));
    }
  }

  void parse_recursive(node& cur) {
    if (!cur.nodes.empty() && cur.nodes.back().type == node_type::recursive) {
      throw jsonpath_error("invalid multiple recursive descent");
    }
    pos_ += 2;
    consume_text();
    cur.nodes.push_back(make_node(node_type::recursive));
    if (is_alpha_numeric(peek())) parse_field(cur);
  }

  void parse_number(node& cur) {
    const int32_t sign = peek();
    if (sign == '+' || sign == '-') next();
    while (true) {
      const int32_t r = next();
      if (r != '.' && !is_digit(r)) {
        backup();
        break;
      }
    }
    const std::string value = consume_text();
    if (auto i = go_atoi(value)) {
      node n = make_node(node_type::integer);
      n.int_value = *i;
      cur.nodes.push_back(std::move(n));
    } else if (auto d = go_parse_float(value)) {
      node n = make_node(node_type::floating);
      n.float_value = *d;
      cur.nodes.push_back(std::move(n));
    } else {
      throw jsonpath_error("cannot parse number " + value);
    }
  }

  void parse_array(node& cur) {
    while (true) {
      const int32_t r = next();
      if (r == kEof || r == '\n') throw jsonpath_error("unterminated array");
      if (r == ']') break;
    }
    std::string text = consume_text();
    text = text.substr(1, text.size() - 2);
    if (text == "*") text = ":";

    // Union: "[a,b]" is evaluated as "[a]" and "[b]".
    if (text.find(',') != std::string::npos) {
      node u = make_node(node_type::union_of);
      size_t start = 0;
      while (true) {
        const size_t comma = text.find(',', start);
        std::string part = text.substr(start, comma == std::string::npos ? comma : comma - start);
        const size_t first = part.find_first_not_of(' ');
        part = first == std::string::npos
                   ? ""
                   : part.substr(first, part.find_last_not_of(' ') + 1 - first);
        u.nodes.push_back(parse_action("[" + part + "]"));
        if (comma == std::string::npos) break;
        start = comma + 1;
      }
      cur.nodes.push_back(std::move(u));
      return;
    }

    // Dict key: ['key'] is re-parsed as .key, so dots in it still separate fields.
    if (text.size() >= 2 && text.front() == '\'' && text.back() == '\'' &&
        text.find('\'', 1) == text.size() - 1) {
      node list = parse_action("." + text.substr(1, text.size() - 2));
      for (auto& n : list.nodes) cur.nodes.push_back(std::move(n));
      return;
    }

    // Slice: ^(-?\d*)(:-?\d*)?(:-?\d*)?$
    std::array<std::string, 3> groups;
    size_t i = 0;
    const auto scan_number = [&](size_t from) {
      size_t j = from;
      if (j < text.size() && text[j] == '-') ++j;
      while (j < text.size() && is_digit(text[j])) ++j;
      return j;
    };
    i = scan_number(0);
    groups[0] = text.substr(0, i);
    for (int g = 1; g < 3 && i < text.size() && text[i] == ':'; ++g) {
      const size_t j = scan_number(i + 1);
      groups[g] = text.substr(i, j - i);
      i = j;
    }
    if (i != text.size()) throw jsonpath_error("invalid array index " + text);

    node a = make_node(node_type::array);
    for (int g = 0; g < 3; ++g) {
      array_param& p = a.params[g];
      if (!groups[g].empty()) {
        const std::string digits = g > 0 ? groups[g].substr(1) : groups[g];
        if (g > 0 && digits.empty()) continue;  // "[1:]": unknown end
        auto v = go_atoi(digits);
        if (!v) throw jsonpath_error("array index " + digits + " is not a number");
        p.known = true;
        p.value = *v;
      } else if (g == 1) {
        p.known = true;
        p.derived = true;
        // Go's int overflow wraps; avoid the undefined behaviour but keep the result.
        p.value = static_cast<int64_t>(static_cast<uint64_t>(a.params[0].value) + 1);
      }
    }
    cur.nodes.push_back(std::move(a));
  }

  void parse_filter(node& cur) {
    pos_ += 3;
    consume_text();
    bool begin = false;
    bool end = false;
    int32_t pair = 0;
    while (true) {
      const int32_t r = next();
      if (r == kEof || r == '\n') throw jsonpath_error("unterminated filter");
      if (r == '"' || r == '\'') {
        if (!begin) {
          begin = true;
          pair = r;
        } else if (input_[pos_ - 2] != '\\' && r == pair) {
          end = true;
        }
      } else if (r == ')' && begin == end) {
        break;
      }
    }
    if (next() != ']') throw jsonpath_error("unclosed array expect ]");
    std::string text = consume_text();
    text = text.substr(0, text.size() - 2);

    node f = make_node(node_type::filter);
    std::string left, op, right;
    if (split_filter(text, left, op, right)) {
      f.text = op;
      f.nodes.push_back(parse_action(left));
      f.nodes.push_back(parse_action(right));
    } else {
      f.text = "exists";
      f.nodes.push_back(parse_action(text));
      f.nodes.push_back(make_node(node_type::list));
    }
    cur.nodes.push_back(std::move(f));
  }

  void parse_quote(node& cur, int32_t end) {
    while (true) {
      const int32_t r = next();
      if (r == kEof || r == '\n') throw jsonpath_error("unterminated quoted string");
      if (r == end && input_[pos_ - 2] != '\\') break;
    }
    const std::string value = consume_text();
    auto s = unquote_extend(value);
    if (!s) throw jsonpath_error("unquote string " + value + " error invalid syntax");
    cur.nodes.push_back(make_node(node_type::text, std::move(*s)));
  }

  void parse_field(node& cur) {
    consume_text();  // the "."
    while (true) {
      const int32_t r = next();
      if (r == '\\') {
        next();
      } else if (is_terminator(r)) {
        backup();
        break;
      }
    }
    std::string value = consume_text();
    if (value == "*") {
      cur.nodes.push_back(make_node(node_type::wildcard));
      return;
    }
    value.erase(std::remove(value.begin(), value.end(), '\\'), value.end());
    cur.nodes.push_back(make_node(node_type::field, std::move(value)));
  }

  std::string input_;
  int depth_;
  size_t pos_ = 0;
  size_t start_ = 0;
  size_t width_ = 0;
  std::vector<node> root_;
};

// Results must point into the caller's document, so literals may only appear inside filters
// (".a \"x\"" would "return" the text "x" in client-go).
void reject_literals(const node& list) {
  for (const node& n : list.nodes) {
    switch (n.type) {
      case node_type::text:
      case node_type::integer:
      case node_type::floating:
      case node_type::boolean:
        throw jsonpath_error("literal values are only supported inside filters");
      case node_type::union_of:
        for (const node& branch : n.nodes) reject_literals(branch);
        break;
      default:
        break;
    }
  }
}

// The server wraps the column path in braces; only the first action yields the cell.
node compile(std::string_view path) {
  auto root = parser("{" + std::string(path) + "}", 0).parse();
  node action = std::move(root.front());
  reject_literals(action);
  return action;
}

// ---------------------------------------------------------------------------------------------
// Evaluation (jsonpath.go). Each function mirrors its Go twin: it returns false on an
// evaluation error and leaves in `out` what Go returns beside that error.

// A value of the document, or a literal of the path (only inside filters).
struct item {
  const Value* value = nullptr;
  const node* literal = nullptr;
};
using items = std::vector<item>;

enum class kind { nil, object, array, string, boolean, integer, floating };

// The Go kind the unstructured decoder would have produced (int64 vs float64 matters).
kind kind_of(const item& it) {
  if (it.literal) {
    switch (it.literal->type) {
      case node_type::integer:
        return kind::integer;
      case node_type::floating:
        return kind::floating;
      case node_type::boolean:
        return kind::boolean;
      default:
        return kind::string;
    }
  }
  const Value& v = *it.value;
  if (v.IsObject()) return kind::object;
  if (v.IsArray()) return kind::array;
  if (v.IsString()) return kind::string;
  if (v.IsBool()) return kind::boolean;
  if (v.IsInt64()) return kind::integer;
  if (v.IsNumber()) return kind::floating;
  return kind::nil;
}

bool walk(const items& in, const node& n, items& out);

bool eval_list(const items& in, const node& list, items& out) {
  items cur = in;
  for (const node& n : list.nodes) {
    items next;
    const bool ok = walk(cur, n, next);
    cur = std::move(next);
    if (!ok) {
      out = std::move(cur);
      return false;
    }
  }
  out = std::move(cur);
  return true;
}

bool eval_field(const items& in, const std::string& name, items& out) {
  for (const item& it : in) {
    if (kind_of(it) != kind::object) continue;  // nulls are skipped, scalars have no fields
    if (const Value* v = k8s::json::find(*it.value, name)) out.push_back({v});
  }
  return true;  // missing keys are allowed (AllowMissingKeys(true))
}

bool eval_array(const items& in, const node& n, items& out) {
  for (const item& it : in) {
    const kind k = kind_of(it);
    if (k == kind::nil) continue;
    if (k != kind::array) {  // "<type> is not array or slice"
      out = in;
      return false;
    }
    const Value& array = *it.value;
    const auto length = static_cast<int64_t>(array.Size());
    auto p = n.params;
    if (!p[0].known) p[0].value = 0;
    if (p[0].value < 0) p[0].value += length;
    if (!p[1].known) p[1].value = length;
    if (p[1].value < 0 || (p[1].value == 0 && p[1].derived)) p[1].value += length;
    if (p[1].value == p[0].value) return true;  // Go stops at the first empty selection
    if (p[0].value >= length || p[0].value < 0 || p[1].value > length || p[1].value < 0 ||
        p[0].value > p[1].value) {
      out = in;
      return false;
    }
    int64_t step = 1;
    if (p[2].known) {
      if (p[2].value <= 0) {
        out = in;
        return false;
      }
      step = p[2].value;
    }
    const int64_t count = p[1].value - p[0].value;
    for (int64_t j = 0; j < count; j += step) {
      out.push_back({&array[static_cast<rapidjson::SizeType>(p[0].value + j)]});
    }
  }
  return true;
}

bool eval_wildcard(const items& in, items& out) {
  for (const item& it : in) {
    const kind k = kind_of(it);
    if (k == kind::object) {
      for (const auto& m : it.value->GetObject()) out.push_back({&m.value});
    } else if (k == kind::array) {
      for (const auto& e : it.value->GetArray()) out.push_back({&e});
    }
    // Go also walks the bytes of a string; bytes are not JSON values, so they are skipped.
  }
  return true;
}

// Every container under the input (inputs included); Go counts a non-empty string as a
// container of bytes, so those are listed too.
bool eval_recursive(const items& in, items& out) {
  for (const item& it : in) {
    const kind k = kind_of(it);
    items children;
    if (k == kind::object) {
      for (const auto& m : it.value->GetObject()) children.push_back({&m.value});
    } else if (k == kind::array) {
      for (const auto& e : it.value->GetArray()) children.push_back({&e});
    } else if (k == kind::string) {
      const bool non_empty =
          it.literal ? !it.literal->text.empty() : it.value->GetStringLength() > 0;
      if (non_empty) out.push_back(it);
      continue;
    }
    if (children.empty()) continue;
    out.push_back(it);
    eval_recursive(children, out);
  }
  return true;
}

bool eval_union(const items& in, const node& n, items& out) {
  for (const node& branch : n.nodes) {
    items part;
    if (!eval_list(in, branch, part)) {
      out = in;
      return false;
    }
    out.insert(out.end(), part.begin(), part.end());
  }
  return true;
}

// The scalar view of an item for text/template's comparison functions.
struct scalar {
  kind k = kind::nil;
  bool b = false;
  int64_t i = 0;
  double d = 0;
  std::string_view s;
};

scalar scalar_of(const item& it) {
  scalar out;
  out.k = kind_of(it);
  if (it.literal) {
    out.b = it.literal->bool_value;
    out.i = it.literal->int_value;
    out.d = it.literal->float_value;
    out.s = it.literal->text;
    return out;
  }
  const Value& v = *it.value;
  if (out.k == kind::boolean) out.b = v.GetBool();
  if (out.k == kind::integer) out.i = v.GetInt64();
  if (out.k == kind::floating) out.d = v.GetDouble();
  if (out.k == kind::string) out.s = k8s::json::view(v);
  return out;
}

bool comparable(const scalar& a) {
  return a.k == kind::boolean || a.k == kind::integer || a.k == kind::floating ||
         a.k == kind::string;
}

// template.Equal / template.Less: mismatched kinds (even int vs float) are errors.
std::optional<bool> go_equal(const scalar& a, const scalar& b) {
  if (!comparable(a) || !comparable(b) || a.k != b.k) return std::nullopt;
  switch (a.k) {
    case kind::boolean:
      return a.b == b.b;
    case kind::integer:
      return a.i == b.i;
    case kind::floating:
      return a.d == b.d;
    default:
      return a.s == b.s;
  }
}

std::optional<bool> go_less(const scalar& a, const scalar& b) {
  if (!comparable(a) || !comparable(b) || a.k != b.k || a.k == kind::boolean) return std::nullopt;
  switch (a.k) {
    case kind::integer:
      return a.i < b.i;
    case kind::floating:
      return a.d < b.d;
    default:
      return a.s < b.s;
  }
}

std::optional<bool> go_compare(const std::string& op, const item& left, const item& right) {
  const scalar a = scalar_of(left);
  const scalar b = scalar_of(right);
  const auto less_equal = [&]() -> std::optional<bool> {
    auto lt = go_less(a, b);
    if (!lt || *lt) return lt;
    return go_equal(a, b);
  };
  const auto negate = [](std::optional<bool> v) { return v ? std::optional<bool>(!*v) : v; };
  if (op == "<") return go_less(a, b);
  if (op == ">") return negate(less_equal());
  if (op == "==") return go_equal(a, b);
  if (op == "!=") return negate(go_equal(a, b));
  if (op == "<=") return less_equal();
  if (op == ">=") return negate(go_less(a, b));
  return std::nullopt;  // "unrecognized filter operator"
}

bool eval_filter(const items& in, const node& f, items& out) {
  for (const item& it : in) {
    if (kind_of(it) != kind::array) {  // a null is an error here, unlike in eval_array
      out = in;
      return false;
    }
    for (const auto& element : it.value->GetArray()) {
      const items temp{{&element}};
      items lefts;
      const bool left_ok = eval_list(temp, f.nodes[0], lefts);
      if (f.text == "exists") {
        if (!lefts.empty()) out.push_back({&element});
        continue;
      }
      if (!left_ok || lefts.size() > 1) {
        out = in;
        return false;
      }
      if (lefts.empty()) continue;
      items rights;
      if (!eval_list(temp, f.nodes[1], rights) || rights.size() > 1) {
        out = in;
        return false;
      }
      if (rights.empty()) continue;
      const auto pass = go_compare(f.text, lefts[0], rights[0]);
      if (!pass) return false;
      if (*pass) out.push_back({&element});
    }
  }
  return true;
}

bool walk(const items& in, const node& n, items& out) {
  out.clear();
  switch (n.type) {
    case node_type::list:
      return eval_list(in, n, out);
    case node_type::text:
      out.push_back({nullptr, &n});
      return true;
    case node_type::integer:
    case node_type::floating:
    case node_type::boolean:
      out.assign(in.size(), item{nullptr, &n});
      return true;
    case node_type::field:
      return eval_field(in, n.text, out);
    case node_type::array:
      return eval_array(in, n, out);
    case node_type::filter:
      return eval_filter(in, n, out);
    case node_type::wildcard:
      return eval_wildcard(in, out);
    case node_type::recursive:
      return eval_recursive(in, out);
    case node_type::union_of:
      return eval_union(in, n, out);
    case node_type::identifier:
      out = in;
      return false;  // range/end are not supported
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// Go's text for cells: fmt.Fprint for scalars, encoding/json for objects and arrays.

// JSONPath.PrintResults for one value.
std::string print_text(const Value& v) {
  if (v.IsNull()) return "<no value>";  // reflect.ValueOf(nil) prints as text/template does
  if (v.IsObject() || v.IsArray()) {
    std::string out;
    go::append_json(out, v);
    return out;
  }
  if (v.IsString()) return std::string(k8s::json::view(v));
  if (v.IsBool()) return v.GetBool() ? "true" : "false";
  if (v.IsInt64()) return std::to_string(v.GetInt64());
  return go::float_text(v.GetDouble());
}

// ---------------------------------------------------------------------------------------------
// Date cells: metav1.Time.UnmarshalQueryParameter + duration.HumanDuration.

std::string date_cell(std::string_view text, std::chrono::system_clock::time_point now) {
  if (text.empty() || text == "null") return "<unknown>";
  const auto t = k8s::parse_rfc3339(text);
  if (!t) return "<invalid>";
  if (t->is_zero()) return "<unknown>";
  const auto now_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch());
  // time.Time.Sub saturates instead of overflowing.
  const __int128 diff = static_cast<__int128>(now_ns.count()) -
                        (static_cast<__int128>(t->seconds) * 1000000000 + t->nanos);
  const __int128 max = std::numeric_limits<int64_t>::max();
  const __int128 min = std::numeric_limits<int64_t>::min();
  return human_duration(std::chrono::nanoseconds(static_cast<int64_t>(std::clamp(diff, min, max))));
}

// tableconvertor's cellForJSONValue, for every type but string.
Value typed_cell(const Value& v, std::string_view type, k8s::json::Allocator& allocator,
                 std::chrono::system_clock::time_point now) {
  if (type == "integer" && v.IsNumber()) {
    if (v.IsInt64()) return Value(v.GetInt64());
    const double d = v.GetDouble();
    // int64(float64) in Go; out of range gives the amd64 result.
    const bool fits = d >= -9223372036854775808.0 && d < 9223372036854775808.0;
    return Value(fits ? static_cast<int64_t>(d) : std::numeric_limits<int64_t>::min());
  }
  if (type == "number" && v.IsNumber()) {
    return Value(v.IsInt64() ? static_cast<double>(v.GetInt64()) : v.GetDouble());
  }
  if (type == "boolean" && v.IsBool()) return Value(v.GetBool());
  if (type == "date" && v.IsString()) {
    return k8s::json::string_value(date_cell(k8s::json::view(v), now), allocator);
  }
  return Value();
}

}  // namespace

void jsonpath_validate(std::string_view path) {
  compile(path);
}

std::vector<const Value*> jsonpath_eval(const Value& root, std::string_view path) {
  const node action = compile(path);
  items found;
  if (!eval_list({item{&root}}, action, found)) return {};
  std::vector<const Value*> out;
  for (const item& it : found) {
    if (it.value) out.push_back(it.value);
  }
  return out;
}

Value printer_cell(const Value& root, std::string_view path, std::string_view type,
                   k8s::json::Allocator& allocator) {
  return printer_cell(root, path, type, allocator, std::chrono::system_clock::now());
}

Value printer_cell(const Value& root, std::string_view path, std::string_view type,
                   k8s::json::Allocator& allocator, std::chrono::system_clock::time_point now) {
  const auto found = jsonpath_eval(root, path);
  // The server only looks at the first match ("we only support simple JSON path").
  if (found.empty()) return Value();
  const Value& v = *found.front();
  if (type == "string") return k8s::json::string_value(print_text(v), allocator);
  if (v.IsNull()) return Value();
  return typed_cell(v, type, allocator, now);
}

std::string human_duration(std::chrono::nanoseconds duration) {
  const int64_t d = duration.count();
  constexpr int64_t second = 1000000000;
  constexpr int64_t minute = 60 * second;
  constexpr int64_t hour = 60 * minute;
  const auto str = [](int64_t v) { return std::to_string(v); };
  const int64_t seconds = d / second;
  if (seconds < -1) return "<invalid>";
  if (seconds < 0) return "0s";
  if (seconds < 60 * 2) return str(seconds) + "s";
  const int64_t minutes = d / minute;
  if (minutes < 10) {
    const int64_t s = seconds % 60;
    return s == 0 ? str(minutes) + "m" : str(minutes) + "m" + str(s) + "s";
  }
  if (minutes < 60 * 3) return str(minutes) + "m";
  const int64_t hours = d / hour;
  if (hours < 8) {
    const int64_t m = minutes % 60;
    return m == 0 ? str(hours) + "h" : str(hours) + "h" + str(m) + "m";
  }
  if (hours < 48) return str(hours) + "h";
  if (hours < 24 * 8) {
    const int64_t h = hours % 24;
    return h == 0 ? str(hours / 24) + "d" : str(hours / 24) + "d" + str(h) + "h";
  }
  if (hours < 24 * 365 * 2) return str(hours / 24) + "d";
  if (hours < 24 * 365 * 8) {
    const int64_t dy = (hours / 24) % 365;
    return dy == 0 ? str(hours / 24 / 365) + "y" : str(hours / 24 / 365) + "y" + str(dy) + "d";
  }
  return str(hours / 24 / 365) + "y";
}

}  // namespace kubesim
