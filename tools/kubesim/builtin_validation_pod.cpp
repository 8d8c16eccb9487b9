// ValidatePodSpec and ValidatePodUpdate of pkg/apis/core/validation/validation.go (v1.32),
// reduced to the checks of what our operators and kubectl users write.
#include <algorithm>
#include <cctype>
#include <set>

#include <fmt/format.h>

#include "tools/kubesim/builtin_validation_parts.h"
#include "tools/kubesim/field_errors.h"
#include "tools/kubesim/object_meta.h"

namespace kubesim::builtin {

namespace js = k8s::json;
using js::Value;

namespace {

std::string str(const Value& obj, std::string_view key) {
  return std::string(js::get_string(obj, key));
}

template <typename F>
void for_each_index(const Value* obj, std::string_view key, F f) {
  const Value* list = obj ? js::find(*obj, key) : nullptr;
  if (!list || !list->IsArray()) return;
  for (rapidjson::SizeType i = 0; i < list->Size(); ++i)
    if ((*list)[i].IsObject()) f((*list)[i], i);
}

void one_of(const std::string& value, const std::string& path,
            const std::vector<std::string>& supported, causes& out) {
  if (value.empty()) {
    out.push_back(field::required(path));
  } else if (std::find(supported.begin(), supported.end(), value) == supported.end()) {
    out.push_back(field::not_supported(path, field::go_quote(value), supported));
  }
}

void validate_ports(const Value& container, const std::string& path, causes& out) {
  std::set<std::string> names;
  for_each_index(&container, "ports", [&](const Value& p, size_t i) {
    const std::string at = field::index(path, i);
    const std::string name = str(p, "name");
    if (!name.empty()) {
      auto errs = port_name_errors(name);
      for (const auto& e : errs)
        out.push_back(field::invalid(at + ".name", field::go_quote(name), e));
      if (errs.empty() && !names.insert(name).second)
        out.push_back(field::duplicate(at + ".name", field::go_quote(name)));
    }
    const int64_t port = js::get_int(p, {"containerPort"}, 0);
    if (port == 0)
      out.push_back(field::required(at + ".containerPort"));
    else
      for (const auto& e : port_num_errors(port))
        out.push_back(field::invalid(at + ".containerPort", std::to_string(port), e));
    if (const int64_t host = js::get_int(p, {"hostPort"}, 0); host != 0)
      for (const auto& e : port_num_errors(host))
        out.push_back(field::invalid(at + ".hostPort", std::to_string(host), e));
    const std::string protocol = str(p, "protocol");
    if (protocol.empty())
      out.push_back(field::required(at + ".protocol"));
    else if (protocol != "TCP" && protocol != "UDP" && protocol != "SCTP")
      out.push_back(field::not_supported(at + ".protocol", field::go_quote(protocol),
                                         {"SCTP", "TCP", "UDP"}));
  });
}

// validateContainers / validateInitContainers: one list, names unique across both.
void validate_containers(const Value* spec, const char* list, const std::string& path,
                         const std::set<std::string>& volumes, std::set<std::string>& names,
                         causes& out) {
  for_each_index(spec, list, [&](const Value& c, size_t i) {
    const std::string at = field::index(path, i);
    const std::string name = str(c, "name");
    if (name.empty()) {
      out.push_back(field::required(at + ".name"));
    } else {
      for (const auto& e : validate_dns1123_label(name))
        out.push_back(field::invalid(at + ".name", field::go_quote(name), e));
      if (!names.insert(name).second)
        out.push_back(field::duplicate(at + ".name", field::go_quote(name)));
    }
    const std::string image = str(c, "image");
    if (image.empty())
      out.push_back(field::required(at + ".image"));
    else if (image.front() == ' ' || image.back() == ' ')
      out.push_back(field::invalid(at + ".image", field::go_quote(image),
                                   "must not have leading or trailing whitespace"));
    validate_ports(c, at + ".ports", out);
    for_each_index(&c, "volumeMounts", [&](const Value& m, size_t j) {
      const std::string mount_at = field::index(at + ".volumeMounts", j);
      const std::string mount = str(m, "name");
      if (mount.empty())
        out.push_back(field::required(mount_at + ".name"));
      else if (!volumes.count(mount))
        out.push_back(not_found(mount_at + ".name", field::go_quote(mount)));
      if (str(m, "mountPath").empty()) out.push_back(field::required(mount_at + ".mountPath"));
    });
    const std::string policy = str(c, "terminationMessagePolicy");
    if (policy.empty())
      out.push_back(field::required(at + ".terminationMessagePolicy",
                                    "must be 'File' or 'FallbackToLogsOnError'"));
    else if (policy != "File" && policy != "FallbackToLogsOnError")
      out.push_back(field::invalid(at + ".terminationMessagePolicy", field::go_quote(policy),
                                   "must be 'File' or 'FallbackToLogsOnError'"));
    one_of(str(c, "imagePullPolicy"), at + ".imagePullPolicy", {"Always", "IfNotPresent", "Never"},
           out);
  });
}

}  // namespace

std::vector<std::string> port_num_errors(int64_t port) {
  if (port >= 1 && port <= 65535) return {};
  return {"must be between 1 and 65535, inclusive"};
}

std::vector<std::string> port_name_errors(const std::string& name) {
  std::vector<std::string> errs;
  if (name.size() > 15) errs.push_back("must be no more than 15 characters");
  bool charset = !name.empty(), letter = false;
  for (char ch : name) {
    charset = charset && ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-');
    letter = letter || (ch >= 'a' && ch <= 'z');
  }
  if (!charset)
    errs.push_back("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)");
  if (!letter) errs.push_back("must contain at least one letter (a-z)");
  if (name.find("--") != std::string::npos) errs.push_back("must not contain consecutive hyphens");
  if (!name.empty() && (name.front() == '-' || name.back() == '-'))
    errs.push_back("must not begin or end with a hyphen");
  return errs;
}

status_cause not_found(const std::string& path, const std::string& value) {
  return {"FieldValueNotFound", path + ": Not found: " + value, path};
}

std::string go_string_map(const Value* m) {
  if (!m || !m->IsObject()) return "map[string]string(nil)";
  std::vector<std::pair<std::string, std::string>> items;
  for (auto& kv : m->GetObject())
    items.emplace_back(std::string(js::view(kv.name)), std::string(js::view(kv.value)));
  std::sort(items.begin(), items.end());
  std::string out = "map[string]string{";
  for (size_t i = 0; i < items.size(); ++i)
    out +=
        (i ? ", " : "") + field::go_quote(items[i].first) + ":" + field::go_quote(items[i].second);
  return out + "}";
}

std::string spec_diff(std::string_view go_type, const Value* old_spec, const Value* new_spec) {
  static const Value empty(rapidjson::kObjectType);
  const Value& before = old_spec && old_spec->IsObject() ? *old_spec : empty;
  const Value& after = new_spec && new_spec->IsObject() ? *new_spec : empty;
  std::set<std::string> keys;
  for (auto& m : before.GetObject()) keys.insert(std::string(js::view(m.name)));
  for (auto& m : after.GetObject()) keys.insert(std::string(js::view(m.name)));
  std::string out = fmt::format("  {}{{\n", go_type);
  size_t same = 0;
  for (const auto& k : keys) {
    const Value* a = js::find(before, k);
    const Value* b = js::find(after, k);
    if (a && b && *a == *b) {
      ++same;
      continue;
    }
    std::string go_name = k;
    go_name[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(go_name[0])));
    if (a) out += fmt::format("- \t{}: {},\n", go_name, js::to_string(*a));
    if (b) out += fmt::format("+ \t{}: {},\n", go_name, js::to_string(*b));
  }
  if (same) out += fmt::format("  \t... // {} identical fields\n", same);
  return out + "  }\n";
}

