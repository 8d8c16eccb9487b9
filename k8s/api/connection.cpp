#include "k8s/api/connection.h"

#include "k8s/json/base64.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <optional>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

namespace k8s {

bool connection_settings::operator==(const connection_settings& o) const {
  return server == o.server && ca_pem == o.ca_pem &&
         insecure_skip_tls_verify == o.insecure_skip_tls_verify && token == o.token &&
         token_file == o.token_file && client_cert_pem == o.client_cert_pem &&
         client_key_pem == o.client_key_pem && namespace_name == o.namespace_name &&
         origin == o.origin && unavailable == o.unavailable;
}

namespace {

namespace fs = std::filesystem;

// Certificates, keys and tokens are small; the cap keeps a path pointing at a huge file from
// eating memory.
constexpr size_t max_file_size = 4 * 1024 * 1024;

std::string quote(const std::string& s) {
  return "\"" + s + "\"";
}

std::string trim(const std::string& s) {
  const char* ws = " \t\r\n\v\f";
  const auto begin = s.find_first_not_of(ws);
  if (begin == std::string::npos) return "";
  return s.substr(begin, s.find_last_not_of(ws) - begin + 1);
}

// Reads a regular file (O_NONBLOCK + fstat: a FIFO or device named by a config never blocks
// us). Returns an error text naming the path on failure, never the content.
std::optional<std::string> read_file(const std::string& path, std::string& content) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return path + ": " + std::strerror(errno);
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return path + ": not a regular file";
  }
  content.clear();
  char buf[16384];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int e = errno;
      ::close(fd);
      return path + ": " + std::strerror(e);
    }
    if (n == 0) break;
    content.append(buf, static_cast<size_t>(n));
    if (content.size() > max_file_size) {
      ::close(fd);
      return path + ": larger than " + std::to_string(max_file_size) + " bytes";
    }
  }
  ::close(fd);
  return std::nullopt;
}

