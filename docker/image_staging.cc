#include "docker/image_staging.h"

#include <sys/utsname.h>

#include "docker/registry_client.h"

namespace onedock::docker {
namespace {

bool Loopback(const std::string& domain) {
  const std::string host =
      domain.substr(0, domain.rfind(':') == std::string::npos ? domain.size() : domain.rfind(':'));
  return host == "localhost" || host.rfind("127.", 0) == 0 || host == "[::1]";
}

// The Go name of this machine's architecture, as image platforms spell it.
std::string HostArchitecture() {
  utsname u{};
  if (uname(&u) != 0) return "amd64";
  const std::string machine = u.machine;
  if (machine == "x86_64") return "amd64";
  if (machine == "aarch64") return "arm64";
  if (machine.rfind("armv7", 0) == 0) return "arm";
  if (machine == "i686" || machine == "i386") return "386";
  return machine;
}

// No base URL: each request names a whole http(s) URL.
Endpoint WebEndpoint() { return Endpoint{.connect_timeout_ms = 10000}; }

}  // namespace

Status StagingEngine::Pull(const std::string& reference, const RegistryAuth& auth) {
  return engine_->PullImage(reference, auth, nullptr);
}
Result<std::vector<std::string>> StagingEngine::Load(const std::string& tar_path) {
  return engine_->LoadImage(tar_path);
}
Result<ImageInfo> StagingEngine::Inspect(const std::string& reference) {
  return engine_->InspectImage(reference);
}
Status StagingEngine::Tag(const std::string& source, const std::string& repository,
                          const std::string& tag) {
  return engine_->TagImage(source, repository, tag);
}
Result<std::string> StagingEngine::Push(const std::string& reference, const RegistryAuth& auth) {
  return engine_->PushImage(reference, auth);
}
Status StagingEngine::Remove(const std::string& reference) {
  return engine_->RemoveImage(reference, false);
}

Endpoint RegistryHttp::EndpointOf(const std::string& domain, const RegistryAuth& auth) {
  Endpoint e;
  e.base_url = (Loopback(domain) ? "http://" : "https://") + domain;
  e.username = auth.username;
  e.password = auth.password;
  return e;
}

std::pair<std::string, std::string> RegistryHttp::LocationOf(const ImageReference& reference) {
  if (!reference.domain.empty()) return {reference.domain, reference.path};
  return {"registry-1.docker.io", reference.path.find('/') == std::string::npos
                                      ? "library/" + reference.path
                                      : reference.path};
}

Result<RegistryManifest> RegistryHttp::Manifest(const ImageReference& reference,
                                                const RegistryAuth& auth) {
  const auto [domain, path] = LocationOf(reference);
  RegistryClient client("registry " + domain, EndpointOf(domain, auth));
  auto m = client.GetManifest(path, reference.TagOrDigest());
  if (!m.ok()) return m.status();
  int64_t size = m->total_size;
  if (size == 0) {
    // A multi-platform list: the size is that of the image the staging engine pulls.
    const std::string digest = PlatformManifestDigest(m->body, "linux", HostArchitecture());
    if (!digest.empty()) {
      auto platform = client.GetManifest(path, digest);
      if (!platform.ok()) return platform.status();
      size = platform->total_size;
    }
  }
  return RegistryManifest{m->digest, size};
}

Status RegistryHttp::DeleteManifest(const ImageReference& reference, const RegistryAuth& auth) {
  RegistryClient client("registry " + reference.domain, EndpointOf(reference.domain, auth));
  return client.DeleteManifest(reference.path, reference.digest);
}

Result<int64_t> RegistryHttp::Download(const std::string& url, const std::string& path) {
  CurlTransport web(WebEndpoint());
  auto reply = web.Perform({.target = url,
                            .download_file = path,
                            .timeout_ms = 0,  // a large image takes as long as it takes...
                            .stall_timeout_ms = kStallTimeoutMs,  // ...while bytes keep coming
                            .max_redirects = kMaxRedirects,
                            .max_body_bytes = max_download_bytes_});
  if (!reply.ok()) return reply.status();
  if (Status s = StatusFromHttpStatus(reply->status); !s.ok()) return s;
  return reply->body_bytes;
}

Result<int64_t> RegistryHttp::RemoteSize(const std::string& url) {
  CurlTransport web(WebEndpoint());
  auto reply = web.Perform({.method = "HEAD", .target = url, .max_redirects = kMaxRedirects});
  if (!reply.ok()) return reply.status();
  if (Status s = StatusFromHttpStatus(reply->status); !s.ok()) return s;
  return reply->content_length;
}

}  // namespace onedock::docker