void validate_pod_spec(const Value* spec, const std::string& path, causes& out) {
  static const Value empty(rapidjson::kObjectType);
  const Value& s = spec && spec->IsObject() ? *spec : empty;
  std::set<std::string> volumes;
  for_each_index(&s, "volumes", [&](const Value& v, size_t i) {
    const std::string at = field::index(path + ".volumes", i);
    const std::string name = str(v, "name");
    if (name.empty()) {
      out.push_back(field::required(at + ".name"));
      return;
    }
    for (const auto& e : validate_dns1123_label(name))
      out.push_back(field::invalid(at + ".name", field::go_quote(name), e));
    if (!volumes.insert(name).second)
      out.push_back(field::duplicate(at + ".name", field::go_quote(name)));
  });
  const Value* containers = js::find(s, "containers");
  std::set<std::string> names;
  if (!containers || !containers->IsArray() || containers->Empty())
    out.push_back(field::required(path + ".containers"));
  else
    validate_containers(&s, "containers", path + ".containers", volumes, names, out);
  validate_containers(&s, "initContainers", path + ".initContainers", volumes, names, out);
  one_of(str(s, "restartPolicy"), path + ".restartPolicy", {"Always", "OnFailure", "Never"}, out);
  one_of(str(s, "dnsPolicy"), path + ".dnsPolicy",
         {"ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"}, out);
  if (const Value* grace = js::find(s, "terminationGracePeriodSeconds");
      grace && grace->IsInt64() && grace->GetInt64() < 0)
    out.push_back(field::invalid(path + ".terminationGracePeriodSeconds",
                                 std::to_string(grace->GetInt64()),
                                 "must be greater than or equal to 0"));
  if (const Value* ads = js::find(s, "activeDeadlineSeconds"); ads && ads->IsInt64()) {
    if (ads->GetInt64() < 1 || ads->GetInt64() > 2147483647)
      out.push_back(field::invalid(path + ".activeDeadlineSeconds", std::to_string(ads->GetInt64()),
                                   "must be between 1 and 2147483647, inclusive"));
  }
}

