#include "bridge/container_exit.h"

#include "bridge/output_tail.h"

namespace onedock {

ContainerExit ExitOf(const ContainerInfo& info, std::string_view log) {
  ContainerExit e;
  e.state = info.status;
  e.exit_code = info.exit_code;
  e.oom_killed = info.oom_killed;
  e.error = LastLines(info.error, 1, kExitLogBytes);
  e.finished_at = info.finished_at;
  e.log_tail = LastLines(log, kExitLogLines, kExitLogBytes);
  return e;
}

bool IsFailure(const ContainerExit& exit) {
  return exit.exit_code != 0 || exit.oom_killed || !exit.error.empty();
}

std::string StartFailureMessage(const ContainerExit& exit, long settle_ms) {
  std::string m = "the container's command exited with " + std::to_string(exit.exit_code) +
                  " within " + std::to_string(settle_ms) + " ms of its start";
  if (exit.oom_killed) m += ", killed for using more than the VM's MEMORY";
  if (!exit.error.empty()) m += "; engine: " + exit.error;
  m += exit.log_tail.empty() ? "; it wrote nothing" : "; last output: " + exit.log_tail;
  return m;
}

}  // namespace onedock
