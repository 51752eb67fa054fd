// The docker/ side of the image datastore: bridge::StagingEngine over an EngineClient, and
// bridge::RegistryAccess over RegistryClient and libcurl. Registries on loopback addresses are
// spoken to over plain HTTP (as the engines treat them), all others over HTTPS.
#ifndef ONEDOCK_DOCKER_IMAGE_STAGING_H_
#define ONEDOCK_DOCKER_IMAGE_STAGING_H_

#include <memory>
#include <string>
#include <utility>

#include "bridge/image_store.h"
#include "docker/engine_client.h"

namespace onedock::docker {

class EngineStaging : public bridge::StagingEngine {
 public:
  explicit EngineStaging(std::unique_ptr<EngineClient> engine) : engine_(std::move(engine)) {}
  Status Pull(const std::string& reference, const RegistryAuth& auth) override;
  Result<std::vector<std::string>> Load(const std::string& tar_path) override;
  Result<ImageInfo> Inspect(const std::string& reference) override;
  Status Tag(const std::string& source, const std::string& repository, const std::string& tag) override;
  Result<std::string> Push(const std::string& reference, const RegistryAuth& auth) override;
  Status Remove(const std::string& reference) override;

 private:
  std::unique_ptr<EngineClient> engine_;
};

class RegistryHttp : public bridge::RegistryAccess {
 public:
  Result<bridge::RegistryManifest> Manifest(const bridge::ImageReference& reference, const RegistryAuth& auth) override;
  Status DeleteManifest(const bridge::ImageReference& reference, const RegistryAuth& auth) override;
  Result<int64_t> Download(const std::string& url, const std::string& path) override;
  Result<int64_t> RemoteSize(const std::string& url) override;

  // http://host:port for loopback registries, https:// otherwise.
  static Endpoint EndpointOf(const std::string& domain, const RegistryAuth& auth);
  // The registry host and repository a reference is fetched from: a reference without a registry
  // names Docker Hub (registry-1.docker.io), whose one-component names live under library/.
  static std::pair<std::string, std::string> LocationOf(const bridge::ImageReference& reference);
};

}  // namespace onedock::docker

#endif  // ONEDOCK_DOCKER_IMAGE_STAGING_H_
