// LocalPathPolicy and OpenedTarball: which front-end files an image PATH may name, decided on the
// resolved path of the file actually opened.
#include "bridge/local_path_policy.h"

#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "tests/support/temp_dir.h"

namespace onedock {
namespace {

TEST_CASE("a resolved path must be under an allowed directory and under no restricted one") {
  LocalPathPolicy p{{"/var/tmp", "/srv/images/"}, {"/etc", "/var/tmp/secret"}};
  CHECK(p.Check("/var/tmp/a.tar").ok());
  CHECK(p.Check("/srv/images/team/a.tar").ok());
  CHECK(p.Check("/var/tmpx/a.tar").code() == Status::Code::kPermissionDenied);  // components
  CHECK(p.Check("/etc/shadow").code() == Status::Code::kPermissionDenied);
  CHECK(p.Check("/etc/shadow").message().find("restricted directory /etc") != std::string::npos);
  CHECK(p.Check("/home/alice/a.tar").message().find("outside the upload directories") !=
        std::string::npos);
  // Restricted wins over allowed, even below an allowed directory.
  CHECK(p.Check("/var/tmp/secret/key.tar").code() == Status::Code::kPermissionDenied);
  LocalPathPolicy none{{}, {}};
  CHECK_FALSE(none.Check("/var/tmp/a.tar").ok());
}

TEST_CASE("a datastore's SAFE_DIRS are the exceptions to its RESTRICTED_DIRS, as in OpenNebula") {
  // What oned gives every new datastore: RESTRICTED_DIRS="/" SAFE_DIRS="/var/tmp".
  LocalPathPolicy p{{"/srv/uploads"}, {"/etc", "/var/tmp/onedock-secret"}, {"/var/tmp"}, {"/"}};
  CHECK(p.Check("/var/tmp/a.tar").ok());
  CHECK(p.Check("/srv/uploads/a.tar").code() == Status::Code::kPermissionDenied);  // under "/"
  CHECK(p.Check("/srv/uploads/a.tar").message().find("RESTRICTED_DIRS (/)") != std::string::npos);
  CHECK(p.Check("/home/a.tar").code() == Status::Code::kPermissionDenied);
  // onedockd's own restricted list wins even over SAFE_DIRS.
  CHECK(p.Check("/var/tmp/onedock-secret/key.pem").code() == Status::Code::kPermissionDenied);
  LocalPathPolicy wide{{}, {"/etc"}, {"/"}, {}};
  CHECK(wide.Check("/home/a.tar").ok());
  CHECK_FALSE(wide.Check("/etc/shadow").ok());
  // Without a RESTRICTED_DIRS, the upload directories admit too.
  LocalPathPolicy uploads{{"/srv/uploads"}, {}, {"/var/tmp"}, {}};
  CHECK(uploads.Check("/srv/uploads/a.tar").ok());
  CHECK_FALSE(uploads.Check("/opt/a.tar").ok());
  CHECK(SplitDirectories(" /a  /b/c relative /d ") == std::vector<std::string>{"/a", "/b/c", "/d"});
  CHECK(PathUnder("/a/b", "/"));
}

TEST_CASE("symlinks and .. are resolved before the check, on the file actually opened") {
  testing::TempDir uploads("uploads");
  testing::TempDir elsewhere("elsewhere");
  const std::string secret = elsewhere.path() + "/secret.tar";
  std::ofstream(secret) << "secret";
  std::ofstream(uploads.path() + "/ok.tar") << "12345";
  LocalPathPolicy p{{uploads.path()}, {elsewhere.path()}};

  auto ok = OpenedTarball::Open(uploads.path() + "/ok.tar", p);
  REQUIRE_MESSAGE(ok.ok(), ok.status().ToString());
  CHECK(ok->size() == 5);
  std::ifstream via(ok->proc_path());
  std::string content;
  via >> content;
  CHECK(content == "12345");  // read through the descriptor that was checked

  std::filesystem::create_symlink(secret, uploads.path() + "/link.tar");
  auto link = OpenedTarball::Open(uploads.path() + "/link.tar", p);
  CHECK(link.status().code() == Status::Code::kPermissionDenied);
  CHECK(link.status().message().find(secret) != std::string::npos);
  auto climb = OpenedTarball::Open(uploads.path() + "/../" +
                                       std::filesystem::path(elsewhere.path()).filename().string() +
                                       "/secret.tar",
                                   p);
  CHECK(climb.status().code() == Status::Code::kPermissionDenied);
  CHECK(OpenedTarball::Open("/etc/shadow", p).status().code() == Status::Code::kPermissionDenied);
  CHECK(OpenedTarball::Open(uploads.path() + "/none.tar", p).status().code() ==
        Status::Code::kNotFound);
  // A directory or a FIFO in the upload directory is no tarball, and opening it does not block.
  std::filesystem::create_directory(uploads.path() + "/dir.tar");
  CHECK(OpenedTarball::Open(uploads.path() + "/dir.tar", p).status().code() ==
        Status::Code::kInvalidArgument);
  REQUIRE(mkfifo((uploads.path() + "/fifo.tar").c_str(), 0600) == 0);
  CHECK(OpenedTarball::Open(uploads.path() + "/fifo.tar", p).status().code() ==
        Status::Code::kInvalidArgument);

  // Swapping the path for a symlink after the open changes nothing: the opened file is read.
  std::filesystem::remove(uploads.path() + "/ok.tar");
  std::filesystem::create_symlink(secret, uploads.path() + "/ok.tar");
  std::ifstream again(ok->proc_path());
  std::string still;
  again >> still;
  CHECK(still == "12345");
}

}  // namespace
}  // namespace onedock
