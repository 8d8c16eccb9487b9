#include "tools/kubesim/request_info.h"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

namespace kubesim {

namespace {

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i <= s.size()) {
    size_t j = s.find(sep, i);
    if (j == std::string::npos) j = s.size();
    out.push_back(s.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

std::vector<std::string> path_parts(const std::string& path) {
  // splitPath: trim the slashes at both ends, then split on "/".
  size_t b = path.find_first_not_of('/');
  if (b == std::string::npos) return {};
  size_t e = path.find_last_not_of('/');
  return split(path.substr(b, e - b + 1), '/');
}

const std::string* query_value(const k8s::http::header_list& q, const char* key) {
  for (const auto& [k, v] : q)
    if (k == key) return &v;
  return nullptr;
}

// fields.Selector.RequiresExactMatch("metadata.name") on the raw selector text.
std::string exact_name(const std::string& selector) {
  for (auto term : split(selector, ',')) {
    auto t = term;
    t.erase(std::remove_if(t.begin(), t.end(), [](unsigned char c) { return std::isspace(c); }),
            t.end());
    for (const char* prefix : {"metadata.name==", "metadata.name="})
      if (t.rfind(prefix, 0) == 0 && t.find("!=") == std::string::npos)
        return t.substr(std::string(prefix).size());
  }
  return "";
}

// path.IsValidPathSegmentName: not "." or "..", no "/" or "%".
bool valid_path_segment(const std::string& n) {
  return !n.empty() && n != "." && n != ".." && n.find_first_of("/%") == std::string::npos;
}

}  // namespace

bool user_info::in_group(const std::string& g) const {
  return std::find(groups.begin(), groups.end(), g) != groups.end();
}

request_attributes request_attributes_of(const std::string& method, const std::string& path,
                                         const k8s::http::header_list& query) {
  request_attributes a;
  a.path = path;
  a.verb = method;
  for (auto& c : a.verb) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  auto parts = path_parts(path);
  if (parts.size() < 3 || (parts[0] != "api" && parts[0] != "apis")) return a;
  size_t i = 1;
  if (parts[0] == "apis") {
    if (parts.size() < 4) return a;
    a.api_group = parts[i++];
  }
  a.resource_request = true;
  a.api_version = parts[i++];
  bool verb_via_path = false;
  if (parts[i] == "watch" || parts[i] == "proxy") {
    // The deprecated /watch/ and /proxy/ prefixes name the verb.
    a.verb = parts[i++];
    verb_via_path = true;
    if (i >= parts.size()) return a;
  } else if (method == "POST") {
    a.verb = "create";
  } else if (method == "GET" || method == "HEAD") {
    a.verb = "get";
  } else if (method == "PUT") {
    a.verb = "update";
  } else if (method == "PATCH") {
    a.verb = "patch";
  } else if (method == "DELETE") {
    a.verb = "delete";
  } else {
    a.verb = "";
  }
  std::vector<std::string> rest(parts.begin() + static_cast<long>(i), parts.end());
  if (rest[0] == "namespaces" && rest.size() > 1) {
    a.ns = rest[1];
    if (rest.size() > 2 && rest[2] != "status" && rest[2] != "finalize")
      rest.erase(rest.begin(), rest.begin() + 2);
  }
  if (rest.size() >= 3 && a.verb != "proxy") a.subresource = rest[2];
  if (rest.size() >= 2) a.name = rest[1];
  a.resource = rest[0];
  (void)verb_via_path;
  if (a.name.empty() && a.verb == "get") {
    const std::string* watch = query_value(query, "watch");
    bool is_watch = false;
    if (watch) {
      std::string w = *watch;
      for (auto& c : w) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      is_watch = !(w == "false" || w == "0");
    }
    a.verb = is_watch ? "watch" : "list";
    if (const std::string* fs = query_value(query, "fieldSelector")) {
      auto n = exact_name(*fs);
      if (valid_path_segment(n)) a.name = n;
    }
  }
  if (a.name.empty() && a.verb == "delete") a.verb = "deletecollection";
  // The connect subresources a WebSocket client reaches with GET also need `create` (v1.32,
  // feature AuthorizePodWebsocketUpgradeCreatePermission, on by default since v1.30): kubesim
  // checks create alone, as for POST (the real server checks get, then create).
  if (a.verb == "get" && a.resource == "pods" &&
      (a.subresource == "exec" || a.subresource == "attach" || a.subresource == "portforward"))
    a.verb = "create";
  return a;
}

std::string forbidden_message(const user_info& u, const request_attributes& a,
                              const std::string& reason) {
  std::string msg;
  if (!a.resource_request) {
    msg = fmt::format("User \"{}\" cannot {} path \"{}\"", u.name, a.verb, a.path);
  } else {
    std::string resource = a.resource;
    if (!a.subresource.empty()) resource += "/" + a.subresource;
    msg =
        a.ns.empty()
            ? fmt::format(
                  "User \"{}\" cannot {} resource \"{}\" in API group \"{}\" at the cluster scope",
                  u.name, a.verb, resource, a.api_group)
            : fmt::format(
                  "User \"{}\" cannot {} resource \"{}\" in API group \"{}\" in the namespace "
                  "\"{}\"",
                  u.name, a.verb, resource, a.api_group, a.ns);
  }
  // The sanitizer keeps the message from looking like HTML.
  std::string out;
  for (char c : msg) {
    if (c == '&')
      out += "&amp;";
    else if (c == '<')
      out += "&lt;";
    else if (c == '>')
      out += "&gt;";
    else
      out += c;
  }
  return reason.empty() ? out : out + ": " + reason;
}

api_error forbidden_error(const user_info& u, const request_attributes& a,
                          const std::string& reason) {
  std::string text = forbidden_message(u, a, reason);
  std::string gr = a.api_group.empty() ? a.resource : a.resource + "." + a.api_group;
  std::string message = gr.empty() ? "forbidden: " + text
                        : a.name.empty()
                            ? gr + " is forbidden: " + text
                            : fmt::format("{} \"{}\" is forbidden: {}", gr, a.name, text);
  api_error e = forbidden(message);
  e.name = a.name;
  e.group = a.api_group;
  e.kind = a.resource;
  e.empty_details = true;
  return e;
}

}  // namespace kubesim
