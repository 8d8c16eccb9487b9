#include "tools/kubesim/scale_subresource.h"

#include <algorithm>
#include <vector>

#include <fmt/format.h>

#include "k8s/json/json_patch.h"
#include "k8s/json/yaml_json.h"
#include "tools/kubesim/api_error.h"
#include "tools/kubesim/builtin_schema.h"
#include "tools/kubesim/field_errors.h"
#include "tools/kubesim/patches.h"
#include "tools/kubesim/strategic_merge.h"

namespace kubesim::scale {
namespace js = k8s::json;

namespace {

// scaleUpdatedObjectInfo's invalidSpecReplicas: the old Scale of a CR without spec replicas.
constexpr int64_t unset_replicas = -2147483648LL;

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> out;
  std::string p = path.rfind('.', 0) == 0 ? path.substr(1) : path;
  size_t i = 0;
  for (;;) {
    size_t j = p.find('.', i);
    out.push_back(p.substr(i, j == std::string::npos ? std::string::npos : j - i));
    if (j == std::string::npos) return out;
    i = j + 1;
  }
}

// %T and %v of a value decoded into unstructured content.
std::string go_type(const js::Value& v) {
  if (v.IsString()) return "string";
  if (v.IsBool()) return "bool";
  if (v.IsInt64() || v.IsUint64()) return "int64";
  if (v.IsNumber()) return "float64";
  if (v.IsObject()) return "map[string]interface {}";
  if (v.IsArray()) return "[]interface {}";
  return "<nil>";
}
std::string go_plain(const js::Value& v) {
  if (v.IsString()) return std::string(js::view(v));
  if (v.IsNull()) return "<nil>";
  return field::go_value(v);
}

// unstructured.NestedFieldNoCopy + the type check of NestedInt64 / NestedString: nullptr when
// the field is absent; an error (a plain one, a 500 without reason) when it has another type.
const js::Value* nested(const js::Value& obj, const std::string& path, bool want_int) {
  auto fields = split_path(path);
  const js::Value* cur = &obj;
  std::string at;
  for (const auto& f : fields) {
    if (!cur->IsObject()) {
      throw api_error(500, "",
                      fmt::format("{} accessor error: {} is of the type {}, expected "
                                  "map[string]interface{{}}",
                                  at, go_plain(*cur), go_type(*cur)));
    }
    at += "." + f;
    cur = js::find(*cur, f);
    if (!cur) return nullptr;
  }
  bool ok = want_int ? (cur->IsInt64() || (cur->IsUint64() && cur->GetUint64() <= INT64_MAX))
                     : cur->IsString();
  if (!ok)
    throw api_error(500, "",
                    fmt::format("{} accessor error: {} is of the type {}, expected {}", at,
                                go_plain(*cur), go_type(*cur), want_int ? "int64" : "string"));
  return cur;
}

api_error internal(const std::string& why) {
  auto e = internal_error(why);  // apierrors.NewInternalError: the cause carries the message
  e.causes.push_back({"", why, ""});
  return e;
}

std::string make_scale(const js::Value& parent, int64_t spec_replicas, int64_t status_replicas,
                       const std::string& selector) {
  js::Document d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  d.AddMember("kind", "Scale", a);
  d.AddMember("apiVersion", "autoscaling/v1", a);
  js::Value meta(rapidjson::kObjectType);
  for (const char* k : {"name", "namespace", "uid", "resourceVersion", "creationTimestamp"})
    if (auto v = js::get_string(parent, {"metadata", k}); !v.empty())
      meta.AddMember(js::string_value(k, a), js::string_value(v, a), a);
  d.AddMember("metadata", meta, a);
  js::Value spec(rapidjson::kObjectType);
  if (spec_replicas != 0) spec.AddMember("replicas", spec_replicas, a);  // omitempty
  d.AddMember("spec", spec, a);
  js::Value status(rapidjson::kObjectType);
  status.AddMember("replicas", status_replicas, a);
  if (!selector.empty()) status.AddMember("selector", js::string_value(selector, a), a);
  d.AddMember("status", status, a);
  return js::to_string(d);
}

}  // namespace

