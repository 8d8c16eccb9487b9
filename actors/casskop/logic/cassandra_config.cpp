#include "actors/casskop/logic/cassandra_config.h"

#include <string_view>
#include <vector>

#include "actors/casskop/logic/go_json.h"
#include "actors/casskop/logic/json_build.h"
#include "actors/casskop/logic/quantity.h"

namespace casskop {

namespace js = k8s::json;

namespace {

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (;;) {
    size_t p = s.find(sep, start);
    parts.push_back(s.substr(start, p == std::string::npos ? std::string::npos : p - start));
    if (p == std::string::npos) return parts;
    start = p + 1;
  }
}

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// A Go map holds one value per key, the last one decoded: drop earlier repeats, recursively.
void keep_last_of_repeated_keys(js::Value& v, js::Allocator& a) {
  if (v.IsArray()) {
    for (auto& e : v.GetArray()) keep_last_of_repeated_keys(e, a);
    return;
  }
  if (!v.IsObject()) return;
  js::Value out = jb::object();
  for (auto& m : v.GetObject()) {
    keep_last_of_repeated_keys(m.value, a);
    auto existing = out.FindMember(m.name);
    if (existing != out.MemberEnd())
      existing->value = m.value;
    else
      out.AddMember(m.name, m.value, a);
  }
  v = out;
}

// gabs v1.4.0 Set (gabs.go:248): missing or null intermediates become objects; a scalar or an
// array in the way makes it a no-op.
void gabs_set(js::Value& root, const std::vector<std::string>& path, js::Value value,
              js::Allocator& a) {
  js::Value* node = &root;
  for (size_t i = 0; i < path.size(); ++i) {
    if (!node->IsObject()) return;
    auto it = node->FindMember(path[i].c_str());
    if (i + 1 == path.size()) {
      if (it != node->MemberEnd())
        it->value = value;
      else
        jb::add(*node, path[i], std::move(value), a);
      return;
    }
    if (it == node->MemberEnd()) {
      jb::add(*node, path[i], jb::object(), a);
      it = node->FindMember(path[i].c_str());
    } else if (it->value.IsNull()) {
      it->value = jb::object();
    }
    node = &it->value;
  }
}

// gabs MergeFn with "source wins" (gabs.go:434, generator.go:761): objects on both sides merge
// key by key, anything else is replaced by the source's value.
void gabs_merge(js::Value& dest, const js::Value& source, js::Allocator& a) {
  for (const auto& m : source.GetObject()) {
    auto it = dest.FindMember(m.name);
    if (it != dest.MemberEnd() && it->value.IsObject() && m.value.IsObject())
      gabs_merge(it->value, m.value, a);
    else if (it != dest.MemberEnd())
      it->value.CopyFrom(m.value, a);
    else
      dest.AddMember(js::Value(m.name, a), js::Value(m.value, a), a);
  }
}

// mergeConfig (generator.go:754); on 4.x the user's jvm-options are renamed jvm-server-options.
void merge_config(js::Value& dest, const json_value& config, const std::string& server_version,
                  js::Allocator& a) {
  if (!config.present() || !config.doc.IsObject()) return;  // gabs ignores a non-object
  js::Value parsed(config.doc, a);
  keep_last_of_repeated_keys(parsed, a);
  if (starts_with(server_version, "4")) {
    auto it = parsed.FindMember("jvm-options");
    if (it != parsed.MemberEnd()) {
      js::Value moved(it->value, a);
      gabs_set(parsed, {"jvm-server-options"}, std::move(moved), a);
      parsed.RemoveMember("jvm-options");
    }
  }
  gabs_merge(dest, parsed, a);
}

// gabs Path(..).Data() == nil (generator.go:693): absent or null; an array on the way is a
// no-op either way (gabs maps the search over it, and a Set through it fails).
bool unset_for_defaults(const js::Value& root, const std::string& key, const std::string& sub) {
  auto it = root.FindMember(key.c_str());
  if (it == root.MemberEnd() || it->value.IsNull()) return true;
  if (!it->value.IsObject()) return !it->value.IsArray();  // a scalar: Set fails anyway
  auto s = it->value.FindMember(sub.c_str());
  return s == it->value.MemberEnd() || s->value.IsNull();
}

}  // namespace

