#include "docker/client_credentials.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/stat.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <utility>

namespace onedock::docker {
namespace {

using Bio = std::unique_ptr<BIO, decltype(&BIO_free)>;

Result<Bio> OpenFile(const std::string& path, const char* what) {
  Bio bio(BIO_new_file(path.c_str(), "r"), BIO_free);
  if (!bio) {
    const int error = errno;
    ERR_clear_error();
    return NotFound(std::string(what) + " " + path + ": " + std::strerror(error));
  }
  return bio;
}

// Encrypted PEM is refused at once: there is no one to ask for a password (OpenSSL would ask
// on the terminal).
int NoPassword(char*, int, int, void*) { return 0; }

// OpenSSL's reason for the last failure, and its error queue emptied.
std::string OpenSslError() {
  const unsigned long e = ERR_peek_last_error();
  char text[256] = {0};
  if (e != 0) ERR_error_string_n(e, text, sizeof text);
  ERR_clear_error();
  return e != 0 ? text : "no reason given";
}

}  // namespace

Result<std::shared_ptr<const ClientCredentials>> ClientCredentials::Load(
    const std::string& cert_file, const std::string& key_file) {
  ERR_clear_error();  // what is left below is this load's
  std::shared_ptr<ClientCredentials> c(new ClientCredentials());
  {
    auto bio = OpenFile(cert_file, "client certificate");
    if (!bio.ok()) return bio.status();
    // As libcurl reads a certificate file (SSL_CTX_use_certificate_chain_file): the certificate,
    // which may be a TRUSTED CERTIFICATE block, then the chain, to the end of the file.
    X509* cert = PEM_read_bio_X509_AUX(bio->get(), nullptr, NoPassword, nullptr);
    if (cert == nullptr) {
      return InvalidArgument("client certificate " + cert_file + ": no PEM certificate (" +
                             OpenSslError() + ")");
    }
    c->cert_ = cert;
    STACK_OF(X509)* chain = sk_X509_new_null();
    if (chain == nullptr) return Internal("out of memory reading " + cert_file);
    c->chain_ = chain;
    while (X509* more = PEM_read_bio_X509(bio->get(), nullptr, NoPassword, nullptr)) {
      if (sk_X509_push(chain, more) == 0) {
        X509_free(more);
        return Internal("out of memory reading " + cert_file);
      }
    }
    const unsigned long end = ERR_peek_last_error();
    if (ERR_GET_LIB(end) != ERR_LIB_PEM || ERR_GET_REASON(end) != PEM_R_NO_START_LINE) {
      return InvalidArgument("client certificate " + cert_file +
                             ": a chain certificate does not parse (" + OpenSslError() + ")");
    }
    ERR_clear_error();  // the end of the file reads as "no start line"
  }
  auto bio = OpenFile(key_file, "client key");
  if (!bio.ok()) return bio.status();
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio->get(), nullptr, NoPassword, nullptr);
  if (key == nullptr) {
    return InvalidArgument("client key " + key_file + ": no unencrypted PEM private key (" +
                           OpenSslError() + ")");
  }
  c->key_ = key;
  if (X509_check_private_key(static_cast<X509*>(c->cert_), key) != 1) {
    ERR_clear_error();
    return InvalidArgument("client key " + key_file + " does not match certificate " + cert_file);
  }
  // What OpenSSL refuses when a context takes the pair (a key too small for its security level, a
  // chain signed with a digest it no longer accepts) is refused here, with its reason.
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> scratch(SSL_CTX_new(TLS_client_method()),
                                                            SSL_CTX_free);
  if (!scratch) return Internal("OpenSSL could not make a TLS context (" + OpenSslError() + ")");
  if (!c->Take(scratch.get())) {
    return InvalidArgument("client certificate " + cert_file + " and key " + key_file +
                           " refused by OpenSSL (" + OpenSslError() + ")");
  }
  return std::shared_ptr<const ClientCredentials>(std::move(c));
}

std::shared_ptr<const ClientCredentials> ClientCredentials::Shared(const std::string& cert_file,
                                                                   const std::string& key_file) {
  static CredentialCache cache(Clock::Real());
  return cache.Get(cert_file, key_file);
}

ClientCredentials::~ClientCredentials() {
  X509_free(static_cast<X509*>(cert_));
  sk_X509_pop_free(static_cast<STACK_OF(X509)*>(chain_), X509_free);
  EVP_PKEY_free(static_cast<EVP_PKEY*>(key_));
}

bool ClientCredentials::Take(void* ssl_ctx) const {
  SSL_CTX* ctx = static_cast<SSL_CTX*>(ssl_ctx);
  return SSL_CTX_use_certificate(ctx, static_cast<X509*>(cert_)) == 1 &&
         SSL_CTX_use_PrivateKey(ctx, static_cast<EVP_PKEY*>(key_)) == 1 &&
         SSL_CTX_set1_chain(ctx, static_cast<STACK_OF(X509)*>(chain_)) == 1;
}

bool ClientCredentials::ApplyTo(void* ssl_ctx) const {
  const bool applied = Take(ssl_ctx);
  if (!applied) ERR_clear_error();
  return applied;
}

CredentialCache::FileStamp CredentialCache::StampOf(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) return {};
  return {true, static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino),
          static_cast<int64_t>(st.st_size),
          int64_t{st.st_mtim.tv_sec} * 1'000'000'000 + st.st_mtim.tv_nsec};
}

std::shared_ptr<const ClientCredentials> CredentialCache::Get(const std::string& cert_file,
                                                              const std::string& key_file) {
  const Clock::TimePoint now = clock_.Now();
  std::lock_guard lock(mu_);
  Entry& entry = entries_[{cert_file, key_file}];
  if (entry.checked && now - *entry.checked < std::chrono::seconds(1)) return entry.credentials;
  const bool first = !entry.checked;
  entry.checked = now;
  const FileStamp cert = StampOf(cert_file), key = StampOf(key_file);
  if (!first && cert == entry.cert && key == entry.key) return entry.credentials;
  entry.cert = cert;
  entry.key = key;
  auto loaded = ClientCredentials::Load(cert_file, key_file);
  entry.credentials = loaded.ok() ? *loaded : nullptr;
  return entry.credentials;
}

}  // namespace onedock::docker
