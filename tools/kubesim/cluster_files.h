// The files kubesim leaves on disk for each simulated cluster, so clients connect exactly as they
// would to a real one:
//   DIR/NAME/kubeconfig               kubeconfig: cluster/user/context NAME (token auth), plus
//                                     user/context NAME-cert (mTLS) when a client cert is given
//   DIR/NAME/ca.crt                   the cluster CA (PEM)
//   DIR/NAME/serviceaccount/{server,ca.crt,namespace,token,config}
//                                     the layout of a secret exported by Admiralty's
//                                     `kubemcsa export`; `config` is a token kubeconfig named NAME
// Files holding a token or key are mode 0600; every file is replaced atomically.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace kubesim {

struct cluster_access {
  std::string name;        // cluster, user and context name; also the folder name under DIR
  std::string server_url;  // https://127.0.0.1:PORT, or http://... (then no CA is referenced)
  std::string ca_pem;      // required for https
  std::string token;       // bearer token, required
  std::string namespace_name = "default";
  // Optional pair for the extra NAME-cert user; `{}` keeps partial aggregate init -Wextra clean.
  std::string client_cert_pem{}, client_key_pem{};
};

// Writes every file listed above, creating folders as needed; the top-level kubeconfig is written
// last so its appearance means the rest is in place. Throws std::invalid_argument for unusable
// input (empty/unsafe name, unknown URL scheme, https without CA, no token, half a cert pair) and
// std::system_error (a std::runtime_error) when the file system refuses.
void write_cluster_files(const std::filesystem::path& dir, const cluster_access& access);

// Replaces `p` atomically (temp file in the same folder, fsync, rename) with mode 0600, so a
// concurrent reader sees the old or the new content, never a partial one. Creates the parent
// folder if missing. Used for tokens and keys, including when a token is rotated.
void write_secret_file(const std::filesystem::path& p, std::string_view content);

}  // namespace kubesim
