#include "docker/registry_client.h"

#include <nlohmann/json.hpp>

#include "bridge/url.h"
#include "docker/engine_json.h"
#include "docker/json_fields.h"

namespace onedock::docker {
using nlohmann::json;

std::string RepositoryPath(const std::string& repository) {
  std::string out;
  size_t start = 0;
  while (true) {
    size_t slash = repository.find('/', start);
    out += UrlEscape(repository.substr(start, slash == std::string::npos ? slash : slash - start));
    if (slash == std::string::npos) break;
    out += '/';
    start = slash + 1;
  }
  return out;
}

Status StatusFromRegistry(long http_status, std::string_view body) {
  json j = json::parse(body, nullptr, false);
  if (!j.is_discarded() && j.is_object() && j.contains("errors") && j["errors"].is_array()) {
    std::string text;
    for (const auto& e : j["errors"]) {
      if (!e.is_object()) continue;
      if (!text.empty()) text += "; ";
      text += e.value("code", std::string()) + ": " + e.value("message", std::string());
    }
    return StatusFromHttp(http_status, json_fields::Wire(json{{"message", text}}));
  }
  return StatusFromHttp(http_status, body);
}

int64_t ManifestTotalSize(std::string_view body) {
  json j = json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return 0;
  int64_t total = 0;
  auto size_of = [](const json& d) {
    return d.is_object() && d.contains("size") && d["size"].is_number_integer()
               ? d["size"].get<int64_t>()
               : 0;
  };
  if (j.contains("config")) total += size_of(j["config"]);
  if (j.contains("layers") && j["layers"].is_array()) {
    for (const auto& l : j["layers"]) total += size_of(l);
  }
  return total;
}

RegistryClient::RegistryClient(std::string name, Endpoint endpoint)
    : name_(std::move(name)), transport_(std::move(endpoint)) {}

Result<HttpResponse> RegistryClient::Request(const std::string& method, const std::string& path,
                                             const std::string& what, bool manifest_accept,
                                             int64_t max_bytes) {
  const std::string context = name_ + ": " + what;
  for (int attempt = 0;; ++attempt) {
    HttpRequest request{.method = method, .target = path, .max_body_bytes = max_bytes};
    if (manifest_accept) request.headers.push_back(kManifestAccept);
    // A header of our own replaces the Basic one libcurl would send for the endpoint's credentials.
    if (!bearer_.empty()) request.headers.push_back("Authorization: Bearer " + bearer_);
    auto r = transport_.Perform(request);
    if (!r.ok()) return r.status().WithContext(context);
    if (r->status == 401 && attempt == 0) {
      auto challenge = r->headers.find("www-authenticate");
      if (challenge != r->headers.end() && !ParseBearerChallenge(challenge->second).empty()) {
        if (Status s = FetchToken(challenge->second); !s.ok()) return s.WithContext(context);
        continue;
      }
    }
    if (r->status < 200 || r->status >= 300) {
      return StatusFromRegistry(r->status, r->body).WithContext(context);
    }
    return r;
  }
}

Status RegistryClient::FetchToken(const std::string& challenge) {
  auto params = ParseBearerChallenge(challenge);
  const std::string& text = params["realm"];
  auto realm = ParseUrl(text);
  if (!realm.ok()) {
    return Unauthenticated("token realm \"" + text + "\" refused: " + realm.status().message());
  }
  auto registry = ParseUrl(transport_.endpoint().base_url);
  const bool plain_registry_host =
      registry.ok() && registry->scheme == "http" && registry->host == realm->host;
  if (realm->scheme != "https" && !plain_registry_host) {
    return Unauthenticated("token realm \"" + text +
                           "\" is plain http on another host than the registry; credentials are "
                           "not sent there");
  }
  std::string query;
  for (const char* key : {"service", "scope"}) {
    auto it = params.find(key);
    if (it != params.end()) {
      const char* sep = query.empty() && realm->path.find('?') == std::string::npos ? "?" : "&";
      query += std::string(sep) + key + "=" + UrlEscape(it->second);
    }
  }
  Endpoint auth_endpoint = transport_.endpoint();  // the same credentials and destination policy
  auth_endpoint.base_url = realm->scheme + "://" + realm->Authority();
  CurlTransport auth(auth_endpoint);
  const std::string what = "token from " + text;
  auto r = auth.Perform(
      {.method = "GET", .target = realm->path + query, .max_body_bytes = kMaxTokenReplyBytes});
  if (!r.ok()) return r.status().WithContext(what);
  if (r->status != 200) return StatusFromRegistry(r->status, r->body).WithContext(what);
  json j = json::parse(r->body, nullptr, false);
  std::string token;
  for (const char* key : {"token", "access_token"}) {
    if (token.empty() && j.is_object() && j.contains(key) && j[key].is_string())
      token = j[key].get<std::string>();
  }
  if (token.empty()) return Internal("reply without a token").WithContext(what);
  bearer_ = token;
  return Status::Ok();
}

std::map<std::string, std::string> ParseBearerChallenge(std::string_view header) {
  std::map<std::string, std::string> params;
  constexpr std::string_view kScheme = "Bearer ";
  if (header.size() <= kScheme.size() || header.substr(0, kScheme.size()) != kScheme) return params;
  std::string_view rest = header.substr(kScheme.size());
  while (!rest.empty()) {
    while (!rest.empty() && (rest.front() == ' ' || rest.front() == ',')) rest.remove_prefix(1);
    const auto eq = rest.find('=');
    if (eq == std::string_view::npos) break;
    const std::string key(rest.substr(0, eq));
    rest.remove_prefix(eq + 1);
    std::string value;
    if (!rest.empty() && rest.front() == '"') {
      const auto close = rest.find('"', 1);
      if (close == std::string_view::npos) return {};
      value = rest.substr(1, close - 1);
      rest.remove_prefix(close + 1);
    } else {
      const auto comma = rest.find(',');
      value = rest.substr(0, comma);
      rest.remove_prefix(comma == std::string_view::npos ? rest.size() : comma);
    }
    params[key] = value;
  }
  if (params.count("realm") == 0) params.clear();
  return params;
}

std::string PlatformManifestDigest(std::string_view index_body, const std::string& os,
                                   const std::string& architecture) {
  json j = json::parse(index_body, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("manifests") || !j["manifests"].is_array())
    return "";
  for (const auto& m : j["manifests"]) {
    if (!m.is_object() || !m.contains("platform") || !m["platform"].is_object() ||
        !m.contains("digest") || !m["digest"].is_string()) {
      continue;
    }
    const json& p = m["platform"];
    if (p.value("os", std::string()) == os &&
        p.value("architecture", std::string()) == architecture) {
      return m["digest"].get<std::string>();
    }
  }
  return "";
}

Result<Manifest> RegistryClient::GetManifest(const std::string& repository,
                                             const std::string& reference) {
  const std::string what = "get manifest " + repository + ":" + reference;
  auto r =
      Request("GET", "/v2/" + RepositoryPath(repository) + "/manifests/" + UrlEscape(reference),
              what, true, kMaxManifestBytes);
  if (!r.ok()) return r.status();
  Manifest m;
  m.digest = r->headers["docker-content-digest"];
  m.media_type = r->headers["content-type"];
  m.body = std::move(r->body);
  m.total_size = ManifestTotalSize(m.body);
  if (m.digest.empty()) {
    return Internal("manifest reply without Docker-Content-Digest")
        .WithContext(name_ + ": " + what);
  }
  return m;
}

Status RegistryClient::DeleteManifest(const std::string& repository, const std::string& digest) {
  return Request("DELETE", "/v2/" + RepositoryPath(repository) + "/manifests/" + UrlEscape(digest),
                 "delete manifest " + repository + "@" + digest, false, kMaxManifestBytes)
      .status();
}

Status RegistryClient::ProbePush(const std::string& repository) {
  auto started = Request("POST", "/v2/" + RepositoryPath(repository) + "/blobs/uploads/",
                         "start an upload to " + repository, false, kMaxManifestBytes);
  if (!started.ok()) return started.status();
  std::string location = started->headers["location"];
  // Distribution answers an absolute URL; the upload is cancelled on this registry's endpoint.
  if (auto url = ParseUrl(location); url.ok()) {
    const auto path = location.find('/', location.find("://") + 3);
    location = path == std::string::npos ? "/" : location.substr(path);
  }
  if (location.empty() || location[0] != '/') {
    return Internal("upload reply without a usable Location").WithContext(name_);
  }
  return Request("DELETE", location, "cancel the upload to " + repository, false, kMaxManifestBytes)
      .status();
}

Result<std::vector<std::string>> RegistryClient::Tags(const std::string& repository) {
  const std::string what = "list tags of " + repository;
  auto r = Request("GET", "/v2/" + RepositoryPath(repository) + "/tags/list", what, false,
                   kMaxTagListBytes);
  if (!r.ok()) return r.status();
  json j = json::parse(r->body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return Internal("tag list is not a JSON object").WithContext(name_ + ": " + what);
  }
  std::vector<std::string> tags;
  if (j.contains("tags") && j["tags"].is_array()) {
    for (const auto& t : j["tags"]) {
      if (t.is_string()) tags.push_back(t.get<std::string>());
    }
  }
  return tags;
}

Result<std::string> RegistryClient::TagDigest(const std::string& repository,
                                              const std::string& tag) {
  const std::string what = "head manifest " + repository + ":" + tag;
  auto r = Request("HEAD", "/v2/" + RepositoryPath(repository) + "/manifests/" + UrlEscape(tag),
                   what, true, kMaxManifestBytes);
  if (!r.ok()) return r.status();
  const std::string digest = r->headers["docker-content-digest"];
  if (digest.empty()) {
    return Internal("manifest reply without Docker-Content-Digest")
        .WithContext(name_ + ": " + what);
  }
  return digest;
}

}  // namespace onedock::docker
