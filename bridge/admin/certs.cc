#include "bridge/admin/certs.h"

#include <arpa/inet.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <memory>

#include "bridge/net_address.h"

namespace onedock::admin {
namespace {

template <auto Free>
struct Deleter {
  template <typename T>
  void operator()(T* p) const {
    Free(p);
  }
};
using Key = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY_free>>;
using Cert = std::unique_ptr<X509, Deleter<X509_free>>;
using Bio = std::unique_ptr<BIO, Deleter<BIO_free_all>>;
using Ext = std::unique_ptr<X509_EXTENSION, Deleter<X509_EXTENSION_free>>;
using Bignum = std::unique_ptr<BIGNUM, Deleter<BN_free>>;
using Store = std::unique_ptr<X509_STORE, Deleter<X509_STORE_free>>;
using StoreCtx = std::unique_ptr<X509_STORE_CTX, Deleter<X509_STORE_CTX_free>>;
using Names = std::unique_ptr<GENERAL_NAMES, Deleter<GENERAL_NAMES_free>>;

constexpr int kMaxDays = 36500;

// The newest OpenSSL error queued, and the queue cleared, for a message.
std::string OpenSslError(const char* what) {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return what;
  char text[256];
  ERR_error_string_n(code, text, sizeof text);
  return std::string(what) + ": " + text;
}

Status OpenSslFailure(const char* what) { return Internal(OpenSslError(what)); }

std::string ToPem(const Cert& cert) {
  Bio bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(bio.get(), cert.get());
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

std::string ToPem(const Key& key) {
  Bio bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_PrivateKey(bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

Cert ParseCert(const std::string& pem) {
  Bio bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  return Cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
}

Key ParseKey(const std::string& pem) {
  Bio bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  return Key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
}

// Adds one extension in OpenSSL's configuration syntax. Every value passed here is either a
// constant or built by SubjectAltNames from checked entries.
Status AddExtension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  Ext ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()));
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1)
    return OpenSslFailure("certificate extension");
  return Status::Ok();
}

Status CheckCommonName(const std::string& cn) {
  if (cn.empty() || cn.size() > 64) return InvalidArgument("common name must be 1 to 64 bytes");
  for (unsigned char c : cn) {
    if (c < 0x20 || c == 0x7f) return InvalidArgument("common name has a control character");
  }
  return Status::Ok();
}

// A certificate with its serial, validity, subject and public key set; signed by the caller.
Result<Cert> Skeleton(const std::string& cn, EVP_PKEY* key, int days, std::time_t now) {
  if (days < 1 || days > kMaxDays) return InvalidArgument("days must be 1 to 36500");
  if (Status s = CheckCommonName(cn); !s.ok()) return s;
  Cert cert(X509_new());
  if (!cert || X509_set_version(cert.get(), 2) != 1) return OpenSslFailure("new certificate");
  // A random positive 127-bit serial: unique without keeping a serial file beside the CA.
  Bignum serial(BN_new());
  if (!serial || BN_rand(serial.get(), 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) != 1 ||
      BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get())) == nullptr) {
    return OpenSslFailure("certificate serial");
  }
  std::time_t start = now;
  if (X509_time_adj_ex(X509_getm_notBefore(cert.get()), 0, -300, &start) == nullptr ||
      X509_time_adj_ex(X509_getm_notAfter(cert.get()), days, 0, &start) == nullptr) {
    return OpenSslFailure("certificate validity");
  }
  X509_NAME* subject = X509_get_subject_name(cert.get());
  if (X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1,
                                 0) != 1 ||
      X509_set_pubkey(cert.get(), key) != 1) {
    return OpenSslFailure("certificate subject");
  }
  return cert;
}

Result<Key> NewKey() {
  Key key(EVP_EC_gen("P-256"));
  if (!key) return OpenSslFailure("generate P-256 key");
  return key;
}

