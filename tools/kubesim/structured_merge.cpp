#include "tools/kubesim/structured_merge.h"

#include <algorithm>
#include <map>
#include <optional>

#include <fmt/format.h>

#include "tools/kubesim/api_error.h"
#include "tools/kubesim/go_format.h"

namespace kubesim::ssa {
namespace js = k8s::json;

namespace {

// A value the schema cannot type (a map-list item without its key): the server's
// "failed to create typed ... object" errors.
struct typed_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

std::string schema_path_text(const schema_path& sp) {
  std::string out;
  for (auto s : sp)
    if (s != "[]") out += "." + std::string(s);
  return out;
}

// What no manager owns (stripmeta.go), what the main resource of a kind with a status subresource
// ignores (its strategy's GetResetFields: status), what a status write ignores (spec).
// `strip`: false for an applied configuration, whose set is stripped only after pruning (the
// fields of metadata it names keep metadata owned meanwhile).
bool skipped(const write_context& c, const schema_path& parent, std::string_view key,
             bool strip = true) {
  if (parent.empty())
    return (strip && (key == "apiVersion" || key == "kind")) ||
           (key == "status" && c.status_is_subresource && c.subresource.empty()) ||
           (key == "spec" && c.subresource == "status");
  if (strip && parent.size() == 1 && parent[0] == "metadata")
    return key == "name" || key == "namespace" || key == "creationTimestamp" || key == "selfLink" ||
           key == "uid" || key == "clusterName" || key == "generation" || key == "managedFields" ||
           key == "resourceVersion";
  return false;
}

// The path element of a list item (listItemToPathElement); nullopt for an atomic list.
path_element item_element(const list_info& info, const js::Value& item, size_t index,
                          const schema_path& sp) {
  path_element pe;
  if (info.type == list_type::set) {
    if (item.IsObject() || item.IsArray() || item.IsNull())
      throw typed_error(
          fmt::format("{}: element {}: associative list without keys has an element "
                      "that's {}",
                      schema_path_text(sp), index,
                      item.IsNull()     ? "an explicit null"
                      : item.IsObject() ? "a map type"
                                        : "a list type"));
    pe.kind = path_element::value;
    pe.text = js::to_string(item);
    return pe;
  }
  if (!item.IsObject())
    throw typed_error(fmt::format("{}: element {}: associative list with keys may not have {}",
                                  schema_path_text(sp), index,
                                  item.IsNull() ? "a null element" : "non-map elements"));
  pe.kind = path_element::key;
  for (const auto& k : info.keys) {
    if (const js::Value* v = js::find(item, k)) {
      pe.key_fields.emplace_back(k, js::to_string(*v));
      continue;
    }
    auto d = std::find_if(info.key_defaults.begin(), info.key_defaults.end(),
                          [&](const auto& x) { return x.first == k; });
    if (d == info.key_defaults.end())
      throw typed_error(
          fmt::format("{}: element {}: associative list with keys has an element "
                      "that omits key field \"{}\" (and doesn't have default value)",
                      schema_path_text(sp), index, k));
    pe.key_fields.emplace_back(k, d->second);
  }
  std::sort(pe.key_fields.begin(), pe.key_fields.end(),
            [](const auto& x, const auto& y) { return x.first < y.first; });
  return pe;
}

// The items of a non-atomic list with their path elements, repeats after the first ignored.
std::vector<std::pair<path_element, const js::Value*>> index_items(const list_info& info,
                                                                   const js::Value* list,
                                                                   const schema_path& sp) {
  std::vector<std::pair<path_element, const js::Value*>> out;
  if (!list || !list->IsArray()) return out;
  size_t i = 0;
  for (const auto& item : list->GetArray()) {
    path_element pe = item_element(info, item, i++, sp);
    if (std::none_of(out.begin(), out.end(), [&](const auto& x) { return x.first == pe; }))
      out.emplace_back(std::move(pe), &item);
  }
  return out;
}

const js::Value* find_item(const std::vector<std::pair<path_element, const js::Value*>>& items,
                           const path_element& pe) {
  for (const auto& [p, v] : items)
    if (p == pe) return v;
  return nullptr;
}

bool is_empty_container(const js::Value* v) {
  return !v || v->IsNull() || (v->IsObject() && v->ObjectEmpty()) || (v->IsArray() && v->Empty());
}

// ---- ToFieldSet (typed/tofieldset.go) ----

class field_set_builder {
 public:
  explicit field_set_builder(const write_context& c) : c_(c) {}

