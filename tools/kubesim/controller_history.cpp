#include "tools/kubesim/controller_history.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <tuple>

#include <fmt/format.h>

#include "tools/kubesim/go_format.h"

namespace kubesim::history {
namespace js = k8s::json;

namespace {

const char kHashLabel[] = "controller.kubernetes.io/hash";

// rand.SafeEncodeString's alphabet: no vowels, so hashes spell no words.
constexpr std::string_view kAlphanums = "bcdfghjklmnpqrstvwxz2456789";

}  // namespace

std::string revision_data(const js::Value& pod_template) {
  js::Document d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  js::Value tmpl(pod_template, a);
  if (!tmpl.IsObject()) tmpl.SetObject();
  auto& meta = js::ensure_object(tmpl, "metadata", a);
  if (!js::find(meta, "creationTimestamp")) meta.AddMember("creationTimestamp", js::Value(), a);
  js::set_string(tmpl, "$patch", "replace", a);
  js::Value spec(rapidjson::kObjectType);
  spec.AddMember("template", tmpl, a);
  d.AddMember("spec", spec, a);
  return go::json(d);
}

std::string revision_hash(std::string_view data, int32_t collision_count) {
  uint32_t h = 2166136261u;  // FNV-1: multiply, then xor
  auto add = [&h](std::string_view bytes) {
    for (unsigned char c : bytes) {
      h *= 16777619u;
      h ^= c;
    }
  };
  add(data);
  add(std::to_string(collision_count));
  std::string digits = std::to_string(h);
  for (char& c : digits) c = kAlphanums[static_cast<unsigned char>(c) % kAlphanums.size()];
  return digits;
}

std::string revision_name(std::string_view prefix, std::string_view hash) {
  return fmt::format("{}-{}", prefix.substr(0, 223), hash);
}

js::Document new_revision(const js::Value& sts, const std::string& data, long long revision,
                          int32_t collision_count) {
  js::Document d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  const std::string hash = revision_hash(data, collision_count);
  std::map<std::string, std::string> labels;
  if (const auto* l = js::find_path(sts, {"spec", "template", "metadata", "labels"});
      l && l->IsObject())
    for (const auto& m : l->GetObject())
      if (m.value.IsString()) labels[std::string(js::view(m.name))] = js::view(m.value);
  labels[kHashLabel] = hash;

  js::Value meta(rapidjson::kObjectType);
  meta.AddMember(
      "name", js::string_value(revision_name(js::get_string(sts, {"metadata", "name"}), hash), a),
      a);
  meta.AddMember("namespace", js::string_value(js::get_string(sts, {"metadata", "namespace"}), a),
                 a);
  js::Value label_map(rapidjson::kObjectType);
  for (const auto& [k, v] : labels)
    label_map.AddMember(js::string_value(k, a), js::string_value(v, a), a);
  meta.AddMember("labels", label_map, a);
  if (const auto* ann = js::find_path(sts, {"metadata", "annotations"});
      ann && ann->IsObject() && ann->MemberCount() > 0)
    meta.AddMember("annotations", js::Value(*ann, a), a);
  js::Value ref(rapidjson::kObjectType);
  ref.AddMember("apiVersion", "apps/v1", a);
  ref.AddMember("kind", "StatefulSet", a);
  ref.AddMember("name", js::string_value(js::get_string(sts, {"metadata", "name"}), a), a);
  ref.AddMember("uid", js::string_value(js::get_string(sts, {"metadata", "uid"}), a), a);
  ref.AddMember("controller", true, a);
  ref.AddMember("blockOwnerDeletion", true, a);
  js::Value refs(rapidjson::kArrayType);
  refs.PushBack(ref, a);
  meta.AddMember("ownerReferences", refs, a);

  d.AddMember("apiVersion", "apps/v1", a);
  d.AddMember("kind", "ControllerRevision", a);
  d.AddMember("metadata", meta, a);
  js::Document parsed = js::parse(data);
  d.AddMember("data", js::Value(parsed, a), a);
  d.AddMember("revision", static_cast<int64_t>(revision), a);
  return d;
}

js::Document template_of(const js::Value& revision) {
  js::Document d;
  if (const auto* t = js::find_path(revision, {"data", "spec", "template"}); t && t->IsObject()) {
    d.CopyFrom(*t, d.GetAllocator());
    js::remove_member(d, "$patch");
  }
  return d;
}

bool has_data(const js::Value& revision, const std::string& data) {
  const js::Value* d = js::find(revision, "data");
  return d && go::json(*d) == data;
}

void sort_revisions(std::vector<revision_info>& revisions) {
  std::stable_sort(revisions.begin(), revisions.end(), [](const auto& x, const auto& y) {
    return std::tie(x.number, x.created, x.name) < std::tie(y.number, y.created, y.name);
  });
}

std::vector<std::string> revisions_to_prune(const std::vector<revision_info>& revisions,
                                            const std::vector<std::string>& live, int limit) {
  const std::set<std::string> in_use(live.begin(), live.end());
  std::vector<std::string> old;
  for (const auto& r : revisions)
    if (!in_use.count(r.name)) old.push_back(r.name);
  const size_t keep = static_cast<size_t>(std::max(0, limit));
  if (old.size() <= keep) return {};
  old.resize(old.size() - keep);
  return old;
}

}  // namespace kubesim::history
