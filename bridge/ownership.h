// Whether a container or image on a host is this installation's, for one VM: the labels onedock
// puts on what it creates (one.vmid, one.instance) decide. Other onedock installations, and
// people, may use the same engine and the same names ("one-42"); what is not ours is never
// stopped, killed, restarted, updated, committed, exec'd in, reconnected or removed. Pure.
#ifndef ONEDOCK_BRIDGE_OWNERSHIP_H_
#define ONEDOCK_BRIDGE_OWNERSHIP_H_

#include <map>
#include <string>

#include "bridge/status.h"

namespace onedock {

// True when `labels` say VM `vm_id` of installation `instance`: both labels present and equal.
bool IsOurs(const std::map<std::string, std::string>& labels, int vm_id,
            const std::string& instance);

// kConflict "container one-42 is not this VM's (one.instance=other, one.vmid=42): left alone",
// naming `what` ("container one-42", "image r/x:s0"); the labels come early, as oned shows only
// the first 100 characters of an error.
Status NotOurs(const std::string& what, const std::map<std::string, std::string>& labels);

}  // namespace onedock

#endif  // ONEDOCK_BRIDGE_OWNERSHIP_H_
