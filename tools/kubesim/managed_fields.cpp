#include "tools/kubesim/managed_fields.h"

#include <algorithm>
#include <cstdlib>
#include <stdexcept>
#include <tuple>

#include <fmt/format.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "tools/kubesim/field_errors.h"

namespace kubesim::ssa {
namespace js = k8s::json;

namespace {

// value.Compare's order of kinds: numbers, strings, booleans, lists, maps, null.
int kind_rank(std::string_view json) {
  if (json.empty()) return 5;
  switch (json[0]) {
    case '"':
      return 1;
    case 't':
    case 'f':
      return 2;
    case '[':
      return 3;
    case '{':
      return 4;
    case 'n':
      return 5;
    default:
      return 0;
  }
}

int compare_values(const std::string& a, const std::string& b) {
  int ra = kind_rank(a), rb = kind_rank(b);
  if (ra != rb) return ra < rb ? -1 : 1;
  if (ra == 0) {
    double x = std::strtod(a.c_str(), nullptr), y = std::strtod(b.c_str(), nullptr);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (ra == 2) return a == b ? 0 : a[0] == 'f' ? -1 : 1;  // false < true
  return a.compare(b) < 0 ? -1 : a == b ? 0 : 1;
}

std::string key_json(const std::vector<std::pair<std::string, std::string>>& fields) {
  std::string out = "{";
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i) out += ',';
    out += js::to_string(
        js::Value(rapidjson::StringRef(fields[i].first.data(), fields[i].first.size())));
    out += ':';
    out += fields[i].second;
  }
  return out + "}";
}

path_element parse_element(std::string_view s) {
  if (s.size() < 2 || s[1] != ':') throw std::invalid_argument("bad path element");
  std::string_view rest = s.substr(2);
  path_element pe;
  switch (s[0]) {
    case 'f':
      pe.kind = path_element::field;
      pe.text = std::string(rest);
      return pe;
    case 'v': {
      pe.kind = path_element::value;
      js::Document d = js::parse(rest);
      pe.text = js::to_string(d);
      return pe;
    }
    case 'i':
      pe.kind = path_element::index;
      pe.position = std::atoi(std::string(rest).c_str());
      return pe;
    case 'k': {
      pe.kind = path_element::key;
      js::Document d = js::parse(rest);
      if (!d.IsObject()) throw std::invalid_argument("bad key");
      for (const auto& m : d.GetObject())
        pe.key_fields.emplace_back(std::string(js::view(m.name)), js::to_string(m.value));
      std::sort(pe.key_fields.begin(), pe.key_fields.end(),
                [](const auto& x, const auto& y) { return x.first < y.first; });
      return pe;
    }
    default:
      throw std::invalid_argument("bad path element");
  }
}

}  // namespace

std::string path_element::encoded() const {
  switch (kind) {
    case field:
      return "f:" + text;
    case key:
      return "k:" + key_json(key_fields);
    case value:
      return "v:" + text;
    default:
      return "i:" + std::to_string(position);
  }
}

std::string path_element::printed() const {
  switch (kind) {
    case field:
      return "." + text;
    case key: {
      std::string out = "[";
      for (size_t i = 0; i < key_fields.size(); ++i)
        out += (i ? "," : "") + key_fields[i].first + "=" + key_fields[i].second;
      return out + "]";
    }
    case value:
      return "[=" + text + "]";
    default:
      return "[" + std::to_string(position) + "]";
  }
}

bool path_element::operator<(const path_element& o) const {
  if (kind != o.kind) return kind < o.kind;
  switch (kind) {
    case field:
      return text < o.text;
    case value:
      return compare_values(text, o.text) < 0;
    case index:
      return position < o.position;
    case key:
      // value.FieldList.Compare: field by field (name, then value); a shorter list first.
      for (size_t i = 0;; ++i) {
        if (i >= key_fields.size() || i >= o.key_fields.size())
          return key_fields.size() < o.key_fields.size();
        if (int c = key_fields[i].first.compare(o.key_fields[i].first); c != 0) return c < 0;
        if (int c = compare_values(key_fields[i].second, o.key_fields[i].second); c != 0)
          return c < 0;
      }
  }
  return false;
}