  void collect(const js::Value& v, field_set& node) {
    if (v.IsObject()) {
      if (c_.schema.atomic_map_at(sp_)) {
        node.member = true;
        return;
      }
      for (const auto& m : v.GetObject()) {
        std::string_view key = js::view(m.name);
        if (skipped(c_, sp_, key, false)) continue;
        bool declared = c_.schema.declares_field(sp_, key);
        path_element pe = path_element::named(key);
        field_set& child = node.children[pe];
        sp_.push_back(key);
        collect(m.value, child);
        sp_.pop_back();
        if (m.value.IsNull() || (m.value.IsObject() && m.value.ObjectEmpty()) || !declared)
          child.member = true;
        if (child.empty()) node.children.erase(pe);
      }
    } else if (v.IsArray()) {
      list_info info = c_.schema.list_at(sp_);
      if (info.type == list_type::atomic) {
        node.member = true;
        return;
      }
      for (const auto& [pe, item] : index_items(info, &v, sp_)) {
        field_set& child = node.children[pe];
        sp_.push_back("[]");
        if (info.type == list_type::map) collect(*item, child);
        sp_.pop_back();
        child.member = true;
      }
    } else {
      node.member = true;
    }
  }

 private:
  const write_context& c_;
  schema_path sp_;
};

field_set to_field_set(const write_context& c, const js::Value& obj) {
  field_set s;
  field_set_builder(c).collect(obj, s);
  return s;
}

// stripMetaManager.stripFields: the paths no manager is recorded for.
void strip_meta(field_set& s) {
  s.children.erase(path_element::named("apiVersion"));
  s.children.erase(path_element::named("kind"));
  auto it = s.children.find(path_element::named("metadata"));
  if (it == s.children.end()) return;
  it->second.member = false;
  for (auto k : {"name", "namespace", "creationTimestamp", "selfLink", "uid", "clusterName",
                 "generation", "managedFields", "resourceVersion"}) {
    auto f = it->second.children.find(path_element::named(k));
    if (f == it->second.children.end()) continue;
    f->second.member = false;
    if (f->second.empty()) it->second.children.erase(f);
  }
  if (it->second.empty()) s.children.erase(it);
}

// ---- Compare (typed/compare.go) ----

struct comparison {
  field_set added, removed, modified;
  bool empty() const { return added.empty() && removed.empty() && modified.empty(); }
};

class comparer {
 public:
  comparer(const write_context& c, comparison& out) : c_(c), out_(out) {}

  void compare(const js::Value* l, const js::Value* r) {
    const js::Value* any = r && !r->IsNull() ? r : l;
    bool leaf = true;
    if (any && any->IsObject() && (!l || l->IsObject() || l->IsNull()) &&
        (!r || r->IsObject() || r->IsNull())) {
      leaf = c_.schema.atomic_map_at(sp_) || (is_empty_container(l) && is_empty_container(r));
      if (!leaf) compare_maps(l && l->IsObject() ? l : nullptr, r && r->IsObject() ? r : nullptr);
    } else if (any && any->IsArray() && (!l || l->IsArray() || l->IsNull()) &&
               (!r || r->IsArray() || r->IsNull())) {
      list_info info = c_.schema.list_at(sp_);
      leaf = info.type == list_type::atomic || (is_empty_container(l) && is_empty_container(r));
      if (!leaf) compare_lists(info, l, r);
    }
    if (leaf) {
      if (!l)
        added_.insert(path_);
      else if (!r)
        removed_.insert(path_);
      else if (*l != *r)
        modified_.insert(path_);
    } else if (!path_.empty()) {
      if (!l)
        added_.insert(path_);
      else if (!r)
        removed_.insert(path_);
    }
  }

 private:
  // Inserts the comparer's current path into one set, starting from the deepest node of that
  // path it already holds: a create adds every leaf, and walking each one from the root (map
  // lookups and path_element copies at every level) cost most of the comparison.
  class path_inserter {
   public:
    explicit path_inserter(field_set& root) : nodes_{&root} {}
    void insert(const field_path& path) {
      for (size_t i = nodes_.size() - 1; i < path.size(); ++i)
        nodes_.push_back(&nodes_.back()->child_at(path[i]));
      nodes_.back()->member = true;
    }
    // The path lost its last element: nodes below it no longer lie on it (std::map nodes stay
    // where they are, so the pointers kept stay valid).
    void truncate(size_t depth) {
      if (nodes_.size() > depth + 1) nodes_.resize(depth + 1);
    }

