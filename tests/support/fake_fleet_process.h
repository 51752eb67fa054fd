// FakeFleetProcess: tests/fleet's fake_fleet as a child process, for a test or a benchmark that
// needs many engines: N hosts of M containers on 127.0.0.1, each a mutual-TLS Engine API whose
// server certificate (for 127.0.0.1 and localhost) is issued at Start by the CA of `certs_dir`,
// the layout testbed.sh makes ($ONEDOCK_LAB/certs: ca.pem, ca-key.pem, and the client's
// cert.pem, key.pem). Stopped (SIGTERM) when asked or when destroyed. Not thread-safe.
#ifndef ONEDOCK_TESTS_SUPPORT_FAKE_FLEET_PROCESS_H_
#define ONEDOCK_TESTS_SUPPORT_FAKE_FLEET_PROCESS_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "bridge/status.h"
#include "docker/curl_transport.h"

namespace onedock::testing {

class FakeFleetProcess {
 public:
  // `binary`: the fake_fleet executable; `work_dir`: an existing directory for the server's
  // certificate and key and the fake's stderr (fake_fleet.log).
  FakeFleetProcess(std::string binary, std::string certs_dir, std::string work_dir);
  ~FakeFleetProcess();  // Stop()
  FakeFleetProcess(const FakeFleetProcess&) = delete;
  FakeFleetProcess& operator=(const FakeFleetProcess&) = delete;

  // Issues the server certificate, spawns the fake with `hosts` hosts of `containers` containers
  // labelled one.instance=`instance`, and waits (10 s at most) for its ready line. Host i is
  // "fleet<i>", its containers one-<i*containers+j> with one.vmid=<i*containers+j>.
  // `first_port` 0 lets the kernel choose each host's port; `verify_client` false lets clients
  // connect without a certificate (cheaper handshakes). kUnavailable naming the log when the
  // fake does not come up; kFailedPrecondition when the CA cannot issue.
  Status Start(int hosts, int containers, const std::string& instance, int first_port = 0,
               bool verify_client = true);
  void Stop();  // SIGTERM, and waits for it to exit

  int hosts() const { return static_cast<int>(ports_.size()); }
  int port_of(int host) const { return ports_.at(static_cast<size_t>(host)); }
  static std::string HostName(int host) { return "fleet" + std::to_string(host); }
  // How a client reaches host `host`: https://127.0.0.1:<port> with the client certificate.
  docker::Endpoint EndpointOf(int host) const;

  // Makes a container (id or name, on any host) exit with 137 and emit kill and die events on its
  // host's event streams; returns once the fake has done it. kNotFound for an unknown container,
  // kConflict when it is not running.
  Status Kill(const std::string& container);
  // Makes an exited container run again (a start event); OK when it already runs.
  Status StartContainer(const std::string& container);

  pid_t pid() const { return pid_; }
  // CPU time (user + system, seconds) the fake has used so far, from /proc/<pid>/stat.
  double CpuSeconds() const;
  const std::string& log() const { return log_; }

 private:
  Status Control(const std::string& action, const std::string& container);

  const std::string binary_, certs_dir_, work_dir_, log_;
  pid_t pid_ = -1;
  std::vector<int> ports_;
  std::unique_ptr<docker::CurlTransport> control_;
};

}  // namespace onedock::testing

#endif  // ONEDOCK_TESTS_SUPPORT_FAKE_FLEET_PROCESS_H_
