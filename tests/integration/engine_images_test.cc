// Image transport through the Engine API: pull (with errors before and inside the stream), tag,
// push, save, load, inspect and remove.
#include <doctest/doctest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "docker/engine_client.h"
#include "docker/registry_client.h"
#include "tests/integration/bed.h"
#include "tests/support/engine_admin.h"

namespace onedock::docker {
namespace {

using Code = Status::Code;

std::string TempPath(const std::string& name) {
  return "/tmp/onedock-it-" + std::to_string(getpid()) + "-" + name;
}

}  // namespace

TEST_CASE("pull from the upstream registry onto an engine that lacks the image") {
  EngineClient h2("h2", testbed::Engine("h2"));
  const std::string ref = testbed::TestImage();
  Status removed = h2.RemoveImage(ref, true);
  CHECK((removed.ok() || removed.code() == Code::kNotFound));
  CHECK(h2.InspectImage(ref).status().code() == Code::kNotFound);

  int lines = 0;
  Status pulled = h2.PullImage(ref, {}, [&lines](std::string_view) { ++lines; });
  REQUIRE_MESSAGE(pulled.ok(), pulled.ToString());
  CHECK(lines > 1);  // progress was streamed
  auto image = h2.InspectImage(ref);
  REQUIRE(image.ok());
  CHECK(image->repo_tags.size() >= 1);
  // One digest from the upstream repository (the same image may also carry the private
  // registry's digest when the e2e tier deployed it on this engine before).
  std::vector<std::string> upstream;
  for (const auto& d : image->repo_digests) {
    if (d.rfind(testbed::RegistryHost("upstream") + "/onedock/httpd@", 0) == 0)
      upstream.push_back(d);
  }
  REQUIRE(upstream.size() == 1);
  CHECK(image->cmd == std::vector<std::string>{"/bin/httpd", "-f", "-p", "80", "-h", "/www"});

  // By digest: the engine records a digest and no tag.
  const std::string digest = upstream[0].substr(upstream[0].find('@') + 1);
  const std::string pinned = testbed::RegistryHost("upstream") + "/onedock/httpd@" + digest;
  REQUIRE(h2.PullImage(pinned).ok());
  CHECK(h2.InspectImage(pinned)->id == image->id);
}

TEST_CASE("a pull of a missing tag or from a dead registry is an error") {
  EngineClient h2("h2", testbed::Engine("h2"));
  Status missing = h2.PullImage(testbed::RegistryHost("upstream") + "/onedock/httpd:99");
  CHECK_FALSE(missing.ok());
  CHECK(missing.code() == Code::kNotFound);
  CHECK(missing.message().find("manifest") != std::string::npos);

  Status dead = h2.PullImage("127.0.0.9:5999/onedock/httpd:1.0");
  CHECK_FALSE(dead.ok());
  CHECK(dead.message().find("connection refused") != std::string::npos);
}

TEST_CASE("a pull whose layer is corrupt reports the error carried by the 200 reply") {
  // Publish an image with a layer of its own to the private registry, then corrupt that layer's
  // blob there: the manifest still resolves, so the engine answers 200 and reports the failed
  // verification inside the progress stream.
  EngineClient h1("h1", testbed::Engine("h1"));
  EngineClient h2("h2", testbed::Engine("h2"));
  REQUIRE(h1.PullImage(testbed::TestImage()).ok());
  const std::string unique = testbed::UniqueName("layer");
  ContainerSpec spec{.name = unique, .image = testbed::TestImage(), .network_mode = "none"};
  REQUIRE(h1.CreateContainer(spec).ok());
  REQUIRE(h1.StartContainer(unique).ok());
  REQUIRE(h1.Exec(unique, {"/bin/sh", "-c", "head -c 200000 /dev/urandom > /payload"})->exit_code ==
          0);
  const std::string repo = testbed::RegistryHost("private") + "/broken";
  REQUIRE(h1.Commit({.container = unique, .repo = repo, .tag = unique}).ok());
  REQUIRE(h1.RemoveContainer(unique, true, true).ok());
  REQUIRE(h1.PushImage(repo + ":" + unique).ok());
  REQUIRE(h1.RemoveImage(repo + ":" + unique, false).ok());

  RegistryClient priv("private", testbed::Registry("private"));
  auto manifest = priv.GetManifest("broken", unique);
  REQUIRE(manifest.ok());
  const size_t last = manifest->body.rfind("sha256:");
  REQUIRE(last != std::string::npos);
  const std::string hex = manifest->body.substr(last + 7, 64);
  const std::string blob = testbed::Get("ONEDOCK_LAB") +
                           "/registry-private/data/docker/registry/v2/blobs/sha256/" +
                           hex.substr(0, 2) + "/" + hex + "/data";
  {
    std::fstream f(blob, std::ios::in | std::ios::out | std::ios::binary);
    REQUIRE(f.good());
    f.seekp(100);
    f.write("corrupted-by-onedock-test", 25);
  }

  std::vector<std::string> progress;
  Status s =
      h2.PullImage(repo + ":" + unique, {}, [&](std::string_view l) { progress.emplace_back(l); });
  CHECK_FALSE(s.ok());
  CHECK_FALSE(progress.empty());  // the reply was a stream, not an HTTP error
  CHECK(s.message().find("pull " + repo) != std::string::npos);
  CHECK(h2.InspectImage(repo + ":" + unique).status().code() == Code::kNotFound);
}

TEST_CASE("tag push to the private registry save and load back") {
  EngineClient h1("h1", testbed::Engine("h1"));
  REQUIRE(h1.PullImage(testbed::TestImage()).ok());
  // A repository of its own: a tag onedock did not make, at the digest of the e2e images' httpd
  // repository, would keep that manifest through their deletion (ImageStore::Remove).
  const std::string repo = testbed::RegistryHost("private") + "/onedock-it-push";
  const std::string tag = testbed::UniqueName("p");
  REQUIRE(h1.TagImage(testbed::TestImage(), repo, tag).ok());
  auto digest = h1.PushImage(repo + ":" + tag);
  REQUIRE_MESSAGE(digest.ok(), digest.status().ToString());
  CHECK(digest->rfind("sha256:", 0) == 0);

  const std::string tar = TempPath("save.tar");
  REQUIRE(testing::EngineAdmin("h1", testbed::Engine("h1")).SaveImage(repo + ":" + tag, tar).ok());
  REQUIRE(h1.RemoveImage(repo + ":" + tag, false).ok());
  CHECK(h1.InspectImage(repo + ":" + tag).status().code() == Code::kNotFound);
  auto loaded = h1.LoadImage(tar);
  REQUIRE_MESSAGE(loaded.ok(), loaded.status().ToString());
  CHECK(loaded->at(0) == repo + ":" + tag);
  CHECK(h1.InspectImage(repo + ":" + tag).ok());
  CHECK(h1.RemoveImage(repo + ":" + tag, false).ok());
  std::remove(tar.c_str());

  // The engine reports a missing local tag inside its 200 push stream.
  auto never = h1.PushImage(repo + ":never-tagged");
  CHECK_FALSE(never.ok());
  CHECK(never.status().message().find("does not exist") != std::string::npos);
  CHECK(h1.TagImage("no/such:image", repo, "x").code() == Code::kNotFound);
  CHECK(h1.RemoveImage("no/such:image", false).code() == Code::kNotFound);
}

TEST_CASE("loading a corrupt tarball fails although the engine answers 200") {
  EngineClient h1("h1", testbed::Engine("h1"));
  const std::string tar = TempPath("garbage.tar");
  std::ofstream(tar) << std::string(4096, 'x');
  auto loaded = h1.LoadImage(tar);
  CHECK_FALSE(loaded.ok());
  CHECK(loaded.status().message().find("tar") != std::string::npos);
  std::remove(tar.c_str());
  CHECK(h1.LoadImage(TempPath("absent.tar")).status().code() == Code::kInvalidArgument);
}

}  // namespace onedock::docker

namespace onedock::docker {

TEST_CASE("pulls from a registry that wants credentials use X-Registry-Auth") {
  EngineClient h2("h2", testbed::Engine("h2"));
  const std::string host = testbed::Get("ONEDOCK_AUTH_REGISTRY");
  const std::string ref = host + "/onedock/httpd:1.0";
  h2.RemoveImage(ref, true);

  Status anonymous = h2.PullImage(ref);
  CHECK_FALSE(anonymous.ok());
  CHECK(anonymous.message().find("pull " + ref) != std::string::npos);

  Status wrong = h2.PullImage(ref, {testbed::Get("ONEDOCK_AUTH_USER"), "not-the-password", host});
  CHECK_FALSE(wrong.ok());

  Status right = h2.PullImage(
      ref, {testbed::Get("ONEDOCK_AUTH_USER"), testbed::Get("ONEDOCK_AUTH_PASSWORD"), host});
  REQUIRE_MESSAGE(right.ok(), right.ToString());
  CHECK(h2.InspectImage(ref).ok());
  CHECK(h2.RemoveImage(ref, false).ok());
}

}  // namespace onedock::docker
