#include "tools/kubesim/certs.h"

#include <climits>
#include <cstring>
#include <memory>
#include <stdexcept>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "k8s/api/openssl_handles.h"

namespace kubesim {
using namespace k8s::openssl;
namespace {

constexpr long kCaDays = 3650;
constexpr long kLeafDays = 730;
// Backdating notBefore tolerates small clock differences between the processes of a test run.
constexpr long kBackdateSeconds = 5 * 60;

// Drains OpenSSL's (thread-local) error queue into the exception text; it never holds key bytes.
[[noreturn]] void fail(std::string what) {
  char buf[256];
  const char* sep = ": ";
  while (unsigned long e = ERR_get_error()) {
    ERR_error_string_n(e, buf, sizeof buf);
    what += sep;
    what += buf;
    sep = "; ";
  }
  throw std::runtime_error(what);
}

pkey_ptr generate_key() {
  pkey_ptr key(EVP_EC_gen("P-256"));
  if (!key) fail("generating EC P-256 key");
  return key;
}

std::string bio_contents(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(len));
}

std::string key_to_pem(EVP_PKEY* key) {
  bio_ptr bio(BIO_new(BIO_s_mem()));
  if (!bio || !PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr))
    fail("encoding private key");
  return bio_contents(bio.get());
}

std::string cert_to_pem(X509* cert) {
  bio_ptr bio(BIO_new(BIO_s_mem()));
  if (!bio || !PEM_write_bio_X509(bio.get(), cert)) fail("encoding certificate");
  return bio_contents(bio.get());
}

// The CA pair parsed back, checked to belong together so a mix-up fails here, not at handshake.
struct loaded_ca {
  x509_ptr cert;
  pkey_ptr key;
};

loaded_ca load_ca(const pem_pair& ca) {
  loaded_ca out;
  out.cert = read_cert_pem(ca.cert_pem);
  if (!out.cert) fail("parsing CA certificate");
  out.key = read_key_pem(ca.key_pem);
  if (!out.key) fail("parsing CA private key");
  if (X509_check_private_key(out.cert.get(), out.key.get()) != 1)
    fail("CA private key does not match CA certificate");
  return out;
}

// UTF8String set directly (not MBSTRING_UTF8) so OpenSSL does not impose RFC 5280's 64-character
// limit on CN/O: Kubernetes user and group names (system:serviceaccount:...) can be longer.
void add_name_entry(X509_NAME* name, const char* field, std::string_view value) {
  if (value.size() > INT_MAX) throw std::runtime_error("name entry too long");
  const auto* bytes = reinterpret_cast<const unsigned char*>(value.data());
  if (!X509_NAME_add_entry_by_txt(name, field, V_ASN1_UTF8STRING, bytes,
                                  static_cast<int>(value.size()), -1, 0))
    fail(std::string("setting subject ") + field);
}

// A v3 certificate with a random serial, validity window, public key, subject and issuer.
// `issuer` null means self-signed.
x509_ptr new_cert(EVP_PKEY* key, X509* issuer, long days,
                  const std::vector<std::string>& organizations, std::string_view common_name) {
  x509_ptr cert(X509_new());
  if (!cert || !X509_set_version(cert.get(), X509_VERSION_3)) fail("allocating certificate");

  // 127 random bits with the top one set: positive, non-zero, well under the 20-octet limit.
  bn_ptr serial(BN_new());
  if (!serial || !BN_rand(serial.get(), 127, BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ANY) ||
      !BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get())))
    fail("generating serial number");

  if (!X509_gmtime_adj(X509_getm_notBefore(cert.get()), -kBackdateSeconds) ||
      !X509_time_adj_ex(X509_getm_notAfter(cert.get()), static_cast<int>(days), 0, nullptr))
    fail("setting validity");

  if (!X509_set_pubkey(cert.get(), key)) fail("setting public key");

  X509_NAME* subject = X509_get_subject_name(cert.get());
  for (const auto& org : organizations) add_name_entry(subject, "O", org);
  add_name_entry(subject, "CN", common_name);
  X509_NAME* issuer_name = issuer ? X509_get_subject_name(issuer) : subject;
  if (!X509_set_issuer_name(cert.get(), issuer_name)) fail("setting issuer");
  return cert;
}

// Adds one extension from its openssl.cnf-style text; only fixed strings go through here.
void add_ext(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer ? issuer : cert, cert, nullptr, nullptr, 0);
  ext_ptr ext(X509V3_EXT_nconf_nid(nullptr, &ctx, nid, value));
  if (!ext || !X509_add_ext(cert, ext.get(), -1))
    fail(std::string("adding extension ") + OBJ_nid2sn(nid));
}