std::optional<paths> paths_of(const resource_type& t, const std::string& version) {
  if (!t.custom) {
    if (t.group == "apps" &&
        (t.plural == "statefulsets" || t.plural == "deployments" || t.plural == "replicasets"))
      return paths{".spec.replicas", ".status.replicas", "", true};
    return std::nullopt;
  }
  auto it = t.scale.find(version);
  if (it == t.scale.end()) return std::nullopt;
  return paths{it->second.spec_replicas_path, it->second.status_replicas_path,
               it->second.label_selector_path, false};
}

std::vector<status_cause> check_crd_scale(const js::Value* scale, const std::string& path) {
  std::vector<status_cause> errs;
  if (!scale || !scale->IsObject()) return errs;
  // validateSimpleJSONPath, then the part of the object the path must be under.
  auto check = [&](const std::string& name, const std::string& value,
                   std::initializer_list<const char*> prefixes, const char* under) {
    std::string field_path = path + ".scale." + name;
    if (value[0] != '.') {
      errs.push_back(field::invalid(field_path, field::go_quote(value),
                                    "must be a simple json path starting with ."));
      return;
    }
    for (const char* p : prefixes)
      if (value.rfind(p, 0) == 0) return;
    errs.push_back(field::invalid(field_path, field::go_quote(value), under));
  };
  std::string spec(js::get_string(*scale, "specReplicasPath"));
  std::string status(js::get_string(*scale, "statusReplicasPath"));
  std::string selector(js::get_string(*scale, "labelSelectorPath"));
  if (spec.empty())
    errs.push_back(field::required(path + ".scale.specReplicasPath"));
  else
    check("specReplicasPath", spec, {".spec."}, "should be a json path under .spec");
  if (status.empty())
    errs.push_back(field::required(path + ".scale.statusReplicasPath"));
  else
    check("statusReplicasPath", status, {".status."}, "should be a json path under .status");
  if (!selector.empty())
    check("labelSelectorPath", selector, {".spec.", ".status."},
          "should be a json path under either .spec or .status");
  return errs;
}

std::string selector_string(const js::Value* s) {
  if (!s || !s->IsObject()) return "";
  std::vector<std::pair<std::string, std::string>> reqs;  // key, rendered requirement
  if (const js::Value* ml = js::find(*s, "matchLabels"); ml && ml->IsObject())
    for (const auto& m : ml->GetObject())
      reqs.emplace_back(std::string(js::view(m.name)),
                        std::string(js::view(m.name)) + "=" +
                            std::string(m.value.IsString() ? js::view(m.value) : ""));
  if (const js::Value* me = js::find(*s, "matchExpressions"); me && me->IsArray())
    for (const auto& e : me->GetArray()) {
      std::string key(js::get_string(e, "key"));
      std::string op(js::get_string(e, "operator"));
      std::vector<std::string> values;
      if (const js::Value* vs = js::find(e, "values"); vs && vs->IsArray())
        for (const auto& v : vs->GetArray())
          if (v.IsString()) values.emplace_back(js::view(v));
      std::sort(values.begin(), values.end());
      values.erase(std::unique(values.begin(), values.end()), values.end());
      std::string joined;
      for (const auto& v : values) joined += (joined.empty() ? "" : ",") + v;
      if (op == "In")
        reqs.emplace_back(key, key + " in (" + joined + ")");
      else if (op == "NotIn")
        reqs.emplace_back(key, key + " notin (" + joined + ")");
      else if (op == "Exists")
        reqs.emplace_back(key, key);
      else if (op == "DoesNotExist")
        reqs.emplace_back(key, "!" + key);
    }
  // internalSelector.Add sorts its requirements by key.
  std::stable_sort(reqs.begin(), reqs.end(),
                   [](const auto& x, const auto& y) { return x.first < y.first; });
  std::string out;
  for (const auto& r : reqs) out += (out.empty() ? "" : ",") + r.second;
  return out;
}

