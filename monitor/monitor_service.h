// MonitorService: the hosts onedockd monitors. oned's START_MONITOR and STOP_MONITOR (the IM
// stubs, drivers/im/onedock.d, through the driver router) come here; a started host gets a
// HostMonitor and is remembered in the journal, so a restarted onedockd resumes monitoring without
// waiting for monitord to notice the silence. Every host's rounds run on one RoundScheduler of
// MonitorSettings::round_threads threads and its events come from the context's one EventFeed, so
// the threads monitoring takes do not grow with hosts or containers; the stats connections of
// all hosts together stay within MonitorSettings::stats_connections (stats_share.h). Thread-safe.
#ifndef ONEDOCK_MONITOR_MONITOR_SERVICE_H_
#define ONEDOCK_MONITOR_MONITOR_SERVICE_H_

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "bridge/monitord.h"
#include "bridge/sqlite_store.h"
#include "monitor/host_monitor.h"
#include "monitor/round_scheduler.h"

namespace onedock::monitor {

class MonitorService : public HostMonitoring {
 public:
  // Reads oned's <MONITOR_CONFIGURATION> text (rpc::ParseMonitorConfiguration in the daemon).
  using ConfigurationParser = std::function<Result<MonitorConfiguration>(const std::string& xml)>;

  MonitorService(MonitorContext context, SqliteStore& journal, MonitorSettings settings,
                 ConfigurationParser parse);
  ~MonitorService() override;

  Result<std::string> StartMonitoring(int host_id, const std::string& name,
                                      const std::string& configuration) override;
  Status StopMonitoring(int host_id, const std::string& name) override;

  // Starts monitoring the hosts the journal remembers. Returns how many.
  int Resume();

  // Stops every host monitor: once it returns, none of their rounds or events runs.
  void StopAll();

  // What each monitored host's monitoring has done, by host id. Does not wait for a round.
  std::vector<HostSnapshot> Snapshot();

 private:
  // Starts the rounds and events of `monitor` while it is still the one of its host, once.
  void Begin(const std::shared_ptr<HostMonitor>& monitor);
  // Ends the rounds and events of the monitor of `key`; waits for a round that runs, so mu_ is
  // not held (a slow round would hold up every other host's start and stop).
  void Halt(int key);
  std::shared_ptr<HostMonitor> Ensure(int host_id, const std::string& name,
                                      const MonitorConfiguration& configuration);
  // Gives every monitor its share of the stats connections of all hosts; mu_ held.
  void ShareStats();

  const MonitorContext context_;
  SqliteStore& journal_;
  const MonitorSettings settings_;
  const ConfigurationParser parse_;
  // A host's monitor and the key of its rounds and events: each monitor has its own, so a
  // replaced monitor's rounds can end outside mu_ while its successor starts.
  struct Monitored {
    std::shared_ptr<HostMonitor> monitor;
    int key = 0;
    bool begun = false;
    Clock::TimePoint started{};  // when it was made (by a START_MONITOR or Resume)
  };
  std::mutex mu_;
  std::map<int, Monitored> hosts_;  // by host id
  int next_key_ = 1;
  RoundScheduler rounds_;  // last: its threads end before what the rounds read goes
};

}  // namespace onedock::monitor

#endif  // ONEDOCK_MONITOR_MONITOR_SERVICE_H_