std::string print_path(const field_path& p) {
  std::string out;
  for (const auto& pe : p) out += pe.printed();
  return out;
}

void field_set::insert(const field_path& p) {
  field_set* n = this;
  for (const auto& pe : p) n = &n->children[pe];
  n->member = true;
}

bool field_set::has(const field_path& p) const {
  const field_set* n = this;
  for (const auto& pe : p)
    if (!(n = n->child(pe))) return false;
  return n->member;
}

const field_set* field_set::child(const path_element& pe) const {
  auto it = children.find(pe);
  return it == children.end() ? nullptr : &it->second;
}

void field_set::unite(const field_set& o) {
  member = member || o.member;
  for (const auto& [pe, c] : o.children) children[pe].unite(c);
}

void field_set::subtract(const field_set& o) {
  if (o.member) member = false;
  for (const auto& [pe, c] : o.children) {
    auto it = children.find(pe);
    if (it == children.end()) continue;
    it->second.subtract(c);
    if (it->second.empty()) children.erase(it);
  }
}

field_set field_set::intersection(const field_set& o) const {
  field_set out;
  out.member = member && o.member;
  for (const auto& [pe, c] : children) {
    const field_set* oc = o.child(pe);
    if (!oc) continue;
    field_set i = c.intersection(*oc);
    if (!i.empty()) out.children.emplace(pe, std::move(i));
  }
  return out;
}

void field_set::remove_subtree(const field_path& p) {
  if (p.empty()) {
    *this = field_set{};
    return;
  }
  std::vector<field_set*> trail{this};
  for (size_t i = 0; i + 1 < p.size(); ++i) {
    auto it = trail.back()->children.find(p[i]);
    if (it == trail.back()->children.end()) return;
    trail.push_back(&it->second);
  }
  trail.back()->children.erase(p.back());
  for (size_t i = trail.size() - 1; i > 0; --i)
    if (trail[i]->empty()) trail[i - 1]->children.erase(p[i - 1]);
}

void field_set::for_each(const std::function<void(const field_path&)>& f) const {
  field_path prefix;
  for_each(prefix, f);
}

void field_set::for_each(field_path& prefix,
                         const std::function<void(const field_path&)>& f) const {
  for (const auto& [pe, c] : children)
    if (c.member) {
      prefix.push_back(pe);
      f(prefix);
      prefix.pop_back();
    }
  for (const auto& [pe, c] : children)
    if (!c.children.empty()) {
      prefix.push_back(pe);
      c.for_each(prefix, f);
      prefix.pop_back();
    }
}

namespace {

using fields_v1_writer = rapidjson::Writer<rapidjson::StringBuffer>;

void write_fields_v1(const field_set& s, fields_v1_writer& w) {
  w.StartObject();
  if (s.member && !s.children.empty()) {
    w.Key(".");
    w.StartObject();
    w.EndObject();
  }
  std::string name;
  for (const auto& [pe, c] : s.children) {
    if (pe.kind == path_element::field)  // most elements: no temporary string
      name.assign("f:").append(pe.text);
    else
      name = pe.encoded();
    w.Key(name.data(), static_cast<rapidjson::SizeType>(name.size()), true);
    write_fields_v1(c, w);
  }
  w.EndObject();
}

}  // namespace

void field_set::to_fields_v1(js::Value& out, js::Allocator& a) const {
  // Written as text, then parsed into `a`: rapidjson 1.1 gives every object built member by
  // member room for 16 members, where the parser sizes each one exactly; a StatefulSet's
  // managedFields took several times the memory (and the time) of the object they describe.
  rapidjson::StringBuffer text;
  fields_v1_writer w(text);
  write_fields_v1(*this, w);
  js::Document parsed(&a);
  parsed.Parse(text.GetString(), text.GetSize());
  out.Swap(parsed);
}

field_set field_set::from_fields_v1(const js::Value& v) {
  if (!v.IsObject()) throw std::invalid_argument("FieldsV1 is not an object");
  field_set out;
  for (const auto& m : v.GetObject()) {
    std::string_view name = js::view(m.name);
    if (name == ".") {
      out.member = true;
      continue;
    }
    field_set c = from_fields_v1(m.value);
    if (c.children.empty()) c.member = true;  // `{}`: a leaf member
    out.children[parse_element(name)].unite(c);
  }
  return out;
}

