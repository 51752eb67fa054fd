// What onedockd reads and checks before it serves: the configuration file, the files it names
// (certificates, passwords, oned's session), the stub token, and the settings the daemon's parts
// take from them. Every problem is found here, at start, not at the first deploy.
#ifndef ONEDOCK_BRIDGE_DAEMON_STARTUP_H_
#define ONEDOCK_BRIDGE_DAEMON_STARTUP_H_

#include <map>
#include <string>

#include "bridge/daemon/daemon_config.h"
#include "bridge/image_store.h"
#include "bridge/reconciler.h"
#include "bridge/vm_actions.h"
#include "docker/curl_transport.h"
#include "docker/image_staging.h"
#include "monitor/host_monitor.h"

namespace onedock::daemon {

// Reads and parses the file, then checks that the certificates, keys and password files it names
// are readable and that the journal's directory exists; one line per problem.
Result<DaemonConfig> LoadConfig(const std::string& path);

// The secrets the configuration points at, read once.
struct Secrets {
  std::string oned_session;  // empty: the standard places ($ONE_AUTH, ~/.one/one_auth)
  RegistryAuth registry;     // the private registry's
  std::map<std::string, RegistryAuth> upstream;
};
Result<Secrets> ReadSecrets(const DaemonConfig& config);

// The stub token: read, or created (0600) on the first start; missing directories are made 0700,
// existing ones are left as they are. kInvalidArgument for an existing token file that is not a
// regular file of onedockd's own uid with no group or other permission, or is shorter than 16.
Result<std::string> StubToken(const std::string& path);

// The one way a host's engine address becomes a client endpoint.
Result<docker::Endpoint> EngineEndpoint(const DaemonConfig& config, const std::string& host);

// What each part of the daemon takes from the configuration.
ActionSettings ActionSettingsOf(const DaemonConfig& config, const Secrets& secrets);
// The image store's settings; its restricted directories are the system's (/etc, /proc, /sys,
// /dev, /run, /root, /boot, /var/lib/one), the spool and every file onedockd reads secrets from.
ImageStoreSettings ImageStoreSettingsOf(const DaemonConfig& config, const Secrets& secrets);
// The destination policy (the front-end's own addresses, read from its interfaces, refused unless
// allowed), plain-HTTP registries and download limits of [images].
Result<docker::RegistryHttpSettings> RegistryHttpSettingsOf(const DaemonConfig& config);
monitor::MonitorSettings MonitorSettingsOf(const DaemonConfig& config);
ReconcileSettings ReconcileSettingsOf(const DaemonConfig& config, const Secrets& secrets);

}  // namespace onedock::daemon

#endif  // ONEDOCK_BRIDGE_DAEMON_STARTUP_H_
