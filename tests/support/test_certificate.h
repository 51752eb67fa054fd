// A client certificate for a test, signed by a given CA with the validity the test asks for (an
// expired one, one about to expire): OpenSSL's API, because Debian 12's openssl command has no
// -not_before/-not_after. Header only; throws std::runtime_error when OpenSSL fails.
#ifndef ONEDOCK_TESTS_SUPPORT_TEST_CERTIFICATE_H_
#define ONEDOCK_TESTS_SUPPORT_TEST_CERTIFICATE_H_

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string>

namespace onedock::testing {

// Writes `cert_file` and `key_file`: a clientAuth certificate for CN `name`, signed with the CA
// of `ca_cert_file`/`ca_key_file`, valid from now + `from_days` until now + `to_days` (both may
// be negative).
inline void WriteClientCertificate(const std::string& ca_cert_file, const std::string& ca_key_file,
                                   const std::string& name, long from_days, long to_days,
                                   const std::string& cert_file, const std::string& key_file) {
  auto fail = [](const char* what) { throw std::runtime_error(std::string("openssl: ") + what); };
  auto open = [&](const std::string& path, const char* mode) {
    std::unique_ptr<FILE, decltype(&fclose)> f(fopen(path.c_str(), mode), fclose);
    if (!f) fail(("cannot open " + path).c_str());
    return f;
  };
  auto ca_in = open(ca_cert_file, "r");
  std::unique_ptr<X509, decltype(&X509_free)> ca(
      PEM_read_X509(ca_in.get(), nullptr, nullptr, nullptr), X509_free);
  auto ca_key_in = open(ca_key_file, "r");
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> ca_key(
      PEM_read_PrivateKey(ca_key_in.get(), nullptr, nullptr, nullptr), EVP_PKEY_free);
  if (!ca || !ca_key) fail("cannot read the CA");
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_EC_gen("P-256"), EVP_PKEY_free);
  std::unique_ptr<X509, decltype(&X509_free)> cert(X509_new(), X509_free);
  if (!key || !cert) fail("cannot make a key");
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), static_cast<long>(time(nullptr)));
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), from_days * 86400);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), to_days * 86400);
  X509_NAME* subject = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(name.c_str()), -1, -1, 0);
  X509_set_issuer_name(cert.get(), X509_get_subject_name(ca.get()));
  X509_set_pubkey(cert.get(), key.get());
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, ca.get(), cert.get(), nullptr, nullptr, 0);
  std::unique_ptr<X509_EXTENSION, decltype(&X509_EXTENSION_free)> usage(
      X509V3_EXT_conf_nid(nullptr, &ctx, NID_ext_key_usage, "clientAuth"), X509_EXTENSION_free);
  if (!usage || X509_add_ext(cert.get(), usage.get(), -1) != 1) fail("cannot add clientAuth");
  if (X509_sign(cert.get(), ca_key.get(), EVP_sha256()) == 0) fail("cannot sign");
  auto cert_out = open(cert_file, "w");
  auto key_out = open(key_file, "w");
  if (PEM_write_X509(cert_out.get(), cert.get()) != 1 ||
      PEM_write_PrivateKey(key_out.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    fail("cannot write");
  }
}

}  // namespace onedock::testing

#endif  // ONEDOCK_TESTS_SUPPORT_TEST_CERTIFICATE_H_
