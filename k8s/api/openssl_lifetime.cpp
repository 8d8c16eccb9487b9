#include "k8s/api/openssl_lifetime.h"

#include <openssl/crypto.h>

namespace k8s::openssl {

void keep_until_exit() {
  // Only the first initialisation decides whether the atexit handler is registered.
  OPENSSL_init_crypto(OPENSSL_INIT_NO_ATEXIT, nullptr);
}

}  // namespace k8s::openssl
