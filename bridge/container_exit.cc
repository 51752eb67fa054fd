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
  const std::string code = std::to_string(exit.exit_code);
  std::string m = exit.oom_killed
                      ? "command killed at its start for using more than MEMORY (exit " + code + ")"
                      : "command exited " + code + " at its start";
  m += exit.log_tail.empty() ? ", writing nothing" : ": " + exit.log_tail;
  if (!exit.error.empty()) m += "; engine: " + exit.error;
  return m + " (the container ended within " + std::to_string(settle_ms) + " ms of its start)";
}

}  // namespace onedock
