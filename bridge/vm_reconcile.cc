#include "bridge/vm_actions.h"

namespace onedock {

Status VmActions::RemoveUnwanted(int vm_id, const std::string& host, bool gone,
                                 Clock::Duration grace) {
  auto lock = LockVm(vm_id);
  if (activity_.Busy(vm_id, grace)) {
    return Conflict("vm " + std::to_string(vm_id) + ": onedock acted on it a moment ago");
  }
  return Journaled(vm_id, "reconcile-remove", host, [&]() -> Status {
    if (Status s = RemoveLocked(vm_id, host); !s.ok()) return s;
    // A twin the journal recorded as left behind is settled now.
    if (Status s = journal_.Settled({host, "container", ContainerName(vm_id), vm_id}); !s.ok())
      return s;
    if (!gone) return Status::Ok();
    auto placement = journal_.PlacementOf(vm_id);
    if (!placement.ok()) return placement.status();
    // Forgotten only once nothing of it is recorded elsewhere.
    if (*placement && (*placement)->host != host) return Status::Ok();
    return journal_.Forget(vm_id);
  });
}

Status VmActions::RestoreLimits(int vm_id, const std::string& host, const ResourceUpdate& limits,
                                Clock::Duration grace) {
  auto lock = LockVm(vm_id);
  if (activity_.Busy(vm_id, grace)) {
    return Conflict("vm " + std::to_string(vm_id) + ": onedock acted on it a moment ago");
  }
  return Journaled(vm_id, "reconcile-limits", host, [&]() -> Status {
    auto engine = engines_.Acquire(host);
    if (!engine.ok()) return engine.status();
    auto c = OurContainer(**engine, vm_id);
    if (!c.ok()) return c.status();
    return (*engine)->UpdateContainer(ContainerName(vm_id), limits);
  });
}

Result<bool> VmActions::AdoptPlacement(int vm_id, const std::string& host, Clock::Duration grace) {
  auto lock = LockVm(vm_id);
  if (activity_.Busy(vm_id, grace)) {
    return Conflict("vm " + std::to_string(vm_id) + ": onedock acted on it a moment ago");
  }
  // The START_SCRIPT ran when the container was made, as far as anyone can tell now: it is never
  // run a second time.
  return journal_.AdoptPlacement(Placement{vm_id, host, true, "", true});
}

}  // namespace onedock
