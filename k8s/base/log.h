// Log lines in logfmt like the original operator (time=... level=info msg="..." cluster=...
// kubernetes=... namespace=...), or one JSON object per line. Thread-safe; the level and the
// format can change at run time (config reload). Never pass a token or a secret as a field.
#pragma once

#include <atomic>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace k8s::log {

enum class level { debug = 0, info = 1, warning = 2, error = 3 };
enum class format { logfmt, json };

// Parses "debug", "info", "warning"/"warn", "error" (any case); false if unknown.
bool parse_level(std::string_view s, level& out);
const char* to_string(level l);

void set_level(level l);
void set_format(format f);
level current_level();
bool enabled(level l);

using field = std::pair<std::string_view, std::string_view>;
void write(level l, std::string_view msg, std::initializer_list<field> fields = {});

inline void debug(std::string_view msg, std::initializer_list<field> f = {}) { write(level::debug, msg, f); }
inline void info(std::string_view msg, std::initializer_list<field> f = {}) { write(level::info, msg, f); }
inline void warn(std::string_view msg, std::initializer_list<field> f = {}) { write(level::warning, msg, f); }
inline void error(std::string_view msg, std::initializer_list<field> f = {}) { write(level::error, msg, f); }

// One formatted line without the trailing newline (for tests).
std::string format_line(format f, std::string_view time, level l, std::string_view msg,
                        std::initializer_list<field> fields);

}  // namespace k8s::log
