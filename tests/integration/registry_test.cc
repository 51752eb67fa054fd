// Registry v2 client against the bed's loopback registries.
#include <doctest/doctest.h>

#include <algorithm>

#include "docker/engine_client.h"
#include "docker/registry_client.h"
#include "tests/integration/bed.h"

namespace onedock::docker {

TEST_CASE("registry check tags and manifest with the v2 digest") {
  RegistryClient upstream("upstream", testbed::Registry("upstream"));
  REQUIRE(upstream.Check().ok());
  auto tags = upstream.ListTags("onedock/httpd");
  REQUIRE(tags.ok());
  CHECK(std::find(tags->begin(), tags->end(), "1.0") != tags->end());
  auto manifest = upstream.GetManifest("onedock/httpd", "1.0");
  REQUIRE_MESSAGE(manifest.ok(), manifest.status().ToString());
  CHECK(manifest->digest.rfind("sha256:", 0) == 0);
  CHECK(manifest->media_type == "application/vnd.docker.distribution.manifest.v2+json");
  CHECK(manifest->total_size > 500000);  // busybox-static is about 1 MB compressed
  auto head = upstream.ManifestDigest("onedock/httpd", "1.0");
  REQUIRE(head.ok());
  CHECK(*head == manifest->digest);
  auto by_digest = upstream.GetManifest("onedock/httpd", manifest->digest);
  REQUIRE(by_digest.ok());
  CHECK(by_digest->body == manifest->body);
}

TEST_CASE("unknown repositories and tags are not found") {
  RegistryClient upstream("upstream", testbed::Registry("upstream"));
  CHECK(upstream.ListTags("no/such-repo").status().code() == Status::Code::kNotFound);
  auto missing = upstream.GetManifest("onedock/httpd", "99");
  CHECK(missing.status().code() == Status::Code::kNotFound);
  CHECK(missing.status().message().find("MANIFEST_UNKNOWN") != std::string::npos);
  CHECK(upstream.ManifestDigest("onedock/httpd", "99").status().code() == Status::Code::kNotFound);
}

TEST_CASE("delete by digest removes the tag and a second delete is not found") {
  EngineClient h1("h1", testbed::Engine("h1"));
  const std::string upstream_ref = testbed::TestImage();
  REQUIRE(h1.PullImage(upstream_ref).ok());
  const std::string repo = testbed::RegistryHost("private") + "/deltest";
  const std::string tag = testbed::UniqueName("t");
  REQUIRE(h1.TagImage(upstream_ref, repo, tag).ok());
  auto pushed = h1.PushImage(repo + ":" + tag);
  REQUIRE_MESSAGE(pushed.ok(), pushed.status().ToString());
  REQUIRE(h1.RemoveImage(repo + ":" + tag, false).ok());

  RegistryClient priv("private", testbed::Registry("private"));
  auto digest = priv.ManifestDigest("deltest", tag);
  REQUIRE(digest.ok());
  CHECK(*digest == *pushed);
  REQUIRE(priv.DeleteManifest("deltest", *digest).ok());
  auto tags = priv.ListTags("deltest");
  REQUIRE(tags.ok());
  CHECK(std::find(tags->begin(), tags->end(), tag) == tags->end());
  CHECK(priv.DeleteManifest("deltest", *digest).code() == Status::Code::kNotFound);
}

TEST_CASE("a registry that is down is unavailable") {
  RegistryClient gone("gone", {.base_url = "http://127.0.0.9:5000"});
  CHECK(gone.Check().code() == Status::Code::kUnavailable);
}

}  // namespace onedock::docker

namespace onedock::docker {

TEST_CASE("registry client sends basic credentials and a refusal is unauthenticated") {
  const std::string base = "http://" + testbed::Get("ONEDOCK_AUTH_REGISTRY");
  RegistryClient anonymous("auth", {.base_url = base});
  Status refused = anonymous.Check();
  CHECK(refused.code() == Status::Code::kUnauthenticated);
  CHECK(refused.message().find("UNAUTHORIZED") != std::string::npos);

  RegistryClient wrong("auth", {.base_url = base, .username = testbed::Get("ONEDOCK_AUTH_USER"),
                                .password = "not-the-password"});
  CHECK(wrong.ListTags("onedock/httpd").status().code() == Status::Code::kUnauthenticated);

  RegistryClient right("auth", {.base_url = base, .username = testbed::Get("ONEDOCK_AUTH_USER"),
                                .password = testbed::Get("ONEDOCK_AUTH_PASSWORD")});
  REQUIRE(right.Check().ok());
  auto tags = right.ListTags("onedock/httpd");
  REQUIRE(tags.ok());
  CHECK(*tags == std::vector<std::string>{"1.0"});
  auto manifest = right.GetManifest("onedock/httpd", "1.0");
  REQUIRE(manifest.ok());
  CHECK(manifest->digest.rfind("sha256:", 0) == 0);
}

}  // namespace onedock::docker