void validate_pod_spec_update(const Value& spec, const Value& old, causes& out) {
  // "pod updates may not add or remove containers", then the munged comparison.
  auto count = [](const Value& s, const char* list) {
    const Value* l = js::find(s, list);
    return l && l->IsArray() ? l->Size() : 0u;
  };
  for (auto list : {"containers", "initContainers"})
    if (count(spec, list) != count(old, list)) {
      out.push_back(field::forbidden(std::string("spec.") + list,
                                     "pod updates may not add or remove containers"));
      return;
    }
  js::Document munged = js::copy_of(spec);
  auto& a = munged.GetAllocator();
  for (auto list : {"containers", "initContainers"}) {
    const Value* before = js::find(old, list);
    auto* after = const_cast<Value*>(js::find(munged, list));
    if (!before || !after || !after->IsArray()) continue;
    for (rapidjson::SizeType i = 0; i < after->Size(); ++i) {
      if (!(*after)[i].IsObject() || !(*before)[i].IsObject()) continue;
      if (const Value* img = js::find((*before)[i], "image"))
        js::set_member((*after)[i], "image", Value(*img, a), a);
      else
        js::remove_member((*after)[i], "image");
    }
  }
  auto keep_old = [&](const char* key) {
    if (const Value* v = js::find(old, key))
      js::set_member(munged, key, Value(*v, a), a);
    else
      js::remove_member(munged, key);
  };
  keep_old("activeDeadlineSeconds");
  // Tolerations may only be added to.
  const Value* old_tol = js::find(old, "tolerations");
  const Value* new_tol = js::find(munged, "tolerations");
  bool only_added = true;
  if (old_tol && old_tol->IsArray())
    for (const auto& t : old_tol->GetArray()) {
      bool kept = false;
      if (new_tol && new_tol->IsArray())
        for (const auto& n : new_tol->GetArray()) kept = kept || n == t;
      only_added = only_added && kept;
    }
  if (only_added) keep_old("tolerations");
  if (js::get_int(old, {"terminationGracePeriodSeconds"}, 0) < 0 &&
      js::get_int(munged, {"terminationGracePeriodSeconds"}, 0) == 1)
    keep_old("terminationGracePeriodSeconds");
  if (munged == old) return;
  out.push_back(field::forbidden(
      "spec",
      "pod updates may not change fields other than "
      "`spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,"
      "`spec.tolerations` (only additions to existing tolerations),"
      "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously "
      "negative)\n" +
          spec_diff("core.PodSpec", &old, &munged)));
}

}  // namespace kubesim::builtin
