// ImageStore: the onedock image datastore. An OpenNebula image is a Docker image in the
// front-end's private registry, as <registry>/<basename>:<image id>, and its SOURCE names it pinned
// by digest. Images come in from another registry (PATH docker://[registry/]name[:tag|@digest])
// or from a `docker save` tarball (a file on the front-end or an http(s) URL), through a staging
// engine that pulls or loads, tags and pushes.
//
// Every failure leaves the private registry as it was: a push either lands a manifest or does
// not, and a manifest pushed before a later step failed is deleted. Deleting an image never takes
// another image's data: its manifest goes only when no other image of this installation refers
// to it. What a user names is bounded: a local PATH by a LocalPathPolicy, a URL or an upstream
// registry by the RegistryAccess's destination policy and limits; a tarball may not bring tags of
// the private registry, and the staging engine keeps none of what it brought. Messages lead with
// what failed (oned keeps 100 characters). Thread-safe: the staging engine is leased per call.
#ifndef ONEDOCK_BRIDGE_IMAGE_STORE_H_
#define ONEDOCK_BRIDGE_IMAGE_STORE_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "bridge/engine.h"
#include "bridge/engine_types.h"
#include "bridge/image_reference.h"
#include "bridge/local_path_policy.h"
#include "bridge/one_api.h"
#include "bridge/one_types.h"
#include "bridge/sqlite_store.h"
#include "bridge/status.h"

namespace onedock {

// Where images are staged: an engine that pulls or loads, tags and pushes (docker::StagingEngine).
class ImageStaging {
 public:
  virtual ~ImageStaging() = default;
  virtual Status Pull(const std::string& reference, const RegistryAuth& auth) = 0;
  // What the engine reports as loaded ("repo:tag" or "sha256:…"); `tar_path` may be a
  // /proc/self/fd/N path.
  virtual Result<std::vector<std::string>> Load(const std::string& tar_path) = 0;
  virtual Result<ImageInfo> Inspect(const std::string& reference) = 0;
  virtual Status Tag(const std::string& source, const std::string& repository,
                     const std::string& tag) = 0;
  // Returns the manifest digest the registry reported.
  virtual Result<std::string> Push(const std::string& reference, const RegistryAuth& auth) = 0;
  virtual Status Remove(const std::string& reference) = 0;
};

struct RegistryManifest {
  std::string digest;
  int64_t size = 0;  // config + layers, as the manifest states them (compressed)
};

// Registries over their HTTP API.
class RegistryAccess {
 public:
  virtual ~RegistryAccess() = default;
  virtual Result<RegistryManifest> Manifest(const ImageReference& reference,
                                            const RegistryAuth& auth) = 0;
  virtual Status DeleteManifest(const ImageReference& reference,
                                const RegistryAuth& auth) = 0;  // by digest
  // The tags of `repository`'s repository, and the digest one tag points to. kNotFound when absent.
  virtual Result<std::vector<std::string>> Tags(const ImageReference& repository,
                                                const RegistryAuth& auth) = 0;
  virtual Result<std::string> TagDigest(const ImageReference& reference,
                                        const RegistryAuth& auth) = 0;
  // Whether the registry `reference` names may be reached (its host's addresses, against the
  // destination policy); kPermissionDenied when not. The staging engine pulls from it, so this
  // is checked before asking it to.
  virtual Status CheckRegistry(const ImageReference& reference) = 0;
  // Downloads an http(s) URL to `path`; returns its size in bytes.
  virtual Result<int64_t> Download(const std::string& url, const std::string& path) = 0;
  // The size of an http(s) resource (HEAD), or -1 when the server does not say.
  virtual Result<int64_t> RemoteSize(const std::string& url) = 0;
};

struct ImageStoreSettings {
  std::string registry;                          // the private registry, "127.0.0.1:5000"
  RegistryAuth registry_auth;                    // its credentials
  std::map<std::string, RegistryAuth> upstream;  // credentials per upstream registry host
  std::string spool_dir;                         // downloaded tarballs, removed after use
  std::string storage_path;                      // the private registry's storage, for monitor
  std::vector<std::string> upload_dirs;          // where a local tarball PATH may be
  std::vector<std::string> restricted_dirs;      // where it may never be (wins over the rest)
};

struct CopyResult {
  std::string source;  // <registry>/<basename>:<id>@sha256:…
  std::string format = "docker";
};

// USED_MB, TOTAL_MB and FREE_MB lines, as datastore MONITOR prints them.
std::string CapacityLines(const Capacity& c);

class ImageStore {
 public:
  // A staging engine for one call.
  using Stager = std::function<Result<std::unique_ptr<ImageStaging>>()>;

