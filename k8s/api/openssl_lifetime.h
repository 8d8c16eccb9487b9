// OpenSSL's state lives as long as the process.
#pragma once

namespace k8s::openssl {

// To be called first in main, before anything touches OpenSSL. By default OpenSSL frees its
// global state in an atexit handler; cpprestsdk's threads can still be finishing a request
// while the process exits (a keep-alive connection that failed is retried on a new TLS
// connection), and they then read freed memory: a SIGSEGV at exit, in
// X509_STORE_set_default_paths, after everything else went right. With this, OpenSSL's memory
// goes with the process instead.
void keep_until_exit();

}  // namespace k8s::openssl