   private:
    std::vector<field_set*> nodes_;  // nodes_[i]: the node of the path's first i elements
  };

  void child(path_element pe, std::string_view schema_step, const js::Value* l,
             const js::Value* r) {
    path_.push_back(std::move(pe));
    sp_.push_back(schema_step);
    compare(l, r);
    sp_.pop_back();
    path_.pop_back();
    for (auto* s : {&added_, &removed_, &modified_}) s->truncate(path_.size());
  }

  void compare_maps(const js::Value* l, const js::Value* r) {
    if (l)
      for (const auto& m : l->GetObject()) {
        std::string_view key = js::view(m.name);
        if (skipped(c_, sp_, key)) continue;
        child(path_element::named(key), key, &m.value, r ? js::find(*r, key) : nullptr);
      }
    if (r)
      for (const auto& m : r->GetObject()) {
        std::string_view key = js::view(m.name);
        if (skipped(c_, sp_, key) || (l && js::find(*l, key))) continue;
        child(path_element::named(key), key, nullptr, &m.value);
      }
  }

  void compare_lists(const list_info& info, const js::Value* l, const js::Value* r) {
    auto li = index_items(info, l, sp_), ri = index_items(info, r, sp_);
    for (const auto& [pe, v] : li) child(pe, "[]", v, find_item(ri, pe));
    for (const auto& [pe, v] : ri)
      if (!find_item(li, pe)) child(pe, "[]", nullptr, v);
  }

  const write_context& c_;
  comparison& out_;
  path_inserter added_{out_.added}, removed_{out_.removed}, modified_{out_.modified};
  field_path path_;
  schema_path sp_;
};

comparison compare_objects(const write_context& c, const js::Value& l, const js::Value& r) {
  comparison out;
  comparer(c, out).compare(&l, &r);
  out.added.member = out.removed.member = out.modified.member = false;
  // The metadata map itself is stripped (stripmeta.go); its fields are not.
  for (auto* s : {&out.added, &out.removed, &out.modified})
    if (auto it = s->children.find(path_element::named("metadata")); it != s->children.end()) {
      it->second.member = false;
      if (it->second.empty()) s->children.erase(it);
    }
  return out;
}

// ---- Merge (typed/merge.go, ruleKeepRHS) ----

class merger {
 public:
  merger(const write_context& c, js::Allocator& a) : c_(c), a_(a) {}

  js::Value merge(const js::Value* l, const js::Value* r) {
    if (!r) return js::Value(*l, a_);
    if (!l) return js::Value(*r, a_);
    if (l->IsObject() && r->IsObject()) {
      if (c_.schema.atomic_map_at(sp_) || (l->ObjectEmpty() && r->ObjectEmpty()))
        return js::Value(*r, a_);
      js::Value out(*l, a_);
      for (const auto& m : r->GetObject()) {
        std::string_view key = js::view(m.name);
        sp_.push_back(key);
        const js::Value* lv = js::find(*l, key);
        js::Value merged = merge(lv, &m.value);
        sp_.pop_back();
        js::set_member(out, key, std::move(merged), a_);
      }
      return out;
    }
    if (l->IsArray() && r->IsArray()) {
      list_info info = c_.schema.list_at(sp_);
      if (info.type == list_type::atomic || (l->Empty() && r->Empty())) return js::Value(*r, a_);
      return merge_lists(info, *l, *r);
    }
    return js::Value(*r, a_);
  }

 private:
  js::Value merge_item(const path_element&, const js::Value* l, const js::Value* r) {
    sp_.push_back("[]");
    js::Value v = merge(l, r);
    sp_.pop_back();
    return v;
  }