bool exists_as_file(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

std::string resolve(const std::string& base_dir, const std::string& p) {
  if (p.empty() || p.front() == '/' || base_dir.empty()) return p;
  return (fs::path(base_dir) / p).lexically_normal().string();
}

std::string strip_trailing_slashes(std::string s) {
  const auto scheme_end = s.find("://");
  if (scheme_end == std::string::npos) return s;
  while (s.size() > scheme_end + 3 && s.back() == '/') s.pop_back();
  return s;
}

// http(s):// followed by something; the value itself stays out of messages (a URL may carry
// user info).
bool is_http_url(const std::string& s) {
  for (std::string_view scheme : {"https://", "http://"})
    if (s.size() > scheme.size() && s.compare(0, scheme.size(), scheme) == 0) return true;
  return false;
}

// Reads one kubeconfig document. Every accessor checks the node's type first: yaml-cpp throws on
// subscripting a scalar or converting a map, and those must become config_errors naming a field.
class kubeconfig_reader {
 public:
  kubeconfig_reader(std::string_view yaml, std::string base_dir, std::string origin)
      : base_dir_(std::move(base_dir)), origin_(std::move(origin)) {
    try {
      root_ = YAML::Load(std::string(yaml));
    } catch (const YAML::Exception& e) {
      // yaml-cpp messages name a position and the expected token, never the input text.
      fail("not valid YAML: " + e.msg +
           (e.mark.is_null() ? "" : " at line " + std::to_string(e.mark.line + 1)));
    }
    if (!root_.IsMap()) fail("not a kubeconfig (the top level is not a mapping)");
  }

  connection_settings load(const std::string& wanted_context) {
    std::string ctx_name = wanted_context;
    if (ctx_name.empty()) ctx_name = scalar(root_, "current-context", "");
    if (ctx_name.empty())
      fail("no context given and current-context is not set (contexts: " + names("contexts") + ")");
    const YAML::Node ctx = body(find_named("contexts", "context", ctx_name), "context", ctx_name);
    const std::string where = "context " + quote(ctx_name);
    const std::string cluster_name = scalar(ctx, "cluster", where);
    if (cluster_name.empty()) fail(where + " names no cluster");
    const std::string user_name = scalar(ctx, "user", where);

    connection_settings s;
    s.namespace_name = scalar(ctx, "namespace", where);
    s.origin = origin_ + ", context " + quote(ctx_name);
    read_cluster(body(find_named("clusters", "cluster", cluster_name), "cluster", cluster_name),
                 cluster_name, s);
    if (!user_name.empty())
      read_user(body(find_named("users", "user", user_name), "user", user_name), user_name, s);
    return s;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw config_error(origin_ + ": " + what);
  }

  // map[key] of a mapping, or a null node: a missing key gives an invalid node whose Type(),
  // IsNull() etc. throw, so it never leaves here.
  static YAML::Node get(const YAML::Node& map, const char* key) {
    if (!map.IsMap()) return YAML::Node();
    const YAML::Node v = map[key];
    return v.IsDefined() ? v : YAML::Node();
  }

  // A string field of a map; "" when missing or null. Non-scalars are errors. `where` names the
  // entry ("" at the top level).
  std::string scalar(const YAML::Node& map, const char* key, const std::string& where) const {
    const YAML::Node v = get(map, key);
    if (!v.IsDefined() || v.IsNull()) return "";
    if (!v.IsScalar()) fail((where.empty() ? "" : where + ": ") + key + " must be a string");
    return v.Scalar();
  }

  bool present(const YAML::Node& map, const char* key) const {
    const YAML::Node v = get(map, key);
    return v.IsDefined() && !v.IsNull();
  }

  bool flag(const YAML::Node& map, const char* key, const std::string& where) const {
    const YAML::Node v = get(map, key);
    if (!v.IsDefined() || v.IsNull()) return false;
    bool b = false;
    if (!v.IsScalar() || !YAML::convert<bool>::decode(v, b))
      fail(where + ": " + key + " must be true or false");
    return b;
  }

  std::string list_entry_name(const YAML::Node& entry) const {
    if (!entry.IsMap()) return "";
    const YAML::Node n = get(entry, "name");
    return n.IsScalar() ? n.Scalar() : "";
  }

  const YAML::Node list(const char* list_key) const {
    const YAML::Node l = get(root_, list_key);
    if (l.IsDefined() && !l.IsNull() && !l.IsSequence())
      fail(std::string(list_key) + " must be a list");
    return l;
  }

  // Names in a list, for "not found" messages; names are not secrets. Capped for huge files.
  std::string names(const char* list_key) const {
    std::string out;
    size_t count = 0;
    const YAML::Node l = list(list_key);
    if (!l.IsSequence()) return "none";
    for (const auto& e : l) {
      if (++count > 20) return out + ", ...";
      out += (out.empty() ? "" : ", ") + list_entry_name(e);
    }
    return out.empty() ? "none" : out;
  }

  // The entry of `list_key` named `name`; like client-go, a duplicate name is an error.
  YAML::Node find_named(const char* list_key, const char* kind, const std::string& name) const {
    const YAML::Node l = list(list_key);
    std::optional<YAML::Node> found;
    if (l.IsSequence()) {
      for (const auto& e : l) {
        if (list_entry_name(e) != name) continue;
        if (found) fail("duplicate " + std::string(kind) + " " + quote(name) + " in " + list_key);
        found.emplace(e);
      }
    }
    if (!found)
      fail(std::string(kind) + " " + quote(name) + " not found (" + list_key + ": " +
           names(list_key) + ")");
    return *found;
  }

  // The inner mapping of a named entry (`- name: x\n  cluster: {...}`); missing means empty.
  YAML::Node body(const YAML::Node& entry, const char* kind, const std::string& name) const {
    const YAML::Node b = get(entry, kind);
    if (!b.IsDefined() || b.IsNull()) return YAML::Node(YAML::NodeType::Map);
    if (!b.IsMap())
      fail(std::string(kind) + " " + quote(name) + ": " + kind + " must be a mapping");
    return b;
  }

  std::string read_path(const std::string& where, const char* key, const std::string& p) const {
    std::string content;
    if (auto err = read_file(resolve(base_dir_, p), content))
      fail(where + ": cannot read " + key + " " + *err);
    return content;
  }

  std::string decode_base64(const std::string& where, const char* key,
                            const std::string& text) const {
    // Not YAML::DecodeBase64: in yaml-cpp 0.7 it reads out of bounds on bytes >= 0x80 (found
    // by the fuzzer) and half-decodes invalid input.
    auto raw = base64_decode(text);
    if (!raw || raw->empty()) fail(where + ": " + key + " is not valid base64");
    return *raw;
  }

  // `<key>-data` (base64) wins over `<key>` (a file path), as in client-go.
  std::string data_or_file(const YAML::Node& map, const std::string& where,
                           const std::string& key) const {
    const std::string data_key = key + "-data";
    const std::string data = scalar(map, data_key.c_str(), where);
    if (!data.empty()) return decode_base64(where, data_key.c_str(), data);
    const std::string path = scalar(map, key.c_str(), where);
    return path.empty() ? "" : read_path(where, key.c_str(), path);
  }

  void read_cluster(const YAML::Node& c, const std::string& name, connection_settings& s) const {
    const std::string where = "cluster " + quote(name);
    s.server = strip_trailing_slashes(trim(scalar(c, "server", where)));
    if (s.server.empty()) fail(where + " has no server");
    if (!is_http_url(s.server)) fail(where + ": server must be an https:// or http:// URL");
    // Ignoring these would connect somewhere else or differently than kubectl does.
    for (const char* unsupported : {"proxy-url", "tls-server-name"})
      if (present(c, unsupported)) fail(where + ": " + unsupported + " is not supported");
    s.ca_pem = data_or_file(c, where, "certificate-authority");
    s.insecure_skip_tls_verify = flag(c, "insecure-skip-tls-verify", where);
  }

  void read_user(const YAML::Node& u, const std::string& name, connection_settings& s) const {
    const std::string where = "user " + quote(name);
    struct method {
      const char* key;
      const char* label;
    };
    for (const method& m :
         {method{"exec", "exec credential plugins"},
          method{"auth-provider", "auth-provider plugins"},
          method{"username", "basic authentication (username/password)"},
          method{"password", "basic authentication (username/password)"},
          method{"as", "impersonation (as)"}, method{"as-groups", "impersonation (as-groups)"},
          method{"as-uid", "impersonation (as-uid)"},
          method{"as-user-extra", "impersonation (as-user-extra)"}})
      if (present(u, m.key)) fail(where + ": " + m.label + " is not supported");

    s.token = trim(scalar(u, "token", where));
    const std::string token_file = scalar(u, "tokenFile", where);
    if (!token_file.empty()) {
      s.token_file = resolve(base_dir_, token_file);
      if (!exists_as_file(s.token_file))
        fail(where + ": tokenFile " + s.token_file + " does not exist or is not a regular file");
    }
    s.client_cert_pem = data_or_file(u, where, "client-certificate");
    s.client_key_pem = data_or_file(u, where, "client-key");
    if (s.client_cert_pem.empty() != s.client_key_pem.empty())
      fail(where + (s.client_cert_pem.empty() ? ": client-key without client-certificate"
                                              : ": client-certificate without client-key"));
  }

  std::string base_dir_;
  std::string origin_;
  YAML::Node root_;
};

std::string require_file(const std::string& origin, const std::string& path, const char* what) {
  std::string content;
  if (auto err = read_file(path, content))
    throw config_error(origin + ": cannot read " + what + " " + *err);
  return content;
}

// An optional file: "" when it does not exist, an error when it exists but cannot be read.
std::string optional_file(const std::string& origin, const std::string& path, const char* what) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 && errno == ENOENT) return "";
  return require_file(origin, path, what);
}

