// RegistryClient: the Docker Registry HTTP API v2 of one registry (the front-end's private
// registry or an upstream one), over one reused CurlTransport with optional basic credentials.
// Manifests are always requested with the v2 and OCI Accept headers, so the digest returned is the
// one a DELETE accepts. It carries the calls onedockd makes (manifests, their deletion, a
// repository's tags and their digests); the catalog, which only tests use, is
// tests/support/registry_admin.h's. Every reply is read into memory within a bound (below); one
// past it is a kInvalidArgument naming the bound. Not thread-safe: one client per thread.
#ifndef ONEDOCK_DOCKER_REGISTRY_CLIENT_H_
#define ONEDOCK_DOCKER_REGISTRY_CLIENT_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "bridge/status.h"
#include "docker/curl_transport.h"

namespace onedock::docker {

struct Manifest {
  std::string digest;      // Docker-Content-Digest: "sha256:…"
  std::string media_type;  // Content-Type of the reply
  std::string body;
  int64_t total_size = 0;  // config + layer sizes from the manifest (0 for manifest lists)
};

// The Accept header of every manifest request: Docker v2 and OCI manifests and lists.
inline constexpr const char* kManifestAccept =
    "Accept: application/vnd.docker.distribution.manifest.v2+json, "
    "application/vnd.docker.distribution.manifest.list.v2+json, "
    "application/vnd.oci.image.manifest.v1+json, "
    "application/vnd.oci.image.index.v1+json";

// Bounds of what a registry reply may hold in memory: manifests (distribution refuses to store
// one past 4 MiB), token replies, tag lists and the error bodies of any of them.
inline constexpr int64_t kMaxManifestBytes = int64_t{4} << 20;
inline constexpr int64_t kMaxTokenReplyBytes = int64_t{1} << 20;
inline constexpr int64_t kMaxTagListBytes = int64_t{8} << 20;

// A repository name as a registry path: each '/'-separated component escaped on its own.
std::string RepositoryPath(const std::string& repository);

class RegistryClient {
 public:
  // `name` prefixes error messages ("registry 127.0.0.1:5000").
  RegistryClient(std::string name, Endpoint endpoint);

  // `reference` is a tag or a digest. kNotFound when the registry has no such manifest.
  Result<Manifest> GetManifest(const std::string& repository, const std::string& reference);
  // Deletes a manifest by digest (every tag pointing to it goes with it). kNotFound when absent.
  Status DeleteManifest(const std::string& repository, const std::string& digest);
  // The repository's tags (empty when it has none). kNotFound when the repository is unknown.
  Result<std::vector<std::string>> Tags(const std::string& repository);
  // The digest a tag points to (HEAD). kNotFound when absent.
  Result<std::string> TagDigest(const std::string& repository, const std::string& tag);
  // Whether a push into `repository` would be accepted: starts a blob upload and cancels it
  // (POST …/blobs/uploads/, DELETE of the upload's Location), so nothing is left behind.
  // kUnauthenticated or kPermissionDenied when the credentials are refused.
  Status ProbePush(const std::string& repository);

 private:
  // Sends the request; a 401 carrying a Bearer challenge (Docker Hub and other token-auth
  // registries) gets a token from the challenge's realm, with the endpoint's credentials when it
  // has some, and the request is sent once more with it. The realm must be https, or plain http
  // on the host of a registry that is itself spoken to over plain http; anything else (another
  // host over http, userinfo, another scheme) is refused before a byte is sent there.
  Result<HttpResponse> Request(const std::string& method, const std::string& path,
                               const std::string& what, bool manifest_accept, int64_t max_bytes);
  Status FetchToken(const std::string& challenge);
  std::string name_;
  CurlTransport transport_;
  std::string bearer_;  // the token of the last challenge, reused until refused
};

// The parameters of a `Bearer realm="…",service="…",scope="…"` challenge; empty when the header
// is not a Bearer challenge.
std::map<std::string, std::string> ParseBearerChallenge(std::string_view header);

// The digest of the `os`/`architecture` manifest in a manifest list or OCI index; "" when the
// body is not one or has no such entry.
std::string PlatformManifestDigest(std::string_view index_body, const std::string& os,
                                   const std::string& architecture);

// Registry error replies carry {"errors":[{"code":"MANIFEST_UNKNOWN","message":…}]}; maps the HTTP
// status like StatusFromHttp and keeps the registry's codes and messages.
Status StatusFromRegistry(long http_status, std::string_view body);

// Sums config and layer sizes of a schema 2 / OCI image manifest; 0 for anything else.
int64_t ManifestTotalSize(std::string_view body);

}  // namespace onedock::docker

#endif  // ONEDOCK_DOCKER_REGISTRY_CLIENT_H_