std::string scale_of(const paths& p, const js::Value& parent, bool for_update) {
  if (p.builtin)
    return make_scale(parent, js::get_int(parent, {"spec", "replicas"}, 0),
                      js::get_int(parent, {"status", "replicas"}, 0),
                      selector_string(js::find_path(parent, {"spec", "selector"})));
  const js::Value* spec = nested(parent, p.spec_replicas, true);
  const js::Value* status = nested(parent, p.status_replicas, true);
  std::string selector;
  if (!p.label_selector.empty())
    if (const js::Value* s = nested(parent, p.label_selector, false)) selector = js::view(*s);
  // int32(...) of the int64 the paths hold, as scaleFromCustomResource converts them.
  auto as_int32 = [](const js::Value* v) {
    return v ? static_cast<int64_t>(static_cast<int32_t>(v->GetInt64())) : 0;
  };
  if (!spec) {
    // ScaleREST.Get answers 500; an update starts from the invalidSpecReplicas marker.
    if (!for_update)
      throw internal(fmt::format("the spec replicas field \"{}\" does not exist", p.spec_replicas));
    return make_scale(parent, unset_replicas, as_int32(status), selector);
  }
  return make_scale(parent, as_int32(spec), as_int32(status), selector);
}

js::Document patched(const std::string& current, patch_type type, std::string_view body) {
  js::Document patch = parse_patch(type, body);
  if (type == patch_type::apply && !patch.IsObject())
    throw bad_request("apply patch body must be an object");
  js::Document next = js::parse(current);
  // Apply approximated: the applied fields overwrite, with no field ownership.
  apply_patch(next, type == patch_type::apply ? patch_type::merge : type, patch,
              builtin_schema::model::get().root("autoscaling", "v1", "Scale"));
  return next;
}

std::string parent_patch(const resource_type& t, const paths& p, const std::string& name,
                         const js::Value& parent, const js::Value& scale) {
  if (!scale.IsObject()) throw bad_request("the body of the request must be a JSON object");
  if (js::get_string(scale, {"metadata", "name"}) != name)
    throw bad_request("the name of the object does not match the name on the URL");
  int64_t replicas = 0;
  if (const js::Value* r = js::find_path(scale, {"spec", "replicas"}); r && !r->IsNull()) {
    if (!r->IsInt64() || r->GetInt64() < INT32_MIN || r->GetInt64() > INT32_MAX)
      throw bad_request(
          "Scale in version \"v1\" cannot be handled as a Scale: json: cannot unmarshal " +
          std::string(r->IsString()   ? "string"
                      : r->IsNumber() ? "number"
                                      : "value") +
          " into Go struct field ScaleSpec.spec.replicas of type int32");
    replicas = r->GetInt64();
  }
  if (p.builtin && replicas < 0)  // autoscaling ValidateScale, reported as extensions' Scale
    throw invalid("Scale", "extensions", name,
                  {field::invalid("spec.replicas", std::to_string(replicas),
                                  "must be greater than or equal to 0")});
  if (!p.builtin) {
    if (replicas == unset_replicas)
      throw bad_request(
          fmt::format("the spec replicas field \"{}\" cannot be empty", p.spec_replicas));
    if (replicas < 0)  // customResourceValidator.ValidateScaleSpec
      throw invalid(t.kind, t.group, name,
                    {field::invalid(p.spec_replicas, std::to_string(replicas),
                                    "should be a non-negative integer")});
  }
  (void)parent;
  // The merge patch: {"metadata":{"resourceVersion":...},"spec":{...:replicas}}.
  js::Document patch(rapidjson::kObjectType);
  auto& a = patch.GetAllocator();
  if (auto rv = js::get_string(scale, {"metadata", "resourceVersion"}); !rv.empty()) {
    js::Value meta(rapidjson::kObjectType);
    meta.AddMember("resourceVersion", js::string_value(rv, a), a);
    patch.AddMember("metadata", meta, a);
  }
  auto fields = split_path(p.spec_replicas);
  js::Value* cur = &patch;
  for (size_t i = 0; i + 1 < fields.size(); ++i) cur = &js::ensure_object(*cur, fields[i], a);
  js::set_member(*cur, fields.back(), js::Value(replicas), a);
  return js::to_string(patch);
}

}  // namespace kubesim::scale
