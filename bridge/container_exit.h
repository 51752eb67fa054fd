// Why a container stopped, as onedock tells OpenNebula: in the error of a deploy whose command
// failed at once, and in the VM's monitoring (monitor/probes.h). Pure functions.
#ifndef ONEDOCK_BRIDGE_CONTAINER_EXIT_H_
#define ONEDOCK_BRIDGE_CONTAINER_EXIT_H_

#include <string>
#include <string_view>

#include "bridge/engine_types.h"

namespace onedock {

// How many of the last log lines, and bytes of them, a report carries.
inline constexpr size_t kExitLogLines = 5;
inline constexpr size_t kExitLogBytes = 512;

struct ContainerExit {
  std::string state;  // exited, dead, …
  int exit_code = 0;
  bool oom_killed = false;
  std::string error;  // the engine's, e.g. a failed exec of the command
  std::string finished_at;
  std::string log_tail;  // LastLines of the container's log
};

// The exit recorded in `info` (an inspect of the stopped container) and the end of `log`.
ContainerExit ExitOf(const ContainerInfo& info, std::string_view log);

// Whether a container that stopped right after its start failed: a non-zero exit, an OOM kill or
// an engine error. A command that ends with 0 is a VM that powered itself off.
bool IsFailure(const ContainerExit& exit);

// "command exited 3 at its start: <last output> (…)" for the deploy's error, the part oned shows
// first.
std::string StartFailureMessage(const ContainerExit& exit, long settle_ms);

}  // namespace onedock

#endif  // ONEDOCK_BRIDGE_CONTAINER_EXIT_H_