void require_token_file(const std::string& origin, const std::string& path) {
  if (::access(path.c_str(), R_OK) != 0 || !exists_as_file(path))
    throw config_error(origin + ": token file " + path + " is missing or unreadable");
}

}  // namespace

connection_settings parse_kubeconfig(std::string_view yaml, const std::string& base_dir,
                                     const std::string& context, const std::string& origin) {
  try {
    return kubeconfig_reader(yaml, base_dir, origin).load(context);
  } catch (const YAML::Exception& e) {
    // A yaml-cpp accessor we did not guard; still a configuration problem, not a crash.
    throw config_error(origin + ": unexpected structure: " + e.msg);
  }
}

connection_settings load_kubeconfig(const std::string& path, const std::string& context) {
  const std::string origin = "kubeconfig " + path;
  std::string text;
  if (auto err = read_file(path, text)) throw config_error("cannot read kubeconfig " + *err);
  const std::string dir = fs::path(path).parent_path().string();
  return parse_kubeconfig(text, dir.empty() ? "." : dir, context, origin);
}

connection_settings load_in_cluster(const std::string& dir,
                                    const std::function<const char*(const char*)>& getenv) {
  auto env = [&](const char* name) -> std::string {
    const char* v = getenv ? getenv(name) : std::getenv(name);
    return v ? v : "";
  };
  const std::string origin = "in-cluster service account " + dir;
  std::string host = env("KUBERNETES_SERVICE_HOST");
  const std::string port = env("KUBERNETES_SERVICE_PORT");
  if (host.empty() || port.empty())
    throw config_error(
        "not running in a Kubernetes cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT "
        "must both be set");
  if (host.find(':') != std::string::npos && host.front() != '[') host = "[" + host + "]";

  connection_settings s;
  s.server = "https://" + host + ":" + port;
  s.origin = origin;
  s.ca_pem = require_file(origin, dir + "/ca.crt", "ca.crt");
  // The kubelet rotates the token: hand out the path, the token_source re-reads it.
  s.token_file = dir + "/token";
  require_token_file(origin, s.token_file);
  s.namespace_name = trim(optional_file(origin, dir + "/namespace", "namespace"));
  return s;
}

