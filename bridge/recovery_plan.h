// What the recovery pass at start does with an intent a previous run left open, given what oned
// says of its VM now. Pure.
#ifndef ONEDOCK_BRIDGE_RECOVERY_PLAN_H_
#define ONEDOCK_BRIDGE_RECOVERY_PLAN_H_

#include "bridge/one_types.h"
#include "bridge/sqlite_store.h"
#include "bridge/status.h"

namespace onedock {

enum class RecoveryStep {
  kLeaveToStub,  // not a deploy: closed; the stub retries the call
  kRetryLater,   // oned did not answer: left open for the next pass
  kRollBack,     // the VM is gone (DONE or unknown to oned): its container is removed
  kFinish,       // oned still deploys the VM on this host: the deploy is run again
  kClose,        // anything else: closed, nothing done
};

// `vm`: oned's answer to one.vm.info for the intent's VM.
RecoveryStep DecideRecovery(const Intent& intent, const Result<Vm>& vm);

}  // namespace onedock

#endif  // ONEDOCK_BRIDGE_RECOVERY_PLAN_H_