  // visitListItems: live order, with the applied items placed where the applied list puts them.
  js::Value merge_lists(const list_info& info, const js::Value& l, const js::Value& r) {
    auto lhs = index_items(info, &l, sp_), rhs = index_items(info, &r, sp_);
    std::vector<const path_element*> shared;
    for (const auto& [pe, v] : rhs)
      if (find_item(lhs, pe)) shared.push_back(&pe);
    size_t next_shared = 0;
    auto shared_at = [&]() -> const path_element* {
      return next_shared < shared.size() ? shared[next_shared] : nullptr;
    };
    std::vector<path_element> merged_rhs;
    auto was_merged = [&](const path_element& pe) {
      return std::find(merged_rhs.begin(), merged_rhs.end(), pe) != merged_rhs.end();
    };
    js::Value out(rapidjson::kArrayType);
    size_t li = 0, ri = 0;
    while (li < lhs.size() || ri < rhs.size()) {
      if (li < lhs.size() && ri < rhs.size()) {
        const path_element& pe = lhs[li].first;
        if (pe == rhs[ri].first) {
          merged_rhs.push_back(pe);
          out.PushBack(merge_item(pe, lhs[li].second, rhs[ri].second), a_);
          ++li, ++ri;
          ++next_shared;
          continue;
        }
        if (find_item(rhs, pe) && shared_at() && !(*shared_at() == pe)) {
          ++li;
          continue;
        }
      }
      if (li < lhs.size()) {
        const path_element& pe = lhs[li].first;
        if (!find_item(rhs, pe)) {
          out.PushBack(merge_item(pe, lhs[li].second, nullptr), a_);
          ++li;
          continue;
        } else if (was_merged(pe)) {
          ++li;
        }
      }
      if (ri < rhs.size()) {
        const path_element& pe = rhs[ri].first;
        merged_rhs.push_back(pe);
        out.PushBack(merge_item(pe, find_item(lhs, pe), rhs[ri].second), a_);
        ++ri;
        if (shared_at() && *shared_at() == pe) ++next_shared;
      }
    }
    return out;
  }

  const write_context& c_;
  js::Allocator& a_;
  schema_path sp_;
};

// ---- prune (merge/update.go) ----

// EnsureNamedFieldsAreMembers: a struct's fields with children below become members.
void ensure_named_fields(const write_context& c, field_set& s, schema_path& sp) {
  for (auto& [pe, child] : s.children) {
    if (child.children.empty()) continue;
    if (pe.kind == path_element::field) {
      if (c.schema.declares_field(sp, pe.text)) child.member = true;
      sp.push_back(pe.text);
    } else {
      sp.push_back("[]");
    }
    ensure_named_fields(c, child, sp);
    sp.pop_back();
  }
}

// Removes what the applier owned last time (`last`), no longer applies, and nobody owns
// (`owned`, all managers with the applier's new set): prune, addBackOwnedItems and
// addBackDanglingItems together.
class pruner {
 public:
  pruner(const write_context& c, js::Allocator& a) : c_(c), a_(a) {}

  void prune(js::Value& v, const field_set& last, const field_set* owned) {
    auto gone = [&](const path_element& pe, const field_set*& lc, const field_set*& oc) {
      lc = last.child(pe);
      oc = owned ? owned->child(pe) : nullptr;
      return lc && lc->member && !(oc && oc->member);
    };
    if (v.IsObject() && !c_.schema.atomic_map_at(sp_)) {
      std::vector<std::string> drop;
      for (auto& m : v.GetObject()) {
        std::string_view key = js::view(m.name);
        const field_set *lc, *oc;
        if (gone(path_element::named(key), lc, oc)) {
          drop.emplace_back(key);
        } else if (lc) {
          sp_.push_back(key);
          prune(m.value, *lc, oc);
          sp_.pop_back();
        }
      }
      for (const auto& k : drop) js::remove_member(v, k);
    } else if (v.IsArray()) {
      list_info info = c_.schema.list_at(sp_);
      if (info.type == list_type::atomic) return;
      js::Value kept(rapidjson::kArrayType);
      size_t i = 0;
      for (auto& item : v.GetArray()) {
        path_element pe = item_element(info, item, i++, sp_);
        const field_set *lc, *oc;
        if (gone(pe, lc, oc)) continue;
        if (lc) {
          sp_.push_back("[]");
          prune(item, *lc, oc);
          sp_.pop_back();
        }
        kept.PushBack(item, a_);
      }
      v = std::move(kept);
    }
  }

