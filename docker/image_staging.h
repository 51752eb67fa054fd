// The docker/ side of the image datastore: ImageStaging over an EngineClient, and
// RegistryAccess over RegistryClient and CurlTransport. Registries on loopback addresses
// are spoken to over plain HTTP (as the engines treat them), all others over HTTPS.
#ifndef ONEDOCK_DOCKER_IMAGE_STAGING_H_
#define ONEDOCK_DOCKER_IMAGE_STAGING_H_

#include <memory>
#include <string>
#include <utility>

#include "bridge/image_store.h"
#include "docker/engine_client.h"

namespace onedock::docker {

class StagingEngine : public ImageStaging {
 public:
  explicit StagingEngine(std::unique_ptr<EngineClient> engine) : engine_(std::move(engine)) {}
  Status Pull(const std::string& reference, const RegistryAuth& auth) override;
  Result<std::vector<std::string>> Load(const std::string& tar_path) override;
  Result<ImageInfo> Inspect(const std::string& reference) override;
  Status Tag(const std::string& source, const std::string& repository,
             const std::string& tag) override;
  Result<std::string> Push(const std::string& reference, const RegistryAuth& auth) override;
  Status Remove(const std::string& reference) override;

 private:
  std::unique_ptr<EngineClient> engine_;
};

// Each call opens its own connections (manifests and downloads are rare next to engine calls), so
// one instance may serve several threads.
class RegistryHttp : public RegistryAccess {
 public:
  // A download that passes this many bytes fails rather than fill the spool's disk.
  static constexpr int64_t kDefaultMaxDownloadBytes = int64_t{64} << 30;  // 64 GiB
  // Redirects followed by Download and RemoteSize, to http and https URLs only.
  static constexpr int kMaxRedirects = 5;
  // A download that moves no byte for this long fails with kDeadlineExceeded.
  static constexpr long kStallTimeoutMs = 60000;

  explicit RegistryHttp(int64_t max_download_bytes = kDefaultMaxDownloadBytes)
      : max_download_bytes_(max_download_bytes) {}

  Result<RegistryManifest> Manifest(const ImageReference& reference,
                                    const RegistryAuth& auth) override;
  Status DeleteManifest(const ImageReference& reference, const RegistryAuth& auth) override;
  // Downloads an http(s) URL to `path`, following up to kMaxRedirects redirects; returns the
  // bytes written. Errors: the server's 404 and 410 kNotFound, 401 kUnauthenticated, 403
  // kPermissionDenied, 5xx kUnavailable (StatusFromHttpStatus); an unreachable server
  // kUnavailable; no byte for kStallTimeoutMs kDeadlineExceeded; a body past the bound, another
  // scheme or too many redirects kInvalidArgument.
  Result<int64_t> Download(const std::string& url, const std::string& path) override;
  // The Content-Length of a HEAD (after redirects), -1 when the server states none; errors as
  // Download's.
  Result<int64_t> RemoteSize(const std::string& url) override;

  // http://host:port for loopback registries, https:// otherwise.
  static Endpoint EndpointOf(const std::string& domain, const RegistryAuth& auth);
  // The registry host and repository a reference is fetched from: a reference without a registry
  // names Docker Hub (registry-1.docker.io), whose one-component names live under library/.
  static std::pair<std::string, std::string> LocationOf(const ImageReference& reference);

 private:
  int64_t max_download_bytes_;
};

}  // namespace onedock::docker

#endif  // ONEDOCK_DOCKER_IMAGE_STAGING_H_
