#include "docker/image_staging.h"

#include <curl/curl.h>
#include <sys/utsname.h>

#include <cstdio>

#include "docker/registry_client.h"

namespace onedock::docker {
namespace {

bool Loopback(const std::string& domain) {
  const std::string host = domain.substr(0, domain.rfind(':') == std::string::npos ? domain.size() : domain.rfind(':'));
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

}  // namespace

Status EngineStaging::Pull(const std::string& reference, const RegistryAuth& auth) {
  return engine_->PullImage(reference, auth, nullptr);
}
Result<std::vector<std::string>> EngineStaging::Load(const std::string& tar_path) { return engine_->LoadImage(tar_path); }
Result<ImageInfo> EngineStaging::Inspect(const std::string& reference) { return engine_->InspectImage(reference); }
Status EngineStaging::Tag(const std::string& source, const std::string& repository, const std::string& tag) {
  return engine_->TagImage(source, repository, tag);
}
Result<std::string> EngineStaging::Push(const std::string& reference, const RegistryAuth& auth) {
  return engine_->PushImage(reference, auth);
}
Status EngineStaging::Remove(const std::string& reference) { return engine_->RemoveImage(reference, false); }

Endpoint RegistryHttp::EndpointOf(const std::string& domain, const RegistryAuth& auth) {
  Endpoint e;
  e.base_url = (Loopback(domain) ? "http://" : "https://") + domain;
  e.username = auth.username;
  e.password = auth.password;
  return e;
}

std::pair<std::string, std::string> RegistryHttp::LocationOf(const bridge::ImageReference& reference) {
  if (!reference.domain.empty()) return {reference.domain, reference.path};
  return {"registry-1.docker.io",
          reference.path.find('/') == std::string::npos ? "library/" + reference.path : reference.path};
}

Result<bridge::RegistryManifest> RegistryHttp::Manifest(const bridge::ImageReference& reference,
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
  return bridge::RegistryManifest{m->digest, size};
}

Status RegistryHttp::DeleteManifest(const bridge::ImageReference& reference, const RegistryAuth& auth) {
  RegistryClient client("registry " + reference.domain, EndpointOf(reference.domain, auth));
  return client.DeleteManifest(reference.path, reference.digest);
}

Result<int64_t> RegistryHttp::Download(const std::string& url, const std::string& path) {
  FILE* out = std::fopen(path.c_str(), "wb");
  if (out == nullptr) return Internal("cannot write " + path);
  CURL* h = curl_easy_init();
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_MAXREDIRS, 5L);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
  curl_easy_setopt(h, CURLOPT_FAILONERROR, 1L);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, out);
  const CURLcode rc = curl_easy_perform(h);
  long code = 0;
  curl_off_t size = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
  curl_easy_getinfo(h, CURLINFO_SIZE_DOWNLOAD_T, &size);
  curl_easy_cleanup(h);
  const bool closed = std::fclose(out) == 0;
  if (rc != CURLE_OK) {
    return code >= 400 ? NotFound(url + ": HTTP " + std::to_string(code)) : Unavailable(url + ": " + curl_easy_strerror(rc));
  }
  if (!closed) return Internal("cannot write " + path);
  return static_cast<int64_t>(size);
}

Result<int64_t> RegistryHttp::RemoteSize(const std::string& url) {
  CURL* h = curl_easy_init();
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(h, CURLOPT_MAXREDIRS, 5L);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
  curl_easy_setopt(h, CURLOPT_FAILONERROR, 1L);
  const CURLcode rc = curl_easy_perform(h);
  long code = 0;
  curl_off_t length = -1;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
  curl_easy_getinfo(h, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &length);
  curl_easy_cleanup(h);
  if (rc != CURLE_OK) {
    return code >= 400 ? NotFound(url + ": HTTP " + std::to_string(code)) : Unavailable(url + ": " + curl_easy_strerror(rc));
  }
  return static_cast<int64_t>(length);
}

}  // namespace onedock::docker
