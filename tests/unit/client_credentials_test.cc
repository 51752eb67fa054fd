// The client certificate and key parsed once for every TLS context: what Load accepts and refuses,
// what a context gets, and when the cache reads the files again.
#include "docker/client_credentials.h"

#include <doctest/doctest.h>
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
