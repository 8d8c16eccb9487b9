// Owning pointers to OpenSSL objects, each freed by its own OpenSSL function so that every early
// return or throw releases it, and PEM read back into them. Used by the TLS diagnosis of the
// client (tls_diagnosis.cpp), kubesim's certificates (certs.cpp) and their tests.
#pragma once

#include <climits>
#include <memory>
#include <stdexcept>
#include <string_view>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

namespace k8s::openssl {

// unique_ptr deleter calling the OpenSSL free function `Free`.
template <auto Free>
struct openssl_free {
  template <class T>
  void operator()(T* p) const {
    Free(p);
  }
};
using pkey_ptr = std::unique_ptr<EVP_PKEY, openssl_free<EVP_PKEY_free>>;
using x509_ptr = std::unique_ptr<X509, openssl_free<X509_free>>;
using bio_ptr = std::unique_ptr<BIO, openssl_free<BIO_free_all>>;
using bn_ptr = std::unique_ptr<BIGNUM, openssl_free<BN_free>>;
using ext_ptr = std::unique_ptr<X509_EXTENSION, openssl_free<X509_EXTENSION_free>>;
using names_ptr = std::unique_ptr<GENERAL_NAMES, openssl_free<GENERAL_NAMES_free>>;
using name_ptr = std::unique_ptr<GENERAL_NAME, openssl_free<GENERAL_NAME_free>>;
using ssl_ctx_ptr = std::unique_ptr<SSL_CTX, openssl_free<SSL_CTX_free>>;
using ssl_ptr = std::unique_ptr<SSL, openssl_free<SSL_free>>;

// A read-only memory BIO over `pem` (nullptr if OpenSSL cannot allocate one).
inline bio_ptr pem_bio(std::string_view pem) {
  if (pem.size() > INT_MAX) throw std::runtime_error("PEM input too large");
  return bio_ptr(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
}

// The first certificate in `pem`, or nullptr (OpenSSL's error queue says why).
inline x509_ptr read_cert_pem(std::string_view pem) {
  bio_ptr bio = pem_bio(pem);
  return x509_ptr(bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr);
}

// The first private key in `pem` (unencrypted), or nullptr (OpenSSL's error queue says why).
inline pkey_ptr read_key_pem(std::string_view pem) {
  bio_ptr bio = pem_bio(pem);
  return pkey_ptr(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr) : nullptr);
}

}  // namespace k8s::openssl
