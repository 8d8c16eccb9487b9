#include "k8s/json/json.h"

#include <algorithm>
#include <vector>

namespace k8s::json {

namespace {

// A Document and the pool its values live in, one allocation; the pool outlives the document.
struct pooled_document {
  explicit pooled_document(size_t chunk) : pool(chunk), doc(&pool) {}
  Allocator pool;
  Document doc;
};

}  // namespace

size_t allocated_bytes(const Document& d) {
  // RapidJSON gives the allocator only through a non-const accessor; Capacity() only reads.
  return sizeof(Document) + const_cast<Document&>(d).GetAllocator().Capacity();
}

Document copy_of(const Value& v) {
  Document d;
  d.CopyFrom(v, d.GetAllocator());
  return d;
}

std::shared_ptr<const Document> compact_copy(const Value& v) {
  Document probe;  // default chunks: measures what the copy takes
  probe.CopyFrom(v, probe.GetAllocator());
  auto holder =
      std::make_shared<pooled_document>(std::max<size_t>(probe.GetAllocator().Size(), 64));
  holder->doc.CopyFrom(v, holder->pool);
  return std::shared_ptr<const Document>(holder, &holder->doc);
}

Document parse(std::string_view text) {
  Document d;
  d.Parse(text.data(), text.size());
  if (d.HasParseError()) {
    throw parse_error(std::string(rapidjson::GetParseError_En(d.GetParseError())) + " at offset " +
                      std::to_string(d.GetErrorOffset()));
  }
  return d;
}

void append_to(std::string& out, const Value& v) {
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  v.Accept(w);
  out.append(sb.GetString(), sb.GetSize());
}

std::string to_string(const Value& v) {
  std::string s;
  append_to(s, v);
  return s;
}

namespace {
void write_canonical(rapidjson::Writer<rapidjson::StringBuffer>& w, const Value& v) {
  if (v.IsObject()) {
    std::vector<const Value::Member*> members;
    for (const auto& m : v.GetObject()) members.push_back(&m);
    std::sort(members.begin(), members.end(), [](const Value::Member* a, const Value::Member* b) {
      return view(a->name) < view(b->name);
    });
    w.StartObject();
    for (const auto* m : members) {
      w.Key(m->name.GetString(), m->name.GetStringLength());
      write_canonical(w, m->value);
    }
    w.EndObject();
  } else if (v.IsArray()) {
    w.StartArray();
    for (const auto& e : v.GetArray()) write_canonical(w, e);
    w.EndArray();
  } else {
    v.Accept(w);
  }
}
}  // namespace

std::string canonical_text(const Value& v) {
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  write_canonical(w, v);
  return std::string(sb.GetString(), sb.GetSize());
}

const Value* find(const Value& obj, std::string_view key) {
  if (!obj.IsObject()) return nullptr;
  auto it = obj.FindMember(Value(rapidjson::StringRef(key.data(), key.size())));
  return it == obj.MemberEnd() ? nullptr : &it->value;
}

const Value* find_path(const Value& obj, std::initializer_list<std::string_view> path) {
  const Value* cur = &obj;
  for (auto key : path) {
    cur = find(*cur, key);
    if (!cur) return nullptr;
  }
  return cur;
}

std::string_view get_string(const Value& obj, std::string_view key, std::string_view fallback) {
  const Value* v = find(obj, key);
  return v && v->IsString() ? view(*v) : fallback;
}

std::string_view get_string(const Value& obj, std::initializer_list<std::string_view> path,
                            std::string_view fallback) {
  const Value* v = find_path(obj, path);
  return v && v->IsString() ? view(*v) : fallback;
}

int64_t get_int(const Value& obj, std::initializer_list<std::string_view> path, int64_t fallback) {
  const Value* v = find_path(obj, path);
  return v && v->IsInt64() ? v->GetInt64() : fallback;
}

bool get_bool(const Value& obj, std::initializer_list<std::string_view> path, bool fallback) {
  const Value* v = find_path(obj, path);
  return v && v->IsBool() ? v->GetBool() : fallback;
}

Value& ensure_object(Value& obj, std::string_view key, Allocator& a) {
  auto it = obj.FindMember(Value(rapidjson::StringRef(key.data(), key.size())));
  if (it == obj.MemberEnd()) {
    obj.AddMember(string_value(key, a), Value(rapidjson::kObjectType), a);
    return (obj.MemberEnd() - 1)->value;
  }
  if (!it->value.IsObject()) it->value.SetObject();
  return it->value;
}

void set_member(Value& obj, std::string_view key, Value value, Allocator& a) {
  auto it = obj.FindMember(Value(rapidjson::StringRef(key.data(), key.size())));
  if (it == obj.MemberEnd()) {
    obj.AddMember(string_value(key, a), value, a);
  } else {
    it->value = value;
  }
}

void set_string(Value& obj, std::string_view key, std::string_view s, Allocator& a) {
  set_member(obj, key, string_value(s, a), a);
}

bool remove_member(Value& obj, std::string_view key) {
  if (!obj.IsObject()) return false;
  auto it = obj.FindMember(Value(rapidjson::StringRef(key.data(), key.size())));
  if (it == obj.MemberEnd()) return false;
  obj.EraseMember(it);
  return true;
}

}  // namespace k8s::json
