// The segments of a URL path, empty ones dropped: "/apis/g/v1/" -> {"apis", "g", "v1"}.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace k8s::http {

inline std::vector<std::string> split_path(std::string_view path) {
  std::vector<std::string> parts;
  size_t i = 0;
  while (i < path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    if (j > i) parts.emplace_back(path.substr(i, j - i));
    i = j + 1;
  }
  return parts;
}

}  // namespace k8s::http
