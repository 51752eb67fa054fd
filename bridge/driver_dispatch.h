// Maps a forwarded driver call (VMM, TM or datastore action with oned's argv, reference §3.5 and §5.2) onto
// VmActions, and the result onto what the stub prints. Actions onedock does not implement are
// refused with a message naming them, the way oned's not_supported scripts do.
#ifndef ONEDOCK_BRIDGE_DRIVER_DISPATCH_H_
#define ONEDOCK_BRIDGE_DRIVER_DISPATCH_H_

#include "bridge/driver_call.h"
#include "bridge/image_store.h"
#include "bridge/vm_actions.h"

namespace onedock::bridge {

// VMM and TM calls; TM clone/ln have nothing to do.
DriverAnswer Dispatch(VmActions& actions, const DriverCall& call);

// VMM, TM and datastore ("ds") calls: TM clone/ln pre-pull the image on the host's engine; the
// datastore actions go to the image store (clone reads the image it copies from oned).
DriverAnswer Dispatch(VmActions& actions, ImageStore& images, EngineProvider& engines, OneApi& one,
                      const DriverCall& call);

}  // namespace onedock::bridge

#endif  // ONEDOCK_BRIDGE_DRIVER_DISPATCH_H_
