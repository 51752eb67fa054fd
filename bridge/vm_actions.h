// VmActions: each VMM and TM action oned asks of a onedock host, as an idempotent operation on
// that host's engine. Every action journals its intent before the first engine call; re-running an
// action after a crash, a retry or a duplicate call converges on the same container (409 on create
// → adopt, 304 → done, 404 on remove → done).
//
// Thread-safe: actions on different VMs run in parallel; actions on one VM are serialised.
// Errors carry the VM, the host and the engine's own message: "deploy vm 42 on host h1: …".
#ifndef ONEDOCK_BRIDGE_VM_ACTIONS_H_
#define ONEDOCK_BRIDGE_VM_ACTIONS_H_

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "bridge/container_plan.h"
#include "bridge/engine.h"
#include "bridge/one_api.h"
#include "bridge/sqlite_store.h"
#include "bridge/step_timer.h"
#include "bridge/vm_activity.h"
#include "bridge/volume_plan.h"

namespace onedock {

struct ActionSettings {
  PlanSettings plan;
  RegistryAuth registry_auth;  // for pulls and pushes of the private registry
  std::string spool_dir = "/var/lib/one/onedock/spool";  // volume archives in transit between hosts
  // How long after a start a container's command must keep running for the start to count; a
  // command that fails sooner fails the deploy with its exit code and last output. 0 = not
  // watched.
  long start_settle_ms = 500;
};

class VmActions {
 public:
  VmActions(EngineProvider& engines, OneApi& one, SqliteStore& journal, ActionSettings settings);

  // Creates (or adopts) and starts one-<id> on `host`; also the resume of a powered-off VM. Returns
  // the deploy id. `image` overrides the plan's image (a checkpoint or snapshot).
  Result<std::string> Deploy(const Vm& vm, const std::string& host, const std::string& image = "");
  Status Shutdown(int vm_id, const std::string& host);  // graceful stop, container kept
  Status Cancel(int vm_id, const std::string& host);    // SIGKILL, container kept
  Status Reboot(int vm_id, const std::string& host, bool hard);
  Status Resize(const Vm& vm, const std::string& host);
  Status AttachNic(const Vm& vm, const std::string& host, const std::string& mac);
  Status DetachNic(const Vm& vm, const std::string& host, const std::string& mac);
  // Commits the container to the private registry, then stops it (memory state is lost).
  Status Save(const Vm& vm, const std::string& host);
  // Starts the saved container again; on another host, recreates it from the checkpoint image and
  // removes the old one.
  Result<std::string> Restore(const Vm& vm, const std::string& host);
  // Commits into the private registry; returns the reference (the snapshot's HYPERVISOR_ID).
  Result<std::string> SnapshotCreate(const Vm& vm, const std::string& host,
                                     const std::string& snap_id);
  // Both act only on a snapshot this VM's SnapshotCreate recorded (anything else is refused); the
  // revert recreates the container from the digest its push reported, never from a local image of
  // the tag's name; the delete removes the local tag (the registry copy stays).
  Status SnapshotRevert(const Vm& vm, const std::string& host, const std::string& reference);
  Status SnapshotDelete(int vm_id, const std::string& host, const std::string& reference);
  // Removes the container, the VM's own volumes and everything onedock keeps for the VM
  // (terminate's epilog).
  Status Remove(int vm_id, const std::string& host);

  // The host holding a persistent image's data volume, if it was ever deployed.
  Result<std::optional<std::string>> ImageVolumeHome(int image_id);
  // Removes a persistent image's data volume from its host (the image is being deleted).
  Status RemoveImageVolume(int image_id);

  // The reconcile pass's repairs (bridge/reconcile_plan.h), each under the VM's lock and refused
  // with kConflict while onedock acts on the VM or did within `grace`. RemoveUnwanted removes the
  // VM's container (when it is this VM's of this instance) and its own volumes on `host`, and
  // with `gone` (oned no longer has the VM) forgets what the journal keeps for it.
  // RestoreLimits updates the container's CPU and memory limits in place.
  Status RemoveUnwanted(int vm_id, const std::string& host, bool gone, Clock::Duration grace);
  Status RestoreLimits(int vm_id, const std::string& host, const ResourceUpdate& limits,
                       Clock::Duration grace);
  // Records that the VM's container is on `host` when the journal has no placement of it (a lost
  // journal): its START_SCRIPT is taken as run, and a checkpoint as unknown. False when the
  // journal had one already.
  Result<bool> AdoptPlacement(int vm_id, const std::string& host, Clock::Duration grace);

  // Settles the intents a previous run left open: a deploy whose VM oned still deploys on that
  // host is finished, one whose VM is gone is rolled back, the rest are closed (their stubs retry).
  // Returns how many intents are still open (oned did not answer); call again later.
  int Recover();

  // The VMs being acted on (for the monitor).
  const VmActivity& activity() const { return activity_; }

