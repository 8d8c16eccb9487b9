// Which text a text was, without its bytes: enough to tell whether a status is the one we last
// wrote (a few KiB each, kept per MultiCasskop). Two unrelated 64-bit hashes and the length: a
// false match is out of practical reach.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string_view>

namespace mc {

struct text_digest {
  uint64_t fnv = 0;
  uint64_t murmur = 0;
  size_t size = 0;  // 0: no text
  static text_digest of(std::string_view text) {
    text_digest d;
    d.fnv = 14695981039346656037ull;
    for (unsigned char c : text) d.fnv = (d.fnv ^ c) * 1099511628211ull;
    d.murmur = std::hash<std::string_view>{}(text);
    d.size = text.size();
    return d;
  }
  bool empty() const { return size == 0; }
  bool operator==(const text_digest& o) const {
    return size == o.size && fnv == o.fnv && murmur == o.murmur;
  }
  bool operator!=(const text_digest& o) const { return !(*this == o); }
};

}  // namespace mc
