// Registry v2 client against the bed's loopback registries.
#include <doctest/doctest.h>
#include <sys/utsname.h>

#include <algorithm>
#include <filesystem>

#include "docker/engine_client.h"
#include "docker/image_staging.h"
#include "docker/registry_client.h"
#include "tests/http_stub.h"
#include "tests/integration/bed.h"
#include "tests/support/registry_admin.h"

namespace onedock::docker {

TEST_CASE("registry check tags and manifest with the v2 digest") {
  RegistryClient upstream("upstream", testbed::Registry("upstream"));
  testing::RegistryAdmin admin("upstream", testbed::Registry("upstream"));
  REQUIRE(admin.Check().ok());
  auto tags = admin.ListTags("onedock/httpd");
  REQUIRE(tags.ok());
  CHECK(std::find(tags->begin(), tags->end(), "1.0") != tags->end());
  auto manifest = upstream.GetManifest("onedock/httpd", "1.0");
  REQUIRE_MESSAGE(manifest.ok(), manifest.status().ToString());
  CHECK(manifest->digest.rfind("sha256:", 0) == 0);
  CHECK(manifest->media_type == "application/vnd.docker.distribution.manifest.v2+json");
  CHECK(manifest->total_size > 500000);  // busybox-static is about 1 MB compressed
  auto head = admin.ManifestDigest("onedock/httpd", "1.0");
  REQUIRE(head.ok());
  CHECK(*head == manifest->digest);
  auto by_digest = upstream.GetManifest("onedock/httpd", manifest->digest);
  REQUIRE(by_digest.ok());
  CHECK(by_digest->body == manifest->body);
}

TEST_CASE("unknown repositories and tags are not found") {
  RegistryClient upstream("upstream", testbed::Registry("upstream"));
  testing::RegistryAdmin admin("upstream", testbed::Registry("upstream"));
  CHECK(admin.ListTags("no/such-repo").status().code() == Status::Code::kNotFound);
  auto missing = upstream.GetManifest("onedock/httpd", "99");
  CHECK(missing.status().code() == Status::Code::kNotFound);
  CHECK(missing.status().message().find("MANIFEST_UNKNOWN") != std::string::npos);
  CHECK(admin.ManifestDigest("onedock/httpd", "99").status().code() == Status::Code::kNotFound);
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
  testing::RegistryAdmin admin("private", testbed::Registry("private"));
  auto digest = admin.ManifestDigest("deltest", tag);
  REQUIRE(digest.ok());
  CHECK(*digest == *pushed);
  REQUIRE(priv.DeleteManifest("deltest", *digest).ok());
  auto tags = admin.ListTags("deltest");
  REQUIRE(tags.ok());
  CHECK(std::find(tags->begin(), tags->end(), tag) == tags->end());
  CHECK(priv.DeleteManifest("deltest", *digest).code() == Status::Code::kNotFound);
}

TEST_CASE("a registry that is down is unavailable") {
  RegistryClient gone("gone", {.base_url = "http://127.0.0.9:5000"});
  CHECK(gone.GetManifest("onedock/httpd", "1.0").status().code() == Status::Code::kUnavailable);
}

}  // namespace onedock::docker

