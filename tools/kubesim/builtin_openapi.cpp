#include "tools/kubesim/builtin_openapi.h"

#include <map>
#include <mutex>
#include <set>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "tools/kubesim/builtin_schema.h"

namespace kubesim::builtin_openapi {
namespace bs = builtin_schema;

namespace {

using writer = rapidjson::Writer<rapidjson::StringBuffer>;

void key(writer& w, std::string_view k) {
  w.Key(k.data(), static_cast<rapidjson::SizeType>(k.size()));
}
void str(writer& w, std::string_view k, std::string_view v) {
  key(w, k);
  w.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
}

// A scalar's type and format (kube-openapi openapi.go openAPITypeFormat).
void scalar_type(writer& w, bs::scalar s) {
  switch (s) {
    case bs::scalar::string:
      str(w, "type", "string");
      break;
    case bs::scalar::bytes:
      str(w, "type", "string");
      str(w, "format", "byte");
      break;
    case bs::scalar::boolean:
      str(w, "type", "boolean");
      break;
    case bs::scalar::int32:
    case bs::scalar::uint32:
      str(w, "type", "integer");
      str(w, "format", "int32");
      break;
    case bs::scalar::int64:
    case bs::scalar::uint64:
      str(w, "type", "integer");
      str(w, "format", "int64");
      break;
    case bs::scalar::float64:
      str(w, "type", "number");
      str(w, "format", "double");
      break;
    case bs::scalar::message:
      break;
  }
}

// The zero value of a non-pointer element, which builder3 publishes as its default.
void zero_default(writer& w, const bs::field& f) {
  key(w, "default");
  switch (f.type) {
    case bs::scalar::string:
    case bs::scalar::bytes:
      w.String("");
      break;
    case bs::scalar::boolean:
      w.Bool(false);
      break;
    case bs::scalar::message:
      w.StartObject();
      w.EndObject();
      break;
    default:
      w.Int(0);
  }
}

// One element's schema (the field itself, an array's items, a map's values).
void element_schema(writer& w, const bs::field& f, bool with_default,
                    std::set<const bs::message*>& refs) {
  if (f.type == bs::scalar::message) {
    refs.insert(f.msg);
    key(w, "allOf");
    w.StartArray();
    w.StartObject();
    str(w, "$ref", "#/components/schemas/" + f.msg->openapi_name());
    w.EndObject();
    w.EndArray();
    if (with_default && f.msg->form == bs::json_form::fields) zero_default(w, f);
  } else {
    scalar_type(w, f.type);
    if (with_default) zero_default(w, f);
  }
}

void property(writer& w, const bs::field& f, std::set<const bs::message*>& refs) {
  key(w, f.name);
  w.StartObject();
  if (f.repeated) {
    str(w, "type", "array");
    key(w, "items");
    w.StartObject();
    element_schema(w, f, true, refs);
    w.EndObject();
  } else if (f.map) {
    str(w, "type", "object");
    key(w, "additionalProperties");
    w.StartObject();
    element_schema(w, f, true, refs);
    w.EndObject();
  } else {
    element_schema(w, f, !f.pointer && f.type == bs::scalar::message, refs);
  }
  if (!f.description.empty()) str(w, "description", f.description);
  if (!f.enum_values.empty()) {
    key(w, "enum");
    w.StartArray();
    for (const auto& v : f.enum_values) w.String(v.c_str());
    w.EndArray();
  }
  if (!f.list_map_keys.empty()) {
    key(w, "x-kubernetes-list-map-keys");
    w.StartArray();
    for (const auto& k : f.list_map_keys) w.String(k.c_str());
    w.EndArray();
  }
  if (!f.list_type.empty()) str(w, "x-kubernetes-list-type", f.list_type);
  if (!f.map_type.empty()) str(w, "x-kubernetes-map-type", f.map_type);
  if (!f.patch_merge_key.empty()) str(w, "x-kubernetes-patch-merge-key", f.patch_merge_key);
  if (!f.patch_strategy.empty()) str(w, "x-kubernetes-patch-strategy", f.patch_strategy);
  w.EndObject();
}

// The fields of a message with inline structs expanded, in declaration order.
void flat_fields(const bs::message& m, std::vector<const bs::field*>& out) {
  for (const auto& f : m.fields) {
    if (f.inline_ && f.msg)
      flat_fields(*f.msg, out);
    else
      out.push_back(&f);
  }
}

void special_schema(writer& w, const bs::message& m) {
  switch (m.form) {
    case bs::json_form::quantity:
    case bs::json_form::int_or_string: {
      if (m.form == bs::json_form::int_or_string) str(w, "format", "int-or-string");
      key(w, "oneOf");
      w.StartArray();
      for (const char* t : m.form == bs::json_form::quantity
                               ? std::vector<const char*>{"string", "number"}
                               : std::vector<const char*>{"integer", "string"}) {
        w.StartObject();
        str(w, "type", t);
        w.EndObject();
      }
      w.EndArray();
      break;
    }
    case bs::json_form::date_time:
      str(w, "type", "string");
      str(w, "format", "date-time");
      break;
    case bs::json_form::duration:
      str(w, "type", "string");
      break;
    case bs::json_form::object:
      str(w, "type", "object");
      break;
    case bs::json_form::string_array:
      str(w, "type", "array");
      key(w, "items");
      w.StartObject();
      str(w, "type", "string");
      str(w, "default", "");
      w.EndObject();
      break;
    case bs::json_form::any:
      key(w, "x-kubernetes-preserve-unknown-fields");
      w.Bool(true);
      break;
    case bs::json_form::fields:
      break;
  }
}

void message_schema(writer& w, const bs::message& m, const std::vector<const bs::kind_entry*>& gvks,
                    std::set<const bs::message*>& refs) {
  key(w, m.openapi_name());
  w.StartObject();
  if (!m.description.empty()) str(w, "description", m.description);
  if (m.form != bs::json_form::fields) {
    special_schema(w, m);
  } else {
    std::vector<const bs::field*> fields;
    flat_fields(m, fields);
    key(w, "properties");
    w.StartObject();
    for (const auto* f : fields) property(w, *f, refs);
    w.EndObject();
    std::vector<const bs::field*> required;
    for (const auto* f : fields)
      if (!f->optional && f->number != 0) required.push_back(f);
    if (!required.empty()) {
      key(w, "required");
      w.StartArray();
      for (const auto* f : required) w.String(f->name.c_str());
      w.EndArray();
    }
    str(w, "type", "object");
  }
  if (!gvks.empty()) {
    key(w, "x-kubernetes-group-version-kind");
    w.StartArray();
    for (const auto* k : gvks) {
      w.StartObject();
      str(w, "group", k->group);
      str(w, "kind", k->kind);
      str(w, "version", k->version);
      w.EndObject();
    }
    w.EndArray();
  }
  w.EndObject();
}

std::string build(const std::string& group, const std::string& version,
                  const std::vector<std::string>& kinds) {
  const auto& model = bs::model::get();
  std::map<const bs::message*, std::vector<const bs::kind_entry*>> gvks;
  std::vector<const bs::message*> queue;
  for (const auto& k : model.kinds()) {
    if (k.group != group || k.version != version) continue;
    std::string base = k.kind.size() > 4 && k.kind.compare(k.kind.size() - 4, 4, "List") == 0
                           ? k.kind.substr(0, k.kind.size() - 4)
                           : k.kind;
    bool served = false;
    for (const auto& s : kinds) served = served || s == k.kind || s == base;
    if (!served) continue;
    gvks[k.root].push_back(&k);
    queue.push_back(k.root);
  }
  // Every schema the kinds refer to, each once, in name order as the real document has them.
  std::map<std::string, const bs::message*> all;
  while (!queue.empty()) {
    const bs::message* m = queue.back();
    queue.pop_back();
    if (!all.emplace(m->openapi_name(), m).second) continue;
    std::vector<const bs::field*> fields;
    flat_fields(*m, fields);
    for (const auto* f : fields)
      if (f->msg) queue.push_back(f->msg);
    for (const auto& f : m->fields)
      if (f.inline_ && f.msg) queue.push_back(f.msg);
  }
  rapidjson::StringBuffer out;
  writer w(out);
  w.StartObject();
  std::set<const bs::message*> refs;
  static const std::vector<const bs::kind_entry*> none;
  for (const auto& [name, m] : all) {
    auto it = gvks.find(m);
    message_schema(w, *m, it == gvks.end() ? none : it->second, refs);
  }
  w.EndObject();
  return out.GetString();
}

}  // namespace

std::string schemas_json(const std::string& group, const std::string& version,
                         const std::vector<std::string>& kinds) {
  static std::mutex mutex;
  static std::map<std::string, std::string> cache;
  std::string cache_key = group + "/" + version;
  for (const auto& k : kinds) cache_key += "," + k;
  std::lock_guard lock(mutex);
  auto it = cache.find(cache_key);
  if (it == cache.end()) it = cache.emplace(cache_key, build(group, version, kinds)).first;
  return it->second;
}

}  // namespace kubesim::builtin_openapi
