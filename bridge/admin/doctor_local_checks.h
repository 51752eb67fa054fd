// The doctor's decisions about the front-end itself: the installed remotes and their release, the
// stub's configuration and token, onedockd's answer through the stub, the staging host and the
// spool's free space. Pure functions over what the probes in doctor.cc read.
#ifndef ONEDOCK_BRIDGE_ADMIN_DOCTOR_LOCAL_CHECKS_H_
#define ONEDOCK_BRIDGE_ADMIN_DOCTOR_LOCAL_CHECKS_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "bridge/admin/doctor_report.h"

namespace onedock::admin {

// The driver folders of the remotes and the scripts each must hold, as drivers/install.sh lays
// them out.
struct RemoteFile {
  std::string path;  // relative to the remotes directory: "vmm/onedock/deploy"
  bool executable = true;
};
const std::vector<RemoteFile>& ExpectedRemotes();

// `missing`: expected files absent; `not_executable`: present but without an execute bit.
Finding CheckRemotes(const std::string& remotes, const std::vector<std::string>& missing,
                     const std::vector<std::string>& not_executable);

// What a program printed and how it ended (exit code; -1 when it could not be run).
struct ProgramRun {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// `onedock-stub --version` against this binary's release.
Finding CheckStubVersion(const ProgramRun& run, const std::string& release);

// stub.conf's `key = value` lines ('#' comments, blank lines ignored).
std::map<std::string, std::string> ParseStubConf(const std::string& text);

// The token file named in stub.conf: readable (`token` set) by this user and the same as the one
// onedockd reads (`daemon_token` when this user can read it, else unset); the stub's endpoint
// naming onedockd's [stub] listen address.
Finding CheckStubToken(const std::string& token_file, const std::string* token,
                       const std::string* daemon_token, const std::string& daemon_token_file);
Finding CheckStubEndpoint(const std::string& stub_endpoint, const std::string& stub_address,
                          int stub_port);

// `onedock-stub onedock version` (what a driver script's call goes through) against the release.
Finding CheckDaemonAnswer(const ProgramRun& run, const std::string& release);

// [images] staging_host: set, and one of the onedock hosts.
Finding CheckStagingHost(const std::string& staging_host, const std::vector<std::string>& hosts);

// The spool's free bytes: warn under kSpoolWarnBytes (image tarballs wait there whole).
inline constexpr int64_t kSpoolWarnBytes = int64_t{10} << 30;
Finding CheckSpool(const std::string& spool, int64_t free_bytes);

}  // namespace onedock::admin

#endif  // ONEDOCK_BRIDGE_ADMIN_DOCTOR_LOCAL_CHECKS_H_
