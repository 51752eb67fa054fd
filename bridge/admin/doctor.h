// `onedock doctor`: checks an installation from the front-end, as oneadmin, with what onedockd
// itself would use (its configuration through the daemon's loader, oned's session the same way)
// and prints one finding per check. The probes (XML-RPC, HTTPS, files, the installed stub) are
// here; the decisions are the pure functions of doctor_oned_checks.h, doctor_tls.h and
// doctor_local_checks.h. Blocking; libcurl must have been initialised by main.
#ifndef ONEDOCK_BRIDGE_ADMIN_DOCTOR_H_
#define ONEDOCK_BRIDGE_ADMIN_DOCTOR_H_

#include <ctime>
#include <string>
#include <vector>

#include "bridge/admin/doctor_report.h"

namespace onedock::admin {

struct DoctorOptions {
  std::string config = "/etc/one/onedockd.conf";
  std::string remotes;  // empty: $ONE_LOCATION/var/remotes, else /var/lib/one/remotes
};

// Every finding, in the order printed.
std::vector<Finding> RunDoctor(const DoctorOptions& options, std::time_t now);

// `onedock doctor [-c CONFIG] [--remotes DIR]`: prints the findings to stdout; the exit code is
// ExitCodeOf (2 for a usage error).
int DoctorMain(const std::vector<std::string>& args);

}  // namespace onedock::admin

#endif  // ONEDOCK_BRIDGE_ADMIN_DOCTOR_H_
