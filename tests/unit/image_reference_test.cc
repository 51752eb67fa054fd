#include "bridge/image_reference.h"

#include <doctest/doctest.h>

namespace onedock {

TEST_CASE("references split into domain path tag and digest") {
  auto r = ParseImageReference("127.0.0.1:5000/onedock/httpd:1.0");
  REQUIRE(r.ok());
  CHECK(r->domain == "127.0.0.1:5000");
  CHECK(r->path == "onedock/httpd");
  CHECK(r->tag == "1.0");
  CHECK(r->Basename() == "httpd");
  CHECK(r->ToString() == "127.0.0.1:5000/onedock/httpd:1.0");

  auto bare = ParseImageReference("busybox");
  REQUIRE(bare.ok());
  CHECK(bare->domain.empty());
  CHECK(bare->TagOrDigest() == "latest");

  const std::string digest = "sha256:" + std::string(64, 'a');
  auto pinned = ParseImageReference("localhost:5000/x@" + digest);
  REQUIRE(pinned.ok());
  CHECK(pinned->domain == "localhost:5000");
  CHECK(pinned->digest == digest);
  CHECK(pinned->TagOrDigest() == digest);

  auto both = ParseImageReference("reg.example.org/a/b-c__d.e:v1_2@" + digest);
  REQUIRE(both.ok());
  CHECK(both->path == "a/b-c__d.e");
  CHECK(both->tag == "v1_2");

  auto localhost = ParseImageReference("localhost/img");
  REQUIRE(localhost.ok());
  CHECK(localhost->domain == "localhost");
  auto user = ParseImageReference("library/busybox:latest");
  REQUIRE(user.ok());
  CHECK(user->domain.empty());
  CHECK(user->path == "library/busybox");
}

TEST_CASE("hostile and malformed references are refused") {
  const char* bad[] = {
      "",
      "busybox;rm -rf /",
      "busybox$(id)",
      "busy box",
      "../etc/passwd",
      "a/../b",
      "a//b",
      "Busybox",
      "busybox:",
      "busybox:-tag",
      "busybox@sha256:abc",
      "busybox@md5:"
      "0123456789abcdef0123456789abcdef",
      "-registry.example.org/x",
      "registry:99999999/x",
      "busybox:`id`",
      "busybox|cat",
      "busybox\nrm",
      "img__",
      "a.-b",
  };
  for (const char* text : bad) {
    CAPTURE(text);
    auto r = ParseImageReference(text);
    CHECK_FALSE(r.ok());
    CHECK(r.status().code() == Status::Code::kInvalidArgument);
  }
  CHECK_FALSE(ParseImageReference(std::string(256, 'a')).ok());
  CHECK_FALSE(ParseImageReference("x:" + std::string(129, 'a')).ok());
}

}  // namespace onedock
