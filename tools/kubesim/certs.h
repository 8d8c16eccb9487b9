// X.509 material for simulated clusters: a per-cluster CA, the API server's serving certificate
// and mTLS client certificates, plus random bearer tokens. Everything is built in memory with the
// OpenSSL 3 C API and returned as PEM; nothing is written to disk here (see cluster_files.h).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace kubesim {

// A certificate and its unencrypted private key (PKCS#8 "PRIVATE KEY"), both PEM.
struct pem_pair {
  std::string cert_pem;
  std::string key_pem;
};

// Self-signed CA: EC P-256, SHA-256, 10 years, CA:TRUE (critical), keyCertSign+cRLSign.
// Throws std::runtime_error carrying OpenSSL's error text on failure.
pem_pair make_ca(std::string_view common_name);

// Serving certificate signed by `ca`: serverAuth, SANs from `ip_sans` (IPv4/IPv6 literals, else
// std::runtime_error) and `dns_sans`, about 2 years.
pem_pair make_server_cert(const pem_pair& ca, std::string_view common_name,
                          const std::vector<std::string>& ip_sans,
                          const std::vector<std::string>& dns_sans);

// Client certificate signed by `ca` for mTLS users: clientAuth, subject O=<each organization>,
// CN=<common_name> (Kubernetes reads CN as the user name and O as its groups), about 2 years.
pem_pair make_client_cert(const pem_pair& ca, std::string_view common_name,
                          std::vector<std::string> organizations);

// `bytes` bytes from RAND_bytes, lower-case hex encoded (2 * bytes characters), usable as a
// bearer token. Throws std::runtime_error for 0 bytes.
std::string random_token(std::size_t bytes = 32);

}  // namespace kubesim
