// Where a cluster is and how to authenticate to it, from the three sources users have:
// a kubeconfig (and context), the in-cluster service account, or a kubemcsa secret folder.
// Every loader produces the same connection_settings; none of them logs or throws secrets.
#pragma once

#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace k8s {

struct connection_settings {
  std::string server;                     // e.g. https://10.0.0.1:6443 (no trailing slash)
  std::string ca_pem;                     // trusted CAs (PEM); empty: the system trust store
  bool insecure_skip_tls_verify = false;  // only when the source explicitly says so
  std::string token;                      // static bearer token
  std::string token_file;  // bearer token re-read when the file changes; wins over `token`
  std::string client_cert_pem;
  std::string client_key_pem;
  std::string namespace_name;  // the source's default namespace, "" if it names none
  std::string origin;          // where these came from, for messages: never a secret
  // Non-empty: the source could not be loaded (yet), and every request of a client with these
  // settings fails at once, unsent, as unreachable with this reason. Lets a client exist (and be
  // handed to its users) before its credentials do; update_settings() then makes it work.
  std::string unavailable;

  bool operator==(const connection_settings& o) const;
  bool operator!=(const connection_settings& o) const { return !(*this == o); }
};

// What went wrong reading a source; what() names the file and field, never a secret value.
struct config_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// A kubeconfig file; `context` empty means current-context. Relative file paths in it
// (certificate-authority, client-certificate, client-key, tokenFile) are relative to the file.
connection_settings load_kubeconfig(const std::string& path, const std::string& context = "");
// The same from text (for tests and fuzzing); `base_dir` resolves relative paths.
connection_settings parse_kubeconfig(std::string_view yaml, const std::string& base_dir,
                                     const std::string& context, const std::string& origin);

// The in-cluster service account: KUBERNETES_SERVICE_HOST/PORT and the files token, ca.crt,
// namespace under `dir`. `getenv` is injectable for tests.
constexpr const char* in_cluster_dir = "/var/run/secrets/kubernetes.io/serviceaccount";
connection_settings load_in_cluster(
    const std::string& dir = in_cluster_dir,
    const std::function<const char*(const char*)>& getenv = nullptr);

// A folder with the keys of a secret exported by Admiralty's kubemcsa: server, ca.crt,
// namespace, token (and config, a kubeconfig, used when `server` is missing).
connection_settings load_service_account_folder(const std::string& dir);

}  // namespace k8s