// SANs are built as structures rather than "IP:..,DNS:.." text so a name cannot inject syntax.
void add_sans(X509* cert, const std::vector<std::string>& ips,
              const std::vector<std::string>& dns) {
  if (ips.empty() && dns.empty()) return;  // an empty subjectAltName is invalid (RFC 5280)
  names_ptr names(sk_GENERAL_NAME_new_null());
  if (!names) fail("allocating subjectAltName");
  auto push = [&](int type, ASN1_STRING* value) {
    name_ptr gn(GENERAL_NAME_new());
    if (!gn) {
      ASN1_STRING_free(value);
      fail("allocating subjectAltName entry");
    }
    GENERAL_NAME_set0_value(gn.get(), type, value);
    if (!sk_GENERAL_NAME_push(names.get(), gn.get())) fail("adding subjectAltName entry");
    gn.release();  // now owned by `names`
  };
  for (const auto& ip : ips) {
    ASN1_OCTET_STRING* octets = a2i_IPADDRESS(ip.c_str());
    if (!octets) fail("invalid IP address in subjectAltName: " + ip);
    push(GEN_IPADD, octets);
  }
  for (const auto& name : dns) {
    if (name.empty() || name.size() > INT_MAX) throw std::runtime_error("invalid DNS SAN");
    ASN1_IA5STRING* ia5 = ASN1_IA5STRING_new();
    if (!ia5 || !ASN1_STRING_set(ia5, name.data(), static_cast<int>(name.size()))) {
      ASN1_IA5STRING_free(ia5);
      fail("allocating DNS SAN");
    }
    push(GEN_DNS, ia5);
  }
  if (X509_add1_ext_i2d(cert, NID_subject_alt_name, names.get(), 0, X509V3_ADD_DEFAULT) != 1)
    fail("adding subjectAltName");
}

pem_pair sign_and_encode(X509* cert, EVP_PKEY* signer, EVP_PKEY* key) {
  if (!X509_sign(cert, signer, EVP_sha256())) fail("signing certificate");
  return pem_pair{cert_to_pem(cert), key_to_pem(key)};
}

// Shared by server and client certificates: everything but the usage-specific extensions.
pem_pair make_leaf(const pem_pair& ca_pems, std::string_view common_name,
                   const std::vector<std::string>& organizations, const char* extended_usage,
                   const std::vector<std::string>& ip_sans,
                   const std::vector<std::string>& dns_sans) {
  ERR_clear_error();
  loaded_ca ca = load_ca(ca_pems);
  pkey_ptr key = generate_key();
  x509_ptr cert = new_cert(key.get(), ca.cert.get(), kLeafDays, organizations, common_name);
  add_ext(cert.get(), ca.cert.get(), NID_basic_constraints, "critical,CA:FALSE");
  add_ext(cert.get(), ca.cert.get(), NID_key_usage, "critical,digitalSignature,keyEncipherment");
  add_ext(cert.get(), ca.cert.get(), NID_ext_key_usage, extended_usage);
  add_ext(cert.get(), ca.cert.get(), NID_subject_key_identifier, "hash");
  add_ext(cert.get(), ca.cert.get(), NID_authority_key_identifier, "keyid:always");
  add_sans(cert.get(), ip_sans, dns_sans);
  return sign_and_encode(cert.get(), ca.key.get(), key.get());
}

}  // namespace

pem_pair make_ca(std::string_view common_name) {
  ERR_clear_error();
  pkey_ptr key = generate_key();
  x509_ptr cert = new_cert(key.get(), nullptr, kCaDays, {}, common_name);
  add_ext(cert.get(), nullptr, NID_basic_constraints, "critical,CA:TRUE");
  add_ext(cert.get(), nullptr, NID_key_usage, "critical,keyCertSign,cRLSign");
  add_ext(cert.get(), nullptr, NID_subject_key_identifier, "hash");
  return sign_and_encode(cert.get(), key.get(), key.get());
}

pem_pair make_server_cert(const pem_pair& ca, std::string_view common_name,
                          const std::vector<std::string>& ip_sans,
                          const std::vector<std::string>& dns_sans) {
  return make_leaf(ca, common_name, {}, "serverAuth", ip_sans, dns_sans);
}

pem_pair make_client_cert(const pem_pair& ca, std::string_view common_name,
                          std::vector<std::string> organizations) {
  return make_leaf(ca, common_name, organizations, "clientAuth", {}, {});
}

std::string random_token(std::size_t bytes) {
  if (bytes == 0 || bytes > INT_MAX / 2) throw std::runtime_error("random_token: bad length");
  ERR_clear_error();
  std::vector<unsigned char> raw(bytes);
  if (RAND_bytes(raw.data(), static_cast<int>(raw.size())) != 1) fail("RAND_bytes");
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes * 2);
  for (unsigned char b : raw) {
    out += kHex[b >> 4];
    out += kHex[b & 0xf];
  }
  OPENSSL_cleanse(raw.data(), raw.size());
  return out;
}

}  // namespace kubesim
