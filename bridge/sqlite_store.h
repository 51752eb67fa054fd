// SqliteStore: onedockd's memory across restarts, in one SQLite file ([journal] path). Its journal
// of intents: a row is written before the first engine call of an action and closed when the
// action ends, so after a crash the open rows name exactly the actions that were in flight. A
// placement row says which host holds a VM's container (and the state the next action needs: start
// script done, checkpoint image); a volume home row which host holds a persistent image's data
// volume; a snapshot row the digest of each snapshot onedock took; a pushed image row each image
// pushed to the private registry for a VM, until the reconcile pass deletes it; a monitored host
// row which hosts oned asked onedockd to monitor. A journal made by an older release is migrated
// when opened. Whatever is lost with the file, the reconcile pass learns back from the engines'
// labels what they can say (placements, volume homes).
//
// Thread-safe: one connection behind a mutex; every call is one short transaction. WAL with
// synchronous=NORMAL: a killed process loses nothing committed; a power loss may lose the last
// transactions, which the recovery pass treats like actions that never started.
#ifndef ONEDOCK_BRIDGE_SQLITE_STORE_H_
#define ONEDOCK_BRIDGE_SQLITE_STORE_H_

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "bridge/status.h"

struct sqlite3;

namespace onedock {

struct Intent {
  int64_t id = 0;
  int vm_id = -1;
  std::string action;  // "deploy", "shutdown", …
  std::string host;
  int64_t started = 0;  // unix seconds
};

struct Placement {
  int vm_id = -1;
  std::string host;
  bool start_script_done = false;
  std::string checkpoint;  // "repo:tag@sha256:…" written by save (by digest), empty when none
  // Written before START_SCRIPT is exec'd: a script that was started is never started again, even
  // when onedockd was killed while it ran (at most once).
  bool start_script_started = false;
};

// What a move left on a host it moved away from, to be removed before that host is used again: a
// VM's container ("container", with its volumes) or a copy of an image's volume ("volume").
struct Leftover {
  std::string host;
  std::string kind;
  std::string name;
  int vm_id = -1;
  bool operator==(const Leftover&) const = default;
};

// A host whose monitoring oned started, with the <MONITOR_CONFIGURATION> it came with.
struct MonitoredHost {
  int host_id = -1;
  std::string name;
  std::string configuration;
};

class SqliteStore {
 public:
  // Opens or creates the file and its tables. kInternal with SQLite's text on failure.
  static Result<std::unique_ptr<SqliteStore>> Open(const std::string& path);
  ~SqliteStore();
  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;

  // Records that `action` is about to touch the engine of `host`; returns the intent id.
  Result<int64_t> Begin(int vm_id, const std::string& action, const std::string& host);
  // Closes an intent with its outcome (error empty on success).
  Status Finish(int64_t intent, const std::string& error);
  // Intents begun and never finished, oldest first.
  Result<std::vector<Intent>> Pending();
  // How many there are (actions under way, and those a crash left until recovery settles them).
  Result<int64_t> OpenIntentCount();
  // Deletes the intents finished before `before` (unix seconds); returns how many. Open intents
  // stay whatever their age.
  Result<int64_t> PruneFinished(int64_t before);

  // Inserts or replaces the placement and, in the same transaction, makes its host the volume home
  // of `images_here` (persistent images whose volume the deploy made or moved there), settles the
  // leftovers recorded on its host for the VM's container and for those images' volumes (they are
  // the real ones now), and records `left_behind`, what the move left elsewhere.
  Status Place(const Placement& placement, const std::vector<int>& images_here = {},
               const std::vector<Leftover>& left_behind = {});
  // Records, in one transaction, copies being made that are not the real ones until a Place says
  // so (the container and volume copies of a deploy that moves a VM).
  Status AddLeftovers(const std::vector<Leftover>& leftovers);
  // Leftovers on `host` (every host when empty).
  Result<std::vector<Leftover>> Leftovers(const std::string& host);
  Status Settled(const Leftover& leftover);
  Result<std::optional<Placement>> PlacementOf(int vm_id);
  // What the reconcile pass rebuilds a lost journal from: the VMs and images it records, and
  // records that keep what is there already (returning whether they added anything).
  Result<std::set<int>> PlacedVms();
  Result<std::set<int>> HomedImages();
  Result<bool> AdoptPlacement(const Placement& placement);
  Result<bool> AdoptVolumeHome(int image_id, const std::string& host);
  // Forgets the VM's placement and snapshots, in one transaction.
  Status Forget(int vm_id);

  // The images onedock pushed to the private registry for a VM (checkpoints and snapshots, as
  // "repo:tag@sha256:…"): kept after the VM is forgotten, until the reconcile pass has deleted
  // them from the registry.
  Status RecordPushed(int vm_id, const std::string& reference);
  Result<std::map<int, std::vector<std::string>>> PushedImages();  // by VM
  // Forgets the push and, in the same transaction, the snapshot record pinned to it (the one
  // named by its "repo:tag" whose digest is its digest; a later push of the tag keeps its own).
  Status ForgetPushed(const std::string& reference);

  // The snapshots onedock took of a VM: `name` is the reference oned holds as the HYPERVISOR_ID
  // ("reg/onedock-snapshot/one-42:s0"), `pinned` the same image by the digest its push reported.
  Status RecordSnapshot(int vm_id, const std::string& name, const std::string& pinned);
  // nullopt when onedock took no snapshot of that name of this VM.
  Result<std::optional<std::string>> SnapshotOf(int vm_id, const std::string& name);
  // Every snapshot record: by VM, name → pinned.
  Result<std::map<int, std::map<std::string, std::string>>> Snapshots();

  // Hosts to monitor again after a restart.
  Status Monitor(const MonitoredHost& host);  // insert or replace
  Status Unmonitor(int host_id);
  Result<std::vector<MonitoredHost>> MonitoredHosts();

  // The host whose engine holds a persistent image's volume (bridge/volume_plan.h).
  Status SetVolumeHome(int image_id, const std::string& host);  // insert or replace
  Result<std::optional<std::string>> VolumeHome(int image_id);
  Status ForgetVolumeHome(int image_id);

 private:
  explicit SqliteStore(sqlite3* db) : db_(db) {}

  std::mutex mu_;
  sqlite3* db_;
};

}  // namespace onedock

#endif  // ONEDOCK_BRIDGE_SQLITE_STORE_H_
