#include "k8s/json/json_patch.h"

#include <algorithm>
#include <string_view>
#include <vector>

namespace k8s::json {
namespace {

using kind = json_patch_error::kind;

// JSON type names as Go's encoding/json reports them, for unmarshal-style error messages.
const char* go_type_name(const Value& v) {
  if (v.IsObject()) return "object";
  if (v.IsArray()) return "array";
  if (v.IsString()) return "string";
  if (v.IsNumber()) return "number";
  if (v.IsBool()) return "bool";
  return "null";
}

Value::MemberIterator find_member(Value& obj, std::string_view key) {
  return obj.FindMember(Value(rapidjson::StringRef(key.data(), key.size())));
}

// ---------------------------------------------------------------------------------------------
// RFC 7386 merge patch

void merge(Value& target, const Value& patch, Allocator& a) {
  if (!patch.IsObject()) {
    target.CopyFrom(patch, a);
    return;
  }
  if (!target.IsObject()) target.SetObject();
  for (auto& m : patch.GetObject()) {
    std::string_view name = view(m.name);
    if (m.value.IsNull()) {
      remove_member(target, name);
      continue;
    }
    auto it = find_member(target, name);
    if (it == target.MemberEnd()) {
      // Merging into null (not copying) strips nulls nested inside the new value, as the RFC does.
      target.AddMember(Value(m.name, a), Value(), a);
      it = target.MemberEnd() - 1;
    }
    merge(it->value, m.value, a);
  }
}

// Adds to `out` what turns object `from` into object `to`.
void diff_objects(const Value& from, const Value& to, Value& out, Allocator& a) {
  for (auto& m : to.GetObject()) {
    const Value* old = find(from, view(m.name));
    if (m.value.IsNull()) {
      // RFC 7386 cannot say "set to null": the closest is deleting the member.
      if (old && !old->IsNull()) out.AddMember(Value(m.name, a), Value(), a);
      continue;
    }
    if (old && *old == m.value) continue;
    if (old && old->IsObject() && m.value.IsObject()) {
      Value sub(rapidjson::kObjectType);
      diff_objects(*old, m.value, sub, a);
      out.AddMember(Value(m.name, a), sub, a);
      continue;
    }
    out.AddMember(Value(m.name, a), Value(m.value, a), a);
  }
  for (auto& m : from.GetObject()) {
    if (!find(to, view(m.name))) out.AddMember(Value(m.name, a), Value(), a);
  }
}

// ---------------------------------------------------------------------------------------------
// RFC 6902 JSON patch

// RFC 6901: "" is the whole document, otherwise "/"-separated tokens with ~1 = '/' and ~0 = '~'.
std::vector<std::string> parse_pointer(std::string_view ptr) {
  std::vector<std::string> tokens;
  if (ptr.empty()) return tokens;
  if (ptr[0] != '/') {
    throw json_patch_error(kind::invalid_patch,
                           "invalid JSON pointer \"" + std::string(ptr) + "\": must start with /");
  }
  tokens.emplace_back();
  for (size_t i = 1; i < ptr.size(); ++i) {
    char c = ptr[i];
    if (c == '/') {
      tokens.emplace_back();
    } else if (c == '~') {
      char next = i + 1 < ptr.size() ? ptr[i + 1] : '\0';
      if (next != '0' && next != '1') {
        throw json_patch_error(kind::invalid_patch, "invalid JSON pointer \"" + std::string(ptr) +
                                                        "\": ~ must be followed by 0 or 1");
      }
      tokens.back() += next == '0' ? '~' : '/';
      ++i;
    } else {
      tokens.back() += c;
    }
  }
  return tokens;
}

// An array index per RFC 6901: "0" or digits without a leading zero. -1 when not one.
long long parse_index(const std::string& token) {
  if (token.empty() || token.size() > 15) return -1;
  if (token.size() > 1 && token[0] == '0') return -1;
  long long n = 0;
  for (char c : token) {
    if (c < '0' || c > '9') return -1;
    n = n * 10 + (c - '0');
  }
  return n;
}

// One operation being applied, with what error messages need to name it.
struct op_context {
  std::string op;
  std::string path;  // the pointer text as given, for messages
};

[[noreturn]] void missing(const op_context& ctx, const std::string& path,
                          const char* what = "path") {
  throw json_patch_error(kind::path_not_found, ctx.op +
                                                   " operation does not apply: doc is missing " +
                                                   what + ": \"" + path + "\": missing value");
}

[[noreturn]] void bad_index(const op_context& ctx, const std::string& path,
                            const std::string& token) {
  throw json_patch_error(kind::path_not_found, "error in " + ctx.op + " for path: '" + path +
                                                   "': Unable to access invalid index: " + token +
                                                   ": invalid index referenced");
}

// The value a pointer names, or nullptr.
Value* resolve(Value& doc, const std::vector<std::string>& tokens, size_t count) {
  Value* cur = &doc;
  for (size_t i = 0; i < count; ++i) {
    const std::string& t = tokens[i];
    if (cur->IsObject()) {
      auto it = find_member(*cur, t);
      if (it == cur->MemberEnd()) return nullptr;
      cur = &it->value;
    } else if (cur->IsArray()) {
      long long idx = parse_index(t);
      if (idx < 0 || idx >= static_cast<long long>(cur->Size())) return nullptr;
      cur = &(*cur)[static_cast<rapidjson::SizeType>(idx)];
    } else {
      return nullptr;
    }
  }
  return cur;
}

// The container holding the last token of a non-root pointer; throws when there is none.
Value& parent_of(Value& doc, const std::vector<std::string>& tokens, const op_context& ctx,
                 const std::string& path, const char* what = "path") {
  Value* parent = resolve(doc, tokens, tokens.size() - 1);
  if (!parent || !(parent->IsObject() || parent->IsArray())) missing(ctx, path, what);
  return *parent;
}

// The existing value at `path` (root included); throws path_not_found when absent.
Value& existing(Value& doc, const std::string& path, const op_context& ctx,
                const char* what = "path") {
  auto tokens = parse_pointer(path);
  if (tokens.empty()) return doc;
  Value& parent = parent_of(doc, tokens, ctx, path, what);
  const std::string& last = tokens.back();
  if (parent.IsArray()) {
    long long idx = parse_index(last);
    if (idx < 0 || idx >= static_cast<long long>(parent.Size())) bad_index(ctx, path, last);
    return parent[static_cast<rapidjson::SizeType>(idx)];
  }
  auto it = find_member(parent, last);
  if (it == parent.MemberEnd()) missing(ctx, path, what);
  return it->value;
}

void add_at(Value& doc, const std::string& path, Value& value, const op_context& ctx,
            Allocator& a) {
  auto tokens = parse_pointer(path);
  if (tokens.empty()) {
    doc = value;  // RFC 6902 4.1: adding at the root replaces the whole document
    return;
  }
  Value& parent = parent_of(doc, tokens, ctx, path);
  const std::string& last = tokens.back();
  if (parent.IsObject()) {
    set_member(parent, last, std::move(value), a);
    return;
  }
  if (last == "-") {
    parent.PushBack(value, a);
    return;
  }
  long long idx = parse_index(last);
  if (idx < 0 || idx > static_cast<long long>(parent.Size())) bad_index(ctx, path, last);
  // RapidJSON has no array insert: append, then shift the tail up by one (moves, not copies).
  parent.PushBack(Value(), a);
  for (auto i = parent.Size() - 1; i > static_cast<rapidjson::SizeType>(idx); --i) {
    parent[i] = parent[i - 1];
  }
  parent[static_cast<rapidjson::SizeType>(idx)] = value;
}

void remove_at(Value& doc, const std::string& path, const op_context& ctx) {
  auto tokens = parse_pointer(path);
  if (tokens.empty()) {
    throw json_patch_error(kind::invalid_patch,
                           ctx.op + " operation does not apply: cannot remove the document root");
  }
  Value& parent = parent_of(doc, tokens, ctx, path);
  const std::string& last = tokens.back();
  if (parent.IsObject()) {
    if (!remove_member(parent, last)) missing(ctx, path);
    return;
  }
  long long idx = parse_index(last);
  if (idx < 0 || idx >= static_cast<long long>(parent.Size())) bad_index(ctx, path, last);
  parent.Erase(parent.Begin() + idx);
}

std::string member_string(const Value& op, const char* key, const op_context& ctx) {
  const Value* v = find(op, key);
  if (!v || !v->IsString()) {
    throw json_patch_error(kind::invalid_patch,
                           ctx.op + " operation failed to decode " + key + ": missing value");
  }
  return std::string(view(*v));
}

const Value& member_value(const Value& op, const op_context& ctx) {
  const Value* v = find(op, "value");
  if (!v) throw json_patch_error(kind::invalid_patch, ctx.op + " operation missing value");
  return *v;
}

// True if pointer `prefix` names a proper ancestor of pointer `path`.
bool is_proper_prefix(const std::string& prefix, const std::string& path) {
  auto p = parse_pointer(prefix);
  auto q = parse_pointer(path);
  if (p.size() >= q.size()) return false;
  for (size_t i = 0; i < p.size(); ++i) {
    if (p[i] != q[i]) return false;
  }
  return true;
}

void apply_one(Value& doc, const Value& op, Allocator& a) {
  if (!op.IsObject()) {
    throw json_patch_error(kind::invalid_patch, std::string("json: cannot unmarshal ") +
                                                    go_type_name(op) +
                                                    " into Go value of type jsonpatch.Operation");
  }
  // RFC 6902 A.13: an operation repeating one of its members is ambiguous, so reject it.
  for (auto* key : {"op", "path", "from", "value"}) {
    int count = 0;
    for (auto& m : op.GetObject()) count += view(m.name) == key;
    if (count > 1) {
      throw json_patch_error(kind::invalid_patch,
                             std::string("invalid operation: duplicate \"") + key + "\" member");
    }
  }
  const Value* opv = find(op, "op");
  op_context ctx{opv && opv->IsString() ? std::string(view(*opv)) : "unknown", ""};
  auto known = {"add", "remove", "replace", "move", "copy", "test"};
  if (std::find(known.begin(), known.end(), ctx.op) == known.end()) {
    throw json_patch_error(kind::invalid_patch, "Unexpected kind: " + ctx.op);
  }
  ctx.path = member_string(op, "path", ctx);

  if (ctx.op == "add") {
    Value v(member_value(op, ctx), a);
    add_at(doc, ctx.path, v, ctx, a);
  } else if (ctx.op == "remove") {
    remove_at(doc, ctx.path, ctx);
  } else if (ctx.op == "replace") {
    const Value& patch_value = member_value(op, ctx);
    existing(doc, ctx.path, ctx) = Value(patch_value, a);
  } else if (ctx.op == "test") {
    const Value& expected = member_value(op, ctx);
    auto tokens = parse_pointer(ctx.path);
    // A missing parent is a bad path; a missing leaf simply does not equal the expected value.
    if (!tokens.empty()) parent_of(doc, tokens, ctx, ctx.path);
    const Value* actual = resolve(doc, tokens, tokens.size());
    if (!actual || !(*actual == expected)) {
      throw json_patch_error(kind::test_failed,
                             "testing value " + ctx.path + " failed: test operation failed");
    }
  } else {  // move or copy
    std::string from = member_string(op, "from", ctx);
    if (ctx.op == "move" && is_proper_prefix(from, ctx.path)) {
      throw json_patch_error(kind::invalid_patch, "move operation does not apply: from \"" + from +
                                                      "\" is an ancestor of path \"" + ctx.path +
                                                      "\"");
    }
    Value& source = existing(doc, from, ctx, "from path");
    if (ctx.op == "move" && from == ctx.path) return;
    Value v;
    if (ctx.op == "copy") {
      v.CopyFrom(source, a);
    } else {
      v = source;  // moves out, leaving null; removed just below
      remove_at(doc, from, ctx);
    }
    add_at(doc, ctx.path, v, ctx, a);
  }
}

}  // namespace

void apply_merge_patch(Value& target, const Value& patch, Allocator& a) {
  merge(target, patch, a);
}

Document create_merge_patch(const Value& from, const Value& to) {
  Document d;
  if (!from.IsObject() || !to.IsObject()) {
    d.CopyFrom(to, d.GetAllocator());
    return d;
  }
  d.SetObject();
  diff_objects(from, to, d, d.GetAllocator());
  return d;
}

void apply_json_patch(Value& target, const Value& ops, Allocator& a) {
  if (!ops.IsArray()) {
    throw json_patch_error(kind::invalid_patch, std::string("json: cannot unmarshal ") +
                                                    go_type_name(ops) +
                                                    " into Go value of type jsonpatch.Patch");
  }
  // Work on a deep copy so a failing operation leaves the caller's document untouched.
  Value work(target, a);
  for (auto& op : ops.GetArray()) apply_one(work, op, a);
  target.Swap(work);
}

}  // namespace k8s::json
