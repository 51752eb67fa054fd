// Runs one driver script the way oned's exec drivers run local actions: the executable with its
// argv (no shell), stdin written in full then closed, stdout and stderr collected, a deadline.
// Also oned 7.x's reading of a failed step's stderr (reference §3.6): lines of the form
// "ERROR|INFO|WARN|DEBUG: [vmid] text" are log lines, every other line joins the error message.
// Part of the OpenNebula emulator (a test instrument). Thread-safe (no shared state).
#ifndef ONEDOCK_TESTS_EMULATOR_DRIVER_RUNNER_H_
#define ONEDOCK_TESTS_EMULATOR_DRIVER_RUNNER_H_

#include <string>
#include <vector>

namespace onedock::emulator {

struct DriverRun {
  int exit_code = -1;  // -1 when the script could not be started or was killed at the deadline
  std::string out;
  std::string err;
  bool ok() const { return exit_code == 0; }
};

DriverRun RunDriver(const std::string& executable, const std::vector<std::string>& args,
                    const std::string& stdin_text, int timeout_s = 300);

// The failure message oned derives from a step's stderr.
std::string FailureMessage(const std::string& stderr_text);

// Whitespace-separated words of a driver's ARGUMENTS or of a script's stdout.
std::vector<std::string> SplitWords(const std::string& text);

// True when `name` is one of the comma-separated items after `flag` in a driver's ARGUMENTS
// ("-l deploy,shutdown=my_shutdown" lists deploy and shutdown), compared case-insensitively.
bool DriverOptionLists(const std::string& arguments, const std::string& flag,
                       const std::string& name);

}  // namespace onedock::emulator

#endif  // ONEDOCK_TESTS_EMULATOR_DRIVER_RUNNER_H_
