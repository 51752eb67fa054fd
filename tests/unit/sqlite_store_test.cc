#include "bridge/sqlite_store.h"

#include <doctest/doctest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <ctime>
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

TEST_CASE("the open intent count follows Begin and Finish") {
  testing::TempDir dir("journal");
  auto j = SqliteStore::Open(dir.path() + "/journal.db");
  REQUIRE_MESSAGE(j.ok(), j.status().ToString());
  CHECK(*(*j)->OpenIntentCount() == 0);
  auto a = (*j)->Begin(7, "deploy", "h1");
  auto b = (*j)->Begin(8, "shutdown", "h2");
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK(*(*j)->OpenIntentCount() == 2);
  REQUIRE((*j)->Finish(*a, "create one-7: 409 Conflict").ok());  // a failure closes it too
  CHECK(*(*j)->OpenIntentCount() == 1);
  REQUIRE((*j)->Finish(*b, "").ok());
  CHECK(*(*j)->OpenIntentCount() == 0);
}

TEST_CASE("pruning deletes finished intents older than the bound and never an open one") {
  testing::TempDir dir("journal");
  auto j = SqliteStore::Open(dir.path() + "/journal.db");
  REQUIRE_MESSAGE(j.ok(), j.status().ToString());
  auto done = (*j)->Begin(7, "deploy", "h1");
  auto open = (*j)->Begin(8, "deploy", "h2");
  REQUIRE(done.ok());
  REQUIRE(open.ok());
  REQUIRE((*j)->Finish(*done, "").ok());
  const int64_t now = std::time(nullptr);
  CHECK(*(*j)->PruneFinished(now - 3600) == 0);  // finished just now: kept
  CHECK(*(*j)->PruneFinished(now + 3600) == 1);
  CHECK(*(*j)->PruneFinished(now + 3600) == 0);
  REQUIRE((*j)->Pending()->size() == 1);
  CHECK((*j)->Pending()->front().id == *open);
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

TEST_CASE(
    "a journal of the release before start_script_started opens, migrated, keeping its rows") {
  testing::TempDir dir("journal");
  const std::string file = dir.path() + "/journal.db";
  {
    // The placements table as the previous release made it, with one VM whose script had run.
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(file.c_str(), &db) == SQLITE_OK);
    REQUIRE(sqlite3_exec(db,
                         "CREATE TABLE placements(vm_id INTEGER PRIMARY KEY, host TEXT NOT NULL, "
                         "start_script_done INTEGER NOT NULL DEFAULT 0, checkpoint TEXT NOT NULL "
                         "DEFAULT '');"
                         "INSERT INTO placements VALUES(5, 'h1', 1, 'r/c:latest@sha256:aa');"
                         "INSERT INTO placements VALUES(6, 'h2', 0, '');",
                         nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(db);
  }
  for (int reopen = 0; reopen < 2; ++reopen) {  // the second open finds nothing to migrate
    auto j = SqliteStore::Open(file);
    REQUIRE_MESSAGE(j.ok(), j.status().ToString());
    auto five = (*j)->PlacementOf(5);
    REQUIRE(five.ok());
    REQUIRE(five->has_value());
    CHECK((*five)->host == "h1");
    CHECK((*five)->start_script_done);
    CHECK((*five)->start_script_started);  // it ran: never again
    CHECK((*five)->checkpoint == "r/c:latest@sha256:aa");
    CHECK_FALSE((**(*j)->PlacementOf(6)).start_script_started);
    REQUIRE((*j)->RecordSnapshot(5, "r/s:s0", "r/s@sha256:bb").ok());
  }
}

TEST_CASE("snapshots are recorded per VM and forgotten with the VM") {
  testing::TempDir dir("journal");
  auto j = SqliteStore::Open(dir.path() + "/journal.db");
  REQUIRE(j.ok());
  REQUIRE((*j)->Place({3, "h1", true, "", true}).ok());
  REQUIRE((*j)->RecordSnapshot(3, "reg/onedock-snapshot/one-3:s0", "reg/x@sha256:01").ok());
  REQUIRE((*j)->RecordSnapshot(4, "reg/onedock-snapshot/one-4:s0", "reg/x@sha256:02").ok());
  CHECK(**(*j)->SnapshotOf(3, "reg/onedock-snapshot/one-3:s0") == "reg/x@sha256:01");
  CHECK_FALSE((*j)->SnapshotOf(3, "reg/onedock-snapshot/one-4:s0")->has_value());
  REQUIRE((*j)->Forget(3).ok());
  CHECK_FALSE((*j)->SnapshotOf(3, "reg/onedock-snapshot/one-3:s0")->has_value());
  CHECK_FALSE((*j)->PlacementOf(3)->has_value());
}

TEST_CASE("forgetting a pushed snapshot forgets its record, and not a later push of the tag") {
  testing::TempDir dir("journal");
  auto j = SqliteStore::Open(dir.path() + "/journal.db");
  REQUIRE(j.ok());
  const std::string s0 = "reg/onedock-snapshot/one-3:s0", s1 = "reg/onedock-snapshot/one-3:s1";
  REQUIRE((*j)->RecordPushed(3, s0 + "@sha256:01").ok());
  REQUIRE((*j)->RecordSnapshot(3, s0, "reg/onedock-snapshot/one-3@sha256:01").ok());
  REQUIRE((*j)->RecordPushed(3, s1 + "@sha256:02").ok());
  REQUIRE((*j)->RecordSnapshot(3, s1, "reg/onedock-snapshot/one-3@sha256:02").ok());
  auto all = (*j)->Snapshots();
  REQUIRE(all.ok());
  CHECK(*all == std::map<int, std::map<std::string, std::string>>{
                    {3,
                     {{s0, "reg/onedock-snapshot/one-3@sha256:01"},
                      {s1, "reg/onedock-snapshot/one-3@sha256:02"}}}});
  REQUIRE((*j)->ForgetPushed(s0 + "@sha256:01").ok());
  CHECK_FALSE((*j)->SnapshotOf(3, s0)->has_value());
  CHECK((*j)->SnapshotOf(3, s1)->has_value());
  CHECK((*j)->PushedImages()->at(3) == std::vector<std::string>{s1 + "@sha256:02"});
  // s1 pushed again (a later snapshot given the same id): forgetting the older push keeps the
  // record of the newer one.
  REQUIRE((*j)->RecordPushed(3, s1 + "@sha256:03").ok());
  REQUIRE((*j)->RecordSnapshot(3, s1, "reg/onedock-snapshot/one-3@sha256:03").ok());
  REQUIRE((*j)->ForgetPushed(s1 + "@sha256:02").ok());
  CHECK(**(*j)->SnapshotOf(3, s1) == "reg/onedock-snapshot/one-3@sha256:03");
  CHECK((*j)->PushedImages()->at(3) == std::vector<std::string>{s1 + "@sha256:03"});
}

TEST_CASE("a journal path that cannot be created is an error naming it") {
  auto j = SqliteStore::Open("/nonexistent-dir/x/journal.db");
  REQUIRE_FALSE(j.ok());
  CHECK(j.status().message().find("/nonexistent-dir/x/journal.db") != std::string::npos);
}

}  // namespace
}  // namespace onedock