std::string Utf8(const ASN1_STRING* s) {
  unsigned char* out = nullptr;
  const int n = ASN1_STRING_to_UTF8(&out, s);
  if (n < 0) return "";
  std::string text(reinterpret_cast<char*>(out), static_cast<size_t>(n));
  OPENSSL_free(out);
  return text;
}

std::string CommonName(const X509_NAME* name) {
  const int at = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
  if (at < 0) return "";
  return Utf8(X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, at)));
}

std::time_t ToTime(const ASN1_TIME* t) {
  struct tm parts = {};
  if (ASN1_TIME_to_tm(t, &parts) != 1) return 0;
  return timegm(&parts);
}

std::string IpText(const ASN1_OCTET_STRING* ip) {
  char text[INET6_ADDRSTRLEN] = {};
  const int family = ip->length == 4 ? AF_INET : ip->length == 16 ? AF_INET6 : -1;
  if (family < 0 || inet_ntop(family, ip->data, text, sizeof text) == nullptr) return "";
  return text;
}

}  // namespace

bool IsCertHostName(const std::string& name) {
  if (!IsHostName(name)) return false;
  size_t start = 0;
  while (start <= name.size()) {
    const size_t end = std::min(name.find('.', start), name.size());
    if (end == start || name[start] == '-') return false;
    start = end + 1;
  }
  return true;
}

Result<std::string> SubjectAltNames(const std::vector<std::string>& names,
                                    const std::vector<std::string>& addresses) {
  if (names.empty() && addresses.empty()) {
    return InvalidArgument("a server certificate needs a host name or an address");
  }
  std::string out;
  auto add = [&out](const char* kind, const std::string& entry) {
    if (!out.empty()) out += ',';
    out.append(kind).append(entry);
  };
  for (const std::string& name : names) {
    // An address given as the host's name belongs in an IP entry: TLS clients match an address
    // only against those.
    if (IsIpLiteral(name)) {
      add("IP:", name);
    } else if (IsCertHostName(name)) {
      add("DNS:", name);
    } else {
      return InvalidArgument("\"" + name + "\" is not a host name");
    }
  }
  for (const std::string& address : addresses) {
    if (!IsIpLiteral(address)) return InvalidArgument("\"" + address + "\" is not an IP address");
    add("IP:", address);
  }
  return out;
}

Result<KeyAndCert> NewCa(const std::string& common_name, int days, std::time_t now) {
  auto key = NewKey();
  if (!key.ok()) return key.status();
  auto cert = Skeleton(common_name, key->get(), days, now);
  if (!cert.ok()) return cert.status();
  X509* c = cert->get();
  if (X509_set_issuer_name(c, X509_get_subject_name(c)) != 1) return OpenSslFailure("issuer");
  for (auto [nid, value] : {std::pair{NID_basic_constraints, "critical,CA:TRUE,pathlen:0"},
                            std::pair{NID_key_usage, "critical,keyCertSign,cRLSign"},
                            std::pair{NID_subject_key_identifier, "hash"}}) {
    if (Status s = AddExtension(c, c, nid, value); !s.ok()) return s;
  }
  if (X509_sign(c, key->get(), EVP_sha256()) <= 0) return OpenSslFailure("sign CA");
  return KeyAndCert{ToPem(*key), ToPem(*cert)};
}

