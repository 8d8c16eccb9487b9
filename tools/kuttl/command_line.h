// A TestStep `command` as kuttl runs it: $VAR and ${VAR} expanded from the environment (Go's
// os.ExpandEnv: unknown variables become ""), then split into words as a shell would split them
// (quotes and backslashes, no globbing, pipes or other shell features), then run directly.
#pragma once

#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace kuttl {

std::string expand_env(const std::string& s,
                       const std::function<std::optional<std::string>(const std::string&)>& lookup);

// Throws std::invalid_argument on an unterminated quote.
std::vector<std::string> split_words(const std::string& s);

}  // namespace kuttl
