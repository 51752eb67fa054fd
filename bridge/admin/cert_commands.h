// `onedock host-cert` and `onedock client-cert`: the files an operator needs for mutual TLS,
// written under one directory on the front-end (default /etc/one/onedock/certs, where
// onedockd.conf's [engines] ca, cert and key point):
//
//   DIR/ca.pem, DIR/ca-key.pem           the CA, made by the first command that needs it, then
//   reused DIR/cert.pem, DIR/key.pem            onedockd's client certificate (client-cert)
//   DIR/hosts/NAME/{ca.pem,cert.pem,key.pem,daemon.json}
//                                        what host NAME's dockerd needs (host-cert), to be copied
//                                        to the host's --host-dir (default /etc/docker/onedock)
//
// Keys are written mode 0600, certificates 0644, each by a rename of a complete file, and only
// after every check passed and every key and certificate was made: an existing certificate or key
// is never replaced without --force, and the CA never (a new CA would invalidate every
// certificate it signed).
#ifndef ONEDOCK_BRIDGE_ADMIN_CERT_COMMANDS_H_
#define ONEDOCK_BRIDGE_ADMIN_CERT_COMMANDS_H_

#include <ctime>
#include <ostream>
#include <string>
#include <vector>

#include "bridge/status.h"

namespace onedock::admin {

struct CertOptions {
  bool host = false;  // host-cert, else client-cert
  std::string name;   // host-cert: the OpenNebula host name; client-cert: the CN
  std::vector<std::string> addresses;
  std::string dir = "/etc/one/onedock/certs";
  std::string host_dir = "/etc/docker/onedock";
  int days = 825;
  bool force = false;
};

// Parses the arguments after the command name. InvalidArgument carries the usage problem.
Result<CertOptions> ParseCertArgs(bool host, const std::vector<std::string>& args);

// The daemon.json keys that make a host's dockerd require onedockd's client certificate and keep
// containers running across its own restarts, with its files under `host_dir`.
std::string DaemonJson(const std::string& host_dir);

// Runs the command at time `now`: writes the files above and prints what it wrote and what to do
// next to `out`.
Status RunCertCommand(const CertOptions& options, std::time_t now, std::ostream& out);

}  // namespace onedock::admin

#endif  // ONEDOCK_BRIDGE_ADMIN_CERT_COMMANDS_H_
