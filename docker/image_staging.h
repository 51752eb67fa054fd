// The docker/ side of the image datastore: ImageStaging over an EngineClient, and
// RegistryAccess over RegistryClient and CurlTransport. Registries at a literal loopback address
// (127.0.0.0/8, ::1) or configured as insecure are spoken to over plain HTTP, all others over
// HTTPS. Whatever a user names (a URL, an upstream registry and its token realm) is dialled only
// where the DestinationPolicy admits, within the WebLimits; the private registry is onedockd's
// own and is exempt from the policy.
#ifndef ONEDOCK_DOCKER_IMAGE_STAGING_H_
#define ONEDOCK_DOCKER_IMAGE_STAGING_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "bridge/destination_policy.h"
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

// Time and size bounds of what is fetched from a URL.
struct WebLimits {
  int64_t max_download_bytes = int64_t{64} << 30;  // a tarball past this fails (64 GiB)
  long download_timeout_ms = 3600000;              // a whole download; 0 = none
  long low_speed_bytes_per_s = 1024;               // a download slower than this...
  long low_speed_ms = 60000;                       // ...for this long fails
  long head_timeout_ms = 30000;                    // a HEAD (stat), redirects included
  int max_redirects = 5;                           // each to http or https, each checked
};

struct RegistryHttpSettings {
  std::string private_registry;                  // "127.0.0.1:5000": exempt from `destinations`
  std::vector<std::string> insecure_registries;  // host:port spoken to over plain HTTP
  DestinationPolicy destinations;                // for URLs and upstream registries
  WebLimits limits;
};

// Each call opens its own connections (manifests and downloads are rare next to engine calls), so
// one instance may serve several threads.
class RegistryHttp : public RegistryAccess {
 public:
  explicit RegistryHttp(RegistryHttpSettings settings = {}) : settings_(std::move(settings)) {}

  Result<RegistryManifest> Manifest(const ImageReference& reference,
                                    const RegistryAuth& auth) override;
  Status DeleteManifest(const ImageReference& reference, const RegistryAuth& auth) override;
  Result<std::vector<std::string>> Tags(const ImageReference& repository,
                                        const RegistryAuth& auth) override;
  Result<std::string> TagDigest(const ImageReference& reference, const RegistryAuth& auth) override;
  // Resolves the registry host and checks every address against the policy.
  Status CheckRegistry(const ImageReference& reference) override;
  // Downloads an http(s) URL to `path`, following up to max_redirects redirects; returns the
  // bytes written. Errors: the server's 404 and 410 kNotFound, 401 kUnauthenticated, 403
  // kPermissionDenied, 5xx kUnavailable (StatusFromHttpStatus); an unreachable server
  // kUnavailable; a destination the policy refuses kPermissionDenied; past download_timeout_ms,
  // or slower than low_speed_bytes_per_s for low_speed_ms, kDeadlineExceeded; a body past
  // max_download_bytes, another scheme or too many redirects kInvalidArgument.
  Result<int64_t> Download(const std::string& url, const std::string& path) override;
  // The Content-Length of a HEAD (after redirects), -1 when the server states none; errors as
  // Download's, within head_timeout_ms.
  Result<int64_t> RemoteSize(const std::string& url) override;

  // http://host:port for literal loopback and insecure registries, https:// otherwise; the
  // policy applies unless `domain` is the private registry.
  Endpoint EndpointOf(const std::string& domain, const RegistryAuth& auth) const;
  // The registry host and repository a reference is fetched from: a reference without a registry
  // names Docker Hub (registry-1.docker.io), whose one-component names live under library/.
  static std::pair<std::string, std::string> LocationOf(const ImageReference& reference);

 private:
  Endpoint WebEndpoint() const;
  RegistryHttpSettings settings_;
};

}  // namespace onedock::docker

#endif  // ONEDOCK_DOCKER_IMAGE_STAGING_H_
