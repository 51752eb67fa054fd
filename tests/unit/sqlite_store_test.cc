#include "bridge/sqlite_store.h"

#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>

#include "tests/support/temp_dir.h"

namespace onedock {
namespace {

TEST_CASE("open intents survive a reopen and closed ones do not come back") {
  testing::TempDir dir("journal");
  const std::string file = dir.path() + "/journal.db";
  {
    auto j = SqliteStore::Open(file);
    REQUIRE_MESSAGE(j.ok(), j.status().ToString());
    auto a = (*j)->Begin(7, "deploy", "h1");
    auto b = (*j)->Begin(8, "shutdown", "h2");
    REQUIRE(a.ok());
    REQUIRE(b.ok());
    CHECK(*b > *a);
    REQUIRE((*j)->Finish(*b, "").ok());
  }
  auto j = SqliteStore::Open(file);
  REQUIRE(j.ok());
  auto pending = (*j)->Pending();
  REQUIRE(pending.ok());
  REQUIRE(pending->size() == 1);
  CHECK((*pending)[0].vm_id == 7);
  CHECK((*pending)[0].action == "deploy");
  CHECK((*pending)[0].host == "h1");
  CHECK((*pending)[0].started > 0);
}

TEST_CASE("placements are replaced and forgotten per VM") {
  testing::TempDir dir("journal");
  auto j = SqliteStore::Open(dir.path() + "/journal.db");
  REQUIRE(j.ok());
  CHECK_FALSE((*j)->PlacementOf(3)->has_value());
  REQUIRE((*j)->Place({3, "h1", false, ""}).ok());
  REQUIRE((*j)->Place({3, "h2", true, "reg/onedock-checkpoint/one-3:latest"}).ok());
  auto p = (*j)->PlacementOf(3);
  REQUIRE(p.ok());
  REQUIRE(p->has_value());
  CHECK((*p)->host == "h2");
  CHECK((*p)->start_script_done);
  CHECK((*p)->checkpoint == "reg/onedock-checkpoint/one-3:latest");
  REQUIRE((*j)->Forget(3).ok());
  CHECK_FALSE((*j)->PlacementOf(3)->has_value());
}

TEST_CASE("values are bound not spliced into SQL") {
  testing::TempDir dir("journal");
  auto j = SqliteStore::Open(dir.path() + "/journal.db");
  REQUIRE(j.ok());
  const std::string hostile = "h1'); DROP TABLE intents; --";
  REQUIRE((*j)->Begin(1, "deploy", hostile).ok());
  auto pending = (*j)->Pending();
  REQUIRE(pending.ok());
  REQUIRE(pending->size() == 1);
  CHECK((*pending)[0].host == hostile);
}

TEST_CASE("a journal path that cannot be created is an error naming it") {
  auto j = SqliteStore::Open("/nonexistent-dir/x/journal.db");
  REQUIRE_FALSE(j.ok());
  CHECK(j.status().message().find("/nonexistent-dir/x/journal.db") != std::string::npos);
}

}  // namespace
}  // namespace onedock
