#include <doctest/doctest.h>

#include "bridge/image_reference.h"
#include "docker/image_staging.h"
#include "docker/registry_client.h"

namespace onedock::docker {

TEST_CASE("registry error bodies keep their codes") {
  auto s = StatusFromRegistry(
      404, R"({"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown","detail":{}}]})");
  CHECK(s.code() == Status::Code::kNotFound);
  CHECK(s.message() == "404 Not Found: MANIFEST_UNKNOWN: manifest unknown");
  CHECK(StatusFromRegistry(
            401, R"({"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]})")
            .code() == Status::Code::kUnauthenticated);
  CHECK(StatusFromRegistry(400, R"({"errors":[{"code":"DIGEST_INVALID","message":"x"}]})").code() ==
        Status::Code::kInvalidArgument);
}

TEST_CASE("manifest size sums config and layers") {
  CHECK(ManifestTotalSize(R"({"schemaVersion":2,"config":{"size":527},
    "layers":[{"size":1000},{"size":24}]})") == 1551);
  CHECK(ManifestTotalSize(R"({"manifests":[{"size":9}]})") == 0);
  CHECK(ManifestTotalSize("nope") == 0);
}

}  // namespace onedock::docker

namespace onedock::docker {
namespace {

TEST_CASE("Bearer challenges are read as Docker Hub sends them, and anything else is not one") {
  auto hub = ParseBearerChallenge(
      R"(Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull")");
  CHECK(hub == std::map<std::string, std::string>{{"realm", "https://auth.docker.io/token"},
                                                  {"service", "registry.docker.io"},
                                                  {"scope", "repository:library/busybox:pull"}});
  auto spaced =
      ParseBearerChallenge(R"(Bearer realm="https://r/t", service=plain, scope="a:b,c:pull")");
  CHECK(spaced.at("service") == "plain");
  CHECK(spaced.at("scope") == "a:b,c:pull");  // commas inside quotes stay
  CHECK(ParseBearerChallenge(R"(Basic realm="Registry Realm")").empty());
  CHECK(ParseBearerChallenge("Bearer service=\"x\"").empty());  // no realm
  CHECK(ParseBearerChallenge("Bearer realm=\"https://unterminated").empty());
  CHECK(ParseBearerChallenge("Bearer").empty());
}

TEST_CASE(
    "references without a registry are fetched from Docker Hub, official images under library/") {
  auto where = [](const std::string& text) {
    auto ref = ParseImageReference(text);
    REQUIRE(ref.ok());
    return RegistryHttp::LocationOf(*ref);
  };
  CHECK(where("busybox:latest") ==
        std::make_pair(std::string("registry-1.docker.io"), std::string("library/busybox")));
  CHECK(where("grafana/grafana:10") ==
        std::make_pair(std::string("registry-1.docker.io"), std::string("grafana/grafana")));
  CHECK(where("127.0.0.1:5001/onedock/httpd:1.0") ==
        std::make_pair(std::string("127.0.0.1:5001"), std::string("onedock/httpd")));
}

TEST_CASE("plain HTTP only for a literal loopback registry or one configured as insecure") {
  RegistryHttpSettings settings;
  settings.private_registry = "127.0.0.1:5000";
  settings.insecure_registries = {"registry.lan:5000"};
  RegistryHttp r(settings);
  auto url = [&r](const std::string& domain) { return r.EndpointOf(domain, {}).base_url; };
  CHECK(url("127.0.0.1:5000") == "http://127.0.0.1:5000");
  CHECK(url("127.3.4.5:5001") == "http://127.3.4.5:5001");
  CHECK(url("[::1]:5000") == "http://[::1]:5000");
  CHECK(url("registry.lan:5000") == "http://registry.lan:5000");
  // Names that only look local, and everything else, are spoken to over HTTPS.
  CHECK(url("localhost:5000") == "https://localhost:5000");
  CHECK(url("127.0.0.1.nip.io:5000") == "https://127.0.0.1.nip.io:5000");
  CHECK(url("localhost.evil.example") == "https://localhost.evil.example");
  CHECK(url("registry.lan:5001") == "https://registry.lan:5001");
  // The private registry is onedockd's own; every other registry is dialled under the policy.
  CHECK(r.EndpointOf("127.0.0.1:5000", {}).destinations == nullptr);
  CHECK(r.EndpointOf("127.0.0.1:5001", {}).destinations != nullptr);
  CHECK(r.EndpointOf("registry-1.docker.io", {}).destinations != nullptr);
}

TEST_CASE(
    "the platform's manifest is picked from a manifest list, and a single manifest has none") {
  const std::string list =
      R"({"manifests":[{"digest":"sha256:a","platform":{"os":"windows","architecture":"amd64"}},)"
      R"({"digest":"sha256:b","platform":{"os":"linux","architecture":"amd64"}},{"digest":7}]})";
  CHECK(PlatformManifestDigest(list, "linux", "amd64") == "sha256:b");
  CHECK(PlatformManifestDigest(list, "linux", "s390x").empty());
  CHECK(PlatformManifestDigest(R"({"config":{"size":1},"layers":[]})", "linux", "amd64").empty());
  CHECK(PlatformManifestDigest("not json", "linux", "amd64").empty());
}

}  // namespace
}  // namespace onedock::docker