connection_settings load_service_account_folder(const std::string& dir) {
  const std::string origin = "service-account folder " + dir;
  const std::string token_path = dir + "/token";
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    throw config_error(origin + ": not a folder");

  const std::string server_path = dir + "/server";
  const std::string config_path = dir + "/config";
  if (!exists_as_file(server_path) && exists_as_file(config_path)) {
    connection_settings s = load_kubeconfig(config_path);
    s.origin = origin + " (" + s.origin + ")";
    if (s.namespace_name.empty())
      s.namespace_name = trim(optional_file(origin, dir + "/namespace", "namespace"));
    if (s.ca_pem.empty() && !s.insecure_skip_tls_verify)
      s.ca_pem = optional_file(origin, dir + "/ca.crt", "ca.crt");
    // The config embeds a copy of the token; pointing at the file picks up rotations.
    if (s.token_file.empty() && !s.token.empty() && exists_as_file(token_path)) {
      std::string file_token;
      if (!read_file(token_path, file_token) && trim(file_token) == s.token) {
        s.token_file = token_path;
        s.token.clear();
      }
    }
    return s;
  }

  if (!exists_as_file(server_path))
    throw config_error(origin + ": has neither a server file nor a config file");
  connection_settings s;
  s.origin = origin;
  s.server = strip_trailing_slashes(trim(require_file(origin, server_path, "server")));
  if (s.server.empty()) throw config_error(origin + ": server file is empty");
  if (!is_http_url(s.server))
    throw config_error(origin + ": server must be an https:// or http:// URL");
  s.ca_pem = optional_file(origin, dir + "/ca.crt", "ca.crt");
  s.token_file = token_path;
  require_token_file(origin, s.token_file);
  s.namespace_name = trim(optional_file(origin, dir + "/namespace", "namespace"));
  return s;
}

}  // namespace k8s