 private:
  // Serialises actions on one VM. The lock map forgets VMs no action holds once it grows past
  // kPruneLocksAbove entries.
  std::unique_lock<std::mutex> LockVm(int vm_id);
  static constexpr size_t kPruneLocksAbove = 1024;
  Result<std::map<int, Vnet>> VnetsOf(const Vm& vm);
  // one-<id> on `engine` when its labels say it is this VM's of this instance; kNotFound when
  // there is none, kConflict (NotOurs, naming its labels) when it is someone else's. Every action
  // on an existing container calls this first.
  Result<ContainerInfo> OurContainer(Engine& engine, int vm_id);
  // True (and logged) when `s`, from OurContainer, means nothing of the VM is on the host.
  static bool NothingOfTheVm(const Status& s, const std::string& action, int vm_id,
                             const std::string& host);
  // Runs `body` between Begin and Finish of an intent; adds "<what> vm <id> on host <h>" context.
  Status Journaled(int vm_id, const std::string& action, const std::string& host,
                   const std::function<Status()>& body);
  Result<std::string> DeployLocked(const Vm& vm, const std::string& host, const std::string& image);
  Status EnsureNetwork(Engine& engine, const NetworkSpec& network);
  Status EnsureVolume(Engine& engine, const PlannedVolume& volume);
  // Creates, or adopts, and starts the container. `seed` runs once between the creation of a new
  // container and its first start.
  // `steps`, when given, times the engine calls by kind (image, networks, create, seed,
  // archive, start).
  Status ConvergeContainer(Engine& engine, const ContainerPlan& plan, bool* created,
                           const std::function<Status(Engine&)>& seed, StepTimer* steps = nullptr);
  // The data each planned volume of a deploy on `host` starts with (bridge/volume_plan.h).
  Result<VolumeSources> VolumeSourcesOf(const std::vector<PlannedVolume>& volumes,
                                        const std::optional<Placement>& previous,
                                        const std::string& host);
  // Copies the origin's data into `container` on `dest`, which mounts `volume` at the same path.
  Status CopyVolume(int vm_id, const PlannedVolume& volume, const VolumeOrigin& origin,
                    Engine& dest, const std::string& container, const std::string& image);
  // The container on the origin's host whose archive of the volume's mount holds the data: the VM's
  // own container, or a helper container made for an image's volume (`*helper` then true). nullopt
  // when there is nothing to copy.
  Result<std::optional<std::string>> VolumeHolder(int vm_id, const PlannedVolume& volume,
                                                  const VolumeOrigin& origin, Engine& source,
                                                  const std::string& image, bool* helper);
  // After a deploy on `host`: the container a moved VM left on its previous host, and the old
  // copies of image volumes that moved, are removed (failures are logged: the deploy stands).
  void RemoveLeftBehind(int vm_id, const std::string& host,
                        const std::optional<Placement>& previous,
                        const std::vector<VolumeOrigin>& origins);
  enum class ScriptRun { kRan, kNotStarted, kUnknown };
  // Removes a leftover the journal records (a container with the VM's volumes on that host, or a
  // copy of an image's volume) and settles it.
  Status RemoveLeftover(const Leftover& leftover);
  // Removes the leftovers on `host` that a deploy of `vm_id` mounting `volumes` would otherwise
  // adopt (a stale twin, a half-seeded copy, an image volume's old copy); fails when one stays.
  Status SettleLeftovers(const std::string& host, int vm_id,
                         const std::vector<std::string>& volumes);
  // Runs the plan's START_SCRIPT command; kRan whatever its exit code, kNotStarted when the engine
  // refused it before it existed, kUnknown when the call failed after that.
  ScriptRun RunStartScript(Engine& engine, int vm_id, const std::vector<std::string>& command);
  // Watches `name` for start_settle_ms after its start: kFailedPrecondition with the exit code
  // and log tail when its command fails in that time. `fresh`: the container was made by this
  // deploy, and is removed when it fails.
  Status SettleStart(Engine& engine, const std::string& name, bool fresh);
  Status RemoveLocked(int vm_id, const std::string& host);
  // OK when `reference` names a snapshot of this VM that onedock took and recorded; `*pinned` is
  // then that image by digest. kInvalidArgument otherwise.
  Status CheckOwnSnapshot(int vm_id, const std::string& action, const std::string& reference,
                          std::string* pinned);
  // Commits the container as repo:tag, pushes it and returns repo:tag@<the registry's digest>.
  Result<std::string> CommitAndPush(Engine& engine, int vm_id, const std::string& repo,
                                    const std::string& tag);

  EngineProvider& engines_;
  OneApi& one_;
  SqliteStore& journal_;
  const ActionSettings settings_;
  std::mutex locks_mu_;
  std::map<int, std::shared_ptr<std::mutex>> locks_;
  VmActivity activity_;
  // The intents this run has open: the recovery pass leaves them to the actions running them.
  std::mutex live_mu_;
  std::set<int64_t> live_intents_;
};

}  // namespace onedock

#endif  // ONEDOCK_BRIDGE_VM_ACTIONS_H_
