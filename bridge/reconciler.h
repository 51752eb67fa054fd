// Reconciler: one reconcile pass, the effects around bridge/reconcile_plan.h. A pass reads oned's
// host pool and VM pool once each, lists every onedock host's containers and volumes of this
// instance (up to kListers hosts at a time), reads the images the journal records as pushed for
// VMs and its snapshot records, inspects the containers of running VMs for their
// limits, lets the planner decide, and applies its steps through VmActions, each under its VM's
// lock. Every removal and repair is logged with why and counted. A pass whose pool reads fail
// does nothing; a host whose engine does not answer is skipped. Finished journal intents older
// than `keep_intents` are pruned. Pass() is called from one thread at a time.
#ifndef ONEDOCK_BRIDGE_RECONCILER_H_
#define ONEDOCK_BRIDGE_RECONCILER_H_

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>

#include "bridge/clock.h"
#include "bridge/engine.h"
#include "bridge/image_store.h"
#include "bridge/one_api.h"
#include "bridge/reconcile_plan.h"
#include "bridge/sqlite_store.h"
#include "bridge/vm_actions.h"

namespace onedock {

struct ReconcileSettings {
  ReconcilePolicy policy;
  std::string vm_mad = "onedock";  // hosts whose VM_MAD this is are listed
  std::chrono::seconds keep_intents = std::chrono::hours(24 * 7);
  RegistryAuth registry_auth;  // for deleting pushed images from the private registry
};

// What passes did, since the start (counters) or in the last pass (hosts_skipped).
struct ReconcileCounts {
  int64_t passes = 0;
  int64_t failed_passes = 0;     // oned's pools (or the journal) could not be read
  int64_t orphans_removed = 0;   // containers and volumes, counted by name
  int64_t orphans_reported = 0;  // [reconcile] orphans = report
  int64_t twins_removed = 0;
  int64_t limits_restored = 0;
  int64_t repairs_failed = 0;  // a step that was refused or failed (tried again next pass)
  int64_t intents_pruned = 0;
  int64_t journal_rebuilt = 0;  // placements and volume homes learned from the engines' labels
  int64_t images_deleted = 0;   // checkpoint and snapshot manifests deleted from the registry
  int64_t networks_removed = 0;
  int hosts_skipped = 0;  // in the last pass: engines that did not answer
};

class Reconciler {
 public:
  // `registries` deletes pushed images from the private registry; null: they are left there.
  Reconciler(EngineProvider& engines, OneApi& one, VmActions& actions, SqliteStore& journal,
             RegistryAccess* registries, ReconcileSettings settings,
             const Clock& clock = Clock::Real());

  // One pass; returns the counts so far.
  ReconcileCounts Pass();
  // Thread-safe: for the metrics endpoint.
  ReconcileCounts counts() const {
    std::lock_guard lock(counts_mu_);
    return counts_;
  }

  static constexpr int kListers = 8;

 private:
  HostView Look(const std::string& host, const std::map<int, WantedVm>& vms);
  void Apply(const ReconcileStep& step);

  EngineProvider& engines_;
  OneApi& one_;
  VmActions& actions_;
  SqliteStore& journal_;
  RegistryAccess* const registries_;
  const ReconcileSettings settings_;
  const Clock& clock_;
  ReconcilePlanner planner_;
  mutable std::mutex counts_mu_;
  ReconcileCounts counts_;
};

}  // namespace onedock

#endif  // ONEDOCK_BRIDGE_RECONCILER_H_
