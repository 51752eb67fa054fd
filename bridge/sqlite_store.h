// SqliteJournal: onedockd's memory across restarts, in one SQLite file. An intent row is written
// before the first engine call of an action and closed when the action ends, so after a crash the
// open rows name exactly the actions that were in flight. A placement row says which host holds a
// VM's container (and the state the next action needs: start script done, checkpoint image); a
// volume home row which host holds a persistent image's data volume.
//
// Thread-safe: one connection behind a mutex; every call is one short transaction. WAL with
// synchronous=NORMAL: a killed process loses nothing committed; a power loss may lose the last
// transactions, which the recovery pass treats like actions that never started.
#ifndef ONEDOCK_BRIDGE_SQLITE_JOURNAL_H_
#define ONEDOCK_BRIDGE_SQLITE_JOURNAL_H_

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "bridge/status.h"

struct sqlite3;

namespace onedock::bridge {

struct Intent {
  int64_t id = 0;
  int vm_id = -1;
  std::string action;   // "deploy", "shutdown", …
  std::string host;
  int64_t started = 0;  // unix seconds
};

struct Placement {
  int vm_id = -1;
  std::string host;
  bool start_script_done = false;
  std::string checkpoint;  // registry reference written by save, empty when none
};

// A host whose monitoring oned started, with the <MONITOR_CONFIGURATION> it came with.
struct MonitoredHost {
  int host_id = -1;
  std::string name;
  std::string configuration;
};

class SqliteJournal {
 public:
  // Opens or creates the file and its tables. kInternal with SQLite's text on failure.
  static Result<std::unique_ptr<SqliteJournal>> Open(const std::string& path);
  ~SqliteJournal();
  SqliteJournal(const SqliteJournal&) = delete;
  SqliteJournal& operator=(const SqliteJournal&) = delete;

  // Records that `action` is about to touch the engine of `host`; returns the intent id.
  Result<int64_t> Begin(int vm_id, const std::string& action, const std::string& host);
  // Closes an intent with its outcome (error empty on success).
  Status Finish(int64_t intent, const std::string& error);
  // Intents begun and never finished, oldest first.
  Result<std::vector<Intent>> Pending();

  // Inserts or replaces the placement and, in the same transaction, makes its host the volume home
  // of `images_here` (persistent images whose volume the deploy made or moved there).
  Status Place(const Placement& placement, const std::vector<int>& images_here = {});
  Result<std::optional<Placement>> PlacementOf(int vm_id);
  Status Forget(int vm_id);

  // Hosts to monitor again after a restart.
  Status Monitor(const MonitoredHost& host);  // insert or replace
  Status Unmonitor(int host_id);
  Result<std::vector<MonitoredHost>> MonitoredHosts();

  // The host whose engine holds a persistent image's volume (bridge/volume_plan.h).
  Status SetVolumeHome(int image_id, const std::string& host);  // insert or replace
  Result<std::optional<std::string>> VolumeHome(int image_id);
  Status ForgetVolumeHome(int image_id);

 private:
  explicit SqliteJournal(sqlite3* db) : db_(db) {}

  std::mutex mu_;
  sqlite3* db_;
};

}  // namespace onedock::bridge

#endif  // ONEDOCK_BRIDGE_SQLITE_JOURNAL_H_