namespace onedock::docker {

// The test stubs listen on 127.0.0.1, which the destination policy refuses unless allowed.
RegistryHttpSettings LoopbackAllowed() {
  RegistryHttpSettings s;
  auto policy = DestinationPolicy::Make({"127.0.0.1/32"}, {});
  REQUIRE(policy.ok());
  s.destinations = *policy;
  return s;
}

TEST_CASE("a push probe is accepted with the credentials, refused without, and leaves nothing") {
  const std::string base = "http://" + testbed::Get("ONEDOCK_AUTH_REGISTRY");
  const docker::Endpoint with{.base_url = base,
                              .username = testbed::Get("ONEDOCK_AUTH_USER"),
                              .password = testbed::Get("ONEDOCK_AUTH_PASSWORD")};
  const std::string repository = "onedock/" + testbed::UniqueName("probe");
  RegistryClient anonymous("auth", {.base_url = base});
  CHECK(anonymous.ProbePush(repository).code() == Status::Code::kUnauthenticated);
  RegistryClient right("auth", with);
  const Status probed = right.ProbePush(repository);
  CHECK_MESSAGE(probed.ok(), probed.ToString());
  testing::RegistryAdmin admin("auth", with);
  auto catalog = admin.Catalog();
  REQUIRE(catalog.ok());
  CHECK(std::find(catalog->begin(), catalog->end(), repository) == catalog->end());
}

TEST_CASE("registry client sends basic credentials and a refusal is unauthenticated") {
  const std::string base = "http://" + testbed::Get("ONEDOCK_AUTH_REGISTRY");
  RegistryClient anonymous("auth", {.base_url = base});
  Status refused = anonymous.GetManifest("onedock/httpd", "1.0").status();
  CHECK(refused.code() == Status::Code::kUnauthenticated);
  CHECK(refused.message().find("UNAUTHORIZED") != std::string::npos);

  RegistryClient wrong("auth", {.base_url = base,
                                .username = testbed::Get("ONEDOCK_AUTH_USER"),
                                .password = "not-the-password"});
  CHECK(wrong.GetManifest("onedock/httpd", "1.0").status().code() ==
        Status::Code::kUnauthenticated);

  RegistryClient right("auth", {.base_url = base,
                                .username = testbed::Get("ONEDOCK_AUTH_USER"),
                                .password = testbed::Get("ONEDOCK_AUTH_PASSWORD")});
  testing::RegistryAdmin right_admin("auth", {.base_url = base,
                                              .username = testbed::Get("ONEDOCK_AUTH_USER"),
                                              .password = testbed::Get("ONEDOCK_AUTH_PASSWORD")});
  REQUIRE(right_admin.Check().ok());
  auto tags = right_admin.ListTags("onedock/httpd");
  REQUIRE(tags.ok());
  CHECK(*tags == std::vector<std::string>{"1.0"});
  auto manifest = right.GetManifest("onedock/httpd", "1.0");
  REQUIRE(manifest.ok());
  CHECK(manifest->digest.rfind("sha256:", 0) == 0);
}

// A registry that wants Bearer tokens, as Docker Hub does: 401 with a challenge naming its token
// endpoint (which wants basic credentials), the manifest with the token; "multi" is a manifest
// list whose linux entries point at per-platform manifests.
struct TokenRegistry {
  TokenRegistry()
      : stub([this](const testing::StubRequest& r) {
          ++requests;
          if (r.target.rfind("/token?", 0) == 0) {
            token_queries.push_back(r.target);
            auto auth = r.headers.find("authorization");
            if (auth == r.headers.end() ||
                auth->second != "Basic b25lZG9jazpzM2NyM3Q=") {  // onedock:s3cr3t
              return testing::StubReply{
                  401, {}, R"({"errors":[{"code":"UNAUTHORIZED","message":"bad credentials"}]})"};
            }
            return testing::StubReply{
                200, {{"Content-Type", "application/json"}}, R"({"token":"t0k3n"})"};
          }
          auto auth = r.headers.find("authorization");
          if (auth == r.headers.end() || auth->second != "Bearer t0k3n") {
            const std::string repo = r.target.substr(4, r.target.find("/manifests/") - 4);
            return testing::StubReply{
                401,
                {{"WWW-Authenticate",
                  "Bearer realm=\"" + stub.base_url() +
                      "/token\",service=\"stub.registry\",scope=\"repository:" + repo + ":pull\""}},
                R"({"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]})"};
          }
          const std::map<std::string, std::string> bodies = {
              {"/v2/library/busybox/manifests/latest",
               R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[)"
               R"({"digest":"sha256:arm","platform":{"os":"linux","architecture":"arm64"}},)"
               R"({"digest":"sha256:amd","platform":{"os":"linux","architecture":"amd64"}}]})"},
              {"/v2/library/busybox/manifests/sha256:amd",
               R"({"schemaVersion":2,"config":{"size":1000},"layers":[{"size":3000000},{"size":500000}]})"},
              {"/v2/library/busybox/manifests/sha256:arm",
               R"({"schemaVersion":2,"config":{"size":1000},"layers":[{"size":9000000}]})"},
          };
          std::string target = r.target;  // the client escapes the ':' of a digest
          for (size_t at; (at = target.find("%3A")) != std::string::npos;)
            target.replace(at, 3, 1, ':');
          auto body = bodies.find(target);
          if (body == bodies.end())
            return testing::StubReply{
                404,
                {},
                R"({"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]})"};
          return testing::StubReply{
              200,
              {{"Docker-Content-Digest", "sha256:" + std::to_string(body->second.size())}},
              body->second};
        }) {}
  int requests = 0;
  std::vector<std::string> token_queries;
  testing::HttpStub stub;
};

