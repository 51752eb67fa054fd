// DriverRouter: where every forwarded driver call goes. It owns the parsing of oned's argv for
// each kind (VMM, TM, datastore, IM, network; reference §3.5, §3.7, §4, §5) and routes by kind and
// action through one table (driver_router.cc): VM actions, the image store, host monitoring, or a
// refusal naming why, the way oned's not_supported scripts do. Results become what the stub
// prints. Thread-safe when its targets are.
#ifndef ONEDOCK_BRIDGE_DRIVER_ROUTER_H_
#define ONEDOCK_BRIDGE_DRIVER_ROUTER_H_

#include <string_view>

#include "bridge/driver_call.h"
#include "bridge/engine.h"
#include "bridge/image_store.h"
#include "bridge/monitord.h"
#include "bridge/vm_actions.h"

namespace onedock {

// What the routes act on.
struct RouteTargets {
  VmActions& actions;
  ImageStore& images;
  EngineProvider& engines;
  HostMonitoring& monitoring;
};

// Which pool of workers serves a call: image copies (ds cp, clone, stat) talk to remote servers
// and may be slow, so they have a lane of their own and never take the threads lifecycle actions
// need.
enum class DriverLane { kLifecycle, kTransfer };
DriverLane LaneOf(std::string_view kind, std::string_view action);

// True when the routing table names `action` of `kind` itself, not through a wildcard: the
// actions oned has, as opposed to whatever else a caller might send (onedockd's metrics label
// only these by name, so that no caller can grow their label sets).
bool RoutesByName(std::string_view kind, std::string_view action);

class DriverRouter {
 public:
  explicit DriverRouter(RouteTargets targets) : targets_(targets) {}
  DriverAnswer Route(const DriverCall& call);

 private:
  RouteTargets targets_;
};

}  // namespace onedock

#endif  // ONEDOCK_BRIDGE_DRIVER_ROUTER_H_
