// onedockd's configuration (etc/onedockd.conf): an INI-style file of `key = value` lines in
// [sections], with `[host NAME]` sections overriding the engine of one OpenNebula host. Parsing
// checks everything it can without side effects and reports one line per problem.
#ifndef ONEDOCK_BRIDGE_DAEMON_DAEMON_CONFIG_H_
#define ONEDOCK_BRIDGE_DAEMON_DAEMON_CONFIG_H_

#include <map>
#include <string>
#include <vector>

#include "bridge/container_plan.h"
#include "bridge/status.h"

namespace onedock::daemon {

// Where a host's engine listens: "https://addr:port" (mutual TLS with ca/cert/key) or
// "unix:///path/docker.sock".
struct EngineAddress {
  std::string url;
  std::string ca;
  std::string cert;
  std::string key;
};

struct DaemonConfig {
  std::string oned_endpoint;   // empty = $ONE_XMLRPC or http://localhost:2633/RPC2
  std::string oned_auth_file;  // empty = $ONE_AUTH or ~/.one/one_auth
  std::string stub_address = "127.0.0.1";
  int stub_port = 2640;
  std::string stub_token_file = "/var/lib/one/.onedock/stub_token";
  // [stub] workers per lane (lifecycle actions; image copies), connections read at once, and the
  // largest request (rpc/stub_server.h says how the default was measured).
  int stub_workers = 48;
  int stub_transfer_workers = 8;
  int stub_connections = 256;
  int64_t stub_max_request_bytes = 4 << 20;
  std::string default_engine_url = "https://{host}:2376";  // {host} = the OpenNebula host name
  std::string engine_ca, engine_cert, engine_key;
  std::map<std::string, EngineAddress> hosts;  // [host NAME] sections, completed with the defaults
  std::string registry = "127.0.0.1:5000";
  std::string registry_username;
  std::string registry_password_file;
  std::string registry_storage = "/var/lib/docker-registry";  // for the datastore's MONITOR
  // [images]: the OpenNebula host whose engine stages image copies into the private registry
  // (empty: image registration is refused), and where downloaded tarballs wait.
  std::string staging_host;
  std::string spool_dir = "/var/lib/one/onedock/spool";
  // What an image PATH may reach: local tarballs only under upload_dirs (and a datastore's
  // SAFE_DIRS); URLs and upstream registries only at addresses the destination policy admits
  // (allow_destinations extends it); plain HTTP only to loopback literals and insecure_registries;
  // downloads within a size, a total time and a lowest speed.
  std::vector<std::string> upload_dirs = {"/var/tmp"};
  std::vector<std::string> allow_destinations;
  std::vector<std::string> insecure_registries;
  int64_t max_download_mb = 65536;
  int download_timeout_s = 3600;
  int low_speed_bytes_per_s = 1024;
  int low_speed_time_s = 60;
  // [credentials REGISTRY] sections: username and password_file per upstream registry.
  struct Credentials {
    std::string username;
    std::string password_file;
  };
  std::map<std::string, Credentials> credentials;
  std::string journal_path = "/var/lib/one/onedock/journal.db";
  std::string instance = "onedock";
  int stop_timeout_s = 30;
  int start_settle_ms = 500;
  Policy policy;
  // [monitor]: where monitord listens when oned's monitor configuration says "auto", the system
  // datastore size reported per host (the engine API does not know its disk), stats requests in
  // flight per host and for all hosts, the threads that run every host's rounds, and how long after
  // onedock's own action a VM's state change is not reported.
  std::string monitord_address = "127.0.0.1";
  int monitord_port = 4124;
  int64_t disk_total_mb = 102400;
  int stats_in_flight = 256;
  int stats_connections = 2000;  // stats requests in flight for all hosts together; 0: no bound
  int round_threads = 32;
  int grace_s = 3;
  // [reconcile]: how often the pass compares oned's pool with the engines (0: never), how long an
  // orphan must stay one before it is removed, whether orphans are removed or only reported, and
  // how long finished journal intents are kept.
  int reconcile_period_s = 60;
  int orphan_grace_s = 300;
  bool remove_orphans = true;
  int keep_intents_days = 7;
  std::string log_level = "info";
  std::string log_file;  // empty = stderr
  // [metrics]: where /metrics is served (empty address: not served). A non-loopback address only
  // with allow_remote: the metrics carry host names.
  std::string metrics_address = "127.0.0.1";
  int metrics_port = 2641;
  bool metrics_allow_remote = false;
};

// Parses `text` (named `origin` in messages). On failure the status message holds one line per
// problem: "onedockd.conf:12: [stub] listen: 10.0.0.1 is not a loopback address".
Result<DaemonConfig> ParseDaemonConfig(const std::string& text, const std::string& origin);

// The engine of `host`: its [host] section, else the defaults with {host} substituted (an IPv6
// literal in brackets). kInvalidArgument for a host that is neither a host name nor an address
// literal: the name comes from oned's argv and must not add a port, path or query to the URL.
Result<EngineAddress> EngineFor(const DaemonConfig& config, const std::string& host);

}  // namespace onedock::daemon

#endif  // ONEDOCK_BRIDGE_DAEMON_DAEMON_CONFIG_H_
