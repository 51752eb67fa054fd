// ReconcilePlanner: decides, pass after pass, what the reconcile loop does so that the engines hold
// what oned says should exist (level-triggered: each pass compares the whole of oned's pool with
// the whole of each engine's labelled containers and volumes, whatever happened in between).
// Pure: no clock, no I/O; the pass's time is an input. Per VM:
//
// - a container or volume of this instance whose VM is DONE or unknown to oned is an orphan: it
//   is removed (or only reported) once it was seen orphaned on two passes at least
//   `orphan_grace` apart;
// - a VM oned runs on host A whose container there runs, with a container on host B too: the
//   twin on B is removed;
// - a running VM whose container's CPU or memory limits differ from its template's: restored;
// - what the journal should know and does not (it was lost or restored from an old backup): a
//   live VM's placement is recorded from where its container is (the host oned names, else the
//   only answering host that has one), and a persistent image's volume home from the only
//   answering host holding that volume;
// - the images onedock pushed to the private registry for a VM (checkpoints, snapshots) once the
//   VM is DONE or unknown to oned: deleted, with the same two sightings as an orphan;
// - a snapshot image onedock pushed for a live VM that the VM's template no longer lists (its
//   HYPERVISOR_ID gone, or the tag pushed again since for a later snapshot of the same id):
//   deleted, with the same two sightings, only while the VM is running or at rest (powered off,
//   stopped, undeployed); a live VM's checkpoints are kept;
// - a Docker network this instance made for a vnet oned no longer has, or whose subnet changed,
//   that no container of any instance uses or names: removed.
//
// Never: anything of another `one.instance`; a VM onedock acted on within the grace (`busy`); a
// VM in a transitional state (only ACTIVE/RUNNING has twins or limits repaired); anything on a
// host whose engine did not answer, which is skipped, never taken for empty, and whose orphans'
// sightings are kept for the next pass that reaches it.
#ifndef ONEDOCK_BRIDGE_RECONCILE_PLAN_H_
#define ONEDOCK_BRIDGE_RECONCILE_PLAN_H_

#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "bridge/clock.h"
#include "bridge/engine_types.h"

namespace onedock {

// What oned says of a live (not DONE) VM.
struct WantedVm {
  int state = 0;
  int lcm_state = 0;
  std::string host;                 // of its current history record; "" when it has none
  ResourceUpdate limits;            // from its template (0 = no limit asked)
  std::set<std::string> snapshots;  // the HYPERVISOR_IDs of its template's SNAPSHOTs
};

struct SeenContainer {
  std::string name;
  int vm_id = -1;
  std::string instance;
  std::string state;       // running, exited, created, …
  bool inspected = false;  // the limits below are known
  int64_t nano_cpus = 0;
  int64_t memory_bytes = 0;
  int64_t memory_swap_bytes = 0;
};

struct SeenVolume {
  std::string name;
  int vm_id = -1;  // -1: a persistent image's volume, which belongs to the image, not to a VM
  std::string instance;
  int image_id = -1;  // a persistent image's volume: its image
};

struct SeenNetwork {
  std::string name;
  int vnet_id = -1;  // its one.vnet_id label
  std::string instance;
  std::string subnet;
  bool used = false;  // a container (any instance, any state) has an endpoint on it or names it
};

struct HostView {
  std::string host;
  bool answered = false;  // false: the engine was not reached, nothing below is known
  std::vector<SeenContainer> containers;
  std::vector<SeenVolume> volumes;
  std::vector<SeenNetwork> networks;
};

struct ReconcileInput {
  std::map<int, WantedVm> vms;  // every live VM of oned's pool
  std::vector<HostView> hosts;
  std::set<int> busy;    // VMs onedock acted on within the grace
  std::set<int> placed;  // VMs the journal records a placement for
  std::set<int> homed;   // persistent images the journal records a volume home for
  // The images onedock pushed for each VM ("repo:tag@sha256:…"), as the journal records them.
  std::map<int, std::vector<std::string>> pushed;
  // The journal's snapshot records of each VM: the HYPERVISOR_ID onedock printed ("repo:tag") →
  // the image its latest push of that tag made ("repo@sha256:…").
  std::map<int, std::map<std::string, std::string>> snapshots;
  // What oned says of the vnets the networks name: nullopt for a vnet it no longer has, else the
  // subnet its template gives ("" when it gives none). A vnet missing here was not read.
  std::map<int, std::optional<std::string>> vnets;
  Clock::TimePoint now;
};

enum class ReconcileAction {
  kRemoveOrphan,      // the VM's container and volumes on the host
  kReportOrphan,      // the same, reported only ([reconcile] orphans = report)
  kRemoveTwin,        // the VM's container and volumes on a host oned does not run it on
  kRestoreLimits,     // a live update of the container to `limits`
  kRecordPlacement,   // the journal learns that the VM's container is on `host`
  kRecordVolumeHome,  // the journal learns that image `image_id`'s volume is on `host`
  kDeleteImages,      // pushed images (`names`) of the VM deleted from the private registry
  kRemoveNetwork,     // the network `names[0]` removed from `host`
};

struct ReconcileStep {
  ReconcileAction action = ReconcileAction::kReportOrphan;
  std::string host;
  int vm_id = -1;
  std::vector<std::string> names;  // what is there: the container and volumes concerned
  ResourceUpdate limits;           // kRestoreLimits
  std::string why;
  int image_id = -1;  // kRecordVolumeHome
  bool operator==(const ReconcileStep& o) const {
    return action == o.action && host == o.host && vm_id == o.vm_id && names == o.names &&
           limits.nano_cpus == o.limits.nano_cpus && limits.memory_bytes == o.limits.memory_bytes &&
           why == o.why && image_id == o.image_id;
  }
};

struct ReconcilePolicy {
  std::string instance;
  Clock::Duration orphan_grace = std::chrono::minutes(5);
  bool remove_orphans = true;  // false: report only
};

class ReconcilePlanner {
 public:
  static constexpr char kRegistry[] = "registry";  // the host of a kDeleteImages step
  explicit ReconcilePlanner(ReconcilePolicy policy) : policy_(std::move(policy)) {}

  // The steps of one pass, orphans first by host and VM, then twins, limits, and what the journal
  // learns.
  std::vector<ReconcileStep> NextSteps(const ReconcileInput& input);

  // Orphans seen and not yet due, for the log and tests.
  size_t watched() const { return first_seen_.size(); }

 private:
  const ReconcilePolicy policy_;
  // (host, vm id, image) → when it was first seen orphaned, and on how many passes. The host is
  // kRegistry for a VM's pushed images: the image "" for all of them (the VM is gone), else the
  // one snapshot image the live VM no longer lists.
  using Watched = std::tuple<std::string, int, std::string>;
  struct Sighting {
    Clock::TimePoint first;
    int passes = 0;
  };
  // Counts a sighting of `key`; whether it is due (two passes at least the grace apart).
  bool Sighted(const Watched& key, Clock::TimePoint now);
  std::map<Watched, Sighting> first_seen_;
};

// Whether the container's limits are not the ones wanted: NanoCpus, Memory, and MemorySwap equal
// to Memory (no swap), for each limit the template asks for.
bool LimitsDiffer(const SeenContainer& c, const ResourceUpdate& wanted);

}  // namespace onedock

#endif  // ONEDOCK_BRIDGE_RECONCILE_PLAN_H_
