#include "tools/kubesim/cluster_files.h"

#include <cerrno>
#include <stdexcept>
#include <system_error>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include "k8s/json/base64.h"
#include <yaml-cpp/yaml.h>

namespace kubesim {
namespace {

namespace fs = std::filesystem;

constexpr mode_t kSecretMode = 0600;
constexpr mode_t kPublicMode = 0644;

[[noreturn]] void throw_errno(const std::string& what, const fs::path& p) {
  throw std::system_error(errno, std::generic_category(), what + " " + p.string());
}

void write_all(int fd, std::string_view content, const fs::path& p) {
  while (!content.empty()) {
    ssize_t n = ::write(fd, content.data(), content.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw_errno("writing", p);
    content.remove_prefix(static_cast<size_t>(n));
  }
}

// mkstemp in the target's folder (rename is only atomic within one file system), explicit fchmod
// (the umask must not decide a file's mode), fsync before rename (no empty file after a crash).
void write_atomic(const fs::path& p, std::string_view content, mode_t mode) {
  fs::path parent = p.parent_path().empty() ? fs::path(".") : p.parent_path();
  fs::create_directories(parent);
  std::string tmpl = (parent / ("." + p.filename().string() + ".tmpXXXXXX")).string();
  int fd = ::mkstemp(tmpl.data());  // created 0600, so secrets are never readable by others
  if (fd < 0) throw_errno("creating temp file for", p);
  try {
    write_all(fd, content, p);
    if (::fchmod(fd, mode) != 0) throw_errno("chmod", p);
    if (::fsync(fd) != 0) throw_errno("fsync", p);
    int rc = ::close(fd);
    fd = -1;
    if (rc != 0) throw_errno("closing", p);
    if (::rename(tmpl.c_str(), p.c_str()) != 0) throw_errno("renaming temp file onto", p);
  } catch (...) {
    if (fd >= 0) ::close(fd);
    ::unlink(tmpl.c_str());
    throw;
  }
}

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

bool uses_tls(const cluster_access& a) {
  return starts_with(a.server_url, "https://");
}

void validate(const cluster_access& a) {
  // The name becomes a path component: refuse anything that could escape DIR.
  if (a.name.empty() || a.name == "." || a.name == ".." ||
      a.name.find_first_of(std::string_view("/\0", 2)) != std::string::npos)
    throw std::invalid_argument("cluster name must be a single path component");
  if (!uses_tls(a) && !starts_with(a.server_url, "http://"))
    throw std::invalid_argument("server URL must start with https:// or http://");
  if (uses_tls(a) && a.ca_pem.empty())
    throw std::invalid_argument("an https server needs a CA certificate");
  if (a.token.empty()) throw std::invalid_argument("a bearer token is required");
  if (a.client_cert_pem.empty() != a.client_key_pem.empty())
    throw std::invalid_argument("client certificate and key must be given together");
}

std::string base64(std::string_view s) {
  return k8s::base64_encode(s);
}

// Variable values are double-quoted so YAML never reads a name like "123" or "true" as a
// number or boolean, which Kubernetes clients would reject in a string field.
YAML::Emitter& quoted(YAML::Emitter& out, const std::string& value) {
  return out << YAML::DoubleQuoted << value;
}

void emit_named(YAML::Emitter& out, const std::string& name, const char* kind) {
  out << YAML::BeginMap << YAML::Key << "name" << YAML::Value;
  quoted(out, name) << YAML::Key << kind << YAML::Value << YAML::BeginMap;
}

void emit_context(YAML::Emitter& out, const std::string& name, const cluster_access& a,
                  const std::string& user) {
  emit_named(out, name, "context");
  out << YAML::Key << "cluster" << YAML::Value;
  quoted(out, a.name) << YAML::Key << "user" << YAML::Value;
  quoted(out, user) << YAML::Key << "namespace" << YAML::Value;
  quoted(out, a.namespace_name) << YAML::EndMap << YAML::EndMap;
}

// kubeconfig with token user NAME; `with_cert_user` adds the NAME-cert user and context.
std::string kubeconfig_yaml(const cluster_access& a, bool with_cert_user) {
  const std::string cert_name = a.name + "-cert";
  YAML::Emitter out;
  out << YAML::BeginMap;
  out << YAML::Key << "apiVersion" << YAML::Value << "v1";
  out << YAML::Key << "kind" << YAML::Value << "Config";

  out << YAML::Key << "clusters" << YAML::Value << YAML::BeginSeq;
  emit_named(out, a.name, "cluster");
  out << YAML::Key << "server" << YAML::Value;
  quoted(out, a.server_url);
  if (uses_tls(a)) {
    out << YAML::Key << "certificate-authority-data" << YAML::Value;
    quoted(out, base64(a.ca_pem));
  }
  out << YAML::EndMap << YAML::EndMap << YAML::EndSeq;

  out << YAML::Key << "users" << YAML::Value << YAML::BeginSeq;
  emit_named(out, a.name, "user");
  out << YAML::Key << "token" << YAML::Value;
  quoted(out, a.token) << YAML::EndMap << YAML::EndMap;
  if (with_cert_user) {
    emit_named(out, cert_name, "user");
    out << YAML::Key << "client-certificate-data" << YAML::Value;
    quoted(out, base64(a.client_cert_pem)) << YAML::Key << "client-key-data" << YAML::Value;
    quoted(out, base64(a.client_key_pem)) << YAML::EndMap << YAML::EndMap;
  }
  out << YAML::EndSeq;

  out << YAML::Key << "contexts" << YAML::Value << YAML::BeginSeq;
  emit_context(out, a.name, a, a.name);
  if (with_cert_user) emit_context(out, cert_name, a, cert_name);
  out << YAML::EndSeq;

  out << YAML::Key << "current-context" << YAML::Value;
  quoted(out, a.name);
  out << YAML::Key << "preferences" << YAML::Value << YAML::Flow << YAML::BeginMap << YAML::EndMap;
  out << YAML::EndMap;
  if (!out.good()) throw std::runtime_error("emitting kubeconfig: " + out.GetLastError());
  return std::string(out.c_str()) + "\n";
}

}  // namespace

void write_secret_file(const fs::path& p, std::string_view content) {
  write_atomic(p, content, kSecretMode);
}

void write_cluster_files(const fs::path& dir, const cluster_access& input) {
  validate(input);
  cluster_access a = input;
  if (a.namespace_name.empty()) a.namespace_name = "default";
  const bool with_cert_user = !a.client_cert_pem.empty();

  const fs::path cluster_dir = dir / a.name;
  const fs::path sa_dir = cluster_dir / "serviceaccount";
  fs::create_directories(sa_dir);

  // Secret-style values are written as mounted secret keys are: exact bytes, no added newline.
  write_atomic(sa_dir / "server", a.server_url, kPublicMode);
  write_atomic(sa_dir / "ca.crt", a.ca_pem, kPublicMode);
  write_atomic(sa_dir / "namespace", a.namespace_name, kPublicMode);
  write_secret_file(sa_dir / "token", a.token);
  write_secret_file(sa_dir / "config", kubeconfig_yaml(a, false));

  write_atomic(cluster_dir / "ca.crt", a.ca_pem, kPublicMode);
  write_secret_file(cluster_dir / "kubeconfig", kubeconfig_yaml(a, with_cert_user));
}

}  // namespace kubesim
