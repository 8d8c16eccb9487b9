#include "k8s/api/resource.h"

namespace k8s {
namespace {

bool unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

}  // namespace

std::string percent_encode(std::string_view s) {
  static constexpr char hex[] = "0123456789ABCDEF";
  const bool dot_segment = s == "." || s == "..";
  std::string out;
  out.reserve(s.size());
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (unreserved(c) && !dot_segment) {
      out += ch;
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 0xF];
    }
  }
  return out;
}

std::string resource::collection_path(const std::string& ns) const {
  std::string p = group.empty() ? "/api/" + percent_encode(version)
                                : "/apis/" + percent_encode(group) + "/" + percent_encode(version);
  if (namespaced && !ns.empty()) p += "/namespaces/" + percent_encode(ns);
  return p + "/" + percent_encode(plural);
}

std::string resource::item_path(const std::string& ns, const std::string& name,
                                const std::string& subresource) const {
  std::string p = collection_path(ns) + "/" + percent_encode(name);
  if (!subresource.empty()) p += "/" + percent_encode(subresource);
  return p;
}

}  // namespace k8s
