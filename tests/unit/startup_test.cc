// The stub token file: made with safe modes on the first start, refused when others could read
// it, and existing directories left as the operator set them.
#include "bridge/daemon/startup.h"

#include <doctest/doctest.h>
#include <sys/stat.h>

#include <fstream>

#include "tests/support/require_ok.h"
#include "tests/support/temp_dir.h"

namespace onedock::daemon {
namespace {

mode_t ModeOf(const std::string& path) {
  struct stat st {};
  REQUIRE(stat(path.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

void Write(const std::string& path, const std::string& text, mode_t mode) {
  std::ofstream(path) << text;
  REQUIRE(chmod(path.c_str(), mode) == 0);
}

TEST_CASE("the first start makes the token 0600 in new 0700 directories") {
  testing::TempDir dir("token");
  const std::string path = dir.path() + "/a/b/stub_token";
  auto token = StubToken(path);
  REQUIRE_OK(token);
  CHECK(token->size() == 48);
  CHECK(ModeOf(path) == 0600);
  CHECK(ModeOf(dir.path() + "/a") == 0700);
  CHECK(ModeOf(dir.path() + "/a/b") == 0700);
  auto again = StubToken(path);
  REQUIRE_OK(again);
  CHECK(*again == *token);
}

TEST_CASE("an existing directory keeps its mode when the token is made in it") {
  testing::TempDir dir("token");
  REQUIRE(chmod(dir.path().c_str(), 0751) == 0);
  REQUIRE_OK(StubToken(dir.path() + "/stub_token"));
  CHECK(ModeOf(dir.path()) == 0751);
}

TEST_CASE("a token file that others can read or that is not a plain file is refused") {
  testing::TempDir dir("token");
  const std::string path = dir.path() + "/stub_token";
  for (mode_t mode : {0644, 0640, 0604, 0620, 0602}) {
    CAPTURE(mode);
    Write(path, "0123456789abcdef0123\n", mode);
    auto token = StubToken(path);
    REQUIRE_FALSE(token.ok());
    CHECK(token.status().code() == Status::Code::kInvalidArgument);
    CHECK(ModeOf(path) == mode);  // refused, not repaired behind the operator's back
  }
  Write(path, "0123456789abcdef0123\n", 0600);
  REQUIRE_OK(StubToken(path));
  Write(path, "short\n", 0600);
  CHECK_FALSE(StubToken(path).ok());

  const std::string link = dir.path() + "/link";
  Write(path, "0123456789abcdef0123\n", 0600);
  REQUIRE(symlink(path.c_str(), link.c_str()) == 0);
  CHECK_FALSE(StubToken(link).ok());
  REQUIRE(mkdir((dir.path() + "/dir").c_str(), 0700) == 0);
  CHECK_FALSE(StubToken(dir.path() + "/dir").ok());
}

}  // namespace
}  // namespace onedock::daemon