  // `one` reads the image a clone copies; `journal` says where a persistent image's volume is.
  ImageStore(Stager stager, RegistryAccess& registries, OneApi& one, SqliteStore& journal,
             ImageStoreSettings settings);

  // STAT: size in MB (at least 1) of what PATH names. `datastore`, when given, brings its
  // template's SAFE_DIRS and RESTRICTED_DIRS into the local path policy (LocalPathPolicy).
  Result<int64_t> Stat(const Image& image, const Datastore* datastore = nullptr);
  // CP: copies PATH into the private registry.
  Result<CopyResult> Copy(const Image& image, const Datastore* datastore = nullptr);
  // CLONE: the image CLONING_ID names (read from oned) copied as `image`. A registry image is
  // copied again under the new image's name and id; an empty data volume's image gets a volume
  // source of its own; a volume that holds data is refused.
  Result<CopyResult> Clone(const Image& image);
  // MKFS: the SOURCE of a new empty data volume.
  Result<std::string> Mkfs(const Image& image);
  // RM: forgets the image's manifest in the private registry. The manifest is deleted (absent is
  // done) unless another tag of its repository points to the same digest and names an image oned
  // still has (or a tag onedock did not make); then it is kept, with this image's tag, and goes
  // with the last image that refers to it.
  Status Remove(const Image& image);
  // MONITOR: the private registry's storage.
  Result<Capacity> Monitor();
  // TM clone/ln: makes sure a host's engine has SOURCE (pulled from the private registry).
  Status PrePull(Engine& engine, const std::string& source);

  // The reference a SOURCE names, which must be in the private registry.
  Result<ImageReference> PrivateReference(const std::string& source) const;

 private:
  enum class Origin { kRegistry, kFile, kUrl };
  struct Input {
    Origin origin;
    ImageReference reference;  // kRegistry
    std::string location;      // kFile path or kUrl
  };
  Result<Input> ParsePath(const Image& image) const;
  LocalPathPolicy PathPolicy(const Datastore* datastore) const;
  // Whether another image of this installation refers to `ref` (its repository at its digest).
  Result<bool> ManifestShared(const ImageReference& ref, int image_id);
  // Loads a checked tarball; refuses (and removes) tags that name the private registry.
  Result<std::string> LoadTarball(ImageStaging& engine, const std::string& tar_path,
                                  const std::string& shown, std::vector<std::string>& loaded);
  RegistryAuth UpstreamAuth(const Image& image, const std::string& domain) const;
  // Tags `staged` as <registry>/<basename>:<id>, pushes, returns the pinned SOURCE.
  Result<CopyResult> Publish(ImageStaging& engine, const std::string& staged,
                             const std::string& basename, int image_id);
  // The private-registry image `source` names, again under `image`'s name and id.
  Result<CopyResult> CopyWithin(const Image& image, const std::string& source);

  Stager stager_;
  RegistryAccess& registries_;
  OneApi& one_;
  SqliteStore& journal_;
  const ImageStoreSettings settings_;
};

}  // namespace onedock

#endif  // ONEDOCK_BRIDGE_IMAGE_STORE_H_
