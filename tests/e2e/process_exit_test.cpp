// A process must not crash on its way out: cpprest threads may still be finishing a request
// (kubesim stopped under them, a retry on a new TLS connection) while static destructors and
// atexit handlers run. A CI run once failed with a SIGSEGV there, in OpenSSL's freed state.
#include <doctest/doctest.h>

#include "tests/support/process.h"

TEST_CASE("process exit: OpenSSL still works while the process exits, as our binaries set it up") {
  // Without the set-up the probe sees OpenSSL gone, so it can tell the difference.
  auto without = testsupport::run({OPENSSL_EXIT_PROBE_BIN});
  CHECK_MESSAGE(without.exit_code == 3, without.err);
  auto with = testsupport::run({OPENSSL_EXIT_PROBE_BIN, "--keep"});
  CHECK_MESSAGE(with.exit_code == 0, with.err);
}
