// MonitorService: the hosts onedockd monitors. The IM stubs (drivers/im/onedock.d) bring oned's
// START_MONITOR and STOP_MONITOR here; a started host gets a HostMonitor and is remembered in the
// journal, so a restarted onedockd resumes monitoring without waiting for monitord to notice the
// silence. Thread-safe.
#ifndef ONEDOCK_MONITOR_MONITOR_SERVICE_H_
#define ONEDOCK_MONITOR_MONITOR_SERVICE_H_

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "bridge/driver_call.h"
#include "bridge/sqlite_journal.h"
#include "bridge/vm_activity.h"
#include "monitor/host_monitor.h"

namespace onedock::monitor {

// What the <MONITOR_CONFIGURATION> oned sends with START_MONITOR says about where monitord listens
// and how often to probe. MONITOR_ADDRESS "auto" (meant for agents on hosts) falls back to
// `fallback` — onedockd runs on the front-end, next to monitord.
struct MonitorConfiguration {
  MonitordAddress monitord;
  Periods periods;
};
Result<MonitorConfiguration> ParseMonitorConfiguration(const std::string& xml, const MonitordAddress& fallback);

class MonitorService {
 public:
  using EndpointOf = std::function<Result<docker::Endpoint>(const std::string& host)>;
  using Describe = std::function<std::string(const std::string& host)>;

  MonitorService(EndpointOf endpoint_of, Describe describe, const bridge::VmActivity& activity,
                 bridge::SqliteJournal& journal, MonitorSettings settings, MonitordAddress fallback);
  ~MonitorService();

  // An "im" driver call: start (argv: im_mad host_id host_name, stdin: the configuration) answers
  // with the <MONITOR_MESSAGES> document; stop (argv: im_mad host_id host_name) forgets the host.
  bridge::DriverAnswer Handle(const bridge::DriverCall& call);

  // Starts monitoring the hosts the journal remembers. Returns how many.
  int Resume();

  // Stops every host monitor (their threads end).
  void StopAll();

 private:
  void StartThreads(const std::shared_ptr<HostMonitor>& monitor);
  Result<std::shared_ptr<HostMonitor>> Ensure(int host_id, const std::string& name, const MonitorConfiguration& configuration);

  const EndpointOf endpoint_of_;
  const Describe describe_;
  const bridge::VmActivity& activity_;
  bridge::SqliteJournal& journal_;
  const MonitorSettings settings_;
  const MonitordAddress fallback_;
  std::mutex mu_;
  std::map<int, std::shared_ptr<HostMonitor>> hosts_;
};

}  // namespace onedock::monitor

#endif  // ONEDOCK_MONITOR_MONITOR_SERVICE_H_
