// The spool directory ([images] spool): files in transit during one action, a tarball downloaded
// before it is loaded or a volume's archive between two hosts. Nothing in it outlives its action,
// so what a previous run left there is removed at start.
#ifndef ONEDOCK_BRIDGE_SPOOL_H_
#define ONEDOCK_BRIDGE_SPOOL_H_

#include <string>

namespace onedock {

// A new file name in `dir` (created if missing): "<kind>-<name>-<pid>-<n>.tar", unique within and
// across processes.
std::string SpoolFile(const std::string& dir, const std::string& kind, const std::string& name);

// Removes the files SpoolFile names ("image-….tar", "volume-….tar") from `dir` and nothing else;
// returns how many. For the start of onedockd, when no action is running.
int ClearSpool(const std::string& dir);

}  // namespace onedock

#endif  // ONEDOCK_BRIDGE_SPOOL_H_
