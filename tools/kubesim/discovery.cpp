// Discovery and OpenAPI documents, shaped like kube-apiserver v1.32's: kubectl reads the
// aggregated discovery documents (/api, /apis) to map kinds to resources and verbs, and the
// OpenAPI v3 documents for `kubectl explain` and client-side validation.
#include "tools/kubesim/discovery.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <initializer_list>
#include <string_view>
#include <utility>

#include "k8s/json/json.h"
#include "tools/kubesim/builtin_openapi.h"
#include "tools/kubesim/scale_subresource.h"

namespace kubesim {
namespace {

using json_writer = rapidjson::Writer<rapidjson::StringBuffer>;

void write_string(json_writer& w, std::string_view s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}
void key(json_writer& w, std::string_view k) {
  w.Key(k.data(), static_cast<rapidjson::SizeType>(k.size()));
}
void field(json_writer& w, std::string_view k, std::string_view v) {
  key(w, k);
  write_string(w, v);
}
void string_array(json_writer& w, const std::vector<std::string>& values) {
  w.StartArray();
  for (const auto& v : values) write_string(w, v);
  w.EndArray();
}
// The JSON object `members` writes, as text.
template <class F>
std::string json_object(F&& members) {
  rapidjson::StringBuffer out;
  json_writer w(out);
  w.StartObject();
  members(w);
  w.EndObject();
  return std::string(out.GetString(), out.GetSize());
}

bool serves(const resource_type& t, const std::string& version) {
  return std::find(t.versions.begin(), t.versions.end(), version) != t.versions.end();
}
std::string group_version(const std::string& group, const std::string& version) {
  return group.empty() ? version : group + "/" + version;
}

// Namespaces have no deletecollection in kube-apiserver; every other kind kubesim serves has the
// full set.
std::vector<std::string> verbs_of(const resource_type& t) {
  if (!t.verbs.empty()) return t.verbs;
  if (t.group.empty() && t.kind == "Namespace") {
    return {"create", "delete", "get", "list", "patch", "update", "watch"};
  }
  return {"create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"};
}
const std::vector<std::string>& status_verbs() {
  static const std::vector<std::string> verbs{"get", "patch", "update"};
  return verbs;
}

// The served versions of a group, preferred first; groups in the order they first appear.
struct group_versions {
  std::string group;
  std::vector<std::string> versions;
};
std::vector<group_versions> served_groups(const std::vector<resource_type>& types) {
  std::vector<group_versions> groups;
  for (const auto& t : types) {
    auto it = std::find_if(groups.begin(), groups.end(),
                           [&](const group_versions& g) { return g.group == t.group; });
    if (it == groups.end()) it = groups.insert(groups.end(), {t.group, {}});
    for (const auto& v : t.versions) {
      if (std::find(it->versions.begin(), it->versions.end(), v) == it->versions.end()) {
        it->versions.push_back(v);
      }
    }
  }
  for (auto& g : groups) std::stable_sort(g.versions.begin(), g.versions.end(), version_preferred);
  return groups;
}
const group_versions* find_group(const std::vector<group_versions>& groups,
                                 const std::string& group) {
  for (const auto& g : groups) {
    if (g.group == group) return &g;
  }
  return nullptr;
}

// {"group", "version", "kind"} under `name`: discovery's responseKind, OpenAPI's
// x-kubernetes-group-version-kind.
void group_version_kind(json_writer& w, std::string_view name, const resource_type& t,
                        const std::string& version) {
  key(w, name);
  w.StartObject();
  field(w, "group", t.group);
  field(w, "version", version);
  field(w, "kind", t.kind);
  w.EndObject();
}

// The verbs, then shortNames and categories when there are any: the tail of a resource in
// both discovery formats.
void verbs_and_names(json_writer& w, const resource_type& t) {
  key(w, "verbs");
  string_array(w, verbs_of(t));
  if (!t.short_names.empty()) {
    key(w, "shortNames");
    string_array(w, t.short_names);
  }
  if (!t.categories.empty()) {
    key(w, "categories");
    string_array(w, t.categories);
  }
}

// The members an APIResourceList entry starts with, for a resource or its status.
void api_resource_head(json_writer& w, const resource_type& t, const std::string& name,
                       std::string_view singular) {
  field(w, "name", name);
  field(w, "singularName", singular);
  key(w, "namespaced");
  w.Bool(t.namespaced);
  field(w, "kind", t.kind);
}

bool serves_group_version(const std::vector<resource_type>& types, const std::string& group,
                          const std::string& version) {
  return std::any_of(types.begin(), types.end(), [&](const resource_type& t) {
    return t.group == group && serves(t, version);
  });
}

// One apidiscovery.k8s.io/v2 APIResourceDiscovery.
void discovery_resource(json_writer& w, const resource_type& t, const std::string& version) {
  w.StartObject();
  field(w, "resource", t.plural);
  group_version_kind(w, "responseKind", t, version);
  field(w, "scope", t.namespaced ? "Namespaced" : "Cluster");
  field(w, "singularResource", t.singular);
  verbs_and_names(w, t);
  const bool scales = scale::paths_of(t, version).has_value();
  if (t.has_status || scales) {
    key(w, "subresources");
    w.StartArray();
  }
  if (scales) {  // autoscaling/v1 Scale, listed before status as the real server sorts them
    w.StartObject();
    field(w, "subresource", "scale");
    key(w, "responseKind");
    w.StartObject();
    field(w, "group", "autoscaling");
    field(w, "version", "v1");
    field(w, "kind", "Scale");
    w.EndObject();
    key(w, "verbs");
    string_array(w, status_verbs());
    w.EndObject();
  }
  if (t.has_status) {
    w.StartObject();
    field(w, "subresource", "status");
    group_version_kind(w, "responseKind", t, version);
    key(w, "verbs");
    string_array(w, status_verbs());
    w.EndObject();
  }
  if (t.has_status || scales) w.EndArray();
  w.EndObject();
}

void discovery_group(json_writer& w, const std::vector<resource_type>& types,
                     const group_versions& g) {
  w.StartObject();
  key(w, "metadata");
  w.StartObject();
  field(w, "name", g.group);
  w.EndObject();
  key(w, "versions");
  w.StartArray();
  for (const auto& version : g.versions) {
    w.StartObject();
    field(w, "version", version);
    key(w, "resources");
    w.StartArray();
    for (const auto& t : types) {
      if (t.group == g.group && serves(t, version)) discovery_resource(w, t, version);
    }
    w.EndArray();
    field(w, "freshness", "Current");
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
}

void group_version_entry(json_writer& w, const std::string& group, const std::string& version) {
  w.StartObject();
  field(w, "groupVersion", group_version(group, version));
  field(w, "version", version);
  w.EndObject();
}

// The body of an APIGroup (also an item of APIGroupList).
void api_group_body(json_writer& w, const group_versions& g) {
  field(w, "name", g.group);
  key(w, "versions");
  w.StartArray();
  for (const auto& v : g.versions) group_version_entry(w, g.group, v);
  w.EndArray();
  key(w, "preferredVersion");
  group_version_entry(w, g.group, g.versions.front());
}

// "v<major>[(alpha|beta)<minor>]" as apimachinery's version.CompareKubeAwareVersionStrings
// parses it; rank: 2 GA, 1 beta, 0 alpha.
bool parse_kube_version(const std::string& v, int& rank, long& major, long& minor) {
  // Reads the digits at `pos`; false when there are none.
  auto number = [&](size_t& pos, long& out) {
    size_t start = pos;
    while (pos < v.size() && std::isdigit(static_cast<unsigned char>(v[pos]))) ++pos;
    if (pos == start || pos - start > 9) return false;
    out = std::stol(v.substr(start, pos - start));
    return true;
  };
  size_t pos = 1;
  if (v.empty() || v[0] != 'v' || !number(pos, major)) return false;
  rank = 2;
  minor = 0;
  if (pos == v.size()) return true;
  for (auto [word, word_rank] : {std::pair{"alpha", 0}, std::pair{"beta", 1}}) {
    std::string_view w(word);
    if (v.compare(pos, w.size(), w) == 0) {
      pos += w.size();
      rank = word_rank;
      return number(pos, minor) && pos == v.size();
    }
  }
  return false;
}

// ---- OpenAPI v3 ----

// FNV-1a: stable across runs, so kubectl's cached documents stay valid until the types change.
uint64_t fnv1a(std::string_view s, uint64_t h = 1469598103934665603ull) {
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

std::string openapi_path_of(const std::string& group, const std::string& version) {
  return group.empty() ? "api/" + version : "apis/" + group + "/" + version;
}

std::string openapi_hash(const std::vector<resource_type>& types, const std::string& group,
                         const std::string& version, uint64_t revision) {
  // The document's own format is part of it: kubectl keeps /openapi/v3 documents by hash, and
  // must not reuse one from a kubesim that published no built-in schemas.
  std::string key = std::to_string(revision) + "|" + group + "/" + version + "|schemas-v0.32.9";
  for (const auto& t : types) {
    if (t.group != group || !serves(t, version)) continue;
    key += "|" + t.plural + "," + t.kind + "," + (t.namespaced ? "n" : "c") +
           (t.has_status ? "s" : "") + (t.custom ? "x" : "");
  }
  char hex[33];
  std::snprintf(hex, sizeof hex, "%016llX%016llX", static_cast<unsigned long long>(fnv1a(key)),
                static_cast<unsigned long long>(fnv1a(key, 0x84222325cbf29ce4ull)));
  return hex;
}

// "db.orange.com" -> "DbOrangeCom", "rbac.authorization.k8s.io" -> "RbacAuthorization".
std::string camel(std::string_view s) {
  constexpr std::string_view suffix = ".k8s.io";
  if (s.size() > suffix.size() && s.substr(s.size() - suffix.size()) == suffix) {
    s.remove_suffix(suffix.size());
  }
  std::string out;
  bool upper = true;
  for (char c : s) {
    if (c == '.' || c == '-') {
      upper = true;
      continue;
    }
    out += upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c;
    upper = false;
  }
  return out;
}

void parameter(json_writer& w, std::string_view name, std::string_view in,
               std::string_view description, std::string_view type = "string") {
  w.StartObject();
  field(w, "name", name);
  field(w, "in", in);
  field(w, "description", description);
  if (in == "path") {
    key(w, "required");
    w.Bool(true);
  }
  key(w, "schema");
  w.StartObject();
  field(w, "type", type);
  w.EndObject();
  w.EndObject();
}

// The path parameters, declared once per path item as kube-apiserver does.
void path_parameters(json_writer& w, const resource_type& t, bool item) {
  key(w, "parameters");
  w.StartArray();
  if (item) parameter(w, "name", "path", "name of the " + t.kind);
  if (t.namespaced) {
    parameter(w, "namespace", "path", "object name and auth scope, such as for teams and projects");
  }
  w.EndArray();
}

enum class op { get, list, create, replace, patch, remove };

void operation(json_writer& w, const resource_type& t, const std::string& version, op o,
               std::string_view suffix) {
  static constexpr const char* kVerb[] = {"read", "list", "create", "replace", "patch", "delete"};
  static constexpr const char* kAction[] = {"get", "list", "post", "put", "patch", "delete"};
  const bool writes = o == op::create || o == op::replace || o == op::patch;
  const std::string group_camel = t.group.empty() ? "Core" : camel(t.group);
  std::string version_camel = version;
  version_camel[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(version[0])));

  w.StartObject();
  field(w, "operationId",
        std::string(kVerb[static_cast<int>(o)]) + group_camel + version_camel +
            (t.namespaced ? "Namespaced" : "") + t.kind + std::string(suffix));
  key(w, "parameters");
  w.StartArray();
  if (writes) {
    parameter(w, "dryRun", "query",
              "When present, indicates that modifications should not be "
              "persisted.");
    parameter(w, "fieldManager", "query",
              "fieldManager is a name associated with the actor or "
              "entity that is making these changes.");
    // What kubectl's queryParamVerifierV3 looks for before sending fieldValidation=Strict.
    parameter(w, "fieldValidation", "query",
              "fieldValidation instructs the server on how to handle objects in the request "
              "containing unknown or duplicate fields. Valid values are: Ignore, Warn, Strict.");
  }
  if (o == op::patch) {
    parameter(w, "force", "query", "Force is going to \"force\" Apply requests.", "boolean");
  }
  w.EndArray();
  if (writes) {
    key(w, "requestBody");
    w.StartObject();
    key(w, "content");
    w.StartObject();
    std::vector<std::string> types;
    if (o == op::patch) {
      types = {"application/json-patch+json", "application/merge-patch+json"};
      // Only built-ins take strategic merge; for CRs kubectl would build one from no schema.
      if (!t.custom) types.push_back("application/strategic-merge-patch+json");
      types.push_back("application/apply-patch+yaml");
    } else {
      types = {"application/json", "application/yaml"};
    }
    for (const auto& type : types) {
      key(w, type);
      w.StartObject();
      key(w, "schema");
      w.StartObject();
      field(w, "type", "object");
      w.EndObject();
      w.EndObject();
    }
    w.EndObject();
    key(w, "required");
    w.Bool(true);
    w.EndObject();
  }
  key(w, "responses");
  w.StartObject();
  key(w, "200");
  w.StartObject();
  field(w, "description", "OK");
  w.EndObject();
  if (o == op::create || o == op::replace || o == op::patch) {
    key(w, "201");
    w.StartObject();
    field(w, "description", "Created");
    w.EndObject();
  }
  w.EndObject();
  field(w, "x-kubernetes-action", kAction[static_cast<int>(o)]);
  group_version_kind(w, "x-kubernetes-group-version-kind", t, version);
  w.EndObject();
}

// One path item: an operation per HTTP method, then the path parameters. `suffix` ends the
// operationIds ("Status" for the subresource); `item` says the path names one object.
void path_item(json_writer& w, const resource_type& t, const std::string& version,
               const std::string& path, std::string_view suffix, bool item,
               std::initializer_list<std::pair<const char*, op>> methods) {
  key(w, path);
  w.StartObject();
  for (const auto& [method, o] : methods) {
    key(w, method);
    operation(w, t, version, o, suffix);
  }
  path_parameters(w, t, item);
  w.EndObject();
}

void openapi_paths_of(json_writer& w, const resource_type& t, const std::string& version) {
  std::string collection = (t.group.empty() ? "/api/" : "/apis/" + t.group + "/") + version +
                           (t.namespaced ? "/namespaces/{namespace}/" : "/") + t.plural;
  path_item(w, t, version, collection, "", false, {{"get", op::list}, {"post", op::create}});
  path_item(w, t, version, collection + "/{name}", "", true,
            {{"get", op::get}, {"put", op::replace}, {"delete", op::remove}, {"patch", op::patch}});
  if (t.has_status)
    path_item(w, t, version, collection + "/{name}/status", "Status", true,
              {{"get", op::get}, {"put", op::replace}, {"patch", op::patch}});
}

}  // namespace

bool version_preferred(const std::string& a, const std::string& b) {
  int rank_a = 0, rank_b = 0;
  long major_a = 0, major_b = 0, minor_a = 0, minor_b = 0;
  bool kube_a = parse_kube_version(a, rank_a, major_a, minor_a);
  bool kube_b = parse_kube_version(b, rank_b, major_b, minor_b);
  if (!kube_a || !kube_b) return kube_a == kube_b ? a < b : kube_a;
  if (rank_a != rank_b) return rank_a > rank_b;
  if (major_a != major_b) return major_a > major_b;
  return minor_a > minor_b;
}

std::string version_info() {
  return json_object([&](json_writer& w) {
    field(w, "major", "1");
    field(w, "minor", "32");
    field(w, "gitVersion", "v1.32.4");
    field(w, "gitCommit", "59526cd4867447956156ae3a602fcbac5a5c7e5a");
    field(w, "gitTreeState", "clean");
    field(w, "buildDate", "2025-04-22T15:53:41Z");
    field(w, "goVersion", "go1.23.6");
    field(w, "compiler", "gc");
    field(w, "platform", "linux/amd64");
  });
}

std::string aggregated_discovery(const std::vector<resource_type>& types, bool legacy_core) {
  return json_object([&](json_writer& w) {
    field(w, "kind", "APIGroupDiscoveryList");
    field(w, "apiVersion", "apidiscovery.k8s.io/v2");
    key(w, "metadata");
    w.StartObject();
    w.EndObject();
    key(w, "items");
    w.StartArray();
    if (legacy_core) {
      // /api always has its one item: the core group, version v1.
      discovery_group(w, types, {"", {"v1"}});
    } else {
      for (const auto& g : served_groups(types)) {
        if (!g.group.empty()) discovery_group(w, types, g);
      }
    }
    w.EndArray();
  });
}

std::string api_versions(const std::string& server_address) {
  return json_object([&](json_writer& w) {
    field(w, "kind", "APIVersions");
    key(w, "versions");
    string_array(w, {"v1"});
    key(w, "serverAddressByClientCIDRs");
    w.StartArray();
    w.StartObject();
    field(w, "clientCIDR", "0.0.0.0/0");
    field(w, "serverAddress", server_address);
    w.EndObject();
    w.EndArray();
  });
}

std::string api_group_list(const std::vector<resource_type>& types) {
  return json_object([&](json_writer& w) {
    field(w, "kind", "APIGroupList");
    field(w, "apiVersion", "v1");
    key(w, "groups");
    w.StartArray();
    for (const auto& g : served_groups(types)) {
      if (g.group.empty()) continue;
      w.StartObject();
      api_group_body(w, g);
      w.EndObject();
    }
    w.EndArray();
  });
}

std::string api_group(const std::vector<resource_type>& types, const std::string& group) {
  auto groups = served_groups(types);
  const group_versions* g = find_group(groups, group);
  if (group.empty() || !g) return "";
  return json_object([&](json_writer& w) {
    field(w, "kind", "APIGroup");
    field(w, "apiVersion", "v1");
    api_group_body(w, *g);
  });
}

std::string api_resource_list(const std::vector<resource_type>& types, const std::string& group,
                              const std::string& version) {
  // /api/v1 exists even with no core kinds, like /api's discovery item.
  if (!serves_group_version(types, group, version) && !(group.empty() && version == "v1"))
    return "";
  return json_object([&](json_writer& w) {
    field(w, "kind", "APIResourceList");
    if (!group.empty()) field(w, "apiVersion", "v1");  // /api/v1 has none on a real server
    field(w, "groupVersion", group_version(group, version));
    key(w, "resources");
    w.StartArray();
    for (const auto& t : types) {
      if (t.group != group || !serves(t, version)) continue;
      w.StartObject();
      api_resource_head(w, t, t.plural, t.singular);
      verbs_and_names(w, t);
      w.EndObject();
      if (scale::paths_of(t, version)) {
        w.StartObject();
        field(w, "name", t.plural + "/scale");
        field(w, "singularName", "");
        key(w, "namespaced");
        w.Bool(t.namespaced);
        field(w, "group", "autoscaling");
        field(w, "version", "v1");
        field(w, "kind", "Scale");
        key(w, "verbs");
        string_array(w, status_verbs());
        w.EndObject();
      }
      if (t.has_status) {
        w.StartObject();
        api_resource_head(w, t, t.plural + "/status", "");
        key(w, "verbs");
        string_array(w, status_verbs());
        w.EndObject();
      }
    }
    w.EndArray();
  });
}

std::string openapi_v3_root(const std::vector<resource_type>& types, uint64_t revision) {
  return json_object([&](json_writer& w) {
    key(w, "paths");
    w.StartObject();
    for (const auto& g : served_groups(types)) {
      for (const auto& v : g.versions) {
        std::string path = openapi_path_of(g.group, v);
        key(w, path);
        w.StartObject();
        field(w, "serverRelativeURL",
              "/openapi/v3/" + path + "?hash=" + openapi_hash(types, g.group, v, revision));
        w.EndObject();
      }
    }
    w.EndObject();
  });
}

std::string openapi_v3_group_version(const std::vector<resource_type>& types,
                                     const std::string& path, uint64_t /*revision*/) {
  // "api/v1" or "apis/<group>/<version>".
  std::string group, version;
  if (path.rfind("api/", 0) == 0) {
    version = path.substr(4);
  } else if (path.rfind("apis/", 0) == 0) {
    auto slash = path.rfind('/');
    if (slash <= 5) return "";
    group = path.substr(5, slash - 5);
    version = path.substr(slash + 1);
  } else {
    return "";
  }
  if (version.empty() || version.find('/') != std::string::npos) return "";
  if (!serves_group_version(types, group, version)) return "";

  return json_object([&](json_writer& w) {
    field(w, "openapi", "3.0.0");
    key(w, "info");
    w.StartObject();
    field(w, "title", "Kubernetes");
    field(w, "version", "v1.32.4");
    w.EndObject();
    key(w, "paths");
    w.StartObject();
    for (const auto& t : types) {
      if (t.group == group && serves(t, version)) openapi_paths_of(w, t, version);
    }
    w.EndObject();
    // The built-in kinds' schemas (kubectl explain, client-side apply); none yet for CRDs.
    std::vector<std::string> builtin_kinds;
    for (const auto& t : types)
      if (!t.custom && t.group == group && serves(t, version)) builtin_kinds.push_back(t.kind);
    key(w, "components");
    w.StartObject();
    key(w, "schemas");
    std::string schemas = builtin_openapi::schemas_json(group, version, builtin_kinds);
    w.RawValue(schemas.data(), schemas.size(), rapidjson::kObjectType);
    w.EndObject();
  });
}

}  // namespace kubesim
