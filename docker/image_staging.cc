#include "docker/image_staging.h"

#include <netdb.h>
#include <sys/socket.h>
#include <sys/utsname.h>

#include <algorithm>
#include <memory>

#include "bridge/url.h"
#include "docker/registry_client.h"

namespace onedock::docker {
namespace {

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

// The numeric addresses `host` resolves to; kUnavailable when it does not resolve.
Result<std::vector<std::string>> Resolve(const std::string& host, int port) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const int rc = getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found);
  if (rc != 0) return Unavailable("cannot resolve " + host + " (" + gai_strerror(rc) + ")");
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> list(found, freeaddrinfo);
  std::vector<std::string> out;
  for (const addrinfo* a = found; a != nullptr; a = a->ai_next) {
    char text[NI_MAXHOST] = {0};
    if (getnameinfo(a->ai_addr, a->ai_addrlen, text, sizeof text, nullptr, 0, NI_NUMERICHOST) == 0)
      out.emplace_back(text);
  }
  return out;
}

// The first address of `host` the policy refuses, as its refusal; OK when all pass.
Status CheckResolved(const DestinationPolicy& policy, const std::string& host, int port) {
  auto addresses = Resolve(host, port);
  if (!addresses.ok()) return addresses.status();
  for (const std::string& a : *addresses) {
    if (Status s = policy.Check(a, port); !s.ok()) return s;
  }
  return Status::Ok();
}

// A URL whose host resolves to an address the policy refuses, refused before any transfer with
// a short message (the transport checks every address it dials anyway).
Status RefusedUpFront(const DestinationPolicy& policy, const std::string& url) {
  auto parsed = ParseUrl(url);
  if (!parsed.ok()) return parsed.status();
  Status s = CheckResolved(policy, parsed->host, parsed->port);
  return s.code() == Status::Code::kPermissionDenied ? s : Status::Ok();
}

Status PrivateRegistryRefused(const std::string& domain) {
  return PermissionDenied("registry " + domain +
                          " is onedock's private registry; copy one of its images with "
                          "oneimage clone");
}

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

Endpoint RegistryHttp::EndpointOf(const std::string& domain, const RegistryAuth& auth) const {
  const auto& insecure = settings_.insecure_registries;
  auto parsed = ParseAuthority(domain, "https", 443);
  const bool plain = (parsed.ok() && IsLoopbackLiteral(parsed->host)) ||
                     std::find(insecure.begin(), insecure.end(), domain) != insecure.end();
  Endpoint e;
  e.base_url = (plain ? "http://" : "https://") + domain;
  e.username = auth.username;
  e.password = auth.password;
  if (domain != settings_.private_registry) e.destinations = &settings_.destinations;
  return e;
}

// No base URL: each request names a whole http(s) URL.
Endpoint RegistryHttp::WebEndpoint() const {
  return Endpoint{.connect_timeout_ms = 10000, .destinations = &settings_.destinations};
}

Status RegistryHttp::CheckRegistry(const ImageReference& reference) {
  const std::string domain = LocationOf(reference).first;
  // The private registry holds every user's images and VM checkpoints, and onedockd reaches it
  // with its own credentials: a PATH naming it, by name or through an alias, would copy another
  // user's image past oned's permissions (oneimage clone goes through them).
  if (domain == settings_.private_registry) return PrivateRegistryRefused(domain);
  const bool insecure =
      std::find(settings_.insecure_registries.begin(), settings_.insecure_registries.end(),
                domain) != settings_.insecure_registries.end();
  auto parsed = ParseAuthority(domain, "https", 443);
  if (!parsed.ok()) return parsed.status().WithContext("registry");
  if (auto own = ParseAuthority(settings_.private_registry, "https", 443);
      own.ok() && own->port == parsed->port) {
    auto theirs = Resolve(parsed->host, parsed->port);
    auto ours = Resolve(own->host, own->port);
    if (theirs.ok() && ours.ok()) {
      for (const std::string& a : *ours) {
        if (std::find(theirs->begin(), theirs->end(), a) != theirs->end())
          return PrivateRegistryRefused(domain);
      }
    }
  }
  // dockerd tries https on 443 and, for an insecure registry, http on 80 when no port is named.
  if (Status s = CheckResolved(settings_.destinations, parsed->host, parsed->port); !s.ok())
    return s;
  if (insecure && !parsed->explicit_port)
    return CheckResolved(settings_.destinations, parsed->host, 80);
  return Status::Ok();
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

Result<std::vector<std::string>> RegistryHttp::Tags(const ImageReference& repository,
                                                    const RegistryAuth& auth) {
  RegistryClient client("registry " + repository.domain, EndpointOf(repository.domain, auth));
  return client.Tags(repository.path);
}

Result<std::string> RegistryHttp::TagDigest(const ImageReference& reference,
                                            const RegistryAuth& auth) {
  RegistryClient client("registry " + reference.domain, EndpointOf(reference.domain, auth));
  return client.TagDigest(reference.path, reference.tag);
}

Result<int64_t> RegistryHttp::Download(const std::string& url, const std::string& path) {
  if (Status s = RefusedUpFront(settings_.destinations, url); !s.ok()) return s;
  const WebLimits& l = settings_.limits;
  CurlTransport web(WebEndpoint());
  auto reply = web.Perform({.target = url,
                            .download_file = path,
                            .timeout_ms = l.download_timeout_ms,
                            .stall_timeout_ms = l.low_speed_ms,
                            .low_speed_bytes_per_s = l.low_speed_bytes_per_s,
                            .max_redirects = l.max_redirects,
                            .max_body_bytes = l.max_download_bytes});
  if (!reply.ok()) return reply.status();
  if (Status s = StatusFromHttpStatus(reply->status); !s.ok()) return s;
  return reply->body_bytes;
}

Result<int64_t> RegistryHttp::RemoteSize(const std::string& url) {
  if (Status s = RefusedUpFront(settings_.destinations, url); !s.ok()) return s;
  const WebLimits& l = settings_.limits;
  CurlTransport web(WebEndpoint());
  auto reply = web.Perform({.method = "HEAD",
                            .target = url,
                            .timeout_ms = l.head_timeout_ms,
                            .max_redirects = l.max_redirects});
  if (!reply.ok()) return reply.status();
  if (Status s = StatusFromHttpStatus(reply->status); !s.ok()) return s;
  return reply->content_length;
}

}  // namespace onedock::docker
