#include "bridge/sqlite_store.h"

#include <sqlite3.h>

#include <ctime>
#include <variant>

#include "bridge/volume_plan.h"

namespace onedock {
namespace {

constexpr char kSchema[] = R"SQL(
PRAGMA journal_mode = WAL;
PRAGMA synchronous = NORMAL;
CREATE TABLE IF NOT EXISTS intents(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  vm_id INTEGER NOT NULL,
  action TEXT NOT NULL,
  host TEXT NOT NULL,
  started INTEGER NOT NULL,
  finished INTEGER,
  error TEXT);
CREATE INDEX IF NOT EXISTS intents_open ON intents(finished) WHERE finished IS NULL;
CREATE TABLE IF NOT EXISTS placements(
  vm_id INTEGER PRIMARY KEY,
  host TEXT NOT NULL,
  start_script_done INTEGER NOT NULL DEFAULT 0,
  checkpoint TEXT NOT NULL DEFAULT '');
CREATE TABLE IF NOT EXISTS monitored_hosts(
  host_id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  configuration TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS volume_homes(
  image_id INTEGER PRIMARY KEY,
  host TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS leftovers(
  host TEXT NOT NULL,
  kind TEXT NOT NULL,
  name TEXT NOT NULL,
  vm_id INTEGER NOT NULL,
  PRIMARY KEY(host, kind, name));
CREATE TABLE IF NOT EXISTS pushed_images(
  reference TEXT PRIMARY KEY,
  vm_id INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS snapshots(
  vm_id INTEGER NOT NULL,
  name TEXT NOT NULL,
  pinned TEXT NOT NULL,
  PRIMARY KEY(vm_id, name));
)SQL";

// Columns added after the first release, added to journals made before them: the table and
// column, the statement that adds it and the one that fills it from what older journals recorded.
struct AddedColumn {
  const char* table;
  const char* column;
  const char* add;
  const char* fill;
};
constexpr AddedColumn kAddedColumns[] = {
    // An older journal recorded a START_SCRIPT only once it had run.
    {"placements", "start_script_started",
     "ALTER TABLE placements ADD COLUMN start_script_started INTEGER NOT NULL DEFAULT 0",
     "UPDATE placements SET start_script_started = start_script_done"},
};

using Arg = std::variant<int64_t, std::string>;

// A prepared statement with bound arguments, finalized on scope exit.
class Statement {
 public:
  Statement(sqlite3* db, const char* sql, const std::vector<Arg>& args) : db_(db) {
    rc_ = sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr);
    for (size_t i = 0; rc_ == SQLITE_OK && i < args.size(); ++i) {
      const int n = static_cast<int>(i) + 1;
      if (const auto* v = std::get_if<int64_t>(&args[i])) {
        rc_ = sqlite3_bind_int64(stmt_, n, *v);
      } else {
        const auto& s = std::get<std::string>(args[i]);
        rc_ = sqlite3_bind_text(stmt_, n, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
      }
    }
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  // SQLITE_ROW, SQLITE_DONE or an error code.
  int Step() {
    if (rc_ != SQLITE_OK && rc_ != SQLITE_ROW) return rc_;
    rc_ = sqlite3_step(stmt_);
    return rc_;
  }
  int64_t Int(int col) const { return sqlite3_column_int64(stmt_, col); }
  std::string Text(int col) const {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
    return p == nullptr ? "" : std::string(p, sqlite3_column_bytes(stmt_, col));
  }
  Status Error(const std::string& what) const {
    return Internal("journal: " + what + ": " + sqlite3_errmsg(db_));
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
  int rc_ = SQLITE_OK;
};

Status Run(sqlite3* db, const std::string& what, const char* sql, const std::vector<Arg>& args) {
  Statement st(db, sql, args);
  return st.Step() == SQLITE_DONE ? Status::Ok() : st.Error(what);
}

// The integers of the first column of `sql`'s rows.
Result<std::set<int>> Ids(sqlite3* db, const char* sql, const std::string& what) {
  Statement st(db, sql, {});
  std::set<int> out;
  int rc = SQLITE_ROW;
  while ((rc = st.Step()) == SQLITE_ROW) out.insert(static_cast<int>(st.Int(0)));
  if (rc != SQLITE_DONE) return st.Error(what);
  return out;
}

bool HasColumn(sqlite3* db, const std::string& table, const std::string& column) {
  Statement st(db, "SELECT 1 FROM pragma_table_info(?) WHERE name = ?", {table, column});
  return st.Step() == SQLITE_ROW;
}

// Brings a journal of an older release to the current schema, in one transaction.
Status Migrate(sqlite3* db) {
  if (Status s = Run(db, "migrate", "BEGIN IMMEDIATE", {}); !s.ok()) return s;
  Status s;
  for (const AddedColumn& c : kAddedColumns) {
    if (HasColumn(db, c.table, c.column)) continue;
    s = Run(db, "migrate", c.add, {});
    if (s.ok()) s = Run(db, "migrate", c.fill, {});
    if (!s.ok()) break;
  }
  if (s.ok()) s = Run(db, "migrate", "COMMIT", {});
  if (!s.ok()) Run(db, "migrate", "ROLLBACK", {});
  return s;
}

Status InsertLeftover(sqlite3* db, const Leftover& l) {
  return Run(db, "leftover",
             "INSERT OR REPLACE INTO leftovers(host, kind, name, vm_id) VALUES(?,?,?,?)",
             {l.host, l.kind, l.name, int64_t{l.vm_id}});
}

}  // namespace

Result<std::unique_ptr<SqliteStore>> SqliteStore::Open(const std::string& path) {
  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(
      path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close(db);
    return Internal("journal " + path + ": " + msg);
  }
  sqlite3_busy_timeout(db, 5000);
  char* err = nullptr;
  if (sqlite3_exec(db, kSchema, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err != nullptr ? err : "schema failed";
    sqlite3_free(err);
    sqlite3_close(db);
    return Internal("journal " + path + ": " + msg);
  }
  if (Status m = Migrate(db); !m.ok()) {
    sqlite3_close(db);
    return Internal("journal " + path + ": " + m.message());
  }
  return std::unique_ptr<SqliteStore>(new SqliteStore(db));
}

SqliteStore::~SqliteStore() { sqlite3_close(db_); }

Result<int64_t> SqliteStore::Begin(int vm_id, const std::string& action, const std::string& host) {
  std::lock_guard lock(mu_);
  Status s = Run(db_, "begin " + action,
                 "INSERT INTO intents(vm_id, action, host, started) VALUES(?,?,?,?)",
                 {int64_t{vm_id}, action, host, static_cast<int64_t>(std::time(nullptr))});
  if (!s.ok()) return s;
  return static_cast<int64_t>(sqlite3_last_insert_rowid(db_));
}

Status SqliteStore::Finish(int64_t intent, const std::string& error) {
  std::lock_guard lock(mu_);
  return Run(db_, "finish", "UPDATE intents SET finished = ?, error = ? WHERE id = ?",
             {static_cast<int64_t>(std::time(nullptr)), error, intent});
}

Result<int64_t> SqliteStore::PruneFinished(int64_t before) {
  std::lock_guard lock(mu_);
  if (Status s = Run(db_, "prune",
                     "DELETE FROM intents WHERE finished IS NOT NULL AND finished < ?", {before});
      !s.ok())
    return s;
  return static_cast<int64_t>(sqlite3_changes(db_));
}

Result<std::vector<Intent>> SqliteStore::Pending() {
  std::lock_guard lock(mu_);
  Statement st(
      db_,
      "SELECT id, vm_id, action, host, started FROM intents WHERE finished IS NULL ORDER BY id",
      {});
  std::vector<Intent> out;
  int rc;
  while ((rc = st.Step()) == SQLITE_ROW) {
    out.push_back({st.Int(0), static_cast<int>(st.Int(1)), st.Text(2), st.Text(3), st.Int(4)});
  }
  if (rc != SQLITE_DONE) return st.Error("pending");
  return out;
}

Result<int64_t> SqliteStore::OpenIntentCount() {
  std::lock_guard lock(mu_);
  Statement st(db_, "SELECT COUNT(*) FROM intents WHERE finished IS NULL", {});
  if (st.Step() != SQLITE_ROW) return st.Error("open intents");
  return st.Int(0);
}

Status SqliteStore::Place(const Placement& p, const std::vector<int>& images_here,
                          const std::vector<Leftover>& left_behind) {
  std::lock_guard lock(mu_);
  if (Status s = Run(db_, "place", "BEGIN IMMEDIATE", {}); !s.ok()) return s;
  Status s = Run(db_, "place",
                 "INSERT OR REPLACE INTO placements(vm_id, host, start_script_done, checkpoint, "
                 "start_script_started) VALUES(?,?,?,?,?)",
                 {int64_t{p.vm_id}, p.host, int64_t{p.start_script_done ? 1 : 0}, p.checkpoint,
                  int64_t{p.start_script_started ? 1 : 0}});
  for (size_t i = 0; s.ok() && i < images_here.size(); ++i) {
    s = Run(db_, "volume home", "INSERT OR REPLACE INTO volume_homes(image_id, host) VALUES(?,?)",
            {int64_t{images_here[i]}, p.host});
    if (s.ok())
      s = Run(db_, "leftover",
              "DELETE FROM leftovers WHERE host = ? AND kind = 'volume' AND name = ?",
              {p.host, ImageVolumeName(images_here[i])});
  }
  if (s.ok())
    s = Run(db_, "leftover",
            "DELETE FROM leftovers WHERE host = ? AND kind = 'container' AND vm_id = ?",
            {p.host, int64_t{p.vm_id}});
  for (size_t i = 0; s.ok() && i < left_behind.size(); ++i) s = InsertLeftover(db_, left_behind[i]);
  if (s.ok()) s = Run(db_, "place", "COMMIT", {});
  if (!s.ok()) Run(db_, "place", "ROLLBACK", {});
  return s;
}

Status SqliteStore::AddLeftovers(const std::vector<Leftover>& leftovers) {
  std::lock_guard lock(mu_);
  if (Status s = Run(db_, "leftover", "BEGIN IMMEDIATE", {}); !s.ok()) return s;
  Status s;
  for (size_t i = 0; s.ok() && i < leftovers.size(); ++i) s = InsertLeftover(db_, leftovers[i]);
  if (s.ok()) s = Run(db_, "leftover", "COMMIT", {});
  if (!s.ok()) Run(db_, "leftover", "ROLLBACK", {});
  return s;
}

Result<std::vector<Leftover>> SqliteStore::Leftovers(const std::string& host) {
  std::lock_guard lock(mu_);
  Statement st(db_,
               "SELECT host, kind, name, vm_id FROM leftovers WHERE ? = '' OR host = ? "
               "ORDER BY kind, host, name",
               {host, host});
  std::vector<Leftover> out;
  int rc;
  while ((rc = st.Step()) == SQLITE_ROW)
    out.push_back({st.Text(0), st.Text(1), st.Text(2), static_cast<int>(st.Int(3))});
  if (rc != SQLITE_DONE) return st.Error("leftovers");
  return out;
}

Status SqliteStore::Settled(const Leftover& l) {
  std::lock_guard lock(mu_);
  return Run(db_, "leftover", "DELETE FROM leftovers WHERE host = ? AND kind = ? AND name = ?",
             {l.host, l.kind, l.name});
}

Result<std::optional<Placement>> SqliteStore::PlacementOf(int vm_id) {
  std::lock_guard lock(mu_);
  Statement st(db_,
               "SELECT host, start_script_done, checkpoint, start_script_started FROM placements "
               "WHERE vm_id = ?",
               {int64_t{vm_id}});
  const int rc = st.Step();
  if (rc == SQLITE_DONE) return std::optional<Placement>();
  if (rc != SQLITE_ROW) return st.Error("placement");
  return std::optional<Placement>(
      Placement{vm_id, st.Text(0), st.Int(1) != 0, st.Text(2), st.Int(3) != 0});
}

Status SqliteStore::Forget(int vm_id) {
  std::lock_guard lock(mu_);
  if (Status s = Run(db_, "forget", "BEGIN IMMEDIATE", {}); !s.ok()) return s;
  Status s = Run(db_, "forget", "DELETE FROM placements WHERE vm_id = ?", {int64_t{vm_id}});
  if (s.ok()) s = Run(db_, "forget", "DELETE FROM snapshots WHERE vm_id = ?", {int64_t{vm_id}});
  if (s.ok()) s = Run(db_, "forget", "COMMIT", {});
  if (!s.ok()) Run(db_, "forget", "ROLLBACK", {});
  return s;
}

Status SqliteStore::RecordPushed(int vm_id, const std::string& reference) {
  std::lock_guard lock(mu_);
  return Run(db_, "record pushed image",
             "INSERT OR REPLACE INTO pushed_images(reference, vm_id) VALUES(?,?)",
             {reference, int64_t{vm_id}});
}

Result<std::map<int, std::vector<std::string>>> SqliteStore::PushedImages() {
  std::lock_guard lock(mu_);
  Statement st(db_, "SELECT vm_id, reference FROM pushed_images ORDER BY vm_id, reference", {});
  std::map<int, std::vector<std::string>> out;
  int rc = SQLITE_ROW;
  while ((rc = st.Step()) == SQLITE_ROW) out[static_cast<int>(st.Int(0))].push_back(st.Text(1));
  if (rc != SQLITE_DONE) return st.Error("pushed images");
  return out;
}

Status SqliteStore::ForgetPushed(const std::string& reference) {
  const auto at = reference.find('@');
  const std::string name = reference.substr(0, at);
  const std::string digest = at == std::string::npos ? "" : reference.substr(at);  // "@sha256:…"
  std::lock_guard lock(mu_);
  const std::string what = "forget pushed image";
  if (Status s = Run(db_, what, "BEGIN IMMEDIATE", {}); !s.ok()) return s;
  Status s = Run(db_, what, "DELETE FROM pushed_images WHERE reference = ?", {reference});
  if (s.ok() && !digest.empty()) {
    s = Run(db_, what, "DELETE FROM snapshots WHERE name = ?1 AND substr(pinned, -length(?2)) = ?2",
            {name, digest});
  }
  if (s.ok()) s = Run(db_, what, "COMMIT", {});
  if (!s.ok()) Run(db_, what, "ROLLBACK", {});
  return s;
}

Status SqliteStore::RecordSnapshot(int vm_id, const std::string& name, const std::string& pinned) {
  std::lock_guard lock(mu_);
  return Run(db_, "record snapshot",
             "INSERT OR REPLACE INTO snapshots(vm_id, name, pinned) VALUES(?,?,?)",
             {int64_t{vm_id}, name, pinned});
}

Result<std::optional<std::string>> SqliteStore::SnapshotOf(int vm_id, const std::string& name) {
  std::lock_guard lock(mu_);
  Statement st(db_, "SELECT pinned FROM snapshots WHERE vm_id = ? AND name = ?",
               {int64_t{vm_id}, name});
  const int rc = st.Step();
  if (rc == SQLITE_DONE) return std::optional<std::string>();
  if (rc != SQLITE_ROW) return st.Error("snapshot");
  return std::optional<std::string>(st.Text(0));
}

Result<std::map<int, std::map<std::string, std::string>>> SqliteStore::Snapshots() {
  std::lock_guard lock(mu_);
  Statement st(db_, "SELECT vm_id, name, pinned FROM snapshots", {});
  std::map<int, std::map<std::string, std::string>> out;
  int rc = SQLITE_ROW;
  while ((rc = st.Step()) == SQLITE_ROW) out[static_cast<int>(st.Int(0))][st.Text(1)] = st.Text(2);
  if (rc != SQLITE_DONE) return st.Error("snapshots");
  return out;
}

Status SqliteStore::Monitor(const MonitoredHost& host) {
  std::lock_guard lock(mu_);
  return Run(db_, "monitor host",
             "INSERT OR REPLACE INTO monitored_hosts(host_id, name, configuration) VALUES(?,?,?)",
             {int64_t{host.host_id}, host.name, host.configuration});
}

Status SqliteStore::Unmonitor(int host_id) {
  std::lock_guard lock(mu_);
  return Run(db_, "unmonitor host", "DELETE FROM monitored_hosts WHERE host_id = ?",
             {int64_t{host_id}});
}

Result<std::vector<MonitoredHost>> SqliteStore::MonitoredHosts() {
  std::lock_guard lock(mu_);
  Statement st(db_, "SELECT host_id, name, configuration FROM monitored_hosts ORDER BY host_id",
               {});
  std::vector<MonitoredHost> out;
  int rc;
  while ((rc = st.Step()) == SQLITE_ROW)
    out.push_back({static_cast<int>(st.Int(0)), st.Text(1), st.Text(2)});
  if (rc != SQLITE_DONE) return st.Error("monitored hosts");
  return out;
}

Result<std::set<int>> SqliteStore::PlacedVms() {
  std::lock_guard lock(mu_);
  return Ids(db_, "SELECT vm_id FROM placements", "placements");
}

Result<std::set<int>> SqliteStore::HomedImages() {
  std::lock_guard lock(mu_);
  return Ids(db_, "SELECT image_id FROM volume_homes", "volume homes");
}

Result<bool> SqliteStore::AdoptPlacement(const Placement& p) {
  std::lock_guard lock(mu_);
  if (Status s = Run(db_, "place",
                     "INSERT OR IGNORE INTO placements(vm_id, host, start_script_done, checkpoint, "
                     "start_script_started) VALUES(?,?,?,?,?)",
                     {int64_t{p.vm_id}, p.host, int64_t{p.start_script_done ? 1 : 0}, p.checkpoint,
                      int64_t{p.start_script_started ? 1 : 0}});
      !s.ok())
    return s;
  return sqlite3_changes(db_) > 0;
}

Result<bool> SqliteStore::AdoptVolumeHome(int image_id, const std::string& host) {
  std::lock_guard lock(mu_);
  if (Status s =
          Run(db_, "volume home", "INSERT OR IGNORE INTO volume_homes(image_id, host) VALUES(?,?)",
              {int64_t{image_id}, host});
      !s.ok())
    return s;
  return sqlite3_changes(db_) > 0;
}

Status SqliteStore::SetVolumeHome(int image_id, const std::string& host) {
  std::lock_guard lock(mu_);
  return Run(db_, "volume home", "INSERT OR REPLACE INTO volume_homes(image_id, host) VALUES(?,?)",
             {int64_t{image_id}, host});
}

Result<std::optional<std::string>> SqliteStore::VolumeHome(int image_id) {
  std::lock_guard lock(mu_);
  Statement st(db_, "SELECT host FROM volume_homes WHERE image_id = ?", {int64_t{image_id}});
  const int rc = st.Step();
  if (rc == SQLITE_DONE) return std::optional<std::string>();
  if (rc != SQLITE_ROW) return st.Error("volume home");
  return std::optional<std::string>(st.Text(0));
}

Status SqliteStore::ForgetVolumeHome(int image_id) {
  std::lock_guard lock(mu_);
  return Run(db_, "forget volume home", "DELETE FROM volume_homes WHERE image_id = ?",
             {int64_t{image_id}});
}

}  // namespace onedock
