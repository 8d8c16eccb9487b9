#include "k8s/base/log.h"

#include <chrono>
#include <cstdio>
#include <mutex>

#include "k8s/base/timestamps.h"

namespace k8s::log {
namespace {

std::atomic<int> g_level{static_cast<int>(level::info)};
std::atomic<int> g_format{static_cast<int>(format::logfmt)};
std::mutex g_out;

bool needs_quotes(std::string_view v) {
  if (v.empty()) return true;
  for (char c : v)
    if (c <= ' ' || c == '"' || c == '=' || c == '\\' || static_cast<unsigned char>(c) >= 0x7f) return true;
  return false;
}

void append_escaped(std::string& out, std::string_view v) {
  for (char c : v) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += c;
        }
    }
  }
}

void append_logfmt(std::string& out, std::string_view key, std::string_view value) {
  if (!out.empty()) out += ' ';
  out.append(key).append("=");
  if (needs_quotes(value)) {
    out += '"';
    append_escaped(out, value);
    out += '"';
  } else {
    out.append(value);
  }
}

void append_json(std::string& out, std::string_view key, std::string_view value) {
  out += out.size() > 1 ? ",\"" : "\"";
  append_escaped(out, key);
  out += "\":\"";
  append_escaped(out, value);
  out += '"';
}

}  // namespace

bool parse_level(std::string_view s, level& out) {
  std::string l(s);
  for (auto& c : l) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (l == "debug") out = level::debug;
  else if (l == "info") out = level::info;
  else if (l == "warning" || l == "warn") out = level::warning;
  else if (l == "error") out = level::error;
  else return false;
  return true;
}

const char* to_string(level l) {
  switch (l) {
    case level::debug: return "debug";
    case level::info: return "info";
    case level::warning: return "warning";
    case level::error: return "error";
  }
  return "info";
}

void set_level(level l) { g_level = static_cast<int>(l); }
void set_format(format f) { g_format = static_cast<int>(f); }
level current_level() { return static_cast<level>(g_level.load()); }
bool enabled(level l) { return static_cast<int>(l) >= g_level.load(); }

std::string format_line(format f, std::string_view time, level l, std::string_view msg,
                        std::initializer_list<field> fields) {
  std::string out;
  if (f == format::json) {
    out = "{";
    append_json(out, "time", time);
    append_json(out, "level", to_string(l));
    append_json(out, "msg", msg);
    for (const auto& [k, v] : fields) append_json(out, k, v);
    out += "}";
  } else {
    append_logfmt(out, "time", time);
    append_logfmt(out, "level", to_string(l));
    // msg is always quoted, as logrus prints it.
    out += " msg=\"";
    append_escaped(out, msg);
    out += '"';
    for (const auto& [k, v] : fields) append_logfmt(out, k, v);
  }
  return out;
}

void write(level l, std::string_view msg, std::initializer_list<field> fields) {
  if (!enabled(l)) return;
  const std::string now = format_time(std::chrono::system_clock::now());
  std::string line = format_line(static_cast<format>(g_format.load()), now, l, msg, fields);
  line += '\n';
  std::lock_guard lock(g_out);
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

}  // namespace k8s::log