std::string detected_server_version(const cluster_spec& spec) {
  if (!spec.server_version.empty()) return spec.server_version;
  auto image = split(spec.cassandra_image, ':');
  if (image.size() < 2) return "";
  auto version = split(image.back(), '-');
  std::string v = version[0];
  if (version.size() != 1) v += ".0";
  return v;
}

std::string detected_server_type(const cluster_spec& spec) {
  if (!spec.server_type.empty()) return spec.server_type;
  auto image = split(spec.cassandra_image, ':');
  return image[0].find("dse") != std::string::npos ? "dse" : "cassandra";
}

js::Document cluster_resources(const cluster_spec& spec) {
  js::Document d;
  d.SetObject();
  if (spec.resources.present() && spec.resources.doc.IsObject())
    d.CopyFrom(spec.resources.doc, d.GetAllocator());
  if (!d.HasMember("limits") && d.HasMember("requests")) {
    js::Value limits(d["requests"], d.GetAllocator());
    jb::add(d, "limits", std::move(limits), d.GetAllocator());
  }
  return d;
}

jvm_heap jvm_heap_of(const js::Value& resources) {
  const js::Value* memory = js::find_path(resources, {"limits", "memory"});
  std::optional<int64_t> bytes;
  if (memory && memory->IsString()) bytes = quantity_value(js::view(*memory));
  if (memory && memory->IsNumber()) bytes = quantity_value(js::to_string(*memory));
  if (!bytes || *bytes == 0) return {"2048M", "512M"};
  double max_bytes = static_cast<double>(*bytes) / 4;
  int max_mb = static_cast<int>(max_bytes / static_cast<double>(1024 * 1024));
  return {std::to_string(max_mb) + "M", std::to_string(max_mb / 4) + "M"};
}

std::string config_file_data(const parsed_cluster& cc, const std::string& dc,
                             const std::string& rack, const std::string& seeds) {
  const cluster_spec& spec = cc.spec;
  const std::string server_version = detected_server_version(spec);
  js::Document doc;
  doc.SetObject();
  auto& a = doc.GetAllocator();
  js::Value cluster_info = jb::object();
  jb::add_str(cluster_info, "name", cc.name, a);
  jb::add_str(cluster_info, "seeds", seeds, a);
  jb::add(doc, "cluster-info", std::move(cluster_info), a);
  js::Value dc_info = jb::object();
  jb::add_str(dc_info, "name", dc, a);
  jb::add(doc, "datacenter-info", std::move(dc_info), a);

  merge_config(doc, spec.config, server_version, a);
  if (const dc_spec* d = find_dc(spec, dc)) {
    merge_config(doc, d->config, server_version, a);
    for (const auto& r : d->racks)
      if (r.name == rack) {
        merge_config(doc, r.config, server_version, a);
        break;
      }
  }

  // The defaults' key for the heap follows spec.serverVersion as written, not the detected
  // version (generator.go:748 jvmOptionName): a 4.x image without serverVersion gets its
  // defaults under jvm-options while the user's jvm-options were renamed jvm-server-options.
  const std::string jvm_key =
      starts_with(spec.server_version, "4") ? "jvm-server-options" : "jvm-options";
  js::Document resources = cluster_resources(spec);
  jvm_heap heap = jvm_heap_of(resources);
  struct default_value {
    std::string key, sub;
    js::Value value;
  };
  std::vector<default_value> defaults;
  defaults.push_back({"cassandra-yaml", "read_request_timeout_in_ms", js::Value(5000)});
  defaults.push_back({"cassandra-yaml", "write_request_timeout_in_ms", js::Value(5000)});
  defaults.push_back({"cassandra-yaml", "counter_write_request_timeout_in_ms", js::Value(5000)});
  defaults.push_back({"logback-xml", "debuglog-enabled", js::Value(false)});
  defaults.push_back({jvm_key, "initial_heap_size", jb::str(heap.initial_heap_size, a)});
  defaults.push_back({jvm_key, "max_heap_size", jb::str(heap.max_heap_size, a)});
  defaults.push_back({jvm_key, "cassandra_ring_delay_ms", js::Value(30000)});
  defaults.push_back({jvm_key, "jmx-connection-type", jb::str("remote-no-auth", a)});
  for (auto& d : defaults)
    if (unset_for_defaults(doc, d.key, d.sub)) gabs_set(doc, {d.key, d.sub}, std::move(d.value), a);

  return go_marshal(doc);
}

}  // namespace casskop
