// What `onedock doctor` reports: one finding per check (ok, warn or FAIL, with the fix for the
// last two), printed one line each, and the exit code they decide. Plain values; no effects.
#ifndef ONEDOCK_BRIDGE_ADMIN_DOCTOR_REPORT_H_
#define ONEDOCK_BRIDGE_ADMIN_DOCTOR_REPORT_H_

#include <ostream>
#include <string>
#include <vector>

namespace onedock::admin {

enum class Level { kOk, kWarn, kFail };

struct Finding {
  Level level = Level::kOk;
  std::string check;   // what was checked: "oned", "oned.conf VM_MAD", "engine h1 TLS"
  std::string detail;  // what was seen
  std::string fix;     // what to do; empty for ok
};

inline Finding Ok(std::string check, std::string detail) {
  return {Level::kOk, std::move(check), std::move(detail), ""};
}
inline Finding Warn(std::string check, std::string detail, std::string fix) {
  return {Level::kWarn, std::move(check), std::move(detail), std::move(fix)};
}
inline Finding Fail(std::string check, std::string detail, std::string fix) {
  return {Level::kFail, std::move(check), std::move(detail), std::move(fix)};
}

// "ok   ", "warn ", "FAIL " followed by "check: detail"; a fix goes on the next line, indented
// ("     fix: …"). Every line ends with '\n'.
std::string FormatFinding(const Finding& finding);
void Print(const std::vector<Finding>& findings, std::ostream& out);

// 1 when any finding is a FAIL, else 0 (warnings alone do not fail).
int ExitCodeOf(const std::vector<Finding>& findings);

}  // namespace onedock::admin

#endif  // ONEDOCK_BRIDGE_ADMIN_DOCTOR_REPORT_H_
