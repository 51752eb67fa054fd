#include "bridge/admin/doctor_local_checks.h"

#include <algorithm>
#include <sstream>

namespace onedock::admin {
namespace {

std::string Trim(const std::string& text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return "";
  return text.substr(first, text.find_last_not_of(" \t\r\n") - first + 1);
}

std::string Join(const std::vector<std::string>& items, size_t at_most = 6) {
  std::string out;
  for (size_t i = 0; i < items.size() && i < at_most; ++i) out += (i ? ", " : "") + items[i];
  if (items.size() > at_most) out += " and " + std::to_string(items.size() - at_most) + " more";
  return out;
}

constexpr const char* kReinstall =
    "reinstall the onedock package (or run drivers/install.sh REMOTES onedock-stub); nothing is "
    "copied to hosts";

}  // namespace

const std::vector<RemoteFile>& ExpectedRemotes() {
  static const std::vector<RemoteFile> kFiles = [] {
    std::vector<RemoteFile> files;
    // Every script the package installs (a unit test compares this with drivers/): oned runs
    // each one named in a -l list on the front-end, and a missing one fails that action.
    const std::pair<const char*, std::vector<const char*>> dirs[] = {
        {"vmm/onedock",
         {"attach_disk",
          "attach_nic",
          "cancel",
          "deploy",
          "detach_disk",
          "detach_nic",
          "exec",
          "exec_cancel",
          "migrate",
          "migrate_local",
          "not_supported",
          "poll",
          "prereconfigure",
          "reboot",
          "reconfigure",
          "reset",
          "resize",
          "resize_disk",
          "restore",
          "save",
          "shutdown",
          "snapshot_create",
          "snapshot_delete",
          "snapshot_revert"}},
        {"vnm/onedock",
         {"clean", "post", "pre", "update_nic", "update_sg", "vnet_create", "vnet_delete"}},
        {"tm/onedock",
         {"clone",       "context",         "cpds",        "delete",      "failmigrate",
          "ln",          "mkimage",         "mkswap",      "mv",          "mvds",
          "postbackup",  "postbackup_live", "postmigrate", "prebackup",   "prebackup_live",
          "premigrate",  "resize",          "restore",     "snap_create", "snap_create_live",
          "snap_delete", "snap_revert"}},
        {"datastore/onedock",
         {"clone", "cp", "export", "increment_flatten", "mkfs", "monitor", "restore", "rm",
          "snap_delete", "snap_flatten", "snap_revert", "stat"}},
    };
    for (const auto& [dir, names] : dirs) {
      for (const char* f : names) files.push_back({std::string(dir) + "/" + f});
    }
    files.push_back({"im/onedock.d/monitord-client_control.sh"});
    files.push_back({"onedock/onedock-stub"});
    files.push_back({"etc/onedock/stub.conf", false});
    return files;
  }();
  return kFiles;
}

Finding CheckRemotes(const std::string& remotes, const std::vector<std::string>& missing,
                     const std::vector<std::string>& not_executable) {
  const std::string check = "remotes " + remotes;
  if (!missing.empty()) return Fail(check, "missing " + Join(missing), kReinstall);
  if (!not_executable.empty()) {
    return Fail(check, "not executable: " + Join(not_executable),
                "chmod 0755 them (oned runs each script directly)");
  }
  return Ok(check, "every onedock driver script is installed");
}

Finding CheckStubVersion(const ProgramRun& run, const std::string& release) {
  const std::string check = "remotes onedock-stub";
  const std::string expected = "onedock-stub " + release;
  if (run.exit_code != 0) {
    return Fail(check, "--version did not run: " + Trim(run.err), kReinstall);
  }
  if (Trim(run.out) != expected) {
    return Fail(
        check, "is \"" + Trim(run.out) + "\", this onedock is " + release,
        "install the remotes of the same release as onedockd (" + std::string(kReinstall) + ")");
  }
  return Ok(check, "release " + release + ", the same as this onedock");
}

std::map<std::string, std::string> ParseStubConf(const std::string& text) {
  std::map<std::string, std::string> values;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    line = Trim(line);
    if (line.empty() || line[0] == '#') continue;
    const auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    values[Trim(line.substr(0, eq))] = Trim(line.substr(eq + 1));
  }
  return values;
}

Finding CheckStubToken(const std::string& token_file, const std::string* token,
                       const std::string* daemon_token, const std::string& daemon_token_file) {
  const std::string check = "stub token " + token_file;
  if (token == nullptr || Trim(*token).empty()) {
    return Fail(check, "not readable by this user",
                "run as oneadmin; the file must belong to oneadmin with mode 0600 (onedockd "
                "creates it at its first start)");
  }
  if (daemon_token != nullptr && Trim(*daemon_token) != Trim(*token)) {
    return Fail(check, "differs from onedockd's (" + daemon_token_file + ")",
                "make stub.conf's token_file the [stub] token_file of onedockd.conf");
  }
  return Ok(check, "readable, and the one onedockd uses");
}

Finding CheckStubEndpoint(const std::string& stub_endpoint, const std::string& stub_address,
                          int stub_port) {
  const std::string check = "stub endpoint";
  const std::string expected = "http://" + stub_address + ":" + std::to_string(stub_port) + "/RPC2";
  if (stub_endpoint != expected) {
    return Fail(check, "stub.conf names " + stub_endpoint + ", onedockd listens on " + expected,
                "set endpoint = " + expected + " in the remotes' etc/onedock/stub.conf");
  }
  return Ok(check, expected);
}

Finding CheckDaemonAnswer(const ProgramRun& run, const std::string& release) {
  const std::string check = "onedockd";
  if (run.exit_code != 0) {
    return Fail(
        check, "did not answer the stub: " + Trim(run.err),
        "start onedockd (systemctl start opennebula-onedock) and read /var/log/one/onedockd.log");
  }
  if (Trim(run.out) != release) {
    return Fail(check, "answers as release " + Trim(run.out) + ", this onedock is " + release,
                "restart onedockd after an upgrade");
  }
  return Ok(check, "answers the driver scripts' stub, release " + release);
}

Finding CheckStagingHost(const std::string& staging_host, const std::vector<std::string>& hosts) {
  const std::string check = "[images] staging_host";
  if (staging_host.empty()) {
    return Warn(check, "not set: image registration (oneimage create) is refused",
                "set staging_host to a onedock host in onedockd.conf's [images] and restart it");
  }
  if (std::find(hosts.begin(), hosts.end(), staging_host) == hosts.end()) {
    return Fail(check, staging_host + " is not a host with VM_MAD onedock",
                "name one of: " + (hosts.empty() ? std::string("(none)") : Join(hosts)));
  }
  return Ok(check, staging_host);
}

Finding CheckSpool(const std::string& spool, int64_t free_bytes) {
  const std::string check = "spool " + spool;
  const std::string gib = std::to_string(free_bytes >> 30) + " GiB free";
  if (free_bytes < kSpoolWarnBytes) {
    return Warn(check, gib + ": downloaded image tarballs wait here whole",
                "free space there or set [images] spool to a larger filesystem");
  }
  return Ok(check, gib);
}

}  // namespace onedock::admin
