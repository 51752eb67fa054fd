#include "tests/support/registry_admin.h"

#include <nlohmann/json.hpp>
#include <utility>

#include "docker/registry_client.h"

namespace onedock::testing {
namespace {

using nlohmann::json;

// The strings of `key` in a JSON object reply; kInternal when the reply is not an object.
Result<std::vector<std::string>> StringList(const std::string& body, const char* key) {
  json j = json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return Internal("malformed reply");
  std::vector<std::string> out;
  if (j.contains(key) && j[key].is_array()) {  // null once every entry is deleted
    for (const auto& v : j[key]) {
      if (v.is_string()) out.push_back(v.get<std::string>());
    }
  }
  return out;
}

}  // namespace

RegistryAdmin::RegistryAdmin(std::string name, docker::Endpoint endpoint)
    : name_(std::move(name)), transport_(std::move(endpoint)) {}

Result<docker::HttpResponse> RegistryAdmin::Get(const std::string& method, const std::string& path,
                                                const std::string& what) {
  auto r =
      transport_.Perform({.method = method, .target = path, .headers = {docker::kManifestAccept}});
  if (!r.ok()) return r.status().WithContext(Context(what));
  if (r->status < 200 || r->status >= 300) {
    return docker::StatusFromRegistry(r->status, r->body).WithContext(Context(what));
  }
  return r;
}

Status RegistryAdmin::Check() { return Get("GET", "/v2/", "check").status(); }

Result<std::vector<std::string>> RegistryAdmin::ListTags(const std::string& repository) {
  const std::string what = "list tags of " + repository;
  auto r = Get("GET", "/v2/" + docker::RepositoryPath(repository) + "/tags/list", what);
  if (!r.ok()) return r.status();
  auto tags = StringList(r->body, "tags");
  if (!tags.ok()) return tags.status().WithContext(Context(what));
  return tags;
}

Result<std::vector<std::string>> RegistryAdmin::Catalog() {
  auto r = Get("GET", "/v2/_catalog?n=1000", "list repositories");
  if (!r.ok()) return r.status();
  auto repositories = StringList(r->body, "repositories");
  if (!repositories.ok()) return repositories.status().WithContext(Context("list repositories"));
  return repositories;
}

Result<std::string> RegistryAdmin::ManifestDigest(const std::string& repository,
                                                  const std::string& reference) {
  const std::string what = "manifest digest of " + repository + ":" + reference;
  auto r = Get(
      "HEAD",
      "/v2/" + docker::RepositoryPath(repository) + "/manifests/" + docker::UrlEscape(reference),
      what);
  if (!r.ok()) return r.status();
  const std::string digest = r->headers["docker-content-digest"];
  if (digest.empty()) {
    return Internal("manifest reply without Docker-Content-Digest").WithContext(Context(what));
  }
  return digest;
}

}  // namespace onedock::testing
