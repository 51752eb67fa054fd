#include "bridge/tar_writer.h"

#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace onedock {

TEST_CASE("tar archive has ustar headers padded content and a zero trailer") {
  TarWriter tar;
  REQUIRE(tar.AddDirectory("etc/one").ok());
  REQUIRE(tar.AddFile("etc/one/context.sh", "export A='1'\n", 0600).ok());
  const std::string out = tar.Finish();
  CHECK(out.size() == 512 + 512 + 512 + 1024);  // dir header, file header, 1 data block, trailer
  CHECK(out.compare(0, 7, "etc/one") == 0);
  CHECK(out.compare(257, 5, "ustar") == 0);
  CHECK(out[156] == '5');
  CHECK(out[512 + 156] == '0');
  CHECK(out.compare(512 + 100, 7, "0000600") == 0);
  CHECK(out.compare(1024, 13, "export A='1'\n") == 0);
}

TEST_CASE("tar archive is readable by tar(1)") {
  TarWriter tar;
  REQUIRE(tar.AddFile("a/b.txt", std::string(700, 'x')).ok());
  char dir[] = "/tmp/onedock-tar-XXXXXX";
  REQUIRE(mkdtemp(dir) != nullptr);
  const std::string path = std::string(dir) + "/t.tar";
  std::ofstream(path, std::ios::binary) << tar.Finish();
  const std::string cmd = "tar -tvf " + path + " > " + dir + "/list 2>&1";
  CHECK(std::system(cmd.c_str()) == 0);
  std::ifstream list(std::string(dir) + "/list");
  std::string text((std::istreambuf_iterator<char>(list)), {});
  CHECK(text.find("700") != std::string::npos);
  CHECK(text.find("a/b.txt") != std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST_CASE("tar refuses unsafe paths and leaves the archive unchanged") {
  TarWriter tar;
  const std::string empty = tar.Finish();
  for (const char* bad : {"/etc/passwd", "../x", "a/../../x", "a//b", ""}) {
    CAPTURE(bad);
    CHECK(tar.AddFile(bad, "x").code() == Status::Code::kInvalidArgument);
  }
  CHECK(tar.AddFile(std::string(101, 'a'), "x").code() == Status::Code::kInvalidArgument);
  CHECK(tar.Finish() == empty);
}

}  // namespace onedock
