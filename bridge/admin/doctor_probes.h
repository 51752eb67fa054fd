// The doctor's effects on the front-end: files read as this user, programs run (the installed
// onedock-stub), a filesystem's free space. Blocking; each failure is a value, not an exception.
#ifndef ONEDOCK_BRIDGE_ADMIN_DOCTOR_PROBES_H_
#define ONEDOCK_BRIDGE_ADMIN_DOCTOR_PROBES_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "bridge/admin/doctor_local_checks.h"

namespace onedock::admin {

// The whole file, or nullopt when this user cannot read it.
std::optional<std::string> ReadFile(const std::string& path);

// Runs `argv` (argv[0] a path) with stdin from /dev/null and `env` added to the environment;
// waits for it. exit_code -1 when it could not be started or was killed.
ProgramRun RunProgram(const std::vector<std::string>& argv, const std::vector<std::string>& env);

// Free bytes for an unprivileged user on the filesystem of `path` or of its nearest existing
// parent; nullopt when statvfs fails.
std::optional<int64_t> FreeBytes(const std::string& path);

// The expected remote files that are absent, and those present without an execute bit.
void ListRemotes(const std::string& remotes, std::vector<std::string>* missing,
                 std::vector<std::string>* not_executable);

}  // namespace onedock::admin

#endif  // ONEDOCK_BRIDGE_ADMIN_DOCTOR_PROBES_H_
