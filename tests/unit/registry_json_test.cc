#include <doctest/doctest.h>

#include "docker/registry_client.h"

namespace onedock::docker {

TEST_CASE("registry error bodies keep their codes") {
  auto s = StatusFromRegistry(404, R"({"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown","detail":{}}]})");
  CHECK(s.code() == Status::Code::kNotFound);
  CHECK(s.message() == "404 Not Found: MANIFEST_UNKNOWN: manifest unknown");
  CHECK(StatusFromRegistry(401, R"({"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]})")
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
