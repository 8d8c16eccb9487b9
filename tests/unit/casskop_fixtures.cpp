#include "tests/unit/casskop_fixtures.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "k8s/json/yaml_json.h"
#include "tools/kubesim/builtin_decode.h"
#include "tools/kubesim/builtin_defaults.h"
#include "tools/kubesim/builtin_validation.h"
#include "tools/kubesim/crd_schema.h"
#include "tools/kubesim/object_meta.h"
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

// ---- resource.Quantity ------------------------------------------------------------------

using int128 = __int128;

int128 pow10(int n) {
  int128 r = 1;
  while (n-- > 0) r *= 10;
  return r;
}

std::string to_decimal(int128 v) {
  if (v == 0) return "0";
  bool neg = v < 0;
  if (neg) v = -v;
  std::string s;
  while (v > 0) {
    s.push_back(char('0' + int(v % 10)));
    v /= 10;
  }
  if (neg) s.push_back('-');
  return {s.rbegin(), s.rend()};
}

// Decimal SI suffixes by power of ten, binary ones by power of two.
const std::map<std::string, int>& decimal_suffixes() {
  static const std::map<std::string, int> m{{"n", -9}, {"u", -6}, {"m", -3}, {"", 0},   {"k", 3},
                                            {"M", 6},  {"G", 9},  {"T", 12}, {"P", 15}, {"E", 18}};
  return m;
}
const std::map<std::string, int>& binary_suffixes() {
  static const std::map<std::string, int> m{{"Ki", 10}, {"Mi", 20}, {"Gi", 30},
                                            {"Ti", 40}, {"Pi", 50}, {"Ei", 60}};
  return m;
}

// The canonical decimal form of n x 10^e (AsCanonicalBytes: integral mantissa without trailing
// zeros moved into the exponent, the exponent lowered to a multiple of 3).
std::string decimal_form(int128 n, int e, bool exponent_format, const std::string& q) {
  if (e < -3) {  // SetDefaults_ResourceList: RoundUp(-3)
    int128 d = pow10(-3 - e);
    bool neg = n < 0;
    int128 a = neg ? -n : n;
    a = (a + d - 1) / d;
    n = neg ? -a : a;
    e = -3;
  }
  if (n == 0) return "0";
  while (n % 10 == 0) {
    n /= 10;
    ++e;
  }
  while (((e % 3) + 3) % 3 != 0) {
    n *= 10;
    --e;
  }
  if (exponent_format) return to_decimal(n) + (e == 0 ? "" : "e" + std::to_string(e));
  for (const auto& [suffix, power] : decimal_suffixes())
    if (power == e) return to_decimal(n) + suffix;
  throw fixture_error("quantity out of the range this helper canonicalizes: " + q);
}

}  // namespace

std::string canonical_quantity(const std::string& q) {
  // ParseQuantity: sign, digits with at most one '.', then the suffix.
  size_t i = 0;
  bool neg = false;
  if (i < q.size() && (q[i] == '+' || q[i] == '-')) neg = q[i++] == '-';
  int128 mantissa = 0;
  int fraction_digits = 0, digits = 0;
  bool dot = false;
  for (; i < q.size() && (std::isdigit(static_cast<unsigned char>(q[i])) || q[i] == '.'); ++i) {
    if (q[i] == '.') {
      if (dot) throw fixture_error("not a quantity: " + q);
      dot = true;
      continue;
    }
    if (++digits > 30) throw fixture_error("quantity too long for this helper: " + q);
    mantissa = mantissa * 10 + (q[i] - '0');
    if (dot) ++fraction_digits;
  }
  if (digits == 0) throw fixture_error("not a quantity: " + q);
  if (neg) mantissa = -mantissa;
  const std::string suffix = q.substr(i);
  if (auto b = binary_suffixes().find(suffix); b != binary_suffixes().end()) {
    int128 scaled = mantissa * (int128(1) << b->second);
    int128 unit = pow10(fraction_digits);
    // CanonicalizeBytes: a binary quantity prints in binary only when it is a whole number of
    // at least 1024 in absolute value; otherwise as DecimalSI.
    if (scaled % unit == 0) {
      int128 bytes = scaled / unit;
      if (bytes >= 1024 || bytes <= -1024) {
        int power = 0;
        while (bytes % 1024 == 0 && power < 60) {
          bytes /= 1024;
          power += 10;
        }
        for (const auto& [s, p] : binary_suffixes())
          if (p == power) return to_decimal(bytes) + s;
        return to_decimal(bytes);
      }
    }
    return decimal_form(scaled, -fraction_digits, false, q);
  }
  if (auto d = decimal_suffixes().find(suffix); d != decimal_suffixes().end())
    return decimal_form(mantissa, d->second - fraction_digits, false, q);
  if (suffix.size() > 1 && (suffix[0] == 'e' || suffix[0] == 'E')) {
    int e = 0;
    try {
      size_t used = 0;
      e = std::stoi(suffix.substr(1), &used);
      if (used != suffix.size() - 1) throw fixture_error("bad exponent");
    } catch (const std::exception&) {
      throw fixture_error("not a quantity: " + q);
    }
    return decimal_form(mantissa, e - fraction_digits, true, q);
  }
  throw fixture_error("not a quantity: " + q);
}

namespace {

void canonicalize_list(js::Value& list, js::Allocator& a) {
  if (!list.IsObject()) return;
  for (auto& m : list.GetObject()) {
    std::string written = m.value.IsString()  ? std::string(js::view(m.value))
                          : m.value.IsInt64() ? std::to_string(m.value.GetInt64())
                                              : "";
    if (written.empty()) continue;  // the decoder refused anything else already
    m.value = js::string_value(canonical_quantity(written), a);
  }
}

// Every ResourceList (resources.limits/requests, a claim's resources) and emptyDir.sizeLimit.
void canonicalize_quantities(js::Value& v, js::Allocator& a) {
  if (v.IsArray()) {
    for (auto& e : v.GetArray()) canonicalize_quantities(e, a);
    return;
  }
  if (!v.IsObject()) return;
  for (auto& m : v.GetObject()) {
    std::string_view key = js::view(m.name);
    if (key == "resources" && m.value.IsObject()) {
      for (auto& r : m.value.GetObject())
        if (js::view(r.name) == "limits" || js::view(r.name) == "requests")
          canonicalize_list(r.value, a);
    } else if (key == "sizeLimit" && (m.value.IsString() || m.value.IsInt64())) {
      std::string written =
          m.value.IsString() ? std::string(js::view(m.value)) : std::to_string(m.value.GetInt64());
      m.value = js::string_value(canonical_quantity(written), a);
    } else {
      canonicalize_quantities(m.value, a);
    }
  }
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

}  // namespace

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
  canonicalize_quantities(obj, a);
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
