#include "tools/kuttl/command_line.h"

#include <cctype>

namespace kuttl {
namespace {

bool name_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
}

}  // namespace

std::string expand_env(
    const std::string& s,
    const std::function<std::optional<std::string>(const std::string&)>& lookup) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '$' || i + 1 == s.size()) {
      out += s[i];
      continue;
    }
    std::string name;
    size_t end = i + 1;
    if (s[end] == '{') {
      size_t close = s.find('}', end);
      if (close == std::string::npos) {
        out += s[i];
        continue;
      }
      name = s.substr(end + 1, close - end - 1);
      end = close + 1;
    } else {
      while (end < s.size() && name_char(s[end])) name += s[end++];
      if (name.empty()) {
        out += s[i];
        continue;
      }
    }
    out += lookup(name).value_or("");
    i = end - 1;
  }
  return out;
}

std::vector<std::string> split_words(const std::string& s) {
  std::vector<std::string> words;
  std::string cur;
  bool in_word = false;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '\'' || c == '"') {
      size_t close = i + 1;
      std::string quoted;
      for (; close < s.size() && s[close] != c; ++close) {
        if (c == '"' && s[close] == '\\' && close + 1 < s.size() &&
            (s[close + 1] == '"' || s[close + 1] == '\\'))
          ++close;
        quoted += s[close];
      }
      if (close >= s.size()) throw std::invalid_argument("unterminated quote in: " + s);
      cur += quoted;
      in_word = true;
      i = close;
    } else if (c == '\\' && i + 1 < s.size()) {
      cur += s[++i];
      in_word = true;
    } else if (std::isspace(static_cast<unsigned char>(c))) {
      if (in_word) words.push_back(std::move(cur));
      cur.clear();
      in_word = false;
    } else {
      cur += c;
      in_word = true;
    }
  }
  if (in_word) words.push_back(std::move(cur));
  return words;
}

}  // namespace kuttl