Result<KeyAndCert> Issue(const KeyAndCert& ca, const CertRequest& request) {
  const Cert ca_cert = ParseCert(ca.cert_pem);
  const Key ca_key = ParseKey(ca.key_pem);
  ERR_clear_error();
  if (!ca_cert || !ca_key) return FailedPrecondition("the CA's certificate or key does not parse");
  if (X509_check_ca(ca_cert.get()) == 0) return FailedPrecondition("the CA certificate is no CA");
  if (X509_check_private_key(ca_cert.get(), ca_key.get()) != 1) {
    ERR_clear_error();
    return FailedPrecondition("the CA key does not match the CA certificate");
  }
  std::string alt_names;
  if (request.role == CertRole::kServer) {
    auto sans = SubjectAltNames(request.names, request.addresses);
    if (!sans.ok()) return sans.status();
    alt_names = *sans;
  }
  auto key = NewKey();
  if (!key.ok()) return key.status();
  auto cert = Skeleton(request.common_name, key->get(), request.days, request.now);
  if (!cert.ok()) return cert.status();
  X509* c = cert->get();
  if (X509_set_issuer_name(c, X509_get_subject_name(ca_cert.get())) != 1) {
    return OpenSslFailure("issuer");
  }
  const bool server = request.role == CertRole::kServer;
  std::vector<std::pair<int, std::string>> extensions = {
      {NID_basic_constraints, "critical,CA:FALSE"},
      {NID_key_usage, "critical,digitalSignature,keyAgreement"},
      {NID_ext_key_usage, server ? "serverAuth" : "clientAuth"},
      {NID_subject_key_identifier, "hash"},
      {NID_authority_key_identifier, "keyid:always"},
  };
  if (server) extensions.emplace_back(NID_subject_alt_name, alt_names);
  for (const auto& [nid, value] : extensions) {
    if (Status s = AddExtension(c, ca_cert.get(), nid, value); !s.ok()) return s;
  }
  if (X509_sign(c, ca_key.get(), EVP_sha256()) <= 0) return OpenSslFailure("sign certificate");
  return KeyAndCert{ToPem(*key), ToPem(*cert)};
}

Result<CertFacts> ReadCert(const std::string& cert_pem) {
  const Cert cert = ParseCert(cert_pem);
  if (!cert) return InvalidArgument(OpenSslError("not a PEM certificate"));
  CertFacts facts;
  facts.subject_cn = CommonName(X509_get_subject_name(cert.get()));
  facts.issuer_cn = CommonName(X509_get_issuer_name(cert.get()));
  facts.not_before = ToTime(X509_get0_notBefore(cert.get()));
  facts.not_after = ToTime(X509_get0_notAfter(cert.get()));
  facts.is_ca = X509_check_ca(cert.get()) != 0;
  const uint32_t usages = X509_get_extended_key_usage(cert.get());
  facts.server_auth = (usages & XKU_SSL_SERVER) != 0;
  facts.client_auth = (usages & XKU_SSL_CLIENT) != 0;
  const Names sans(static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(cert.get(), NID_subject_alt_name, nullptr, nullptr)));
  for (int i = 0; sans && i < sk_GENERAL_NAME_num(sans.get()); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(sans.get(), i);
    if (name->type == GEN_DNS) facts.dns_names.push_back(Utf8(name->d.dNSName));
    if (name->type == GEN_IPADD) facts.ip_addresses.push_back(IpText(name->d.iPAddress));
  }
  ERR_clear_error();
  return facts;
}

Status VerifyCert(const std::string& ca_pem, const std::string& cert_pem, std::time_t at) {
  const Cert ca = ParseCert(ca_pem);
  const Cert cert = ParseCert(cert_pem);
  ERR_clear_error();
  if (!ca || !cert) return InvalidArgument("not a PEM certificate");
  Store store(X509_STORE_new());
  StoreCtx ctx(X509_STORE_CTX_new());
  if (!store || !ctx || X509_STORE_add_cert(store.get(), ca.get()) != 1 ||
      X509_STORE_CTX_init(ctx.get(), store.get(), cert.get(), nullptr) != 1) {
    return OpenSslFailure("verify context");
  }
  X509_STORE_CTX_set_time(ctx.get(), 0, at);
  if (X509_verify_cert(ctx.get()) == 1) return Status::Ok();
  const int error = X509_STORE_CTX_get_error(ctx.get());
  ERR_clear_error();
  return Unauthenticated(X509_verify_cert_error_string(error));
}

}  // namespace onedock::admin
