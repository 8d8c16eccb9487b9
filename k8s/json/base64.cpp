#include "k8s/json/base64.h"

#include <openssl/evp.h>

namespace k8s {

std::string base64_encode(std::string_view bytes, bool url) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(bytes.data()),
                          static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  if (url) {
    while (!out.empty() && out.back() == '=') out.pop_back();
    for (auto& c : out) c = c == '+' ? '-' : c == '/' ? '_' : c;
  }
  return out;
}

std::optional<std::string> base64_decode(std::string_view text, bool url) {
  // Normalize to padded standard base64 and validate every character first: OpenSSL's
  // decoder is lenient about where padding may appear.
  std::string in;
  in.reserve(text.size() + 2);
  size_t padding = 0;
  for (unsigned char c : text) {
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') continue;
    if (url) {
      if (c == '-') c = '+';
      else if (c == '_') c = '/';
      else if (c == '+' || c == '/' || c == '=') return std::nullopt;
    }
    bool digit = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                 c == '+' || c == '/';
    if (c == '=') {
      ++padding;
    } else if (padding > 0 || !digit) {
      return std::nullopt;
    }
    in.push_back(static_cast<char>(c));
  }
  if (url) {
    if (in.size() % 4 == 1) return std::nullopt;
    while (in.size() % 4) {
      in.push_back('=');
      ++padding;
    }
  }
  if (in.size() % 4 != 0 || padding > 2) return std::nullopt;
  if (in.empty()) return std::string();
  std::string out(in.size() / 4 * 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()),
                          static_cast<int>(in.size()));
  if (n < 0) return std::nullopt;
  out.resize(static_cast<size_t>(n) - padding);
  return out;
}

}  // namespace k8s