TEST_CASE(
    "a Bearer challenge is answered with a token from its realm, with the endpoint's credentials") {
  TokenRegistry hub;
  RegistryClient client(
      "hub", {.base_url = hub.stub.base_url(), .username = "onedock", .password = "s3cr3t"});
  auto list = client.GetManifest("library/busybox", "latest");
  REQUIRE_MESSAGE(list.ok(), list.status().ToString());
  REQUIRE(hub.token_queries.size() == 1);
  CHECK(hub.token_queries[0] ==
        "/token?service=stub.registry&scope=repository%3Alibrary%2Fbusybox%3Apull");
  // The token is kept: the next manifest needs no new challenge.
  auto platform = client.GetManifest("library/busybox", "sha256:amd");
  REQUIRE(platform.ok());
  CHECK(platform->total_size == 3501000);
  CHECK(hub.token_queries.size() == 1);
  CHECK(PlatformManifestDigest(list->body, "linux", "amd64") == "sha256:amd");

  RegistryClient wrong(
      "hub", {.base_url = hub.stub.base_url(), .username = "onedock", .password = "nope"});
  auto refused = wrong.GetManifest("library/busybox", "latest");
  CHECK(refused.status().code() == Status::Code::kUnauthenticated);
  CHECK(refused.status().message().find("token from " + hub.stub.base_url() + "/token") !=
        std::string::npos);
}

TEST_CASE("the size of a multi-platform image is that of the platform the staging engine pulls") {
  TokenRegistry hub;
  RegistryHttp registries(LoopbackAllowed());
  // The stub stands at a loopback address, so it is spoken to over plain HTTP.
  auto ref = ParseImageReference("127.0.0.1:" + std::to_string(hub.stub.port()) +
                                 "/library/busybox:latest");
  REQUIRE(ref.ok());
  auto m = registries.Manifest(*ref, {"onedock", "s3cr3t", ""});
  REQUIRE_MESSAGE(m.ok(), m.status().ToString());
  struct utsname u {};
  uname(&u);
  if (std::string(u.machine) == "x86_64") CHECK(m->size == 3501000);
  if (std::string(u.machine) == "aarch64") CHECK(m->size == 9001000);
  CHECK(m->size > 0);
}

TEST_CASE("downloads and remote sizes follow redirects and map the server's statuses") {
  testing::HttpStub web([](const testing::StubRequest& r) {
    if (r.target == "/image.tar") return testing::StubReply{200, {}, std::string(1000, 'x')};
    if (r.target == "/latest.tar") return testing::StubReply{301, {{"Location", "/image.tar"}}, ""};
    if (r.target == "/secret.tar") return testing::StubReply{403, {}, "forbidden"};
    if (r.target == "/login.tar") return testing::StubReply{401, {}, "who are you"};
    if (r.target == "/busy.tar") return testing::StubReply{502, {}, "bad gateway"};
    return testing::StubReply{404, {}, "not here"};
  });
  using C = Status::Code;
  RegistryHttp registries(LoopbackAllowed());
  const std::string path = "/tmp/onedock-download-" + testbed::UniqueName("t");
  auto size = registries.RemoteSize(web.base_url() + "/latest.tar");
  REQUIRE_MESSAGE(size.ok(), size.status().ToString());
  CHECK(*size == 1000);
  auto got = registries.Download(web.base_url() + "/latest.tar", path);
  REQUIRE_MESSAGE(got.ok(), got.status().ToString());
  CHECK(*got == 1000);
  CHECK(std::filesystem::file_size(path) == 1000);

  CHECK(registries.Download(web.base_url() + "/none.tar", path).status().code() == C::kNotFound);
  CHECK(registries.RemoteSize(web.base_url() + "/none.tar").status().code() == C::kNotFound);
  CHECK(registries.Download(web.base_url() + "/secret.tar", path).status().code() ==
        C::kPermissionDenied);
  CHECK(registries.Download(web.base_url() + "/login.tar", path).status().code() ==
        C::kUnauthenticated);
  CHECK(registries.Download(web.base_url() + "/busy.tar", path).status().code() == C::kUnavailable);
  const std::string closed = "http://127.0.0.1:" + std::to_string(testing::FreeLoopbackPort());
  CHECK(registries.RemoteSize(closed + "/x.tar").status().code() == C::kUnavailable);

  RegistryHttpSettings tiny = LoopbackAllowed();
  tiny.limits.max_download_bytes = 999;
  RegistryHttp small(tiny);
  CHECK(small.Download(web.base_url() + "/image.tar", path).status().code() == C::kInvalidArgument);
  std::filesystem::remove(path);
}

}  // namespace onedock::docker
