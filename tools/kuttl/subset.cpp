#include "tools/kuttl/subset.h"

namespace kuttl {
namespace {

namespace js = k8s::json;

bool scalar_equal(const js::Value& e, const js::Value& a) {
  if (e.IsNumber() && a.IsNumber()) {
    if (e.IsInt64() && a.IsInt64()) return e.GetInt64() == a.GetInt64();
    return e.GetDouble() == a.GetDouble();
  }
  return e == a;
}

void collect(const js::Value& e, const js::Value& a, const std::string& path,
             std::vector<difference>& out) {
  if (e.IsObject()) {
    if (!a.IsObject()) {
      out.push_back({path.empty() ? "." : path, js::to_string(e), js::to_string(a)});
      return;
    }
    for (const auto& m : e.GetObject()) {
      const std::string key(js::view(m.name));
      const std::string sub = path + "." + key;
      auto it = a.FindMember(m.name);
      if (it == a.MemberEnd()) {
        out.push_back({sub, js::to_string(m.value), "(missing)"});
        continue;
      }
      collect(m.value, it->value, sub, out);
    }
    return;
  }
  if (e.IsArray()) {
    if (!a.IsArray()) {
      out.push_back({path, js::to_string(e), js::to_string(a)});
      return;
    }
    if (e.Size() != a.Size()) {
      // kuttl compares lists element by element and requires the same length.
      out.push_back({path + " (length " + std::to_string(e.Size()) + " expected, " +
                         std::to_string(a.Size()) + " found)",
                     js::to_string(e), js::to_string(a)});
      return;
    }
    for (rapidjson::SizeType i = 0; i < e.Size(); ++i)
      collect(e[i], a[i], path + "[" + std::to_string(i) + "]", out);
    return;
  }
  if (!scalar_equal(e, a)) out.push_back({path, js::to_string(e), js::to_string(a)});
}

}  // namespace

std::vector<difference> subset_differences(const js::Value& expected, const js::Value& actual) {
  std::vector<difference> out;
  collect(expected, actual, "", out);
  return out;
}

std::string describe(const std::vector<difference>& diffs) {
  std::string out;
  for (const auto& d : diffs)
    out += "  " + d.path + ": expected " + d.expected + ", got " + d.actual + "\n";
  return out;
}

}  // namespace kuttl
