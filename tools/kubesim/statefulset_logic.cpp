#include "tools/kubesim/statefulset_logic.h"

#include <algorithm>
#include <cstdint>
#include <map>

#include <fmt/format.h>

#include "tools/kubesim/controller_history.h"

namespace kubesim::sts {
namespace js = k8s::json;

namespace {

const std::string kRevisionLabel = "controller-revision-hash";
const std::string kPodNameLabel = "statefulset.kubernetes.io/pod-name";
const std::string kPodIndexLabel = "apps.kubernetes.io/pod-index";

int clamp_int(long long v) {
  return static_cast<int>(std::clamp<long long>(v, 0, 1'000'000'000));
}

// String members of an object (labels, annotations, matchLabels), sorted by key as Go's JSON
// encoding of a map is.
void collect_strings(const js::Value* obj, std::map<std::string, std::string>& out) {
  if (!obj || !obj->IsObject()) return;
  for (const auto& m : obj->GetObject())
    if (m.value.IsString()) out[std::string(js::view(m.name))] = js::view(m.value);
}

js::Value string_map(const std::map<std::string, std::string>& m, js::Allocator& a) {
  js::Value obj(rapidjson::kObjectType);
  for (const auto& [k, v] : m) obj.AddMember(js::string_value(k, a), js::string_value(v, a), a);
  return obj;
}

void add_count(js::Value& status, const char* key, long long n, bool omit_zero, js::Allocator& a) {
  if (n != 0 || !omit_zero)
    status.AddMember(rapidjson::StringRef(key), js::Value(static_cast<int64_t>(n)), a);
}

}  // namespace

js::Value owner_reference(const js::Value& sts, js::Allocator& a) {
  js::Value ref(rapidjson::kObjectType);
  ref.AddMember("apiVersion", "apps/v1", a);
  ref.AddMember("kind", "StatefulSet", a);
  ref.AddMember("name", js::string_value(js::get_string(sts, {"metadata", "name"}), a), a);
  ref.AddMember("uid", js::string_value(js::get_string(sts, {"metadata", "uid"}), a), a);
  ref.AddMember("controller", true, a);
  ref.AddMember("blockOwnerDeletion", true, a);
  return ref;
}

set_spec read_spec(const js::Value& sts) {
  set_spec s;
  s.name = js::get_string(sts, {"metadata", "name"});
  s.ns = js::get_string(sts, {"metadata", "namespace"});
  s.uid = js::get_string(sts, {"metadata", "uid"});
  s.generation = js::get_int(sts, {"metadata", "generation"}, 0);
  s.replicas = clamp_int(js::get_int(sts, {"spec", "replicas"}, 1));
  s.start_ordinal = clamp_int(js::get_int(sts, {"spec", "ordinals", "start"}, 0));
  s.parallel = js::get_string(sts, {"spec", "podManagementPolicy"}) == "Parallel";
  s.on_delete = js::get_string(sts, {"spec", "updateStrategy", "type"}) == "OnDelete";
  if (!s.on_delete)
    s.partition =
        clamp_int(js::get_int(sts, {"spec", "updateStrategy", "rollingUpdate", "partition"}, 0));
  s.delete_claims = js::get_string(sts, {"spec", "persistentVolumeClaimRetentionPolicy",
                                         "whenDeleted"}) == "Delete";
  s.service_name = js::get_string(sts, {"spec", "serviceName"});
  if (const auto* claims = js::find_path(sts, {"spec", "volumeClaimTemplates"});
      claims && claims->IsArray())
    for (const auto& c : claims->GetArray()) {
      auto name = js::get_string(c, {"metadata", "name"});
      if (!name.empty()) s.claim_templates.emplace_back(name);
    }
  return s;
}

pod_state read_pod(const js::Value& pod, int ordinal) {
  pod_state p;
  p.ordinal = ordinal;
  p.revision = js::get_string(pod, {"metadata", "labels", kRevisionLabel});
  auto phase = js::get_string(pod, {"status", "phase"});
  bool ready = false;
  if (const auto* conds = js::find_path(pod, {"status", "conditions"}); conds && conds->IsArray())
    for (const auto& c : conds->GetArray())
      if (js::get_string(c, "type") == "Ready") ready = js::get_string(c, "status") == "True";
  p.running_ready = phase == "Running" && ready;
  p.terminating = js::find_path(pod, {"metadata", "deletionTimestamp"}) != nullptr;
  p.finished = phase == "Failed" || phase == "Succeeded";
  return p;
}

std::string pod_name(std::string_view set, int ordinal) {
  return fmt::format("{}-{}", set, ordinal);
}

std::string claim_name(std::string_view claim_template, std::string_view set, int ordinal) {
  return fmt::format("{}-{}-{}", claim_template, set, ordinal);
}

std::optional<int> ordinal_of(std::string_view set, std::string_view pod) {
  if (pod.size() <= set.size() + 1 || pod.substr(0, set.size()) != set || pod[set.size()] != '-')
    return std::nullopt;
  auto digits = pod.substr(set.size() + 1);
  if (digits.size() > 9 || (digits.size() > 1 && digits[0] == '0')) return std::nullopt;
  int n = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + (c - '0');
  }
  return n;
}

std::optional<std::string> parent_of(std::string_view pod) {
  auto dash = pod.rfind('-');
  if (dash == std::string_view::npos || dash == 0) return std::nullopt;
  if (!ordinal_of(pod.substr(0, dash), pod)) return std::nullopt;
  return std::string(pod.substr(0, dash));
}

std::string stable_hex(std::string_view data, size_t length) {
  std::string out;
  // Several FNV-1a passes with different seeds give as many hex digits as asked for.
  for (uint64_t round = 0; out.size() < length; ++round) {
    uint64_t h = 14695981039346656037ULL ^ (round * 0x9e3779b97f4a7c15ULL);
    for (unsigned char c : data) {
      h ^= c;
      h *= 1099511628211ULL;
    }
    out += fmt::format("{:016x}", h);
  }
  out.resize(length);
  return out;
}

std::string revision_name(std::string_view set, const js::Value& pod_template) {
  return history::revision_name(set,
                                history::revision_hash(history::revision_data(pod_template), 0));
}

const std::string& revision_for(const set_spec& s, const revisions& r, int ordinal) {
  return !s.on_delete && ordinal < s.start_ordinal + s.partition ? r.current : r.update;
}

std::vector<step> plan(const set_spec& s, const std::vector<pod_state>& pods, const revisions& r) {
  const int first = s.start_ordinal;
  const int end = first + s.replicas;
  std::vector<const pod_state*> replicas(s.replicas, nullptr);
  std::vector<const pod_state*> condemned;
  for (const auto& p : pods) {
    if (p.ordinal >= first && p.ordinal < end)
      replicas[p.ordinal - first] = &p;
    else
      condemned.push_back(&p);
  }
  std::sort(condemned.begin(), condemned.end(),
            [](auto* a, auto* b) { return a->ordinal < b->ordinal; });
  const bool monotonic = !s.parallel;
  auto healthy = [](const pod_state* p) { return p && p->running_ready && !p->terminating; };

  // Scale down may delete a not-ready pod only when it is the first unhealthy one.
  std::optional<int> first_unhealthy;
  if (std::all_of(replicas.begin(), replicas.end(), healthy))
    for (const auto* p : condemned)
      if (!healthy(p)) {
        first_unhealthy = p->ordinal;
        break;
      }

  std::vector<step> steps;
  std::vector<bool> touched(s.replicas, false);  // created or deleted in this sync
  for (int i = 0; i < s.replicas; ++i) {
    const pod_state* p = replicas[i];
    const int ordinal = first + i;
    if (p && p->finished && !p->terminating) {
      // Deleted now, created again by the sync its deletion triggers.
      steps.push_back({step_kind::remove, ordinal, {}});
      touched[i] = true;
      if (monotonic) return steps;
      continue;
    }
    if (!p) {
      steps.push_back({step_kind::create, ordinal, revision_for(s, r, ordinal)});
      touched[i] = true;
      if (monotonic) return steps;
      continue;
    }
    if (monotonic && !healthy(p)) return steps;  // OrderedReady: wait for this one
  }

  for (auto it = condemned.rbegin(); it != condemned.rend(); ++it) {
    const pod_state* p = *it;
    if (p->terminating) {
      if (monotonic) return steps;
      continue;
    }
    if (monotonic && !p->running_ready && p->ordinal != first_unhealthy) return steps;
    steps.push_back({step_kind::remove, p->ordinal, {}});
    if (monotonic) return steps;
  }

  if (s.on_delete) return steps;
  // Rolling update: one pod at a time, the highest outdated ordinal first, none below the
  // partition; a pod that is not yet healthy again holds the rollout.
  for (int i = s.replicas - 1; i >= s.partition; --i) {
    const pod_state* p = replicas[i];
    if (touched[i]) return steps;
    if (p->revision != r.update && !p->terminating) {
      steps.push_back({step_kind::remove, first + i, {}});
      return steps;
    }
    if (!healthy(p)) return steps;
  }
  return steps;
}

set_status compute_status(const set_spec& s, const std::vector<pod_state>& pods,
                          const revisions& r) {
  set_status st;
  st.observed_generation = s.generation;
  st.current_revision = r.current;
  st.update_revision = r.update;
  for (const auto& p : pods) {
    ++st.replicas;
    if (p.running_ready) {
      ++st.ready;
      ++st.available;  // minReadySeconds is not simulated
    }
    if (p.terminating) continue;
    if (p.revision == r.current) ++st.current;
    if (p.revision == r.update) ++st.updated;
  }
  // completeRollingUpdate: once every pod runs the update revision and is ready, it becomes
  // the current one (never with OnDelete, as in the real controller).
  if (!s.on_delete && st.updated == st.replicas && st.ready == st.replicas) {
    st.current = st.updated;
    st.current_revision = r.update;
  }
  return st;
}

js::Document status_json(const set_status& st, const js::Value* old_status) {
  js::Document d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  add_count(d, "observedGeneration", st.observed_generation, true, a);
  add_count(d, "replicas", st.replicas, false, a);
  add_count(d, "readyReplicas", st.ready, true, a);
  add_count(d, "currentReplicas", st.current, true, a);
  add_count(d, "updatedReplicas", st.updated, true, a);
  if (!st.current_revision.empty())
    d.AddMember("currentRevision", js::string_value(st.current_revision, a), a);
  if (!st.update_revision.empty())
    d.AddMember("updateRevision", js::string_value(st.update_revision, a), a);
  d.AddMember("collisionCount", st.collision_count, a);
  if (old_status)
    if (const auto* conds = js::find(*old_status, "conditions"))
      d.AddMember("conditions", js::Value(*conds, a), a);
  add_count(d, "availableReplicas", st.available, false, a);
  return d;
}

js::Document build_pod(const js::Value& sts, const js::Value& pod_template, int ordinal,
                       const std::string& revision) {
  js::Document d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  const std::string set(js::get_string(sts, {"metadata", "name"}));
  const std::string name = pod_name(set, ordinal);

  std::map<std::string, std::string> labels;
  collect_strings(js::find_path(pod_template, {"metadata", "labels"}), labels);
  labels[kRevisionLabel] = revision;
  labels[kPodNameLabel] = name;
  labels[kPodIndexLabel] = std::to_string(ordinal);
  std::map<std::string, std::string> annotations;
  collect_strings(js::find_path(pod_template, {"metadata", "annotations"}), annotations);

  js::Value meta(rapidjson::kObjectType);
  meta.AddMember("name", js::string_value(name, a), a);
  meta.AddMember("generateName", js::string_value(set + "-", a), a);
  meta.AddMember("namespace", js::string_value(js::get_string(sts, {"metadata", "namespace"}), a),
                 a);
  meta.AddMember("labels", string_map(labels, a), a);
  if (!annotations.empty()) meta.AddMember("annotations", string_map(annotations, a), a);
  js::Value refs(rapidjson::kArrayType);
  refs.PushBack(owner_reference(sts, a), a);
  meta.AddMember("ownerReferences", refs, a);

  js::Value spec(rapidjson::kObjectType);
  if (const auto* s = js::find(pod_template, "spec"); s && s->IsObject()) spec.CopyFrom(*s, a);
  // Stable network identity: <pod>.<serviceName>.
  js::set_string(spec, "hostname", name, a);
  auto service = js::get_string(sts, {"spec", "serviceName"});
  if (!service.empty()) js::set_string(spec, "subdomain", service, a);
  // Claim volumes first, then the template's own volumes they do not replace (updateStorage).
  js::Value volumes(rapidjson::kArrayType);
  std::vector<std::string> claim_names;
  if (const auto* claims = js::find_path(sts, {"spec", "volumeClaimTemplates"});
      claims && claims->IsArray())
    for (const auto& c : claims->GetArray()) {
      std::string t(js::get_string(c, {"metadata", "name"}));
      if (t.empty()) continue;
      claim_names.push_back(t);
      js::Value pvc(rapidjson::kObjectType);
      pvc.AddMember("claimName", js::string_value(claim_name(t, set, ordinal), a), a);
      js::Value vol(rapidjson::kObjectType);
      vol.AddMember("name", js::string_value(t, a), a);
      vol.AddMember("persistentVolumeClaim", pvc, a);
      volumes.PushBack(vol, a);
    }
  if (const auto* own = js::find(spec, "volumes"); own && own->IsArray())
    for (const auto& v : own->GetArray()) {
      std::string vname(js::get_string(v, "name"));
      if (std::find(claim_names.begin(), claim_names.end(), vname) == claim_names.end())
        volumes.PushBack(js::Value(v, a), a);
    }
  if (volumes.Empty())
    js::remove_member(spec, "volumes");
  else
    js::set_member(spec, "volumes", std::move(volumes), a);

  d.AddMember("apiVersion", "v1", a);
  d.AddMember("kind", "Pod", a);
  d.AddMember("metadata", meta, a);
  d.AddMember("spec", spec, a);
  return d;
}

js::Document build_claim(const js::Value& sts, const js::Value& claim_template, int ordinal,
                         const std::string& volume_name) {
  js::Document d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  const std::string set(js::get_string(sts, {"metadata", "name"}));
  const std::string name =
      claim_name(js::get_string(claim_template, {"metadata", "name"}), set, ordinal);

  std::map<std::string, std::string> labels;
  collect_strings(js::find_path(claim_template, {"metadata", "labels"}), labels);
  collect_strings(js::find_path(sts, {"spec", "selector", "matchLabels"}), labels);
  std::map<std::string, std::string> annotations;
  collect_strings(js::find_path(claim_template, {"metadata", "annotations"}), annotations);

  js::Value meta(rapidjson::kObjectType);
  meta.AddMember("name", js::string_value(name, a), a);
  meta.AddMember("namespace", js::string_value(js::get_string(sts, {"metadata", "namespace"}), a),
                 a);
  if (!labels.empty()) meta.AddMember("labels", string_map(labels, a), a);
  if (!annotations.empty()) meta.AddMember("annotations", string_map(annotations, a), a);
  if (read_spec(sts).delete_claims) {
    // whenDeleted: Delete makes the StatefulSet an owner, so garbage collection takes the PVC.
    js::Value refs(rapidjson::kArrayType);
    js::Value ref = owner_reference(sts, a);
    js::set_member(ref, "controller", js::Value(false), a);
    refs.PushBack(ref, a);
    meta.AddMember("ownerReferences", refs, a);
  }

  js::Value spec(rapidjson::kObjectType);
  if (const auto* s = js::find(claim_template, "spec"); s && s->IsObject()) spec.CopyFrom(*s, a);
  // What the default StorageClass admission and the PV binder would fill in.
  if (!js::find(spec, "storageClassName")) js::set_string(spec, "storageClassName", "standard", a);
  if (!js::find(spec, "volumeMode")) js::set_string(spec, "volumeMode", "Filesystem", a);
  js::set_string(spec, "volumeName", volume_name, a);

  d.AddMember("apiVersion", "v1", a);
  d.AddMember("kind", "PersistentVolumeClaim", a);
  d.AddMember("metadata", meta, a);
  d.AddMember("spec", spec, a);
  return d;
}

js::Document bound_claim_status(const js::Value& claim) {
  js::Document d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  d.AddMember("phase", "Bound", a);
  if (const auto* modes = js::find_path(claim, {"spec", "accessModes"}))
    d.AddMember("accessModes", js::Value(*modes, a), a);
  if (const auto* storage = js::find_path(claim, {"spec", "resources", "requests", "storage"})) {
    js::Value capacity(rapidjson::kObjectType);
    capacity.AddMember("storage", js::Value(*storage, a), a);
    d.AddMember("capacity", capacity, a);
  }
  return d;
}

bool selector_matches(const js::Value& selector, const js::Value* labels) {
  auto label = [&](std::string_view key) -> const js::Value* {
    return labels && !key.empty() ? js::find(*labels, key) : nullptr;
  };
  if (const auto* ml = js::find(selector, "matchLabels"); ml && ml->IsObject())
    for (const auto& m : ml->GetObject()) {
      const js::Value* v = label(js::view(m.name));
      if (!v || *v != m.value) return false;
    }
  if (const auto* me = js::find(selector, "matchExpressions"); me && me->IsArray())
    for (const auto& e : me->GetArray()) {
      const js::Value* v = label(js::get_string(e, "key"));
      auto op = js::get_string(e, "operator");
      bool listed = false;
      if (const auto* values = js::find(e, "values"); v && values && values->IsArray())
        for (const auto& x : values->GetArray()) listed = listed || x == *v;
      if (op == "In" && !listed) return false;
      if (op == "NotIn" && listed) return false;
      if (op == "Exists" && !v) return false;
      if (op == "DoesNotExist" && v) return false;
    }
  return true;
}

}  // namespace kubesim::sts
