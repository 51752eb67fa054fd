#include "bridge/recovery_plan.h"

namespace onedock {

RecoveryStep DecideRecovery(const Intent& intent, const Result<Vm>& vm) {
  if (intent.action != "deploy") return RecoveryStep::kLeaveToStub;
  if (!vm.ok())
    return vm.status().code() == Status::Code::kNotFound ? RecoveryStep::kRollBack
                                                         : RecoveryStep::kRetryLater;
  if (vm->state == kVmDone) return RecoveryStep::kRollBack;
  const History* h = vm->CurrentHistory();
  const int lcm = vm->lcm_state;
  const bool deploying = lcm == kLcmBoot || lcm == kLcmRunning || lcm == kLcmBootPoweroff ||
                         lcm == kLcmBootSuspended || lcm == kLcmBootStopped ||
                         lcm == kLcmBootUndeploy;
  if (vm->state == kVmActive && h != nullptr && h->hostname == intent.host && deploying)
    return RecoveryStep::kFinish;
  return RecoveryStep::kClose;
}

}  // namespace onedock
