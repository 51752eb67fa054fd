// The image datastore's decisions against a fake staging engine and fake registries: what is
// pulled, tagged, pushed and cleaned up, and what is refused before anything is touched.
#include "bridge/image_store.h"

#include <doctest/doctest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "tests/fakes/fake_one.h"
#include "tests/fakes/fake_staging.h"
#include "tests/support/temp_dir.h"

namespace onedock {
namespace {

struct Bed {
  testing::TempDir dir{"image-store"};
  fakes::FakeStaging staging;
  fakes::FakeRegistries registries;
  fakes::FakeOne one;
  std::unique_ptr<SqliteStore> journal = testing::OpenJournal(dir.path() + "/journal.db");
  ImageStore store{[this]() -> Result<std::unique_ptr<ImageStaging>> { return staging.Lease(); },
                   registries,
                   one,
                   *journal,
                   {"127.0.0.1:5000",
                    {},
                    {{"up.example:5001", {"robot", "secret", "up.example:5001"}}},
                    "/tmp",
                    "/",
                    {"/tmp"},
                    {"/etc", "/proc"}}};
};

Image ImageWith(const std::string& path, int id = 7, const std::string& name = "web") {
  Image i;
  i.id = id;
  i.name = name;
  i.path = path;
  return i;
}

TEST_CASE("a registry image is pulled, tagged <basename>:<id>, pushed and pinned by digest") {
  Bed b;
  auto copied = b.store.Copy(ImageWith("docker://up.example:5001/team/httpd:1.0"));
  REQUIRE_MESSAGE(copied.ok(), copied.status().ToString());
  CHECK(copied->source == "127.0.0.1:5000/httpd:7@sha256:" + std::string(64, 'a'));
  CHECK(copied->format == "docker");
  const std::vector<std::string> expected = {
      "pull up.example:5001/team/httpd:1.0 as robot",  // the configured credentials
      "tag up.example:5001/team/httpd:1.0 127.0.0.1:5000/httpd:7", "push 127.0.0.1:5000/httpd:7",
      "remove 127.0.0.1:5000/httpd:7", "remove up.example:5001/team/httpd:1.0"};
  CHECK(b.staging.calls == expected);
  CHECK(b.staging.local.empty());  // the staging engine keeps nothing it did not have
}

TEST_CASE("the image template's credentials come before the configuration's") {
  Bed b;
  Image image = ImageWith("docker://up.example:5001/team/httpd:1.0");
  image.template_attributes = {{"REGISTRY_USERNAME", "alice"}, {"REGISTRY_PASSWORD", "pw"}};
  REQUIRE(b.store.Copy(image).ok());
  CHECK(b.staging.calls.front() == "pull up.example:5001/team/httpd:1.0 as alice");
}

TEST_CASE("a push that fails after its manifest landed leaves no manifest behind") {
  Bed b;
  b.staging.push_fails = true;
  b.registries.manifests["127.0.0.1:5000/httpd:7"] = {"sha256:" + std::string(64, 'b'), 10};
  auto copied = b.store.Copy(ImageWith("docker://up.example:5001/team/httpd:1.0"));
  REQUIRE_FALSE(copied.ok());
  CHECK(copied.status().message().find("push 127.0.0.1:5000/httpd:7") == 0);
  REQUIRE(b.registries.deleted.size() == 1);
  CHECK(b.registries.deleted[0] == "127.0.0.1:5000/httpd@sha256:" + std::string(64, 'b'));
}

TEST_CASE("hostile and malformed PATHs are refused before the engine is touched") {
  Bed b;
  for (const char* path :
       {"docker://up.example:5001/team/httpd:1.0;rm -rf /", "docker://up.example:5001/../etc",
        "docker://UP/Team", "relative.tar", "ftp://x/y.tar", "http://localhost@evil/y.tar",
        "http://x/y z.tar", ""}) {
    CAPTURE(path);
    auto copied = b.store.Copy(ImageWith(path));
    CHECK_FALSE(copied.ok());
    CHECK(copied.status().code() == Status::Code::kInvalidArgument);
    CHECK_FALSE(b.store.Stat(ImageWith(path)).ok());
  }
  CHECK(b.staging.calls.empty());
}

TEST_CASE("a tarball is loaded and published under the image's name") {
  Bed b;
  char path[] = "/tmp/onedock-tarball-XXXXXX";
  const int fd = mkstemp(path);
  REQUIRE(fd >= 0);
  close(fd);
  auto copied = b.store.Copy(ImageWith(path, 9, "My Web Server!"));
  REQUIRE_MESSAGE(copied.ok(), copied.status().ToString());
  CHECK(copied->source.rfind("127.0.0.1:5000/my-web-server:9@sha256:", 0) == 0);
  // Loaded from the descriptor that was checked, not from the path again.
  CHECK(b.staging.calls.front().rfind("load /proc/self/fd/", 0) == 0);
  CHECK(b.staging.local.empty());  // neither the loaded image nor the published tag stays
  unlink(path);
  CHECK(b.store.Copy(ImageWith("/tmp/nonexistent/image.tar")).status().code() ==
        Status::Code::kNotFound);
}

TEST_CASE(
    "stat reads the size from the registry manifest, rm deletes by digest and only in the private "
    "registry") {
  Bed b;
  b.registries.manifests["up.example:5001/team/httpd:1.0"] = {"sha256:" + std::string(64, 'c'),
                                                              5 * 1024 * 1024 + 1};
  auto size = b.store.Stat(ImageWith("docker://up.example:5001/team/httpd:1.0"));
  REQUIRE(size.ok());
  CHECK(*size == 6);
  CHECK(b.store.Stat(ImageWith("docker://up.example:5001/team/nosuch:1.0")).status().code() ==
        Status::Code::kNotFound);

  Image image = ImageWith("");
  image.source = "127.0.0.1:5000/httpd:7@sha256:" + std::string(64, 'd');
  REQUIRE(b.store.Remove(image).ok());
  CHECK(b.registries.deleted ==
        std::vector<std::string>{"127.0.0.1:5000/httpd@sha256:" + std::string(64, 'd')});
  image.source = "up.example:5001/team/httpd:1.0";
  CHECK(b.store.Remove(image).code() ==
        Status::Code::kInvalidArgument);    // never outside the private registry
  image.source = "127.0.0.1:5000/httpd:8";  // no digest, no manifest: nothing to delete
  CHECK(b.store.Remove(image).ok());
  CHECK(b.registries.deleted.size() == 1);
}

TEST_CASE(
    "stat of docker:// as the stock CLI passes it, and of a registry that wants credentials stat "
    "is not given") {
  Bed b;
  b.registries.manifests["up.example:5001/team/httpd:1.0"] = {"sha256:" + std::string(64, 'c'),
                                                              2 * 1024 * 1024};
  // `oneimage create --path docker://…` run in /home/user: the CLI prefixes its directory.
  const std::string typed = "/home/user/docker://up.example:5001/team/httpd:1.0";
  CHECK(*b.store.Stat(ImageWith(typed)) == 2);
  REQUIRE(b.store.Copy(ImageWith(typed)).ok());
  CHECK(b.staging.calls.front() == "pull up.example:5001/team/httpd:1.0 as robot");
  CHECK(b.store.Stat(ImageWith("/tmp/no-such-user/image.tar"))
            .status()
            .message()
            .find("cannot be read") != std::string::npos);

  // oned's stat carries no template credentials: the template's SIZE sizes such an image.
  b.registries.wants_credentials.insert("private.example");
  b.registries.manifests["private.example/team/httpd:1.0"] = {"sha256:" + std::string(64, 'c'), 1};
  Image image = ImageWith("docker://private.example/team/httpd:1.0");
  auto refused = b.store.Stat(image);
  CHECK(refused.status().code() == Status::Code::kUnauthenticated);
  CHECK(refused.status().message().find(
            "set SIZE in the image template, or [credentials private.example]") !=
        std::string::npos);
  image.size_mb = 40;
  CHECK(*b.store.Stat(image) == 40);
  // Another failure is not papered over by SIZE.
  CHECK(b.store.Stat(ImageWith("docker://up.example:5001/team/nosuch:1.0")).status().code() ==
        Status::Code::kNotFound);
}

// The clone's original, as oned holds it.
Image Original(int id, const std::string& source) {
  Image i;
  i.id = id;
  i.source = source;
  i.format = "docker";
  return i;
}

Image CloneOf(int original, int id, const std::string& name = "web") {
  Image i = ImageWith("", id, name);
  i.cloning_id = original;
  return i;
}

TEST_CASE("a clone is the private image again under the new image's name and id") {
  Bed b;
  b.one.images[7] = Original(7, "127.0.0.1:5000/httpd:7@sha256:" + std::string(64, 'e'));
  b.one.images[8] = Original(8, "up.example:5001/team/httpd:1.0");
  auto cloned = b.store.Clone(CloneOf(7, 12, "web copy"));
  REQUIRE_MESSAGE(cloned.ok(), cloned.status().ToString());
  CHECK(cloned->source == "127.0.0.1:5000/web-copy:12@sha256:" + std::string(64, 'a'));
  CHECK(b.staging.calls.front() == "pull 127.0.0.1:5000/httpd:7@sha256:" + std::string(64, 'e'));
  CHECK(b.staging.local.empty());
  CHECK(b.store.Clone(CloneOf(8, 13)).status().code() == Status::Code::kInvalidArgument);
  CHECK(b.store.Clone(CloneOf(99, 14)).status().code() == Status::Code::kNotFound);
  CHECK(b.store.Clone(ImageWith("", 15)).status().code() ==
        Status::Code::kInvalidArgument);  // no CLONING_ID
}

TEST_CASE(
    "a clone of a data volume's image is a new empty volume, refused once the volume holds data") {
  Bed b;
  b.one.images[7] = Original(7, "onedock-volume://7");
  auto empty = b.store.Clone(CloneOf(7, 12));
  REQUIRE_MESSAGE(empty.ok(), empty.status().ToString());
  CHECK(empty->source == "onedock-volume://12");
  CHECK(b.staging.calls.empty());
  REQUIRE(b.journal->SetVolumeHome(7, "h1").ok());
  auto refused = b.store.Clone(CloneOf(7, 13));
  CHECK(refused.status().code() == Status::Code::kFailedPrecondition);
  CHECK(refused.status().message().find("volume one-image-7 on host h1") != std::string::npos);
}

}  // namespace
}  // namespace onedock

