#include "bridge/admin/doctor_report.h"

#include <algorithm>

namespace onedock::admin {

std::string FormatFinding(const Finding& finding) {
  const char* level = finding.level == Level::kOk     ? "ok   "
                      : finding.level == Level::kWarn ? "warn "
                                                      : "FAIL ";
  std::string line = level + finding.check + ": " + finding.detail + "\n";
  if (finding.level != Level::kOk && !finding.fix.empty()) {
    line += "     fix: " + finding.fix + "\n";
  }
  return line;
}

void Print(const std::vector<Finding>& findings, std::ostream& out) {
  for (const Finding& f : findings) out << FormatFinding(f);
  out.flush();
}

int ExitCodeOf(const std::vector<Finding>& findings) {
  return std::any_of(findings.begin(), findings.end(),
                     [](const Finding& f) { return f.level == Level::kFail; })
             ? 1
             : 0;
}

}  // namespace onedock::admin
