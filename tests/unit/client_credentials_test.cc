// The client certificate and key parsed once for every TLS context: what Load accepts and refuses,
// what a context gets, and when the cache reads the files again.
#include "docker/client_credentials.h"

#include <doctest/doctest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>

#include "bridge/admin/certs.h"
#include "tests/fakes/fake_clock.h"
#include "tests/support/require_ok.h"
#include "tests/support/temp_dir.h"

namespace onedock::docker {
namespace {

constexpr std::time_t kNow = 1'800'000'000;

admin::KeyAndCert Ca() {
  auto ca = admin::NewCa("test CA", 30, kNow);
  REQUIRE_OK(ca);
  return *ca;
}

admin::KeyAndCert Client(const admin::KeyAndCert& ca, const std::string& name) {
  auto c = admin::Issue(ca, {.common_name = name, .role = admin::CertRole::kClient, .now = kNow});
  REQUIRE_OK(c);
  return *c;
}

// Replaces `path` as certificate tools do: a new file renamed over the old one.
void Write(const std::string& path, const std::string& text) {
  {
    std::ofstream out(path + ".new");
    out << text;
  }
  REQUIRE(std::rename((path + ".new").c_str(), path.c_str()) == 0);
}

using Context = std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)>;

Context NewContext() {
  Context ctx(SSL_CTX_new(TLS_client_method()), SSL_CTX_free);
  REQUIRE(ctx != nullptr);
  return ctx;
}

// The common name of the certificate a context presents.
std::string PresentedName(SSL_CTX* ctx) {
  X509* cert = SSL_CTX_get0_certificate(ctx);
  if (cert == nullptr) return "";
  char name[256] = {0};
  X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, name, sizeof name);
  return name;
}

struct Files {
  testing::TempDir dir{"credentials"};
  std::string cert = dir.path() + "/cert.pem";
  std::string key = dir.path() + "/key.pem";
  void Put(const admin::KeyAndCert& pair, const std::string& chain = "") {
    Write(cert, pair.cert_pem + chain);
    Write(key, pair.key_pem);
  }
};

TEST_CASE("a context gets the certificate, its chain and the key that matches it") {
  const auto ca = Ca();
  Files files;
  files.Put(Client(ca, "onedockd"), ca.cert_pem);
  auto loaded = ClientCredentials::Load(files.cert, files.key);
  REQUIRE_OK(loaded);
  for (int i = 0; i < 2; ++i) {  // one parse serves every context
    Context ctx = NewContext();
    REQUIRE((*loaded)->ApplyTo(ctx.get()));
    CHECK(PresentedName(ctx.get()) == "onedockd");
    CHECK(SSL_CTX_check_private_key(ctx.get()) == 1);
    STACK_OF(X509)* chain = nullptr;
    REQUIRE(SSL_CTX_get0_chain_certs(ctx.get(), &chain) == 1);
    CHECK(sk_X509_num(chain) == 1);
  }
}

TEST_CASE("files that are missing, not PEM, or a key of another certificate do not load") {
  const auto ca = Ca();
  Files files;
  const auto one = Client(ca, "one"), other = Client(ca, "other");
  files.Put(one);
  CHECK(ClientCredentials::Load(files.dir.path() + "/none.pem", files.key).status().code() ==
        Status::Code::kNotFound);
  CHECK(ClientCredentials::Load(files.cert, files.dir.path() + "/none.pem").status().code() ==
        Status::Code::kNotFound);
  Write(files.key, other.key_pem);
  auto mismatched = ClientCredentials::Load(files.cert, files.key);
  CHECK(mismatched.status().code() == Status::Code::kInvalidArgument);
  CHECK(mismatched.status().message().find("does not match") != std::string::npos);
  Write(files.key, "not a key\n");
  CHECK(ClientCredentials::Load(files.cert, files.key).status().code() ==
        Status::Code::kInvalidArgument);
  Write(files.cert, "not a certificate\n");
  CHECK(ClientCredentials::Load(files.cert, files.key).status().code() ==
        Status::Code::kInvalidArgument);
}

