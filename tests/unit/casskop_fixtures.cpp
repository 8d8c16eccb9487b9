#include "tests/unit/casskop_fixtures.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "k8s/json/yaml_json.h"
#include "tools/kubesim/builtin_decode.h"
#include "tools/kubesim/builtin_defaults.h"
#include "tools/kubesim/builtin_validation.h"
#include "tools/kubesim/crd_schema.h"
#include "tools/kubesim/object_meta.h"
#include "tools/kubesim/quantity.h"
#include "tools/kubesim/resource_types.h"

namespace casskop_fixtures {

namespace js = k8s::json;
namespace fs = std::filesystem;

namespace {

const fs::path& fixtures_dir() {
  static const fs::path dir =
      fs::path(SOURCE_DIR) / "tests" / "fixtures" / "casskop-v2.1.0" / "generated";
  return dir;
}

std::vector<std::string> sorted_entries(const fs::path& dir, bool directories) {
  std::vector<std::string> out;
  if (!fs::is_directory(dir)) throw fixture_error("no fixture folder " + dir.string());
  for (const auto& e : fs::directory_iterator(dir)) {
    if (directories ? e.is_directory() : (e.is_regular_file() && e.path().extension() == ".yaml"))
      out.push_back(e.path().filename().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

const kubesim::resource_type& type_of_kind(const std::string& kind) {
  for (const auto& t : kubesim::builtin_types())
    if (t.kind == kind) return t;
  throw fixture_error("no built-in kind " + kind);
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : "; ") + s;
  return out;
}

void collect_differences(const js::Value& e, const js::Value& a, const std::string& path,
                         std::vector<std::string>& out) {
  auto here = [&] { return path.empty() ? std::string("(root)") : path; };
  if (e.IsObject() && a.IsObject()) {
    for (const auto& m : e.GetObject()) {
      const std::string p =
          path.empty() ? std::string(js::view(m.name)) : path + "." + std::string(js::view(m.name));
      if (const js::Value* other = js::find(a, js::view(m.name)))
        collect_differences(m.value, *other, p, out);
      else
        out.push_back(p + ": " + js::to_string(m.value) + " != (absent)");
    }
    for (const auto& m : a.GetObject())
      if (!js::find(e, js::view(m.name)))
        out.push_back((path.empty() ? "" : path + ".") + std::string(js::view(m.name)) +
                      ": (absent) != " + js::to_string(m.value));
    return;
  }
  if (e.IsArray() && a.IsArray()) {
    if (e.Size() != a.Size())
      out.push_back(here() + ": " + std::to_string(e.Size()) +
                    " items != " + std::to_string(a.Size()) + " items");
    for (rapidjson::SizeType i = 0; i < std::min(e.Size(), a.Size()); ++i)
      collect_differences(e[i], a[i], path + "[" + std::to_string(i) + "]", out);
    return;
  }
  if (e != a) out.push_back(here() + ": " + js::to_string(e) + " != " + js::to_string(a));
}

}  // namespace

std::vector<std::string> differences(const js::Value& expected, const js::Value& actual) {
  std::vector<std::string> out;
  collect_differences(expected, actual, "", out);
  return out;
}

std::string v210_fixture_kind(const std::string& file) {
  for (auto [prefix, kind] :
       {std::pair{"statefulset-", "StatefulSet"}, std::pair{"service-", "Service"},
        std::pair{"poddisruptionbudget-", "PodDisruptionBudget"}})
    if (file.rfind(prefix, 0) == 0) return kind;
  throw fixture_error("no kind for the fixture file " + file);
}

std::vector<std::string> stored_differences(const std::string& sample, const std::string& file,
                                            const js::Value& ours) {
  const std::string kind = v210_fixture_kind(file);
  return differences(defaulted(kind, load_v210_fixture(sample, file)), defaulted(kind, ours));
}

std::string canonical_quantity(const std::string& q) {
  auto c = kubesim::canonical_quantity(q);
  if (!c) throw fixture_error("not a quantity (or beyond kubesim's model): " + q);
  return *c;
}

std::vector<std::string> v210_fixture_samples() {
  return sorted_entries(fixtures_dir(), true);
}

std::vector<std::string> v210_fixture_files(const std::string& sample) {
  return sorted_entries(fixtures_dir() / sample, false);
}

js::Document load_v210_fixture(const std::string& sample, const std::string& file) {
  const fs::path path = fixtures_dir() / sample / file;
  std::ifstream in(path);
  if (!in.good()) throw fixture_error("cannot read " + path.string());
  std::stringstream text;
  text << in.rdbuf();
  try {
    js::Document doc = js::yaml_to_json(text.str());
    if (!doc.IsObject()) throw fixture_error(path.string() + " is not one object");
    return doc;
  } catch (const js::yaml_error& e) {
    throw fixture_error(path.string() + ": " + e.what());
  }
}

js::Document defaulted(const std::string& kind, const js::Value& object) {
  const auto& t = type_of_kind(kind);
  js::Document obj = js::copy_of(object);
  auto& a = obj.GetAllocator();
  if (!obj.IsObject()) throw fixture_error(kind + ": not an object");
  // A server of today stores and serves PodDisruptionBudgets as policy/v1 (v1beta1 went in
  // Kubernetes 1.25): the fields v2.1.0 sets have the same names and meaning there.
  if (t.kind == "PodDisruptionBudget" && js::get_string(obj, "apiVersion") == "policy/v1beta1")
    js::set_string(obj, "apiVersion", "policy/v1", a);
  if (std::string api = std::string(js::get_string(obj, "apiVersion"));
      api != t.group_version(t.versions.front()))
    throw fixture_error(kind + ": apiVersion " + api + " is not " +
                        t.group_version(t.versions.front()));
  try {
    auto strict = kubesim::builtin_decode::decode(t, obj);
    if (!strict.empty()) throw fixture_error(kind + ": strict decoding: " + join(strict));
  } catch (const kubesim::crd::decode_error& e) {
    throw fixture_error(kind + ": cannot be decoded: " + e.what());
  }
  kubesim::builtin::apply_defaults(t, obj, a);
  if (t.kind == "Service") {
    // The REST storage: a headless Service's clusterIPs, and its IP families.
    auto& spec = js::ensure_object(obj, "spec", a);
    if (js::get_string(spec, "clusterIP") == "None" && !js::find(spec, "clusterIPs")) {
      js::Value ips(rapidjson::kArrayType);
      ips.PushBack("None", a);
      js::set_member(spec, "clusterIPs", std::move(ips), a);
    }
    kubesim::builtin::set_service_ip_families(obj, a);
  }
  std::vector<std::string> refused;
  if (const js::Value* meta = js::find(obj, "metadata"))
    for (const auto& c : kubesim::validate_metadata_contents(*meta, "metadata"))
      refused.push_back(c.message);
  for (const auto& c : kubesim::builtin::validate_create(t, obj)) refused.push_back(c.message);
  if (!refused.empty()) throw fixture_error(kind + ": the server refuses it: " + join(refused));
  // What the server sets whatever the client sent.
  js::remove_member(obj, "status");
  if (auto* meta = const_cast<js::Value*>(js::find(obj, "metadata")); meta && meta->IsObject())
    for (auto key :
         {"uid", "creationTimestamp", "resourceVersion", "generation", "managedFields", "selfLink"})
      js::remove_member(*meta, key);
  return obj;
}

}  // namespace casskop_fixtures
