// TempDir: a directory of its own under /tmp for one test, removed with everything in it when the
// test ends.
#ifndef ONEDOCK_TESTS_SUPPORT_TEMP_DIR_H_
#define ONEDOCK_TESTS_SUPPORT_TEMP_DIR_H_

#include <doctest/doctest.h>
#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>

#include "bridge/sqlite_store.h"
#include "tests/support/require_ok.h"

namespace onedock::testing {

class TempDir {
 public:
  explicit TempDir(const std::string& what) {
    std::string pattern = "/tmp/onedock-" + what + "-XXXXXX";
    REQUIRE(mkdtemp(pattern.data()) != nullptr);
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// A journal at `path`, which the test requires to open.
inline std::unique_ptr<SqliteStore> OpenJournal(const std::string& path) {
  auto journal = SqliteStore::Open(path);
  REQUIRE_OK(journal);
  return std::move(*journal);
}

}  // namespace onedock::testing

#endif  // ONEDOCK_TESTS_SUPPORT_TEMP_DIR_H_