// A PEM key encrypted with `password`, and a self-signed certificate for `key` (SHA-256).
std::string EncryptedKey(const std::string& key_pem, const std::string& password) {
  std::unique_ptr<BIO, decltype(&BIO_free)> in(BIO_new_mem_buf(key_pem.data(), -1), BIO_free);
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
      PEM_read_bio_PrivateKey(in.get(), nullptr, nullptr, nullptr), EVP_PKEY_free);
  REQUIRE(key != nullptr);
  std::unique_ptr<BIO, decltype(&BIO_free)> out(BIO_new(BIO_s_mem()), BIO_free);
  REQUIRE(PEM_write_bio_PKCS8PrivateKey(out.get(), key.get(), EVP_aes_256_cbc(), password.data(),
                                        static_cast<int>(password.size()), nullptr, nullptr) == 1);
  char* data = nullptr;
  const long n = BIO_get_mem_data(out.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

admin::KeyAndCert SelfSigned(EVP_PKEY* key) {
  std::unique_ptr<X509, decltype(&X509_free)> cert(X509_new(), X509_free);
  REQUIRE(cert != nullptr);
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), 0);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 86400);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("weak"), -1, -1, 0);
  X509_set_issuer_name(cert.get(), name);
  X509_set_pubkey(cert.get(), key);
  REQUIRE(X509_sign(cert.get(), key, EVP_sha256()) > 0);
  const auto pem = [](auto write) {
    std::unique_ptr<BIO, decltype(&BIO_free)> out(BIO_new(BIO_s_mem()), BIO_free);
    REQUIRE(write(out.get()) == 1);
    char* data = nullptr;
    const long n = BIO_get_mem_data(out.get(), &data);
    return std::string(data, static_cast<size_t>(n));
  };
  return {pem([&](BIO* b) {
            return PEM_write_bio_PrivateKey(b, key, nullptr, nullptr, 0, nullptr, nullptr);
          }),
          pem([&](BIO* b) { return PEM_write_bio_X509(b, cert.get()); })};
}

TEST_CASE("an encrypted key, a chain certificate that does not parse, a key OpenSSL refuses") {
  const auto ca = Ca();
  const auto client = Client(ca, "onedockd");
  Files files;
  // Refused at once, with no prompt for a password on the terminal.
  files.Put({EncryptedKey(client.key_pem, "secret"), client.cert_pem});
  auto encrypted = ClientCredentials::Load(files.cert, files.key);
  CHECK(encrypted.status().code() == Status::Code::kInvalidArgument);
  CHECK(encrypted.status().message().find("no unencrypted PEM private key") != std::string::npos);

  std::string broken_chain = ca.cert_pem;
  broken_chain.replace(broken_chain.find('\n') + 1, 8, "AAAAAAAA");
  files.Put(client, broken_chain);
  auto chain = ClientCredentials::Load(files.cert, files.key);
  CHECK(chain.status().code() == Status::Code::kInvalidArgument);
  CHECK(chain.status().message().find("a chain certificate does not parse") != std::string::npos);

  // RSA 512: parses and matches, and OpenSSL's default security level refuses it for TLS.
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> weak(EVP_RSA_gen(512), EVP_PKEY_free);
  REQUIRE(weak != nullptr);
  files.Put(SelfSigned(weak.get()));
  auto refused = ClientCredentials::Load(files.cert, files.key);
  CHECK(refused.status().code() == Status::Code::kInvalidArgument);
  CHECK(refused.status().message().find("refused by OpenSSL") != std::string::npos);
}

TEST_CASE("the cache reads a pair once, and again a second after either file changed") {
  const auto ca = Ca();
  Files files;
  files.Put(Client(ca, "first"));
  fakes::FakeClock clock;
  CredentialCache cache(clock);
  auto first = cache.Get(files.cert, files.key);
  REQUIRE(first != nullptr);
  clock.Advance(std::chrono::seconds(5));
  CHECK(cache.Get(files.cert, files.key) == first);  // unchanged files are not parsed again

  files.Put(Client(ca, "renewed"));
  CHECK(cache.Get(files.cert, files.key) == first);  // checked less than a second ago
  clock.Advance(std::chrono::seconds(1));
  auto renewed = cache.Get(files.cert, files.key);
  REQUIRE(renewed != nullptr);
  CHECK(renewed != first);
  Context ctx = NewContext();
  REQUIRE(renewed->ApplyTo(ctx.get()));
  CHECK(PresentedName(ctx.get()) == "renewed");
  // A context made before the renewal keeps the first pair, which outlives the cache's reference.
  Context old = NewContext();
  REQUIRE(first->ApplyTo(old.get()));
  first.reset();
  CHECK(PresentedName(old.get()) == "first");

  // A key that no longer matches: null (libcurl reads the files and says why), until it is fixed.
  Write(files.key, Client(ca, "stranger").key_pem);
  clock.Advance(std::chrono::seconds(1));
  CHECK(cache.Get(files.cert, files.key) == nullptr);
  files.Put(Client(ca, "fixed"));
  clock.Advance(std::chrono::seconds(1));
  auto fixed = cache.Get(files.cert, files.key);
  REQUIRE(fixed != nullptr);
  Context after = NewContext();
  REQUIRE(fixed->ApplyTo(after.get()));
  CHECK(PresentedName(after.get()) == "fixed");
}

}  // namespace
}  // namespace onedock::docker
