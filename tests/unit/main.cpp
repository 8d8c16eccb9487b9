#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include "k8s/api/openssl_lifetime.h"

int main(int argc, char** argv) {
  k8s::openssl::keep_until_exit();
  doctest::Context context(argc, argv);
  return context.run();
}