 private:
  const write_context& c_;
  js::Allocator& a_;
  schema_path sp_;
};

// ---- managers (managedfieldsupdater.go, capmanagers.go) ----

using manager_map = std::map<std::string, managed_entry>;  // by identifier

manager_map by_identifier(std::vector<managed_entry> entries) {
  manager_map out;
  for (auto& e : entries) out[e.identifier()] = std::move(e);
  return out;
}

// DefaultMaxUpdateManagers: past 10 Update entries, the oldest merge into "ancient-changes".
void cap_update_managers(manager_map& m) {
  constexpr size_t max_updaters = 10;
  std::vector<std::string> updaters;
  for (const auto& [id, e] : m)
    if (e.operation == "Update") updaters.push_back(id);
  if (updaters.size() <= max_updaters) return;
  std::sort(updaters.begin(), updaters.end(), [&](const auto& a, const auto& b) {
    return std::tie(m[a].time, a) < std::tie(m[b].time, b);
  });
  std::map<std::string, std::string> first_of_version;
  size_t length = updaters.size();
  for (size_t i = 0; i < updaters.size() && length > max_updaters; ++i) {
    managed_entry e = m[updaters[i]];
    managed_entry bucket_key{"ancient-changes", "Update", e.api_version, "", "", {}};
    std::string bucket = bucket_key.identifier();
    auto first = first_of_version.find(e.api_version);
    if (first == first_of_version.end()) {
      first_of_version[e.api_version] = updaters[i];
      continue;
    }
    if (!m.count(bucket)) {
      managed_entry moved = m[first->second];
      m.erase(first->second);
      moved.manager = "ancient-changes";
      moved.subresource.clear();
      m[bucket] = std::move(moved);
    }
    m[bucket].fields.unite(e.fields);
    m[bucket].time = e.time;
    m.erase(updaters[i]);
    --length;
  }
}

void write_managers(manager_map&& m, js::Document& obj) {
  std::vector<managed_entry> entries;
  for (auto& [id, e] : m)
    if (!e.fields.empty()) entries.push_back(std::move(e));
  auto& a = obj.GetAllocator();
  encode_managed_fields(std::move(entries), js::ensure_object(obj, "metadata", a), a);
}

const js::Value* managed_fields_of(const js::Value* obj) {
  return obj ? js::find_path(*obj, {"metadata", "managedFields"}) : nullptr;
}

// Every other manager loses what changed: with `force`, what it owned and the write changed;
// always, what the write removed (Updater.update).
void take_from_others(manager_map& m, const std::string& self, const comparison& cmp) {
  if (m.empty() || (m.size() == 1 && m.begin()->first == self)) return;
  field_set changed = cmp.modified;
  changed.unite(cmp.added);
  for (auto it = m.begin(); it != m.end();) {
    if (it->first != self) {
      it->second.fields.subtract(changed);
      it->second.fields.subtract(cmp.removed);
    }
    it = it->second.fields.empty() && it->first != self ? m.erase(it) : std::next(it);
  }
}

std::string gvk_text(std::string_view api_version, std::string_view kind) {
  auto slash = api_version.find('/');
  std::string gv =
      slash == std::string_view::npos ? "/" + std::string(api_version) : std::string(api_version);
  return fmt::format("{}, Kind={}", gv, kind);
}

api_error conflict_error(const std::vector<std::pair<const managed_entry*, field_set>>& found) {
  std::vector<status_cause> causes;
  std::vector<std::string> lines;
  for (const auto& [e, set] : found) {
    lines.push_back(fmt::format("conflicts with {}:", e->printed()));
    set.for_each([&](const field_path& p) {
      causes.push_back({"FieldManagerConflict", "conflict with " + e->printed(), print_path(p)});
      lines.push_back("- " + print_path(p));
    });
  }
  std::string message;
  if (causes.size() == 1) {
    message =
        fmt::format("Apply failed with 1 conflict: {}: {}", causes[0].message, causes[0].field);
  } else {
    message = fmt::format("Apply failed with {} conflicts: ", causes.size());
    for (size_t i = 0; i < lines.size(); ++i) message += (i ? "\n" : "") + lines[i];
  }
  api_error e(409, "Conflict", message);
  e.causes = std::move(causes);
  return e;
}

constexpr std::string_view last_applied_key = "kubectl.kubernetes.io/last-applied-configuration";

std::string_view last_applied_of(const js::Value& obj) {
  return js::get_string(obj, {"metadata", "annotations", last_applied_key});
}

// lastAppliedManager: kubectl's server-side apply may take over what its client-side apply
// last applied, where that still matches the live object: those conflicts are forgiven.
void forgive_client_side_apply(const write_context& c, const js::Value& live,
                               std::vector<std::pair<const managed_entry*, field_set>>& conflicts) {
  std::string_view text = last_applied_of(live);
  if (text.empty()) return;
  js::Document last_applied;
  try {
    last_applied = js::parse(text);
  } catch (const std::exception&) {
    return;
  }
  if (!last_applied.IsObject() || js::get_string(last_applied, "apiVersion") != c.api_version)
    return;
  field_set allowed;
  try {
    allowed = to_field_set(c, last_applied);
    comparison differs = compare_objects(c, last_applied, live);
    allowed.subtract(differs.modified);
    allowed.subtract(differs.added);
    allowed.subtract(differs.removed);
  } catch (const typed_error&) {
    return;
  }
  std::vector<std::pair<const managed_entry*, field_set>> left;
  for (auto& [e, set] : conflicts) {
    set.subtract(allowed);
    if (!set.empty()) left.emplace_back(e, std::move(set));
  }
  conflicts = std::move(left);
}

// lastAppliedUpdater: kubectl's server-side apply keeps an existing client-side apply
// annotation in step: the applied configuration, without that annotation, as JSON.
void sync_last_applied(js::Document& obj, const js::Value& config) {
  if (last_applied_of(obj).empty()) return;
  js::Document copy;
  copy.CopyFrom(config, copy.GetAllocator());
  if (js::Value* meta = const_cast<js::Value*>(js::find(copy, "metadata")))
    if (js::Value* ann = const_cast<js::Value*>(js::find(*meta, "annotations")))
      js::remove_member(*ann, last_applied_key);
  std::string text = go::json(copy) + '\n';  // json.Encoder.Encode
  auto& a = obj.GetAllocator();
  auto& ann = js::ensure_object(js::ensure_object(obj, "metadata", a), "annotations", a);
  js::set_string(ann, last_applied_key, text, a);
}

}  // namespace

std::string manager_for(std::string_view field_manager, std::string_view user_agent) {
  if (!field_manager.empty()) return std::string(field_manager);
  std::string out;
  for (char ch : user_agent.substr(0, user_agent.find('/'))) {
    if (static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f) continue;
    if (out.size() + 1 > 128) break;
    out += ch;
  }
  return out;
}

managed_input read_request_managed(const js::Value& request_obj, const js::Value* live_obj,
                                   bool subresource) {
  managed_input in;
  if (subresource) return in;
  const js::Value* mf = managed_fields_of(&request_obj);
  if (!mf || mf->IsNull()) return in;
  // isResetManagedFields: an empty list, or one empty entry.
  if (mf->IsArray() &&
      (mf->Empty() || (mf->Size() == 1 && (*mf)[0].IsObject() && (*mf)[0].ObjectEmpty()))) {
    in.source = managed_input::reset;
    return in;
  }
  const js::Value* live_mf = managed_fields_of(live_obj);
  if (live_mf && *live_mf == *mf) return in;
  std::vector<managed_entry> decoded;
  if (!decode_managed_fields(mf, decoded) || decoded.empty()) return in;
  in.source = managed_input::request;
  in.request_entries = std::make_unique<js::Document>();
  in.request_entries->CopyFrom(*mf, in.request_entries->GetAllocator());
  return in;
}

void track_update(const write_context& c, const js::Value* live, const managed_input& in,
                  js::Document& next) {
  auto& a = next.GetAllocator();
  if (!live) live = &c.schema.create_baseline();
  comparison cmp;
  try {
    cmp = compare_objects(c, *live, next);
  } catch (const typed_error&) {
    // UpdateNoErrors: an object the schema cannot type is stored without managedFields.
    js::remove_member(js::ensure_object(next, "metadata", a), "managedFields");
    return;
  }
  const js::Value* live_mf = managed_fields_of(live);
  if (cmp.empty() && in.source == managed_input::live) {
    auto& meta = js::ensure_object(next, "metadata", a);
    if (live_mf)
      js::set_member(meta, "managedFields", js::Value(*live_mf, a), a);
    else
      js::remove_member(meta, "managedFields");
    return;
  }
  std::vector<managed_entry> entries;
  if (in.source == managed_input::request)
    decode_managed_fields(in.request_entries.get(), entries);
  else if (in.source == managed_input::live && !decode_managed_fields(live_mf, entries))
    entries.clear();
  manager_map m = by_identifier(std::move(entries));

  managed_entry self{
      c.manager.empty() ? "unknown" : c.manager, "Update", c.api_version, "", c.subresource, {}};
  const std::string self_id = self.identifier();
  // Updater.Update runs as "current-operation": every manager, this one too, loses what changed.
  take_from_others(m, "", cmp);
  field_set current = std::move(cmp.added);
  current.unite(cmp.modified);
  if (!current.empty()) {
    auto it = m.find(self_id);
    if (it != m.end()) current.unite(it->second.fields);
    self.fields = std::move(current);
    self.time = c.now;
    m[self_id] = std::move(self);
  }
  cap_update_managers(m);
  write_managers(std::move(m), next);
}

apply_result apply(const write_context& c, const js::Value* live, const js::Value& config,
                   bool force) {
  std::string cfg_version(js::get_string(config, "apiVersion"));
  std::string cfg_kind(js::get_string(config, "kind"));
  if (cfg_version != c.api_version || cfg_kind != c.kind)
    throw bad_request("invalid object type: " + gvk_text(cfg_version, cfg_kind));

  std::vector<managed_entry> entries;
  if (!decode_managed_fields(managed_fields_of(live), entries))
    throw internal_error("failed to decode managed fields");
  manager_map m = by_identifier(std::move(entries));

  apply_result out;
  auto& a = out.object.GetAllocator();
  js::Document empty(rapidjson::kObjectType);
  js::Document live_plain;  // live without its managedFields
  if (live) {
    live_plain.CopyFrom(*live, live_plain.GetAllocator());
    if (js::Value* meta = const_cast<js::Value*>(js::find(live_plain, "metadata")))
      js::remove_member(*meta, "managedFields");
  } else {
    live_plain.SetObject();
  }
  field_set config_set;
  try {
    config_set = to_field_set(c, config);
    js::Value merged = merger(c, a).merge(&live_plain, &config);
    static_cast<js::Value&>(out.object).Swap(merged);
  } catch (const typed_error& e) {
    throw api_error(500, "",
                    fmt::format("failed to create typed patch object ({}/{}; {}): {}",
                                js::get_string(config, {"metadata", "namespace"}),
                                js::get_string(config, {"metadata", "name"}),
                                gvk_text(cfg_version, cfg_kind), e.what()));
  }

  managed_entry self{c.manager, "Apply", c.api_version, "", c.subresource, {}};
  const std::string self_id = self.identifier();
  field_set last;
  if (auto it = m.find(self_id); it != m.end()) {
    last = std::move(it->second.fields);
    self.time = it->second.time;
  }
  self.fields = config_set;
  m[self_id] = self;

  const js::Value& before =
      live ? static_cast<const js::Value&>(live_plain) : c.schema.create_baseline();
  comparison cmp;
  try {
    if (!last.empty()) {
      field_set owned;
      for (const auto& [id, e] : m) owned.unite(e.fields);
      schema_path sp;
      ensure_named_fields(c, owned, sp);
      ensure_named_fields(c, last, sp);
      pruner(c, a).prune(out.object, last, &owned);
    }
    cmp = compare_objects(c, before, out.object);
  } catch (const typed_error& e) {
    throw api_error(500, "", fmt::format("failed to prune fields: {}", e.what()));
  }

  // Conflicts: what another manager owns and this apply changes.
  field_set changed = cmp.modified;
  changed.unite(cmp.added);
  std::vector<std::pair<const managed_entry*, field_set>> conflicts;
  for (const auto& [id, e] : m) {
    if (id == self_id) continue;
    field_set both = e.fields.intersection(changed);
    if (!both.empty()) conflicts.emplace_back(&e, std::move(both));
  }
  if (!force && !conflicts.empty() && c.manager == "kubectl")
    forgive_client_side_apply(c, live_plain, conflicts);
  if (!force && !conflicts.empty()) throw conflict_error(conflicts);
  take_from_others(m, self_id, cmp);
  if (c.manager == "kubectl") sync_last_applied(out.object, config);

  out.changed = !live || out.object != live_plain;
  if (!out.changed) out.object.CopyFrom(live_plain, a);
  if (out.changed) m[self_id].time = c.now;
  strip_meta(m[self_id].fields);
  if (m[self_id].fields.empty()) m.erase(self_id);
  cap_update_managers(m);
  write_managers(std::move(m), out.object);
  return out;
}

}  // namespace kubesim::ssa
