#include "bridge/spool.h"

#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace onedock {
namespace {

TEST_CASE("spool files are unique, and clearing the spool removes only them") {
  char d[] = "/tmp/onedock-spool-XXXXXX";
  REQUIRE(mkdtemp(d) != nullptr);
  const std::string dir = std::string(d) + "/spool";  // created on first use
  const std::string a = SpoolFile(dir, "volume", "one-42-disk1");
  const std::string b = SpoolFile(dir, "volume", "one-42-disk1");
  CHECK(a != b);
  CHECK(std::filesystem::is_directory(dir));
  CHECK(a.rfind(dir + "/volume-one-42-disk1-" + std::to_string(getpid()) + "-", 0) == 0);
  const std::string image = SpoolFile(dir, "image", "7");
  for (const auto& f : {a, b, image, dir + "/notes.txt", dir + "/other.tar"})
    std::ofstream(f) << "x";
  std::filesystem::create_directory(dir + "/image-dir.tar");  // not a file: kept

  CHECK(ClearSpool(dir) == 3);
  CHECK_FALSE(std::filesystem::exists(a));
  CHECK_FALSE(std::filesystem::exists(image));
  CHECK(std::filesystem::exists(dir + "/notes.txt"));
  CHECK(std::filesystem::exists(dir + "/other.tar"));
  CHECK(std::filesystem::exists(dir + "/image-dir.tar"));
  CHECK(ClearSpool(dir + "/missing") == 0);
  std::filesystem::remove_all(d);
}

}  // namespace
}  // namespace onedock