std::string managed_entry::identifier() const {
  // json.Marshal of the entry (Go field order, omitempty), without a Document per call: this
  // runs on every write.
  auto quoted = [](const std::string& v) {
    std::string q = "\"";
    for (char ch : v) {
      if (ch == '"' || ch == '\\') {
        q += '\\';
        q += ch;
      } else if (static_cast<unsigned char>(ch) < 0x20) {
        q += fmt::format("\\u{:04x}", static_cast<unsigned>(ch));
      } else {
        q += ch;
      }
    }
    return q + '"';
  };
  std::string out = "{";
  auto add = [&](const char* name, const std::string& v) {
    if (v.empty()) return;
    if (out.size() > 1) out += ',';
    out += name;
    out += quoted(v);
  };
  add("\"manager\":", manager);
  add("\"operation\":", operation);
  if (operation != "Apply") add("\"apiVersion\":", api_version);
  add("\"subresource\":", subresource);
  return out + "}";
}

std::string managed_entry::printed() const {
  std::string out = field::go_quote(manager);
  if (!subresource.empty()) out += " with subresource " + field::go_quote(subresource);
  if (operation == "Update") out += " using " + api_version;
  return out;
}

bool decode_managed_fields(const js::Value* list, std::vector<managed_entry>& out) {
  out.clear();
  if (!list || list->IsNull()) return true;
  if (!list->IsArray()) return false;
  try {
    for (const auto& e : list->GetArray()) {
      if (!e.IsObject()) return false;
      managed_entry m;
      m.manager = std::string(js::get_string(e, "manager"));
      m.operation = std::string(js::get_string(e, "operation"));
      m.api_version = std::string(js::get_string(e, "apiVersion"));
      m.time = std::string(js::get_string(e, "time"));
      m.subresource = std::string(js::get_string(e, "subresource"));
      if (m.operation != "Apply" && m.operation != "Update") return false;
      if (m.api_version.empty() || js::get_string(e, "fieldsType") != "FieldsV1") return false;
      if (const js::Value* f = js::find(e, "fieldsV1")) m.fields = field_set::from_fields_v1(*f);
      // Entries with one identifier are one manager: the last one read wins (a map in Go).
      auto same = std::find_if(out.begin(), out.end(), [&](const managed_entry& x) {
        return x.identifier() == m.identifier();
      });
      if (same != out.end())
        *same = std::move(m);
      else
        out.push_back(std::move(m));
    }
  } catch (const std::exception&) {
    return false;
  }
  return true;
}

void encode_managed_fields(std::vector<managed_entry> entries, js::Value& metadata,
                           js::Allocator& a) {
  if (entries.empty()) {
    js::remove_member(metadata, "managedFields");
    return;
  }
  // RFC 3339 in whole seconds, UTC: text order is time order; no time sorts first (zero).
  std::stable_sort(entries.begin(), entries.end(), [](const auto& p, const auto& q) {
    return std::tie(p.operation, p.time, p.manager, p.api_version, p.subresource) <
           std::tie(q.operation, q.time, q.manager, q.api_version, q.subresource);
  });
  js::Value list(rapidjson::kArrayType);
  for (const auto& e : entries) {
    js::Value v(rapidjson::kObjectType);
    if (!e.manager.empty()) v.AddMember("manager", js::string_value(e.manager, a), a);
    v.AddMember("operation", js::string_value(e.operation, a), a);
    v.AddMember("apiVersion", js::string_value(e.api_version, a), a);
    if (!e.time.empty()) v.AddMember("time", js::string_value(e.time, a), a);
    v.AddMember("fieldsType", "FieldsV1", a);
    js::Value fields;
    e.fields.to_fields_v1(fields, a);
    v.AddMember("fieldsV1", fields, a);
    if (!e.subresource.empty()) v.AddMember("subresource", js::string_value(e.subresource, a), a);
    list.PushBack(v, a);
  }
  js::set_member(metadata, "managedFields", std::move(list), a);
}

}  // namespace kubesim::ssa
