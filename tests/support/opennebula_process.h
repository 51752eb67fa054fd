// A real OpenNebula 7.4 front-end for a test: oned (with onemonitord, the scheduler and the Ruby
// drivers it starts) in an OpenNebula location of its own, made by tests/bed/opennebula.sh on free
// loopback ports with onedock installed as the README tells operators. The destructor stops it
// and everything it started. Also the raw XML-RPC call helper for what users do (allocations,
// actions) and the stock CLI, for where a person would type.
#ifndef ONEDOCK_TESTS_SUPPORT_OPENNEBULA_PROCESS_H_
#define ONEDOCK_TESTS_SUPPORT_OPENNEBULA_PROCESS_H_

#include <string>
#include <vector>
#include <xmlrpc-c/base.hpp>

#include "bridge/status.h"

namespace onedock::testing {

class OpenNebulaProcess {
 public:
  // What a CLI command printed (stdout and stderr, in order) and its exit code.
  struct CliResult {
    int exit_code = -1;
    std::string output;
  };

  // Makes `dir` (absolute, created or emptied) the location and starts oned; the onedock driver
  // scripts in its remotes read `stub_conf`. Throws std::runtime_error when oned does not start.
  OpenNebulaProcess(const std::string& dir, const std::string& stub_conf);
  ~OpenNebulaProcess();
  OpenNebulaProcess(const OpenNebulaProcess&) = delete;
  OpenNebulaProcess& operator=(const OpenNebulaProcess&) = delete;

  const std::string& dir() const { return dir_; }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_) + "/RPC2"; }
  const std::string& session() const { return session_; }  // oneadmin's "user:password"
  int monitord_port() const { return monitord_port_; }
  // oned's log and a VM's log (var/oned.log, var/vms/<id>/vm.log).
  std::string OnedLog() const { return dir_ + "/var/oned.log"; }
  std::string VmLog(int vm) const { return dir_ + "/var/vms/" + std::to_string(vm) + "/vm.log"; }

  // Calls `method` with `session` (default oneadmin's) and `params`; returns the reply array.
  std::vector<xmlrpc_c::value> Call(const std::string& method, std::vector<xmlrpc_c::value> params,
                                    const std::string& session = "") const;
  // Calls an allocate-like method and returns the new id; throws with oned's message on failure.
  int Allocate(const std::string& method, std::vector<xmlrpc_c::value> params,
               const std::string& session = "") const;

  // oned answers these allocations before it has acted on them: a new datastore is monitored,
  // and a new vnet made READY by its network driver's vnet_create, in the background. Each polls
  // (bounded by `seconds`) until that has happened; otherwise the status says what was seen.
  Status AwaitDatastoreMonitored(int datastore, double seconds = 30) const;
  Status AwaitVnetReady(int vnet, double seconds = 5) const;

  // Runs `command` (a shell command line naming the stock CLI: "onevm list", ...) in `cwd`
  // (default: the location's var/) with the location's one.env; `auth_file` replaces ONE_AUTH.
  CliResult Cli(const std::string& command, const std::string& cwd = "",
                const std::string& auth_file = "") const;

  // Stops oned and starts it again on the same location and ports (its database is kept).
  void Restart();

 private:
  void Start();
  void Stop();

  std::string dir_;
  std::string session_;
  int port_ = 0;
  int monitord_port_ = 0;
};

}  // namespace onedock::testing

#endif  // ONEDOCK_TESTS_SUPPORT_OPENNEBULA_PROCESS_H_
