#include "tools/kubesim/cluster_state.h"

#include <algorithm>
#include <atomic>

#include <fmt/format.h>

#include "k8s/json/base64.h"
#include "k8s/json/json_patch.h"
#include "k8s/json/yaml_json.h"
#include "tools/kubesim/api_error.h"
#include "tools/kubesim/builtin_decode.h"
#include "tools/kubesim/builtin_defaults.h"
#include "tools/kubesim/builtin_validation.h"
#include "tools/kubesim/crd_schema.h"
#include "tools/kubesim/custom_resources.h"
#include "tools/kubesim/field_errors.h"
#include "tools/kubesim/field_manager.h"
#include "tools/kubesim/object_meta.h"
#include "tools/kubesim/patches.h"
#include "tools/kubesim/strategic_merge.h"

namespace kubesim {
namespace js = k8s::json;

namespace {

using k8s::json::copy_of;

std::string resource_name(const resource_type& t) {
  return t.group.empty() ? t.plural : t.plural + "." + t.group;
}

api_error not_found_error(const resource_type& t, const std::string& name) {
  return not_found(resource_name(t), t.group, t.plural, name);
}

js::Value& metadata_of(js::Document& d) {
  return js::ensure_object(d, "metadata", d.GetAllocator());
}

std::vector<std::string> finalizers_of(const js::Value& obj) {
  std::vector<std::string> out;
  if (const auto* f = js::find_path(obj, {"metadata", "finalizers"}); f && f->IsArray())
    for (const auto& e : f->GetArray())
      if (e.IsString()) out.emplace_back(js::view(e));
  return out;
}

void set_finalizers(js::Document& d, const std::vector<std::string>& fins) {
  auto& a = d.GetAllocator();
  auto& m = metadata_of(d);
  if (fins.empty()) {
    js::remove_member(m, "finalizers");
    return;
  }
  js::Value arr(rapidjson::kArrayType);
  for (const auto& f : fins) arr.PushBack(js::string_value(f, a), a);
  js::set_member(m, "finalizers", std::move(arr), a);
}

std::vector<std::string> owner_uids(const js::Value& obj) {
  std::vector<std::string> out;
  if (const auto* refs = js::find_path(obj, {"metadata", "ownerReferences"});
      refs && refs->IsArray())
    for (const auto& r : refs->GetArray()) {
      auto uid = js::get_string(r, "uid");
      if (!uid.empty()) out.emplace_back(uid);
    }
  return out;
}

// True when anything but metadata (and status, when it is a subresource) differs.
bool spec_changed(const js::Value& a, const js::Value& b, bool status_is_subresource) {
  auto skip = [&](std::string_view k) {
    return k == "metadata" || k == "apiVersion" || k == "kind" ||
           (status_is_subresource && k == "status");
  };
  for (const auto& m : a.GetObject()) {
    auto k = js::view(m.name);
    if (skip(k)) continue;
    const js::Value* other = js::find(b, k);
    if (!other || *other != m.value) return true;
  }
  for (const auto& m : b.GetObject()) {
    auto k = js::view(m.name);
    if (!skip(k) && !js::find(a, k)) return true;
  }
  return false;
}

snapshot_ptr make_snapshot(js::Document doc, uint64_t rv) {
  auto& a = doc.GetAllocator();
  if (rv) js::set_string(metadata_of(doc), "resourceVersion", std::to_string(rv), a);
  auto s = std::make_shared<snapshot>();
  s->rv = rv;
  s->json = js::to_string(doc);
  // Stored as parsed from its text: the parser sizes every object exactly, where the members
  // decoding and defaults added left room for 16 in each (rapidjson 1.1), and the pool keeps
  // every value replaced on the way; the store holds a fraction of the memory.
  s->doc = js::parse(s->json);
  return s;
}

// Defaults the real API server fills in, where our operators or kubectl depend on them.
void apply_create_defaults(const resource_type& t, js::Document& d) {
  auto& a = d.GetAllocator();
  if (t.custom) return;
  if (t.kind == "Namespace") {
    label_namespace(d);
    auto& spec = js::ensure_object(d, "spec", a);
    js::Value fins(rapidjson::kArrayType);
    fins.PushBack("kubernetes", a);
    js::set_member(spec, "finalizers", std::move(fins), a);
    js::Value status(rapidjson::kObjectType);
    status.AddMember("phase", "Active", a);
    js::set_member(d, "status", std::move(status), a);
  } else if (t.kind == "Pod") {
    js::Value status(rapidjson::kObjectType);
    status.AddMember("phase", "Pending", a);
    status.AddMember("qosClass", js::string_value(builtin::pod_qos_class(d), a), a);
    js::set_member(d, "status", std::move(status), a);
    auto& spec = js::ensure_object(d, "spec", a);
    if (!js::find(spec, "restartPolicy")) js::set_string(spec, "restartPolicy", "Always", a);
  } else if (t.kind == "PersistentVolumeClaim") {
    js::Value status(rapidjson::kObjectType);
    status.AddMember("phase", "Pending", a);
    js::set_member(d, "status", std::move(status), a);
  } else if (t.kind == "Service") {
    auto& spec = js::ensure_object(d, "spec", a);
    if (!js::find(spec, "type")) js::set_string(spec, "type", "ClusterIP", a);
    if (!js::find(spec, "sessionAffinity")) js::set_string(spec, "sessionAffinity", "None", a);
    js::Value status(rapidjson::kObjectType);
    status.AddMember("loadBalancer", js::Value(rapidjson::kObjectType), a);
    js::set_member(d, "status", std::move(status), a);
  } else if (t.kind == "StatefulSet") {
    auto& spec = js::ensure_object(d, "spec", a);
    if (!js::find(spec, "replicas")) js::set_member(spec, "replicas", js::Value(1), a);
    if (!js::find(spec, "podManagementPolicy"))
      js::set_string(spec, "podManagementPolicy", "OrderedReady", a);
    if (!js::find(spec, "revisionHistoryLimit"))
      js::set_member(spec, "revisionHistoryLimit", js::Value(10), a);
    auto& strategy = js::ensure_object(spec, "updateStrategy", a);
    if (!js::find(strategy, "type")) {
      js::set_string(strategy, "type", "RollingUpdate", a);
      js::ensure_object(strategy, "rollingUpdate", a);
    }
    // As SetDefaults_StatefulSet: a rollingUpdate only where the type was defaulted or sent.
    auto* ru = const_cast<js::Value*>(js::find(strategy, "rollingUpdate"));
    if (ru && ru->IsObject() && js::get_string(strategy, "type") == "RollingUpdate" &&
        !js::find(*ru, "partition"))
      js::set_member(*ru, "partition", js::Value(0), a);
    js::Value status(rapidjson::kObjectType);
    status.AddMember("replicas", 0, a);
    status.AddMember("availableReplicas", 0, a);
    js::set_member(d, "status", std::move(status), a);
  } else if (t.has_status && t.kind != "CustomResourceDefinition") {
    js::remove_member(d, "status");
  }
}

void set_crd_status(js::Document& d, const resource_type& t) {
  auto& a = d.GetAllocator();
  js::Value status(rapidjson::kObjectType);
  js::Value conds(rapidjson::kArrayType);
  auto now = now_rfc3339();
  for (auto [type, reason, message] :
       {std::tuple{"NamesAccepted", "NoConflicts", "no conflicts found"},
        std::tuple{"Established", "InitialNamesAccepted",
                   "the initial names have been accepted"}}) {
    js::Value c(rapidjson::kObjectType);
    c.AddMember("type", js::string_value(type, a), a);
    c.AddMember("status", "True", a);
    c.AddMember("lastTransitionTime", js::string_value(now, a), a);
    c.AddMember("reason", js::string_value(reason, a), a);
    c.AddMember("message", js::string_value(message, a), a);
    conds.PushBack(c, a);
  }
  status.AddMember("conditions", conds, a);
  js::Value names(rapidjson::kObjectType);
  names.AddMember("plural", js::string_value(t.plural, a), a);
  names.AddMember("singular", js::string_value(t.singular, a), a);
  names.AddMember("kind", js::string_value(t.kind, a), a);
  names.AddMember("listKind", js::string_value(t.list_kind, a), a);
  if (!t.short_names.empty()) {
    js::Value sn(rapidjson::kArrayType);
    for (auto& s : t.short_names) sn.PushBack(js::string_value(s, a), a);
    names.AddMember("shortNames", sn, a);
  }
  if (!t.categories.empty()) {
    js::Value cats(rapidjson::kArrayType);
    for (auto& s : t.categories) cats.PushBack(js::string_value(s, a), a);
    names.AddMember("categories", cats, a);
  }
  status.AddMember("acceptedNames", names, a);
  js::Value stored(rapidjson::kArrayType);
  stored.PushBack(js::string_value(t.storage_version(), a), a);
  status.AddMember("storedVersions", stored, a);
  js::set_member(d, "status", std::move(status), a);
}

// The etcd key of an object as the real registry names it (storage errors quote it).
std::string registry_key(const resource_type& t, const std::string& ns, const std::string& name) {
  std::string prefix = t.plural;
  if (t.custom || t.group == "apiextensions.k8s.io")
    prefix = t.group + "/" + t.plural;
  else if (t.group.empty() && (t.plural == "services" || t.plural == "endpoints"))
    prefix = t.plural == "services" ? "services/specs" : "services/endpoints";
  return "/registry/" + prefix + "/" + (t.namespaced ? ns + "/" : "") + name;
}

constexpr const char* crd_cleanup_finalizer = "customresourcecleanup.apiextensions.k8s.io";

// After set_crd_status on an update: a condition that keeps its status keeps its
// lastTransitionTime (so an unchanged CRD stays equal), and Terminating stays.
void keep_crd_conditions(js::Document& d, const js::Value& prev) {
  const js::Value* before = js::find_path(prev, {"status", "conditions"});
  js::Value* now = js::find(d, "status")
                       ? const_cast<js::Value*>(js::find_path(d, {"status", "conditions"}))
                       : nullptr;
  if (!before || !now || !before->IsArray() || !now->IsArray()) return;
  auto& a = d.GetAllocator();
  for (auto& c : now->GetArray())
    for (const auto& b : before->GetArray())
      if (js::get_string(b, "type") == js::get_string(c, "type") &&
          js::get_string(b, "status") == js::get_string(c, "status"))
        if (const js::Value* ts = js::find(b, "lastTransitionTime"))
          js::set_member(c, "lastTransitionTime", js::Value(*ts, a), a);
  for (const auto& b : before->GetArray())
    if (js::get_string(b, "type") == "Terminating") now->PushBack(js::Value(b, a), a);
}

void add_crd_terminating_condition(js::Document& d) {
  auto& a = d.GetAllocator();
  auto& status = js::ensure_object(d, "status", a);
  if (!js::find(status, "conditions"))
    js::set_member(status, "conditions", js::Value(rapidjson::kArrayType), a);
  js::Value c(rapidjson::kObjectType);
  c.AddMember("type", "Terminating", a);
  c.AddMember("status", "True", a);
  c.AddMember("lastTransitionTime", js::string_value(now_rfc3339(), a), a);
  c.AddMember("reason", "InstanceDeletionPending", a);
  c.AddMember(
      "message",
      "CustomResourceDefinition marked for deletion; CustomResource deletion will begin soon", a);
  status["conditions"].PushBack(c, a);
}

std::string encode_continue(uint64_t rv, const std::string& ns, const std::string& name) {
  std::string raw = fmt::format("{{\"v\":\"meta.k8s.io/v1\",\"rv\":{},\"start\":\"{}/{}\\u0000\"}}",
                                rv, ns, name);
  return k8s::base64_encode(raw, true);
}

struct continue_point {
  uint64_t rv;
  std::string ns, name;
};

continue_point decode_continue(const std::string& token) {
  try {
    auto bytes = k8s::base64_decode(token, true);
    if (!bytes) throw std::runtime_error("bad");
    auto d = js::parse(*bytes);
    std::string start(js::get_string(d, "start"));
    if (!start.empty() && start.back() == '\0') start.pop_back();
    auto slash = start.find('/');
    const js::Value* rv = js::find(d, "rv");
    if (slash == std::string::npos || !rv || !rv->IsUint64()) throw std::runtime_error("bad");
    return {rv->GetUint64(), start.substr(0, slash), start.substr(slash + 1)};
  } catch (const std::exception&) {
    throw bad_request("continue key is not valid: illegal base64 data at input byte 0");
  }
}

label_selector parse_labels(const std::string& s) {
  try {
    return label_selector::parse(s);
  } catch (const selector_error& e) {
    throw bad_request(e.what());
  }
}

field_selector parse_fields(const resource_type& t, const std::string& s) {
  try {
    auto f = field_selector::parse(s);
    validate_fields(f, t.kind, t.custom);
    return f;
  } catch (const selector_error& e) {
    throw bad_request(e.what());
  }
}

}  // namespace

const std::string& watch_event::line() const {
  if (!json_line) {
    auto s = std::make_shared<std::string>();
    s->reserve(object->json.size() + 32);
    s->append("{\"type\":\"").append(type).append("\",\"object\":");
    s->append(object->json).append("}\n");
    json_line = std::move(s);
  }
  return *json_line;
}

cluster_state::cluster_state(std::string name, size_t history_limit,
                             std::function<void(std::function<void()>)> defer,
                             std::string root_ca_pem)
    : name_(std::move(name)),
      history_limit_(history_limit),
      defer_(std::move(defer)),
      root_ca_pem_(std::move(root_ca_pem)) {
  // Every cluster starts with the namespaces kubeadm creates and the kubernetes Service.
  const resource_type* ns_type = types_.find("", "v1", "namespaces");
  for (const char* ns : {"default", "kube-system", "kube-public", "kube-node-lease"}) {
    auto d = js::parse(
        fmt::format(R"({{"apiVersion":"v1","kind":"Namespace","metadata":{{"name":"{}"}}}})", ns));
    create_locked(*ns_type, "", std::move(d), {});
  }
  create_locked(*types_.find("", "v1", "services"), "default", kubernetes_service(), {});
  create_locked(*types_.find("", "v1", "endpoints"), "default", kubernetes_endpoints(), {});
}

std::optional<resource_type> cluster_state::find_type(const std::string& group,
                                                      const std::string& version,
                                                      const std::string& plural) const {
  std::lock_guard lock(mutex_);
  const resource_type* t = types_.find(group, version, plural);
  if (!t) return std::nullopt;
  return *t;
}

std::vector<resource_type> cluster_state::types() const {
  std::lock_guard lock(mutex_);
  std::vector<resource_type> out;
  for (const auto* t : types_.all()) out.push_back(*t);
  return out;
}

uint64_t cluster_state::types_revision() const {
  std::lock_guard lock(mutex_);
  return types_.revision();
}

uint64_t cluster_state::current_rv() const {
  std::lock_guard lock(mutex_);
  return rv_;
}

const snapshot_ptr* cluster_state::find_locked(const resource_type& t, const std::string& ns,
                                               const std::string& name) const {
  auto it = objects_.find(t.id());
  if (it == objects_.end()) return nullptr;
  auto o = it->second.find({t.namespaced ? ns : std::string(), name});
  return o == it->second.end() ? nullptr : &o->second;
}

const snapshot_ptr* cluster_state::find_by_ref(const object_ref& r) const {
  auto it = objects_.find(r.type_id);
  if (it == objects_.end()) return nullptr;
  auto o = it->second.find({r.ns, r.name});
  return o == it->second.end() ? nullptr : &o->second;
}

snapshot_ptr cluster_state::get(const resource_type& t, const std::string& ns,
                                const std::string& name) const {
  std::lock_guard lock(mutex_);
  const snapshot_ptr* p = find_locked(t, ns, name);
  if (!p) throw not_found_error(t, name);
  return *p;
}

list_result cluster_state::list(const resource_type& t, const std::string& ns,
                                const list_options& o) const {
  auto labels = parse_labels(o.label_selector);
  auto fields = parse_fields(t, o.field_selector);
  std::lock_guard lock(mutex_);
  list_result r;
  r.rv = rv_;
  std::pair<std::string, std::string> start;
  bool after_start = false;
  if (!o.continue_token.empty()) {
    auto c = decode_continue(o.continue_token);
    if (c.rv < compacted_rv_)
      throw gone(
          "The provided continue parameter is too old to display a consistent list result. You "
          "can start a new list without the continue parameter, or use the continue token in "
          "this response to retrieve the remainder of the results. Continuing with the provided "
          "token results in an inconsistent list - objects that were created, modified, or "
          "deleted between the time the first chunk was returned and now may show up in the "
          "list.");
    r.rv = c.rv;
    start = {c.ns, c.name};
    after_start = true;
  }
  if (o.exact_rv) {
    // The etcd3 store reads at that revision: a future one is etcd's own error (a 500 without
    // reason), a compacted one 410 Expired (interpretListError).
    if (*o.exact_rv > rv_)
      throw api_error(500, "", "etcdserver: mvcc: required revision is a future revision");
    if (*o.exact_rv < compacted_rv_)
      throw gone("The resourceVersion for the provided list is too old.");
    r.rv = *o.exact_rv;
  }
  auto it = objects_.find(t.id());
  static const object_map none;
  const object_map* current = it == objects_.end() ? &none : &it->second;
  // A continued list reads the snapshot of its first page (as etcd does at that revision): the
  // current objects with the later history undone.
  object_map snapshot_view;
  if (r.rv < rv_) {
    snapshot_view = *current;
    for (auto h = history_.rbegin(); h != history_.rend() && h->event.rv > r.rv; ++h) {
      if (h->type_id != t.id()) continue;
      const auto& doc = h->event.object->doc;
      std::pair<std::string, std::string> key{t.namespaced ? meta_string(doc, "namespace") : "",
                                              meta_string(doc, "name")};
      if (!h->old)
        snapshot_view.erase(key);
      else
        snapshot_view[key] = h->old;
    }
    current = &snapshot_view;
  }
  const auto& objs = *current;
  auto pos = after_start ? objs.upper_bound(start) : objs.begin();
  long long remaining = 0;
  for (; pos != objs.end(); ++pos) {
    if (t.namespaced && !ns.empty() && pos->first.first != ns) continue;
    const auto& doc = pos->second->doc;
    if (!labels.matches(js::find_path(doc, {"metadata", "labels"})) || !fields.matches(doc))
      continue;
    if (o.limit && r.items.size() >= o.limit) {
      if (r.continue_token.empty()) {
        const auto& last = r.items.back()->doc;
        r.continue_token = encode_continue(r.rv, t.namespaced ? meta_string(last, "namespace") : "",
                                           meta_string(last, "name"));
      }
      ++remaining;
      continue;
    }
    r.items.push_back(pos->second);
  }
  // etcd counts the rest only for an unfiltered list.
  if (!r.continue_token.empty() && o.label_selector.empty() && o.field_selector.empty())
    r.remaining = remaining;
  return r;
}

// The NamespaceLifecycle admission plugin; `name` is the object's name (or generateName) as sent.
void cluster_state::require_namespace(const resource_type& t, const std::string& ns,
                                      const std::string& name) const {
  if (!t.namespaced) return;
  const resource_type* ns_type = types_.find("", "v1", "namespaces");
  const snapshot_ptr* n = find_locked(*ns_type, "", ns);
  if (!n) throw not_found("namespaces", "", "namespaces", ns);
  if (has_deletion_timestamp((*n)->doc)) {
    auto e = forbidden(fmt::format(
        "{} \"{}\" is forbidden: unable to create new content in namespace {} because it is being "
        "terminated",
        resource_name(t), name, ns));
    e.name = name;
    e.group = t.group;
    e.kind = t.plural;
    e.causes.push_back({"NamespaceTerminating", fmt::format("namespace {} is being terminated", ns),
                        "metadata.namespace"});
    throw e;
  }
}

namespace {

// The one decoding step of every write: a custom resource with its CRD's schema, a built-in
// kind with its Go types (builtin_decode.h). Returns the strict decoding errors. As in the real
// handlers, a built-in's defaults and validation come after this step, on the decoded object.
std::vector<std::string> decode_object(const resource_type& t, const std::string& version,
                                       js::Document& obj, bool strategic = false) {
  if (t.custom) return custom_resources::decode(t, version, obj);
  return builtin_decode::decode(t, obj, strategic);
}

// The object a patch produced through the decoder (patch.go jsonPatcher): fieldValidation on the
// patch's and the object's strict errors, a 422 about the whole patched object under Strict.
// Server-side apply reports nothing here: its unknown fields failed earlier.
void decode_patched(const resource_type& t, js::Document& patched, std::vector<std::string> errors,
                    const write_options& o, bool apply,
                    const js::Value* strategic_patch = nullptr) {
  // The patched object as it was before decoding, for the error (only Strict needs it); a
  // strategic merge patch names the patch instead, as Go prints it (applyPatchToObject).
  std::string before = strategic_patch ? builtin_decode::go_map_print(*strategic_patch)
                       : o.validation == field_validation::strict ? js::to_string(patched)
                                                                  : "";
  auto invalid_patch = [&](const std::string& why) {
    return custom_resources::invalid_patch(before.empty() ? js::to_string(patched) : before, why);
  };
  try {
    auto decoded = decode_object(t, o.version, patched, strategic_patch != nullptr);
    errors.insert(errors.end(), decoded.begin(), decoded.end());
  } catch (const crd::decode_error& e) {
    throw invalid_patch(e.what());
  }
  if (!apply) custom_resources::enforce_field_validation(errors, o, invalid_patch);
}

// ValidateObjectMetaAccessor's checks of a new object (generateName, name, labels, annotations,
// owner references, finalizers), then, for a custom resource, its schema's.
std::vector<status_cause> create_causes(const resource_type& t, const js::Value& obj,
                                        const std::string& generate, const write_options& o) {
  std::vector<status_cause> causes;
  if (!generate.empty())
    for (auto& e : validate_object_name(t.group, t.kind, generate, true))
      causes.push_back(field::invalid("metadata.generateName", field::go_quote(generate), e));
  const std::string name = meta_string(obj, "name");
  if (name.empty())
    causes.push_back(field::required("metadata.name", "name or generateName is required"));
  else
    for (auto& e : validate_object_name(t.group, t.kind, name, false))
      causes.push_back(field::invalid("metadata.name", field::go_quote(name), e));
  if (const js::Value* meta = js::find(obj, "metadata"))
    for (auto& c : validate_metadata_contents(*meta, "metadata")) causes.push_back(std::move(c));
  if (t.custom)
    for (auto& c : custom_resources::validate_create(t, o.version, obj))
      causes.push_back(std::move(c));
  else
    for (auto& c : builtin::validate_create(t, obj)) causes.push_back(std::move(c));
  return causes;
}

// ValidateObjectMetaAccessorUpdate's checks of labels, annotations and owner references, then a
// custom resource's schema (with ratcheting); a status write checks the status schema only.
std::vector<status_cause> update_causes(const resource_type& t, const js::Value& obj,
                                        const js::Value& old, bool status_only,
                                        const write_options& o) {
  if (status_only)
    return t.custom ? custom_resources::validate_status_update(t, o.version, obj, old)
                    : builtin::validate_status_update(t, obj, old);
  std::vector<status_cause> causes;
  if (const js::Value* meta = js::find(obj, "metadata"))
    causes = validate_metadata_contents(*meta, "metadata", false);
  if (t.custom)
    for (auto& c : custom_resources::validate_update(t, o.version, obj, old))
      causes.push_back(std::move(c));
  else
    for (auto& c : builtin::validate_update(t, obj, old)) causes.push_back(std::move(c));
  return causes;
}

// A create or update body through the decoder (a custom resource's pruned and defaulted, a
// built-in's as its Go struct takes it), fieldValidation applied to its unknown and duplicate
// fields (a 400 under Strict).
void decode_body(const resource_type& t, js::Document& body, const write_options& o) {
  auto cannot_be_handled = [&](const std::string& why) {
    return custom_resources::cannot_be_handled(t, o.version, why);
  };
  try {
    custom_resources::enforce_field_validation(decode_object(t, o.version, body), o,
                                               cannot_be_handled);
  } catch (const crd::decode_error& e) {
    throw cannot_be_handled(e.what());
  }
}

}  // namespace

cluster_state::write_result cluster_state::create(const resource_type& t, const std::string& ns,
                                                  js::Document body, const write_options& o) {
  decode_body(t, body, o);
  std::lock_guard lock(mutex_);
  return create_locked(t, ns, std::move(body), o);
}

cluster_state::write_result cluster_state::create_locked(const resource_type& t,
                                                         const std::string& ns, js::Document body,
                                                         const write_options& o) {
  if (!body.IsObject()) throw bad_request("the body of the request was in an unknown format");
  if (t.custom) {
    const resource_type* crd_type =
        types_.find("apiextensions.k8s.io", "v1", "customresourcedefinitions");
    const snapshot_ptr* crd = crd_type ? find_locked(*crd_type, "", t.id()) : nullptr;
    if (crd && has_deletion_timestamp((*crd)->doc)) {
      auto e =
          method_not_allowed("create not allowed while custom resource definition is terminating");
      e.group = t.group;
      e.kind = t.plural;
      throw e;
    }
  }
  auto& a = body.GetAllocator();
  // Before taking a reference to metadata: adding members may move the object's storage.
  js::set_string(body, "apiVersion", t.group_version(t.storage_version()), a);
  js::set_string(body, "kind", t.kind, a);
  // A built-in kind's defaults (every decode), then a new Pod's mutating admission.
  builtin::apply_defaults(t, body, a);
  if (!t.custom && t.group.empty() && t.kind == "Pod") builtin::admit_pod_create(body, a);
  auto& meta = metadata_of(body);
  std::string name(js::get_string(meta, "name"));
  std::string generate(js::get_string(meta, "generateName"));
  if (t.namespaced) {
    std::string body_ns(js::get_string(meta, "namespace"));
    if (!body_ns.empty() && body_ns != ns)
      throw bad_request(
          "the namespace of the provided object does not match the namespace sent on the request");
    js::set_string(meta, "namespace", ns, a);
  } else {
    js::remove_member(meta, "namespace");
  }
  // Admission (before validation and name generation) checks the namespace.
  require_namespace(t, ns, !name.empty() ? name : !generate.empty() ? generate : "Unknown");
  if (name.empty() && !generate.empty()) {
    // names.SimpleNameGenerator: at most 58 characters of the prefix, then 5 random ones.
    do {
      name = generate.substr(0, 58) + random_suffix(5);
    } while (find_locked(t, ns, name));
    js::set_string(meta, "name", name, a);
  }
  // PrepareForCreate drops the status of a resource with a status subresource; Validate follows.
  if (t.custom && t.has_status) js::remove_member(body, "status");
  auto causes = create_causes(t, body, generate, o);
  if (!causes.empty()) throw invalid(t.kind, t.group, name, std::move(causes));
  // The etcd store refuses it (storage.ErrResourceVersionSetOnCreate, a plain error: 500).
  if (std::string rv(js::get_string(meta, "resourceVersion")); !rv.empty() && rv != "0")
    throw api_error(500, "", "resourceVersion should not be set on objects to be created");
  if (find_locked(t, ns, name)) throw already_exists(resource_name(t), t.group, t.plural, name);

  // Server-set fields: whatever the client sent is replaced.
  js::set_string(meta, "uid", new_uid(), a);
  js::set_string(meta, "creationTimestamp", now_rfc3339(), a);
  for (auto k : {"deletionTimestamp", "deletionGracePeriodSeconds", "selfLink", "resourceVersion"})
    js::remove_member(meta, k);
  // The create handler's FieldManager.UpdateNoErrors, after decoding (defaults are owned).
  ssa::managed_input managed = o.managed_fields_final
                                   ? ssa::managed_input{}
                                   : ssa::read_request_managed(body, nullptr, false);
  if (t.tracks_generation)
    js::set_member(meta, "generation", js::Value(1), a);
  else
    js::remove_member(meta, "generation");
  apply_create_defaults(t, body);
  if (!o.managed_fields_final) field_manager(t, o, false).track(nullptr, managed, body);

  std::optional<resource_type> new_type;
  if (t.kind == "CustomResourceDefinition" && t.group == "apiextensions.k8s.io") {
    new_type = type_from_crd(body);
    if (types_.find_by_id(new_type->id()) && !types_.find_by_id(new_type->id())->custom)
      throw invalid(t.kind, t.group, name,
                    {{"FieldValueInvalid",
                      "spec.group: Invalid value: \"" + new_type->group + "\": is a built-in group",
                      "spec.group"}});
    set_crd_status(body, *new_type);
  }
  if (!t.custom && t.kind == "Service") {
    assign_cluster_ip(t, body, o.dry_run);
    builtin::set_service_ip_families(body, a);
  }
  if (o.dry_run) return {make_snapshot(std::move(body), 0), true};
  auto snap = commit(t, std::move(body), nullptr, false);
  if (new_type) types_.add_custom(std::move(*new_type));
  return {snap, true};
}

// `old` by value: callers often pass a reference into the map entry this overwrites.
snapshot_ptr cluster_state::commit(const resource_type& t, js::Document doc, snapshot_ptr old,
                                   bool deleted) {
  ++rv_;
  auto snap = make_snapshot(std::move(doc), rv_);
  std::string ns = t.namespaced ? meta_string(snap->doc, "namespace") : "";
  std::string name = meta_string(snap->doc, "name");
  auto& objs = objects_of(t);
  if (deleted)
    objs.erase({ns, name});
  else
    objs[{ns, name}] = snap;
  index_owners(t.id(), old, deleted ? nullptr : snap);
  publish(t, deleted ? "DELETED" : (old ? "MODIFIED" : "ADDED"), snap, old);
  if (!deleted && owners_may_be_dangling(snap->doc, ns))
    defer_([this, ref = object_ref{t.id(), ns, name}] { collect_if_owners_absent(ref); });
  if (!t.custom) after_commit(t, snap, old, deleted);
  return snap;
}

// The ClusterIP allocator of the Service REST storage: an address from the range, or the one
// asked for when it is free; "None" is a headless Service.
void cluster_state::assign_cluster_ip(const resource_type& t, js::Document& service, bool dry_run) {
  auto& a = service.GetAllocator();
  auto& spec = js::ensure_object(service, "spec", a);
  if (js::get_string(spec, "type") == "ExternalName") return;
  std::string ip(js::get_string(spec, "clusterIP"));
  if (ip.empty()) {
    const js::Value* ips = js::find(spec, "clusterIPs");
    if (ips && ips->IsArray() && !ips->Empty() && (*ips)[0].IsString()) ip = (*ips)[0].GetString();
  }
  if (ip.empty()) {
    if (dry_run) return;
    try {
      ip = cluster_ips_.allocate();
    } catch (const std::runtime_error&) {
      throw api_error(500, "InternalError",
                      "Internal error occurred: failed to allocate a serviceIP: range is full");
    }
  } else if (ip != "None" && !dry_run && !cluster_ips_.reserve(ip)) {
    throw invalid(t.kind, t.group, meta_string(service, "name"),
                  {{"FieldValueInvalid",
                    fmt::format("spec.clusterIPs: Invalid value: []string{{\"{0}\"}}: failed to "
                                "allocate IP {0}: provided IP is already allocated",
                                ip),
                    "spec.clusterIPs"}});
  }
  js::set_string(spec, "clusterIP", ip, a);
  js::Value list(rapidjson::kArrayType);
  list.PushBack(js::Value(ip.c_str(), a), a);
  js::set_member(spec, "clusterIPs", std::move(list), a);
}

// What the controllers and the allocator do after a built-in object changes: a new namespace
// gets its default objects, a deleted or edited one is put back, a deleted Service frees its IP.
void cluster_state::after_commit(const resource_type& t, const snapshot_ptr& now,
                                 const snapshot_ptr& old, bool deleted) {
  if (!t.group.empty()) return;
  const std::string ns = meta_string(now->doc, "namespace");
  const std::string name = meta_string(now->doc, "name");
  if (t.kind == "Namespace" && !old && !deleted) {
    defer_([this, name] { ensure_namespace_defaults(name); });
  } else if (t.kind == "Service" && deleted) {
    cluster_ips_.release(std::string(js::get_string(now->doc, {"spec", "clusterIP"})));
  } else if ((t.kind == "ServiceAccount" && name == "default" && deleted) ||
             (t.kind == "ConfigMap" && name == root_ca_config_map_name)) {
    defer_([this, ns] { ensure_namespace_defaults(ns); });
  }
}

// The ServiceAccount controller and the root-ca-cert-publisher of one namespace: create what is
// missing, put back what was changed, nothing in a namespace being deleted.
void cluster_state::ensure_namespace_defaults(const std::string& ns) {
  std::lock_guard lock(mutex_);
  const resource_type* ns_type = types_.find("", "v1", "namespaces");
  const snapshot_ptr* n = find_locked(*ns_type, "", ns);
  if (!n || has_deletion_timestamp((*n)->doc)) return;
  const resource_type sa_type = *types_.find("", "v1", "serviceaccounts");
  if (!find_locked(sa_type, ns, "default"))
    create_locked(sa_type, ns, default_service_account(ns), {});
  if (root_ca_pem_.empty()) return;
  const resource_type cm_type = *types_.find("", "v1", "configmaps");
  const snapshot_ptr* cm = find_locked(cm_type, ns, root_ca_config_map_name);
  if (!cm) {
    create_locked(cm_type, ns, root_ca_config_map(ns, root_ca_pem_), {});
  } else if (js::get_string((*cm)->doc, {"data", "ca.crt"}) != root_ca_pem_) {
    js::Document d = copy_of((*cm)->doc);
    auto& data = js::ensure_object(d, "data", d.GetAllocator());
    js::set_string(data, "ca.crt", root_ca_pem_, d.GetAllocator());
    write_update(cm_type, *cm, std::move(d), false, false, {});
  }
}

void cluster_state::index_owners(const std::string& type_id, const snapshot_ptr& old,
                                 const snapshot_ptr& now) {
  const snapshot_ptr& any = now ? now : old;
  object_ref ref{type_id, meta_string(any->doc, "namespace"), meta_string(any->doc, "name")};
  if (old)
    for (auto& uid : owner_uids(old->doc)) {
      auto it = dependents_.find(uid);
      if (it != dependents_.end() && (it->second.erase(ref), it->second.empty()))
        dependents_.erase(it);
    }
  if (now)
    for (auto& uid : owner_uids(now->doc)) dependents_[uid].insert(ref);
  std::string uid = meta_string(any->doc, "uid");
  if (now)
    by_uid_[uid] = ref;
  else
    by_uid_.erase(uid);
}

namespace {
// Which event a watcher sees for a change, given its filter: selector transitions turn a
// MODIFIED into ADDED or DELETED, as the real watch cache does.
template <class Match>
const char* transition(const char* raw, const snapshot_ptr& now, const snapshot_ptr& old,
                       Match&& match) {
  if (raw[0] == 'D') return match(*now) ? "DELETED" : nullptr;
  bool m_now = match(*now);
  bool m_old = old && match(*old);
  if (m_now && m_old) return "MODIFIED";
  if (m_now) return "ADDED";
  if (m_old) return "DELETED";
  return nullptr;
}
}  // namespace

void cluster_state::publish(const resource_type& t, const char* type, const snapshot_ptr& now,
                            const snapshot_ptr& old) {
  history_.push_back({t.id(), watch_event{type, now, now->rv, nullptr}, old});
  while (history_.size() > history_limit_) {
    compacted_rv_ = history_.front().event.rv;
    history_.pop_front();
  }
  const watch_event& shared = history_.back().event;
  std::vector<uint64_t> gone_watchers;
  for (auto& [id, w] : watchers_) {
    if (w.type_id != t.id() || now->rv <= w.from_rv) continue;
    auto match = [&](const snapshot& s) {
      if (!w.namespace_name.empty() && meta_string(s.doc, "namespace") != w.namespace_name)
        return false;
      return w.labels.matches(js::find_path(s.doc, {"metadata", "labels"})) &&
             w.fields.matches(s.doc);
    };
    const char* seen = transition(type, now, old, match);
    if (!seen) continue;
    bool alive = seen == type ? w.sink->deliver(shared)
                              : w.sink->deliver(watch_event{seen, now, now->rv, nullptr});
    if (!alive) gone_watchers.push_back(id);
  }
  for (auto id : gone_watchers) watchers_.erase(id);
}

uint64_t cluster_state::watch(const resource_type& t, const watch_options& o,
                              std::shared_ptr<watch_sink> sink) {
  watcher w{0,
            t.id(),
            t.namespaced ? o.namespace_name : "",
            parse_labels(o.label_selector),
            parse_fields(t, o.field_selector),
            sink,
            o.from_rv.value_or(0)};
  std::lock_guard lock(mutex_);
  auto match = [&](const snapshot& s) {
    if (!w.namespace_name.empty() && meta_string(s.doc, "namespace") != w.namespace_name)
      return false;
    return w.labels.matches(js::find_path(s.doc, {"metadata", "labels"})) &&
           w.fields.matches(s.doc);
  };
  if (o.from_now) {
    // No initial state: the events after now only.
  } else if (o.from_rv) {
    if (*o.from_rv < compacted_rv_)
      throw gone(fmt::format("too old resource version: {} ({})", *o.from_rv, compacted_rv_ + 1));
    for (const auto& h : history_) {
      if (h.event.rv <= *o.from_rv || h.type_id != w.type_id) continue;
      const char* seen = transition(h.event.type, h.event.object, h.old, match);
      if (!seen) continue;
      bool alive = seen == h.event.type
                       ? sink->deliver(h.event)
                       : sink->deliver(watch_event{seen, h.event.object, h.event.rv, nullptr});
      if (!alive) return 0;
    }
  } else if (auto it = objects_.find(w.type_id); it != objects_.end()) {
    for (const auto& [key, snap] : it->second) {
      if (!match(*snap)) continue;
      if (!sink->deliver(watch_event{"ADDED", snap, snap->rv, nullptr})) return 0;
    }
  }
  if (o.initial_events_end_bookmark &&
      !sink->deliver(watch_event{"BOOKMARK", nullptr, rv_, nullptr, true}))
    return 0;
  w.id = next_watch_id_++;
  watchers_.emplace(w.id, std::move(w));
  return next_watch_id_ - 1;
}

void cluster_state::unwatch(uint64_t id) {
  std::lock_guard lock(mutex_);
  watchers_.erase(id);
}

void cluster_state::send_bookmark(uint64_t id) {
  std::lock_guard lock(mutex_);
  auto it = watchers_.find(id);
  if (it == watchers_.end() || rv_ < it->second.from_rv) return;
  if (!it->second.sink->deliver(watch_event{"BOOKMARK", nullptr, rv_, nullptr}))
    watchers_.erase(it);
}

void cluster_state::compact() {
  std::lock_guard lock(mutex_);
  history_.clear();
  compacted_rv_ = rv_;
}

snapshot_ptr cluster_state::update(const resource_type& t, const std::string& ns,
                                   const std::string& name, js::Document body, bool status_only,
                                   const write_options& o) {
  if (!body.IsObject()) throw bad_request("the body of the request was in an unknown format");
  decode_body(t, body, o);
  std::lock_guard lock(mutex_);
  const snapshot_ptr* cur = find_locked(t, ns, name);
  if (!cur) throw not_found_error(t, name);
  std::string body_name(js::get_string(body, {"metadata", "name"}));
  if (body_name != name)
    throw bad_request(fmt::format(
        "the name of the object ({}) does not match the name on the URL ({})", body_name, name));
  // A uid in the body is a storage precondition (rest.DefaultUpdatedObjectInfo), checked first.
  std::string body_uid(js::get_string(body, {"metadata", "uid"}));
  std::string cur_uid = meta_string((*cur)->doc, "uid");
  if (!body_uid.empty() && body_uid != cur_uid)
    throw conflict(
        resource_name(t), t.group, t.plural, name,
        fmt::format("StorageError: invalid object, Code: 4, Key: {}, ResourceVersion: 0, "
                    "AdditionalErrorMsg: Precondition failed: UID in precondition: {}, UID "
                    "in object meta: {}",
                    registry_key(t, ns, name), body_uid, cur_uid));
  std::string rv(js::get_string(body, {"metadata", "resourceVersion"}));
  if (rv.empty() && t.custom)
    throw invalid(t.kind, t.group, name,
                  {{"FieldValueInvalid",
                    "metadata.resourceVersion: Invalid value: 0x0: must be specified for an update",
                    "metadata.resourceVersion"}});
  if (!rv.empty() && rv != std::to_string((*cur)->rv))
    throw conflict(resource_name(t), t.group, t.plural, name,
                   "the object has been modified; please apply your changes to the latest version "
                   "and try again");
  return write_update(t, *cur, std::move(body), status_only, false, o);
}

cluster_state::write_result cluster_state::patch(const resource_type& t, const std::string& ns,
                                                 const std::string& name, patch_type type,
                                                 std::string_view body, bool status_only,
                                                 const write_options& o) {
  if (type == patch_type::strategic && t.custom)
    throw unsupported_media_type(
        "the body of the request was in an unknown format - accepted media types include: "
        "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml");
  if (type == patch_type::apply && o.field_manager.empty())  // ValidatePatchOptions
    throw invalid("PatchOptions", "meta.k8s.io", "",
                  {{"FieldValueRequired",
                    "fieldManager: Required value: is required for apply patch", "fieldManager"}});
  js::Document patch = parse_patch(type, body);
  // Strict decoding of the patch itself: its duplicate keys (the last one wins).
  std::vector<std::string> patch_errors;
  if (type != patch_type::apply)
    for (const auto& path : crd::drop_duplicate_fields(patch))
      patch_errors.push_back(fmt::format("{}duplicate field {}",
                                         type == patch_type::json ? "json patch " : "",
                                         field::go_quote(path)));
  if (t.custom && type == patch_type::apply)
    custom_resources::check_apply_patch(t, o.version, patch);
  else if (type == patch_type::apply)
    builtin_decode::check_apply_patch(t, patch);
  std::lock_guard lock(mutex_);
  const snapshot_ptr* cur = find_locked(t, ns, name);
  if (!cur) {
    if (type != patch_type::apply || status_only) throw not_found_error(t, name);
    if (!patch.IsObject()) throw bad_request("apply patch body must be an object");
    auto& meta = metadata_of(patch);
    if (js::get_string(meta, "name") != name)
      throw bad_request("the name of the object does not match the name on the URL");
    js::remove_member(meta, "resourceVersion");  // not a create's precondition failure here
    write_options applied = o;
    applied.managed_fields_final = true;
    js::Document created = field_manager(t, o, false).apply(nullptr, patch, o.force).object;
    decode_patched(t, created, {}, o, true);
    if (t.stored_as)
      return create_locked(*types_.find_by_id(t.id()), ns, t.stored_as->to_storage(created),
                           applied);
    return create_locked(t, ns, std::move(created), applied);
  }
  // A kind stored as another (events.k8s.io Events) is patched in its own form.
  js::Document next = t.stored_as ? t.stored_as->from_storage((*cur)->doc) : copy_of((*cur)->doc);
  const js::Document live = t.stored_as ? copy_of(next) : js::Document();
  write_options written = o;
  if (type == patch_type::apply) {
    if (!patch.IsObject()) throw bad_request("apply patch body must be an object");
    // Server-side apply: merged by the schema, owned, pruned (structured_merge.h).
    auto applied =
        field_manager(t, o, status_only).apply(t.stored_as ? &live : &(*cur)->doc, patch, o.force);
    next.Swap(applied.object);
    written.managed_fields_final = true;
  } else {
    apply_patch(next, type, patch, strategic_merge_type(t, o.version));
  }
  if (!next.IsObject()) throw bad_request("the patch turned the object into a non-object");
  decode_patched(t, next, patch_errors, o, type == patch_type::apply,
                 type == patch_type::strategic ? &patch : nullptr);
  if (t.stored_as) next = t.stored_as->to_storage(next);
  // A patch checks the resourceVersion only when it sets one itself.
  std::string rv(js::get_string(next, {"metadata", "resourceVersion"}));
  if (!rv.empty() && rv != std::to_string((*cur)->rv))
    throw conflict(resource_name(t), t.group, t.plural, name,
                   "the object has been modified; please apply your changes to the latest version "
                   "and try again");
  return {write_update(t.stored_as ? *types_.find_by_id(t.id()) : t, *cur, std::move(next),
                       status_only, false, written),
          false};
}

snapshot_ptr cluster_state::bind_pod(const std::string& ns, const std::string& name,
                                     const std::string& node, const std::string& uid) {
  std::lock_guard lock(mutex_);
  const resource_type& t = *types_.find("", "v1", "pods");
  const snapshot_ptr* cur = find_locked(t, ns, name);
  if (!cur) throw not_found_error(t, name);
  snapshot_ptr old = *cur;
  auto refuse = [&](const std::string& why) {
    return conflict(resource_name(t), t.group, t.plural, name, why);
  };
  if (!uid.empty() && meta_string(old->doc, "uid") != uid)
    throw refuse(fmt::format("Precondition failed: UID in precondition: {}, UID in object meta: {}",
                             uid, meta_string(old->doc, "uid")));
  if (has_deletion_timestamp(old->doc))
    throw refuse(fmt::format("pod {} is being deleted, cannot be assigned to a host", name));
  if (auto bound = js::get_string(old->doc, {"spec", "nodeName"}); !bound.empty())
    throw refuse(fmt::format("pod {} is already assigned to node \"{}\"", name, bound));
  js::Document next = copy_of(old->doc);
  auto& a = next.GetAllocator();
  js::set_string(js::ensure_object(next, "spec", a), "nodeName", node, a);
  auto& status = js::ensure_object(next, "status", a);
  if (!js::find(status, "conditions") || !js::find(status, "conditions")->IsArray())
    js::set_member(status, "conditions", js::Value(rapidjson::kArrayType), a);
  js::Value cond(rapidjson::kObjectType);
  cond.AddMember("type", "PodScheduled", a);
  cond.AddMember("status", "True", a);
  cond.AddMember("lastProbeTime", js::Value(), a);
  cond.AddMember("lastTransitionTime", js::string_value(now_rfc3339(), a), a);
  const_cast<js::Value*>(js::find(status, "conditions"))->PushBack(cond, a);
  return commit(t, std::move(next), old, false);
}

snapshot_ptr cluster_state::write_update(const resource_type& t, const snapshot_ptr& old,
                                         js::Document next, bool status_only, bool,
                                         const write_options& o) {
  auto& a = next.GetAllocator();
  const js::Value& prev = old->doc;
  std::string name = meta_string(prev, "name");
  // The managedFields an update starts from, read before the request's are dropped.
  ssa::managed_input managed = o.managed_fields_final
                                   ? ssa::managed_input{}
                                   : ssa::read_request_managed(next, &prev, status_only);
  js::Document result;
  if (status_only) {
    // The status subresource takes only status; everything else stays as stored.
    result = copy_of(prev);
    if (const js::Value* st = js::find(next, "status"))
      js::set_member(result, "status", js::Value(*st, result.GetAllocator()),
                     result.GetAllocator());
    else
      js::remove_member(result, "status");
    if (const js::Value* mf = js::find_path(next, {"metadata", "managedFields"});
        mf && o.managed_fields_final)
      js::set_member(metadata_of(result), "managedFields", js::Value(*mf, result.GetAllocator()),
                     result.GetAllocator());
  } else {
    // A built-in kind's defaults (every decode) and what its strategy keeps from the stored one.
    builtin::apply_defaults(t, next, a);
    builtin::prepare_update(t, next, prev, a);
    // Top-level members first: adding them may move the object's storage under `meta`.
    js::set_string(next, "apiVersion", js::get_string(prev, "apiVersion"), a);
    js::set_string(next, "kind", t.kind, a);
    if (t.has_status) {
      if (const js::Value* st = js::find(prev, "status"))
        js::set_member(next, "status", js::Value(*st, a), a);
      else
        js::remove_member(next, "status");
    }
    auto& meta = metadata_of(next);
    if (t.namespaced && !js::get_string(meta, "namespace").empty() &&
        js::get_string(meta, "namespace") != meta_string(prev, "namespace"))
      throw bad_request(
          "the namespace of the provided object does not match the namespace sent on the request");
    if (js::get_string(meta, "name") != name)
      throw bad_request("the name of the object does not match the name on the URL");
    const js::Value& prev_meta = *js::find(prev, "metadata");
    if (std::string uid(js::get_string(meta, "uid"));
        !uid.empty() && uid != meta_string(prev, "uid"))
      throw invalid(t.kind, t.group, name,
                    {{"FieldValueInvalid",
                      fmt::format("metadata.uid: Invalid value: \"{}\": field is immutable", uid),
                      "metadata.uid"}});
    for (auto k : {"uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds",
                   "generation", "namespace"}) {
      if (const js::Value* v = js::find(prev_meta, k))
        js::set_member(meta, k, js::Value(*v, a), a);
      else
        js::remove_member(meta, k);
    }
    if (!o.managed_fields_final) js::remove_member(meta, "managedFields");
    js::remove_member(meta, "selfLink");
    if (has_deletion_timestamp(prev)) {
      auto before = finalizers_of(prev);
      std::vector<std::string> added;
      for (auto& f : finalizers_of(next))
        if (std::find(before.begin(), before.end(), f) == before.end()) added.push_back(f);
      if (!added.empty()) {
        std::string list;
        for (auto& f : added) list += (list.empty() ? "" : ", ") + fmt::format("\"{}\"", f);
        throw invalid(
            t.kind, t.group, name,
            {{"FieldValueForbidden",
              fmt::format("metadata.finalizers: Forbidden: no new finalizers can be added "
                          "if the object is being deleted, found new finalizers []string{{{}}}",
                          list),
              "metadata.finalizers"}});
      }
    }
    if (!t.custom && t.kind == "Namespace") label_namespace(next);
    if (t.tracks_generation && spec_changed(prev, next, t.has_status)) {
      js::set_member(
          meta, "generation",
          js::Value(static_cast<int64_t>(js::get_int(prev, {"metadata", "generation"}, 0) + 1)), a);
    }
    result = std::move(next);
  }
  if (auto causes = update_causes(t, result, prev, status_only, o); !causes.empty())
    throw invalid(t.kind, t.group, name, std::move(causes));
  std::optional<resource_type> new_type;
  if (t.kind == "CustomResourceDefinition" && t.group == "apiextensions.k8s.io" && !status_only) {
    new_type = type_from_crd(result);
    set_crd_status(result, *new_type);
    keep_crd_conditions(result, prev);
  }
  if (!o.managed_fields_final) field_manager(t, o, status_only).track(&prev, managed, result);
  // A write that changes nothing is not a write: same resourceVersion, no event.
  js::set_string(metadata_of(result), "resourceVersion", std::to_string(old->rv),
                 result.GetAllocator());
  if (result == prev) return old;
  if (o.dry_run) return make_snapshot(std::move(result), 0);

  auto snap = commit(t, std::move(result), old, false);
  if (new_type) types_.add_custom(std::move(*new_type));
  if (has_deletion_timestamp(snap->doc) && finalizers_of(snap->doc).empty()) {
    finalize_removal(t, snap);
  }
  return snap;
}

delete_result cluster_state::remove(const resource_type& t, const std::string& ns,
                                    const std::string& name, const delete_options& o) {
  std::lock_guard lock(mutex_);
  return remove_locked(t, ns, name, o);
}

delete_result cluster_state::remove_locked(const resource_type& t, const std::string& ns,
                                           const std::string& name, const delete_options& o) {
  const snapshot_ptr* cur = find_locked(t, ns, name);
  if (!cur) throw not_found_error(t, name);
  snapshot_ptr obj = *cur;
  std::string uid = meta_string(obj->doc, "uid");
  bool is_namespace = t.kind == "Namespace" && t.group.empty();
  // NamespaceLifecycle admission keeps the system namespaces.
  if (is_namespace && (name == "default" || name == "kube-system" || name == "kube-public")) {
    auto e = forbidden(
        fmt::format("namespaces \"{}\" is forbidden: this namespace may not be deleted", name));
    e.name = name;
    e.kind = "namespaces";
    throw e;
  }
  // rest.BeforeDelete checks the preconditions first; its Conflict names the Kind.
  std::string qualified_kind = t.group.empty() ? t.kind : t.kind + "." + t.group;
  if (!o.precondition_uid.empty() && o.precondition_uid != uid)
    throw conflict(
        qualified_kind, t.group, t.kind, name,
        fmt::format("the UID in the precondition ({}) does not match the UID in record ({}). "
                    "The object might have been deleted and then recreated",
                    o.precondition_uid, uid));
  if (!o.precondition_rv.empty() && o.precondition_rv != std::to_string(obj->rv))
    throw conflict(
        qualified_kind, t.group, t.kind, name,
        fmt::format("the ResourceVersion in the precondition ({}) does not match the "
                    "ResourceVersion in record ({}). The object might have been modified",
                    o.precondition_rv, obj->rv));
  if (has_deletion_timestamp(obj->doc)) return {obj, false};
  if (o.propagation != "Background" && o.propagation != "Foreground" && o.propagation != "Orphan")
    throw bad_request(
        fmt::format("propagationPolicy: Unsupported value: \"{}\": supported values: "
                    "\"Foreground\", \"Background\", \"Orphan\"",
                    o.propagation));
  if (o.dry_run) return {obj, false};

  auto fins = finalizers_of(obj->doc);
  // As the registry's deletionFinalizersForGarbageCollection: Orphan and Foreground always go
  // through a finalizer, which the garbage collector removes once it has done its part.
  bool orphan = o.propagation == "Orphan" && !is_namespace;
  bool foreground = o.propagation == "Foreground" && !is_namespace;
  fins.erase(std::remove_if(fins.begin(), fins.end(),
                            [&](const std::string& f) {
                              return !is_namespace && (f == "orphan" || f == "foregroundDeletion");
                            }),
             fins.end());
  // A CRD is kept until its custom resources are gone (the apiextensions finalizer).
  bool is_crd = t.kind == "CustomResourceDefinition" && t.group == "apiextensions.k8s.io";
  if (is_crd && std::find(fins.begin(), fins.end(), crd_cleanup_finalizer) == fins.end())
    fins.push_back(crd_cleanup_finalizer);
  if (orphan) fins.push_back("orphan");
  if (foreground) fins.push_back("foregroundDeletion");
  if (!fins.empty() || is_namespace) {
    js::Document d = copy_of(obj->doc);
    auto& a = d.GetAllocator();
    js::set_string(metadata_of(d), "deletionTimestamp", now_rfc3339(), a);
    js::set_member(metadata_of(d), "deletionGracePeriodSeconds", js::Value(0), a);
    set_finalizers(d, fins);
    if (t.tracks_generation && !is_crd)  // the CRD registry marks it without the bump
      js::set_member(
          metadata_of(d), "generation",
          js::Value(static_cast<int64_t>(js::get_int(obj->doc, {"metadata", "generation"}, 0) + 1)),
          a);
    if (is_crd) add_crd_terminating_condition(d);
    if (is_namespace) {
      auto& status = js::ensure_object(d, "status", a);
      js::set_string(status, "phase", "Terminating", a);
    }
    auto snap = commit(t, std::move(d), obj, false);
    if (foreground)
      defer_([this, uid] {
        collect_dependents(uid, "Background");
        std::lock_guard lock(mutex_);
        if (!has_blocking_dependents(uid)) remove_gc_finalizer(uid, "foregroundDeletion");
      });
    if (orphan) defer_([this, uid] { orphan_dependents(uid); });
    if (is_crd) defer_([this, name] { cleanup_crd(name); });
    if (is_namespace) {
      defer_([this, name] { cleanup_namespace(name); });
    }
    return {snap, false};
  }
  js::Document d = copy_of(obj->doc);
  auto snap = commit(t, std::move(d), obj, true);
  finalize_removal(t, snap);
  return {snap, true};
}

// After an object is gone: its dependents, a CRD's objects, a namespace's end.
void cluster_state::finalize_removal(const resource_type& t, const snapshot_ptr& obj) {
  const std::string uid = meta_string(obj->doc, "uid");
  if (objects_of(t).count({t.namespaced ? meta_string(obj->doc, "namespace") : "",
                           meta_string(obj->doc, "name")})) {
    // Reached from an update that emptied the finalizers: the object is still stored.
    commit(t, copy_of(obj->doc), obj, true);
  }
  if (dependents_.count(uid)) schedule_gc(uid, "Background");
  release_foreground_owners(obj);
  if (t.kind == "CustomResourceDefinition" && t.group == "apiextensions.k8s.io") {
    std::string id = std::string(js::get_string(obj->doc, {"spec", "names", "plural"})) + "." +
                     std::string(js::get_string(obj->doc, {"spec", "group"}));
    if (const resource_type* ct = types_.find_by_id(id)) {
      resource_type copy = *ct;
      auto objs = objects_[id];
      for (auto& [key, snap] : objs) commit(copy, copy_of(snap->doc), snap, true);
      objects_.erase(id);
      types_.remove_custom(id);
    }
  }
  if (t.namespaced) {
    std::string ns = meta_string(obj->doc, "namespace");
    if (namespace_terminating(ns))
      defer_([this, ns] {
        std::lock_guard lock(mutex_);
        finish_namespace_if_empty(ns);
      });
  }
  if (t.custom) finish_crd_if_empty(t.id());  // last: it may remove the type
}

// The CRD finalizer controller: delete every custom resource (their own finalizers still
// apply), then let the CRD go once none is left.
void cluster_state::cleanup_crd(const std::string& crd_name) {
  std::lock_guard lock(mutex_);
  if (const resource_type* ct = types_.find_by_id(crd_name)) {
    resource_type copy = *ct;
    std::vector<std::pair<std::string, std::string>> keys;
    if (auto it = objects_.find(crd_name); it != objects_.end())
      for (const auto& entry : it->second) keys.push_back(entry.first);
    for (const auto& [ns, n] : keys) {
      try {
        remove_locked(copy, ns, n, {});
      } catch (const api_error&) {
      }
    }
  }
  finish_crd_if_empty(crd_name);
}

void cluster_state::finish_crd_if_empty(const std::string& crd_name) {
  const resource_type* crd_type =
      types_.find("apiextensions.k8s.io", "v1", "customresourcedefinitions");
  const snapshot_ptr* crd = crd_type ? find_locked(*crd_type, "", crd_name) : nullptr;
  if (!crd || !has_deletion_timestamp((*crd)->doc)) return;
  if (auto it = objects_.find(crd_name); it != objects_.end() && !it->second.empty()) return;
  remove_gc_finalizer(meta_string((*crd)->doc, "uid"), crd_cleanup_finalizer);
}

void cluster_state::release_foreground_owners(const snapshot_ptr& removed) {
  for (const auto& owner_uid : owner_uids(removed->doc))
    if (!has_blocking_dependents(owner_uid)) remove_gc_finalizer(owner_uid, "foregroundDeletion");
}

// Dependents whose owner reference to `owner_uid` has blockOwnerDeletion: a foreground
// deletion waits for those only.
bool cluster_state::has_blocking_dependents(const std::string& owner_uid) const {
  auto it = dependents_.find(owner_uid);
  if (it == dependents_.end()) return false;
  for (const auto& ref : it->second) {
    const snapshot_ptr* dep = find_by_ref(ref);
    if (!dep) continue;
    if (const auto* refs = js::find_path((*dep)->doc, {"metadata", "ownerReferences"});
        refs && refs->IsArray())
      for (const auto& r : refs->GetArray())
        if (js::get_string(r, "uid") == owner_uid && js::get_bool(r, {"blockOwnerDeletion"}, false))
          return true;
  }
  return false;
}

// The garbage collector's last step on an owner being deleted: drop its orphan or
// foregroundDeletion finalizer (which completes the deletion when no other is left).
void cluster_state::remove_gc_finalizer(const std::string& owner_uid, const char* finalizer) {
  auto it = by_uid_.find(owner_uid);
  if (it == by_uid_.end()) return;
  const snapshot_ptr* owner = find_by_ref(it->second);
  const resource_type* ot = types_.find_by_id(it->second.type_id);
  if (!owner || !ot || !has_deletion_timestamp((*owner)->doc)) return;
  auto fins = finalizers_of((*owner)->doc);
  auto f = std::find(fins.begin(), fins.end(), finalizer);
  if (f == fins.end()) return;
  fins.erase(f);
  js::Document d = copy_of((*owner)->doc);
  set_finalizers(d, fins);
  resource_type type = *ot;
  write_update(type, *owner, std::move(d), false, false, {});
}

// Orphan propagation: dependents lose their owner reference to the owner and survive it.
void cluster_state::orphan_dependents(const std::string& owner_uid) {
  std::lock_guard lock(mutex_);
  if (auto it = dependents_.find(owner_uid); it != dependents_.end()) {
    auto deps = it->second;
    for (const auto& ref : deps) {
      const snapshot_ptr* dep = find_by_ref(ref);
      const resource_type* dt = types_.find_by_id(ref.type_id);
      if (!dep || !dt) continue;
      js::Document d = copy_of((*dep)->doc);
      auto& refs = metadata_of(d)["ownerReferences"];
      for (auto r = refs.Begin(); r != refs.End();)
        r = js::get_string(*r, "uid") == owner_uid ? refs.Erase(r) : r + 1;
      if (refs.Empty()) js::remove_member(metadata_of(d), "ownerReferences");
      resource_type type = *dt;
      commit(type, std::move(d), *dep, false);
    }
  }
  remove_gc_finalizer(owner_uid, "orphan");
}

void cluster_state::schedule_gc(std::string owner_uid, std::string propagation) {
  defer_([this, owner_uid = std::move(owner_uid), propagation = std::move(propagation)] {
    collect_dependents(owner_uid, propagation);
  });
}

void cluster_state::collect_dependents(const std::string& owner_uid,
                                       const std::string& propagation) {
  std::lock_guard lock(mutex_);
  // An owner that still exists (e.g. foreground deletion in progress) keeps only the dependents
  // of owners being deleted; an owner that is gone takes all its dependents with it.
  auto it = dependents_.find(owner_uid);
  if (it == dependents_.end()) return;
  auto deps = it->second;
  for (const auto& ref : deps) {
    const resource_type* dt = types_.find_by_id(ref.type_id);
    if (!dt || !find_by_ref(ref)) continue;
    // A dependent with another owner that still lives is kept (as the real GC does).
    const snapshot_ptr* dep = find_by_ref(ref);
    bool other_owner_alive = false;
    for (auto& uid : owner_uids((*dep)->doc)) {
      if (uid == owner_uid) continue;
      auto o = by_uid_.find(uid);
      if (o != by_uid_.end()) {
        const snapshot_ptr* os = find_by_ref(o->second);
        if (os && !has_deletion_timestamp((*os)->doc)) other_owner_alive = true;
      }
    }
    if (other_owner_alive) continue;
    resource_type copy = *dt;
    delete_options opts;
    opts.propagation = propagation;
    try {
      remove_locked(copy, ref.ns, ref.name, opts);
    } catch (const api_error&) {
      // Already gone or being deleted: nothing to collect.
    }
  }
}

bool cluster_state::namespace_terminating(const std::string& ns) const {
  const resource_type* ns_type = types_.find("", "v1", "namespaces");
  const snapshot_ptr* n = find_locked(*ns_type, "", ns);
  return n && has_deletion_timestamp((*n)->doc);
}

void cluster_state::cleanup_namespace(const std::string& ns) {
  std::lock_guard lock(mutex_);
  for (const auto* t : types_.all()) {
    if (!t->namespaced) continue;
    resource_type copy = *t;
    auto it = objects_.find(copy.id());
    if (it == objects_.end()) continue;
    std::vector<std::string> names;
    for (auto& [key, snap] : it->second)
      if (key.first == ns) names.push_back(key.second);
    for (auto& n : names) {
      try {
        remove_locked(copy, ns, n, {});
      } catch (const api_error&) {
      }
    }
  }
  finish_namespace_if_empty(ns);
}

void cluster_state::finish_namespace_if_empty(const std::string& ns) {
  if (!namespace_terminating(ns)) return;
  for (const auto& [id, objs] : objects_) {
    auto it = objs.lower_bound({ns, ""});
    if (it != objs.end() && it->first.first == ns) return;
  }
  const resource_type* ns_type = types_.find("", "v1", "namespaces");
  const snapshot_ptr* n = find_locked(*ns_type, "", ns);
  js::Document d = copy_of((*n)->doc);
  js::remove_member(js::ensure_object(d, "spec", d.GetAllocator()), "finalizers");
  snapshot_ptr old = *n;
  resource_type copy = *ns_type;
  auto snap = commit(copy, std::move(d), old, false);
  if (finalizers_of(snap->doc).empty()) commit(copy, copy_of(snap->doc), snap, true);
}

std::vector<snapshot_ptr> cluster_state::remove_collection(const resource_type& t,
                                                           const std::string& ns,
                                                           const list_options& o,
                                                           const delete_options& d) {
  auto matched = list(t, ns, o);
  std::vector<snapshot_ptr> out;
  std::lock_guard lock(mutex_);
  for (auto& s : matched.items) {
    try {
      out.push_back(
          remove_locked(t, meta_string(s->doc, "namespace"), meta_string(s->doc, "name"), d)
              .object);
    } catch (const api_error&) {
    }
  }
  return out;
}

}  // namespace kubesim
