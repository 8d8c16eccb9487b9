#include "tools/kubesim/review_protobuf.h"

#include <cstdint>
#include <functional>
#include <string>

#include "tools/kubesim/api_error.h"

namespace kubesim {
namespace js = k8s::json;

namespace {

// The protobuf wire format, enough for strings, int64 and nested messages.
class reader {
 public:
  explicit reader(std::string_view b) : b_(b) {}
  bool done() const { return pos_ >= b_.size(); }
  uint64_t varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (done()) fail();
      auto c = static_cast<unsigned char>(b_[pos_++]);
      v |= uint64_t(c & 0x7f) << shift;
      if (!(c & 0x80)) return v;
    }
    fail();
  }
  // The next field: its number, and its bytes when length-delimited (`value` for varints).
  bool next(int& field, std::string_view& bytes, uint64_t& value) {
    if (done()) return false;
    uint64_t key = varint();
    field = static_cast<int>(key >> 3);
    switch (key & 7) {
      case 0:
        value = varint();
        bytes = {};
        return true;
      case 2: {
        uint64_t n = varint();
        if (n > b_.size() - pos_) fail();
        bytes = b_.substr(pos_, n);
        pos_ += n;
        return true;
      }
      case 1:
        skip(8);
        return true;
      case 5:
        skip(4);
        return true;
      default:
        fail();
    }
  }

 private:
  void skip(size_t n) {
    if (n > b_.size() - pos_) fail();
    pos_ += n;
  }
  [[noreturn]] static void fail() {
    throw bad_request("the body of the request could not be decoded: malformed protobuf");
  }
  std::string_view b_;
  size_t pos_ = 0;
};

using field_handler = std::function<void(int field, std::string_view bytes, uint64_t value)>;

void each_field(std::string_view bytes, const field_handler& h) {
  reader r(bytes);
  int f;
  std::string_view b;
  uint64_t v = 0;
  while (r.next(f, b, v)) h(f, b, v);
}

// A message of string fields: `names[i]` is field i+1 ("" skips it).
js::Value strings_message(std::string_view bytes, std::initializer_list<const char*> names,
                          js::Allocator& a) {
  js::Value out(rapidjson::kObjectType);
  std::vector<const char*> n(names);
  each_field(bytes, [&](int f, std::string_view b, uint64_t) {
    if (f >= 1 && static_cast<size_t>(f) <= n.size() && *n[f - 1])
      js::set_string(out, n[f - 1], b, a);
  });
  return out;
}

js::Value access_review_spec(std::string_view bytes, js::Allocator& a) {
  js::Value spec(rapidjson::kObjectType);
  each_field(bytes, [&](int f, std::string_view b, uint64_t) {
    if (f == 1)
      js::set_member(
          spec, "resourceAttributes",
          strings_message(
              b, {"namespace", "verb", "group", "version", "resource", "subresource", "name"}, a),
          a);
    if (f == 2)
      js::set_member(spec, "nonResourceAttributes", strings_message(b, {"path", "verb"}, a), a);
  });
  return spec;
}

js::Value token_request_spec(std::string_view bytes, js::Allocator& a) {
  js::Value spec(rapidjson::kObjectType);
  js::Value audiences(rapidjson::kArrayType);
  each_field(bytes, [&](int f, std::string_view b, uint64_t v) {
    if (f == 1) audiences.PushBack(js::string_value(b, a), a);
    if (f == 4) js::set_member(spec, "expirationSeconds", js::Value(static_cast<int64_t>(v)), a);
    if (f == 3)
      js::set_member(spec, "boundObjectRef",
                     strings_message(b, {"kind", "apiVersion", "name", "uid"}, a), a);
  });
  js::set_member(spec, "audiences", std::move(audiences), a);
  return spec;
}

}  // namespace

js::Document review_from_protobuf(std::string_view bytes) {
  if (bytes.substr(0, 4) != std::string_view("k8s\0", 4))
    throw bad_request("the body of the request could not be decoded: no protobuf magic");
  std::string api_version, kind;
  std::string_view raw;
  each_field(bytes.substr(4), [&](int f, std::string_view b, uint64_t) {
    if (f == 1)
      each_field(b, [&](int tf, std::string_view tb, uint64_t) {
        if (tf == 1) api_version = tb;
        if (tf == 2) kind = tb;
      });
    if (f == 2) raw = b;
  });
  js::Document out(rapidjson::kObjectType);
  auto& a = out.GetAllocator();
  js::set_string(out, "kind", kind, a);
  js::set_string(out, "apiVersion", api_version, a);
  out.AddMember("metadata", js::Value(rapidjson::kObjectType), a);
  each_field(raw, [&](int f, std::string_view b, uint64_t) {
    if (f != 2 || kind == "SelfSubjectReview")
      return;  // spec is field 2; SelfSubjectReview has none
    if (kind == "SelfSubjectAccessReview") js::set_member(out, "spec", access_review_spec(b, a), a);
    if (kind == "SelfSubjectRulesReview")
      js::set_member(out, "spec", strings_message(b, {"namespace"}, a), a);
    if (kind == "TokenRequest") js::set_member(out, "spec", token_request_spec(b, a), a);
  });
  return out;
}

}  // namespace kubesim
