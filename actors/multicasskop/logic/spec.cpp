#include "actors/multicasskop/logic/spec.h"

#include <algorithm>
#include <regex>

#include <fmt/format.h>

#include "actors/multicasskop/logic/cache_trim.h"
#include "k8s/json/json_patch.h"

namespace mc {
namespace js = k8s::json;

namespace {

using k8s::json::copy_of;

bool dns1123_subdomain(const std::string& s) {
  static const std::regex re(R"([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*)");
  return !s.empty() && s.size() <= 253 && std::regex_match(s, re);
}

const char* json_type(const js::Value& v) {
  if (v.IsString()) return "a string";
  if (v.IsNumber()) return "a number";
  if (v.IsBool()) return "a boolean";
  if (v.IsArray()) return "a list";
  if (v.IsObject()) return "an object";
  return "null";
}

// A string field of base that is present with another type: what to say about it, else "".
std::string not_a_string(const js::Value& base, std::initializer_list<std::string_view> path,
                         const std::string& name) {
  const js::Value* v = js::find_path(base, path);
  if (!v || v->IsString()) return "";
  return name + " must be a string, not " + json_type(*v) + " (" + js::to_string(*v) + ")";
}

}  // namespace

namespace {

// Parts of `object` shared with `owner` (the document holding it), else copied.
spec_part part(const js::Value& v, const object_ptr& owner) {
  if (owner) return spec_part(owner, &v);
  return js::compact_copy(v);  // kept as long as the spec: no 4 KiB pool per part
}

parsed_spec parse(const js::Value& object, const object_ptr& owner) {
  parsed_spec p;
  const std::string mc_namespace(js::get_string(object, {"metadata", "namespace"}));
  p.adopt = js::get_string(object, {"metadata", "annotations", adopt_annotation}) == "true";
  if (const int64_t bytes = dropped_spec_bytes(object)) {
    // Not held in memory (cache_trim.h): only deleteCassandraCluster is left of it.
    p.delete_cassandraclusters = js::get_bool(object, {"spec", "deleteCassandraCluster"}, true);
    p.problems.push_back(
        {"TooLarge", fmt::format("the spec is {} KiB, over the operator's limit of {} KiB "
                                 "(limits.maxMultiCasskopSpecKilobytes): its CassandraClusters "
                                 "would carry it twice in annotations, which the API server caps "
                                 "at 256 KiB; make it smaller",
                                 (bytes + 1023) / 1024,
                                 js::get_int(object, {derived_member, "maxSpecBytes"}, 0) / 1024)});
    return p;
  }
  const js::Value* spec = js::find(object, "spec");
  if (!spec || !spec->IsObject()) {
    p.problems.push_back({"InvalidBase", "spec is missing"});
    return p;
  }
  if (const js::Value* d = js::find(*spec, "deleteCassandraCluster")) {
    if (d->IsBool())
      p.delete_cassandraclusters = d->GetBool();
    else
      p.problems.push_back({"InvalidSpec", "spec.deleteCassandraCluster must be true or false"});
  }
  p.seed_domain = js::get_string(*spec, {"seeds", "dnsDomain"});

  const js::Value* base = js::find(*spec, "base");
  if (!base || !base->IsObject()) {
    p.problems.push_back({"InvalidBase", "spec.base must be a CassandraCluster object"});
  } else {
    auto kind = js::get_string(*base, "kind", "CassandraCluster");
    auto api_version = js::get_string(*base, "apiVersion", "db.orange.com/v2");
    p.cc_name = js::get_string(*base, {"metadata", "name"});
    p.cc_namespace = js::get_string(*base, {"metadata", "namespace"}, mc_namespace);
    std::string wrong_type = not_a_string(*base, {"kind"}, "spec.base.kind");
    if (wrong_type.empty())
      wrong_type = not_a_string(*base, {"apiVersion"}, "spec.base.apiVersion");
    if (wrong_type.empty())
      wrong_type = not_a_string(*base, {"metadata", "name"}, "spec.base.metadata.name");
    if (wrong_type.empty())
      wrong_type = not_a_string(*base, {"metadata", "namespace"}, "spec.base.metadata.namespace");
    if (!wrong_type.empty())
      p.problems.push_back({"InvalidBase", wrong_type});
    else if (kind != "CassandraCluster")
      p.problems.push_back(
          {"InvalidBase", "spec.base.kind must be CassandraCluster, not " + std::string(kind)});
    else if (api_version != "db.orange.com/v2")
      p.problems.push_back({"InvalidBase", "spec.base.apiVersion must be db.orange.com/v2, not " +
                                               std::string(api_version)});
    else if (!dns1123_subdomain(p.cc_name))
      p.problems.push_back({"InvalidBase", "spec.base.metadata.name \"" + p.cc_name +
                                               "\" is not a valid object name (lower case "
                                               "letters, digits, '-' and '.')"});
    else if (p.cc_namespace != mc_namespace)
      p.problems.push_back({"InvalidBase", "spec.base.metadata.namespace \"" + p.cc_namespace +
                                               "\" differs from the MultiCasskop's namespace \"" +
                                               mc_namespace + "\""});
    else if (const js::Value* s = js::find(*base, "spec"); s && !s->IsObject())
      p.problems.push_back({"InvalidBase", "spec.base.spec must be an object"});
    else
      p.base = part(*base, owner);
    if (const js::Value* seeds = js::find_path(*base, {"status", "seedlist"});
        seeds && seeds->IsArray())
      for (const auto& s : seeds->GetArray())
        if (s.IsString()) p.given_seedlist.emplace_back(js::view(s));
  }

  if (const js::Value* ov = js::find(*spec, "override")) {
    if (!ov->IsObject()) {
      p.problems.push_back({"InvalidOverride",
                            "spec.override must map cluster names to CassandraCluster fragments"});
    } else {
      for (const auto& m : ov->GetObject()) {
        std::string region(js::view(m.name));
        if (!m.value.IsObject()) {
          p.problems.push_back(
              {"InvalidOverride", "spec.override." + region +
                                      " must be a CassandraCluster fragment (an object), not " +
                                      json_type(m.value)});
          continue;
        }
        p.overrides[region] = part(m.value, owner);
      }
    }
  }
  if (owner && (p.base || !p.overrides.empty())) p.source = owner;
  return p;
}

}  // namespace

parsed_spec parse_multicasskop(const js::Value& object) {
  return parse(object, nullptr);
}

parsed_spec parse_multicasskop(const object_ptr& object) {
  return parse(*object, object);
}

void share_parts_of(parsed_spec& p, const object_ptr& object) {
  if (!p.source || p.source == object) return;
  const js::Value* spec = js::find(*object, "spec");
  const js::Value* before = js::find(*p.source, "spec");
  if (!spec || !before || !(*spec == *before)) return;
  if (p.base) p.base = spec_part(object, js::find(*spec, "base"));
  for (auto& [region, fragment] : p.overrides)
    fragment = spec_part(object, js::find_path(*spec, {"override", region}));
  p.source = object;
}

std::vector<spec_problem> unknown_regions(const parsed_spec& spec,
                                          const std::vector<std::string>& clusters,
                                          const std::set<std::string>& detached) {
  std::vector<spec_problem> out;
  for (const auto& [region, fragment] : spec.overrides) {
    if (std::find(clusters.begin(), clusters.end(), region) != clusters.end()) continue;
    if (detached.count(region)) continue;
    std::string known;
    for (const auto& c : clusters) known += (known.empty() ? "" : ", ") + c;
    out.push_back({"UnknownRegion", "spec.override names cluster \"" + region +
                                        "\", which is not configured (clusters: " + known + ")"});
  }
  return out;
}

js::Document desired_cassandracluster(const parsed_spec& spec, const std::string& region,
                                      const mc_key& owner) {
  js::Document merged = copy_of(*spec.base);
  auto& a = merged.GetAllocator();
  if (auto it = spec.overrides.find(region); it != spec.overrides.end())
    js::apply_merge_patch(merged, *it->second, a);

  js::Document out(rapidjson::kObjectType);
  auto& oa = out.GetAllocator();
  out.AddMember("apiVersion", "db.orange.com/v2", oa);
  out.AddMember("kind", "CassandraCluster", oa);
  js::Value meta(rapidjson::kObjectType);
  meta.AddMember("name", js::string_value(spec.cc_name, oa), oa);
  meta.AddMember("namespace", js::string_value(spec.cc_namespace, oa), oa);
  if (const js::Value* labels = js::find_path(merged, {"metadata", "labels"});
      labels && labels->IsObject())
    meta.AddMember("labels", js::Value(*labels, oa), oa);
  js::Value annotations(rapidjson::kObjectType);
  if (const js::Value* an = js::find_path(merged, {"metadata", "annotations"});
      an && an->IsObject())
    annotations.CopyFrom(*an, oa);
  js::set_string(annotations, owner_annotation, owner.str(), oa);
  meta.AddMember("annotations", annotations, oa);
  out.AddMember("metadata", meta, oa);
  if (const js::Value* s = js::find(merged, "spec"))
    out.AddMember("spec", js::Value(*s, oa), oa);
  else
    out.AddMember("spec", js::Value(rapidjson::kObjectType), oa);
  return out;
}

js::Document managed_part(const js::Value& cc) {
  js::Document out(rapidjson::kObjectType);
  auto& a = out.GetAllocator();
  js::Value meta(rapidjson::kObjectType);
  js::Value labels(rapidjson::kObjectType);
  if (const js::Value* l = js::find_path(cc, {"metadata", "labels"}); l && l->IsObject())
    labels.CopyFrom(*l, a);
  js::Value annotations(rapidjson::kObjectType);
  if (const js::Value* an = js::find_path(cc, {"metadata", "annotations"}); an && an->IsObject()) {
    annotations.CopyFrom(*an, a);
    js::remove_member(annotations, last_applied_annotation);
  }
  meta.AddMember("labels", labels, a);
  meta.AddMember("annotations", annotations, a);
  out.AddMember("metadata", meta, a);
  js::Value spec(rapidjson::kObjectType);
  if (const js::Value* s = js::find(cc, "spec"); s && s->IsObject()) spec.CopyFrom(*s, a);
  out.AddMember("spec", spec, a);
  return out;
}

std::string update_patch(const js::Value& observed, const js::Value& desired) {
  js::Document want = managed_part(desired);
  js::Document before;
  auto last = js::get_string(observed, {"metadata", "annotations", last_applied_annotation});
  bool have_last = false;
  if (!last.empty()) {
    try {
      before = js::parse(last);
      have_last = before.IsObject();
    } catch (const js::parse_error&) {
      have_last = false;  // a damaged annotation: fall back to the observed object
    }
  }
  js::Document patch(rapidjson::kObjectType);
  if (have_last) {
    patch = js::create_merge_patch(before, want);
    if (patch.ObjectEmpty()) return "";
  }
  auto& a = patch.GetAllocator();
  auto& meta = js::ensure_object(patch, "metadata", a);
  auto& annotations = js::ensure_object(meta, "annotations", a);
  if (!have_last)  // adopting it: the owner (when only the MultiCasskop asked) and our record
    js::set_string(annotations, owner_annotation,
                   js::get_string(desired, {"metadata", "annotations", owner_annotation}), a);
  js::set_string(annotations, last_applied_annotation, js::to_string(want), a);
  js::set_string(meta, "resourceVersion", js::get_string(observed, {"metadata", "resourceVersion"}),
                 a);
  return js::to_string(patch);
}

size_t annotation_bytes(const js::Value& object) {
  size_t n = 0;
  if (const js::Value* an = js::find_path(object, {"metadata", "annotations"});
      an && an->IsObject())
    for (const auto& m : an->GetObject())
      n += m.name.GetStringLength() + (m.value.IsString() ? m.value.GetStringLength() : 0);
  return n;
}

bool patch_changes_spec(const std::string& patch) {
  if (patch.empty()) return false;
  auto d = js::parse(patch);
  return js::find(d, "spec") != nullptr;
}

std::string owner_of(const js::Value& cc) {
  return std::string(js::get_string(cc, {"metadata", "annotations", owner_annotation}));
}

bool managed_by(const js::Value& cc, const mc_key& owner) {
  return owner_of(cc) == owner.str();
}

}  // namespace mc
