#include <algorithm>

#include "bridge/log.h"
#include "bridge/recovery_plan.h"
#include "bridge/vm_actions.h"

namespace onedock {

int VmActions::Recover() {
  auto log = NamedLogger("recovery");
  auto pending = journal_.Pending();
  if (!pending.ok()) {
    log->error("{}", pending.status().ToString());
    return 1;
  }
  int open = 0;
  for (const Intent& intent : *pending) {
    {
      // An intent of this run is an action still running: the recovery is for a past run's.
      std::lock_guard live(live_mu_);
      if (live_intents_.count(intent.id) != 0) continue;
    }
    const std::string what =
        intent.action + " vm " + std::to_string(intent.vm_id) + " on host " + intent.host;
    const Result<Vm> vm =
        intent.action == "deploy" ? one_.VmInfo(intent.vm_id) : Result<Vm>(NotFound("not read"));
    switch (DecideRecovery(intent, vm)) {
      case RecoveryStep::kLeaveToStub:
        journal_.Finish(intent.id,
                        "interrupted by a restart of onedockd; the stub retries the call");
        log->info("{}: interrupted; left to the stub's retry", what);
        break;
      case RecoveryStep::kRetryLater:
        log->warn("{}: oned did not answer ({}); will retry", what, vm.status().ToString());
        ++open;
        break;
      case RecoveryStep::kRollBack: {
        auto lock = LockVm(intent.vm_id);
        Status s = RemoveLocked(intent.vm_id, intent.host);
        journal_.Finish(intent.id, "rolled back at restart: the VM is gone");
        log->info("{}: rolled back (the VM is gone): {}", what,
                  s.ok() ? "container removed" : s.ToString());
        if (s.ok()) journal_.Forget(intent.vm_id);
        break;
      }
      case RecoveryStep::kFinish: {
        auto lock = LockVm(intent.vm_id);
        // A restore on another host is finished from the checkpoint it was restoring.
        auto placement = journal_.PlacementOf(intent.vm_id);
        const bool elsewhere = placement.ok() && *placement && (*placement)->host != intent.host;
        auto done = DeployLocked(*vm, intent.host, elsewhere ? (*placement)->checkpoint : "");
        journal_.Finish(intent.id, done.ok() ? "" : done.status().message());
        log->info("{}: finished at restart: {}", what,
                  done.ok() ? "running" : done.status().ToString());
        break;
      }
      case RecoveryStep::kClose:
        journal_.Finish(intent.id, "closed at restart: oned no longer deploys the VM on this host");
        log->info("{}: closed (VM state {}/{})", what, vm->state, vm->lcm_state);
        break;
    }
  }
  // What moves left behind when a crash came between moving and removing: removed now, so that
  // no stale copy is ever adopted; what cannot be removed yet is tried again at the next deploy
  // on its host. Each is read again under its VM's lock: a deploy running meanwhile records its
  // copy in progress as a leftover and settles it when it ends, and that copy is then the VM.
  auto leftovers = journal_.Leftovers("");
  if (leftovers.ok()) {
    for (const Leftover& l : *leftovers) {
      auto lock = LockVm(l.vm_id);
      auto now = journal_.Leftovers(l.host);
      if (!now.ok() || std::find(now->begin(), now->end(), l) == now->end()) continue;
      if (Status s = RemoveLeftover(l); !s.ok()) log->warn("{}", s.ToString());
    }
  }
  return open;
}

}  // namespace onedock
