// Maps a forwarded driver call (VMM or TM action with oned's argv, reference §3.5 and §5.2) onto
// VmActions, and the result onto what the stub prints. Actions onedock does not implement are
// refused with a message naming them, the way oned's not_supported scripts do.
#ifndef ONEDOCK_BRIDGE_DRIVER_DISPATCH_H_
#define ONEDOCK_BRIDGE_DRIVER_DISPATCH_H_

#include "bridge/driver_call.h"
#include "bridge/vm_actions.h"

namespace onedock::bridge {

DriverAnswer Dispatch(VmActions& actions, const DriverCall& call);

}  // namespace onedock::bridge

#endif  // ONEDOCK_BRIDGE_DRIVER_DISPATCH_H_
