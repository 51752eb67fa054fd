// What the recovery pass at start decides for each intent a previous run left open.
#include "bridge/recovery_plan.h"

#include <doctest/doctest.h>

namespace onedock {
namespace {

Intent Open(const std::string& action) { return {1, 42, action, "h1", 0}; }

Vm At(const std::string& host, int state, int lcm) {
  Vm vm;
  vm.id = 42;
  vm.state = state;
  vm.lcm_state = lcm;
  vm.history = {History{0, host, 0, 0, "onedock", "onedock", 0}};
  return vm;
}

TEST_CASE("recovery: only deploys are settled, the rest are left to their stub's retry") {
  for (const char* action : {"shutdown", "save", "remove", "snapshot_create"}) {
    CHECK(DecideRecovery(Open(action), At("h1", kVmActive, kLcmRunning)) ==
          RecoveryStep::kLeaveToStub);
  }
}

TEST_CASE("recovery: a deploy oned still runs on the intent's host is finished") {
  for (int lcm : {kLcmBoot, kLcmRunning, kLcmBootPoweroff, kLcmBootSuspended, kLcmBootStopped,
                  kLcmBootUndeploy}) {
    CHECK(DecideRecovery(Open("deploy"), At("h1", kVmActive, lcm)) == RecoveryStep::kFinish);
  }
}

TEST_CASE("recovery: a deploy whose VM is gone is rolled back, one oned moved on from is closed") {
  CHECK(DecideRecovery(Open("deploy"), At("h1", kVmDone, 0)) == RecoveryStep::kRollBack);
  CHECK(DecideRecovery(Open("deploy"), Result<Vm>(NotFound("oned: vm 42"))) ==
        RecoveryStep::kRollBack);
  CHECK(DecideRecovery(Open("deploy"), At("h2", kVmActive, kLcmRunning)) == RecoveryStep::kClose);
  CHECK(DecideRecovery(Open("deploy"), At("h1", kVmPoweroff, 0)) == RecoveryStep::kClose);
  CHECK(DecideRecovery(Open("deploy"), At("h1", kVmActive, kLcmEpilog)) == RecoveryStep::kClose);
  Vm no_history = At("h1", kVmActive, kLcmBoot);
  no_history.history.clear();
  CHECK(DecideRecovery(Open("deploy"), no_history) == RecoveryStep::kClose);
}

TEST_CASE("recovery: nothing is decided while oned does not answer") {
  CHECK(DecideRecovery(Open("deploy"), Result<Vm>(Unavailable("oned down"))) ==
        RecoveryStep::kRetryLater);
  CHECK(DecideRecovery(Open("deploy"), Result<Vm>(DeadlineExceeded("slow"))) ==
        RecoveryStep::kRetryLater);
}

}  // namespace
}  // namespace onedock
