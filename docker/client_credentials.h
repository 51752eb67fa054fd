// ClientCredentials: a client certificate (with its chain) and its key, read from PEM files and
// parsed once, then handed to every TLS context libcurl makes for a connection that presents them.
// libcurl would otherwise read and decode both files at each new connection, which costs more CPU
// than the handshake when a monitor opens hundreds of connections, and keeps a copy per connection.
// Thread-safe: Shared() serves every transport, and contexts only take references.
#ifndef ONEDOCK_DOCKER_CLIENT_CREDENTIALS_H_
#define ONEDOCK_DOCKER_CLIENT_CREDENTIALS_H_

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

#include "bridge/clock.h"
#include "bridge/status.h"

namespace onedock::docker {

class ClientCredentials {
 public:
  // Reads `cert_file` (the certificate, then any chain certificates) and `key_file` (not
  // encrypted). kInvalidArgument when a file does not parse, the key does not match the
  // certificate, or OpenSSL refuses the pair for a TLS context (with OpenSSL's reason); kNotFound
  // when a file cannot be read.
  static Result<std::shared_ptr<const ClientCredentials>> Load(const std::string& cert_file,
                                                               const std::string& key_file);

  // The credentials of this pair of files from the process's CredentialCache (the real clock).
  static std::shared_ptr<const ClientCredentials> Shared(const std::string& cert_file,
                                                         const std::string& key_file);

  ~ClientCredentials();
  ClientCredentials(const ClientCredentials&) = delete;
  ClientCredentials& operator=(const ClientCredentials&) = delete;

  // Gives an SSL_CTX (void*, so that callers need not include OpenSSL) the certificate, chain and
  // key, by reference. False when OpenSSL refuses them.
  bool ApplyTo(void* ssl_ctx) const;

 private:
  ClientCredentials() = default;
  bool Take(void* ssl_ctx) const;  // ApplyTo, leaving OpenSSL's reason in its error queue
  void* cert_ = nullptr;           // X509*
  void* chain_ = nullptr;          // STACK_OF(X509)*, may be empty
  void* key_ = nullptr;            // EVP_PKEY*
};

// Credentials by pair of files: loaded at the first Get, and read again when either file changed
// since (checked at most once a second of `clock`, by device, inode, size and modification time),
// so that a renewed certificate serves the next new connection, as it would if libcurl read the
// files. Get is null when they do not load: the caller then lets libcurl read the files and report
// why. Thread-safe.
class CredentialCache {
 public:
  explicit CredentialCache(const Clock& clock) : clock_(clock) {}
  std::shared_ptr<const ClientCredentials> Get(const std::string& cert_file,
                                               const std::string& key_file);

 private:
  struct FileStamp {
    bool ok = false;
    uint64_t device = 0, inode = 0;
    int64_t size = 0, mtime_ns = 0;
    bool operator==(const FileStamp&) const = default;
  };
  static FileStamp StampOf(const std::string& path);
  struct Entry {
    FileStamp cert, key;
    std::optional<Clock::TimePoint> checked;
    std::shared_ptr<const ClientCredentials> credentials;  // null: the files did not load
  };
  const Clock& clock_;
  std::mutex mu_;
  std::map<std::pair<std::string, std::string>, Entry> entries_;
};

}  // namespace onedock::docker

#endif  // ONEDOCK_DOCKER_CLIENT_CREDENTIALS_H_