namespace onedock {
namespace {

TEST_CASE("a local PATH outside the upload directories or in a restricted one is refused") {
  Bed b;
  for (const char* path :
       {"/etc/shadow", "/tmp/../etc/shadow", "/proc/self/environ", "/var/lib/one/.one/one_auth"}) {
    CAPTURE(path);
    auto stat = b.store.Stat(ImageWith(path));
    CHECK(stat.status().code() == Status::Code::kPermissionDenied);
    auto copy = b.store.Copy(ImageWith(path));
    CHECK(copy.status().code() == Status::Code::kPermissionDenied);
  }
  CHECK(b.store.Stat(ImageWith("/etc/shadow")).status().message().rfind("PATH /etc/shadow", 0) ==
        0);
  CHECK(b.staging.calls.empty());  // nothing was loaded, not even opened by the engine

  // A symlink in an upload directory to a restricted file is the restricted file.
  testing::TempDir dir("uploads");
  std::filesystem::create_symlink("/etc/hostname", dir.path() + "/host.tar");
  CHECK(b.store.Copy(ImageWith(dir.path() + "/host.tar")).status().code() ==
        Status::Code::kPermissionDenied);
  CHECK(b.staging.calls.empty());
}

TEST_CASE("a datastore's SAFE_DIRS and RESTRICTED_DIRS decide as OpenNebula's, within onedock's") {
  Bed b;
  testing::TempDir dir("safe");
  const std::string tarball = dir.path() + "/image.tar";
  std::ofstream(tarball) << "tar";
  Datastore ds;
  // oned's defaults: only /var/tmp, so the upload directory /tmp is restricted by "/" here.
  ds.template_attributes = {{"RESTRICTED_DIRS", "/"}, {"SAFE_DIRS", "/var/tmp"}};
  CHECK(b.store.Stat(ImageWith(tarball), &ds).status().code() == Status::Code::kPermissionDenied);
  ds.template_attributes = {{"RESTRICTED_DIRS", "/"}, {"SAFE_DIRS", "/var/tmp " + dir.path()}};
  CHECK(b.store.Stat(ImageWith(tarball), &ds).ok());
  ds.template_attributes = {{"SAFE_DIRS", "/etc"}};
  CHECK(b.store.Stat(ImageWith("/etc/hostname"), &ds).status().code() ==
        Status::Code::kPermissionDenied);  // onedock's own restricted list wins
  ds.template_attributes = {{"SAFE_DIRS", "/srv /opt"}, {"RESTRICTED_DIRS", ""}};
  CHECK(b.store.Stat(ImageWith(tarball), &ds).ok());  // /tmp stays an upload directory
  CHECK(b.staging.calls.empty());
}

TEST_CASE("a PATH naming the private registry is refused, so no user copies another's image") {
  Bed b;
  b.registries.manifests["127.0.0.1:5000/onedock-checkpoint/one-5:latest"] = {
      "sha256:" + std::string(64, 'c'), 10};
  for (const char* path : {"docker://127.0.0.1:5000/onedock-checkpoint/one-5:latest",
                           "/var/tmp/docker://127.0.0.1:5000/httpd:3"}) {
    CAPTURE(path);
    CHECK(b.store.Copy(ImageWith(path)).status().code() == Status::Code::kPermissionDenied);
    CHECK(b.store.Stat(ImageWith(path)).status().code() == Status::Code::kPermissionDenied);
  }
  CHECK(b.staging.calls.empty());
}

TEST_CASE("a registry the destination policy refuses is refused before the engine pulls") {
  Bed b;
  b.registries.refused_registries.insert("169.254.169.254");
  b.registries.manifests["169.254.169.254/x:1"] = {"sha256:" + std::string(64, 'e'), 10};
  auto copied = b.store.Copy(ImageWith("docker://169.254.169.254/x:1"));
  CHECK(copied.status().code() == Status::Code::kPermissionDenied);
  CHECK(copied.status().message().rfind("pull 169.254.169.254/x:1: destination", 0) == 0);
  CHECK(b.store.Stat(ImageWith("docker://169.254.169.254/x:1")).status().code() ==
        Status::Code::kPermissionDenied);
  CHECK(b.staging.calls.empty());
}

TEST_CASE("a tarball tagged with a name of the private registry is refused and leaves nothing") {
  Bed b;
  testing::TempDir dir("tagged");
  const std::string tarball = dir.path() + "/image.tar";
  std::ofstream(tarball) << "tar";
  for (const std::string& tag : {std::string("127.0.0.1:5000/onedock-checkpoint/one-5:latest"),
                                 std::string("127.0.0.1:5000/httpd:3"),
                                 std::string("docker.io/onedock-snapshot/one-1:s0")}) {
    CAPTURE(tag);
    b.staging.calls.clear();
    b.staging.loads = {tag};
    auto copied = b.store.Copy(ImageWith(tarball));
    CHECK(copied.status().code() == Status::Code::kPermissionDenied);
    CHECK(copied.status().message().find("tagged " + tag) != std::string::npos);
    CHECK(std::count(b.staging.calls.begin(), b.staging.calls.end(), "remove " + tag) == 1);
    CHECK(std::none_of(b.staging.calls.begin(), b.staging.calls.end(),
                       [](const std::string& c) { return c.rfind("push", 0) == 0; }));
    CHECK(b.staging.local.empty());
  }
  // An ordinary tag is published, then every tag the load reported is removed with its image.
  b.staging.calls.clear();
  b.staging.loads = {"team/web:2", "sha256:abc"};
  auto two = b.store.Copy(ImageWith(tarball));
  CHECK(two.status().code() == Status::Code::kInvalidArgument);  // two images: refused
  CHECK(b.staging.local.empty());
  b.staging.loads = {"team/web:2"};
  auto one = b.store.Copy(ImageWith(tarball));
  REQUIRE_MESSAGE(one.ok(), one.status().ToString());
  CHECK(b.staging.calls.back() == "remove team/web:2");
  CHECK(b.staging.local.empty());
}

TEST_CASE("a download past its bound fails and leaves no partial file in the spool") {
  testing::TempDir spool("spool");
  fakes::FakeStaging staging;
  fakes::FakeRegistries registries;
  fakes::FakeOne one;
  auto journal = testing::OpenJournal(spool.path() + "/journal.db");
  ImageStore store([&]() -> Result<std::unique_ptr<ImageStaging>> { return staging.Lease(); },
                   registries, one, *journal, {"127.0.0.1:5000", {}, {}, spool.path() + "/s", "/"});
  std::filesystem::create_directory(spool.path() + "/s");
  registries.partial_download = true;
  auto copied = store.Copy(ImageWith("http://images.example/big.tar"));
  CHECK(copied.status().code() == Status::Code::kInvalidArgument);
  CHECK(copied.status().message().rfind("download http://images.example/big.tar: reply body", 0) ==
        0);
  CHECK(std::filesystem::is_empty(spool.path() + "/s"));
  CHECK(staging.calls.empty());  // nothing was loaded
}

TEST_CASE("deleting one image keeps a manifest another image of the same digest refers to") {
  Bed b;
  const std::string digest = "sha256:" + std::string(64, 'f');
  b.registries.manifests["127.0.0.1:5000/httpd:7"] = {digest, 10};
  b.registries.manifests["127.0.0.1:5000/httpd:8"] = {digest, 10};
  b.registries.manifests["127.0.0.1:5000/httpd:9"] = {"sha256:" + std::string(64, '9'), 10};
  Image seven = ImageWith("", 7);
  seven.source = "127.0.0.1:5000/httpd:7@" + digest;
  Image eight = ImageWith("", 8);
  eight.source = "127.0.0.1:5000/httpd:8@" + digest;
  b.one.images[8] = eight;  // another user's image of the same upstream image, still in oned

  REQUIRE(b.store.Remove(seven).ok());
  CHECK(b.registries.deleted.empty());  // image 8 still pulls its manifest
  CHECK(b.registries.manifests.count("127.0.0.1:5000/httpd:8") == 1);

  // Image 8 goes: tag 7 names no image oned knows any more, so the manifest goes with 8.
  b.one.images.erase(8);
  REQUIRE(b.store.Remove(eight).ok());
  CHECK(b.registries.deleted == std::vector<std::string>{"127.0.0.1:5000/httpd@" + digest});
  CHECK(b.registries.manifests.count("127.0.0.1:5000/httpd:9") == 1);  // another digest stays
}

TEST_CASE("an image still being copied, or a tag onedock did not make, keeps the manifest") {
  Bed b;
  const std::string digest = "sha256:" + std::string(64, '1');
  b.registries.manifests["127.0.0.1:5000/web:7"] = {digest, 10};
  b.registries.manifests["127.0.0.1:5000/web:12"] = {digest, 10};
  Image seven = ImageWith("", 7);
  seven.source = "127.0.0.1:5000/web:7@" + digest;
  b.one.images[12] = ImageWith("docker://x/web:1", 12);  // in LOCKED, no SOURCE yet
  REQUIRE(b.store.Remove(seven).ok());
  CHECK(b.registries.deleted.empty());

  b.one.images[12].source = "127.0.0.1:5000/other:12@sha256:" + std::string(64, '2');
  b.registries.manifests["127.0.0.1:5000/web:latest"] = {digest, 10};
  REQUIRE(b.store.Remove(seven).ok());
  CHECK(b.registries.deleted.empty());  // "latest" was pushed by someone else

  b.registries.manifests.erase("127.0.0.1:5000/web:latest");
  REQUIRE(b.store.Remove(seven).ok());  // image 12 names another manifest: nobody refers to it
  CHECK(b.registries.deleted.size() == 1);
}

}  // namespace
}  // namespace onedock
