// openssl_exit_probe [--keep]: exits 0 when OpenSSL still works at exit after OpenSSL's own
// atexit handler would have run, which is what a cpprest thread finishing a request while the
// process exits needs; 3 when it does not. `--keep` first calls keep_until_exit(), as every
// binary of the project does.
#include <cstdlib>
#include <string>

#include <openssl/ssl.h>

#include "k8s/api/openssl_lifetime.h"

namespace {

// Registered before OpenSSL initialises, so it runs after OpenSSL's handler, if there is one.
void use_openssl_at_exit() {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  const bool ok = ctx && X509_STORE_set_default_paths(SSL_CTX_get_cert_store(ctx)) == 1;
  std::_Exit(ok ? 0 : 3);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && std::string(argv[1]) == "--keep") k8s::openssl::keep_until_exit();
  std::atexit(use_openssl_at_exit);
  SSL_CTX_free(SSL_CTX_new(TLS_client_method()));  // initialises OpenSSL, as a first request does
  return 0;
}
